"""One bulk job's state: listings per shard, the workers' action handler, the tally,
the manifest and the failures file. Used by :mod:`s3flow.bulk.runner`."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from s3flow.backend.protocol import Version
from s3flow.bulk.diff import Check, Copy, Delete, Entry, Order
from s3flow.bulk.manifest import Done, LineWriter, Watermark, key_record, load_manifest
from s3flow.bulk.sources import (
    KeyRange,
    list_s3,
    read_key_list,
    walk_local,
    write_key_line,
)
from s3flow.errors import NotFound, S3FlowError
from s3flow.localfs import run_io
from s3flow.progress import ObjectDone, ignore

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from s3flow.bulk.actions import Endpoint, Mover
    from s3flow.bulk.diff import Action
    from s3flow.bulk.runner import SyncOptions, SyncSummary

__all__ = ["Job", "Shard"]

WATERMARK_EVERY = 256


@dataclass(slots=True)
class Shard:
    mark: Watermark
    listed: bool = False
    since_mark: int = 0
    # Watermarks cover whole-key ranges: they are only true while actions come in s3 order.
    ordered: bool = True


@dataclass(slots=True)
class Tally:
    counts: dict[str, int] = field(default_factory=dict)
    failed_keys: list[str] = field(default_factory=list)

    def add(self, what: str, nbytes: int) -> None:
        counts = self.counts
        counts[what] = counts.get(what, 0) + 1
        key = _BYTES[what]
        counts[key] = counts.get(key, 0) + nbytes


@dataclass(slots=True, kw_only=True)
class Job:
    mover: Mover
    options: SyncOptions
    started: float
    tally: Tally = field(default_factory=Tally)
    done: Done | None = None
    manifest: LineWriter | None = None
    failures: LineWriter | None = None
    keys: list[str] | None = None
    shards: list[Shard] = field(default_factory=list)
    deletes: list[tuple[Shard, int, Entry]] = field(default_factory=list)

    async def open(self, src: str, dst: str) -> None:
        opts = self.options
        if opts.manifest is not None and not opts.dry_run:
            self.done = await load_manifest(opts.manifest, {"src": src, "dst": dst})
            self.manifest = LineWriter(opts.manifest)
        if opts.failures_file is not None:
            path = opts.failures_file
            await run_io(path, path.write_text, "")
            self.failures = LineWriter(path)
        if opts.from_list is not None:
            self.keys = await read_key_list(opts.from_list)

    def shard(self, span: KeyRange) -> Shard:
        shard = Shard(Watermark(span.after))
        self.shards.append(shard)
        return shard

    # --- listings ----------------------------------------------------------------

    def listings(
        self, span: KeyRange, order: Order = "s3"
    ) -> tuple[AsyncIterator[list[Entry]], AsyncIterator[list[Entry]]]:
        """Both sides' listings of one shard, as filtered pages in key order (local
        trees are walked in ``order``; S3 lists in the server's own order)."""
        src, dst = self.mover.src, self.mover.dst
        source = self._listing(src, span, order, for_local_dest=dst.is_local)
        dest = self._listing(dst, span, order) if self.options.compare != "always" else _empty()
        return source, dest

    async def _listing(
        self, end: Endpoint, span: KeyRange, order: Order, *, for_local_dest: bool = False
    ) -> AsyncIterator[list[Entry]]:
        if self.keys is not None:
            raw = self._by_keys(end, span, is_source=end is self.mover.src)
        elif isinstance(end.root, Path):
            raw = walk_local(end.root, span, order=order)
        else:
            assert end.backend is not None
            raw = list_s3(end.backend, end.location.bucket, end.location.key, span)
        filters = self.options.filters
        async for page in raw:
            if for_local_dest:  # "folder" marker objects: directories are implicit locally
                page = [e for e in page if not e.key.endswith("/")]
            if filters:
                page = [e for e in page if filters.allows(e.key)]
            if page:
                yield page

    async def _by_keys(
        self, end: Endpoint, span: KeyRange, *, is_source: bool
    ) -> AsyncIterator[list[Entry]]:
        assert self.keys is not None
        for key in self.keys:
            if key not in span:
                continue
            try:
                yield [await _stat(end, key)]
            except NotFound:
                if is_source:
                    self.fail(Entry(key, 0), "not found at the source")
            except S3FlowError as error:
                if is_source:
                    self.fail(Entry(key, 0), str(error))

    # --- acting --------------------------------------------------------------------

    async def run(self, item: tuple[Shard, int, Action]) -> None:
        """Worker: carry out one action; per-object failures are recorded, not raised."""
        shard, seq, action = item
        entry, dry = action.entry, self.options.dry_run
        try:
            if isinstance(action, Check):
                if await self.mover.same_content(action.entry, action.dest):
                    self.skip(entry, "same content")
                    await self.finished(shard, seq)
                    return
                action = Copy(entry, "checksum")
            if isinstance(action, Copy):
                size = entry.size if dry else await self.mover.copy(entry)
                self._record("copied", entry.key, size, "copy", action.reason)
            elif isinstance(action, Delete):
                if not dry and not self.mover.dst.is_local:
                    self.deletes.append((shard, seq, entry))
                    if len(self.deletes) >= self.options.delete_batch:
                        await self.flush_deletes()
                    return
                if not dry:
                    await self.mover.delete_local(entry.key)
                self._record("deleted", entry.key, entry.size, "delete", "extraneous")
        except S3FlowError as error:
            self.fail(entry, str(error))
        await self.finished(shard, seq)

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
                self._record("deleted", entry.key, entry.size, "delete", "extraneous")
            else:
                self.fail(entry, reason)
            await self.finished(shard, seq)

    def skip(self, entry: Entry, reason: str) -> None:
        self.tally.add("skipped", entry.size)
        if self.options.progress is not ignore:  # millions of skips: no event nobody reads
            self.options.progress(
                ObjectDone(entry.key, "skip", entry.size, reason, self.options.dry_run)
            )

    def fail(self, entry: Entry, reason: str) -> None:
        self.tally.add("failed", entry.size)
        if len(self.tally.failed_keys) < self.options.max_failed_keys:
            self.tally.failed_keys.append(entry.key)
        if self.failures is not None:
            self.failures.add(write_key_line(entry.key))
        self.options.progress(ObjectDone(entry.key, "fail", entry.size, reason))

    def _record(self, what: str, key: str, size: int, action: str, reason: str) -> None:
        self.tally.add(what, size)
        if self.manifest is not None:
            self.manifest.add(key_record(key))
        self.options.progress(ObjectDone(key, action, size, reason, self.options.dry_run))

    def track(self, shard: Shard, key: str) -> int:
        """Number an action of ``shard`` for the manifest's watermark (0 without a manifest)."""
        return shard.mark.start(key) if self.manifest is not None else 0

    async def finished(self, shard: Shard, seq: int) -> None:
        if self.manifest is None:
            return
        if shard.mark.finish(seq) and shard.ordered:
            shard.since_mark += 1
            if shard.since_mark >= WATERMARK_EVERY:
                shard.since_mark = 0
                await self.manifest.add_and_flush(shard.mark.line())

    async def close(self) -> SyncSummary:
        from s3flow.bulk.runner import SyncSummary

        await self.flush_deletes()
        if self.manifest is not None:
            for shard in self.shards:
                if shard.mark.last is not None and shard.ordered:
                    self.manifest.add(shard.mark.line())
            await self.manifest.flush()
        if self.failures is not None:
            await self.failures.flush()
        c = self.tally.counts
        return SyncSummary(
            **{k: c.get(k, 0) for k in _COUNTS},
            elapsed=time.monotonic() - self.started,
            failed_keys=tuple(self.tally.failed_keys),
            dry_run=self.options.dry_run,
        )


_BYTES = {w: f"{w}_bytes" for w in ("copied", "skipped", "deleted", "failed")}
_COUNTS = [f"{w}{s}" for w in ("copied", "skipped", "deleted", "failed") for s in ("", "_bytes")]


async def _empty() -> AsyncIterator[list[Entry]]:
    return
    yield  # pragma: no cover - makes this an async generator


async def _stat(end: Endpoint, key: str) -> Entry:
    if isinstance(end.root, Path):
        from s3flow.bulk.actions import local_path
        from s3flow.localfs import identify

        ident = await identify(local_path(end.root, key))
        return Entry(key, ident.size, ident.mtime_ns / 1e9)
    assert end.backend is not None
    info = await end.backend.head_object(end.location.bucket, end.s3_key(key))
    mtime = info.last_modified.timestamp() if info.last_modified else 0.0
    return Entry(key, info.size, mtime, info.etag)
