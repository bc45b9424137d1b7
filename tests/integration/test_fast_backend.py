"""The fast path against SeaweedFS (real signatures and checksums), both ways.

Every test runs with ``fast_path=True`` and ``fast_path=False``; both must behave alike.
"""

from __future__ import annotations

import pytest

import s3flow
from s3flow import (
    AccessDenied,
    BucketNotFound,
    ChecksumMismatch,
    CredentialsError,
    ObjectExists,
    ObjectNotFound,
    PreconditionFailed,
    UploadNotFound,
)
from s3flow.backend.aws import AioBotocoreBackend
from s3flow.backend.fast import FastBackend
from s3flow.backend.protocol import STREAM_BATCH
from s3flow.config import MiB, RetryPolicy, TransferConfig
from s3flow.models import Checksum
from tests.helpers import read_range

pytestmark = pytest.mark.seaweed

CONFIG = TransferConfig(
    part_size=5 * MiB,
    multipart_threshold=5 * MiB,
    max_concurrency=4,
    retry=RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05),
)
KEYS = ["dir/with space.txt", "plus+and=eq", "100%/pct%2F", "ünï/日本語.bin", "a~b!*'()"]


@pytest.fixture(params=[True, False], ids=["fast", "botocore"])
async def weed(request, seaweed_server):
    async with s3flow.connect(
        endpoint_url=seaweed_server.endpoint_url,
        access_key=seaweed_server.access_key,
        secret_key=seaweed_server.secret_key,
        config=CONFIG,
        fast_path=request.param,
    ) as client:
        assert isinstance(client.backend, FastBackend if request.param else AioBotocoreBackend)
        yield client


@pytest.mark.parametrize("size", [0, 1, 5 * MiB, 5 * MiB + 1, 23 * MiB])
async def test_round_trip(weed, weed_bucket, tmp_path, payload, size) -> None:
    data = payload(size, seed=size)
    (tmp_path / "src").write_bytes(data)
    up = await weed.upload_file(tmp_path / "src", weed_bucket, "obj")
    down = await weed.download_file(weed_bucket, "obj", tmp_path / "dst")
    assert (tmp_path / "dst").read_bytes() == data
    assert up.size == down.size == size
    assert [u async for u in weed.list_uploads(weed_bucket)] == []


@pytest.mark.parametrize("key", KEYS)
async def test_awkward_keys(weed, weed_bucket, key) -> None:
    body = key.encode() * 3
    await weed.put_object(weed_bucket, key, body)
    assert await weed.get_object(weed_bucket, key) == body
    assert (await weed.head_object(weed_bucket, key)).size == len(body)
    assert [o.key async for o in weed.list_objects(weed_bucket)] == [key]


async def test_multipart_with_awkward_key(weed, weed_bucket, tmp_path, payload) -> None:
    key = "sub dir/ü+=%/big.bin"
    data = payload(5 * MiB + 1, seed=3)
    (tmp_path / "src").write_bytes(data)
    await weed.upload_file(tmp_path / "src", weed_bucket, key)
    await weed.download_file(weed_bucket, key, tmp_path / "dst")
    assert (tmp_path / "dst").read_bytes() == data


async def test_missing_key_and_bucket(weed, weed_bucket) -> None:
    with pytest.raises(ObjectNotFound, match=f"s3://{weed_bucket}/nope"):
        await weed.head_object(weed_bucket, "nope")
    with pytest.raises(ObjectNotFound):
        await read_range(weed.backend, weed_bucket, "nope", start=0, end=1)
    with pytest.raises(BucketNotFound):
        await weed.backend.get_object("no-such-bucket-fast", "k")


async def test_wrong_secret(seaweed_server, weed) -> None:
    fast = isinstance(weed.backend, FastBackend)
    async with s3flow.connect(
        endpoint_url=seaweed_server.endpoint_url,
        access_key=seaweed_server.access_key,
        secret_key="wrong-secret",
        fast_path=fast,
    ) as s3:
        for call in (
            lambda: s3.backend.put_object("b", "k", b"x"),
            lambda: s3.backend.get_object("b", "k"),
            lambda: s3.backend.create_multipart_upload("b", "k"),
        ):
            with pytest.raises(CredentialsError) as info:
                await call()
            assert "wrong-secret" not in str(info.value)
            assert "Signature=" not in str(info.value)
        with pytest.raises((CredentialsError, AccessDenied)):  # HEAD: a bare 403, like botocore
            await s3.backend.head_object("b", "k")


async def test_no_clobber(weed, weed_bucket, tmp_path, payload) -> None:
    await weed.put_object(weed_bucket, "k", b"first")
    with pytest.raises(ObjectExists):
        await weed.put_object(weed_bucket, "k", b"second", no_clobber=True)
    (tmp_path / "big").write_bytes(payload(6 * MiB))
    with pytest.raises(ObjectExists):
        await weed.upload_file(tmp_path / "big", weed_bucket, "k", no_clobber=True)
    assert await weed.get_object(weed_bucket, "k") == b"first"


async def test_if_match_on_stream_range(weed, weed_bucket, payload) -> None:
    data = payload(3 * MiB)
    info = await weed.backend.put_object(weed_bucket, "k", data)
    got, batches = await read_range(
        weed.backend, weed_bucket, "k", start=1, end=3 * MiB, if_match=info.etag
    )
    assert got == data[1:]
    assert len(batches) >= 2 and all(b >= STREAM_BATCH for b in batches[:-1])
    with pytest.raises(PreconditionFailed):
        await read_range(weed.backend, weed_bucket, "k", start=0, end=10, if_match="0" * 32)


async def test_checksums_round_trip(weed, weed_bucket, tmp_path, payload) -> None:
    (tmp_path / "src").write_bytes(payload(12 * MiB, seed=1))
    up = await weed.upload_file(tmp_path / "src", weed_bucket, "big")
    head = await weed.head_object(weed_bucket, "big")
    assert head.checksum is not None
    assert head.checksum.startswith("crc32c:")
    assert head.checksum.endswith("-3")  # composite over the three parts
    assert up.checksum == head.checksum
    small = await weed.backend.put_object(
        weed_bucket, "small", b"abc", checksum=Checksum("crc32c", "Nks/tw==")
    )
    assert small.checksum in (None, "crc32c:Nks/tw==")
    with pytest.raises(ChecksumMismatch):
        await weed.backend.put_object(
            weed_bucket, "bad", b"abc", checksum=Checksum("crc32c", "AAAAAA==")
        )


async def test_aborted_upload_is_gone(weed, weed_bucket) -> None:
    backend = weed.backend
    upload_id = await backend.create_multipart_upload(weed_bucket, "k", checksum_algorithm="crc32c")
    part = await backend.upload_part(weed_bucket, "k", upload_id, 1, bytearray(b"x" * 100))
    assert part.etag
    await backend.abort_multipart_upload(weed_bucket, "k", upload_id)
    with pytest.raises(UploadNotFound):
        await backend.complete_multipart_upload(weed_bucket, "k", upload_id, [part])


@pytest.mark.parametrize("parts", [1, 3, 5])
async def test_md5_etag_objects_are_verified(weed, weed_bucket, tmp_path, payload, parts) -> None:
    """Objects as s5cmd uploads them (no CRC): the download checks the MD5 ETag.

    1 part: a plain MD5; 3 parts: ranges split, MD5s read back from the file;
    5 parts: one range per part, MD5s computed as the bytes arrive.
    """
    import dataclasses

    data = payload(parts * 5 * MiB - 7, seed=parts)
    (tmp_path / "src").write_bytes(data)
    other = dataclasses.replace(CONFIG, checksum="none", multipart_threshold=5 * MiB + 1)
    up = await weed.upload_file(tmp_path / "src", weed_bucket, "k", config=other)
    if parts > 1:
        part = await weed.backend.head_object(weed_bucket, "k", part_number=1)
        assert part.size == 5 * MiB
    down = await weed.download_file(weed_bucket, "k", tmp_path / "dst")
    assert (tmp_path / "dst").read_bytes() == data
    assert down.checksum == f"md5:{up.etag}" and up.etag.endswith(f"-{parts}" if parts > 1 else "")
