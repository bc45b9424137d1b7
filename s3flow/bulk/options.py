"""What a bulk job is told (:class:`SyncOptions`) and what it reports (:class:`SyncSummary`).

Their own module, so that the runner and the job state it drives both use
them without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING, Literal

from s3flow.bulk.diff import MODES, CompareMode
from s3flow.bulk.filters import Filters
from s3flow.errors import ConfigError
from s3flow.progress import ProgressSink, ignore

if TYPE_CHECKING:
    from pathlib import Path

    from s3flow.bulk.sources import KeyRange
    from s3flow.models import ObjectOptions

__all__ = ["ListingOrder", "SyncOptions", "SyncSummary", "copy_all", "order_free"]

ListingOrder = Literal["auto", "s3", "path"]


def order_free(spans: tuple[KeyRange, ...] | None) -> bool:
    """True when the ranges select the same keys in s3 and path order: bounds of one
    character (as ``split_keyspace`` makes) split on the first character only."""
    bounds = [b for span in spans or () for b in (span.after, span.upto) if b is not None]
    return all(len(b) == 1 and b != "/" for b in bounds)


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncOptions:
    """What a bulk job does. Example: ``SyncOptions(delete=True, compare="checksum")``.

    - ``compare``: ``size_mtime`` (default: copy when sizes differ or the
      source is newer), ``size_only``, ``checksum`` (content), ``always``.
    - ``delete``: remove destination objects the source does not have.
    - ``dry_run``: decide and report (ObjectDone events), change nothing.
    - ``filters``: include/exclude globs on relative keys (last rule wins).
    - ``concurrency``: objects in flight (parts per object: TransferConfig).
    - ``shards`` / ``spans``: split the keyspace into ranges listed and synced
      concurrently (``spans`` gives explicit ranges, e.g. a cluster shard).
    - ``from_list``: only the keys in this file (one per line).
    - ``failures_file``: write failed keys here, one per line.
    - ``manifest``: journal of settled keys and their sources' identity; a
      rerun skips those whose source is unchanged where the listings alone
      cannot tell (``compare="always"``, ``checksum``); failed keys are never
      recorded (:mod:`s3flow.bulk.manifest`).
    - ``server_side_copy``: S3 -> S3 by CopyObject; ``None``: when both
      sides use the same backend object.
    - ``object_options``: attributes (content type, metadata, SSE, …) for
      every object written to S3; ``guess_content_type``: uploads without a
      content type get one from the file name (``.html`` -> ``text/html``).
    - ``follow_symlinks``: a local source's symbolic links are followed (as
      aws s3 does; a loop is skipped with a warning), or with False skipped.
    - ``order``: how the S3 side lists keys: ``auto`` (default: assume
      ``s3`` and switch to ``path`` at the first inversion that only a
      file-tree listing explains), ``s3`` (AWS, MinIO) or ``path`` (servers
      backed by a file tree, e.g. SeaweedFS). Any other inversion fails the
      job before it can mis-diff.
    """

    compare: CompareMode = "size_mtime"
    delete: bool = False
    dry_run: bool = False
    filters: Filters = field(default_factory=Filters)
    concurrency: int = 32
    shards: int = 1
    spans: tuple[KeyRange, ...] | None = None
    from_list: Path | None = None
    failures_file: Path | None = None
    manifest: Path | None = None
    server_side_copy: bool | None = None
    order: ListingOrder = "auto"
    object_options: ObjectOptions | None = None
    guess_content_type: bool = True
    follow_symlinks: bool = True
    max_failed_keys: int = 1000
    delete_batch: int = 1000
    progress: ProgressSink = ignore

    def __post_init__(self) -> None:
        if self.compare not in MODES:
            raise ConfigError(f"compare must be one of {', '.join(MODES)}, got {self.compare!r}")
        if self.concurrency < 1 or self.shards < 1:
            raise ConfigError("concurrency and shards must be at least 1")
        if not 1 <= self.delete_batch <= 1000:
            raise ConfigError(f"delete_batch must be 1..1000, got {self.delete_batch}")
        if self.delete and self.compare == "always":
            raise ConfigError("delete needs a comparison; it cannot be used with compare='always'")
        self._check_order()

    def _check_order(self) -> None:
        if self.order not in ("auto", "s3", "path"):
            raise ConfigError(f"order must be auto, s3 or path, got {self.order!r}")
        if self.order == "path" and not order_free(self.spans):
            raise ConfigError(
                "key ranges bounded by more than one character need order='s3' "
                "(a file-tree listing does not follow whole-key order within them)"
            )
        if self.delete and self.from_list is not None:
            raise ConfigError("delete cannot be combined with from_list")


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncSummary:
    """What a job did (with ``dry_run``: would do). ``failed_keys`` is bounded."""

    copied: int = 0
    copied_bytes: int = 0
    skipped: int = 0
    skipped_bytes: int = 0
    deleted: int = 0
    deleted_bytes: int = 0
    failed: int = 0
    failed_bytes: int = 0
    warned: int = 0  # of the skipped: local sources skipped with a warning
    elapsed: float = 0.0
    failed_keys: tuple[str, ...] = ()
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return self.failed == 0

    def merge(self, other: SyncSummary, *, max_failed_keys: int = 1000) -> SyncSummary:
        """Add two summaries (shards of one job); elapsed is the longer one."""
        counts = {
            f.name: getattr(self, f.name) + getattr(other, f.name)
            for f in fields(self)
            if f.type == "int"  # a string: this module's annotations are postponed
        }
        return SyncSummary(
            **counts,
            elapsed=max(self.elapsed, other.elapsed),
            failed_keys=(self.failed_keys + other.failed_keys)[:max_failed_keys],
            dry_run=self.dry_run and other.dry_run,
        )


def copy_all(options: SyncOptions | None) -> SyncOptions:
    """The options of ``cp --recursive``: every source object copied, the destination not listed."""
    options = options or SyncOptions()
    return options if options.compare == "always" else replace(options, compare="always")
