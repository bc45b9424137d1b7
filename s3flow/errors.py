"""The s3flow error tree: one root, one line each, picklable, with bucket and key.

S3 error codes are mapped to classes here as plain strings, so this module
needs no botocore; ``backend/aws.py`` applies the table at its one boundary.
"""

from __future__ import annotations

__all__ = [
    "AccessDenied",
    "BucketAlreadyExists",
    "BucketNotEmpty",
    "BucketNotFound",
    "CertificateError",
    "ChecksumMismatch",
    "ClientClosed",
    "ConfigError",
    "CorruptedInTransit",
    "CredentialsError",
    "InvalidBucketName",
    "InvalidKey",
    "LocalFileError",
    "NotFound",
    "ObjectExists",
    "ObjectNotFound",
    "PreconditionFailed",
    "RetryableError",
    "S3FlowError",
    "ServiceError",
    "SlowDown",
    "SourceChanged",
    "TransferFailed",
    "UploadNotFound",
    "error_for_code",
]


class S3FlowError(Exception):
    """Root of every error s3flow raises on purpose.

    ``str(error)`` is one line that starts with the S3 location, e.g.
    ``s3://photos/cat.jpg: object not found``.
    """

    def __init__(
        self,
        message: str,
        *,
        bucket: str | None = None,
        key: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.bucket, self.key, self.code = bucket, key, code

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""

    @property
    def location(self) -> str:
        if self.bucket is None:
            return ""
        return f"s3://{self.bucket}/{self.key}" if self.key else f"s3://{self.bucket}"

    def __str__(self) -> str:
        text = " ".join(self.message.split())  # always one line
        return f"{self.location}: {text}" if self.location else text

    def __reduce__(self) -> tuple[object, ...]:
        # Keyword-only fields do not survive default exception pickling
        # (Dask ships errors between processes).
        return (_rebuild, (type(self), self.message, self.__dict__.copy()))


def _rebuild(cls: type[S3FlowError], message: str, state: dict[str, object]) -> S3FlowError:
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    error.__dict__.update(state)
    return error


class ConfigError(S3FlowError, ValueError):
    """A value given to s3flow is not valid (argument, URL, option)."""


class CertificateError(S3FlowError):
    """The endpoint's TLS certificate is not trusted or not for its host name (never retried)."""


class CredentialsError(S3FlowError):
    """No usable credentials, or the server refused them."""


class AccessDenied(S3FlowError):
    """The credentials are valid but not allowed to do this."""


class NotFound(S3FlowError):
    """Something named does not exist."""


class BucketNotFound(NotFound):
    pass


class ObjectNotFound(NotFound):
    pass


class UploadNotFound(NotFound):
    """The multipart upload no longer exists (completed or aborted)."""


class BucketAlreadyExists(S3FlowError):
    pass


class BucketNotEmpty(S3FlowError):
    pass


class InvalidBucketName(S3FlowError, ValueError):
    pass


class InvalidKey(S3FlowError, ValueError):
    """The key is empty, too long, or would escape a local directory."""


class ObjectExists(S3FlowError):
    """A no-clobber write found an object already at the key."""


class PreconditionFailed(S3FlowError):
    """An If-Match/If-None-Match condition did not hold."""


class LocalFileError(S3FlowError):
    """A local path is missing, unreadable, unwritable, or the disk is full."""

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path


class SourceChanged(S3FlowError):
    """The source changed while it was being transferred."""


class ChecksumMismatch(S3FlowError):
    """Bytes received do not match the checksum the other side computed."""


class ServiceError(S3FlowError):
    """Any other error the S3 service answered with."""


class RetryableError(ServiceError):
    """A failure worth another attempt: 5xx, throttling, reset, timeout, torn body."""


class SlowDown(RetryableError):
    """The server asks us to send fewer requests (503 SlowDown, throttling)."""


class CorruptedInTransit(RetryableError, ChecksumMismatch):
    """The server saw different bytes than we sent (BadDigest); sending again may fix it."""


class TransferFailed(S3FlowError):
    """A transfer gave up; nothing half-done was left behind.

    ``part_number`` and ``attempts`` say which part exhausted its retry budget.
    """

    def __init__(
        self,
        message: str,
        *,
        bucket: str | None = None,
        key: str | None = None,
        part_number: int | None = None,
        attempts: int = 0,
    ) -> None:
        super().__init__(message, bucket=bucket, key=key)
        self.part_number, self.attempts = part_number, attempts


class ClientClosed(S3FlowError):
    """The client was used outside its ``async with`` block."""


_BY_CODE: dict[str, type[S3FlowError]] = {
    "NoSuchBucket": BucketNotFound,
    "NoSuchKey": ObjectNotFound,
    "404": ObjectNotFound,
    "NotFound": ObjectNotFound,
    "NoSuchUpload": UploadNotFound,
    "AccessDenied": AccessDenied,
    "403": AccessDenied,
    "Forbidden": AccessDenied,
    "AllAccessDisabled": AccessDenied,
    "InvalidAccessKeyId": CredentialsError,
    "SignatureDoesNotMatch": CredentialsError,
    "ExpiredToken": CredentialsError,
    "InvalidToken": CredentialsError,
    "BucketAlreadyExists": BucketAlreadyExists,
    "BucketAlreadyOwnedByYou": BucketAlreadyExists,
    "BucketNotEmpty": BucketNotEmpty,
    "InvalidBucketName": InvalidBucketName,
    "KeyTooLongError": InvalidKey,
    "PreconditionFailed": PreconditionFailed,
    "412": PreconditionFailed,
    "ConditionalRequestConflict": PreconditionFailed,
    "BadDigest": CorruptedInTransit,
    "InvalidDigest": ChecksumMismatch,
    "XAmzContentChecksumMismatch": CorruptedInTransit,
    "SlowDown": SlowDown,
    "503": SlowDown,
    "Throttling": SlowDown,
    "ThrottlingException": SlowDown,
    "RequestLimitExceeded": SlowDown,
    "TooManyRequests": SlowDown,
    "429": SlowDown,
    "InternalError": RetryableError,
    "ServiceUnavailable": RetryableError,
    "RequestTimeout": RetryableError,
    "RequestTimeTooSkewed": RetryableError,
    "500": RetryableError,
    "502": RetryableError,
    "504": RetryableError,
}


def error_for_code(code: str, status: int | None = None) -> type[S3FlowError]:
    """Return the error class for an S3 error code (or HTTP status).

    >>> error_for_code("NoSuchBucket").__name__
    'BucketNotFound'
    """
    if code in _BY_CODE:
        return _BY_CODE[code]
    if status is not None and status >= 500:
        return RetryableError
    return _BY_CODE.get(str(status), ServiceError)
