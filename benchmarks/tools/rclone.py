"""rclone (Debian's package), configured entirely by environment variables."""

from __future__ import annotations

from benchmarks.tools import Command, Job, ToolContext, Variant

TUNED_LARGE = (
    "--s3-upload-concurrency",
    "16",
    "--s3-chunk-size",
    "16M",
    "--multi-thread-streams",
    "8",
    "--multi-thread-cutoff",
    "64M",
)
TUNED_MANY = ("--transfers", "32", "--checkers", "32", "--s3-no-head")


def _build(exe: str, job: Job, tuned: bool) -> Command:
    ep = job.endpoint
    env = ep.env()  # built from scratch: AWS_CA_BUNDLE is never set for rclone
    env.update(
        {
            "RCLONE_CONFIG": "/dev/null",
            "RCLONE_CONFIG_BENCH_TYPE": "s3",
            "RCLONE_CONFIG_BENCH_PROVIDER": "Other",
            "RCLONE_CONFIG_BENCH_ENDPOINT": ep.url,
            "RCLONE_CONFIG_BENCH_ACCESS_KEY_ID": ep.access_key,
            "RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY": ep.secret_key,
            "RCLONE_CONFIG_BENCH_REGION": ep.region,
            "RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE": "true",
        }
    )
    remote, local = f"bench:{job.bucket}/{job.key}", str(job.local)
    src, dst = (local, remote) if job.scenario.direction == "upload" else (remote, local)
    verb = "copy" if job.scenario.many else "copyto"
    extra: tuple[str, ...] = ()
    if tuned:
        extra = TUNED_MANY if job.scenario.many else TUNED_LARGE
    return Command(argv=(exe, verb, *extra, src, dst), env=env)


def variants(ctx: ToolContext) -> tuple[list[Variant], str | None]:
    exe = ctx.anchors.rclone
    if exe is None:
        return [], "rclone: not available; skipped"
    return [
        Variant(
            tool="rclone",
            variant="defaults",
            config="copy/copyto (4 transfers, 4 upload streams of 5 MiB)",
            build=lambda job: _build(str(exe), job, False),
        ),
        Variant(
            tool="rclone",
            variant="tuned",
            config="large: 16 upload streams of 16 MiB, 8 download streams; "
            "many: 32 transfers, 32 checkers, --s3-no-head",
            build=lambda job: _build(str(exe), job, True),
        ),
    ], None
