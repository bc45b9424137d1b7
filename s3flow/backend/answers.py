"""What S3's answers mean in s3flow terms, shared by both backends (no botocore here).

``backend/aws.py`` applies these to botocore's errors and ``backend/wire.py``
to raw HTTP answers, so the fast path can start without importing botocore.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING

from s3flow.errors import (
    AccessDenied,
    BucketAlreadyExists,
    BucketNotEmpty,
    BucketNotFound,
    CertificateError,
    CredentialsError,
    InvalidBucketName,
    ObjectExists,
    ObjectNotFound,
    PreconditionFailed,
    S3FlowError,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from s3flow.backend.protocol import S3Backend

__all__ = ["certificate_error", "explain_head", "hint", "network_text", "no_clobber"]

# What to do next, per error class; "{message}" stands for the server's own words.
_HINTS: dict[type[S3FlowError], str] = {
    CredentialsError: "the server refused the credentials ({message}); check the keys",
    AccessDenied: "access denied ({message}); check the credentials' permissions",
    BucketNotFound: "bucket does not exist; create it with `s3flow mb`",
    ObjectNotFound: "object not found; check the key with `s3flow ls`",
    BucketNotEmpty: "bucket is not empty; use force=True (CLI: --force) to delete its contents",
    BucketAlreadyExists: "bucket already exists; choose another name",
    InvalidBucketName: "invalid bucket name; use 3-63 lowercase letters, digits, dots, hyphens",
}


def hint(cls: type[S3FlowError], message: str) -> str:
    """The one-line message for an error class: what to do, or the server's own words.

    >>> from s3flow.errors import AccessDenied
    >>> hint(AccessDenied, "no")
    "access denied (no); check the credentials' permissions"
    """
    template = _HINTS.get(cls)
    return message if template is None else template.format(message=message)


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


def certificate_error(endpoint: str, reason: str) -> CertificateError:
    """The one-line, never-retried error for a TLS certificate the client refused.

    >>> print(certificate_error("https://127.0.0.1:8443", "certificate verify failed: "
    ...       "Hostname mismatch, certificate is not valid for '127.0.0.1'. (_ssl.c:1006)"))
    ... # doctest: +NORMALIZE_WHITESPACE
    TLS certificate of https://127.0.0.1:8443 is not valid for that host name (certificate
    verify failed: Hostname mismatch, certificate is not valid for '127.0.0.1'.); connect by a
    name the certificate lists, or skip verification with --no-verify-ssl (unsafe)
    """
    reason = " ".join(reason.split()).replace(" (_ssl.c", "\0").split("\0")[0]
    # OpenSSL says "Hostname mismatch" or "IP address mismatch"; old ssl "doesn't match".
    if "mismatch" in reason.lower() or "doesn't match" in reason.lower():
        return CertificateError(
            f"TLS certificate of {endpoint} is not valid for that host name ({reason}); "
            "connect by a name the certificate lists, or skip verification with "
            "--no-verify-ssl (unsafe)"
        )
    return CertificateError(
        f"TLS certificate of {endpoint} is not trusted ({reason}); give its CA with "
        "--ca-bundle FILE or AWS_CA_BUNDLE (ca_bundle= in connect() or the AWS profile), "
        "or skip verification with --no-verify-ssl (unsafe)"
    )


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
