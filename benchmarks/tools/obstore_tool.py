"""obstore (Rust object_store) via its Python API."""

from __future__ import annotations

from benchmarks.tools import ToolContext, Variant, script_variants


def variants(ctx: ToolContext) -> tuple[list[Variant], str | None]:
    return script_variants(
        ctx,
        tool="obstore",
        script="obstore_xfer.py",
        defaults="put/get defaults (5 MiB parts, 12 in flight, one streaming GET); "
        "many files: asyncio, 12 at a time",
        tuned="16 MiB parts, 16 in flight, 8 ranged GETs in parallel; many files: 64 at a time",
    )
