"""Object attributes as aws s3 spells them: on single, multipart and recursive uploads,
on server-side copies, over the fast path (SeaweedFS) and botocore (moto)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import pytest

from s3flow.testing.servers import S3Server, s3_request
from tests.cli.helpers import Run, finish, start

if TYPE_CHECKING:
    from pathlib import Path

FLAGS = (
    "--metadata",
    "owner=ada,team=x",
    "--metadata",
    '{"Mixed-Case": "v"}',
    "--cache-control",
    "max-age=60",
    "--content-disposition",
    'attachment; filename="p.html"',
    "--content-encoding",
    "identity",
    "--expires",
    "2030-01-01T00:00:00Z",
    "--storage-class",
    "STANDARD",
    "--acl",
    "public-read",
    "--tagging",
    "a=1&b=two words",
    "--sse",
    "AES256",
)


def _head(server: S3Server, bucket: str, key: str) -> dict[str, str]:
    response = s3_request(server, "HEAD", f"/{bucket}/{key}")
    assert response.status == 200, (key, response.status)
    return {k.lower(): v for k, v in response.headers.items()}


def _tags(server: S3Server, bucket: str, key: str) -> bytes:
    return s3_request(server, "GET", f"/{bucket}/{key}", query={"tagging": ""}).body


def _check(head: dict[str, str], content_type: str) -> None:
    assert head["content-type"] == content_type
    assert head["x-amz-meta-owner"] == "ada" and head["x-amz-meta-team"] == "x"
    assert head["x-amz-meta-mixed-case"] == "v"
    assert head["cache-control"] == "max-age=60"
    assert head["content-disposition"] == 'attachment; filename="p.html"'
    assert head["expires"] == "Tue, 01 Jan 2030 00:00:00 GMT"


@pytest.fixture
def weed_cli(seaweed_server: S3Server, tmp_path: Path, isolate_aws_env: Path):
    def run(*args: str) -> Run:
        proc = start(seaweed_server, isolate_aws_env, *args, cwd=tmp_path)
        return finish(seaweed_server, proc)

    return run


@pytest.fixture
def weed_bucket(seaweed_server: S3Server):
    name = f"attr-{uuid.uuid4().hex[:10]}"
    assert s3_request(seaweed_server, "PUT", f"/{name}").status == 200
    yield name
    s3_request(seaweed_server, "DELETE", f"/{name}")


@pytest.mark.parametrize("where", ["moto", "seaweed"])
def test_upload_attributes_single_multipart_recursive_and_copy(
    where: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    server = request.getfixturevalue("moto_server" if where == "moto" else "seaweed_server")
    run = request.getfixturevalue("cli" if where == "moto" else "weed_cli")
    bucket = request.getfixturevalue("bucket" if where == "moto" else "weed_bucket")
    (tmp_path / "p.html").write_text("<h1>hi</h1>")
    (tmp_path / "big.json").write_bytes(b"{}" + b" " * (6 * 1024 * 1024))
    (tmp_path / "tree").mkdir()
    (tmp_path / "tree" / "style.css").write_text("a{}")
    (tmp_path / "tree" / "noext").write_text("?")
    flags = FLAGS if where == "moto" else FLAGS[:-2]  # SeaweedFS here has no SSE keys
    assert run("cp", "p.html", f"s3://{bucket}/p.html", *flags).code == 0
    head = _head(server, bucket, "p.html")
    _check(head, "text/html")
    assert b"<Key>b</Key><Value>two words</Value>" in _tags(server, bucket, "p.html")
    if where == "moto":
        assert head["x-amz-server-side-encryption"] == "AES256"
    big = run("--part-size", "5MiB", "cp", "big.json", f"s3://{bucket}/big.json", *flags)
    assert big.code == 0 and "2 parts" in big.err + big.text, big
    _check(_head(server, bucket, "big.json"), "application/json")
    tree = run("cp", "-r", "tree", f"s3://{bucket}/tree/", "--metadata", "owner=ada")
    assert tree.code == 0, tree
    assert _head(server, bucket, "tree/style.css")["content-type"] == "text/css"
    assert _head(server, bucket, "tree/style.css")["x-amz-meta-owner"] == "ada"
    plain = run("cp", "p.html", f"s3://{bucket}/plain", "--no-guess-mime-type")
    assert plain.code == 0
    assert _head(server, bucket, "plain")["content-type"] != "text/html"
    if where == "moto":  # SeaweedFS ignores MetadataDirective=REPLACE on CopyObject
        copy = run(
            "cp", f"s3://{bucket}/p.html", f"s3://{bucket}/c.txt", "--content-type", "text/plain"
        )
        assert copy.code == 0, copy
        assert _head(server, bucket, "c.txt")["content-type"] == "text/plain"


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["--acl", "publik"], "--acl"),
        (["--storage-class", "COLD"], "--storage-class"),
        (["--metadata", "novalue"], "--metadata"),
        (["--metadata", "bad name=1"], "metadata name"),
        (["--expires", "tomorrow"], "--expires"),
        (["--sse-kms-key-id", "k"], "--sse-kms-key-id needs --sse aws:kms"),
    ],
)
def test_bad_attributes_exit_2_before_any_request(cli, bucket, tmp_path, args, flag) -> None:
    (tmp_path / "f.txt").write_text("x")
    run = cli("cp", "f.txt", f"s3://{bucket}/f.txt", *args)
    assert run.code == 2 and flag in run.err and "Traceback" not in run.err, run
    # the object was never written:
    assert "f.txt" not in cli("ls", f"s3://{bucket}/").text
