"""The AWS Common Runtime's S3 client (``awscrt.s3.S3Client``) used directly.

Never through boto3's ``preferred_transfer_client="crt"``: that ignores ``endpoint_url``.
"""

from __future__ import annotations

from benchmarks.tools import ToolContext, Variant, knobs, script_variants

# The tuned grid, (part size MiB, throughput target Gbps: the CRT sizes its connection pool
# from it, for one file and for many); the first is the former fixed setting.
GRID = ((16, 2), (32, 1), (8, 5))


def variants(ctx: ToolContext) -> tuple[list[Variant], str | None]:
    return script_variants(
        ctx,
        tool="aws-crt",
        script="crt_xfer.py",
        tls=False,  # the script speaks plain HTTP only (tls_mode DISABLED)
        defaults="S3Client defaults (8 MiB parts, 10 Gbps target); every request submitted at once",
        tuned=[
            (
                f"{size} MiB parts, throughput_target_gbps {gbps} (fewer connections for 2 cores)",
                knobs(part_size_mib=size, throughput_gbps=gbps),
            )
            for size, gbps in GRID
        ],
    )
