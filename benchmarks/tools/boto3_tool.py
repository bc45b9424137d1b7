"""boto3's managed transfers (s3transfer): ``upload_file`` / ``download_file``."""

from __future__ import annotations

from benchmarks.tools import ToolContext, Variant, knobs, script_variants

# The tuned grid, (part size MiB, threads per file, worker threads for many files); the
# first is the former fixed setting. Every candidate pools 64 connections.
GRID = ((16, 16, 32), (32, 8, 16), (8, 32, 64))


def variants(ctx: ToolContext) -> tuple[list[Variant], str | None]:
    return script_variants(
        ctx,
        tool="boto3",
        script="boto3_xfer.py",
        defaults="TransferConfig() defaults (8 MiB parts, 10 threads); many files: a sequential loop",
        tuned=[
            (
                f"{size} MiB parts, max_concurrency {threads}, 64 pooled connections; "
                f"many files: ThreadPoolExecutor({workers}), one shared client",
                knobs(part_size_mib=size, concurrency=threads, workers=workers),
            )
            for size, threads, workers in GRID
        ],
    )
