"""What S3's answers mean in s3flow terms, shared by both backends (no botocore here).

``backend/aws.py`` applies these to botocore's errors and ``backend/wire.py``
to raw HTTP answers, so the fast path can start without importing botocore.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING

from s3flow.errors import (
    AccessDenied,
    BucketNotFound,
    CredentialsError,
    ObjectExists,
    ObjectNotFound,
    PreconditionFailed,
    S3FlowError,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from s3flow.backend.protocol import S3Backend

__all__ = ["explain_head", "hint", "network_text", "no_clobber"]

_HINTS = {
    "BucketNotFound": "bucket does not exist; create it with `s3flow mb`",
    "ObjectNotFound": "object not found; check the key with `s3flow ls`",
    "BucketNotEmpty": "bucket is not empty; use force=True (CLI: --force) to delete its contents",
    "BucketAlreadyExists": "bucket already exists; choose another name",
    "InvalidBucketName": "invalid bucket name; use 3-63 lowercase letters, digits, dots, hyphens",
}


def hint(cls: type[S3FlowError], message: str) -> str:
    """The one-line message for an error class: what to do, or the server's own words.

    >>> from s3flow.errors import AccessDenied
    >>> hint(AccessDenied, "no")
    "access denied (no); check the credentials' permissions"
    """
    if cls.__name__ == "CredentialsError":
        return f"the server refused the credentials ({message}); check the keys"
    if cls.__name__ == "AccessDenied":
        return f"access denied ({message}); check the credentials' permissions"
    return _HINTS.get(cls.__name__, message)


@contextmanager
def no_clobber(bucket: str, key: str, active: bool) -> Iterator[None]:
    """With If-None-Match: *, a failed precondition means the object exists."""
    try:
        yield
    except PreconditionFailed:
        if not active:
            raise
        raise ObjectExists(
            "object already exists and no-clobber is set; nothing was overwritten",
            bucket=bucket,
            key=key,
        ) from None


async def explain_head(
    backend: S3Backend, bucket: str, key: str, error: S3FlowError
) -> S3FlowError:
    """A HEAD answer has no body, so a 404 or 403 does not say why. Ask once more where
    the answer has one: a missing bucket is not a missing key, and refused credentials
    are not missing permissions."""
    try:
        if isinstance(error, ObjectNotFound):
            await backend.head_bucket(bucket)
        elif type(error) is AccessDenied:
            await backend.get_object(bucket, key, start=0, end=1)
    except (BucketNotFound, CredentialsError) as better:
        return better
    except S3FlowError:
        pass
    return error


def network_text(exc: BaseException, endpoint: str) -> str:
    """One line for a failed connection that names the endpoint, e.g. ``cannot reach the
    endpoint http://127.0.0.1:1 (connection refused); check the endpoint URL and that the
    server is running``."""
    refused = isinstance(exc, ConnectionRefusedError) or "Connect call failed" in str(exc)
    if isinstance(exc.__cause__, ConnectionRefusedError) or refused:
        return (
            f"cannot reach the endpoint {endpoint} (connection refused); "
            "check the endpoint URL and that the server is running"
        )
    return f"{type(exc).__name__}: {exc}".split("\n")[0]
