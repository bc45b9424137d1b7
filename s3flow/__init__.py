"""s3flow: an asynchronous, high-throughput S3 transfer engine.

Example::

    import s3flow

    async with s3flow.connect(endpoint_url="http://127.0.0.1:8333") as s3:
        await s3.create_bucket("backups")
        result = await s3.upload_file("big.iso", "backups", "big.iso")

Layout (imports point down; see pyproject's import-linter contracts):

- cli/                          the console script (click + rich), the only place errors become exit codes
- client.py                     S3Client and connect(): thin delegation
- bulk/                         recursive copy and sync
- transfer/ | ops/              the engine (upload, download, copy, stream) | one-request operations
- backend/, scheduler, localfs, journal, testing/
                                the S3 seam, the one concurrency primitive, local files, resume
- plan, retry, integrity, progress
                                pure decisions
- models, config                frozen data
- errors                        the S3FlowError tree
"""

from __future__ import annotations

from s3flow.bulk.filters import Filters
from s3flow.bulk.options import SyncOptions, SyncSummary
from s3flow.client import S3Client, connect
from s3flow.config import ConnectConfig, RetryPolicy, SseCustomerKey, TransferConfig
from s3flow.errors import (
    AccessDenied,
    BucketAlreadyExists,
    BucketNotEmpty,
    BucketNotFound,
    CertificateError,
    ChecksumMismatch,
    ClientClosed,
    ConfigError,
    CredentialsError,
    InvalidBucketName,
    InvalidKey,
    LocalFileError,
    NotFound,
    ObjectExists,
    ObjectNotFound,
    PreconditionFailed,
    RetryableError,
    S3FlowError,
    ServiceError,
    SlowDown,
    SourceChanged,
    TransferFailed,
    UploadNotFound,
)
from s3flow.models import (
    Bucket,
    ClientStatistics,
    DeleteFailure,
    DeleteResult,
    ObjectInfo,
    ObjectOptions,
    S3Location,
    TransferResult,
    UploadInfo,
)
from s3flow.progress import (
    PartDone,
    PartRetried,
    ProgressEvent,
    TransferDone,
    TransferStarted,
    TransferStats,
)

__all__ = [
    "AccessDenied",
    "Bucket",
    "BucketAlreadyExists",
    "BucketNotEmpty",
    "BucketNotFound",
    "CertificateError",
    "ChecksumMismatch",
    "ClientStatistics",
    "ClientClosed",
    "ConfigError",
    "ConnectConfig",
    "CredentialsError",
    "DeleteFailure",
    "DeleteResult",
    "InvalidBucketName",
    "InvalidKey",
    "LocalFileError",
    "NotFound",
    "ObjectExists",
    "ObjectInfo",
    "ObjectNotFound",
    "ObjectOptions",
    "Filters",
    "SyncOptions",
    "SyncSummary",
    "PartDone",
    "PartRetried",
    "PreconditionFailed",
    "ProgressEvent",
    "RetryPolicy",
    "RetryableError",
    "SseCustomerKey",
    "S3Client",
    "S3FlowError",
    "S3Location",
    "ServiceError",
    "SlowDown",
    "SourceChanged",
    "TransferConfig",
    "TransferDone",
    "TransferFailed",
    "TransferResult",
    "TransferStarted",
    "TransferStats",
    "UploadInfo",
    "UploadNotFound",
    "connect",
]
__version__ = "0.1.0"
