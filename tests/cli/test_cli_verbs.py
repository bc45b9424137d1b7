"""Every verb through the real console script against moto: output, --json, stdin/stdout."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from typing import TYPE_CHECKING

from tests.cli.helpers import get, put

if TYPE_CHECKING:
    from pathlib import Path


def test_bucket_lifecycle_and_json_listing(cli, moto_server) -> None:
    name = "cli-lifecycle-bucket"
    made = cli("mb", f"s3://{name}")
    assert made.code == 0 and made.text == f"make_bucket: {name}\n"
    listed = cli("--json", "ls")
    assert listed.code == 0, listed
    buckets = [json.loads(line) for line in listed.text.splitlines()]
    assert name in {b["bucket"] for b in buckets}
    removed = cli("--quiet", "rb", f"s3://{name}")
    assert removed.code == 0 and removed.out == b"", removed


def test_upload_list_download_copy_cat(cli, bucket, tmp_path: Path, payload) -> None:
    data = payload(11 * 2**20 + 7)
    (tmp_path / "big.bin").write_bytes(data)
    up = cli("--part-size", "5MiB", "cp", "big.bin", f"s3://{bucket}/in/")
    assert up.code == 0, up
    assert up.text.startswith(f"upload: big.bin -> s3://{bucket}/in/big.bin (11 MiB, ")
    assert "3 parts, 0 retries)" in up.text

    top = cli("ls", f"s3://{bucket}")
    assert top.text.split() == ["PRE", "in/"]
    deep = cli("ls", "--recursive", f"s3://{bucket}")
    assert deep.text.split()[-2:] == [str(len(data)), "in/big.bin"]

    (tmp_path / "out").mkdir()
    down = cli("cp", f"s3://{bucket}/in/big.bin", "out")  # existing dir: put it inside
    assert down.code == 0, down
    assert (tmp_path / "out" / "big.bin").read_bytes() == data

    copied = cli("--json", "cp", f"s3://{bucket}/in/big.bin", f"s3://{bucket}/copy/")
    record = json.loads(copied.text)
    assert record["action"] == "copy" and record["key"] == "copy/big.bin"
    assert record["size"] == len(data)
    assert cli("cat", f"s3://{bucket}/copy/big.bin").out == data


def test_stdin_and_stdout(cli, bucket, payload) -> None:
    data = payload(6 * 2**20, seed=3)  # above one 5 MiB part: a streamed multipart upload
    up = cli("--json", "--part-size", "5MiB", "cp", "-", f"s3://{bucket}/stream.bin", input=data)
    assert up.code == 0, up
    record = json.loads(up.text)
    assert record["source"] == "-" and record["size"] == len(data)
    assert set(record) >= {"bucket", "key", "parts", "retries", "elapsed", "etag", "throughput"}
    down = cli("cp", f"s3://{bucket}/stream.bin", "-")
    assert down.code == 0 and down.out == data


def test_recursive_round_trip_and_rm(cli, moto_server, bucket, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "a.txt").write_text("a")
    (tree / "sub" / "b.txt").write_text("b")
    up = cli("cp", "-r", "--concurrency-objects", "2", "tree", f"s3://{bucket}/p")
    assert up.code == 0, up
    down = cli("--quiet", "cp", "-r", f"s3://{bucket}/p/", "copy")
    assert down.code == 0 and down.out == b"", down
    assert (tmp_path / "copy" / "sub" / "b.txt").read_text() == "b"
    gone = cli("rm", "--recursive", f"s3://{bucket}/p/")
    assert sorted(gone.text.splitlines()) == [
        f"delete: s3://{bucket}/p/a.txt",
        f"delete: s3://{bucket}/p/sub/b.txt",
    ]
    assert get(moto_server, bucket, "p/a.txt") is None


def test_rm_one_key_and_no_clobber(cli, moto_server, bucket, tmp_path: Path) -> None:
    put(moto_server, bucket, "k.txt", b"old")
    (tmp_path / "k.txt").write_text("new")
    skipped = cli("cp", "--no-clobber", "k.txt", f"s3://{bucket}/k.txt")
    assert skipped.code == 0 and skipped.text == f"skip: s3://{bucket}/k.txt exists\n"
    assert get(moto_server, bucket, "k.txt") == b"old"
    removed = cli("rm", f"s3://{bucket}/k.txt")
    assert removed.text == f"delete: s3://{bucket}/k.txt\n"
    assert get(moto_server, bucket, "k.txt") is None


def test_presign_get_and_put_and_acl(cli, moto_server, bucket) -> None:
    put(moto_server, bucket, "doc.txt", b"presigned!")
    url = cli("presign", f"s3://{bucket}/doc.txt", "--expires-in", "30").text.strip()
    assert url.startswith(moto_server.endpoint_url) and "X-Amz-Expires=30" in url
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == b"presigned!"
    put_url = json.loads(cli("--json", "presign", "--method", "put", f"s3://{bucket}/up.txt").text)
    # An explicit type: moto (werkzeug) would read a form-encoded body as a form.
    headers = {"Content-Type": "application/octet-stream"}
    request = urllib.request.Request(put_url["url"], data=b"via PUT", method="PUT", headers=headers)
    urllib.request.urlopen(request, timeout=10).close()
    assert get(moto_server, bucket, "up.txt") == b"via PUT"

    assert cli("acl", "set", f"s3://{bucket}/doc.txt", "public-read").code == 0
    grants = cli("acl", "get", f"s3://{bucket}/doc.txt").text
    assert any(line.startswith("READ") and "AllUsers" in line for line in grants.splitlines())


def test_python_dash_m_help() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "s3flow", "--help"], capture_output=True, text=True, timeout=30
    )
    assert run.returncode == 0
    for verb in ("ls", "mb", "rb", "cp", "rm", "cat", "presign", "acl", "sync", "uploads"):
        assert f"  {verb} " in run.stdout
