"""Benchmark scenarios: pure, frozen data. Nothing here touches disks, servers or tools."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB

Direction = Literal["upload", "download"]
# Who uploaded the objects a download reads: s5cmd sends no checksum (the
# object has only its MD5 ETag); boto3 at its defaults (1.36+) sends CRC32s,
# as every current AWS SDK does.
Seeder = Literal["s5cmd", "boto3"]


@dataclass(frozen=True, kw_only=True)
class Scenario:
    """One transfer measured for every tool: ``count`` files of ``file_size`` bytes each.

    ``count == 1`` is a single object (file ↔ key); more is a directory ↔ prefix.
    """

    name: str
    direction: Direction
    file_size: int
    count: int = 1
    seeder: Seeder = "s5cmd"
    tls: bool = False  # over SeaweedFS's HTTPS port (the same objects as over HTTP)
    # "refreshable": keys from a credential_process profile with an Expiration (s3flow only)
    creds: Literal["static", "refreshable"] = "static"

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

    @property
    def seed_prefix(self) -> str:
        """Where a download scenario's objects are (one copy per data set and seeder)."""
        return f"seed-{self.seeder}/{self.dataset}/"


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


def _https(s: Scenario) -> Scenario:
    return replace(s, name=f"{s.name}-https", tls=True)


def _refreshable(s: Scenario) -> Scenario:
    return replace(s, name=f"{s.name}-refreshable", creds="refreshable")


@dataclass(frozen=True, kw_only=True)
class Plan:
    """What one run measures and how often."""

    scenarios: tuple[Scenario, ...]
    repetitions: int


def build_plan(
    *, quick: bool = False, small: bool = False, huge: bool = False, repetitions: int | None = None
) -> Plan:
    """The default plan (1 GiB and 1,000 x 256 KiB, 3 repetitions) or the quick one.

    The 1 GiB download runs twice: objects from s5cmd (MD5 ETag only) and
    from boto3's defaults (CRC32). The 1 GiB and 1,000 x 256 KiB downloads run
    over HTTPS too (``-https``). ``small`` adds 10,000 x 4 KiB, ``huge``
    adds a 5 GiB file (neither in quick mode).

    >>> [s.name for s in build_plan(quick=True).scenarios]
    ['upload-256mib', 'download-256mib', 'upload-200x256k', 'download-200x256k']
    >>> [s.name for s in build_plan().scenarios][:3]
    ['upload-1gib', 'download-1gib', 'download-1gib-crc32']
    """
    if quick:
        scenarios = _pair(256 * MiB) + _pair(256 * KiB, 200)
    else:
        crc = Scenario(name="download-1gib-crc32", direction="download", file_size=GiB)
        many = _pair(256 * KiB, 1000)
        scenarios = [*_pair(GiB), replace(crc, seeder="boto3"), *many]
        scenarios += [_https(scenarios[1]), _https(many[1])]
        # The production shape (issue 13): private CA, expiring credentials, against static keys.
        big_https = [_https(scenarios[0]), scenarios[-2]]
        scenarios += [big_https[0], *map(_refreshable, big_https)]
        if small:
            scenarios += _pair(4 * KiB, 10_000)
        if huge:
            scenarios += _pair(5 * GiB)
    reps = repetitions if repetitions is not None else (1 if quick else 3)
    if reps < 1:
        raise ValueError("repetitions must be at least 1")
    return Plan(scenarios=tuple(scenarios), repetitions=reps)
