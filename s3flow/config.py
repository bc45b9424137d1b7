"""Frozen, keyword-only configuration. Defaults are documented here, once.

Derive variants with :func:`dataclasses.replace`::

    fast = dataclasses.replace(TransferConfig(), max_concurrency=32)
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from s3flow.errors import ConfigError

__all__ = [
    "KiB",
    "MAX_PART_SIZE",
    "MAX_PARTS",
    "MIN_PART_SIZE",
    "MiB",
    "GiB",
    "ChecksumAlgorithm",
    "ConnectConfig",
    "RetryPolicy",
    "SseCustomerKey",
    "TransferConfig",
]

_SSE_C = "x-amz-server-side-encryption-customer-"
_SSE_C_SOURCE = "x-amz-copy-source-server-side-encryption-customer-"


@dataclass(frozen=True, slots=True)
class SseCustomerKey:
    """A customer-provided encryption key (SSE-C): 32 bytes, AES256. Example::

        SseCustomerKey(key=os.urandom(32))

    S3 keeps only its MD5: the same key must come with every read of the object
    (GET, HEAD) and with every part of its upload. The key never appears in a
    repr, a log line or an error.
    """

    key: bytes = field(repr=False)
    algorithm: str = "AES256"

    def __post_init__(self) -> None:
        if self.algorithm != "AES256":
            raise ConfigError(f"the SSE-C algorithm must be AES256, got {self.algorithm!r}")
        if not isinstance(self.key, bytes) or len(self.key) != 32:
            size = len(self.key) if isinstance(self.key, bytes) else type(self.key).__name__
            raise ConfigError(f"an SSE-C key must be 32 bytes (AES-256), got {size}")

    def __repr__(self) -> str:
        return f"SseCustomerKey(algorithm={self.algorithm!r}, key=****)"

    @property
    def encoded(self) -> str:
        """The key in base64, as the request header carries it (a secret too)."""
        return base64.b64encode(self.key).decode()

    def headers(self, *, copy_source: bool = False) -> dict[str, str]:
        """The three request headers (the copy source's with ``copy_source``)."""
        prefix = _SSE_C_SOURCE if copy_source else _SSE_C
        digest = base64.b64encode(hashlib.md5(self.key).digest()).decode()
        return {
            prefix + "algorithm": self.algorithm,
            prefix + "key": self.encoded,
            prefix + "key-md5": digest,
        }


KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB
MIN_PART_SIZE = 5 * MiB  # S3 minimum for every part but the last
MAX_PART_SIZE = 5 * GiB
MAX_PARTS = 10_000

ChecksumAlgorithm = Literal["crc32c", "crc32", "md5", "none"]
_CHECKSUMS = ("crc32c", "crc32", "md5", "none")


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """Per-request retry budget with exponential backoff and full jitter.

    Each part or range gets its own budget of ``max_attempts`` attempts.
    Example: ``RetryPolicy(max_attempts=8, max_delay=5.0)``.
    """

    max_attempts: int = 5
    base_delay: float = 0.1
    max_delay: float = 10.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ConfigError(f"max_attempts must be at least 1, got {self.max_attempts}")
        if self.base_delay < 0 or self.max_delay < self.base_delay:
            raise ConfigError(
                f"need 0 <= base_delay <= max_delay, got {self.base_delay}, {self.max_delay}"
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class TransferConfig:
    """How transfers run. Example: ``TransferConfig(max_concurrency=32)``.

    - ``part_size``: bytes per multipart part and per ranged GET (grown
      automatically to fit the 10,000-part limit).
    - ``multipart_threshold``: files below this go in one PutObject / GET.
    - ``max_concurrency``: parts (or ranges) in flight per transfer.
    - ``memory_limit``: bytes of part buffers all transfers of one client
      may hold at once.
    - ``checksum``: per-part checksum the server verifies; ``crc32c`` is
      hardware-accelerated, ``md5`` costs about ten times more CPU.
    - ``verify``: check downloads against the object's checksum or ETag.
    - ``fsync``: make each downloaded file durable before it is reported done
      (fsync the file before its rename, then its directory). Off by default,
      as in aws s3, s5cmd and rclone: the file is still written to a temp name,
      verified and renamed atomically, so a crash of the process never leaves
      a partial file at the destination; only a power loss can lose the
      latest files (rsync's ``--fsync`` is the same choice). Bulk downloads
      (``sync``, ``copy_tree``) make their files durable in group commits
      instead: one ``syncfs`` per 4,096 files and one before the job returns.
    """

    part_size: int = 8 * MiB
    multipart_threshold: int = 8 * MiB
    max_concurrency: int = 10
    memory_limit: int = 512 * MiB
    checksum: ChecksumAlgorithm = "crc32c"
    verify: bool = True
    fsync: bool = False
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    def __post_init__(self) -> None:
        if self.part_size < MIN_PART_SIZE or self.part_size > MAX_PART_SIZE:
            raise ConfigError(
                f"part_size must be between 5 MiB and 5 GiB (S3 limits), got {self.part_size}"
            )
        if self.multipart_threshold < 1:
            raise ConfigError(
                f"multipart_threshold must be positive, got {self.multipart_threshold}"
            )
        if self.max_concurrency < 1:
            raise ConfigError(f"max_concurrency must be at least 1, got {self.max_concurrency}")
        if self.memory_limit < self.part_size:
            raise ConfigError(
                f"memory_limit ({self.memory_limit}) must hold at least one part ({self.part_size})"
            )
        if self.checksum not in _CHECKSUMS:
            raise ConfigError(
                f"checksum must be one of {', '.join(_CHECKSUMS)}, got {self.checksum!r}"
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectConfig:
    """Where and how to connect. Example: ``ConnectConfig(endpoint_url="http://127.0.0.1:8333")``.

    ``max_pool_connections`` is sized from the transfer concurrency by
    :func:`s3flow.connect` unless given. ``fast_path`` sends the per-file and
    per-part calls without botocore (it falls back to botocore by itself where
    it cannot match it, e.g. refreshable credentials or a proxy).
    """

    endpoint_url: str | None = None
    region: str | None = None
    verify_tls: bool = True
    ca_bundle: str | None = None  # PEM file of CAs to trust instead of the default ones
    path_style: bool | None = None  # None: from addressing_style
    # "auto": path-style for custom endpoints, virtual-hosted for AWS (botocore's rule)
    addressing_style: Literal["auto", "path", "virtual"] = "auto"
    max_pool_connections: int = 64
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    fast_path: bool = True  # hot object calls over our own HTTP/1.1 client (backend/fast.py)
    # SSE-C: sent with every object read and write (and a copy's source) on this connection
    sse_customer_key: SseCustomerKey | None = None
    copy_source_sse_customer_key: SseCustomerKey | None = None

    def __post_init__(self) -> None:
        if self.endpoint_url is not None:
            parts = urlsplit(self.endpoint_url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ConfigError(
                    f"endpoint URL {self.endpoint_url!r} is not valid; "
                    "use e.g. http://127.0.0.1:8333 or https://s3.example.com"
                )
            try:
                parts.port  # noqa: B018 - raises on a bad port
            except ValueError:
                raise ConfigError(f"endpoint URL {self.endpoint_url!r} has a bad port") from None
        if self.addressing_style not in ("auto", "path", "virtual"):
            raise ConfigError(
                f"addressing_style must be auto, path or virtual, got {self.addressing_style!r}"
            )
        if self.max_pool_connections < 1:
            raise ConfigError("max_pool_connections must be at least 1")

    @property
    def use_path_style(self) -> bool:
        if self.path_style is not None:
            return self.path_style
        if self.addressing_style != "auto":
            return self.addressing_style == "path"
        return self.endpoint_url is not None
