"""S3Client.sync / copy_tree delegate to the bulk engine with the client's backend and budget."""

from __future__ import annotations

import s3flow
from s3flow.client import S3Client
from s3flow.testing.memory import MemoryBackend


async def test_sync_and_copy_tree_through_the_client(client, backend, tmp_path) -> None:
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_text("a")
    (src / "sub" / "b.bin").write_bytes(b"b" * 1000)
    summary = await client.sync(src, "s3://b/backup/")
    assert summary.ok and summary.copied == 2
    assert backend.buckets["b"]["backup/sub/b.bin"].data == b"b" * 1000
    again = await client.sync(str(src), "s3://b/backup/")
    assert again.copied == 0 and again.skipped == 2
    (src / "a.txt").unlink()
    pruned = await client.sync(src, "s3://b/backup/", options=s3flow.SyncOptions(delete=True))
    assert pruned.deleted == 1 and "backup/a.txt" not in backend.buckets["b"]
    out = tmp_path / "out"
    copied = await client.copy_tree("s3://b/backup/", out)
    assert copied.copied == 1 and (out / "sub" / "b.bin").read_bytes() == b"b" * 1000


async def test_sync_between_two_clients(client, backend) -> None:
    await client.put_object("b", "x/1", b"one")
    other_backend = MemoryBackend()
    other_backend.buckets["dst"] = {}
    other = S3Client(other_backend)
    summary = await client.sync("s3://b/x/", "s3://dst/y/", dest=other)
    assert summary.copied == 1 and other_backend.buckets["dst"]["y/1"].data == b"one"


async def test_missing_source_directory_never_deletes_the_destination(client, backend, tmp_path):
    import pytest

    await client.put_object("b", "backup/keep", b"precious")
    with pytest.raises(s3flow.LocalFileError, match="source directory does not exist"):
        await client.sync(
            tmp_path / "typo", "s3://b/backup/", options=s3flow.SyncOptions(delete=True)
        )
    assert backend.buckets["b"]["backup/keep"].data == b"precious"
