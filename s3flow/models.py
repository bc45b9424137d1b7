"""Plain frozen data that crosses every layer: buckets, objects, locations, results."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
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
    "FrozenMap",
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
    ``parts`` is the multipart part count when known; ``metadata`` is the user
    metadata as ``(name, value)`` pairs (``dict(info.metadata)`` to look up).
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
    # From HEAD/GET only (listings do not carry them):
    content_type: str | None = None
    cache_control: str | None = None
    content_encoding: str | None = None
    content_disposition: str | None = None
    expires: str | None = None  # the header as the server sent it
    sse: str | None = None
    sse_kms_key_id: str | None = None


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


CANNED_ACLS = (
    "private",
    "public-read",
    "public-read-write",
    "authenticated-read",
    "aws-exec-read",
    "bucket-owner-read",
    "bucket-owner-full-control",
)
"""The canned ACLs S3 accepts on objects (buckets also take ``log-delivery-write``)."""

BUCKET_ACLS = (*CANNED_ACLS, "log-delivery-write")
"""The canned ACLs S3 accepts on buckets."""

STORAGE_CLASSES = (
    "STANDARD",
    "REDUCED_REDUNDANCY",
    "STANDARD_IA",
    "ONEZONE_IA",
    "INTELLIGENT_TIERING",
    "GLACIER",
    "DEEP_ARCHIVE",
    "GLACIER_IR",
    "OUTPOSTS",
    "EXPRESS_ONEZONE",
)
SSE_ALGORITHMS = ("AES256", "aws:kms", "aws:kms:dsse")

_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")  # an HTTP header-name token
_METADATA_LIMIT = 2048  # S3: user metadata, names and values, at most 2 KB in all


def check_acl(acl: str, *, bucket: bool = False) -> str:
    """``acl`` if it is a canned ACL S3 accepts, else ConfigError naming the choices."""
    allowed = BUCKET_ACLS if bucket else CANNED_ACLS
    if acl not in allowed:
        raise ConfigError(f"{acl!r} is not a canned ACL; use one of {', '.join(allowed)}")
    return acl


class FrozenMap(Mapping[str, str]):
    """An immutable, hashable, picklable ``str -> str`` mapping (metadata, tags)."""

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, str] | Iterable[tuple[str, str]] = ()) -> None:
        pairs = items.items() if isinstance(items, Mapping) else items
        self._items: tuple[tuple[str, str], ...] = tuple(pairs)

    def __getitem__(self, key: str) -> str:
        for name, value in self._items:
            if name == key:
                return value
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(self._items)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Mapping) and dict(self._items) == dict(other.items())

    def __repr__(self) -> str:
        return repr(dict(self._items))

    def __reduce__(self) -> tuple[type[FrozenMap], tuple[tuple[tuple[str, str], ...]]]:
        return FrozenMap, (self._items,)


def _pairs(value: object, what: str) -> tuple[tuple[str, str], ...]:
    """Mapping (or pairs) -> checked pairs; anything else is a clear ConfigError."""
    items = _items(value)
    if items is None:
        raise ConfigError(f"{what} must be a mapping of str to str, e.g. {{'owner': 'ada'}}")
    for name, val in items:
        if not isinstance(name, str) or not isinstance(val, str):
            raise ConfigError(f"{what} names and values must be str, got {name!r}: {val!r}")
    return tuple((str(n), str(v)) for n, v in items)


def _items(value: object) -> list[tuple[object, ...]] | None:
    """A mapping's items, or a list/tuple of pairs as given; None for anything else."""
    if isinstance(value, Mapping):
        return list(value.items())
    if isinstance(value, (list, tuple)) and all(
        isinstance(p, (list, tuple)) and len(p) == 2 for p in value
    ):
        return [tuple(p) for p in value]
    return None


def _check_sse(sse: str | None, kms_key_id: str | None) -> None:
    if sse is not None and sse not in SSE_ALGORITHMS:
        raise ConfigError(f"sse must be one of {', '.join(SSE_ALGORITHMS)}, got {sse!r}")
    if kms_key_id is not None and sse not in ("aws:kms", "aws:kms:dsse"):
        raise ConfigError("sse_kms_key_id needs sse='aws:kms' (or 'aws:kms:dsse')")


def _check_metadata(pairs: tuple[tuple[str, str], ...]) -> None:
    seen: set[str] = set()
    for name, _ in pairs:
        if not _TOKEN.match(name):
            raise ConfigError(
                f"metadata name {name!r} is not valid: use letters, digits and - _ . only"
            )
        if name.lower() in seen:
            raise ConfigError(f"metadata name {name!r} is given twice (names ignore case)")
        seen.add(name.lower())
    if sum(len(n) + len(v) for n, v in pairs) > _METADATA_LIMIT:
        raise ConfigError("metadata is over S3's 2 KB limit (names and values together)")


def _check_tags(pairs: tuple[tuple[str, str], ...]) -> None:
    if len(pairs) > 10:
        raise ConfigError(f"an object takes at most 10 tags, got {len(pairs)}")
    for name, value in pairs:
        if not 1 <= len(name) <= 128 or len(value) > 256:
            raise ConfigError(f"tag {name!r}: keys are 1-128 characters, values up to 256")


_HEADER_FIELDS = (
    "content_type",
    "cache_control",
    "content_encoding",
    "content_disposition",
    "content_language",
    "sse_kms_key_id",
)
"""The ObjectOptions fields sent as HTTP header values exactly as given."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ObjectOptions:
    """Typed S3 parameters for writes, as boto3 names them. Example::

        ObjectOptions(content_type="text/plain", metadata={"owner": "ada"},
                      cache_control="max-age=60", sse="AES256", tagging={"team": "x"})

    ``metadata`` and ``tagging`` take a mapping of str to str (as boto3's
    ``Metadata=``); ``acl`` a canned ACL; ``sse`` ``AES256``, ``aws:kms`` or
    ``aws:kms:dsse`` (with ``sse_kms_key_id`` for a KMS key); ``expires`` a
    timezone-aware datetime. Every value is checked here, before any request.
    """

    content_type: str | None = None
    cache_control: str | None = None
    content_encoding: str | None = None
    content_disposition: str | None = None
    content_language: str | None = None
    expires: datetime | None = None
    acl: str | None = None
    storage_class: str | None = None
    metadata: Mapping[str, str] = FrozenMap()
    sse: str | None = None
    sse_kms_key_id: str | None = None
    tagging: Mapping[str, str] = FrozenMap()

    def __post_init__(self) -> None:
        metadata = _pairs(self.metadata, "metadata")
        _check_metadata(metadata)
        object.__setattr__(self, "metadata", FrozenMap(metadata))
        tags = _pairs(self.tagging, "tagging")
        _check_tags(tags)
        object.__setattr__(self, "tagging", FrozenMap(tags))
        self._check_choices()
        # These travel as HTTP header values, sent exactly as given: a CR or LF
        # would end the header (or smuggle another), so refuse them up front.
        fields = [(name, getattr(self, name)) for name in _HEADER_FIELDS]
        fields += [(f"metadata {name!r}", value) for name, value in metadata]
        fields += [(f"tag {name!r}", value) for name, value in tags]
        for what, value in fields:
            if value is not None and (bad := _CONTROL.search(value)):
                raise ConfigError(
                    f"{what}: value contains the control character {bad.group()!r}; "
                    "S3 header values cannot carry CR, LF or other control characters"
                )

    def _check_choices(self) -> None:
        """The fields that take one of S3's names, and ``expires``."""
        if self.acl is not None:
            check_acl(self.acl)
        if self.storage_class is not None and self.storage_class not in STORAGE_CLASSES:
            raise ConfigError(
                f"{self.storage_class!r} is not a storage class; use one of "
                + ", ".join(STORAGE_CLASSES)
            )
        _check_sse(self.sse, self.sse_kms_key_id)
        if self.expires is not None and self.expires.utcoffset() is None:
            raise ConfigError("expires must be a timezone-aware datetime (e.g. with tzinfo=UTC)")


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
