"""Benchmark scenarios: pure, frozen data. Nothing here touches disks, servers or tools."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB

Direction = Literal["upload", "download"]


@dataclass(frozen=True, kw_only=True)
class Scenario:
    """One transfer measured for every tool: ``count`` files of ``file_size`` bytes each.

    ``count == 1`` is a single object (file ↔ key); more is a directory ↔ prefix.
    """

    name: str
    direction: Direction
    file_size: int
    count: int = 1

    def __post_init__(self) -> None:
        if self.file_size <= 0 or self.count <= 0:
            raise ValueError(f"{self.name}: file_size and count must be positive")

    @property
    def many(self) -> bool:
        """True when the scenario moves a directory of files rather than one object."""
        return self.count > 1

    @property
    def total_bytes(self) -> int:
        return self.file_size * self.count

    @property
    def dataset(self) -> str:
        """Name of the source data set; an upload and a download of the same shape share it."""
        return f"{self.count}x{self.file_size}"


def _label(nbytes: int) -> str:
    for unit, size in (("gib", GiB), ("mib", MiB), ("k", KiB)):
        if nbytes % size == 0:
            return f"{nbytes // size}{unit}"
    return f"{nbytes}b"


def _pair(file_size: int, count: int = 1) -> list[Scenario]:
    shape = _label(file_size) if count == 1 else f"{count}x{_label(file_size)}"
    return [
        Scenario(name=f"{d}-{shape}", direction=d, file_size=file_size, count=count)
        for d in ("upload", "download")
    ]


@dataclass(frozen=True, kw_only=True)
class Plan:
    """What one run measures and how often."""

    scenarios: tuple[Scenario, ...]
    repetitions: int


def build_plan(
    *, quick: bool = False, small: bool = False, huge: bool = False, repetitions: int | None = None
) -> Plan:
    """The default plan (1 GiB and 1,000 x 256 KiB, 3 repetitions) or the quick one.

    ``small`` adds 10,000 x 4 KiB, ``huge`` adds a 5 GiB file (neither in quick mode).

    >>> [s.name for s in build_plan(quick=True).scenarios]
    ['upload-256mib', 'download-256mib', 'upload-200x256k', 'download-200x256k']
    """
    if quick:
        scenarios = _pair(256 * MiB) + _pair(256 * KiB, 200)
    else:
        scenarios = _pair(GiB) + _pair(256 * KiB, 1000)
        if small:
            scenarios += _pair(4 * KiB, 10_000)
        if huge:
            scenarios += _pair(5 * GiB)
    reps = repetitions if repetitions is not None else (1 if quick else 3)
    if reps < 1:
        raise ValueError("repetitions must be at least 1")
    return Plan(scenarios=tuple(scenarios), repetitions=reps)
