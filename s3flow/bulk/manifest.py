"""The job's journal (resume) and failures file, both append-only text.

Journal lines are JSON: a header naming the job; ``{"k": key, "s": stamp}``
for each object copied, with its source's identity (size, mtime, ETag,
change time); and watermarks ``{"after": a, "w": w, "t": t}`` saying every
key in ``(a, w]`` of that shard was settled (copied, found the same, or
deleted) by a run that started at ``t`` (epoch seconds, this machine's clock).

When a record applies (README, "Reruns and failures"): the manifest is only
asked about work the listings cannot settle themselves (``compare="always"``
copies and ``checksum`` checks); a difference the diff sees is acted on
whatever the manifest says. Then a key is done if its latest ``k`` record has
the source's present identity, or it lies under a watermark and its source
last changed more than :data:`SKEW` seconds before that run started. A failed
key is never under a watermark: the interval ends before it and the next one
starts after it (after its whole subtree, for a directory that could not be
read). Only keys changed near their run's start are held in memory, so
loading stays small however long the job was.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio.to_thread

from s3flow.bulk.diff import Entry, Order, before
from s3flow.errors import ConfigError
from s3flow.localfs import run_io

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

__all__ = [
    "SKEW",
    "DeleteSpool",
    "Done",
    "LineWriter",
    "Watermark",
    "key_record",
    "load_manifest",
    "stamp",
    "subtree_end",
]

_PRUNE_EVERY = 10_000

# How far the source's clock may be ahead of ours. AWS refuses requests whose
# signature time is more than 15 minutes off, so a server's clock is within this.
SKEW = 900.0

# Keys are at most 1,024 bytes of UTF-8, so no key under "d/" reaches "d/" + 256 of
# the largest code point: this bounds the subtree of a directory that failed.
_TOP = "\U0010ffff" * 256


def subtree_end(key: str) -> str:
    """A key after every key under ``key + "/"`` (and after ``key`` itself)."""
    return f"{key}/{_TOP}"


def stamp(entry: Entry) -> list[Any]:
    """The source identity recorded with a copied key."""
    return [entry.size, entry.mtime, entry.etag, entry.ctime]


def changed_at(entry: Entry) -> float:
    """When the source last changed: a local file's change time (which nothing can set
    back, unlike mtime), an object's LastModified."""
    return max(entry.mtime, entry.ctime)


@dataclass(slots=True)
class Done:
    """What earlier runs settled: watermark intervals plus recently changed keys."""

    intervals: dict[tuple[str | None, float], str] = field(default_factory=dict)  # (after, t) -> w
    keys: dict[str, list[Any]] = field(default_factory=dict)  # key -> stamp
    times: dict[str, float] = field(default_factory=dict)  # key -> its run's start
    order: Order = "s3"

    def covers(self, entry: Entry) -> bool:
        """True when ``entry`` (a source entry) was settled in its present state."""
        recorded = self.keys.get(entry.key)
        if recorded is not None and recorded == stamp(entry):
            return True
        return self._under(entry.key, changed_at(entry))

    def _under(self, key: str, changed: float) -> bool:
        order = self.order
        return any(
            changed < t - SKEW
            and (a is None or before(a, key, order))
            and not before(w, key, order)
            for (a, t), w in self.intervals.items()
        )

    def prune(self) -> None:
        """Forget key records a watermark already answers for (same answer, less memory)."""
        self.keys = {
            k: s
            for k, s in self.keys.items()
            if not self._under(k, max(s[1], s[3]) if len(s) == 4 else float("inf"))
        }
        self.times = {k: t for k, t in self.times.items() if k in self.keys}


def _load(path: Path, job: dict[str, str], order: Order) -> Done:
    done = Done(order=order)
    if not path.exists():
        return done
    with open(path, encoding="utf-8") as lines:
        for n, line in enumerate(lines):
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue  # a torn last line from a killed run
            if n == 0:
                _check_header(path, record, job)
            elif isinstance(record, dict):
                _apply(done, record)
    done.prune()
    return done


def _check_header(path: Path, record: object, job: dict[str, str]) -> None:
    if record != {"manifest": 1, **job}:
        raise ConfigError(
            f"manifest {path} belongs to another job ({record}); "
            "give a new manifest path or remove it"
        )


def _apply(done: Done, record: dict[str, Any]) -> None:
    """One manifest line: a watermark (``w``) or a key record (``k``); others are ignored."""
    if "w" in record:
        # Lines of older versions carry no time: they never cover anything.
        slot = (record.get("after"), float(record.get("t", float("-inf"))))
        mark = record["w"]
        if mark is not None and (
            slot not in done.intervals or before(done.intervals[slot], mark, done.order)
        ):
            done.intervals[slot] = mark
    elif "k" in record and isinstance(record.get("s"), list):
        done.keys[record["k"]] = record["s"]
        if len(done.keys) % _PRUNE_EVERY == 0:
            done.prune()


async def load_manifest(path: Path, job: dict[str, str], *, order: Order = "s3") -> Done:
    """Read a manifest (or nothing, if absent) and write its header when new."""
    done = await run_io(path, _load, path, job, order)
    if not await anyio.Path(path).exists():
        writer = LineWriter(path)
        writer.add(json.dumps({"manifest": 1, **job}) + "\n")
        await writer.flush()
    return done


class LineWriter:
    """Buffers lines and appends them to a file in a worker thread, fsynced per flush.

    ``before_flush`` runs before each write of lines (the manifest's group
    commit: the files those lines name are made durable first).
    """

    def __init__(
        self,
        path: Path,
        *,
        batch: int = 512,
        before_flush: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.path, self.batch = path, batch
        self.before_flush = before_flush
        self._lines: list[str] = []
        self._lock = anyio.Lock()

    def add(self, line: str) -> bool:
        """Queue a line; True when the buffer is full and should be flushed."""
        self._lines.append(line)
        return len(self._lines) >= self.batch

    async def flush(self) -> None:
        async with self._lock:
            lines, self._lines = self._lines, []
            if lines:
                if self.before_flush is not None:
                    await self.before_flush()
                await run_io(self.path, _append, self.path, "".join(lines))

    async def add_and_flush(self, line: str) -> None:
        if self.add(line):
            await self.flush()


def _append(path: Path, text: str) -> None:
    with open(path, "a", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())


@dataclass(slots=True)
class Watermark:
    """Tracks one shard's settled actions as intervals ``(after, last]`` of settled keys.

    Actions are numbered as they are produced, in key order; they settle in
    any order. A failed one ends the interval before it: its line goes to
    ``closed`` and the next interval starts after the failure's ``bound``.
    Memory is O(actions in flight).
    """

    after: str | None
    started: float = 0.0  # wall-clock start of this run, written with each interval
    low: int = 0
    produced: int = 0
    last: str | None = None
    keys: dict[int, str] = field(default_factory=dict)
    settled: dict[int, str | None] = field(default_factory=dict)  # seq -> None, or failed: bound
    closed: list[str] = field(default_factory=list)

    def start(self, key: str) -> int:
        seq = self.produced
        self.keys[seq] = key
        self.produced += 1
        return seq

    def finish(self, seq: int, *, failed: str | None = None) -> bool:
        """Mark ``seq`` settled (or ``failed``: the key after which the next interval may
        start); True when the watermark moved."""
        self.settled[seq] = failed
        moved = False
        while self.low in self.settled:
            bound = self.settled.pop(self.low)
            key = self.keys.pop(self.low)
            self.low += 1
            moved = True
            if bound is None:
                self.last = key
                continue
            if self.last is not None:
                self.closed.append(self.line())
            self.after, self.last = bound, None
        return moved

    def gap(self, bound: str) -> None:
        """A failure found while listing (nothing to act on): everything up to ``bound``
        stays outside the watermark."""
        self.finish(self.start(bound), failed=bound)

    def line(self) -> str:
        return json.dumps({"after": self.after, "w": self.last, "t": self.started}) + "\n"


def key_record(entry: Entry) -> str:
    return json.dumps({"k": entry.key, "s": stamp(entry)}) + "\n"


class DeleteSpool:
    """Holds a shard's deletes on disk until its listings have finished in order.

    A server listing in another order than assumed is only noticed at the
    first inversion; deleting before then could remove objects the source
    still has. Spooling keeps memory flat however many deletes there are.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.writer = LineWriter(self.path, batch=1000)
        self.count = 0

    @classmethod
    async def open(cls) -> DeleteSpool:
        return cls(Path(await anyio.to_thread.run_sync(_temp_file)))

    async def add(self, entry: Entry) -> None:
        self.count += 1
        await self.writer.add_and_flush(json.dumps(list(entry)) + "\n")

    async def drain(self, *, batch: int = 1000) -> AsyncIterator[list[Entry]]:
        """The spooled entries in order, ``batch`` at a time; removes the file at the end."""
        await self.writer.flush()
        try:
            async with await anyio.open_file(self.path, encoding="utf-8") as f:
                chunk: list[Entry] = []
                async for line in f:
                    chunk.append(Entry(*json.loads(line)))
                    if len(chunk) >= batch:
                        yield chunk
                        chunk = []
                if chunk:
                    yield chunk
        finally:
            self.close()

    def close(self) -> None:
        # Synchronous on purpose: it must run even while the task is being cancelled.
        self.path.unlink(missing_ok=True)


def _temp_file() -> str:
    fd, name = tempfile.mkstemp(prefix="s3flow-deletes-", suffix=".jsonl")
    os.close(fd)
    return name
