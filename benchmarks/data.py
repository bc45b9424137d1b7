"""Benchmark data: deterministic random files, their SHA-256, and byte-for-byte verification."""

from __future__ import annotations

import hashlib
import os
import random
from pathlib import Path

from benchmarks.scenarios import MiB, Scenario

SINGLE_NAME = "object.bin"
_CHUNK = 4 * MiB


def generate(root: Path, scenario: Scenario, *, seed: int = 20261128) -> dict[str, str]:
    """Write the scenario's data set under ``root/<dataset>``; return {relative path: sha256}.

    The bytes depend only on the seed and the shape, so every run moves the same data.
    """
    base = root / scenario.dataset
    base.mkdir(parents=True, exist_ok=True)
    rng = random.Random(f"{seed}-{scenario.dataset}")
    names = (
        [SINGLE_NAME]
        if not scenario.many
        else [f"d{i // 1000:03d}/f{i:06d}.bin" for i in range(scenario.count)]
    )
    digests = {}
    for name in names:
        path = base / name
        path.parent.mkdir(parents=True, exist_ok=True)
        h = hashlib.sha256()
        with path.open("wb") as f:
            left = scenario.file_size
            while left:
                block = rng.randbytes(min(_CHUNK, left))
                f.write(block)
                h.update(block)
                left -= len(block)
        digests[name] = h.hexdigest()
    return digests


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(_CHUNK):
            h.update(block)
    return h.hexdigest()


def verify_tree(root: Path, expected: dict[str, str]) -> str | None:
    """None if ``root`` holds exactly the expected files with the expected bytes, else why not."""
    found = {
        Path(dirpath, name).relative_to(root).as_posix()
        for dirpath, _, names in os.walk(root)
        for name in names
    }
    missing, extra = set(expected) - found, found - set(expected)
    if missing or extra:
        return f"{len(missing)} files missing, {len(extra)} unexpected (e.g. {sorted(missing | extra)[:2]})"
    bad = [name for name in sorted(expected) if sha256_file(root / name) != expected[name]]
    if bad:
        return f"{len(bad)} files with wrong bytes (e.g. {bad[0]})"
    return None


def verify_file(path: Path, digest: str) -> str | None:
    if not path.is_file():
        return f"{path.name} not written"
    return None if sha256_file(path) == digest else f"{path.name}: wrong bytes (sha256 mismatch)"
