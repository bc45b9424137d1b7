"""Tool adapters: each builds the command line that makes one tool do one transfer.

Every tool runs as a child process (see ``benchmarks.measure``), so client CPU and peak RSS
are measured the same way for all. A module per tool exposes ``variants(ctx)``: the tool at
its defaults and a small grid of tuned candidates (``benchmarks.sweep`` picks one per
scenario), or an empty list plus a note when unavailable.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from benchmarks.anchors import Anchors
    from benchmarks.scenarios import Scenario

SCRIPTS = Path(__file__).resolve().parent / "scripts"
REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True, kw_only=True)
class Endpoint:
    """The S3 server under test and its credentials."""

    url: str
    access_key: str
    secret_key: str = field(repr=False)
    region: str = "us-east-1"
    ca_bundle: str | None = None  # https: the server's throwaway certificate, to trust

    def env(self) -> dict[str, str]:
        """A clean child environment: only PATH/HOME/locale plus these credentials.

        Nothing is inherited from the caller, so profiles and config files cannot change a
        tool's behaviour. Over https, ``AWS_CA_BUNDLE`` names the server's certificate (rclone
        fails while it is set: its adapter swaps it for ``RCLONE_CA_CERT``).
        """
        keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
        return {
            **keep,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            **({"AWS_CA_BUNDLE": self.ca_bundle} if self.ca_bundle else {}),
        }


@dataclass(frozen=True, kw_only=True)
class Job:
    """One transfer: for a single object ``local`` is a file and ``key`` a key; for many
    files ``local`` is a directory and ``key`` a prefix ending in ``/``."""

    scenario: Scenario
    endpoint: Endpoint
    bucket: str
    key: str
    local: Path

    @property
    def s3_url(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


@dataclass(frozen=True, kw_only=True)
class Command:
    argv: tuple[str, ...]
    env: dict[str, str]


@dataclass(frozen=True, kw_only=True)
class Variant:
    """A tool at one configuration; ``config`` says in words what was set.

    A tuned variant is one candidate of its tool's sweep grid: ``candidate`` numbers them from
    1 in the order declared, and candidate 1 is the fixed setting used when no sweep runs.
    """

    tool: str
    variant: str  # "defaults", "tuned", "fsync" (downloads only: durable files), "botocore-path"
    config: str
    build: Callable[[Job], Command]
    candidate: int = 0  # tuned: 1, 2, …; defaults: 0
    tls: bool = True  # can run the https scenarios
    refreshable: bool = False  # can run the refreshable-credentials scenarios
    only: tuple[str, ...] = ()  # the scenario names it runs in; empty: every one

    def runs_in(self, scenario: Scenario) -> bool:
        """False for https scenarios the tool cannot trust a private CA in, refreshable-credentials
        ones it is not set up for, and "fsync" uploads (nothing to flush locally)."""
        if scenario.tls and not self.tls:
            return False
        if scenario.creds == "refreshable" and not self.refreshable:
            return False
        if self.only and scenario.name not in self.only:
            return False
        return self.variant != "fsync" or scenario.direction == "download"

    @property
    def label(self) -> str:
        return f"{self.tool} {self.variant}"


@dataclass(frozen=True, kw_only=True)
class ToolContext:
    anchors: Anchors


def tuned_grid(tool: str, grid: Sequence[tuple[str, Callable[[Job], Command]]]) -> list[Variant]:
    """A tool's tuned candidates from ``(config, build)`` pairs, numbered 1, 2, … in order."""
    return [
        Variant(tool=tool, variant="tuned", config=config, build=build, candidate=n)
        for n, (config, build) in enumerate(grid, 1)
    ]


def knobs(**values: object) -> tuple[str, ...]:
    """A script's tuning arguments: ``knobs(part_size_mib=16)`` is ``("--part-size-mib", "16")``."""
    return tuple(arg for k, v in values.items() for arg in (f"--{k.replace('_', '-')}", str(v)))


def script_args(job: Job, extra: Sequence[str] = ()) -> list[str]:
    """Arguments understood by every script in ``tools/scripts``; ``extra``: tuning knobs."""
    ep = job.endpoint
    args = ["--endpoint", ep.url, "--region", ep.region, "--bucket", job.bucket]
    args += ["--key", job.key, "--local", str(job.local), "--direction", job.scenario.direction]
    if job.scenario.many:
        args.append("--many")
    return [*args, *extra]


def all_variants(ctx: ToolContext) -> tuple[list[Variant], list[str]]:
    """Every available tool variant, s3flow first, plus notes about tools left out."""
    from benchmarks.tools import boto3_tool, crt, obstore_tool, rclone, s3flow, s5cmd

    variants: list[Variant] = []
    notes: list[str] = []
    for module in (s3flow, boto3_tool, s5cmd, rclone, crt, obstore_tool):
        found, note = module.variants(ctx)
        variants += found
        if note:
            notes.append(note)
    return variants, notes


def script_variants(
    ctx: ToolContext,
    *,
    tool: str,
    script: str,
    defaults: str,
    tuned: Sequence[tuple[str, tuple[str, ...]]],
    tls: bool = True,
) -> tuple[list[Variant], str | None]:
    """Variants for a Python-library tool driven by ``tools/scripts/<script>`` in the anchor venv.

    ``tuned`` is the grid: ``(config in words, the script's knob arguments)`` per candidate.
    """
    python = ctx.anchors.python
    if python is None:
        return [], f"{tool}: anchor venv missing; skipped"
    path = str(SCRIPTS / script)

    def builder(extra: tuple[str, ...]) -> Callable[[Job], Command]:
        def build(job: Job) -> Command:
            argv = (str(python), path, *script_args(job, extra))
            return Command(argv=argv, env=job.endpoint.env())

        return build

    grid = [(config, builder(extra)) for config, extra in tuned]
    found = [
        Variant(tool=tool, variant="defaults", config=defaults, build=builder(())),
        *tuned_grid(tool, grid),
    ]
    return [dataclasses.replace(v, tls=tls) for v in found], None
