"""Progress as typed events to a sink. Rendering lives in the CLI only."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

__all__ = [
    "ListingDone",
    "ObjectDone",
    "ObjectQueued",
    "PartDone",
    "PartRetried",
    "ProgressEvent",
    "ProgressSink",
    "TransferDone",
    "TransferStarted",
    "TransferStats",
]


@dataclass(frozen=True, slots=True)
class TransferStarted:
    key: str
    total: int
    parts: int


@dataclass(frozen=True, slots=True)
class PartDone:
    key: str
    part_number: int
    nbytes: int


@dataclass(frozen=True, slots=True)
class PartRetried:
    key: str
    part_number: int
    attempt: int
    reason: str


@dataclass(frozen=True, slots=True)
class TransferDone:
    key: str
    nbytes: int


@dataclass(frozen=True, slots=True)
class ObjectDone:
    """A bulk job (``s3flow.bulk``) finished with one object.

    ``action`` is ``copy``, ``skip``, ``delete`` or ``fail``; with
    ``dry_run`` nothing was done, the event says what would be.
    """

    key: str
    action: str
    nbytes: int
    reason: str = ""
    dry_run: bool = False
    warning: bool = False  # a skip the user must hear about (a special file, a dangling link)


@dataclass(frozen=True, slots=True)
class ObjectQueued:
    """A bulk job's listing found work for one object: ``action`` is ``copy``,
    ``check`` (compare contents, then copy or skip) or ``delete``; ``nbytes`` is
    the size listed. Emitted as the listing goes, so a display's total grows
    with it; every queued object later ends in one ``ObjectDone``."""

    key: str
    action: str
    nbytes: int


@dataclass(frozen=True, slots=True)
class ListingDone:
    """Every listing of a bulk job has ended: no ``ObjectQueued`` follows, so the
    totals queued so far are the job's totals."""


ProgressEvent = (
    TransferStarted
    | PartDone
    | PartRetried
    | TransferDone
    | ObjectDone
    | ObjectQueued
    | ListingDone
)


class ProgressSink(Protocol):
    """Called synchronously by the engine; must be cheap. Exceptions propagate."""

    def __call__(self, event: ProgressEvent, /) -> None: ...


@dataclass(frozen=True, slots=True)
class Statistics:
    total: int
    done: int
    parts_done: int
    retries: int
    transfers_done: int


@dataclass(slots=True)
class TransferStats:
    """A sink that folds events into counters; ``statistics()`` is a frozen snapshot."""

    total: int = 0
    done: int = 0
    parts_done: int = 0
    retries: int = 0
    transfers_done: int = 0
    reasons: list[str] = field(default_factory=list)

    def __call__(self, event: ProgressEvent, /) -> None:
        match event:
            case TransferStarted(total=total):
                self.total += total
            case PartDone(nbytes=nbytes):
                self.done += nbytes
                self.parts_done += 1
            case PartRetried(reason=reason):
                self.retries += 1
                self.reasons.append(reason)
            case TransferDone():
                self.transfers_done += 1

    def statistics(self) -> Statistics:
        return Statistics(self.total, self.done, self.parts_done, self.retries, self.transfers_done)


def ignore(event: ProgressEvent, /) -> None:
    """The default sink."""
