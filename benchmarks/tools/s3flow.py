"""s3flow through its console script, ``.venv/bin/s3flow cp``."""

from __future__ import annotations

import functools
import os

from benchmarks.tools import REPO, Command, Job, ToolContext, Variant, tuned_grid

EXE = REPO / ".venv" / "bin" / "s3flow"
# The tuned grid, (parts or files in flight, part size); the first is the former fixed setting.
GRID = (("32", "16MiB"), ("16", "32MiB"), ("64", "8MiB"))


def _build(job: Job, extra: tuple[str, ...]) -> Command:
    src, dst = str(job.local), job.s3_url
    if job.scenario.direction == "download":
        src, dst = dst, src
    recursive = ("--recursive",) if job.scenario.many else ()
    argv = (str(EXE), "--endpoint-url", job.endpoint.url, "-q", *extra, "cp", *recursive, src, dst)
    return Command(argv=argv, env=job.endpoint.env())


def variants(ctx: ToolContext) -> tuple[list[Variant], str | None]:
    note = None if os.access(EXE, os.X_OK) else f"s3flow: {EXE} missing (runs will fail)"
    tuned = [
        (
            f"--concurrency {n} --part-size {size}",
            functools.partial(_build, extra=("--concurrency", n, "--part-size", size)),
        )
        for n, size in GRID
    ]
    return [
        Variant(
            tool="s3flow",
            variant="defaults",
            config="s3flow cp, no options",
            build=lambda job: _build(job, ()),
        ),
        *tuned_grid("s3flow", tuned),
    ], note
