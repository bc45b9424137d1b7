"""Server-side copy: one CopyObject up to 5 GiB, parallel UploadPartCopy above."""

from __future__ import annotations

from typing import TYPE_CHECKING

from s3flow.config import MAX_PART_SIZE
from s3flow.plan import plan_parts
from s3flow.transfer.multipart import multipart_upload

if TYPE_CHECKING:
    from s3flow.models import ObjectOptions, TransferResult
    from s3flow.transfer.common import Transfer

__all__ = ["copy_object"]


async def copy_object(
    t: Transfer,
    source_bucket: str,
    source_key: str,
    *,
    options: ObjectOptions | None = None,
    part_size: int = 512 * 1024 * 1024,
    single_limit: int = MAX_PART_SIZE,
) -> TransferResult:
    """Copy ``s3://source_bucket/source_key`` to ``s3://t.bucket/t.key`` inside the server.

    CopyObject up to ``single_limit`` (S3's 5 GiB), parallel UploadPartCopy above.
    """
    info = await t.retrying(
        "HeadObject", lambda: t.backend.head_object(source_bucket, source_key, copy_source=True)
    )
    if info.size <= single_limit:
        done = await t.retrying(
            "CopyObject",
            lambda: t.backend.copy_object(
                source_bucket, source_key, t.bucket, t.key, options=options
            ),
        )
        return t.result(size=info.size, parts=1, etag=done.etag)
    plan = plan_parts(info.size, part_size=part_size)
    async with multipart_upload(t, options=options, checksum_algorithm=None) as upload:
        parts = await t.map(plan, lambda p: upload.copy_part(p, source_bucket, source_key))
        result = await upload.complete(parts)
    return t.result(size=info.size, parts=len(plan), etag=result.etag)
