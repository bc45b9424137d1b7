"""The job's journal (resume) and failures file, both append-only text.

Journal lines are JSON: a header naming the job, ``{"k": key}`` for each
object copied or deleted, and watermarks ``{"after": a, "w": w}`` saying
every key in ``(a, w]`` of that shard is finished (copied, skipped or
deleted). A rerun skips keys under a watermark or listed individually. Only
keys above the last watermark are held in memory, so loading stays small
however long the job was.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import anyio.to_thread

from s3flow.bulk.diff import Entry
from s3flow.errors import ConfigError
from s3flow.localfs import run_io

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

__all__ = ["DeleteSpool", "Done", "LineWriter", "Watermark", "load_manifest"]

_PRUNE_EVERY = 10_000


@dataclass(slots=True)
class Done:
    """What an earlier run finished: watermark intervals plus loose keys."""

    intervals: dict[str | None, str] = field(default_factory=dict)  # after -> w
    keys: set[str] = field(default_factory=set)

    def covers(self, key: str) -> bool:
        if key in self.keys:
            return True
        return any((a is None or key > a) and key <= w for a, w in self.intervals.items())

    def prune(self) -> None:
        self.keys = {k for k in self.keys if not self._in_interval(k)}

    def _in_interval(self, key: str) -> bool:
        return any((a is None or key > a) and key <= w for a, w in self.intervals.items())


def _load(path: Path, job: dict[str, str]) -> Done:
    done = Done()
    if not path.exists():
        return done
    with open(path, encoding="utf-8") as lines:
        for n, line in enumerate(lines):
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue  # a torn last line from a killed run
            if n == 0:
                if record != {"manifest": 1, **job}:
                    raise ConfigError(
                        f"manifest {path} belongs to another job ({record}); "
                        "give a new manifest path or remove it"
                    )
            elif "w" in record:
                after = record.get("after")
                if record["w"] > done.intervals.get(after, ""):
                    done.intervals[after] = record["w"]
            elif "k" in record:
                done.keys.add(record["k"])
                if len(done.keys) % _PRUNE_EVERY == 0:
                    done.prune()
    done.prune()
    return done


async def load_manifest(path: Path, job: dict[str, str]) -> Done:
    """Read a manifest (or nothing, if absent) and write its header when new."""
    done = await run_io(path, _load, path, job)
    if not await anyio.Path(path).exists():
        writer = LineWriter(path)
        writer.add(json.dumps({"manifest": 1, **job}) + "\n")
        await writer.flush()
    return done


class LineWriter:
    """Buffers lines and appends them to a file in a worker thread, fsynced per flush."""

    def __init__(self, path: Path, *, batch: int = 512) -> None:
        self.path, self.batch = path, batch
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
    """Tracks one shard's finished actions; ``low`` keys before it are all done.

    Actions are numbered as they are produced; they finish in any order.
    Memory is O(actions in flight).
    """

    after: str | None
    low: int = 0
    produced: int = 0
    last: str | None = None
    keys: dict[int, str] = field(default_factory=dict)
    finished: set[int] = field(default_factory=set)

    def start(self, key: str) -> int:
        seq = self.produced
        self.keys[seq] = key
        self.produced += 1
        return seq

    def finish(self, seq: int) -> bool:
        """Mark ``seq`` done; True when the watermark moved."""
        self.finished.add(seq)
        moved = False
        while self.low in self.finished:
            self.finished.discard(self.low)
            self.last = self.keys.pop(self.low)
            self.low += 1
            moved = True
        return moved

    def line(self) -> str:
        return json.dumps({"after": self.after, "w": self.last}) + "\n"


def key_record(key: str) -> str:
    return json.dumps({"k": key}) + "\n"


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
