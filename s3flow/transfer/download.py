"""S3 -> file: HEAD, concurrent ranged GETs into a temp file, verify, atomic rename.

Guarantees: the destination path only ever holds a complete, verified file
(a failed or cancelled download removes its temp file); every GET carries
``If-Match`` on the ETag so an object replaced mid-download is detected;
each range has its own retry budget, including torn or short bodies, which
botocore never retries. Ranged GETs carry no server checksum, so we verify
what we received against the object's checksum or ETag ourselves. After a
mismatch the object is fetched once more, all of it unless the server states
each part's checksum (S3 does for composite CRCs), in which case only the
parts that differ; a second mismatch fails, and nothing is published.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypeVar

import anyio

from s3flow.backend.protocol import STREAM_BATCH, Chunks
from s3flow.errors import (
    ChecksumMismatch,
    PreconditionFailed,
    RetryableError,
    S3FlowError,
    SourceChanged,
)
from s3flow.integrity import (
    Digester,
    PartDigest,
    composite_checksum,
    crc_combine,
    digest,
    digest_chunks,
    full_checksum,
    multipart_etag,
)
from s3flow.journal import Journal, JournalHeader, journal_path
from s3flow.localfs import (
    QUICK_IO_MAX,
    describe,
    open_temp,
    pwrite_all,
    pwritev_all,
    run_io,
    run_quick_io,
    start_writeback,
    write_new_file,
)
from s3flow.models import CompletedPart, ObjectInfo, TransferResult
from s3flow.plan import PartPlan, plan_parts
from s3flow.progress import PartDone, TransferDone, TransferStarted
from s3flow.scheduler import run_bounded

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

    from s3flow.transfer.common import Transfer

__all__ = ["download_bytes", "download_file", "iter_download"]

R = TypeVar("R")

_MD5_ETAG = re.compile(r"^[0-9a-f]{32}$")
_MULTI_ETAG = re.compile(r"^[0-9a-f]{32}-(\d+)$")
# Whole parts as ranges only when there are enough of them to keep the
# connections busy; fewer, bigger parts are split and hashed from the file.
_INLINE_MD5_PARTS = 4

CheckKind = Literal["crc", "etag", "md5-whole", "size"]


@dataclass(frozen=True, slots=True)
class Check:
    """How to verify, against ``expected``.

    ``crc``: per-range CRCs folded into per-part CRCs, then the composite or
    full-object value; ``etag``: per-part MD5s into the multipart ETag;
    ``md5-whole``: one MD5; ``size``: only the length.
    """

    algorithm: str  # crc32c | crc32 | md5 | ""
    kind: CheckKind
    expected: str
    inline: bool = False  # etag: each range is one whole part, so MD5s are fed as bytes arrive

    @property
    def range_algorithm(self) -> str:
        """What to compute per range while downloading (MD5 cannot be folded)."""
        return self.algorithm if self.kind == "crc" or self.inline else ""

    @property
    def of_content(self) -> bool:
        """Whether the bytes themselves are checked (else only their number)."""
        return self.kind != "size"


# Verification is off, or the object offers nothing to verify against (e.g.
# SSE-KMS ETags are not MD5s): only the length can be checked.
SIZE_ONLY = Check("", "size", "")


@dataclass(frozen=True, slots=True)
class Layout:
    """Ranges to fetch (at most ``part_size`` each, never straddling a part) and the
    object's parts that its checksum or ETag was computed over."""

    ranges: list[PartPlan]
    parts: list[PartPlan]
    owner: list[int]  # owner[i]: index in ``parts`` of ``ranges[i]``


def _split(parts: list[PartPlan], size: int) -> Layout:
    ranges: list[PartPlan] = []
    owner: list[int] = []
    for index, part in enumerate(parts):
        for sub in plan_parts(part.size, part_size=size, max_parts=1 << 30):
            ranges.append(PartPlan(len(ranges) + 1, part.offset + sub.offset, sub.size))
            owner.append(index)
    return Layout(ranges, parts, owner)


async def _layout(t: Transfer, info: ObjectInfo, *, streamed: bool) -> tuple[Layout, Check]:
    """Choose ranges (within the upload's parts when verification needs them) and a check.

    ``streamed``: ranges go to the file as they arrive, so their size does not
    bound memory. Ranges are at most ``part_size``, even when another tool
    uploaded the object in 5 GiB parts (but see :func:`_md5_layout`).
    """
    default = _split([PartPlan(1, 0, info.size)], t.config.part_size)
    if not t.config.verify:
        return default, SIZE_ONLY
    multi = _MULTI_ETAG.match(info.etag)
    count = int(multi.group(1)) if multi else info.parts
    # A checksum or ETag computed per part is only checked over ranges within those parts.
    parts = await _part_aligned(t, info, count) if count else None
    aligned = _split(parts, t.config.part_size) if parts else None
    return _crc_layout(info, default, aligned) or _md5_layout(
        info, default, parts, aligned, streamed=streamed
    )


def _crc_layout(
    info: ObjectInfo, default: Layout, aligned: Layout | None
) -> tuple[Layout, Check] | None:
    """Verify by the object's CRC, when it has one we can check from these ranges.

    Servers differ: AWS gives "<composite>-N", some give the composite without
    its suffix, some a full-object CRC. Aligned ranges give both; a composite
    needs them.
    """
    algorithm, _, value = (info.checksum or "").partition(":")
    if value and (aligned or "-" not in value):
        return aligned or default, Check(algorithm, "crc", value.split("-")[0])
    return None


def _md5_layout(
    info: ObjectInfo,
    default: Layout,
    parts: list[PartPlan] | None,
    aligned: Layout | None,
    *,
    streamed: bool,
) -> tuple[Layout, Check]:
    """Verify by the ETag: a multipart ETag from per-part MD5s, else one MD5, else the size.

    An object uploaded in enough parts and streamed to a file is fetched a
    whole part per range, so each part's MD5 is computed in order as its bytes
    arrive instead of reading the whole file back afterwards (MD5 cannot be
    folded from pieces like a CRC).
    """
    multi = _MULTI_ETAG.match(info.etag) is not None
    if multi and parts and streamed and len(parts) >= _INLINE_MD5_PARTS:
        return Layout(parts, parts, list(range(len(parts)))), Check("md5", "etag", info.etag, True)
    if multi and aligned:
        return aligned, Check("md5", "etag", info.etag)
    if _MD5_ETAG.match(info.etag):
        return default, Check("md5", "md5-whole", info.etag)
    return default, SIZE_ONLY


async def _part_aligned(t: Transfer, info: ObjectInfo, count: int) -> list[PartPlan] | None:
    """The uploaded parts, if they were uniform (every tool uploads so)."""
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


def _fold(check: Check, layout: Layout, ranges: list[PartDigest]) -> list[PartDigest]:
    """Per-part CRCs from per-range CRCs (ranges of a part are consecutive)."""
    parts: list[PartDigest] = []
    for index, dig in zip(layout.owner, ranges, strict=True):
        if index < len(parts):
            last = parts[index]
            crc = crc_combine(check.algorithm, last.crc, dig.crc, dig.size)
            parts[index] = PartDigest(check.algorithm, last.size + dig.size, crc=crc)
        else:
            parts.append(dig)
    return parts


def _verify(
    t: Transfer,
    check: Check,
    digests: list[PartDigest],
    *,
    again: bool = False,
    streamed: bool = False,
) -> None:
    """``digests``: one per part of the layout (per-part CRCs, or MD5s; one MD5 for md5-whole).

    ``again``: this was the second fetch, so the stored object is the likely culprit.
    ``streamed``: the bytes were already handed on (:func:`iter_download`), so the
    message must not say that nothing was written.
    """
    if not check.of_content:
        return
    if check.kind == "md5-whole":
        got = digests[0].md5.hex()
    elif check.kind == "etag":
        got = multipart_etag([d.md5 for d in digests])
    else:
        # The composite is one small CRC; the full-object combine costs more.
        got = composite_checksum(digests).value.split("-")[0]
        if got != check.expected:
            got = full_checksum(digests).value
    if got != check.expected:
        if streamed:
            advice = "; the bytes already streamed are invalid: discard them and retry"
        elif again:
            advice = " twice; the stored object may be damaged, nothing was written"
        else:
            advice = "; nothing was written, retry the download"
        raise ChecksumMismatch(
            f"downloaded bytes do not match the object's {check.algorithm} "
            f"({got} != {check.expected}){advice}",
            bucket=t.bucket,
            key=t.key,
        )


async def _head(t: Transfer) -> ObjectInfo:
    return await t.retrying("HeadObject", lambda: t.backend.head_object(t.bucket, t.key))


async def _stream_range(
    t: Transfer,
    info: ObjectInfo,
    part: PartPlan,
    write: Callable[[Chunks, int], Awaitable[None]],
) -> None:
    """Hand ``part``'s bytes to ``write(chunks, offset)`` in order, under its retry budget.

    A body torn mid-way resumes from the first byte not yet written, so
    ``write`` sees every byte of the range exactly once, in order.
    """
    done = 0

    async def sink(chunks: Chunks) -> None:
        nonlocal done
        size = sum(len(c) for c in chunks)
        if done + size > part.size:  # never write into the next range's bytes
            raise RetryableError(
                f"long body: more than the {part.size} bytes asked for", bucket=t.bucket, key=t.key
            )
        await write(chunks, part.offset + done)
        done += size

    async def attempt() -> None:
        with _replaced(t):
            await t.backend.stream_range(
                t.bucket,
                t.key,
                start=part.offset + done,
                end=part.end,
                sink=sink,
                if_match=info.etag or None,
            )
        _check_length(t, done, part.size)

    if part.size:
        await t.retrying(f"range {part.number}", attempt, part_number=part.number)


@contextmanager
def _replaced(t: Transfer) -> Iterator[None]:
    """If-Match failed: the object was replaced since we looked at it."""
    try:
        yield
    except PreconditionFailed:
        raise SourceChanged(
            "object was replaced during the download; nothing was written, retry",
            bucket=t.bucket,
            key=t.key,
        ) from None


def _check_length(t: Transfer, got: int, expected: int) -> None:
    if got != expected:
        raise RetryableError(
            f"short body: got {got} of {expected} bytes", bucket=t.bucket, key=t.key
        )


async def _get_range(t: Transfer, info: ObjectInfo, part: PartPlan) -> list[bytes | bytearray]:
    """``part``'s bytes in memory, as the chunks they arrived in."""
    chunks: list[bytes | bytearray] = []

    async def keep(batch: Chunks, offset: int) -> None:
        chunks.extend(batch)

    await _stream_range(t, info, part, keep)
    return chunks


async def download_bytes(t: Transfer) -> tuple[bytes, ObjectInfo]:
    """Whole object in memory, verified."""
    info = await _head(t)
    if not info.size:
        return b"", info
    layout, check = await _layout(t, info, streamed=False)  # once, not again per fetch

    async def fetch(again: bool) -> bytes:
        data = b"".join(await _get_range(t, info, PartPlan(1, 0, info.size)))
        if check.of_content:
            view = memoryview(data)
            parts = [digest(check.algorithm, view[p.offset : p.end]) for p in layout.parts]
            _verify(t, check, parts, again=again)
        return data

    return await _twice(t, fetch), info


def _file_md5(fd: int, part: PartPlan) -> PartDigest:
    """MD5 of one part, read back from the (page-cached) temp file in 8 MiB steps."""
    h = hashlib.md5()
    for offset in range(part.offset, part.end, 8 * 1024 * 1024):
        h.update(os.pread(fd, min(8 * 1024 * 1024, part.end - offset), offset))
    return PartDigest("md5", part.size, md5=h.digest())


def _write_batch(
    fd: int,
    lock: threading.Lock,
    chunks: Chunks,
    offset: int,
    running: Digester | None,
    fsync: bool,
) -> None:
    # One writer at a time: concurrent pwrites to one file contend on the
    # inode lock, and the kernel's spinning on it cost more CPU than the copy.
    # The digest is outside the lock, so writing and hashing overlap.
    with lock:
        pwritev_all(fd, chunks, offset)
    if fsync:  # the fsync before the rename then finds most pages already written
        start_writeback(fd, offset, sum(len(c) for c in chunks))
    if running is not None:
        running.update(chunks)


class _FileSink:
    """One range's bytes into the temp file at their offset, digested as they land.

    ``done``: bytes of the range written so far; a retried attempt asks for the rest.
    :meth:`take` runs in the worker thread that receives them (no hop per batch);
    :meth:`batch` is the event-loop path's, one hop per batch.
    """

    def __init__(
        self,
        t: Transfer,
        dest: Path,
        fd: int,
        lock: threading.Lock,
        part: PartPlan,
        running: Digester | None,
        fsync: bool,
    ) -> None:
        self.t, self.dest, self.fd, self.lock = t, dest, fd, lock
        self.part, self.running, self.fsync = part, running, fsync
        self.done = 0

    def _room(self, size: int) -> None:
        if self.done + size > self.part.size:  # never write into the next range's bytes
            raise RetryableError(
                f"long body: more than the {self.part.size} bytes asked for",
                bucket=self.t.bucket,
                key=self.t.key,
            )

    def take(self, view: memoryview) -> None:
        self._room(len(view))
        offset = self.part.offset + self.done
        try:
            with self.lock:  # as _write_batch: one writer at a time
                pwrite_all(self.fd, view, offset)
            if self.fsync:
                start_writeback(self.fd, offset, len(view))
        except OSError as error:
            raise describe(error, self.dest) from error
        if self.running is not None:
            self.running.update((view,))
        self.done += len(view)

    async def batch(self, chunks: Chunks) -> None:
        size = sum(len(c) for c in chunks)
        self._room(size)
        offset = self.part.offset + self.done
        await run_io(
            self.dest, _write_batch, self.fd, self.lock, chunks, offset, self.running, self.fsync
        )
        self.done += size


async def _range_to_file(t: Transfer, info: ObjectInfo, part: PartPlan, sink: _FileSink) -> None:
    """``part`` into the file under its retry budget; a torn body resumes at ``sink.done``.

    A worker thread receives and writes it when the backend can
    (``read_range_into``), else the event loop streams it in batches.
    """
    reader = getattr(t.backend, "read_range_into", None)

    async def attempt() -> None:
        start = part.offset + sink.done
        with _replaced(t):
            got = None
            if reader is not None:
                got = await reader(
                    t.bucket,
                    t.key,
                    start=start,
                    end=part.end,
                    write=sink.take,
                    if_match=info.etag or None,
                )
            if got is None:
                await t.backend.stream_range(
                    t.bucket,
                    t.key,
                    start=start,
                    end=part.end,
                    sink=sink.batch,
                    if_match=info.etag or None,
                )
        _check_length(t, sink.done, part.size)

    if part.size:
        await t.retrying(f"range {part.number}", attempt, part_number=part.number)


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
    if not temp.is_absolute():  # written before paths were made absolute: it is beside the dest
        temp = Path(old.source).parent / temp.name
    if replace(old, temp="") == header and await anyio.Path(temp).is_file():
        return temp, set(recorded)
    await anyio.Path(temp).unlink(missing_ok=True)  # another version: start over
    return None, set()


async def download_file(
    t: Transfer,
    dest: Path,
    *,
    mtime: float | None = None,
    make_parents: bool = False,
    listed: ObjectInfo | None = None,
) -> TransferResult:
    """Download to ``dest`` atomically; see the module docstring.

    A download killed mid-way (kill -9) resumes from its temp file when the
    object's ETag is unchanged; a failed or cancelled one removes it.
    ``mtime`` sets the file's time; ``make_parents`` creates missing directories.
    ``listed``: the object's size and ETag from a listing. A single-part object
    no bigger than a part is then fetched with one GET and no HEAD: half the
    requests of a bulk download of small files.
    """
    if listed is not None and _one_get_will_do(t, listed):
        return await _download_one_range(t, dest, listed, None, mtime, make_parents)
    info = await _head(t)
    layout, check = await _layout(t, info, streamed=True)
    if len(layout.ranges) == 1:
        return await _download_one_range(t, dest, info, check, mtime, make_parents)
    t.progress(TransferStarted(t.key, info.size, len(layout.ranges)))
    # One spelling of the destination from here on, whatever the working
    # directory: the journal is found by it and names the temp file, so a
    # rerun from elsewhere resumes (and leaves no temp file beside the result).
    dest = await run_io(dest, _canonical, dest)
    journal, header = _journal(t, dest, info, layout, check)
    reuse, finished = await _resume_state(t, journal, header)
    try:
        async with open_temp(dest, info.size, reuse=reuse, make_parents=make_parents) as temp:
            if reuse is None:
                await journal.start(replace(header, temp=str(temp.path)))
            ranges = _RangesToFile(t, dest, info, layout, check, journal, temp.fd, finished)
            await _twice(t, ranges.fetch_all)
            await temp.publish(fsync=t.config.fsync)
    finally:
        journal.remove()
    if mtime is not None:
        await run_io(dest, os.utime, dest, (mtime, mtime))
    t.progress(TransferDone(t.key, info.size))
    return _result(t, info, check, len(layout.ranges), resumed=len(ranges.finished))


def _one_get_will_do(t: Transfer, listed: ObjectInfo) -> bool:
    """A listed single-part object within one range: its GET answer carries its checksum."""
    return (
        bool(listed.etag)
        and not _MULTI_ETAG.match(listed.etag)
        and listed.size <= t.config.part_size
    )


def _journal(
    t: Transfer, dest: Path, info: ObjectInfo, layout: Layout, check: Check
) -> tuple[Journal, JournalHeader]:
    """Where a ranged download records its finished ranges, and what a resume must match."""
    journal = Journal(journal_path("download", str(dest), t.endpoint, t.bucket, t.key))
    header = JournalHeader(
        source=str(dest),
        endpoint=t.endpoint,
        bucket=t.bucket,
        key=t.key,
        upload_id="",
        size=info.size,
        mtime_ns=0,
        part_size=layout.ranges[0].size,
        checksum=check.range_algorithm,
        etag=info.etag,
    )
    return journal, header


@dataclass(slots=True)
class _RangesToFile:
    """One ranged download into its temp file: what its range fetches share."""

    t: Transfer
    dest: Path
    info: ObjectInfo
    layout: Layout
    check: Check
    journal: Journal
    fd: int
    finished: set[int]  # ranges a killed run already wrote (its journal says)
    digests: dict[int, PartDigest | None] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def fetch_all(self, again: bool) -> None:
        """Every range into the file, then the check. ``again``: after a mismatch, the
        ranges again, over the temp file in place, except those of parts that match
        the server's own checksum of that part."""
        todo = self.layout.ranges
        if again:
            self.finished = set()
            good = await self._parts_vouched_for()
            todo = [r for r, i in zip(todo, self.layout.owner, strict=True) if i not in good]
        await self.t.map(todo, self.fetch)
        await self.verify(again)

    async def _parts_vouched_for(self) -> set[int]:
        """Indexes of the parts whose bytes match the server's checksum of that part.

        S3 answers a HEAD with ``partNumber`` and checksum mode with that part's
        checksum when the object has a composite one. Servers that repeat the
        object's checksum instead, or give none (SeaweedFS 4.48), vouch for
        nothing, and every range is fetched again.
        """
        check, layout = self.check, self.layout
        if check.kind != "crc" or len(layout.parts) < 2:
            return set()
        try:
            first = await self._stated_checksum(layout.parts[0])
            if first is None:
                return set()  # a server that states none: no HEAD for every other part
            stated = [first, *await self.t.map(layout.parts[1:], self._stated_checksum)]
        except S3FlowError:
            # These HEADs only save bytes: a server that refuses them (an error, a 404
            # for a part) must not fail a download that fetching it all would finish.
            return set()
        return {
            i
            for i, (d, v) in enumerate(zip(self._part_crcs(), stated, strict=True))
            if d.checksum().value == v
        }

    async def _stated_checksum(self, part: PartPlan) -> str | None:
        """The server's own checksum of one part (base64), or None if it states none."""
        t = self.t
        info = await t.retrying(
            f"HeadObject part {part.number}",
            lambda: t.backend.head_object(t.bucket, t.key, part_number=part.number),
            part_number=part.number,
        )
        if info.etag != self.info.etag:
            return None  # another version of the object: it vouches for nothing of ours
        algorithm, _, value = (info.checksum or "").partition(":")
        if algorithm != self.check.algorithm or "-" in value or value == self.check.expected:
            return None
        return value

    async def fetch(self, part: PartPlan) -> None:
        t, algorithm = self.t, self.check.range_algorithm
        if part.number in self.finished:
            self.digests[part.number] = await run_io(
                self.dest, _read_back, self.fd, part, algorithm
            )
            return
        running = Digester(algorithm) if algorithm else None
        sink = _FileSink(t, self.dest, self.fd, self.lock, part, running, t.config.fsync)
        # What is in flight per range: the batch being written and the next one filling.
        async with t.hold(min(part.size, 2 * STREAM_BATCH)):
            await _range_to_file(t, self.info, part, sink)
        self.digests[part.number] = running.result() if running is not None else None
        await self.journal.record(CompletedPart(part.number, "", None, part.size))
        t.progress(PartDone(t.key, part.number, part.size))

    def _part_crcs(self) -> list[PartDigest]:
        """Each part's CRC, folded from its ranges' (what the check and the refetch compare)."""
        found = [d for p in self.layout.ranges if (d := self.digests[p.number])]
        return _fold(self.check, self.layout, found)

    async def verify(self, again: bool) -> None:
        check, layout = self.check, self.layout
        if check.range_algorithm:
            _verify(self.t, check, self._part_crcs(), again=again)
        elif check.of_content:
            # Parts hash independently: one thread each, up to the cores we have.
            md5s = await run_bounded(
                layout.parts,
                lambda p: run_io(self.dest, _file_md5, self.fd, p),
                limit=os.cpu_count() or 1,
            )
            _verify(self.t, check, md5s, again=again)


def _canonical(dest: Path) -> Path:
    """Blocking: ``dest`` absolute, its directory with symlinks and ``..`` resolved.

    The name itself is kept: a destination that is a symlink is replaced, not followed.
    """
    return Path(os.path.realpath(dest.parent)) / dest.name


def _result(
    t: Transfer, info: ObjectInfo, check: Check, parts: int, *, resumed: int
) -> TransferResult:
    return t.result(
        size=info.size,
        parts=parts,
        etag=info.etag,
        checksum=f"{check.algorithm}:{check.expected}" if check.algorithm else None,
        resumed_parts=resumed,
    )


async def _download_one_range(
    t: Transfer,
    dest: Path,
    info: ObjectInfo,
    check: Check | None,
    mtime: float | None,
    make_parents: bool,
) -> TransferResult:
    """Small objects: fetch, then verify, write, rename and stamp in ONE thread hop.

    Each hop to a worker thread costs about as much CPU as a small object's
    own bytes; the general path takes six. The smallest objects take the lane
    instead (unless each file is fsynced: one fsync would hold up the others).
    ``check=None``: ``info`` is from a listing, not a HEAD; one plain GET
    fetches the object and its checksum.
    """
    t.progress(TransferStarted(t.key, info.size, 1))
    given = check

    async def fetch_and_write(again: bool) -> Check:
        if given is None:
            chunks, got = await _get_whole(t, info)
            check = _whole_check(t, got)
        else:
            check = given
            chunks = await _get_range(t, info, PartPlan(1, 0, info.size))
        verify = functools.partial(_verify_chunks, t, check, chunks, again)
        quick = info.size <= QUICK_IO_MAX and not t.config.fsync
        run = run_quick_io if quick else run_io
        await run(dest, write_new_file, dest, chunks, verify, mtime, make_parents, t.config.fsync)
        return check

    async with t.hold(info.size):
        check = await _twice(t, fetch_and_write)
    t.progress(PartDone(t.key, 1, info.size))
    t.progress(TransferDone(t.key, info.size))
    return _result(t, info, check, 1, resumed=0)


async def _twice(t: Transfer, attempt: Callable[[bool], Awaitable[R]]) -> R:
    """``attempt(False)``; after a checksum mismatch, ``attempt(True)`` once more.

    One object checksum cannot say which range was damaged (in transit, or on
    the disk a resume read back), so all of it is fetched again.
    """
    try:
        return await attempt(False)
    except ChecksumMismatch:
        t.retries += 1
        return await attempt(True)


def _verify_chunks(t: Transfer, check: Check, chunks: Chunks, again: bool, written: Path) -> None:
    """``write_new_file``'s check, before anything touches the disk."""
    if check.of_content:
        _verify(t, check, [digest_chunks(check.algorithm, chunks)], again=again)


async def _get_whole(t: Transfer, listed: ObjectInfo) -> tuple[list[bytes | bytearray], ObjectInfo]:
    """The whole object in one plain GET, and what its answer says (the checksum among it)."""

    async def attempt() -> tuple[list[bytes | bytearray], ObjectInfo]:
        chunks: list[bytes | bytearray] = []
        size = 0

        async def keep(batch: Chunks) -> None:
            nonlocal size
            chunks.extend(batch)
            size += sum(len(c) for c in batch)
            if size > listed.size:
                raise RetryableError("long body", bucket=t.bucket, key=t.key)

        with _replaced(t):
            got = await t.backend.stream_range(
                t.bucket, t.key, start=0, end=None, sink=keep, if_match=listed.etag or None
            )
        _check_length(t, size, listed.size)
        return chunks, got

    return await t.retrying("GET", attempt, part_number=1)


def _whole_check(t: Transfer, got: ObjectInfo) -> Check:
    """How to verify a whole-object GET: its full-object CRC, else its MD5 ETag."""
    algorithm, _, value = (got.checksum or "").partition(":")
    if not t.config.verify:
        return SIZE_ONLY
    if value and "-" not in value:
        return Check(algorithm, "crc", value)
    if _MD5_ETAG.match(got.etag):
        return Check("md5", "md5-whole", got.etag)
    return SIZE_ONLY


async def iter_download(t: Transfer) -> AsyncIterator[bytes]:
    """Stream the object in order (stdout, cross-endpoint copies), ``max_concurrency`` ranges ahead.

    Verified like :func:`download_file`, but only once everything has been
    yielded: a mismatch raises ChecksumMismatch at the end, so a consumer that
    stores the stream (e.g. a multipart upload) aborts instead of completing.
    """
    info = await _head(t)
    layout, check = await _layout(t, info, streamed=False)
    seen = _InOrder(t, layout, check)
    window = max(1, t.config.max_concurrency)
    for start in range(0, len(layout.ranges), window):
        batch = layout.ranges[start : start + window]
        fetched = await run_bounded(batch, lambda p: _get_range(t, info, p), limit=window)
        for part, chunks in zip(batch, fetched, strict=True):
            await seen.feed(part, chunks)
            for chunk in chunks:
                yield bytes(chunk) if isinstance(chunk, bytearray) else chunk
    seen.verify()


@dataclass(slots=True)
class _InOrder:
    """A streamed download's check, fed its ranges in order: CRCs per range, or MD5s per part."""

    t: Transfer
    layout: Layout
    check: Check
    crcs: list[PartDigest] = field(default_factory=list)
    md5s: list[Digester] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.check.algorithm == "md5":
            self.md5s = [Digester("md5") for _ in self.layout.parts]

    async def feed(self, part: PartPlan, chunks: list[bytes | bytearray]) -> None:
        if algorithm := self.check.range_algorithm:
            self.crcs.append(await anyio.to_thread.run_sync(digest_chunks, algorithm, chunks))
        if self.md5s:  # ranges come in order, so each part's MD5 is fed in order
            self.md5s[self.layout.owner[part.number - 1]].update(chunks)

    def verify(self) -> None:
        check, layout = self.check, self.layout
        if check.range_algorithm:
            _verify(self.t, check, _fold(check, layout, self.crcs), streamed=True)
        elif self.md5s:
            _verify(self.t, check, [md5.result() for md5 in self.md5s], streamed=True)
