"""tools/complexity.py, the ratchet in ``make lint``: counts radon's way and fails above a limit."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tools.complexity import main, measure

if TYPE_CHECKING:
    from pathlib import Path

# Complexity 1 + 10 branches = 11; ``simple`` is 1; the method is 2.
SOURCE = (
    "def branchy(x):\n"
    + "".join(f"    if x == {i}:\n        return {i}\n" for i in range(10))
    + "    return -1\n\n\n"
    "def simple():\n    return 0\n\n\n"
    "class C:\n    def m(self, x):\n        return 1 if x else 0\n"
)


def test_counts_functions_and_methods_not_classes(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text(SOURCE)
    found = {m.where.split(" ")[1]: m.complexity for m in measure(tmp_path)}
    assert found == {"branchy": 11, "simple": 1, "C.m": 2}


def test_fails_above_either_limit(tmp_path: Path, capsys) -> None:
    (tmp_path / "m.py").write_text(SOURCE)
    assert main([str(tmp_path), "--max", "11", "--share", "34"]) == 0
    out = capsys.readouterr().out
    # 33.33... prints as 33.3, so a limit copied from the output passes.
    assert main([str(tmp_path), "--max", "11", "--share", "33.3"]) == 0
    assert "1 of 3 functions at >= 10 (33.3 %" in out
    assert "branchy" in out
    assert main([str(tmp_path), "--max", "10", "--share", "34"]) == 1
    assert main([str(tmp_path), "--max", "11", "--share", "33"]) == 1
    assert "above 33.0 %" in capsys.readouterr().err
