"""Every cookbook operation against a real S3 server (SeaweedFS), from the API and the CLI."""

from __future__ import annotations

import urllib.request
import uuid

import anyio
import pytest

from s3flow import BucketNotEmpty, ObjectNotFound
from tests.cli.helpers import finish, start

pytestmark = pytest.mark.seaweed


async def test_api_cookbook(weed, tmp_path) -> None:
    name = f"cb-{uuid.uuid4().hex[:12]}"
    await weed.create_bucket(name)
    assert name in [b.name for b in await weed.list_buckets()]
    await weed.put_object(name, "notes/hello.txt", "hello world")
    (tmp_path / "f.bin").write_bytes(b"\x01" * 100_000)
    await weed.upload_file(tmp_path / "f.bin", name, "f.bin")
    assert await weed.get_text(name, "notes/hello.txt") == "hello world"
    await weed.download_file(name, "f.bin", tmp_path / "back.bin")
    assert (tmp_path / "back.bin").read_bytes() == b"\x01" * 100_000
    assert (await weed.head_object(name, "f.bin")).size == 100_000
    assert [o.key async for o in weed.list_objects(name)] == ["f.bin", "notes/hello.txt"]
    await weed.set_acl(name, "notes/hello.txt", "public-read")
    assert await weed.get_acl(name, "notes/hello.txt")
    url = weed.presign(name, "notes/hello.txt", expires_in=30)
    body = await anyio.to_thread.run_sync(lambda: urllib.request.urlopen(url, timeout=10).read())
    assert body == b"hello world"
    await weed.delete_object(name, "f.bin")
    with pytest.raises(ObjectNotFound):
        await weed.head_object(name, "f.bin")
    for n in range(3):
        await weed.put_object(name, f"many/{n}", b"x")
    result = await weed.delete_objects(name, [f"many/{n}" for n in range(3)])
    assert sorted(result.deleted) == ["many/0", "many/1", "many/2"] and result.failed == ()
    with pytest.raises(BucketNotEmpty):
        await weed.delete_bucket(name)
    await weed.backend.create_multipart_upload(name, "pending")
    await weed.delete_bucket(name, force=True)
    assert name not in [b.name for b in await weed.list_buckets()]


def test_cli_cookbook(seaweed_server, tmp_path, isolate_aws_env) -> None:
    def cli(*args: str, input: bytes = b""):
        run = finish(
            seaweed_server, start(seaweed_server, isolate_aws_env, *args, cwd=tmp_path), input
        )
        assert run.code == 0, run
        return run

    name = f"cbc-{uuid.uuid4().hex[:12]}"
    (tmp_path / "up.bin").write_bytes(b"\x02" * 7_000_000)  # multipart at 5 MiB parts
    cli("mb", f"s3://{name}")
    cli("--part-size", "5MiB", "cp", "up.bin", f"s3://{name}/up.bin")
    cli("cp", "-", f"s3://{name}/note.txt", input=b"from stdin")
    assert "up.bin" in cli("ls", f"s3://{name}").text
    cli("cp", f"s3://{name}/up.bin", "down.bin")
    assert (tmp_path / "down.bin").read_bytes() == (tmp_path / "up.bin").read_bytes()
    assert cli("cat", f"s3://{name}/note.txt").out == b"from stdin"
    cli("acl", "set", f"s3://{name}/note.txt", "public-read")
    url = cli("presign", f"s3://{name}/note.txt", "--expires-in", "30").text.strip()
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == b"from stdin"
    cli("rm", f"s3://{name}/note.txt")
    cli("rb", "--force", f"s3://{name}")
    assert name not in cli("ls").text
