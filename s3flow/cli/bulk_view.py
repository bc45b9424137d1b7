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
from s3flow.progress import ObjectDone, PartDone, ProgressEvent, TransferStarted

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from rich.progress import Progress, TaskID

    from s3flow.bulk.options import SyncSummary
    from s3flow.cli.render import Reporter

__all__ = ["BulkView", "Side", "report", "summary_line"]

SHOWN_FAILURES = 5


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
    """The progress sink of one bulk job (call it with events); also keeps failure reasons."""

    def __init__(self, out: Reporter, src: Side, dst: Side, *, lines: bool = True) -> None:
        self.out, self.src, self.dst = out, src, dst
        self.verb = verb(src, dst)
        self.lines = lines and not out.as_json
        self.reasons: dict[str, str] = {}  # the first few failures' reasons
        self.counts = {"copy": 0, "skip": 0, "delete": 0, "fail": 0}
        # PartDone keys are full S3 keys of the side that moves the bytes.
        self._moving = dst if dst.location is not None else src
        self._running: dict[str, int] = {}  # full key -> bytes reported so far
        self._announced: set[str] = set()  # full keys whose size is in the total already
        self._started = 0  # bytes of the transfers that have started (the bar's total)
        self._bar: Progress | None = None
        self._task: TaskID | None = None

    @contextmanager
    def live(self) -> Iterator[BulkView]:
        """Show the bar (on a TTY) while the job runs."""
        with self.out.live() as bar:
            if bar is not None:
                self._bar, self._task = bar, bar.add_task(self._label(), total=None)
            try:
                yield self
            finally:
                self._bar = self._task = None

    def __call__(self, event: ProgressEvent, /) -> None:
        match event:
            case ObjectDone():
                self._object(event)
            case TransferStarted(key=key, total=total) if key.startswith(self._moving.prefix):
                self._announced.add(key)
                self._started += total
                self._update(0, total=self._started)
            case PartDone(key=key, nbytes=nbytes) if key.startswith(self._moving.prefix):
                self._running[key] = self._running.get(key, 0) + nbytes
                self._update(nbytes)
            case _:
                pass

    def _object(self, event: ObjectDone) -> None:
        self._warn(event)
        self.counts[event.action] = self.counts.get(event.action, 0) + 1
        dry = "(dryrun) " if event.dry_run else ""
        full = self._moving.prefix + event.key
        seen = self._running.pop(full, 0)
        announced = full in self._announced
        self._announced.discard(full)
        if event.action == "copy":
            if not announced:  # no TransferStarted: server-side or streamed copy, dry run
                self._started += event.nbytes
            self._update(event.nbytes - seen, total=self._started)
            if self.lines:
                src, dst = self.src.show(event.key), self.dst.show(event.key)
                self.out.say(f"{dry}{self.verb}: {src} -> {dst}")
        elif event.action == "delete":
            if self.lines:
                self.out.say(f"{dry}delete: {self.dst.show(event.key)}")
        elif event.action == "fail" and len(self.reasons) < SHOWN_FAILURES:
            self.reasons[event.key] = event.reason
        self._update(0)

    def _warn(self, event: ObjectDone) -> None:
        if event.warning:  # aws s3: "warning: Skipping file …"
            self.out.warn(f"warning: skipped {self.src.show(event.key)}: {event.reason}")

    def _label(self) -> str:
        c = self.counts
        return f"{c['copy']} copied, {c['skip']} skipped, {c['delete']} deleted, {c['fail']} failed"

    def _update(self, advance: int, *, total: int | None = None) -> None:
        if self._bar is None or self._task is None:
            return
        self._bar.update(self._task, advance=advance, description=self._label())
        if total is not None:
            self._bar.update(self._task, total=total)


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
    """Print the summary; failed objects raise ClickException (one ``Error:`` line, exit 1)."""
    if out.as_json:
        out.record(dataclasses.asdict(summary))
    else:
        out.say(summary_line(summary))
    if not summary.failed:
        _warned(out, summary.warned)
        return
    n = summary.failed
    objects = "1 object" if n == 1 else f"{n} objects"
    if failures_file is not None:
        raise click.ClickException(
            printable(
                f"{objects} failed; their keys are in {failures_file} "
                f"(rerun with --from-list {failures_file})"
            )
        )
    shown = summary.failed_keys[:SHOWN_FAILURES]
    for key in shown:
        reason = view.reasons.get(key)
        out.warn(f"failed: {view.src.show(key)}" + (f": {reason}" if reason else ""))
    more = f" ({len(shown)} shown; --failures-file FILE lists all)" if n > len(shown) else ""
    raise click.ClickException(f"{objects} failed{more}")
