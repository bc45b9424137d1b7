"""Output for the console script: progress bar, one-line summaries, JSON lines.

The engine reports progress as typed events to a sink (``s3flow.progress``);
this module is the only place they become pixels. Data goes to stdout
(listings, summaries, JSON lines); the progress bar, notices and errors go to
stderr (under ``--json`` as JSON objects too, as s5cmd prints them).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import sys
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from rich.progress import Progress

    from s3flow.models import TransferResult
    from s3flow.progress import ProgressEvent, ProgressSink

__all__ = ["CommandFailed", "JsonError", "Reporter", "format_rate", "format_size", "printable"]

# What a terminal would act on rather than show: C0 controls (ESC starts every
# escape sequence; CR rewrites the line), DEL, C1 controls (a lone 0x9b is a
# CSI on some terminals), line/paragraph separators, bidi overrides that make
# text read differently than it is, and lone surrogates (non-UTF-8 file names,
# which would also make the write itself fail).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    if char in _NAMED:
        return _NAMED[char]
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8, kept by surrogateescape
        return f"\\x{code - 0xDC00:02x}"
    return f"\\u{code:04x}"


def printable(text: str) -> str:
    r"""``text`` safe to show on a terminal: control characters become visible escapes.

    Every human line the CLI prints passes through here (keys and paths come from
    servers and file systems); ``--json`` output is exact instead (JSON escapes them).

    >>> printable("photo\x1b]0;pwned\x07.jpg\r")
    'photo\\x1b]0;pwned\\x07.jpg\\r'
    """
    return _UNSAFE.sub(_escape, text)


class SafeFormatter(logging.Formatter):
    """``--debug`` log lines, each line escaped like :func:`printable`."""

    def format(self, record: logging.LogRecord) -> str:
        return "\n".join(printable(line) for line in super().format(record).split("\n"))


_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def format_size(nbytes: float) -> str:
    """Binary units, one decimal below 10: ``format_size(1536) == '1.5 KiB'``."""
    value = float(nbytes)
    for unit in _UNITS:
        if abs(value) < 1024 or unit == _UNITS[-1]:
            if unit == "B":
                return f"{int(value)} B"
            return f"{value:.1f} {unit}" if value < 10 else f"{value:.0f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def format_rate(bytes_per_second: float) -> str:
    """``format_rate(104 * 2**20) == '104 MiB/s'``."""
    return f"{format_size(bytes_per_second)}/s"


def _jsonable(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _ignore(event: ProgressEvent, /) -> None:
    """No bar: --quiet, --json, or stderr is not a terminal."""


def _json_line(obj: Mapping[str, object]) -> str:
    return json.dumps({k: _jsonable(v) for k, v in obj.items()}, separators=(",", ":"))


class CommandFailed(click.ClickException):
    """An ``S3FlowError`` at the CLI's edge: its one-line message for people, and the
    error itself (type, bucket, key) for ``--json``."""

    def __init__(self, message: str, error: Exception) -> None:
        super().__init__(printable(message))
        self.text, self.error = message, error


class JsonError(click.ClickException):
    """Under ``--json``, any error that ends the command: one JSON object on stderr
    (as s5cmd prints its errors), with the same exit code as the human line.

    ``{"operation":"cp","error":"s3://b/k: object not found","type":"ObjectNotFound",
    "bucket":"b","key":"k","exit_code":1}``
    """

    def __init__(self, exc: click.ClickException, operation: str | None) -> None:
        text = exc.text if isinstance(exc, CommandFailed) else exc.format_message()
        super().__init__(text)
        self.exit_code = exc.exit_code  # type: ignore[misc]  # click declares a ClassVar; 2 for usage
        record: dict[str, object] = {"operation": operation, "error": text}
        error = exc.error if isinstance(exc, CommandFailed) else exc
        record["type"] = type(error).__name__
        for name in ("bucket", "key"):
            if getattr(error, name, None) is not None:
                record[name] = getattr(error, name)
        self.record = record | {"exit_code": exc.exit_code}

    def show(self, file: object = None) -> None:
        click.echo(_json_line(self.record), err=True)


class Reporter:
    """Everything the CLI prints, chosen by ``--json`` / ``--quiet`` (alias
    ``--only-show-errors``) / ``--no-progress`` and whether stderr is a TTY."""

    def __init__(self, *, as_json: bool = False, quiet: bool = False, bar: bool = True) -> None:
        self.as_json, self.quiet = as_json, quiet
        self.show_bar = bar and not (as_json or quiet) and sys.stderr.isatty()
        self._live: Progress | None = None

    @contextmanager
    def progress(self, label: str) -> Iterator[ProgressSink]:
        """A sink for the engine's events; a live bar (bytes, bytes/s, ETA) only on a TTY."""
        with self.live() as bar:
            if bar is None:
                yield _ignore
            else:
                from s3flow.cli.live import Bar

                yield Bar(bar, bar.add_task(printable(label), total=None))

    @contextmanager
    def live(self) -> Iterator[Progress | None]:
        """A transient rich display on stderr (label, bar, bytes, bytes/s, ETA), or None
        when there should be no bar. Lines from :meth:`say` are printed above it."""
        if not self.show_bar:
            yield None
            return
        from s3flow.cli.live import new_display

        with new_display() as bar:
            self._live = bar
            try:
                yield bar
            finally:
                self._live = None

    def transfer(self, action: str, source: str, dest: str, result: TransferResult) -> None:
        """One finished transfer: a JSON object, or the one-line human summary."""
        if self.as_json:
            if self.quiet:
                return
            fields = dataclasses.asdict(result)
            record = {"operation": action, "action": action, "source": source, "destination": dest}
            self.record(record | fields | {"throughput": result.throughput, "status": "ok"})
            return
        extra = f", {result.resumed_parts} resumed" if result.resumed_parts else ""
        parts = "1 part" if result.parts == 1 else f"{result.parts} parts"
        self.say(
            f"{action}: {source} -> {dest} ({format_size(result.size)}, "
            f"{result.elapsed:.1f} s, {format_rate(result.throughput)}, {parts}, "
            f"{result.retries} retries{extra})"
        )

    def event(self, action: str, text: str, **fields: object) -> None:
        """A non-transfer outcome (``make_bucket: s3://b``), or its JSON object."""
        if self.as_json:
            if self.quiet:
                return
            status = "skipped" if action == "skip" else "ok"
            operation = action.removeprefix("(dryrun) ")  # as bulk lines: a dry_run field
            dry = {"dry_run": True} if operation != action else {}
            record = {"operation": operation, "action": action, **fields, "status": status}
            self.record(record | dry)
        else:
            self.say(f"{action}: {text}")

    def outcome(self, record: Mapping[str, object], text: str) -> None:
        """One object of a bulk verb done: its JSON line, or its human line; neither with
        --quiet / --only-show-errors."""
        if self.quiet:
            return
        if self.as_json:
            self.record(dict(record))
        else:
            self.say(text)

    def failure(self, record: Mapping[str, object], text: str) -> None:
        """One object that failed, on stderr whatever the options: ``failed: KEY: why``,
        or under --json ``record`` with ``"status":"failed"`` (its ``error`` is the why)."""
        if self.as_json:
            click.echo(_json_line({**record, "status": "failed"}), err=True)
        else:
            self._stderr(text)

    def record(self, obj: dict[str, object]) -> None:
        """One JSON line on stdout."""
        click.echo(_json_line(obj))

    def say(self, text: str) -> None:
        """A human line on stdout, unless --quiet; above the bar when both share a terminal."""
        if self.quiet:
            return
        text = printable(text)
        if self._live is not None and sys.stdout.isatty():
            self._live.console.print(text, markup=False, highlight=False, soft_wrap=True)
        else:
            click.echo(text)

    def data(self, text: str) -> None:
        """Output that is the point of the command (listings, URLs): printed even with --quiet."""
        click.echo(printable(text))

    def warn(self, text: str) -> None:
        """A notice on stderr; shown even with --quiet because it needs attention
        (under --json, as ``{"warning": text}``, so stderr stays JSON lines)."""
        if self.as_json:
            click.echo(_json_line({"warning": text}), err=True)
        else:
            self._stderr(text)

    def _stderr(self, text: str) -> None:
        text = printable(text)
        if self._live is not None:  # the bar is on stderr: print above it, not through it
            self._live.console.print(text, markup=False, highlight=False, soft_wrap=True)
        else:
            click.echo(text, err=True)
