"""obstore (Rust object_store) via its Python API."""

from __future__ import annotations

from benchmarks.tools import ToolContext, Variant, knobs, script_variants

# The tuned grid, (part size MiB, parts in flight per upload, ranged GETs in flight per
# download, files at a time for many files); the first is the former fixed setting.
GRID = ((16, 16, 8, 64), (32, 8, 4, 32), (8, 32, 16, 128))


def variants(ctx: ToolContext) -> tuple[list[Variant], str | None]:
    return script_variants(
        ctx,
        tool="obstore",
        script="obstore_xfer.py",
        tls=False,  # the script has no way to trust a private CA yet
        defaults="put/get defaults (5 MiB parts, 12 in flight, one streaming GET); "
        "many files: asyncio, 12 at a time",
        tuned=[
            (
                f"{size} MiB parts, {puts} in flight, {gets} ranged GETs in parallel; "
                f"many files: {files} at a time",
                knobs(part_size_mib=size, concurrency=puts, get_concurrency=gets, workers=files),
            )
            for size, puts, gets, files in GRID
        ],
    )
