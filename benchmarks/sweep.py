"""Which tuned candidate each tool runs in each scenario: pure, no I/O.

Every tool declares a small grid of tuned candidates (``Variant.candidate`` 1, 2, …; 1 is the
fixed setting used when no sweep runs). The sweep runs each candidate once per scenario before
the timed repetitions; "tuned" is then, per tool and scenario, the fastest candidate whose run
passed. ``run.py`` does the runs; this module only orders and chooses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from benchmarks.tools import Variant

Choice = dict[tuple[str, str], int]  # (tool, scenario) -> candidate


@dataclass(frozen=True, kw_only=True)
class Trial:
    """One sweep run: ``rate`` is files/s or MiB/s as in the report, None if the run failed."""

    tool: str
    scenario: str
    candidate: int
    rate: float | None
    error: str = ""


def sweep_order(variants: Iterable[Variant]) -> list[Variant]:
    """The tuned candidates to run in each scenario, in rounds of one candidate per tool.

    Tools interleave as in the timed runs, and the k-th tool starts its grid at its k-th
    candidate: a slow spell on the shared machine then hits different candidates of different
    tools, rather than the same candidate of every tool.
    """
    grids: dict[str, list[Variant]] = {}
    for v in variants:
        if v.variant == "tuned":
            grids.setdefault(v.tool, []).append(v)
    ordered = [sorted(grid, key=lambda v: v.candidate) for grid in grids.values()]
    return [
        grid[(r + k) % len(grid)]
        for r in range(max(map(len, ordered), default=0))
        for k, grid in enumerate(ordered)
        if r < len(grid)
    ]


def choose(trials: Iterable[Trial]) -> Choice:
    """Per (tool, scenario), the candidate with the highest rate.

    A tie goes to the lower candidate number; a failed trial is never chosen, and a
    (tool, scenario) whose trials all failed gets no entry.

    >>> choose([Trial(tool="t", scenario="s", candidate=1, rate=1.0),
    ...         Trial(tool="t", scenario="s", candidate=2, rate=2.0)])
    {('t', 's'): 2}
    """
    best: dict[tuple[str, str], tuple[float, int]] = {}
    for t in sorted(trials, key=lambda t: t.candidate):
        if t.rate is None:
            continue
        key = (t.tool, t.scenario)
        if key not in best or t.rate > best[key][0]:
            best[key] = (t.rate, t.candidate)
    return {key: candidate for key, (_, candidate) in best.items()}


def timed_variants(
    variants: Iterable[Variant], scenario: str, chosen: Mapping[tuple[str, str], int]
) -> list[Variant]:
    """What the timed repetitions run in ``scenario``, in the given order.

    Every defaults variant, and per tool one tuned candidate: the one ``chosen`` names, or the
    tool's lowest-numbered candidate (the fixed setting) when the sweep chose none.
    """
    variants = list(variants)
    first: dict[str, int] = {}
    for v in variants:
        if v.variant == "tuned":
            first[v.tool] = min(first.get(v.tool, v.candidate), v.candidate)
    return [
        v
        for v in variants
        if v.variant != "tuned" or v.candidate == chosen.get((v.tool, scenario), first[v.tool])
    ]
