"""What ``sync`` and ``cp --recursive`` print: one line per object, a live bar, the summary.

The bulk engine reports each finished object as an ``ObjectDone`` event and
the bytes of running transfers as ``PartDone`` events; :class:`BulkView` is
the sink that turns them into ``upload: a.txt -> s3://b/p/a.txt`` lines and a
progress display (objects, bytes, rate, ETA), and :func:`report` prints the
summary and turns failed objects into exit code 1.
"""

from __future__ import annotations

import dataclasses
from contextlib import contextmanager
from typing import TYPE_CHECKING

import click

from s3flow.cli.render import format_size, printable
from s3flow.models import S3Location
from s3flow.progress import (
    ListingDone,
    ObjectDone,
    ObjectQueued,
    PartDone,
    ProgressEvent,
    TransferStarted,
)

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from rich.progress import Progress, TaskID

    from s3flow.bulk.options import SyncSummary
    from s3flow.cli.render import Reporter

__all__ = ["BulkView", "Side", "report", "summary_line"]


@dataclasses.dataclass(frozen=True, slots=True)
class Side:
    """One side of a job as the user wrote it; ``show(key)`` names one of its objects."""

    text: str

    @property
    def location(self) -> S3Location | None:
        return S3Location.parse(self.text) if S3Location.is_s3_url(self.text) else None

    @property
    def prefix(self) -> str:
        """The S3 key prefix the engine uses (``p`` → ``p/``), or "" for a local side."""
        loc = self.location
        if loc is None or not loc.key or loc.key.endswith("/"):
            return "" if loc is None else loc.key
        return loc.key + "/"

    def show(self, key: str) -> str:
        loc = self.location
        if loc is not None:
            return f"s3://{loc.bucket}/{self.prefix}{key}"
        if self.text in (".", "./"):
            return key
        return f"{self.text}{key}" if self.text.endswith("/") else f"{self.text}/{key}"


def verb(src: Side, dst: Side) -> str:
    """upload, download or copy."""
    if src.location is None:
        return "upload"
    return "download" if dst.location is None else "copy"


class BulkView:
    """The progress sink of one bulk job (call it with events).

    Each object done is one line (``upload: a -> s3://b/a``, or a JSON object with
    ``--json``); each failed one is one line on stderr naming it and saying why, as
    it happens. The bar's total is what the listing has queued so far; it reads
    ``listing…`` (and the ETA column too) until the listing has ended, then the ETA
    is real. Memory: only objects queued and not yet done are remembered.
    """

    def __init__(self, out: Reporter, src: Side, dst: Side, *, lines: bool = True) -> None:
        self.out, self.src, self.dst = out, src, dst
        self.verb = verb(src, dst)
        self.lines = lines
        self.failures_shown = 0
        self.counts = {"copy": 0, "skip": 0, "delete": 0, "fail": 0}
        self.queued = 0  # objects the listing handed to the workers
        self.settled = 0  # of those, the ones done
        self.listing = True
        # PartDone keys are full S3 keys of the side that moves the bytes.
        self._moving = dst if dst.location is not None else src
        self._running: dict[str, int] = {}  # full key -> bytes reported so far
        self._planned: dict[str, int] = {}  # key -> bytes counted in the total, until done
        self._total = 0  # the bar's total: bytes queued, corrected as objects finish
        self._bar: Progress | None = None
        self._task: TaskID | None = None

    @contextmanager
    def live(self) -> Iterator[BulkView]:
        """Show the bar (on a TTY) while the job runs."""
        with self.out.live() as bar:
            if bar is not None:
                self._bar = bar
                self._task = bar.add_task(self._label(), total=None, listing=True)
            try:
                yield self
            finally:
                self._bar = self._task = None

    def __call__(self, event: ProgressEvent, /) -> None:
        match event:
            case ObjectDone():
                self._object(event)
            case ObjectQueued(key=key, action=action, nbytes=nbytes):
                self.queued += 1
                moves = 0 if action == "delete" else nbytes
                self._planned[key] = moves
                self._grow(moves)
                self._update(0)
            case ListingDone():
                self.listing = False
                self._update(0)
            case TransferStarted(key=key, total=total) if key.startswith(self._moving.prefix):
                relative = key[len(self._moving.prefix) :]
                self._grow(total - self._planned.get(relative, 0))
                self._planned[relative] = total
                self._update(0)
            case PartDone(key=key, nbytes=nbytes) if key.startswith(self._moving.prefix):
                self._running[key] = self._running.get(key, 0) + nbytes
                self._update(nbytes)
            case _:
                pass

    def _grow(self, nbytes: int) -> None:
        self._total += nbytes
        if self._bar is not None and self._task is not None and self._total > 0:
            self._bar.update(self._task, total=self._total)

    def _object(self, event: ObjectDone) -> None:
        self._warn(event)
        self.counts[event.action] = self.counts.get(event.action, 0) + 1
        seen = self._running.pop(self._moving.prefix + event.key, 0)
        planned = self._planned.pop(event.key, None)
        self.settled += planned is not None  # inline skips and listing failures: never queued
        if event.action == "copy":
            # Not queued (a shard's listing that reports no queue): count it now.
            self._grow(event.nbytes - (planned if planned is not None else 0))
            self._update(event.nbytes - seen)
            self._copied(event)
        else:
            # Bytes that will never move leave the total; the ones that did stay done.
            self._grow(seen - (planned or 0))
            if event.action == "delete":
                self._deleted(event)
            elif event.action == "fail":
                self._failed(event)
            self._update(0)

    def _copied(self, event: ObjectDone) -> None:
        if not self.lines:
            return
        src, dst = self.src.show(event.key), self.dst.show(event.key)
        self._done(event, self.verb, f"{src} -> {dst}", source=src, destination=dst)

    def _deleted(self, event: ObjectDone) -> None:
        if not self.lines:
            return
        dst = self.dst.show(event.key)
        self._done(event, "delete", dst, destination=dst)

    def _done(self, event: ObjectDone, operation: str, what: str, **sides: str) -> None:
        """One finished object: a JSON record under --json, else ``operation: what``."""
        record = {
            "operation": operation,
            **sides,
            "size": event.nbytes,
            "status": "ok",
            "dry_run": event.dry_run,
        }
        dry = "(dryrun) " if event.dry_run else ""
        self.out.outcome(record, f"{dry}{operation}: {what}")

    def _failed(self, event: ObjectDone) -> None:
        self.failures_shown += 1
        src, dst = self.src.show(event.key), self.dst.show(event.key)
        record = {
            "operation": self.verb,
            "source": src,
            "destination": dst,
            "size": event.nbytes,
            "error": event.reason,
        }
        reason = f": {event.reason}" if event.reason else ""
        self.out.failure(record, f"failed: {src}{reason}")

    def _warn(self, event: ObjectDone) -> None:
        if event.warning:  # aws s3: "warning: Skipping file …"
            self.out.warn(f"warning: skipped {self.src.show(event.key)}: {event.reason}")

    def _label(self) -> str:
        c = self.counts
        more = "+" if self.listing else ""  # the ETA column says "listing…" meanwhile
        return (
            f"{self.settled}/{self.queued}{more} objects: {c['copy']} copied, {c['skip']} skipped, "
            f"{c['delete']} deleted, {c['fail']} failed"
        )

    def _update(self, advance: int) -> None:
        if self._bar is None or self._task is None:
            return
        self._bar.update(
            self._task, advance=advance, description=self._label(), listing=self.listing
        )


def summary_line(summary: SyncSummary) -> str:
    """``copied 12 (3.4 MiB), skipped 5, deleted 1, failed 0 in 1.2 s``."""
    s = summary
    text = (
        f"copied {s.copied} ({format_size(s.copied_bytes)}), skipped {s.skipped}, "
        f"deleted {s.deleted}, failed {s.failed} in {s.elapsed:.1f} s"
    )
    return f"(dryrun) {text}" if s.dry_run else text


def _warned(out: Reporter, n: int) -> None:
    """As aws s3: exit code 2 when files were skipped with a warning and none failed."""
    if n:
        files = "1 local file" if n == 1 else f"{n} local files"
        out.warn(f"{files} skipped with a warning (see above); exit code 2")
        raise click.exceptions.Exit(2)


def report(
    out: Reporter,
    summary: SyncSummary,
    view: BulkView,
    failures_file: Path | None,
) -> None:
    """Print the summary; failed objects raise ClickException (one ``Error:`` line, exit 1).

    Each failed object has had its own line on stderr already (``failed: KEY: why``);
    a cluster job's events stay on its workers, so its failed keys are listed here.
    """
    if out.as_json:
        out.outcome({"operation": "summary", **dataclasses.asdict(summary)}, "")
    else:
        out.outcome({}, summary_line(summary))
    if not summary.failed:
        _warned(out, summary.warned)
        return
    if not view.failures_shown:
        for key in summary.failed_keys:
            src, dst = view.src.show(key), view.dst.show(key)
            record = {"operation": view.verb, "source": src, "destination": dst, "error": ""}
            out.failure(record, f"failed: {src} (a cluster job does not send reasons back)")
    n = summary.failed
    objects = "1 object" if n == 1 else f"{n} objects"
    if failures_file is not None:
        raise click.ClickException(
            printable(
                f"{objects} failed; their keys are in {failures_file} "
                f"(rerun with --from-list {failures_file})"
            )
        )
    shown = view.failures_shown or len(summary.failed_keys)
    more = f" ({shown} shown; --failures-file FILE lists all)" if n > shown else ""
    raise click.ClickException(f"{objects} failed{more}")
