from __future__ import annotations

import pytest

from s3flow import BucketNotFound, ObjectNotFound
from s3flow.config import MiB


async def test_put_get_head_delete(s3, bucket) -> None:
    await s3.put_object(bucket, "hello.txt", "hello world")
    await s3.put_object(bucket, "bin", b"\x00\x01")
    assert await s3.get_text(bucket, "hello.txt") == "hello world"
    assert await s3.get_object(bucket, "bin") == b"\x00\x01"
    info = await s3.head_object(bucket, "hello.txt")
    assert info.size == 11 and info.etag
    await s3.delete_object(bucket, "hello.txt")
    with pytest.raises(ObjectNotFound, match=f"s3://{bucket}/hello.txt"):
        await s3.head_object(bucket, "hello.txt")


async def test_missing_key_and_bucket(s3, bucket, tmp_path) -> None:
    with pytest.raises(ObjectNotFound):
        await s3.get_object(bucket, "nope")
    with pytest.raises(ObjectNotFound):
        await s3.download_file(bucket, "nope", tmp_path / "x")
    assert not (tmp_path / "x").exists()
    with pytest.raises(BucketNotFound):
        await s3.put_object("no-such-bucket-y", "k", b"x")


async def test_listing_paginates_lazily_with_prefix_and_delimiter(s3, bucket) -> None:
    keys = [f"logs/{n:04d}" for n in range(1005)] + ["other/a", "top"]
    result = await s3.delete_objects(bucket, [])  # empty is fine
    assert result.deleted == ()
    from s3flow.scheduler import run_bounded

    await run_bounded(keys, lambda k: s3.put_object(bucket, k, b"x"), limit=16)
    listed = [o.key async for o in s3.list_objects(bucket, prefix="logs/")]
    assert listed == sorted(k for k in keys if k.startswith("logs/"))
    top = [(o.key, o.is_prefix) async for o in s3.list_objects(bucket, delimiter="/")]
    assert top == [("logs/", True), ("other/", True), ("top", False)]
    deleted = await s3.delete_objects(bucket, keys)
    assert len(deleted.deleted) == len(keys) and deleted.failed == ()
    assert [o async for o in s3.list_objects(bucket)] == []


async def test_file_round_trips(s3, bucket, tmp_path, payload) -> None:
    for size in (0, 1, 5 * MiB, 5 * MiB + 1, 13 * MiB):
        data = payload(size, seed=size)
        (tmp_path / "src").write_bytes(data)
        up = await s3.upload_file(tmp_path / "src", bucket, f"f{size}")
        down = await s3.download_file(bucket, f"f{size}", tmp_path / "dst")
        assert (tmp_path / "dst").read_bytes() == data
        assert up.size == down.size == size
    assert [u async for u in s3.list_uploads(bucket)] == []


async def test_unicode_and_special_keys(s3, bucket, tmp_path) -> None:
    for key in ["héllo wörld.txt", "a+b=c&d", "spaces  in/dir name/ü€.bin", "x%20y"]:
        await s3.put_object(bucket, key, key)
        assert await s3.get_text(bucket, key) == key
    keys = {o.key async for o in s3.list_objects(bucket)}
    assert "héllo wörld.txt" in keys and "a+b=c&d" in keys


async def test_server_side_copy(s3, bucket) -> None:
    await s3.put_object(bucket, "src", b"payload")
    await s3.copy_object(bucket, "src", bucket, "dst")
    assert await s3.get_object(bucket, "dst") == b"payload"


async def test_no_clobber_on_a_real_server(s3, bucket, tmp_path, payload) -> None:
    from s3flow import ObjectExists

    await s3.put_object(bucket, "k", b"first")
    with pytest.raises(ObjectExists, match="no-clobber"):
        await s3.put_object(bucket, "k", b"second", no_clobber=True)
    (tmp_path / "big").write_bytes(payload(11 * MiB))
    with pytest.raises(ObjectExists):
        await s3.upload_file(tmp_path / "big", bucket, "k", no_clobber=True)
    assert await s3.get_object(bucket, "k") == b"first"
    assert [u async for u in s3.list_uploads(bucket)] == []
    await s3.put_object(bucket, "new", b"x", no_clobber=True)
