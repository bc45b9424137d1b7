"""Real faults between s3flow and SeaweedFS: transfers either complete with the right bytes
or fail cleanly (TransferFailed / ChecksumMismatch, no orphaned multipart upload, nothing at
a download's destination). Never wrong bytes, never a half-done state."""

from __future__ import annotations

import hashlib
from pathlib import Path

import anyio
import pytest

from s3flow import ChecksumMismatch, TransferFailed
from s3flow.client import S3Client
from s3flow.config import RetryPolicy
from s3flow.progress import PartDone

from .helpers import CONFIG, READ_TIMEOUT, SIZE, seed_with_early_hit
from .proxy import Fault, FaultProxy, Kind, Rule

pytestmark = pytest.mark.seaweed

RATE = 0.15

ABSORBABLE_UPLOAD = [
    Fault.ERROR_500,
    Fault.ERROR_503,
    Fault.ERROR_400_TIMEOUT,
    Fault.RESET_REQUEST,
    Fault.STALL,
    Fault.CORRUPT_REQUEST,
]
ABSORBABLE_DOWNLOAD = [
    Fault.ERROR_500,
    Fault.ERROR_503,
    Fault.ERROR_400_TIMEOUT,
    Fault.RESET_REQUEST,
    Fault.RESET_RESPONSE,
    Fault.STALL,
    Fault.TRUNCATE,
]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def leftovers(dest: Path) -> list[str]:
    """The destination itself and any temp file s3flow put beside it."""
    return sorted(
        p.name
        for p in dest.parent.iterdir()
        if p == dest or p.name.startswith(f".{dest.name}.s3flow-")
    )


async def orphans(direct: S3Client, bucket: str, key: str) -> list[str]:
    """Multipart uploads left in progress under this test's key (ListMultipartUploads)."""
    return [u.upload_id async for u in direct.list_uploads(bucket, key)]


async def stored_sha(direct: S3Client, bucket: str, key: str) -> str | None:
    keys = [o.key async for o in direct.list_objects(bucket, prefix=key)]
    if key not in keys:
        return None
    return sha256(await direct.get_object(bucket, key))


def rule(fault: Fault, rate: float, kind: Kind) -> Rule:
    # Both HTTP clients (aiohttp under botocore, backend/http11.py on the fast path) re-send
    # a request once when a reused connection resets before any answer, so a single reset
    # never reaches s3flow: reset the picked request and its one re-send.
    return Rule(fault, rate, kind=kind, repeat=2 if fault is Fault.RESET_REQUEST else 1)


def twice(fault: Fault) -> str:
    return ", each twice" if fault is Fault.RESET_REQUEST else ""


def timeout_for(fault: Fault) -> float | None:
    return READ_TIMEOUT if fault is Fault.STALL else None


@pytest.mark.parametrize("fault", ABSORBABLE_UPLOAD, ids=lambda f: f.name)
async def test_upload_absorbs_fault(
    fault, proxy: FaultProxy, faulty, direct, bucket, key, tmp_path, source, reliability_row
) -> None:
    row = reliability_row(f"{fault} (upload parts)", f"{RATE:.0%} of part uploads{twice(fault)}")
    src, data = source(1)
    seed = seed_with_early_hit(RATE, within=3)
    proxy.configure([rule(fault, RATE, Kind.PART_UPLOAD)], seed=seed)
    row.tried += 1
    async with faulty(read_timeout=timeout_for(fault)) as s3:
        result = await s3.upload_file(src, bucket, key)
    proxy.clear()
    row.injected = sum(proxy.injected().values())
    row.retries = result.retries
    row.orphaned_uploads = len(await orphans(direct, bucket, key))
    ok = await stored_sha(direct, bucket, key) == sha256(data)
    row.completed_right_bytes += ok
    row.bytes_lost += 0 if ok else SIZE
    assert ok
    assert proxy.injected()[fault] > 0, proxy.stats()
    assert result.retries > 0
    assert row.orphaned_uploads == 0


@pytest.mark.parametrize("fault", ABSORBABLE_DOWNLOAD, ids=lambda f: f.name)
async def test_download_absorbs_fault(
    fault, proxy: FaultProxy, faulty, direct, bucket, key, tmp_path, source, reliability_row
) -> None:
    row = reliability_row(f"{fault} (download ranges)", f"{RATE:.0%} of ranged GETs{twice(fault)}")
    src, data = source(1)
    await direct.upload_file(src, bucket, key)
    dest = tmp_path / "out" / "dst.bin"
    dest.parent.mkdir()
    seed = seed_with_early_hit(RATE, within=3)
    proxy.configure([rule(fault, RATE, Kind.RANGED_GET)], seed=seed)
    row.tried += 1
    async with faulty(read_timeout=timeout_for(fault)) as s3:
        result = await s3.download_file(bucket, key, dest)
    proxy.clear()
    row.injected = sum(proxy.injected().values())
    row.retries = result.retries
    ok = sha256(dest.read_bytes()) == sha256(data)
    row.completed_right_bytes += ok
    row.bytes_lost += 0 if ok else SIZE
    assert ok
    assert leftovers(dest) == ["dst.bin"]
    assert proxy.injected()[fault] > 0, proxy.stats()
    assert result.retries > 0


async def test_corrupted_download_body_is_never_written_as_good(
    proxy: FaultProxy, faulty, direct, bucket, key, tmp_path, source, reliability_row
) -> None:
    """A flipped byte in a ranged GET (no server checksum on ranges) is caught by s3flow."""
    row = reliability_row(f"{Fault.CORRUPT} (download ranges)", f"{RATE:.0%} of ranged GETs")
    src, data = source(1)
    await direct.upload_file(src, bucket, key)
    seed = seed_with_early_hit(RATE, within=3)
    proxy.configure([Rule(Fault.CORRUPT, RATE, kind=Kind.RANGED_GET)], seed=seed)
    for attempt in range(2):
        dest = tmp_path / f"out{attempt}" / "dst.bin"
        dest.parent.mkdir()
        row.tried += 1
        try:
            async with faulty() as s3:
                result = await s3.download_file(bucket, key, dest)
        except (ChecksumMismatch, TransferFailed):
            assert leftovers(dest) == []
            row.failed_cleanly += 1
        else:
            row.retries += result.retries
            ok = sha256(dest.read_bytes()) == sha256(data)
            row.completed_right_bytes += ok
            row.bytes_lost += 0 if ok else SIZE
            assert ok, "a corrupted download was published as a good file"
    row.injected = sum(proxy.injected().values())
    assert proxy.injected()[Fault.CORRUPT] > 0


# Beyond the budget: every attempt fails.


@pytest.mark.parametrize("fault", [Fault.ERROR_500, Fault.RESET_REQUEST], ids=lambda f: f.name)
async def test_upload_beyond_budget_fails_cleanly(
    fault, proxy: FaultProxy, faulty, direct, bucket, key, tmp_path, source, reliability_row
) -> None:
    row = reliability_row(f"{fault} (upload parts)", "100% of part uploads")
    src, _ = source(1)
    proxy.configure([Rule(fault, 1.0, kind=Kind.PART_UPLOAD)], seed=0)
    row.tried += 1
    async with faulty() as s3:
        with pytest.raises(TransferFailed):
            await s3.upload_file(src, bucket, key)
    proxy.clear()
    row.injected = sum(proxy.injected().values())
    row.orphaned_uploads = len(await orphans(direct, bucket, key))
    stored = await stored_sha(direct, bucket, key)
    row.bytes_lost += 0 if stored is None else SIZE
    row.failed_cleanly += row.orphaned_uploads == 0 and stored is None
    assert row.orphaned_uploads == 0
    assert stored is None


@pytest.mark.parametrize(
    "fault",
    [Fault.TRUNCATE, Fault.RESET_RESPONSE, Fault.STALL],
    ids=lambda f: f.name,
)
async def test_download_beyond_budget_fails_cleanly(
    fault, proxy: FaultProxy, faulty, direct, bucket, key, tmp_path, source, reliability_row
) -> None:
    row = reliability_row(f"{fault} (download ranges)", "100% of ranged GETs")
    src, _ = source(1)
    await direct.upload_file(src, bucket, key)
    dest = tmp_path / "out" / "dst.bin"
    dest.parent.mkdir()
    proxy.configure([Rule(fault, 1.0, kind=Kind.RANGED_GET)], seed=0)
    config = CONFIG
    if fault is Fault.STALL:  # keep the wall time small: two 1-second timeouts per range
        import dataclasses

        config = dataclasses.replace(
            CONFIG, retry=RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.1)
        )
    row.tried += 1
    async with faulty(read_timeout=timeout_for(fault), config=config) as s3:
        with pytest.raises(TransferFailed):
            await s3.download_file(bucket, key, dest)
    row.injected = sum(proxy.injected().values())
    left = leftovers(dest)
    row.failed_cleanly += left == []
    row.bytes_lost += SIZE if left else 0
    assert left == []


async def test_download_all_corrupted_fails_and_keeps_the_old_file(
    proxy: FaultProxy, faulty, direct, bucket, key, tmp_path, source, reliability_row
) -> None:
    row = reliability_row(f"{Fault.CORRUPT} (download ranges)", "100% of ranged GETs")
    src, _ = source(1)
    await direct.upload_file(src, bucket, key)
    dest = tmp_path / "out" / "dst.bin"
    dest.parent.mkdir()
    dest.write_bytes(b"the old contents")
    proxy.configure([Rule(Fault.CORRUPT, 1.0, kind=Kind.RANGED_GET)], seed=0)
    row.tried += 1
    async with faulty() as s3:
        with pytest.raises((ChecksumMismatch, TransferFailed)):
            await s3.download_file(bucket, key, dest)
    row.injected = sum(proxy.injected().values())
    intact = dest.read_bytes() == b"the old contents" and leftovers(dest) == ["dst.bin"]
    row.failed_cleanly += intact
    row.bytes_lost += 0 if intact else SIZE
    assert intact


async def test_one_corrupted_range_is_fetched_again(
    proxy: FaultProxy, faulty, direct, bucket, key, tmp_path, source, reliability_row
) -> None:
    """One flipped byte in one ranged GET: the whole object is fetched once more and the right
    bytes are published; the retry is counted."""
    row = reliability_row(f"{Fault.CORRUPT} (download ranges, once)", "1 request")
    src, data = source(1)
    await direct.upload_file(src, bucket, key)
    dest = tmp_path / "out" / "dst.bin"
    dest.parent.mkdir()
    proxy.configure([Rule(Fault.CORRUPT, 1.0, kind=Kind.RANGED_GET, limit=1)], seed=0)
    row.tried += 1
    async with faulty() as s3:
        result = await s3.download_file(bucket, key, dest)
    row.injected = sum(proxy.injected().values())
    row.retries = result.retries
    ok = sha256(dest.read_bytes()) == sha256(data)
    row.completed_right_bytes += ok
    row.bytes_lost += 0 if ok else SIZE
    assert ok and leftovers(dest) == ["dst.bin"]
    assert proxy.injected()[Fault.CORRUPT] == 1 and result.retries == 1


# The indeterminate steps of a multipart upload.


@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        (Fault.RESET_RESPONSE, Kind.COMPLETE_UPLOAD),
        (Fault.STALL, Kind.COMPLETE_UPLOAD),
        (Fault.ERROR_503, Kind.CREATE_UPLOAD),
        (Fault.STALL, Kind.CREATE_UPLOAD),
        (Fault.RESET_RESPONSE, Kind.CREATE_UPLOAD),
    ],
    ids=lambda v: v.name,
)
async def test_lost_reply_of_create_or_complete(
    fault, kind, proxy: FaultProxy, faulty, direct, bucket, key, tmp_path, source, reliability_row
) -> None:
    """The first Create/Complete is answered badly (after the server acted, for stalls and
    resets): the upload still completes with the right bytes and leaves no upload behind."""
    row = reliability_row(f"{fault} ({kind}, once)", "1 request")
    src, data = source(1)
    proxy.configure([Rule(fault, 1.0, kind=kind, limit=1)], seed=0)
    row.tried += 1
    async with faulty(read_timeout=timeout_for(fault)) as s3:
        result = await s3.upload_file(src, bucket, key)
    row.injected = sum(proxy.injected().values())
    row.retries = result.retries
    ok = await stored_sha(direct, bucket, key) == sha256(data)
    row.completed_right_bytes += ok
    row.bytes_lost += 0 if ok else SIZE
    row.orphaned_uploads = len(await orphans(direct, bucket, key))
    assert ok
    assert proxy.injected()[fault] == 1
    assert row.orphaned_uploads == 0


# Cancellation.


async def test_cancel_mid_upload_leaves_no_upload(
    proxy: FaultProxy, faulty, direct, bucket, key, tmp_path, source, reliability_row
) -> None:
    row = reliability_row("cancelled after the first part", "1 transfer")
    src, _ = source(1)
    row.tried += 1
    async with faulty() as s3:
        with anyio.move_on_after(30) as scope:

            def on_event(event: object) -> None:
                if isinstance(event, PartDone):
                    scope.cancel()

            await s3.upload_file(src, bucket, key, progress=on_event)
    assert scope.cancelled_caught
    row.orphaned_uploads = len(await orphans(direct, bucket, key))
    stored = await stored_sha(direct, bucket, key)
    row.failed_cleanly += row.orphaned_uploads == 0 and stored is None
    assert row.orphaned_uploads == 0
    assert stored is None


async def test_cancel_while_create_is_in_flight_leaves_no_upload(
    proxy: FaultProxy, faulty, direct, bucket, key, tmp_path, source, reliability_row
) -> None:
    """Cancelled after the server created the upload but before its reply arrived."""
    row = reliability_row("cancelled during CreateMultipartUpload", "1 transfer")
    src, _ = source(1)
    proxy.configure([Rule(Fault.STALL, 1.0, kind=Kind.CREATE_UPLOAD, limit=1)], seed=0)
    row.tried += 1
    async with faulty() as s3:
        with anyio.move_on_after(1.0) as scope:
            await s3.upload_file(src, bucket, key)
    assert scope.cancelled_caught
    assert proxy.injected()[Fault.STALL] == 1
    row.orphaned_uploads = len(await orphans(direct, bucket, key))
    row.failed_cleanly += row.orphaned_uploads == 0
    assert row.orphaned_uploads == 0
