"""Bucket operations: list, create, delete (optionally emptying it first)."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from s3flow.errors import (
    AccessDenied,
    BucketAlreadyExists,
    BucketNotEmpty,
    BucketNotFound,
    CredentialsError,
    InvalidBucketName,
    S3FlowError,
    UploadNotFound,
)
from s3flow.ops.listing import PageGuard, list_uploads
from s3flow.ops.objects import delete_versions
from s3flow.scheduler import run_bounded

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from s3flow.backend.protocol import S3Backend, Version
    from s3flow.models import Bucket, DeleteFailure

__all__ = ["create_bucket", "delete_bucket", "empty_bucket", "list_buckets", "validate_bucket"]

_ALLOWED = set("abcdefghijklmnopqrstuvwxyz0123456789.-")


def validate_bucket(name: str) -> None:
    """Raise InvalidBucketName for names S3 would refuse (checked before any request)."""
    if not (
        3 <= len(name) <= 63
        and set(name) <= _ALLOWED
        and name[0].isalnum()
        and name[-1].isalnum()
        and ".." not in name
    ):
        raise InvalidBucketName(
            "invalid bucket name; use 3-63 characters: lowercase letters, digits, dots and "
            "hyphens, starting and ending with a letter or digit",
            bucket=name,
        )


async def list_buckets(backend: S3Backend) -> list[Bucket]:
    return await backend.list_buckets()


async def create_bucket(backend: S3Backend, name: str, *, region: str | None = None) -> None:
    """Create ``name``; BucketAlreadyExists if it exists, even where S3 would answer 200.

    us-east-1 (and moto) silently succeed when you re-create your own bucket;
    a HEAD first turns that into the clear error users expect.
    """
    validate_bucket(name)
    try:
        await backend.head_bucket(name)
    except BucketNotFound:
        pass
    except AccessDenied:
        # A bodiless 403 is also what wrong keys get: a listing answers with the reason.
        await _raise_if_credentials_refused(backend, name)
        raise BucketAlreadyExists(
            "bucket name is taken by another account; choose another name", bucket=name
        ) from None
    else:
        raise BucketAlreadyExists("bucket already exists; choose another name", bucket=name)
    await backend.create_bucket(name, region=region)


async def _raise_if_credentials_refused(backend: S3Backend, name: str) -> None:
    try:
        await backend.list_page(name, max_keys=1)
    except CredentialsError:
        raise
    except S3FlowError:
        pass


async def _versions(backend: S3Backend, bucket: str) -> AsyncIterator[list[Version]]:
    token: tuple[str, str] | None = None
    guard = PageGuard[tuple[str, str]](bucket)
    while True:
        page, token = await backend.list_versions_page(bucket, token=token)
        if page:
            yield page
        token = guard.next(token, len(page))
        if token is None:
            return


async def empty_bucket(backend: S3Backend, bucket: str, *, concurrency: int = 8) -> int:
    """Delete every object version, delete marker and in-progress upload. Returns objects deleted."""
    deleted = 0
    failures: list[DeleteFailure] = []
    async for page in _versions(backend, bucket):
        batches = [page[i : i + 1000] for i in range(0, len(page), 1000)]
        for result in await run_bounded(
            batches, lambda b: delete_versions(backend, bucket, b), limit=concurrency
        ):
            deleted += len(result.deleted)
            failures.extend(result.failed)
    if failures:
        first = failures[0]
        raise S3FlowError(
            f"could not delete {len(failures)} objects (first: {first.key}: {first.code})",
            bucket=bucket,
        )
    async for upload in list_uploads(backend, bucket):
        with contextlib.suppress(UploadNotFound):
            await backend.abort_multipart_upload(bucket, upload.key, upload.upload_id)
    return deleted


async def delete_bucket(backend: S3Backend, name: str, *, force: bool = False) -> None:
    if force:
        await empty_bucket(backend, name)
    try:
        await backend.delete_bucket(name)
    except BucketNotEmpty:
        raise BucketNotEmpty(
            "bucket is not empty; use force=True (CLI: rb --force) to delete it and everything "
            "in it",
            bucket=name,
        ) from None
