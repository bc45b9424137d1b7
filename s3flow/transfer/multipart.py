"""One multipart upload's lifecycle: create, send parts, complete, or abort.

Every transfer kind that writes in parts (file, stream, copy) goes through
:func:`multipart_upload`, so none can forget the abort that keeps a failed or
cancelled transfer from leaving an orphaned upload (and its storage bill) on
the server::

    async with multipart_upload(t, options=options, checksum_algorithm="crc32c") as upload:
        parts = await t.map(plan, send)
        info = await upload.complete(parts)
"""

from __future__ import annotations

import time
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

import anyio

from s3flow.errors import UploadNotFound
from s3flow.transfer.common import ABORT_TIMEOUT, shielded
from s3flow.transfer.noclobber import Conditional

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

    from s3flow.models import Checksum, CompletedPart, ObjectInfo, ObjectOptions
    from s3flow.plan import PartPlan
    from s3flow.transfer.common import Transfer

__all__ = ["MultipartUpload", "abort_upload", "multipart_upload"]

CLOCK_SKEW = 60.0  # seconds we allow between our clock and the server's


@dataclass(frozen=True, slots=True)
class MultipartUpload:
    """An upload in progress: its parts, each under its own retry budget, and its completion."""

    t: Transfer
    upload_id: str

    async def upload_part(
        self, number: int, data: bytes | bytearray, checksum: Checksum | None
    ) -> CompletedPart:
        t = self.t
        return await t.retrying(
            f"part {number}",
            lambda: t.backend.upload_part(
                t.bucket, t.key, self.upload_id, number, data, checksum=checksum
            ),
            part_number=number,
        )

    async def copy_part(self, part: PartPlan, bucket: str, key: str) -> CompletedPart:
        """UploadPartCopy of ``part``'s byte range of ``s3://bucket/key``."""
        t = self.t
        return await t.retrying(
            f"part {part.number}",
            lambda: t.backend.upload_part_copy(
                t.bucket, t.key, self.upload_id, part.number, bucket, key, part.offset, part.end
            ),
            part_number=part.number,
        )

    async def complete(
        self,
        parts: list[CompletedPart],
        *,
        no_clobber: bool = False,
        ours: Callable[[ObjectInfo], Awaitable[bool]] | None = None,
    ) -> ObjectInfo:
        """CompleteMultipartUpload under one retry budget.

        With ``ours`` (whether a stored object provably has our parts), a
        reply lost on the way back is resolved instead of failing: a retry's
        412 by :class:`Conditional`, and a retry's NoSuchUpload (the earlier
        attempt completed) by HEAD, whose answer the caller then verifies.
        """
        t = self.t
        conditional = Conditional(t, no_clobber and ours is not None, ours or _never)
        attempts = 0

        async def attempt() -> ObjectInfo:
            nonlocal attempts
            attempts += 1
            try:
                return await conditional.attempt(
                    lambda: t.backend.complete_multipart_upload(
                        t.bucket, t.key, self.upload_id, parts, if_none_match=no_clobber
                    )
                )
            except UploadNotFound:
                if attempts == 1 or ours is None:
                    raise
                return await t.backend.head_object(t.bucket, t.key)

        return await t.retrying("CompleteMultipartUpload", attempt)


@asynccontextmanager
async def multipart_upload(
    t: Transfer,
    *,
    options: ObjectOptions | None,
    checksum_algorithm: str | None,
    upload_id: str | None = None,
    on_aborted: Callable[[], object] | None = None,
) -> AsyncIterator[MultipartUpload]:
    """``async with multipart_upload(t, …) as upload:`` an upload that is aborted on any exception.

    ``upload_id``: continue this upload (a resumed one) instead of creating one.
    ``on_aborted``: run once the abort has provably reached the server; when it
    has not (the server is gone for now), whatever the caller keeps to retry
    later (an upload's journal) must stay.
    """
    if upload_id is None:
        upload_id = await create_upload(t, options=options, checksum_algorithm=checksum_algorithm)
    try:
        yield MultipartUpload(t, upload_id)
    except BaseException:
        if await abort_upload(t, upload_id) and on_aborted is not None:
            on_aborted()
        raise


async def abort_upload(t: Transfer, upload_id: str) -> bool:
    """AbortMultipartUpload, shielded and bounded; returns whether the upload is gone."""
    return await shielded(partial(t.backend.abort_multipart_upload, t.bucket, t.key, upload_id))


async def create_upload(
    t: Transfer, *, options: ObjectOptions | None, checksum_algorithm: str | None
) -> str:
    """CreateMultipartUpload, shielded, and never leaving a twin behind.

    Shielded: a cancel that lands while the request is in flight would leave an
    upload on the server whose id we never learned. And when an attempt fails
    after the server acted (reply lost to a reset or a stall), the retry makes
    a second upload: we then abort this key's other uploads started within
    that window, which can only be our lost attempts (or a concurrent writer
    of the very same key, whose write would race ours anyway).
    """
    attempts = 0
    started = time.time()

    async def attempt() -> str:
        nonlocal attempts
        attempts += 1
        return await t.backend.create_multipart_upload(
            t.bucket, t.key, options=options, checksum_algorithm=checksum_algorithm
        )

    with anyio.fail_after(ABORT_TIMEOUT, shield=True):
        upload_id = await t.retrying("CreateMultipartUpload", attempt)
        if attempts > 1:
            await _abort_lost_twins(t, upload_id, since=started - CLOCK_SKEW)
    return upload_id


async def _abort_lost_twins(t: Transfer, upload_id: str, *, since: float) -> None:
    token: tuple[str, str] | None = None
    while True:
        uploads, token = await t.backend.list_uploads_page(t.bucket, prefix=t.key, token=token)
        for upload in uploads:
            if upload.key != t.key or upload.upload_id == upload_id:
                continue
            if upload.initiated is not None and upload.initiated.timestamp() >= since:
                await abort_upload(t, upload.upload_id)
        if token is None:
            return


async def _never(_: ObjectInfo) -> bool:
    return False
