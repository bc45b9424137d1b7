"""Fold run results into figures; write markdown, JSON and a PNG chart to ``results/``.

Rate is MiB/s for single-object scenarios and files/s for many-file ones (MiB/s is given too).
``s3flow ÷ this`` = s3flow's median rate at the same variant (defaults vs defaults, tuned vs
tuned) divided by this row's median rate: above 1.00 s3flow was faster. The "Configurations"
section lists every tuned candidate and, per tool and scenario, the sweep's rate for each and
which one "tuned" was.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from benchmarks import sweep
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


def sweep_trials(runs: list[RunResult]) -> list[sweep.Trial]:
    """The sweep's runs as the rates ``sweep.choose`` compares (None: the run failed)."""
    return [
        sweep.Trial(
            tool=r.tool,
            scenario=r.scenario,
            candidate=r.candidate,
            rate=_rate(r) if r.ok else None,
            error=r.error,
        )
        for r in runs
    ]


def _variant(variant: str, candidate: int) -> str:
    """``tuned #2`` for a tuned candidate, the variant's name otherwise."""
    return variant + (f" #{candidate}" if candidate else "")


def progress_line(r: RunResult) -> str:
    head = f"{r.scenario:<22} {r.tool + ' ' + _variant(r.variant, r.candidate):<18}"
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
    trials: list[sweep.Trial],
    *,
    swept: bool,
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
    lines += [f"| {v.tool} | {_variant(v.variant, v.candidate)} | {v.config} |" for v in variants]
    return "\n".join([*lines, "", *_tuned_section(variants, plan, trials, swept=swept)]) + "\n"


def _tuned_section(
    variants: list[Variant], plan: Plan, trials: list[sweep.Trial], *, swept: bool
) -> list[str]:
    """Which candidate "tuned" was per tool and scenario, and what the sweep measured."""
    width = max((v.candidate for v in variants), default=0)
    if not width:
        return []
    if not swept:
        return [
            "No sweep (`--no-sweep`, the default with `--quick`): tuned is each tool's "
            "candidate #1 in every scenario."
        ]
    lines = [
        "Tuned, per scenario: before the timed repetitions each candidate ran once (verified "
        "like every run), and tuned is the fastest that passed (a tie goes to the lower "
        "number). The sweep's rates, the chosen one in bold:",
        "",
        "| scenario | tool | tuned = | unit | "
        + " | ".join(f"#{n}" for n in range(1, width + 1))
        + " |",
        "|---|---|---|---|" + "--:|" * width,
    ]
    chosen = sweep.choose(trials)
    tried = {(t.scenario, t.tool, t.candidate): t for t in trials}
    for s in plan.scenarios:
        unit = "files/s" if s.many else "MiB/s"
        for v in sweep.timed_variants(variants, s.name, chosen):
            if v.variant != "tuned":
                continue
            cells = []
            for n in range(1, width + 1):
                t = tried.get((s.name, v.tool, n))
                cell = "" if t is None else "failed" if t.rate is None else f"{t.rate:.1f}"
                cells.append(f"**{cell}**" if chosen.get((v.tool, s.name)) == n else cell)
            pick = f"#{v.candidate}" + ("" if (v.tool, s.name) in chosen else " (none passed)")
            lines.append(f"| {s.name} | {v.tool} | {pick} | {unit} | " + " | ".join(cells) + " |")
    return lines


def _tuned_choices(
    variants: list[Variant], plan: Plan, trials: list[sweep.Trial]
) -> list[dict[str, object]]:
    """Per scenario and tool, the candidate the timed "tuned" runs used."""
    chosen = sweep.choose(trials)
    return [
        {
            "scenario": s.name,
            "tool": v.tool,
            "candidate": v.candidate,
            "by_sweep": (v.tool, s.name) in chosen,
        }
        for s in plan.scenarios
        for v in sweep.timed_variants(variants, s.name, chosen)
        if v.variant == "tuned"
    ]


def write(
    results: list[RunResult],
    variants: list[Variant],
    plan: Plan,
    meta: dict[str, object],
    notes: list[str],
    out: Path,
    *,
    sweep_runs: list[RunResult],
    swept: bool,
) -> None:
    figs = figures(results)
    trials = sweep_trials(sweep_runs)
    out.mkdir(parents=True, exist_ok=True)
    text = markdown(figs, variants, plan, meta, notes, trials, swept=swept)
    print("\n" + text)
    (out / "latest.md").write_text(text)
    doc = {
        "meta": meta,
        "notes": notes,
        "repetitions": plan.repetitions,
        "scenarios": [asdict(s) for s in plan.scenarios],
        "configs": [
            {"tool": v.tool, "variant": v.variant, "candidate": v.candidate, "config": v.config}
            for v in variants
        ],
        "figures": [asdict(f) for f in figs],
        "runs": [asdict(r) for r in results],
        "sweep": {
            "ran": swept,
            "tuned": _tuned_choices(variants, plan, trials),
            "trials": [asdict(t) for t in trials],
            "runs": [asdict(r) for r in sweep_runs],
        },
    }
    (out / "latest.json").write_text(json.dumps(doc, indent=2) + "\n")
    from benchmarks.chart import draw

    note = draw(figs, plan, out / "latest.png")
    print(note or f"wrote {out / 'latest.md'}, latest.json, latest.png")
