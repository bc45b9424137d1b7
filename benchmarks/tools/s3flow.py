"""s3flow through its console script, ``.venv/bin/s3flow cp``."""

from __future__ import annotations

import functools
import os
import sys
import tempfile
from pathlib import Path

from benchmarks.tools import REPO, Command, Job, ToolContext, Variant, tuned_grid

EXE = REPO / ".venv" / "bin" / "s3flow"
# The tuned grid, (parts in flight per file, part size, objects in flight for many files);
# the first is the former fixed setting for one large file.
GRID = (("32", "16MiB", "64"), ("16", "32MiB", "32"), ("64", "8MiB", "128"))


def _build(job: Job, knobs: tuple[str, str, str] | None, fsync: bool = False) -> Command:
    src, dst = str(job.local), job.s3_url
    if job.scenario.direction == "download":
        src, dst = dst, src
    extra: tuple[str, ...] = ()
    verb: tuple[str, ...] = ("cp",)
    if job.scenario.many:
        verb = ("cp", "--recursive")
        if knobs is not None:
            verb += ("--concurrency-objects", knobs[2])
    elif knobs is not None:
        extra = ("--concurrency", knobs[0], "--part-size", knobs[1])
    if fsync:
        extra += ("--fsync",)
    argv = (str(EXE), "--endpoint-url", job.endpoint.url, "-q", *extra, *verb, src, dst)
    env = job.endpoint.env()
    if job.scenario.creds == "refreshable":
        env = _refreshable_env(env)
    return Command(argv=argv, env=env)


def _refreshable_env(env: dict[str, str]) -> dict[str, str]:
    """The same keys, but from a ``credential_process`` profile whose credentials expire."""
    config = Path(tempfile.gettempdir()) / "s3flow-bench-refreshable.config"
    script = Path(__file__).parent / "scripts" / "expiring_credentials.py"
    config.write_text(
        f"[profile expiring]\nregion = {env['AWS_REGION']}\n"
        f"credential_process = {sys.executable} {script}\n"
    )
    env = dict(env)
    env["BENCH_ACCESS_KEY"] = env.pop("AWS_ACCESS_KEY_ID")
    env["BENCH_SECRET_KEY"] = env.pop("AWS_SECRET_ACCESS_KEY")
    if lifetime := os.environ.get("BENCH_CREDENTIALS_LIFETIME"):
        env["BENCH_CREDENTIALS_LIFETIME"] = lifetime
    return env | {"AWS_CONFIG_FILE": str(config), "AWS_PROFILE": "expiring"}


def _botocore_path(job: Job) -> Command:
    """What falling back to botocore costs (proxies, FIPS, …): the README's decision table."""
    cmd = _build(job, None)
    return Command(argv=cmd.argv, env={**cmd.env, "S3FLOW_FAST_PATH": "0"})


def variants(ctx: ToolContext) -> tuple[list[Variant], str | None]:
    note = None if os.access(EXE, os.X_OK) else f"s3flow: {EXE} missing (runs will fail)"
    tuned = [
        (
            f"large: --concurrency {parts} --part-size {size}; many: cp -r --concurrency-objects {objects}",
            functools.partial(_build, knobs=(parts, size, objects)),
        )
        for parts, size, objects in GRID
    ]
    return [
        Variant(
            tool="s3flow",
            variant="defaults",
            config="s3flow cp, no options",
            build=lambda job: _build(job, None),
            refreshable=True,
        ),
        *tuned_grid("s3flow", tuned),
        Variant(
            tool="s3flow",
            variant="botocore-path",
            config="S3FLOW_FAST_PATH=0 s3flow cp: every call through aiobotocore, as behind a proxy",
            build=_botocore_path,
            only=("upload-1gib", "download-1gib"),
        ),
        Variant(
            tool="s3flow",
            variant="fsync",
            config="s3flow --fsync cp (each file fsynced before its rename, directory after)",
            build=lambda job: _build(job, None, fsync=True),
        ),
    ], note
