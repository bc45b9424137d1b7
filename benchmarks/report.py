"""Fold run results into figures; write markdown, JSON and a PNG chart to ``results/``.

Rate is MiB/s for single-object scenarios and files/s for many-file ones (MiB/s is given too).
``s3flow ÷ this`` = s3flow's median rate at the same variant (defaults vs defaults, tuned vs
tuned) divided by this row's median rate: above 1.00 s3flow was faster.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from benchmarks.scenarios import GiB, MiB

if TYPE_CHECKING:
    from pathlib import Path

    from benchmarks.run import RunResult
    from benchmarks.scenarios import Plan
    from benchmarks.tools import Variant


@dataclass(frozen=True, kw_only=True)
class Figure:
    """One tool variant in one scenario, over its repetitions."""

    scenario: str
    tool: str
    variant: str
    unit: str
    runs: int
    failed: int
    error: str
    median: float | None = None
    low: float | None = None
    high: float | None = None
    mib_s: float | None = None
    cpu_s_per_gib: float | None = None
    peak_rss_mib: float | None = None
    vs_s3flow: float | None = None  # s3flow median / this median


def _rate(r: RunResult) -> float:
    if r.files > 1:
        return r.files / r.wall_s
    return r.total_bytes / MiB / r.wall_s


def progress_line(r: RunResult) -> str:
    head = f"{r.scenario:<22} {r.tool + ' ' + r.variant:<18}"
    if not r.ok:
        return f"{head} failed: {r.error}"
    unit = "files/s" if r.files > 1 else "MiB/s"
    return (
        f"{head} {_rate(r):8.1f} {unit:<7}  cpu {r.cpu_user_s + r.cpu_sys_s:5.2f} s  "
        f"rss {r.max_rss_mib:6.0f} MiB  ({r.wall_s:.2f} s)"
    )


def figures(results: list[RunResult]) -> list[Figure]:
    groups: dict[tuple[str, str, str], list[RunResult]] = {}
    for r in results:
        groups.setdefault((r.scenario, r.tool, r.variant), []).append(r)
    out: list[Figure] = []
    for (scenario, tool, variant), runs in groups.items():
        unit = "files/s" if runs[0].files > 1 else "MiB/s"
        bad = [r for r in runs if not r.ok]
        base = {
            "scenario": scenario,
            "tool": tool,
            "variant": variant,
            "unit": unit,
            "runs": len(runs),
            "failed": len(bad),
            "error": bad[0].error if bad else "",
        }
        if bad:  # a tool that failed or moved wrong bytes in any repetition gets no figures
            out.append(Figure(**base))
            continue
        rates = [_rate(r) for r in runs]
        gib = runs[0].total_bytes / GiB
        out.append(
            Figure(
                **base,
                median=statistics.median(rates),
                low=min(rates),
                high=max(rates),
                mib_s=statistics.median(r.total_bytes / MiB / r.wall_s for r in runs),
                cpu_s_per_gib=statistics.median((r.cpu_user_s + r.cpu_sys_s) / gib for r in runs),
                peak_rss_mib=max(r.max_rss_mib for r in runs),
            )
        )
    ref = {(f.scenario, f.variant): f.median for f in out if f.tool == "s3flow"}
    return [_with_ratio(f, ref.get((f.scenario, f.variant))) for f in out]


def _with_ratio(f: Figure, s3flow_median: float | None) -> Figure:
    if f.median is None or s3flow_median is None:
        return f
    return Figure(**{**asdict(f), "vs_s3flow": s3flow_median / f.median})


_SEEDERS = {
    "s5cmd": "s5cmd (no checksum: s3flow verifies every byte against the MD5 ETag)",
    "boto3": "boto3 at its defaults (CRC32: s3flow verifies every byte against it)",
}


def _n(x: float | None, fmt: str = ".1f") -> str:
    return "—" if x is None else format(x, fmt)


def markdown(
    figs: list[Figure],
    variants: list[Variant],
    plan: Plan,
    meta: dict[str, object],
    notes: list[str],
) -> str:
    lines = [
        "# s3flow benchmark results",
        "",
        f"- command: `{meta['command']}` ({plan.repetitions} repetition(s), tools interleaved)",
        f"- machine: {meta['machine']}; Python {meta['python']}; {meta['server']}",
        f"- started: {meta['started']}",
        "- tools: " + ", ".join(f"{k} {v}" for k, v in dict(meta["tools"]).items()),  # type: ignore[call-overload]
        "",
    ]
    lines += [f"- note: {n}" for n in notes]
    for s in plan.scenarios:
        rows = [f for f in figs if f.scenario == s.name]
        if not rows:
            continue
        unit = rows[0].unit
        lines += ["", f"## {s.name}", ""]
        if s.direction == "download":
            lines += [f"Objects uploaded by {_SEEDERS[s.seeder]}.", ""]
        lines += [
            f"| tool | variant | {unit} median | min | max | MiB/s | CPU-s/GiB | peak RSS MiB "
            "| s3flow ÷ this | status |",
            "|---|---|--:|--:|--:|--:|--:|--:|--:|---|",
        ]
        for f in sorted(rows, key=lambda f: -(f.median or -1)):
            status = "ok" if not f.failed else f"failed {f.failed}/{f.runs}: {f.error}"
            lines.append(
                f"| {f.tool} | {f.variant} | {_n(f.median)} | {_n(f.low)} | {_n(f.high)} "
                f"| {_n(f.mib_s)} | {_n(f.cpu_s_per_gib, '.2f')} | {_n(f.peak_rss_mib, '.0f')} "
                f"| {_n(f.vs_s3flow, '.2f')} | {status.replace('|', '/')} |"
            )
    lines += ["", "## Configurations", "", "| tool | variant | what was set |", "|---|---|---|"]
    lines += [f"| {v.tool} | {v.variant} | {v.config} |" for v in variants]
    return "\n".join(lines) + "\n"


def write(
    results: list[RunResult],
    variants: list[Variant],
    plan: Plan,
    meta: dict[str, object],
    notes: list[str],
    out: Path,
) -> None:
    figs = figures(results)
    out.mkdir(parents=True, exist_ok=True)
    text = markdown(figs, variants, plan, meta, notes)
    print("\n" + text)
    (out / "latest.md").write_text(text)
    doc = {
        "meta": meta,
        "notes": notes,
        "repetitions": plan.repetitions,
        "scenarios": [asdict(s) for s in plan.scenarios],
        "configs": [{"tool": v.tool, "variant": v.variant, "config": v.config} for v in variants],
        "figures": [asdict(f) for f in figs],
        "runs": [asdict(r) for r in results],
    }
    (out / "latest.json").write_text(json.dumps(doc, indent=2) + "\n")
    from benchmarks.chart import draw

    note = draw(figs, plan, out / "latest.png")
    print(note or f"wrote {out / 'latest.md'}, latest.json, latest.png")
