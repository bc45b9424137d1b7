"""Shared by the anchor scripts (run with the anchor venv's python, not s3flow's)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser()
    p.add_argument("--endpoint", required=True)
    p.add_argument("--region", default="us-east-1")
    p.add_argument("--bucket", required=True)
    p.add_argument("--key", required=True, help="object key, or a prefix ending in / with --many")
    p.add_argument("--local", required=True, type=Path)
    p.add_argument("--direction", choices=("upload", "download"), required=True)
    p.add_argument("--many", action="store_true")
    # Tuning knobs (benchmarks/tools/*.py passes each tuned candidate's); none given: defaults.
    knobs = p.add_argument_group("tuning (each script reads the knobs its library has)")
    knobs.add_argument("--part-size-mib", type=int, help="multipart part / ranged GET size")
    knobs.add_argument("--concurrency", type=int, help="parts in flight for one large file")
    knobs.add_argument("--get-concurrency", type=int, help="ranged GETs in flight (obstore)")
    knobs.add_argument("--workers", type=int, help="files in flight with --many")
    knobs.add_argument("--throughput-gbps", type=float, help="throughput target (aws-crt)")
    return p.parse_args()


def tuned(a: argparse.Namespace) -> bool:
    """True when any tuning knob was given (the tool's defaults otherwise)."""
    names = ("part_size_mib", "concurrency", "get_concurrency", "workers", "throughput_gbps")
    return any(getattr(a, name) is not None for name in names)


def local_files(root: Path, prefix: str) -> list[tuple[Path, str]]:
    """Every file under ``root`` with the key it gets under ``prefix``."""
    out = []
    for dirpath, _, names in os.walk(root):
        for name in names:
            path = Path(dirpath) / name
            out.append((path, prefix + path.relative_to(root).as_posix()))
    return sorted(out)


def local_path(root: Path, prefix: str, key: str) -> Path:
    path = root / key[len(prefix) :]
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def credentials() -> tuple[str, str]:
    return os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"]
