"""The live progress bar (rich), imported only when one is shown.

Importing rich took about 25 of the console script's 210 ms of imports
(``python -X importtime``), and ``--quiet``, ``--json`` and output that is
not a terminal never draw a bar.
"""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from s3flow.cli.render import format_rate
from s3flow.progress import PartDone, PartRetried, ProgressEvent, TransferStarted

__all__ = ["Bar", "new_display"]


class _SpeedColumn(ProgressColumn):
    """Bytes per second in binary units, like the summary line."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(format_rate(speed) if speed else "?", style="progress.data.speed")


class _EtaColumn(TimeRemainingColumn):
    """The ETA, or ``listing…`` while a bulk job's total is still growing (an ETA
    computed from part of the total would be wrong, not just rough)."""

    def render(self, task: Task) -> Text:
        if task.fields.get("listing"):
            return Text("listing…", style="progress.remaining")
        return super().render(task)


def new_display() -> Progress:
    """A transient display on stderr: label, bar, bytes, bytes/s, ETA."""
    columns = (
        TextColumn("{task.description}", markup=False),  # a key "[link=…]" stays text
        BarColumn(),
        DownloadColumn(binary_units=True),
        _SpeedColumn(),
        _EtaColumn(),
    )
    return Progress(
        *columns,
        console=Console(stderr=True),
        transient=True,
        redirect_stdout=False,
        redirect_stderr=False,
    )


class Bar:
    """A progress sink that drives one rich task; totals grow as transfers start."""

    def __init__(self, progress: Progress, task: TaskID) -> None:
        self._progress, self._task = progress, task
        self.total = 0
        self.retries = 0

    def __call__(self, event: ProgressEvent, /) -> None:
        match event:
            case TransferStarted(total=total):
                self.total += total
                self._progress.update(self._task, total=self.total)
            case PartDone(nbytes=nbytes):
                self._progress.advance(self._task, nbytes)
            case PartRetried():
                self.retries += 1
            case _:
                pass
