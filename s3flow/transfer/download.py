"""S3 -> file: HEAD, concurrent ranged GETs into a temp file, verify, atomic rename.

Guarantees: the destination path only ever holds a complete, verified file
(a failed or cancelled download removes its temp file); every GET carries
``If-Match`` on the ETag so an object replaced mid-download is detected;
each range has its own retry budget, including torn or short bodies, which
botocore never retries. Ranged GETs carry no server checksum, so we verify
what we received against the object's checksum or ETag ourselves.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import anyio

from s3flow.errors import ChecksumMismatch, PreconditionFailed, RetryableError, SourceChanged
from s3flow.integrity import (
    PartDigest,
    composite_checksum,
    digest,
    digest_chunks,
    full_checksum,
    multipart_etag,
)
from s3flow.journal import Journal, JournalHeader, journal_path
from s3flow.localfs import open_temp, pwritev_all, run_io
from s3flow.models import CompletedPart, ObjectInfo, TransferResult
from s3flow.plan import PartPlan, plan_parts
from s3flow.progress import PartDone, TransferDone, TransferStarted
from s3flow.scheduler import run_bounded

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from s3flow.transfer.common import Transfer

__all__ = ["download_bytes", "download_file", "iter_download"]

_MD5_ETAG = re.compile(r"^[0-9a-f]{32}$")
_MULTI_ETAG = re.compile(r"^[0-9a-f]{32}-(\d+)$")


@dataclass(frozen=True, slots=True)
class Check:
    """How to verify: per-range ``algorithm`` digests folded by ``kind``, against ``expected``."""

    algorithm: str  # crc32c | crc32 | md5 | "" (size only)
    kind: str  # crc (full or composite) | etag | md5-whole | size
    expected: str


async def _layout(t: Transfer, info: ObjectInfo) -> tuple[list[PartPlan], Check]:
    """Choose ranges (aligned to the upload's parts when we must) and how to verify."""
    default = plan_parts(info.size, part_size=t.config.part_size)
    if not t.config.verify:
        return default, Check("", "size", "")
    algorithm, _, value = (info.checksum or "").partition(":")
    multi = _MULTI_ETAG.match(info.etag)
    count = int(multi.group(1)) if multi else info.parts
    aligned = await _part_aligned(t, info, count) if count else None
    if value and (aligned or "-" not in value):
        # Servers differ: AWS gives "<composite>-N", some give the composite
        # without its suffix, some a full-object CRC. Aligned ranges give both.
        return aligned or default, Check(algorithm, "crc", value.split("-")[0])
    if multi and aligned:
        return aligned, Check("md5", "etag", info.etag)
    if _MD5_ETAG.match(info.etag):
        return default, Check("md5", "md5-whole", info.etag)
    return default, Check("", "size", "")  # e.g. SSE-KMS ETags are not MD5s


async def _part_aligned(t: Transfer, info: ObjectInfo, count: int) -> list[PartPlan] | None:
    """Ranges equal to the uploaded parts, if they were uniform (every tool uploads so)."""
    first = await t.retrying(
        "HeadObject part 1", lambda: t.backend.head_object(t.bucket, t.key, part_number=1)
    )
    size = first.size
    if size <= 0 or -(-info.size // size) != count:
        return None
    return [
        PartPlan(n, off, min(size, info.size - off))
        for n, off in enumerate(range(0, info.size, size), start=1)
    ]


def _verify(t: Transfer, check: Check, digests: list[PartDigest], whole_md5: str | None) -> None:
    if check.kind == "size":
        return
    if check.kind == "md5-whole":
        got = whole_md5 or ""
    elif check.kind == "etag":
        got = multipart_etag([d.md5 for d in digests])
    else:
        # The composite is one small CRC; the full-object combine costs more.
        got = composite_checksum(digests).value.split("-")[0]
        if got != check.expected:
            got = full_checksum(digests).value
    if got != check.expected:
        raise ChecksumMismatch(
            f"downloaded bytes do not match the object's {check.algorithm} "
            f"({got} != {check.expected}); nothing was written, retry the download",
            bucket=t.bucket,
            key=t.key,
        )


async def _head(t: Transfer) -> ObjectInfo:
    return await t.retrying("HeadObject", lambda: t.backend.head_object(t.bucket, t.key))


async def _get_range(t: Transfer, info: ObjectInfo, part: PartPlan) -> list[bytes]:
    async def attempt() -> list[bytes]:
        try:
            chunks = await t.backend.read_range(
                t.bucket, t.key, start=part.offset, end=part.end, if_match=info.etag or None
            )
        except PreconditionFailed:
            raise SourceChanged(
                "object was replaced during the download; nothing was written, retry",
                bucket=t.bucket,
                key=t.key,
            ) from None
        got = sum(len(c) for c in chunks)
        if got != part.size:
            raise RetryableError(
                f"short body: got {got} of {part.size} bytes", bucket=t.bucket, key=t.key
            )
        return chunks

    if part.size == 0:
        return []
    return await t.retrying(f"range {part.number}", attempt, part_number=part.number)


async def download_bytes(t: Transfer) -> tuple[bytes, ObjectInfo]:
    """Whole object in memory, verified."""
    info = await _head(t)
    data = b"".join(await _get_range(t, info, PartPlan(1, 0, info.size)))
    ranges, check = await _layout(t, info) if info.size else ([], Check("", "size", ""))
    if check.kind != "size":
        digests = [digest(check.algorithm, data[p.offset : p.end]) for p in ranges]
        whole = hashlib.md5(data).hexdigest() if check.kind == "md5-whole" else None
        _verify(t, check, digests, whole)
    return data, info


def _file_md5(fd: int, size: int) -> str:
    h = hashlib.md5()
    for offset in range(0, size, 8 * 1024 * 1024):
        h.update(os.pread(fd, 8 * 1024 * 1024, offset))
    return h.hexdigest()


def _write_and_digest(
    fd: int, chunks: list[bytes], offset: int, algorithm: str
) -> PartDigest | None:
    pwritev_all(fd, chunks, offset)
    return digest_chunks(algorithm, chunks) if algorithm else None


def _read_back(fd: int, part: PartPlan, algorithm: str) -> PartDigest | None:
    data = os.pread(fd, part.size, part.offset)
    return digest(algorithm, data) if algorithm else None


async def _resume_state(
    t: Transfer, journal: Journal, header: JournalHeader
) -> tuple[Path | None, set[int]]:
    """The temp file and finished ranges of a killed download of this same object version."""
    old, recorded = await journal.load()
    if old is None:
        return None, set()
    temp = Path(old.temp)
    if replace(old, temp="") == header and await anyio.Path(temp).is_file():
        return temp, set(recorded)
    await anyio.Path(temp).unlink(missing_ok=True)  # another version: start over
    return None, set()


async def download_file(t: Transfer, dest: Path) -> TransferResult:
    """Download to ``dest`` atomically; see the module docstring.

    A download killed mid-way (kill -9) resumes from its temp file when the
    object's ETag is unchanged; a failed or cancelled one removes it.
    """
    started = time.monotonic()
    info = await _head(t)
    ranges, check = await _layout(t, info)
    t.progress(TransferStarted(t.key, info.size, len(ranges)))
    algorithm = check.algorithm if check.kind != "md5-whole" else ""
    target = str(await anyio.Path(dest).absolute())
    journal = Journal(journal_path("download", target, t.endpoint, t.bucket, t.key))
    header = JournalHeader(
        source=target,
        endpoint=t.endpoint,
        bucket=t.bucket,
        key=t.key,
        upload_id="",
        size=info.size,
        mtime_ns=0,
        part_size=ranges[0].size,
        checksum=algorithm,
        etag=info.etag,
    )
    # A one-range download has nothing to resume: skip the journal's file
    # create, fsync and unlink, which dominate small-object downloads.
    resumable = len(ranges) > 1
    reuse, finished = await _resume_state(t, journal, header) if resumable else (None, set())
    digests: dict[int, PartDigest | None] = {}
    # One writer at a time: concurrent pwrites to one file contend on the
    # inode lock, and the kernel's spinning on it cost more CPU than the copy.
    writing = anyio.Lock()
    try:
        async with open_temp(dest, info.size, reuse=reuse) as temp:
            if resumable and reuse is None:
                await journal.start(replace(header, temp=str(temp.path)))

            async def fetch(part: PartPlan) -> None:
                if part.number in finished:
                    digests[part.number] = await run_io(dest, _read_back, temp.fd, part, algorithm)
                    return
                await t.hold(part.size)
                try:
                    chunks = await _get_range(t, info, part)
                    async with writing:
                        digests[part.number] = await run_io(
                            dest, _write_and_digest, temp.fd, chunks, part.offset, algorithm
                        )
                    del chunks
                finally:
                    await t.unhold(part.size)
                if resumable:
                    await journal.record(CompletedPart(part.number, "", None, part.size))
                t.progress(PartDone(t.key, part.number, part.size))

            await t.map(ranges, fetch)
            whole = None
            if check.kind == "md5-whole":
                whole = await run_io(dest, _file_md5, temp.fd, info.size)
            _verify(t, check, [d for p in ranges if (d := digests[p.number])], whole)
            await temp.publish()
    finally:
        if resumable:
            journal.remove()
    t.progress(TransferDone(t.key, info.size))
    return TransferResult(
        bucket=t.bucket,
        key=t.key,
        size=info.size,
        parts=len(ranges),
        retries=t.retries,
        elapsed=time.monotonic() - started,
        etag=info.etag,
        checksum=f"{check.algorithm}:{check.expected}" if check.algorithm else None,
        resumed_parts=len(finished),
    )


async def iter_download(t: Transfer) -> AsyncIterator[bytes]:
    """Stream the object in order (stdout, cross-endpoint copies), ``max_concurrency`` ranges ahead.

    Verified like :func:`download_file`, but only once everything has been
    yielded: a mismatch raises ChecksumMismatch at the end, so a consumer that
    stores the stream (e.g. a multipart upload) aborts instead of completing.
    """
    info = await _head(t)
    ranges, check = await _layout(t, info)
    whole = hashlib.md5() if check.kind == "md5-whole" else None
    algorithm = "" if whole is not None else check.algorithm
    digests: list[PartDigest] = []
    window = max(1, t.config.max_concurrency)
    for start in range(0, len(ranges), window):
        batch = ranges[start : start + window]
        for chunks in await run_bounded(batch, lambda p: _get_range(t, info, p), limit=window):
            if algorithm:
                digests.append(await anyio.to_thread.run_sync(digest_chunks, algorithm, chunks))
            for chunk in chunks:
                if whole is not None:
                    whole.update(chunk)
                yield chunk
    _verify(t, check, digests, whole.hexdigest() if whole is not None else None)
