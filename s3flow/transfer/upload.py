"""File -> S3: one PutObject below the threshold, else a concurrent multipart upload.

Guarantees: each part has its own retry budget; any failure or cancellation
aborts the multipart upload (shielded, :func:`multipart_upload`), so none is
left behind (when the abort cannot reach the server, the journal is kept
instead, so the rerun resumes that upload, or aborts it when not resuming); the source
changing mid-upload fails the transfer; the completed object is checked
against the locally computed composite checksum or multipart ETag; with a
journal, a killed upload resumes without re-sending finished parts.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import replace
from typing import TYPE_CHECKING

import anyio

from s3flow.errors import (
    ChecksumMismatch,
    ObjectExists,
    ObjectNotFound,
    SourceChanged,
    UploadNotFound,
)
from s3flow.integrity import PartDigest, composite_checksum, digest, full_checksum, multipart_etag
from s3flow.journal import Journal, JournalHeader, journal_path
from s3flow.localfs import (
    QUICK_IO_MAX,
    FileIdentity,
    identify,
    open_for_read,
    read_small,
    run_io,
    run_quick_io,
)
from s3flow.plan import PartPlan, plan_parts
from s3flow.progress import PartDone, TransferDone, TransferStarted
from s3flow.transfer.multipart import abort_upload, multipart_upload
from s3flow.transfer.noclobber import Conditional

if TYPE_CHECKING:
    from pathlib import Path

    from s3flow.models import CompletedPart, ObjectInfo, ObjectOptions, TransferResult
    from s3flow.transfer.common import Transfer

__all__ = ["upload_bytes", "upload_file"]


def _read_and_digest(
    fd: int, part: PartPlan, algorithm: str, data: bytearray | None = None
) -> tuple[bytearray, PartDigest]:
    # A bytearray, not bytes: botocore wraps a bytes body in BytesIO, and
    # aiohttp's getbuffer() on that copies every part once more.
    data = bytearray(part.size) if data is None else data
    view = memoryview(data)
    done = 0
    while done < part.size:
        n = os.preadv(fd, [view[done:]], part.offset + done)
        if n == 0:
            raise OSError(f"file shrank: wanted {part.size} bytes at {part.offset}")
        done += n
    return data, digest(algorithm, data)


async def upload_bytes(
    t: Transfer,
    data: bytes,
    *,
    options: ObjectOptions | None = None,
    no_clobber: bool = False,
    part: PartDigest | None = None,
) -> TransferResult:
    """One PutObject with a server-verified checksum and its own retry budget.

    ``part``: the checksum already computed (with ``t.config.checksum``), if it was.
    """
    t.progress(TransferStarted(t.key, len(data), 1))
    algorithm = t.config.checksum
    if part is None and algorithm != "none":
        part = await anyio.to_thread.run_sync(digest, algorithm, data)
    sent = part

    async def ours(info: ObjectInfo) -> bool:
        if sent is not None and sent.algorithm != "md5" and info.checksum == str(sent.checksum()):
            return True
        if sent is not None and sent.algorithm == "md5":
            return info.etag == sent.md5.hex()
        return info.etag == (await anyio.to_thread.run_sync(_md5, data)).hex()

    conditional = Conditional(t, no_clobber, ours)
    info = await t.retrying(
        "PutObject",
        lambda: conditional.attempt(
            lambda: t.backend.put_object(
                t.bucket,
                t.key,
                data,
                checksum=sent.checksum() if sent else None,
                options=options,
                if_none_match=no_clobber,
            )
        ),
    )
    t.progress(PartDone(t.key, 1, len(data)))
    t.progress(TransferDone(t.key, len(data)))
    return t.result(
        size=len(data),
        parts=1,
        etag=info.etag,
        checksum=str(part.checksum()) if part else None,
    )


async def upload_file(
    t: Transfer,
    path: Path,
    *,
    options: ObjectOptions | None = None,
    resume: bool = False,
    no_clobber: bool = False,
    listed_size: int | None = None,
) -> TransferResult:
    """Upload ``path`` to ``s3://t.bucket/t.key``; see the module docstring.

    ``listed_size``: the size a directory walk saw; small files are then read on
    the lane (:func:`s3flow.localfs.run_quick_io`).
    """
    limit, algorithm = t.config.multipart_threshold, t.config.checksum
    quick = listed_size is not None and listed_size <= QUICK_IO_MAX
    run = run_quick_io if quick else run_io
    identity, data, part = await run(path, _read_small_and_digest, path, limit, algorithm)
    if identity.size < 0:
        raise _changed(path, t)
    if data is not None:
        return await upload_bytes(t, data, options=options, no_clobber=no_clobber, part=part)
    if no_clobber:
        await _refuse_existing(t)  # fail before sending gigabytes; the conditional write stays
    return await _multipart(t, path, identity, options, resume, no_clobber)


def _md5(data: bytes) -> bytes:
    return hashlib.md5(data, usedforsecurity=False).digest()


def _read_small_and_digest(
    path: Path, limit: int, algorithm: str
) -> tuple[FileIdentity, bytes | None, PartDigest | None]:
    """Blocking: :func:`read_small`, and the small file's checksum, in one thread hop."""
    identity, data = read_small(path, limit)
    if data is None or algorithm == "none":
        return identity, data, None
    return identity, data, digest(algorithm, data)


async def _refuse_existing(t: Transfer) -> None:
    try:
        await t.retrying("HeadObject", lambda: t.backend.head_object(t.bucket, t.key))
    except ObjectNotFound:
        return
    raise ObjectExists(
        "object already exists and no-clobber is set; nothing was overwritten",
        bucket=t.bucket,
        key=t.key,
    )


async def _check_unchanged(path: Path, identity: FileIdentity, t: Transfer) -> None:
    if await identify(path) != identity:
        raise _changed(path, t)


def _changed(path: Path, t: Transfer) -> SourceChanged:
    return SourceChanged(
        f"local file {path} changed while it was being uploaded; nothing was stored, "
        "retry once it is stable",
        bucket=t.bucket,
        key=t.key,
    )


async def _multipart(
    t: Transfer,
    path: Path,
    identity: FileIdentity,
    options: ObjectOptions | None,
    resume: bool,
    no_clobber: bool,
) -> TransferResult:
    plan = plan_parts(identity.size, part_size=t.config.part_size)
    algorithm = t.config.checksum
    if algorithm == "none":
        algorithm = "md5"  # we still need something to verify the result against
    source = str(await anyio.Path(path).absolute())
    journal = Journal(journal_path("upload", source, t.endpoint, t.bucket, t.key))
    header = JournalHeader(
        source=source,
        endpoint=t.endpoint,
        bucket=t.bucket,
        key=t.key,
        upload_id="",
        size=identity.size,
        mtime_ns=identity.mtime_ns,
        part_size=plan[0].size,
        checksum=algorithm,
    )
    resumed, done = await _resumable(t, journal, header, resume)
    digests: dict[int, PartDigest] = {}
    # When the abort cannot reach the server (which may be gone for now), the
    # journal stays: it lets a rerun resume the upload, or abort it when
    # resuming is off.
    async with multipart_upload(
        t,
        options=options,
        checksum_algorithm=algorithm if algorithm != "md5" else None,
        upload_id=resumed,
        on_aborted=journal.remove,
    ) as upload:
        if resumed is None:
            await journal.start(replace(header, upload_id=upload.upload_id))
        t.progress(TransferStarted(t.key, identity.size, len(plan)))
        async with open_for_read(path) as fd:
            done = await _confirm_finished(t, fd, plan, done, algorithm, digests)

            async def send(part: PartPlan) -> CompletedPart:
                if part.number in done:
                    return done[part.number]
                async with t.buffer(part.size) as buffer:
                    data, dig = await run_io(path, _read_and_digest, fd, part, algorithm, buffer)
                    digests[part.number] = dig
                    sent = await upload.upload_part(part.number, data, dig.checksum())
                await journal.record(sent)
                t.progress(PartDone(t.key, part.number, part.size))
                return sent

            parts = await t.map(plan, send)
        await _check_unchanged(path, identity, t)
        ordered = [digests[p.number] for p in plan]

        async def ours(info: ObjectInfo) -> bool:
            return _is_ours(info, ordered)

        info = await upload.complete(parts, no_clobber=no_clobber, ours=ours)
        checksum = _verify_result(t, info, ordered, parts)
    journal.remove()
    t.progress(TransferDone(t.key, identity.size))
    return t.result(
        size=identity.size,
        parts=len(plan),
        etag=info.etag,
        checksum=checksum,
        resumed_parts=sum(1 for p in plan if p.number in done),
    )


async def _resumable(
    t: Transfer, journal: Journal, header: JournalHeader, resume: bool
) -> tuple[str | None, dict[int, CompletedPart]]:
    """The journaled upload and its finished parts, when it can be continued; else ``None``."""
    old, recorded = await journal.load()
    if old is None:
        return None, {}
    if resume and replace(old, upload_id="") == header:
        done = await _still_on_server(t, old.upload_id, recorded)
        if done is not None:
            return old.upload_id, done
    # The file changed (or resume is off, or the upload is gone): it can never complete.
    await abort_upload(t, old.upload_id)
    return None, {}


async def _still_on_server(
    t: Transfer, upload_id: str, recorded: dict[int, CompletedPart]
) -> dict[int, CompletedPart] | None:
    """The recorded parts the server still holds as sent; None when the upload is gone."""
    try:
        listed = await t.retrying(
            "ListParts", lambda: t.backend.list_parts(t.bucket, t.key, upload_id)
        )
    except UploadNotFound:
        return None
    on_server = {p.number: p for p in listed}
    return {n: p for n, p in recorded.items() if n in on_server and on_server[n].etag == p.etag}


async def _confirm_finished(
    t: Transfer,
    fd: int,
    plan: list[PartPlan],
    done: dict[int, CompletedPart],
    algorithm: str,
    digests: dict[int, PartDigest],
) -> dict[int, CompletedPart]:
    """Re-read parts the journal says are finished; keep only those whose bytes still match."""
    confirmed: dict[int, CompletedPart] = {}
    for part in plan:
        sent = done.get(part.number)
        if sent is None or sent.size != part.size:
            continue
        _, dig = await anyio.to_thread.run_sync(_read_and_digest, fd, part, algorithm)
        if algorithm == "md5" and sent.etag != dig.md5.hex():
            continue
        if algorithm != "md5" and sent.checksum != dig.checksum():
            continue
        digests[part.number] = dig
        confirmed[part.number] = sent
    return confirmed


def _is_ours(info: ObjectInfo, digests: list[PartDigest]) -> bool:
    """Whether the stored object provably has our parts (a positive match, not "no mismatch")."""
    if digests[0].algorithm == "md5":
        return info.etag == multipart_etag([d.md5 for d in digests])
    algo, value = _stored_checksum(info)
    return algo == digests[0].algorithm and _same_checksum(value, digests)


def _stored_checksum(info: ObjectInfo) -> tuple[str, str]:
    """The stored checksum's algorithm and value ("" when none), without any "-N"."""
    algo, _, value = (info.checksum or "").partition(":")
    return algo, value.split("-")[0]  # some servers drop the "-N" of a composite


def _same_checksum(value: str, digests: list[PartDigest]) -> bool:
    # Servers store the composite of the parts' checksums, or a full-object CRC.
    return (
        value == composite_checksum(digests).value.split("-")[0]
        or value == full_checksum(digests).value
    )


def _verify_result(
    t: Transfer, info: ObjectInfo, digests: list[PartDigest], parts: list[CompletedPart]
) -> str | None:
    """Compare the stored object with what we computed locally. Returns our checksum."""
    algorithm = digests[0].algorithm
    if algorithm == "md5":
        expected = multipart_etag([d.md5 for d in digests])
        if info.etag and "-" in info.etag and info.etag != expected:
            raise ChecksumMismatch(
                f"stored object's ETag {info.etag} does not match the local {expected}",
                bucket=t.bucket,
                key=t.key,
            )
        return f"etag:{expected}"
    composite = composite_checksum(digests)
    algo, value = _stored_checksum(info)
    if algo == algorithm and not _same_checksum(value, digests):
        raise ChecksumMismatch(
            f"stored object's {algo} {value} does not match the local {composite.value}",
            bucket=t.bucket,
            key=t.key,
        )
    return str(composite)
