"""Server-side copy: one CopyObject up to 5 GiB, parallel UploadPartCopy above."""

from __future__ import annotations

import time

from s3flow.config import MAX_PART_SIZE
from s3flow.models import CompletedPart, ObjectOptions, TransferResult
from s3flow.plan import PartPlan, plan_parts
from s3flow.transfer.common import Transfer, create_upload, shielded

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
    started = time.monotonic()
    info = await t.retrying("HeadObject", lambda: t.backend.head_object(source_bucket, source_key))
    if info.size <= single_limit:
        done = await t.retrying(
            "CopyObject",
            lambda: t.backend.copy_object(
                source_bucket, source_key, t.bucket, t.key, options=options
            ),
        )
        return TransferResult(
            bucket=t.bucket,
            key=t.key,
            size=info.size,
            parts=1,
            retries=t.retries,
            elapsed=time.monotonic() - started,
            etag=done.etag,
        )
    plan = plan_parts(info.size, part_size=part_size)
    upload_id = await create_upload(t, options=options, checksum_algorithm=None)
    try:
        parts = await t.map(plan, lambda p: _copy_part(t, upload_id, source_bucket, source_key, p))
        result = await t.retrying(
            "CompleteMultipartUpload",
            lambda: t.backend.complete_multipart_upload(t.bucket, t.key, upload_id, parts),
        )
    except BaseException:
        await shielded(lambda: t.backend.abort_multipart_upload(t.bucket, t.key, upload_id))
        raise
    return TransferResult(
        bucket=t.bucket,
        key=t.key,
        size=info.size,
        parts=len(plan),
        retries=t.retries,
        elapsed=time.monotonic() - started,
        etag=result.etag,
    )


async def _copy_part(
    t: Transfer, upload_id: str, bucket: str, key: str, part: PartPlan
) -> CompletedPart:
    return await t.retrying(
        f"part {part.number}",
        lambda: t.backend.upload_part_copy(
            t.bucket, t.key, upload_id, part.number, bucket, key, part.offset, part.end
        ),
        part_number=part.number,
    )
