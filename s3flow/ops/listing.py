"""Lazy, paginated listing."""

from __future__ import annotations

from typing import TYPE_CHECKING

from s3flow.models import ObjectInfo, UploadInfo

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from s3flow.backend.protocol import S3Backend

__all__ = ["list_objects", "list_uploads"]


async def list_objects(
    backend: S3Backend,
    bucket: str,
    *,
    prefix: str = "",
    delimiter: str | None = None,
    start_after: str | None = None,
) -> AsyncIterator[ObjectInfo]:
    """Yield objects (and, with a delimiter, common prefixes as ``is_prefix=True``) page by page."""
    token: str | None = None
    while True:
        page = await backend.list_page(
            bucket,
            prefix=prefix,
            delimiter=delimiter,
            token=token,
            start_after=start_after if token is None else None,
        )
        for common in page.prefixes:
            yield ObjectInfo(key=common, size=0, is_prefix=True)
        for obj in page.objects:
            yield obj
        if page.next_token is None:
            return
        token = page.next_token


async def list_uploads(
    backend: S3Backend, bucket: str, *, prefix: str = ""
) -> AsyncIterator[UploadInfo]:
    token: tuple[str, str] | None = None
    while True:
        uploads, token = await backend.list_uploads_page(bucket, prefix=prefix, token=token)
        for upload in uploads:
            yield upload
        if token is None:
            return
