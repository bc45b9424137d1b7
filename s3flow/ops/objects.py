"""Object operations that are one request each (or a few batched ones)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from s3flow.backend.protocol import S3Backend, Version
from s3flow.errors import ConfigError, InvalidKey
from s3flow.models import BUCKET_ACLS, DeleteFailure, DeleteResult
from s3flow.scheduler import run_bounded

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

__all__ = ["CANNED_ACLS", "delete_objects", "delete_versions", "presign", "set_acl", "validate_key"]

CANNED_ACLS = BUCKET_ACLS  # set_acl serves buckets and objects alike


def validate_key(bucket: str, key: str) -> None:
    if not key:
        raise InvalidKey("empty object key; give s3://bucket/key", bucket=bucket)
    if len(key.encode()) > 1024:
        raise InvalidKey("object key is longer than 1024 bytes", bucket=bucket, key=key[:64])


async def delete_versions(
    backend: S3Backend, bucket: str, batch: Sequence[Version]
) -> DeleteResult:
    return await backend.delete_objects(bucket, batch)


async def delete_objects(
    backend: S3Backend, bucket: str, keys: Iterable[str], *, concurrency: int = 8
) -> DeleteResult:
    """Delete keys in batches of 1,000 per request; per-key failures are reported, not raised."""
    keys = list(keys)
    batches = [[Version(k, None) for k in keys[i : i + 1000]] for i in range(0, len(keys), 1000)]
    results = await run_bounded(
        batches, lambda b: backend.delete_objects(bucket, b), limit=concurrency
    )
    deleted: list[str] = []
    failed: list[DeleteFailure] = []
    for result in results:
        deleted.extend(result.deleted)
        failed.extend(result.failed)
    return DeleteResult(deleted=tuple(deleted), failed=tuple(failed))


async def set_acl(backend: S3Backend, bucket: str, key: str | None, acl: str) -> None:
    if acl not in CANNED_ACLS:
        raise ConfigError(
            f"unknown canned ACL {acl!r}; use one of: {', '.join(CANNED_ACLS)}",
            bucket=bucket,
            key=key,
        )
    await backend.put_acl(bucket, key, acl)


def presign(
    backend: S3Backend,
    bucket: str,
    key: str,
    *,
    expires_in: int,
    method: Literal["GET", "PUT"],
) -> str:
    if not 1 <= expires_in <= 7 * 24 * 3600:
        raise ConfigError(
            f"expires_in must be 1..604800 seconds, got {expires_in}", bucket=bucket, key=key
        )
    if method not in ("GET", "PUT"):
        raise ConfigError(f"method must be GET or PUT, got {method!r}", bucket=bucket, key=key)
    validate_key(bucket, key)
    return backend.presign(bucket, key, method=method, expires_in=expires_in)
