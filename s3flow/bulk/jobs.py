"""One bulk job's state: listings per shard, the workers' action handler, the tally,
the manifest and the failures file. Driven by :mod:`s3flow.bulk.runner`."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import anyio

from s3flow.backend.protocol import Version
from s3flow.bulk.diff import Check, Copy, Delete, Entry, Order
from s3flow.bulk.manifest import (
    Done,
    LineWriter,
    Watermark,
    key_record,
    load_manifest,
    subtree_end,
)
from s3flow.bulk.options import SyncSummary
from s3flow.bulk.sources import (
    KeyRange,
    list_s3,
    read_key_list,
    walk_local,
    write_key_line,
)
from s3flow.errors import NotFound, S3FlowError
from s3flow.localfs import make_durable, remove_stale_temps, run_io
from s3flow.progress import ObjectDone, ignore

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from s3flow.bulk.actions import Endpoint, Mover
    from s3flow.bulk.diff import Action
    from s3flow.bulk.options import SyncOptions

__all__ = ["Job", "Shard"]

WATERMARK_EVERY = 256
# With --fsync, files are made durable in sweeps of this many (one syncfs each)
# instead of one fsync each: the list stays small and a sweep's cost is shared.
COMMIT_EVERY = 4096


@dataclass(slots=True)
class Shard:
    mark: Watermark
    listed: bool = False
    since_mark: int = 0
    # Watermarks cover whole-key ranges: they are only true while actions come in s3 order.
    ordered: bool = True


@dataclass(slots=True)
class Count:
    """Objects of one outcome, and their bytes."""

    objects: int = 0
    bytes: int = 0

    def add(self, nbytes: int) -> None:
        self.objects += 1
        self.bytes += nbytes


@dataclass(slots=True)
class Tally:
    """A job's running counts, one per outcome named as in :class:`SyncSummary`."""

    copied: Count = field(default_factory=Count)
    skipped: Count = field(default_factory=Count)
    deleted: Count = field(default_factory=Count)
    failed: Count = field(default_factory=Count)
    warned: int = 0  # of the skipped: local files skipped with a warning
    failed_keys: list[str] = field(default_factory=list)  # the first ``max_failed_keys``

    def summary(self, *, elapsed: float, dry_run: bool) -> SyncSummary:
        return SyncSummary(
            copied=self.copied.objects,
            copied_bytes=self.copied.bytes,
            skipped=self.skipped.objects,
            skipped_bytes=self.skipped.bytes,
            deleted=self.deleted.objects,
            deleted_bytes=self.deleted.bytes,
            failed=self.failed.objects,
            failed_bytes=self.failed.bytes,
            warned=self.warned,
            elapsed=elapsed,
            failed_keys=tuple(self.failed_keys),
            dry_run=dry_run,
        )


@dataclass(slots=True, kw_only=True)
class Job:
    mover: Mover
    options: SyncOptions
    started: float
    # --fsync into a local tree: the files reach the disk in group commits (every
    # COMMIT_EVERY files, before each manifest write, and before the job ends).
    group_commit: bool = False
    tally: Tally = field(default_factory=Tally)
    done: Done | None = None
    manifest: LineWriter | None = None
    failures: LineWriter | None = None
    keys: list[str] | None = None
    shards: list[Shard] = field(default_factory=list)
    deletes: list[tuple[Shard, int, Entry]] = field(default_factory=list)
    run_started: float = field(default_factory=time.time)  # wall clock: manifest intervals
    renamed: list[Path] = field(default_factory=list)  # local files written since the last sweep
    sweeping: anyio.Lock = field(default_factory=anyio.Lock)  # one sweep at a time
    sweep_failed: S3FlowError | None = None  # a failed sweep fails every later one
    written_dirs: set[Path] = field(default_factory=set)  # local directories downloaded into
    listing_failed: set[str] = field(default_factory=set)  # failures found while listing
    # Source keys and subtrees (directories, with a trailing "/") found but not read:
    # never deleted. Subtrees are few (unreadable or looping directories); keys may be many.
    held_keys: set[str] = field(default_factory=set)
    held_trees: list[str] = field(default_factory=list)

    async def open(self, src: str, dst: str) -> None:
        opts = self.options
        if opts.manifest is not None and not opts.dry_run:
            job = {"src": src, "dst": dst}
            if opts.filters.rules:  # a key filtered out was never copied: not the same job
                job["filters"] = json.dumps([[r.kind, r.pattern] for r in opts.filters.rules])
            self.done = await load_manifest(opts.manifest, job)  # watermarks: s3 order only
            durable = self._durable if self.mover.dst.is_local else None
            self.manifest = LineWriter(opts.manifest, before_flush=durable)
        if opts.failures_file is not None:
            path = opts.failures_file
            await run_io(path, path.write_text, "")
            self.failures = LineWriter(path)
        if opts.from_list is not None:
            self.keys = await read_key_list(opts.from_list)

    def shard(self, span: KeyRange) -> Shard:
        shard = Shard(Watermark(span.after, started=self.run_started))
        self.shards.append(shard)
        return shard

    async def _remove_stale_temps(self) -> None:
        """Temp files a killed run left where this one downloaded: ours by their exact
        name, and not written since this run started, so no live download's."""
        dirs, self.written_dirs = sorted(self.written_dirs), set()
        for start in range(0, len(dirs), 1000):  # one worker-thread hop per 1,000
            batch = dirs[start : start + 1000]
            await run_io(batch[0], remove_stale_temps, batch, self.run_started)

    @property
    def marks(self) -> bool:
        """Whether this job writes watermarks: not with ``from_list``, whose keys between
        the listed ones were never looked at."""
        return self.manifest is not None and self.keys is None

    async def _durable(self) -> None:
        """Group commit: the files renamed into place since the last sweep reach the disk
        before the manifest lines that call them done, and before the job ends.

        Sweeps run one at a time, so when this returns every file renamed before
        it was called is on disk, including those of a sweep already under way.
        After one fails, every later one raises its error: what reached the disk
        is unknown (a second fsync after EIO may succeed with the data lost), so
        no manifest line may follow, and the job must not end as a success.
        """
        async with self.sweeping:
            if self.sweep_failed is not None:
                raise self.sweep_failed
            paths, self.renamed = self.renamed, []
            if paths:
                root = self.mover.dst.root
                assert isinstance(root, Path)
                try:
                    await run_io(root, make_durable, root, paths)
                except S3FlowError as error:
                    self.sweep_failed = error
                    raise

    # --- listings ----------------------------------------------------------------

    def listings(
        self, shard: Shard, span: KeyRange, order: Order = "s3"
    ) -> tuple[AsyncIterator[list[Entry]], AsyncIterator[list[Entry]]]:
        """Both sides' listings of one shard, as filtered pages in key order (local
        trees are walked in ``order``; S3 lists in the server's own order)."""
        src, dst = self.mover.src, self.mover.dst
        source = self._listing(src, span, order, shard, for_local_dest=dst.is_local)
        dest = (
            self._listing(dst, span, order, None) if self.options.compare != "always" else _empty()
        )
        return source, dest

    async def _listing(
        self,
        end: Endpoint,
        span: KeyRange,
        order: Order,
        shard: Shard | None,
        *,
        for_local_dest: bool = False,
    ) -> AsyncIterator[list[Entry]]:
        """``shard`` is given for the source: what cannot be read there is failed, named."""
        filters = self.options.filters
        async for page in self._raw(end, span, order, shard):
            if filters:
                page = [e for e in page if filters.allows(e.key)]
            if for_local_dest:
                page = self._without_folders(page, shard)
            if page:
                yield page

    def _raw(
        self, end: Endpoint, span: KeyRange, order: Order, shard: Shard | None
    ) -> AsyncIterator[list[Entry]]:
        """One side's pages as listed (or stat-ed, for a key list), before any filter."""

        def unreadable(key: str, reason: str, subtree: bool) -> None:
            if shard is not None:
                self.fail_listed(shard, Entry(key, 0), reason, subtree=subtree)

        def odd(key: str, reason: str, subtree: bool) -> None:
            if shard is not None:
                self.warn_listed(shard, key, reason, subtree=subtree)

        if self.keys is not None:
            return self._by_keys(end, span, shard)
        if isinstance(end.root, Path):
            return walk_local(
                end.root,
                span,
                order=order,
                follow_symlinks=self.options.follow_symlinks,
                on_error=unreadable,
                on_warning=odd,
            )
        assert end.backend is not None
        return list_s3(end.backend, end.location.bucket, end.location.key, span)

    def _without_folders(self, page: list[Entry], shard: Shard | None) -> list[Entry]:
        """Keys ending in "/" cannot be files. Empty ones are folder markers (directories
        are implicit locally: skipped, as aws s3 does); one with content is failed, named,
        never dropped in silence (aws s3 cp stops with an error on it; s5cmd skips it)."""
        kept = []
        for entry in page:
            if not entry.key.endswith("/"):
                kept.append(entry)
            elif entry.size and shard is not None:
                self.fail_listed(
                    shard,
                    entry,
                    "key ends in '/' but has content, so it cannot be a local file; "
                    "copy it to a file with cp",
                )
        return kept

    async def _by_keys(
        self, end: Endpoint, span: KeyRange, shard: Shard | None
    ) -> AsyncIterator[list[Entry]]:
        assert self.keys is not None
        for key in self.keys:
            if key not in span:
                continue
            try:
                yield [await _stat(end, key)]
            except NotFound:
                if shard is not None:
                    self.fail_listed(shard, Entry(key, 0), "not found at the source")
            except S3FlowError as error:
                if shard is not None:
                    self.fail_listed(shard, Entry(key, 0), str(error))

    # --- acting --------------------------------------------------------------------

    async def run(self, item: tuple[Shard, int, Action]) -> None:
        """Worker: carry out one action; per-object failures are recorded, not raised."""
        shard, seq, action = item
        try:
            settled = await self._act(shard, seq, action)
        except S3FlowError as error:
            self.fail(action.entry, str(error))
            await self.finished(shard, seq, failed=action.entry.key)  # never under a watermark
            return
        if settled:
            await self.finished(shard, seq)

    async def _act(self, shard: Shard, seq: int, action: Action) -> bool:
        """Carry out ``action``; False when it waits in the delete batch (settled there)."""
        if isinstance(action, Check):
            if await self.mover.same_content(action.entry, action.dest):
                self.skip(action.entry, "same content")
                return True
            action = Copy(action.entry, "checksum")
        if isinstance(action, Copy):
            await self._copy(action.entry, action.reason)
        elif isinstance(action, Delete):
            return await self._delete(shard, seq, action.entry)
        return True

    async def _copy(self, entry: Entry, reason: str) -> None:
        dry, root = self.options.dry_run, self.mover.dst.root
        if isinstance(root, Path) and not dry:
            self.written_dirs.add(root.joinpath(*entry.key.split("/")[:-1]))
        size = entry.size if dry else await self.mover.copy(entry)
        if isinstance(root, Path):
            await self._renamed(root.joinpath(*entry.key.split("/")))
        self._copied(entry, size, reason)

    async def _renamed(self, path: Path) -> None:
        """A file renamed into place: kept for the next durability sweep, if there is one."""
        if self.manifest is None and not self.group_commit:
            return
        self.renamed.append(path)
        full = len(self.renamed) >= COMMIT_EVERY
        if self.group_commit and full and not self.sweeping.locked():
            await self._durable()

    async def _delete(self, shard: Shard, seq: int, entry: Entry) -> bool:
        dry = self.options.dry_run
        if not dry and not self.mover.dst.is_local:
            self.deletes.append((shard, seq, entry))
            if len(self.deletes) >= self.options.delete_batch:
                await self.flush_deletes()
            return False
        if not dry:
            await self.mover.delete_local(entry.key)
        self._deleted(entry)
        return True

    async def flush_deletes(self) -> None:
        batch, self.deletes = self.deletes, []
        if not batch:
            return
        dst = self.mover.dst
        assert dst.backend is not None
        failed: dict[str, str] = {}
        try:
            result = await dst.backend.delete_objects(
                dst.location.bucket, [Version(dst.s3_key(e.key), None) for _, _, e in batch]
            )
            failed = {f.key: f"{f.code}: {f.message}" for f in result.failed}
        except S3FlowError as error:
            failed = {dst.s3_key(e.key): str(error) for _, _, e in batch}
        for shard, seq, entry in batch:
            reason = failed.get(dst.s3_key(entry.key))
            if reason is None:
                self._deleted(entry)
                await self.finished(shard, seq)
            else:
                self.fail(entry, reason)
                await self.finished(shard, seq, failed=entry.key)

    def skip(self, entry: Entry, reason: str) -> None:
        self.tally.skipped.add(entry.size)
        if self.options.progress is not ignore:  # millions of skips: no event nobody reads
            self.options.progress(
                ObjectDone(entry.key, "skip", entry.size, reason, self.options.dry_run)
            )

    def fail(self, entry: Entry, reason: str) -> None:
        self.tally.failed.add(entry.size)
        if len(self.tally.failed_keys) < self.options.max_failed_keys:
            self.tally.failed_keys.append(entry.key)
        if self.failures is not None:
            self.failures.add(write_key_line(entry.key))
        self.options.progress(ObjectDone(entry.key, "fail", entry.size, reason))

    def fail_listed(
        self, shard: Shard, entry: Entry, reason: str, *, subtree: bool = False
    ) -> None:
        """A failure found while listing the source (no action is queued for it): the
        watermark must not pass it, nor, for a directory, anything under it. A shard
        listed twice (its order found on the way) reports each one once."""
        if entry.key in self.listing_failed:
            return
        self.listing_failed.add(entry.key)
        self.fail(entry, reason)
        self._hold_back(shard, entry.key, subtree)

    def warn_listed(self, shard: Shard, key: str, reason: str, *, subtree: bool = False) -> None:
        """A local source skipped with a warning (a dangling or looping link, a FIFO,
        socket or device): counted as skipped, reported, never deleted at the destination."""
        if key in self.listing_failed:
            return
        self.listing_failed.add(key)
        self.tally.skipped.add(0)
        self.tally.warned += 1
        self.options.progress(ObjectDone(key, "skip", 0, reason, warning=True))
        self._hold_back(shard, key, subtree)

    def _hold_back(self, shard: Shard, key: str, subtree: bool) -> None:
        """The watermark must not pass ``key`` (nor, for a directory, anything under it),
        so a rerun looks again; and --delete must not remove what the source has but
        could not be read."""
        if subtree:
            self.held_trees.append(key + "/")
        else:
            self.held_keys.add(key)
        if self.marks:
            shard.mark.gap(subtree_end(key) if subtree else key)

    def held(self, key: str) -> bool:
        """Whether a destination key stands for a source found but not read."""
        return key in self.held_keys or any(key.startswith(tree) for tree in self.held_trees)

    def _copied(self, entry: Entry, size: int, reason: str) -> None:
        self.tally.copied.add(size)
        if self.manifest is not None:
            self.manifest.add(key_record(entry))
        self.options.progress(ObjectDone(entry.key, "copy", size, reason, self.options.dry_run))

    def _deleted(self, entry: Entry) -> None:
        self.tally.deleted.add(entry.size)
        self.options.progress(
            ObjectDone(entry.key, "delete", entry.size, "extraneous", self.options.dry_run)
        )

    def track(self, shard: Shard, key: str) -> int:
        """Number an action of ``shard`` for the manifest's watermark (0 without one)."""
        return shard.mark.start(key) if self.marks else 0

    async def finished(self, shard: Shard, seq: int, *, failed: str | None = None) -> None:
        """``seq`` settled; ``failed``: it did not, and the watermark must stop before it."""
        if self.manifest is None or not self.marks:
            return
        mark = shard.mark
        if not mark.finish(seq, failed=failed):
            return
        if not shard.ordered:  # per-key records only (finish() still frees the slot)
            mark.closed.clear()
            return
        for line in mark.closed:
            self.manifest.add(line)
        mark.closed.clear()
        shard.since_mark += 1
        if shard.since_mark >= WATERMARK_EVERY and mark.last is not None:
            shard.since_mark = 0
            await self.manifest.add_and_flush(mark.line())

    def _final_marks(self) -> list[str]:
        """The watermark lines still to write, of shards whose every action settled."""
        lines: list[str] = []
        for shard in self.shards:
            mark = shard.mark
            if self.marks and shard.ordered and mark.low == mark.produced:
                lines += mark.closed
                if mark.last is not None:
                    lines.append(mark.line())
        return lines

    async def close(self) -> SyncSummary:
        await self.flush_deletes()
        await self._remove_stale_temps()
        if self.group_commit:
            await self._durable()
        if self.manifest is not None:
            for line in self._final_marks():
                self.manifest.add(line)
            await self.manifest.flush()
        if self.failures is not None:
            await self.failures.flush()
        return self.tally.summary(
            elapsed=time.monotonic() - self.started, dry_run=self.options.dry_run
        )


async def _empty() -> AsyncIterator[list[Entry]]:
    return
    yield  # pragma: no cover - makes this an async generator


async def _stat(end: Endpoint, key: str) -> Entry:
    if isinstance(end.root, Path):
        from s3flow.bulk.actions import local_path
        from s3flow.localfs import file_entry

        path = local_path(end.root, key)
        size, mtime, ctime = await run_io(path, file_entry, path)
        return Entry(key, size, mtime, "", ctime)
    assert end.backend is not None
    info = await end.backend.head_object(end.location.bucket, end.s3_key(key))
    mtime = info.last_modified.timestamp() if info.last_modified else 0.0
    return Entry(key, info.size, mtime, info.etag)
