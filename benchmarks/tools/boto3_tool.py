"""boto3's managed transfers (s3transfer): ``upload_file`` / ``download_file``."""

from __future__ import annotations

from benchmarks.tools import ToolContext, Variant, script_variants


def variants(ctx: ToolContext) -> tuple[list[Variant], str | None]:
    return script_variants(
        ctx,
        tool="boto3",
        script="boto3_xfer.py",
        defaults="TransferConfig() defaults (8 MiB parts, 10 threads); many files: a sequential loop",
        tuned="16 MiB parts, max_concurrency 16, 64 pooled connections; "
        "many files: ThreadPoolExecutor(32), one shared client",
    )
