"""Cyclomatic complexity of a tree, counted by radon, as a ratchet for ``make lint``.

Prints how many functions (and methods) reach complexity 10, their share, the
maximum, and the branchiest ones; exits 1 when the share or the maximum is
above its limit. Set the limits to today's figures, and lower them as code is
split, so the count can only go down::

    python -m tools.complexity s3flow --max 19 --share 5.5
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from radon.complexity import cc_visit
from radon.visitors import Class

BRANCHY = 10  # radon's "C" rank starts here; McCabe's own suggested ceiling


@dataclass(frozen=True, slots=True)
class Measured:
    where: str  # path:line name
    complexity: int


def measure(root: Path) -> list[Measured]:
    """Every function and method below ``root`` (closures count within their function)."""
    return [
        Measured(f"{path}:{block.lineno} {block.fullname}", block.complexity)
        for path in sorted(root.rglob("*.py"))
        for block in cc_visit(path.read_text(encoding="utf-8"))
        # A class's score is its methods' again.
        if not isinstance(block, Class)
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--max", type=int, required=True, help="highest complexity allowed")
    parser.add_argument(
        "--share", type=float, required=True, help=f"%% of functions allowed at >= {BRANCHY}"
    )
    parser.add_argument("--top", type=int, default=5, help="how many of the branchiest to list")
    args = parser.parse_args(argv)
    found = measure(args.root)
    if not found:
        print(f"complexity: no functions under {args.root}")
        return 1
    branchy = sorted((m for m in found if m.complexity >= BRANCHY), key=lambda m: -m.complexity)
    # Compared as printed, so a limit copied from today's output holds today.
    share = round(100 * len(branchy) / len(found), 1)
    highest = max(m.complexity for m in found)
    print(
        f"complexity: {len(branchy)} of {len(found)} functions at >= {BRANCHY} ({share} %,"
        f" limit {args.share} %); max {highest} (limit {args.max})"
    )
    for m in branchy[: args.top]:
        print(f"  {m.complexity:3d}  {m.where}")
    failed = []
    if highest > args.max:
        failed.append(f"a function has complexity {highest} > {args.max}: split it")
    if share > args.share:
        failed.append(f"{share} % of functions at >= {BRANCHY}, above {args.share} %")
    for reason in failed:
        print(f"complexity: {reason}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
