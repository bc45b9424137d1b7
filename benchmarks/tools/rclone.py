"""rclone (Debian's package), configured entirely by environment variables."""

from __future__ import annotations

import functools

from benchmarks.tools import Command, Job, ToolContext, Variant, tuned_grid

# The tuned grid, (upload streams, chunk MiB, download streams, transfers = checkers for many
# files); the first is the former fixed setting.
GRID = ((16, 16, 8, 32), (8, 32, 4, 16), (32, 8, 16, 64))


def _knob_args(knobs: tuple[int, int, int, int], many: bool) -> tuple[str, ...]:
    up, chunk, down, transfers = knobs
    if many:
        return ("--transfers", str(transfers), "--checkers", str(transfers), "--s3-no-head")
    return (
        "--s3-upload-concurrency",
        str(up),
        "--s3-chunk-size",
        f"{chunk}M",
        "--multi-thread-streams",
        str(down),
        "--multi-thread-cutoff",
        "64M",
    )


def _build(exe: str, job: Job, knobs: tuple[int, int, int, int] | None) -> Command:
    ep = job.endpoint
    env = ep.env()  # built from scratch
    ca = env.pop("AWS_CA_BUNDLE", None)  # rclone fails while it is set: its own flag instead
    if ca:
        env["RCLONE_CA_CERT"] = ca
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
    extra = _knob_args(knobs, job.scenario.many) if knobs is not None else ()
    return Command(argv=(exe, verb, *extra, src, dst), env=env)


def variants(ctx: ToolContext) -> tuple[list[Variant], str | None]:
    exe = ctx.anchors.rclone
    if exe is None:
        return [], "rclone: not available; skipped"
    tuned = [
        (
            f"large: {up} upload streams of {chunk} MiB, {down} download streams; "
            f"many: {n} transfers, {n} checkers, --s3-no-head",
            functools.partial(_build, str(exe), knobs=(up, chunk, down, n)),
        )
        for up, chunk, down, n in GRID
    ]
    return [
        Variant(
            tool="rclone",
            variant="defaults",
            config="copy/copyto (4 transfers, 4 upload streams of 5 MiB)",
            build=lambda job: _build(str(exe), job, None),
        ),
        *tuned_grid("rclone", tuned),
    ], None
