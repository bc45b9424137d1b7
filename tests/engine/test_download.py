from __future__ import annotations

import random

import pytest

from s3flow.config import MiB
from s3flow.errors import (
    ChecksumMismatch,
    LocalFileError,
    ObjectNotFound,
    ServiceError,
    SourceChanged,
    TransferFailed,
)
from s3flow.testing.faults import FaultRule


def leftovers(directory) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if ".s3flow-" in p.name)


async def put(client, size: int, seed: int = 1) -> bytes:
    data = random.Random(seed).randbytes(size)
    await client.put_object("b", "k", data)
    return data


async def test_ranged_download_and_overwrite_is_atomic(client, backend, tmp_path) -> None:
    data = random.Random(1).randbytes(23 * MiB)
    (tmp_path / "src").write_bytes(data)
    await client.upload_file(tmp_path / "src", "b", "k")
    dest = tmp_path / "out"
    dest.write_bytes(b"old")
    result = await client.download_file("b", "k", dest)
    assert dest.read_bytes() == data and result.parts == 5
    assert result.checksum and result.checksum.startswith("crc32c:")
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("kind", ["truncate", "error"])
async def test_torn_range_resumes_where_it_stopped(client, backend, tmp_path, kind) -> None:
    data = await put(client, 12 * MiB)
    backend.rules = [FaultRule(operation="get_object", part_number=2, kind=kind, times=2)]
    result = await client.download_file("b", "k", tmp_path / "out")
    assert (tmp_path / "out").read_bytes() == data and result.retries == 2
    # Range 2 is [5, 10) MiB; each torn attempt delivered half of what it asked for.
    resumed = sorted(s for s in backend.range_starts if s % (5 * MiB))
    assert resumed == [5 * MiB + 5 * MiB // 2, 5 * MiB + 5 * MiB // 2 + 5 * MiB // 4]


async def test_long_body_is_never_written_past_its_range(client, backend, tmp_path) -> None:
    data = await put(client, 12 * MiB)
    real = backend.stream_range
    served = 0

    async def long(*args, sink, **kwargs):
        nonlocal served
        served += 1
        if served == 1:
            await sink([b"x" * (6 * MiB)])  # more than any 5 MiB range
        return await real(*args, sink=sink, **kwargs)

    backend.stream_range = long
    result = await client.download_file("b", "k", tmp_path / "out")
    assert (tmp_path / "out").read_bytes() == data and result.retries == 1


async def test_md5_etag_parts_are_hashed_as_they_stream(
    client, backend, tmp_path, monkeypatch
) -> None:
    """Another tool's multipart upload (MD5 ETag, no CRC): one range per part, no read-back."""
    import dataclasses

    import s3flow.transfer.download as download
    from s3flow.client import S3Client
    from tests.engine.helpers import CONFIG

    data = random.Random(9).randbytes(26 * MiB)
    (tmp_path / "src").write_bytes(data)
    other = S3Client(backend, dataclasses.replace(CONFIG, part_size=6 * MiB, checksum="none"))
    await other.upload_file(tmp_path / "src", "b", "k")  # 6, 6, 6, 6, 2 MiB
    monkeypatch.setattr(download, "_file_md5", None)  # a read-back would fail
    backend.range_starts.clear()
    result = await client.download_file("b", "k", tmp_path / "out")
    assert (tmp_path / "out").read_bytes() == data and result.parts == 5
    assert sorted(backend.range_starts) == [n * 6 * MiB for n in range(5)]
    backend.rules = [FaultRule(operation="get_object", part_number=3, kind="corrupt", times=2)]
    with pytest.raises(ChecksumMismatch, match=r"md5 .* twice"):
        await client.download_file("b", "k", tmp_path / "out2")
    assert leftovers(tmp_path) == []


async def test_corrupt_body_is_never_published(client, backend, tmp_path) -> None:
    await put(client, 12 * MiB)
    backend.rules = [FaultRule(operation="get_object", part_number=1, kind="corrupt", times=2)]
    dest = tmp_path / "out"
    with pytest.raises(ChecksumMismatch, match="twice; the stored object may be damaged"):
        await client.download_file("b", "k", dest)
    assert not dest.exists() and leftovers(tmp_path) == []


@pytest.mark.parametrize("size", [3 * MiB, 12 * MiB])  # one GET; three ranges
@pytest.mark.parametrize("checksum", ["crc32c", "none"])  # CRC; MD5 ETag
async def test_one_corrupted_fetch_is_fetched_again(backend, tmp_path, size, checksum) -> None:
    """One damaged range cannot be told from the others: all are fetched once more."""
    import dataclasses

    from s3flow.client import S3Client
    from tests.engine.helpers import CONFIG

    client = S3Client(backend, dataclasses.replace(CONFIG, checksum=checksum))
    data = await put(client, size)
    backend.rules = [FaultRule(operation="get_object", part_number=1, kind="corrupt", times=1)]
    calls = backend.calls.get("get_object", 0)
    result = await client.download_file("b", "k", tmp_path / "out")
    assert (tmp_path / "out").read_bytes() == data
    assert backend.rules[0].times == 0 and result.retries == 1
    ranges = -(-size // CONFIG.part_size)
    assert backend.calls["get_object"] - calls == 2 * ranges
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(
    ("server_states_parts", "refetched"),
    [(True, 1), (False, 3)],
    ids=["part-checksums", "object-checksum-only"],
)
async def test_a_corrupted_part_alone_is_fetched_again_when_the_server_vouches_for_the_rest(
    client, backend, tmp_path, monkeypatch, server_states_parts, refetched
) -> None:
    """A composite-CRC object in three parts, part 2 damaged once in transit: S3 states each
    part's CRC (HEAD with partNumber), so only part 2 is fetched again. A server that repeats
    the object's checksum vouches for no part: all three are."""
    import dataclasses

    data = random.Random(2).randbytes(12 * MiB)
    (tmp_path / "src").write_bytes(data)
    await client.upload_file(tmp_path / "src", "b", "k")  # 5 + 5 + 2 MiB parts
    if not server_states_parts:
        head = backend.head_object

        async def repeats_object_checksum(bucket, key, **kwargs):
            whole = await head(bucket, key)
            return dataclasses.replace(await head(bucket, key, **kwargs), checksum=whole.checksum)

        monkeypatch.setattr(backend, "head_object", repeats_object_checksum)
    backend.rules = [FaultRule(operation="get_object", part_number=2, kind="corrupt", times=1)]
    calls = backend.calls.get("get_object", 0)
    result = await client.download_file("b", "k", tmp_path / "out")
    assert (tmp_path / "out").read_bytes() == data
    assert backend.rules[0].times == 0 and result.retries == 1
    assert backend.calls["get_object"] - calls == 3 + refetched
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("hostile", ["refuses", "not-found", "other-version"])
async def test_part_heads_that_fail_or_speak_of_another_version_mean_fetch_it_all(
    client, backend, tmp_path, monkeypatch, hostile
) -> None:
    """The per-part HEADs after a mismatch only save bytes. A server that answers them
    with an error (here for parts 2 and 3; part 1's HEAD chose the layout) used to fail
    the download; one that answers for another ETag must vouch for nothing."""
    import dataclasses

    data = random.Random(2).randbytes(12 * MiB)
    (tmp_path / "src").write_bytes(data)
    await client.upload_file(tmp_path / "src", "b", "k")  # 5 + 5 + 2 MiB parts
    head = backend.head_object

    async def part_heads(bucket, key, **kwargs):
        info = await head(bucket, key, **kwargs)
        number = kwargs.get("part_number")
        if number is None:
            return info
        if hostile == "other-version":
            return dataclasses.replace(info, etag='"0123456789abcdef0123456789abcdef-3"')
        if number > 1:
            error = ServiceError if hostile == "refuses" else ObjectNotFound
            raise error("400 InvalidArgument: partNumber", bucket=bucket, key=key)
        return info

    monkeypatch.setattr(backend, "head_object", part_heads)
    backend.rules = [FaultRule(operation="get_object", part_number=2, kind="corrupt", times=1)]
    calls = backend.calls.get("get_object", 0)
    result = await client.download_file("b", "k", tmp_path / "out")
    assert (tmp_path / "out").read_bytes() == data and backend.rules[0].times == 0
    assert backend.calls["get_object"] - calls == 3 + 3 and result.retries >= 1
    assert leftovers(tmp_path) == []


async def test_an_object_replaced_between_the_two_fetches_is_never_published(
    client, backend, tmp_path, monkeypatch
) -> None:
    """Part 2 damaged in transit, then the object replaced (same parts 1 and 3) before
    the refetch: one clear line saying so, and nothing at the destination."""
    data = random.Random(2).randbytes(12 * MiB)
    (tmp_path / "src").write_bytes(data)
    await client.upload_file(tmp_path / "src", "b", "k")
    changed = bytearray(data)
    changed[6 * MiB] ^= 1
    (tmp_path / "src").write_bytes(changed)
    head, part_heads = backend.head_object, []

    async def replaced_before_the_refetch(bucket, key, **kwargs):
        if kwargs.get("part_number"):
            part_heads.append(kwargs["part_number"])
            if len(part_heads) == 2:  # the first HEAD of the refetch
                await client.upload_file(tmp_path / "src", "b", "k")
        return await head(bucket, key, **kwargs)

    monkeypatch.setattr(backend, "head_object", replaced_before_the_refetch)
    backend.rules = [FaultRule(operation="get_object", part_number=2, kind="corrupt", times=1)]
    with pytest.raises(SourceChanged) as caught:
        await client.download_file("b", "k", tmp_path / "out")
    assert "\n" not in str(caught.value)
    assert not (tmp_path / "out").exists() and leftovers(tmp_path) == []


async def test_budget_exhausted_leaves_nothing(client, backend, tmp_path) -> None:
    await put(client, 12 * MiB)
    backend.rules = [FaultRule(operation="get_object", part_number=2, times=99)]
    with pytest.raises(TransferFailed):
        await client.download_file("b", "k", tmp_path / "out")
    assert not (tmp_path / "out").exists() and leftovers(tmp_path) == []


async def test_object_replaced_mid_download(client, backend, tmp_path) -> None:
    await put(client, 12 * MiB)
    real = backend.get_object
    calls = 0

    async def replacing(*args, **kwargs):
        nonlocal calls
        calls += 1
        if calls == 2:
            await backend.put_object("b", "k", b"new content")
        return await real(*args, **kwargs)

    backend.get_object = replacing
    with pytest.raises(SourceChanged, match="replaced during the download"):
        await client.download_file("b", "k", tmp_path / "out")
    assert not (tmp_path / "out").exists() and leftovers(tmp_path) == []


async def test_missing_object_and_bad_destination(client, tmp_path) -> None:
    with pytest.raises(ObjectNotFound):
        await client.download_file("b", "nope", tmp_path / "out")
    await put(client, 10)
    with pytest.raises(LocalFileError, match="destination directory does not exist"):
        await client.download_file("b", "k", tmp_path / "missing" / "out")
    await client.put_object("b", "big", random.Random(2).randbytes(12 * MiB))  # 3 ranges
    with pytest.raises(LocalFileError, match="destination directory does not exist"):
        await client.download_file("b", "big", tmp_path / "missing" / "big")
    assert not (tmp_path / "missing").exists()
    (tmp_path / "dir").mkdir()
    with pytest.raises(LocalFileError, match="is a directory"):
        await client.download_file("b", "k", tmp_path / "dir")


async def test_get_object_and_text(client) -> None:
    await client.put_object("b", "t", "héllo")
    assert await client.get_text("b", "t") == "héllo"
    data = await put(client, 11 * MiB)
    assert await client.get_object("b", "k") == data


async def test_stream_upload_and_iter_download(client, backend) -> None:
    data = random.Random(5).randbytes(13 * MiB + 5)

    async def chunks():
        for i in range(0, len(data), 100_000):
            yield data[i : i + 100_000]

    result = await client.upload_stream(chunks(), "b", "s")
    assert backend.buckets["b"]["s"].data == data and result.parts == 3
    got = b"".join([c async for c in client.iter_object("b", "s")])
    assert got == data


async def test_small_stream_is_one_put(client, backend) -> None:
    async def chunks():
        yield b"abc"

    result = await client.upload_stream(chunks(), "b", "s")
    assert result.parts == 1 and backend.buckets["b"]["s"].data == b"abc"


async def test_killed_download_resumes_from_its_temp_file(client, backend, tmp_path) -> None:
    import anyio

    data = await put(client, 23 * MiB)
    (tmp_path / "src").write_bytes(data)
    await client.upload_file(tmp_path / "src", "b", "k")  # multipart: 5 ranges
    real = backend.stream_range
    served = 0

    async def dying(*args, **kwargs):
        nonlocal served
        if served >= 2:
            await anyio.sleep(10)
        served += 1
        return await real(*args, **kwargs)

    # kill -9: no cleanup runs, so the temp file and journal stay behind.
    import s3flow.journal as journal
    import s3flow.localfs as localfs

    backend.stream_range = dying
    remove_temp, remove_journal = localfs._remove, journal.Journal.remove
    localfs._remove = lambda path: None
    journal.Journal.remove = lambda self: None
    try:
        with anyio.move_on_after(0.5):
            await client.download_file("b", "k", tmp_path / "out")
    finally:
        localfs._remove, journal.Journal.remove = remove_temp, remove_journal
        backend.stream_range = real
    assert not (tmp_path / "out").exists() and len(leftovers(tmp_path)) == 1
    before = backend.calls["get_object"]
    result = await client.download_file("b", "k", tmp_path / "out")
    assert (tmp_path / "out").read_bytes() == data
    assert result.resumed_parts >= 2
    assert backend.calls["get_object"] - before == 5 - result.resumed_parts
    assert leftovers(tmp_path) == []


async def test_changed_object_discards_the_old_temp_file(client, backend, tmp_path) -> None:
    import anyio

    import s3flow.journal as journal
    import s3flow.localfs as localfs

    await put(client, 12 * MiB)
    real = backend.stream_range

    async def dying(*args, **kwargs):
        await anyio.sleep(10)

    backend.stream_range = dying
    saved = localfs._remove, journal.Journal.remove
    localfs._remove, journal.Journal.remove = (lambda path: None), (lambda self: None)
    try:
        with anyio.move_on_after(0.2):
            await client.download_file("b", "k", tmp_path / "out")
    finally:
        localfs._remove, journal.Journal.remove = saved
        backend.stream_range = real
    new = await put(client, 12 * MiB, seed=7)
    result = await client.download_file("b", "k", tmp_path / "out")
    assert (tmp_path / "out").read_bytes() == new and result.resumed_parts == 0
    assert leftovers(tmp_path) == []


async def test_disk_full_before_and_during_download(client, backend, tmp_path, monkeypatch) -> None:
    import errno
    import os

    import s3flow.localfs as localfs

    await put(client, 12 * MiB)
    real_statvfs = os.statvfs

    class Tiny:
        def __init__(self, real):
            self.f_frsize, self.f_bavail = real.f_frsize, 1

    monkeypatch.setattr(os, "statvfs", lambda p: Tiny(real_statvfs(p)))
    with pytest.raises(LocalFileError, match="no space left on device"):
        await client.download_file("b", "k", tmp_path / "out")
    assert not (tmp_path / "out").exists() and leftovers(tmp_path) == []
    monkeypatch.setattr(os, "statvfs", real_statvfs)

    def full(fd, chunks, offset):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(localfs, "pwritev_all", full)
    import s3flow.transfer.download as download

    monkeypatch.setattr(download, "pwritev_all", full)
    with pytest.raises(LocalFileError, match="no space left on device; free some space"):
        await client.download_file("b", "k", tmp_path / "out")
    assert not (tmp_path / "out").exists() and leftovers(tmp_path) == []


async def test_get_object_fetches_a_corrupted_body_once_more(client, backend) -> None:
    data = await put(client, 12 * MiB)
    backend.rules = [FaultRule(operation="get_object", kind="corrupt", times=1)]
    assert await client.get_object("b", "k") == data
    backend.rules = [FaultRule(operation="get_object", kind="corrupt", times=2)]
    with pytest.raises(ChecksumMismatch, match="twice"):
        await client.get_object("b", "k")


async def test_streamed_download_is_verified_at_the_end(client, backend) -> None:
    data = await put(client, 12 * MiB)
    assert b"".join([c async for c in client.iter_object("b", "k")]) == data
    backend.rules = [FaultRule(operation="get_object", part_number=2, kind="corrupt", times=1)]
    with pytest.raises(ChecksumMismatch):
        [c async for c in client.iter_object("b", "k")]


async def test_streamed_download_of_an_md5_etag_object_is_verified_at_the_end(
    backend, tmp_path
) -> None:
    """No CRC stored: the multipart ETag is checked from per-part MD5s fed in order."""
    import dataclasses

    from s3flow.client import S3Client
    from tests.engine.helpers import CONFIG

    client = S3Client(backend, dataclasses.replace(CONFIG, checksum="none"))
    data = random.Random(9).randbytes(12 * MiB)
    (tmp_path / "src").write_bytes(data)
    await client.upload_file(tmp_path / "src", "b", "k")
    assert "-" in backend.buckets["b"]["k"].etag and not backend.buckets["b"]["k"].checksum
    assert b"".join([c async for c in client.iter_object("b", "k")]) == data
    backend.rules = [FaultRule(operation="get_object", part_number=2, kind="corrupt", times=1)]
    with pytest.raises(ChecksumMismatch, match="md5"):
        [c async for c in client.iter_object("b", "k")]


@pytest.mark.parametrize("checksum", ["crc32c", "none"])
async def test_big_upload_parts_are_fetched_in_bounded_ranges(backend, tmp_path, checksum) -> None:
    """Another tool's 12 MiB parts: ranges stay at our 5 MiB, verification still holds."""
    import dataclasses

    from s3flow.client import S3Client
    from tests.engine.helpers import CONFIG

    data = random.Random(8).randbytes(30 * MiB)
    (tmp_path / "src").write_bytes(data)
    uploader = S3Client(backend, dataclasses.replace(CONFIG, part_size=12 * MiB, checksum=checksum))
    await uploader.upload_file(tmp_path / "src", "b", "k")
    sizes: list[int] = []
    real = backend.stream_range

    async def watching(*args, **kwargs):
        sizes.append(kwargs["end"] - kwargs["start"])
        return await real(*args, **kwargs)

    backend.stream_range = watching
    client = S3Client(backend, CONFIG)
    result = await client.download_file("b", "k", tmp_path / "out")
    assert (tmp_path / "out").read_bytes() == data
    assert max(sizes) <= 5 * MiB and len(sizes) == 8  # parts of 12, 12, 6 MiB -> 3 + 3 + 2
    assert result.checksum and result.checksum.startswith(
        "crc32c:" if checksum != "none" else "md5:"
    )
    assert b"".join([c async for c in client.iter_object("b", "k")]) == data
    assert await client.get_object("b", "k") == data
    backend.rules = [FaultRule(operation="get_object", part_number=4, kind="corrupt", times=2)]
    with pytest.raises(ChecksumMismatch):
        await client.download_file("b", "k", tmp_path / "out2")


async def listed_download(client, tmp_path, listed):
    from s3flow.transfer.common import Transfer
    from s3flow.transfer.download import download_file

    t = Transfer(backend=client.backend, config=client.config, bucket="b", key=listed.key)
    return await download_file(t, tmp_path / "out", listed=listed)


@pytest.mark.parametrize("checksum", ["crc32c", "none"])
async def test_listed_small_object_is_one_get_and_verified(backend, tmp_path, checksum) -> None:
    """Bulk downloads know size and ETag from the listing: no HEAD, the GET's checksum verifies."""
    import dataclasses

    from s3flow.client import S3Client
    from tests.engine.helpers import CONFIG

    client = S3Client(backend, dataclasses.replace(CONFIG, checksum=checksum))
    data = await put(client, 3 * MiB)
    from s3flow.models import ObjectInfo

    listed = ObjectInfo(key="k", size=len(data), etag=backend.buckets["b"]["k"].etag)
    before = dict(backend.calls)
    result = await listed_download(client, tmp_path, listed)
    assert (tmp_path / "out").read_bytes() == data
    assert backend.calls["get_object"] - before.get("get_object", 0) == 1
    assert backend.calls.get("head_object", 0) == before.get("head_object", 0)
    assert result.checksum and result.checksum.startswith(
        "crc32c:" if checksum != "none" else "md5:"
    )

    backend.rules = [FaultRule(operation="get_object", kind="truncate")]
    assert (await listed_download(client, tmp_path, listed)).retries == 1
    assert (tmp_path / "out").read_bytes() == data

    (tmp_path / "out").unlink()
    backend.rules = [FaultRule(operation="get_object", kind="corrupt")]
    assert (await listed_download(client, tmp_path, listed)).retries == 1  # fetched again
    assert (tmp_path / "out").read_bytes() == data

    (tmp_path / "out").unlink()
    backend.rules = [FaultRule(operation="get_object", kind="corrupt", times=2)]
    with pytest.raises(ChecksumMismatch):
        await listed_download(client, tmp_path, listed)
    assert not (tmp_path / "out").exists() and leftovers(tmp_path) == []


async def test_stale_listing_is_source_changed(client, backend, tmp_path) -> None:
    from s3flow.models import ObjectInfo

    data = await put(client, MiB)
    stale = ObjectInfo(key="k", size=len(data), etag="0" * 32)
    with pytest.raises(SourceChanged):
        await listed_download(client, tmp_path, stale)
    assert not (tmp_path / "out").exists() and leftovers(tmp_path) == []


async def test_killed_download_resumes_from_another_directory(
    client, backend, tmp_path, monkeypatch
) -> None:
    """The journal names the temp file by its absolute path: a rerun from another working
    directory (same destination, spelled differently) resumes it and leaves no temp file."""
    import anyio

    import s3flow.journal as journal
    import s3flow.localfs as localfs

    data = await put(client, 23 * MiB)
    (tmp_path / "src").write_bytes(data)
    await client.upload_file(tmp_path / "src", "b", "k")  # multipart: 5 ranges
    here, there = tmp_path / "here", tmp_path / "there"
    here.mkdir()
    there.mkdir()
    real = backend.stream_range
    served = 0

    async def dying(*args, **kwargs):
        nonlocal served
        if served >= 2:
            await anyio.sleep(10)
        served += 1
        return await real(*args, **kwargs)

    backend.stream_range = dying
    saved = localfs._remove, journal.Journal.remove  # kill -9: no cleanup runs
    localfs._remove, journal.Journal.remove = (lambda path: None), (lambda self: None)
    monkeypatch.chdir(here)
    try:
        with anyio.move_on_after(0.5):
            await client.download_file("b", "k", "out")  # relative to here/
    finally:
        localfs._remove, journal.Journal.remove = saved
        backend.stream_range = real
    assert len(leftovers(here)) == 1
    monkeypatch.chdir(there)
    before = backend.calls["get_object"]
    result = await client.download_file("b", "k", "../here/out")
    assert (here / "out").read_bytes() == data
    assert result.resumed_parts >= 2
    assert backend.calls["get_object"] - before == 5 - result.resumed_parts
    assert leftovers(here) == [] and leftovers(there) == []


def _watch_fsyncs(monkeypatch) -> list[str]:
    """What each os.fsync call flushed: "dir:<name>" or the file's name."""
    import os
    import stat

    seen: list[str] = []
    real = os.fsync

    def watching(fd: int) -> None:
        kind = "dir:" if stat.S_ISDIR(os.fstat(fd).st_mode) else ""
        seen.append(kind + os.path.basename(os.readlink(f"/proc/self/fd/{fd}")))
        real(fd)

    monkeypatch.setattr(os, "fsync", watching)
    return seen


@pytest.mark.parametrize("size", [3 * MiB, 12 * MiB])  # one GET; ranged with a journal
async def test_downloads_are_not_fsynced_by_default(client, tmp_path, monkeypatch, size) -> None:
    """As aws s3 and s5cmd: temp file, verify, atomic rename, no fsync of the data."""
    data = await put(client, size)
    seen = _watch_fsyncs(monkeypatch)
    dest = tmp_path / "out"
    await client.download_file("b", "k", dest)
    assert dest.read_bytes() == data
    assert [name for name in seen if "out" in name or name.startswith("dir:")] == []


@pytest.mark.parametrize("size", [3 * MiB, 12 * MiB])
async def test_fsync_flushes_the_file_before_its_rename_and_the_directory_after(
    backend, tmp_path, monkeypatch, size
) -> None:
    import dataclasses

    from s3flow.client import S3Client
    from tests.engine.helpers import CONFIG

    client = S3Client(backend, dataclasses.replace(CONFIG, fsync=True))
    data = await put(client, size)
    seen = _watch_fsyncs(monkeypatch)
    dest = tmp_path / "out"
    await client.download_file("b", "k", dest)
    assert dest.read_bytes() == data
    flushed = [name for name in seen if ".out.s3flow-" in name or name.startswith("dir:")]
    assert len(flushed) == 2
    assert ".out.s3flow-" in flushed[0]  # the temp file, before it was renamed
    assert flushed[1] == f"dir:{tmp_path.name}"
