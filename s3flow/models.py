"""Plain frozen data that crosses every layer: buckets, objects, locations, results."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from s3flow.errors import ConfigError

if TYPE_CHECKING:
    from datetime import datetime

__all__ = [
    "Bucket",
    "Checksum",
    "ClientStatistics",
    "CompletedPart",
    "DeleteFailure",
    "DeleteResult",
    "ObjectInfo",
    "ObjectOptions",
    "S3Location",
    "TransferResult",
    "UploadInfo",
]


@dataclass(frozen=True, slots=True)
class Bucket:
    name: str
    created: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ObjectInfo:
    """One object as listed or HEADed. ``etag`` is without quotes.

    ``checksum`` is ``"crc32c:<base64>"`` style when the server reported one;
    ``parts`` is the multipart part count when known.
    """

    key: str
    size: int
    etag: str = ""
    last_modified: datetime | None = None
    storage_class: str | None = None
    is_prefix: bool = False
    checksum: str | None = None
    parts: int | None = None
    version_id: str | None = None
    metadata: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class UploadInfo:
    """An in-progress multipart upload."""

    key: str
    upload_id: str
    initiated: datetime | None = None


@dataclass(frozen=True, slots=True)
class DeleteFailure:
    key: str
    code: str
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DeleteResult:
    deleted: tuple[str, ...] = ()
    failed: tuple[DeleteFailure, ...] = ()


@dataclass(frozen=True, slots=True)
class S3Location:
    """A parsed ``s3://bucket/key`` URL.

    >>> S3Location.parse("s3://photos/2024/cat.jpg")
    S3Location(bucket='photos', key='2024/cat.jpg')
    """

    bucket: str
    key: str = ""

    @staticmethod
    def is_s3_url(text: str) -> bool:
        return text.startswith("s3://")

    @classmethod
    def parse(cls, text: str) -> S3Location:
        if not cls.is_s3_url(text):
            raise ConfigError(f"{text!r} is not an S3 URL; write it as s3://bucket/key")
        bucket, _, key = text[5:].partition("/")
        if not bucket:
            raise ConfigError(f"{text!r} has no bucket; write it as s3://bucket/key")
        return cls(bucket, key)

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.key}" if self.key else f"s3://{self.bucket}"


@dataclass(frozen=True, slots=True, kw_only=True)
class TransferResult:
    """What one transfer did. ``throughput`` is bytes per second."""

    bucket: str
    key: str
    size: int
    parts: int
    retries: int
    elapsed: float
    etag: str = ""
    checksum: str | None = None
    resumed_parts: int = 0

    @property
    def throughput(self) -> float:
        return self.size / self.elapsed if self.elapsed > 0 else 0.0


_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # tab is allowed in header values


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientStatistics:
    """A snapshot of the limits one client shares among its transfers.

    Example: ``s3.statistics().requests_allowed``. Like anyio's
    ``CapacityLimiter.statistics()``: read it, never change the client through it.
    """

    requests_allowed: int  # requests in flight allowed now; halves under SlowDown, then regrows
    requests_max: int
    requests_in_flight: int
    bytes_held: int  # part buffers and streamed ranges counted against ``memory_limit``
    memory_limit: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ObjectOptions:
    """Typed S3 parameters for writes. Example: ``ObjectOptions(content_type="text/plain")``."""

    content_type: str | None = None
    acl: str | None = None
    storage_class: str | None = None
    metadata: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        # These travel as HTTP header values, sent exactly as given: a CR or LF
        # would end the header (or smuggle another), so refuse them up front.
        fields = [("content_type", self.content_type), ("acl", self.acl)]
        fields += [("storage_class", self.storage_class)]
        fields += [(f"metadata {name!r}", value) for name, value in self.metadata]
        for what, value in fields:
            if value is not None and (bad := _CONTROL.search(value)):
                raise ConfigError(
                    f"{what}: value contains the control character {bad.group()!r}; "
                    "S3 header values cannot carry CR, LF or other control characters"
                )


@dataclass(frozen=True, slots=True)
class Checksum:
    """A checksum as S3 carries it: algorithm name and base64 value.

    ``value`` may end in ``-N`` for a composite multipart checksum.
    """

    algorithm: str  # "crc32c", "crc32" or "md5"
    value: str

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.value}"


@dataclass(frozen=True, slots=True)
class CompletedPart:
    number: int
    etag: str
    checksum: Checksum | None = None
    size: int = 0
