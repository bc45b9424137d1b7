"""``--sse-c AES256 --sse-c-key KEY`` through the real console script against SeaweedFS,
which enforces SSE-C: upload (single, multipart, -r), head, download and S3 -> S3 copy
(with ``--sse-c-copy-source-key``) all carry the key; a wrong key is one line; the key is
never printed, not even with --debug."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import pytest

from s3flow.config import SseCustomerKey
from s3flow.testing.servers import s3_request
from tests.cli.helpers import Run, finish, start

if TYPE_CHECKING:
    from pathlib import Path

    from s3flow.testing.servers import S3Server

pytestmark = pytest.mark.seaweed

KEY = "0123456789abcdef0123456789abcdef"  # 32 bytes, as aws s3's --sse-c-key takes it
OTHER = b"\x00\xff" * 16  # a binary key, given as fileb://


@pytest.fixture
def weed_cli(seaweed_server: S3Server, tmp_path: Path, isolate_aws_env: Path):
    def run(*args: str) -> Run:
        proc = start(seaweed_server, isolate_aws_env, *args, cwd=tmp_path)
        result = finish(seaweed_server, proc)
        assert KEY not in result.text and KEY not in result.err, result
        encoded = SseCustomerKey(KEY.encode()).encoded
        assert encoded not in result.text and encoded not in result.err, result
        return result

    return run


@pytest.fixture
def weed_bucket(seaweed_server: S3Server):
    name = f"ssec-{uuid.uuid4().hex[:10]}"
    assert s3_request(seaweed_server, "PUT", f"/{name}").status == 200
    yield name
    s3_request(seaweed_server, "DELETE", f"/{name}")


def test_sse_c_upload_head_download_copy_and_a_wrong_key(
    weed_cli, seaweed_server, weed_bucket, tmp_path: Path
) -> None:
    b, key = weed_bucket, ("--sse-c", "AES256", "--sse-c-key", KEY)
    (tmp_path / "small.txt").write_bytes(b"secret")
    big = bytes(range(256)) * (24 * 1024 + 3)  # ~6 MiB: multipart
    (tmp_path / "big.bin").write_bytes(big)
    (tmp_path / "tree").mkdir()
    (tmp_path / "tree" / "t.txt").write_bytes(b"tree")
    (tmp_path / "other.key").write_bytes(OTHER)

    assert weed_cli("cp", "small.txt", f"s3://{b}/small.txt", *key).code == 0
    assert weed_cli("cp", "big.bin", f"s3://{b}/big.bin", *key).code == 0
    assert weed_cli("sync", "tree", f"s3://{b}/tree/", *key).code == 0
    # Stored encrypted: a read without the key is refused by the server.
    assert s3_request(seaweed_server, "HEAD", f"/{b}/small.txt").status == 400
    assert s3_request(seaweed_server, "HEAD", f"/{b}/tree/t.txt").status == 400

    head = weed_cli("head", f"s3://{b}/big.bin", "--json", *key)
    assert head.code == 0 and f'"size":{len(big)}' in head.text.replace(" ", ""), head
    assert weed_cli("cp", f"s3://{b}/big.bin", "big.out", *key).code == 0
    assert (tmp_path / "big.out").read_bytes() == big
    assert weed_cli("cp", "-r", f"s3://{b}/tree/", "tree.out/", *key).code == 0
    assert (tmp_path / "tree.out" / "t.txt").read_bytes() == b"tree"

    # S3 -> S3: decrypt with the source's key, encrypt with another (given as a file).
    copy = weed_cli(
        "cp",
        f"s3://{b}/small.txt",
        f"s3://{b}/copy.txt",
        "--sse-c-copy-source",
        "AES256",
        "--sse-c-copy-source-key",
        KEY,
        "--sse-c",
        "AES256",
        "--sse-c-key",
        "fileb://other.key",
    )
    assert copy.code == 0, copy
    debug = weed_cli("--debug", "cp", f"s3://{b}/small.txt", "dbg.txt", *key)
    assert debug.code == 0, debug  # the fast path logs no headers; the fixture checks the key
    debug_copy = weed_cli("--debug", "cp", f"s3://{b}/small.txt", f"s3://{b}/c2.txt", *key,
                          "--sse-c-copy-source", "AES256", "--sse-c-copy-source-key", KEY)  # fmt: skip
    assert debug_copy.code == 0 and "SSECustomerKey" in debug_copy.err, debug_copy.err[-2000:]
    other = SseCustomerKey(OTHER).headers()
    got = s3_request(seaweed_server, "GET", f"/{b}/copy.txt", headers=other)
    assert got.status == 200 and got.body == b"secret", got

    wrong = weed_cli("cp", f"s3://{b}/small.txt", "x.txt", "--sse-c", "AES256",
                     "--sse-c-key", "fileb://other.key")  # fmt: skip
    line = wrong.assert_one_line_error()
    assert "small.txt" in line and "SSE-C key" in line, line
    assert not (tmp_path / "x.txt").exists()
    missing = weed_cli("cp", f"s3://{b}/small.txt", "x.txt")
    assert "SSE-C" in missing.assert_one_line_error()


def test_bad_sse_c_flags_exit_2_without_showing_the_key(weed_cli, weed_bucket) -> None:
    short = weed_cli("cp", "a", f"s3://{weed_bucket}/a", "--sse-c", "AES256", "--sse-c-key", "hush")
    assert short.code == 2 and "must be 32 bytes" in short.err and "hush" not in short.err, short
    alone = weed_cli("cp", "a", f"s3://{weed_bucket}/a", "--sse-c-key", KEY)
    assert alone.code == 2 and "--sse-c-key needs --sse-c" in alone.err, alone
