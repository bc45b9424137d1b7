"""The README's summary tables from one run's ``latest.json``.

``python -m benchmarks.summary [benchmarks/results/latest.json]`` prints, per scenario,
s3flow at its defaults against the fastest other tool, s5cmd and boto3 at theirs, then
``s3flow --fsync`` against ``s5cmd cp && sync``: the tables under "Benchmarks" in the README.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

__all__ = ["main", "tables"]

LABELS = {
    "upload-1gib": "upload 1 GiB",
    "upload-1gib-https": "upload 1 GiB over HTTPS",
    "download-1gib": "download 1 GiB, uploaded by s5cmd (MD5 ETag only)",
    "download-1gib-crc32": "download 1 GiB, uploaded by boto3 (CRC32)",
    "download-1gib-https": "download 1 GiB over HTTPS (MD5 ETag only)",
    "upload-1000x256k": "upload 1,000 \u00d7 256 KiB",
    "download-1000x256k": "download 1,000 \u00d7 256 KiB (MD5 ETags)",
    "download-1000x256k-https": "download 1,000 \u00d7 256 KiB over HTTPS",
    "upload-10000x4k": "upload 10,000 \u00d7 4 KiB",
    "download-10000x4k": "download 10,000 \u00d7 4 KiB",
}

Figure = dict[str, object]


def _rate(f: Figure) -> str:
    return f"{f['median']:,.1f} {f['unit']}"


def _cell(f: Figure | None, *, rss: bool = False, name: bool = False) -> str:
    if f is None or f.get("median") is None:
        return "— (not run)"
    text = f"{f['tool']} " if name else ""
    text += f"{_rate(f)}, {f['cpu_s_per_gib']:.2f} CPU-s"
    if rss:
        text += f"/GiB, {f['peak_rss_mib']:.0f} MiB RSS"
    return text


def _ratio(ours: Figure, other: Figure | None) -> str:
    if other is None or other.get("median") is None:
        return "—"
    return f"{float(ours['median']) / float(other['median']):.2f}"  # type: ignore[arg-type]


def tables(data: dict[str, object]) -> str:
    """Both markdown tables for the run in ``data`` (a parsed ``latest.json``)."""
    figs: dict[tuple[str, str, str], Figure] = {
        (f["scenario"], f["tool"], f["variant"]): f  # type: ignore[misc]
        for f in data["figures"]  # type: ignore[attr-defined]
        if not f["failed"]
    }
    head = (
        "| scenario | s3flow (defaults) | fastest other (defaults) | s5cmd (defaults) "
        "| boto3 (defaults) | s3flow ÷ fastest / ÷ s5cmd / ÷ boto3 |\n|---|---|---|---|---|---|"
    )
    rows, durable = [head], []
    for scenario, label in LABELS.items():
        ours = figs.get((scenario, "s3flow", "defaults"))
        if ours is None:
            continue
        others = [
            f
            for (s, t, v), f in figs.items()
            if s == scenario and t != "s3flow" and v == "defaults"
        ]
        fastest = max(others, key=lambda f: float(f["median"]), default=None)  # type: ignore[arg-type]
        s5, boto = (
            figs.get((scenario, "s5cmd", "defaults")),
            figs.get((scenario, "boto3", "defaults")),
        )
        ratios = " / ".join(_ratio(ours, o) for o in (fastest, s5, boto))
        rows.append(
            f"| {label} | {_cell(ours, rss=True)} | {_cell(fastest, name=True)} | {_cell(s5)} "
            f"| {_cell(boto)} | {ratios} |"
        )
        synced = figs.get((scenario, "s3flow", "fsync"))
        s5_synced = figs.get((scenario, "s5cmd", "fsync"))
        if synced is not None and s5_synced is not None:
            durable.append(
                f"| {label} | {_cell(synced)} | {_cell(s5_synced)} | {_ratio(synced, s5_synced)} |"
            )
    out = "\n".join(rows)
    if durable:
        out += (
            "\n\n| scenario | s3flow --fsync | s5cmd cp && sync | ratio |\n|---|---|---|---|\n"
            + "\n".join(durable)
        )
    return out


def main() -> None:
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "benchmarks/results/latest.json")
    print(tables(json.loads(path.read_text())))


if __name__ == "__main__":
    main()
