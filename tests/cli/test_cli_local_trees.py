"""Odd local trees through the real console script against moto: a name that is not
UTF-8 and a symlink loop are failed and named (exit 1) while the rest is uploaded; once
fixed, a rerun with the same manifest uploads them and exits 0."""

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
    assert len(failed) == 2, first.err
    assert "caf\\xe9.txt" in failed[0] and "UTF-8" in failed[0], failed
    assert "d/loop" in failed[1] and "symbolic links" in failed[1], failed
    assert first.err.splitlines()[-1] == "Error: 2 objects failed"
    assert get(moto_server, bucket, "p/a.txt") == b"a"
    assert get(moto_server, bucket, "p/d/b.txt") == b"b"

    os.rename(bad, tree / "cafe.txt")
    os.unlink(tree / "d" / "loop")
    again = cli("sync", "tree", f"s3://{bucket}/p/", "--manifest", "job.jsonl")
    assert again.code == 0, again
    assert get(moto_server, bucket, "p/cafe.txt") == b"latin"
