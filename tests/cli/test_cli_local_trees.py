"""Odd local trees through the real console script against moto: a name that is not
UTF-8 is failed and named (exit 1), a symlink loop is skipped with a named warning, while
the rest is uploaded; once fixed, a rerun with the same manifest uploads them and exits 0."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from tests.cli.helpers import get

if TYPE_CHECKING:
    from pathlib import Path


def test_unreadable_names_fail_named_and_the_rerun_completes(
    cli, moto_server, bucket, tmp_path: Path
) -> None:
    tree = tmp_path / "tree"
    (tree / "d").mkdir(parents=True)
    (tree / "a.txt").write_bytes(b"a")
    (tree / "d" / "b.txt").write_bytes(b"b")
    bad = os.fsencode(tree) + b"/caf\xe9.txt"  # Latin-1 bytes: not UTF-8
    with open(bad, "wb") as f:
        f.write(b"latin")
    os.symlink("loop", tree / "d" / "loop")
    first = cli("sync", "tree", f"s3://{bucket}/p/", "--manifest", "job.jsonl")
    assert first.code == 1 and "Traceback" not in first.err, first
    failed = sorted(line for line in first.err.splitlines() if line.startswith("failed: "))
    assert len(failed) == 1, first.err
    assert "caf\\xe9.txt" in failed[0] and "UTF-8" in failed[0], failed
    (warned,) = [line for line in first.err.splitlines() if line.startswith("warning: ")]
    assert "d/loop" in warned and "loops back to itself" in warned, warned
    assert first.err.splitlines()[-1] == "Error: 1 object failed"
    assert get(moto_server, bucket, "p/a.txt") == b"a"
    assert get(moto_server, bucket, "p/d/b.txt") == b"b"

    os.rename(bad, tree / "cafe.txt")
    os.unlink(tree / "d" / "loop")
    os.symlink("b.txt", tree / "d" / "loop")  # fixed: a rerun uploads it (not under a watermark)
    again = cli("sync", "tree", f"s3://{bucket}/p/", "--manifest", "job.jsonl")
    assert again.code == 0, again
    assert get(moto_server, bucket, "p/cafe.txt") == b"latin"
    assert get(moto_server, bucket, "p/d/loop") == b"b"
