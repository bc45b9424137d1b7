from __future__ import annotations

import dataclasses
import hashlib
import os

import anyio
import pytest

from s3flow.client import S3Client
from s3flow.config import MiB
from s3flow.errors import (
    AccessDenied,
    BucketNotFound,
    LocalFileError,
    ObjectExists,
    RetryableError,
    SourceChanged,
    TransferFailed,
)
from s3flow.integrity import multipart_etag
from s3flow.progress import TransferStats
from s3flow.testing.faults import FaultRule


def write(path, size: int, seed: int = 0) -> bytes:
    data = random_bytes(size, seed)
    path.write_bytes(data)
    return data


def random_bytes(size: int, seed: int) -> bytes:
    import random

    return random.Random(seed).randbytes(size)


@pytest.mark.parametrize("size", [0, 1, 5 * MiB - 1, 5 * MiB, 5 * MiB + 1, 17 * MiB + 3])
async def test_round_trip_sizes(client, backend, tmp_path, size) -> None:
    data = write(tmp_path / "f", size)
    result = await client.upload_file(tmp_path / "f", "b", "k")
    assert backend.buckets["b"]["k"].data == data
    assert result.size == size and result.retries == 0
    assert result.parts == max(1, -(-size // (5 * MiB))) if size >= 5 * MiB else result.parts == 1
    await client.download_file("b", "k", tmp_path / "out")
    assert (tmp_path / "out").read_bytes() == data


async def test_multipart_etag_and_checksum_match_local(client, backend, tmp_path) -> None:
    data = write(tmp_path / "f", 12 * MiB)
    result = await client.upload_file(tmp_path / "f", "b", "k")
    chunks = [data[i : i + 5 * MiB] for i in range(0, len(data), 5 * MiB)]
    assert result.etag == multipart_etag([hashlib.md5(c).digest() for c in chunks])
    assert result.checksum and result.checksum.endswith("-3")


async def test_part_budget_absorbs_failures(client, backend, delays, tmp_path) -> None:
    backend.rules = [FaultRule(operation="upload_part", part_number=2, times=2)]
    data = write(tmp_path / "f", 12 * MiB)
    stats = TransferStats()
    result = await client.upload_file(tmp_path / "f", "b", "k", progress=stats)
    assert backend.buckets["b"]["k"].data == data
    assert result.retries == 2 and len(delays) == 2 and stats.retries == 2
    assert stats.done == 12 * MiB and stats.parts_done == 3


async def test_budget_exhausted_aborts_and_names_the_part(client, backend, tmp_path) -> None:
    backend.rules = [FaultRule(operation="upload_part", part_number=3, times=99)]
    write(tmp_path / "f", 12 * MiB)
    with pytest.raises(TransferFailed) as info:
        await client.upload_file(tmp_path / "f", "b", "k")
    assert info.value.part_number == 3 and info.value.attempts == 3
    assert "part 3 failed after 3 attempts" in str(info.value)
    assert backend.uploads == {} and "k" not in backend.buckets["b"]
    assert backend.calls["abort_multipart_upload"] == 1
    assert client.statistics().bytes_held == 0  # the failed parts' buffers are back too


async def test_non_retryable_fails_at_once_and_aborts(client, backend, tmp_path) -> None:
    backend.rules = [FaultRule(operation="upload_part", times=1, error=lambda: AccessDenied("no"))]
    write(tmp_path / "f", 12 * MiB)
    with pytest.raises(AccessDenied):
        await client.upload_file(tmp_path / "f", "b", "k")
    assert backend.uploads == {}


async def test_missing_bucket(client, tmp_path) -> None:
    write(tmp_path / "f", 10)
    with pytest.raises(BucketNotFound):
        await client.upload_file(tmp_path / "f", "nope", "k")


@pytest.mark.parametrize("make", ["missing", "directory"])
async def test_bad_local_paths(client, tmp_path, make) -> None:
    path = tmp_path / "x"
    if make == "directory":
        path.mkdir()
    with pytest.raises(LocalFileError, match=str(path)):
        await client.upload_file(path, "b", "k")


async def test_lost_complete_reply_is_resolved_by_head(client, backend, tmp_path) -> None:
    backend.rules = [FaultRule(operation="complete_multipart_upload", kind="lost-reply")]
    data = write(tmp_path / "f", 11 * MiB)
    result = await client.upload_file(tmp_path / "f", "b", "k")
    assert backend.buckets["b"]["k"].data == data and result.retries == 1


async def test_source_modified_during_upload_fails(client, backend, tmp_path) -> None:
    path = tmp_path / "f"
    write(path, 12 * MiB)
    real = backend.upload_part
    calls = 0

    async def touching_upload_part(*args, **kwargs):
        nonlocal calls
        calls += 1
        if calls == 2:
            with path.open("r+b") as f:
                f.write(b"changed!")
            os.utime(path, ns=(0, 123))
        return await real(*args, **kwargs)

    backend.upload_part = touching_upload_part
    with pytest.raises(SourceChanged, match="changed while it was being uploaded"):
        await client.upload_file(path, "b", "k")
    assert backend.uploads == {} and "k" not in backend.buckets["b"]


async def test_no_clobber(client, backend, tmp_path) -> None:
    write(tmp_path / "small", 10)
    write(tmp_path / "big", 11 * MiB)
    await client.put_object("b", "k", b"existing")
    with pytest.raises(ObjectExists):
        await client.upload_file(tmp_path / "small", "b", "k", no_clobber=True)
    with pytest.raises(ObjectExists):
        await client.upload_file(tmp_path / "big", "b", "k", no_clobber=True)
    assert backend.buckets["b"]["k"].data == b"existing" and backend.uploads == {}


async def test_memory_stays_bounded_by_the_budget(backend, tmp_path) -> None:
    import dataclasses
    import random

    from s3flow.client import S3Client
    from tests.engine.helpers import CONFIG

    config = dataclasses.replace(CONFIG, max_concurrency=16, memory_limit=10 * MiB)
    client = S3Client(backend, config, rng=random.Random(0))
    peak = 0
    real = backend.upload_part

    async def watching(*args, **kwargs):
        nonlocal peak
        peak = max(peak, client.statistics().bytes_held)
        await anyio.sleep(0)
        return await real(*args, **kwargs)

    backend.upload_part = watching
    write(tmp_path / "f", 40 * MiB)
    await client.upload_file(tmp_path / "f", "b", "k")
    assert 0 < peak <= 10 * MiB
    assert client.statistics().bytes_held == 0


async def test_lost_create_reply_leaves_no_twin(client, backend, tmp_path) -> None:
    other = await backend.create_multipart_upload("b", "other-key")  # not ours: kept
    backend.rules = [FaultRule(operation="create_multipart_upload", kind="lost-reply")]
    data = write(tmp_path / "f", 11 * MiB)
    result = await client.upload_file(tmp_path / "f", "b", "k")
    assert backend.buckets["b"]["k"].data == data and result.retries == 1
    assert list(backend.uploads) == [other]


async def test_server_side_copy_in_parts(client, backend) -> None:
    from s3flow.transfer.common import Transfer
    from s3flow.transfer.copy import copy_object

    data = random_bytes(12 * MiB, 4)
    await client.put_object("b", "src", data)
    t = Transfer(backend=backend, config=client.config, bucket="b", key="dst")
    result = await copy_object(t, "b", "src", part_size=5 * MiB, single_limit=5 * MiB)
    assert result.parts == 3 and backend.buckets["b"]["dst"].data == data
    assert backend.calls["upload_part"] == 3 and backend.uploads == {}


# No-clobber writes whose reply was lost (issue 12): a 412 on the retry is checked, not believed.


@pytest.mark.parametrize("checksum", ["crc32c", "md5", "none"])
async def test_no_clobber_put_whose_reply_was_lost_is_not_reported_as_existing(
    backend, delays, tmp_path, checksum
) -> None:
    from dataclasses import replace

    from tests.engine.helpers import CONFIG

    client = S3Client(backend, replace(CONFIG, checksum=checksum), sleep=delays)
    backend.rules = [FaultRule(operation="put_object", kind="lost-reply")]
    data = write(tmp_path / "small", 1000)
    result = await client.upload_file(tmp_path / "small", "b", "k", no_clobber=True)
    assert backend.buckets["b"]["k"].data == data and result.retries == 1


async def test_no_clobber_put_after_a_lost_reply_still_refuses_someone_elses_object(
    client, backend, tmp_path
) -> None:
    write(tmp_path / "small", 1000)
    real = backend.put_object

    async def others_write_lands(*args, **kwargs):
        backend.put_object = real  # once: the retry meets the other writer's object
        await real("b", "k", b"someone else's")
        raise RetryableError("injected: reset")

    backend.put_object = others_write_lands
    with pytest.raises(ObjectExists, match="does not match what was sent"):
        await client.upload_file(tmp_path / "small", "b", "k", no_clobber=True)
    assert backend.buckets["b"]["k"].data == b"someone else's"


@pytest.mark.parametrize("whose", ["ours", "theirs"])
async def test_no_clobber_complete_whose_reply_was_lost(client, backend, tmp_path, whose) -> None:
    """The server completed, the reply was lost, and the retry meets a 412 (not NoSuchUpload)."""
    data = write(tmp_path / "big", 11 * MiB)
    real = backend.complete_multipart_upload
    calls = 0

    async def complete(bucket, key, upload_id, parts, *, if_none_match=False):
        nonlocal calls
        calls += 1
        if calls == 1:
            await real(bucket, key, upload_id, parts, if_none_match=if_none_match)
            if whose == "theirs":
                backend.buckets["b"]["k"] = dataclasses.replace(
                    backend.buckets["b"]["k"], data=b"x", etag="0" * 32 + "-1", checksum=None
                )
            raise RetryableError("injected: reset after the server completed")
        raise ObjectExists("object already exists", bucket=bucket, key=key)

    backend.complete_multipart_upload = complete
    if whose == "ours":
        await client.upload_file(tmp_path / "big", "b", "k", no_clobber=True)
        assert backend.buckets["b"]["k"].data == data
    else:
        with pytest.raises(ObjectExists, match="does not match what was sent"):
            await client.upload_file(tmp_path / "big", "b", "k", no_clobber=True)
    assert calls == 2


# Every multipart kind (file, stream, copy) goes through one lifecycle that aborts on failure.


async def _upload_file_in_parts(client, tmp_path) -> None:
    write(tmp_path / "f", 12 * MiB)
    await client.upload_file(tmp_path / "f", "b", "k")


async def _upload_stream_in_parts(client, tmp_path) -> None:
    data = random_bytes(12 * MiB, 7)

    async def chunks():
        for i in range(0, len(data), MiB):
            yield data[i : i + MiB]

    await client.upload_stream(chunks(), "b", "k")


async def _copy_in_parts(client, tmp_path) -> None:
    from s3flow.transfer.common import Transfer
    from s3flow.transfer.copy import copy_object

    await client.put_object("b", "src", random_bytes(12 * MiB, 8))
    t = Transfer(backend=client.backend, config=client.config, bucket="b", key="k")
    await copy_object(t, "b", "src", part_size=5 * MiB, single_limit=5 * MiB)


@pytest.mark.parametrize("send", [_upload_file_in_parts, _upload_stream_in_parts, _copy_in_parts])
async def test_every_multipart_kind_aborts_when_complete_fails(
    client, backend, tmp_path, send
) -> None:
    backend.rules = [
        FaultRule(operation="complete_multipart_upload", error=lambda: AccessDenied("no"))
    ]
    with pytest.raises(AccessDenied):
        await send(client, tmp_path)
    assert backend.calls["abort_multipart_upload"] == 1
    assert backend.uploads == {} and "k" not in backend.buckets["b"]
