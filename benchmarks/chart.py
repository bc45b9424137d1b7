"""A PNG bar chart of the median rates (whiskers: min and max), one panel per scenario."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from benchmarks.report import Figure
    from benchmarks.scenarios import Plan


def draw(figs: list[Figure], plan: Plan, path: Path) -> str | None:
    """Write the chart; return a note instead if matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib not installed: no PNG (pip install -e '.[dev]')"
    names = [s.name for s in plan.scenarios if any(f.scenario == s.name for f in figs)]
    fig, axes = plt.subplots(len(names), 1, figsize=(9, 3.2 * len(names)), squeeze=False)
    for ax, name in zip(axes[:, 0], names, strict=True):
        rows = sorted((f for f in figs if f.scenario == name), key=lambda f: f.tool + f.variant)
        labels = [f"{f.tool} {f.variant}" for f in rows]
        med = [f.median or 0.0 for f in rows]
        err = [
            [m - (f.low or m) for m, f in zip(med, rows, strict=True)],
            [(f.high or m) - m for m, f in zip(med, rows, strict=True)],
        ]
        colors = ["tab:red" if f.tool == "s3flow" else "tab:blue" for f in rows]
        ax.barh(labels, med, xerr=err, color=colors)
        for y, f in enumerate(rows):
            if f.median is None:
                ax.text(0, y, "  failed", va="center", color="tab:red")
        ax.invert_yaxis()
        ax.set_title(name)
        ax.set_xlabel(rows[0].unit + " (median; whiskers min-max)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return None
