"""The AWS Common Runtime's S3 client (``awscrt.s3.S3Client``) used directly.

Never through boto3's ``preferred_transfer_client="crt"``: that ignores ``endpoint_url``.
"""

from __future__ import annotations

from benchmarks.tools import ToolContext, Variant, script_variants


def variants(ctx: ToolContext) -> tuple[list[Variant], str | None]:
    return script_variants(
        ctx,
        tool="aws-crt",
        script="crt_xfer.py",
        defaults="S3Client defaults (8 MiB parts, 10 Gbps target); every request submitted at once",
        tuned="16 MiB parts, throughput_target_gbps 2 (fewer connections for 2 cores)",
    )
