"""``python -m benchmarks.scale_sync [N]``: `s3flow sync` of N small files into SeaweedFS, twice.

Creates N files of 1 KiB (1,000 per directory), starts SeaweedFS on 127.0.0.1,
runs ``s3flow --json sync --listing-order path`` (all copied) and again (all
skipped) under ``/usr/bin/time``, and prints the summaries with wall time,
CPU and peak RSS: the memory figure must stay flat as N grows.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from s3flow.testing.servers import SeaweedFS

SCRIPT = Path(sys.executable).parent / "s3flow"
TIME = ["/usr/bin/time", "-f", "%e s wall, %U user-s, %S sys-s, %M KB maxrss"]


def make_tree(root: Path, count: int) -> None:
    for n in range(count):
        directory = root / f"d{n // 1000:04d}"
        if n % 1000 == 0:
            directory.mkdir(parents=True)
        (directory / f"f{n % 1000:04d}.bin").write_bytes(os.urandom(1024))


def main(argv: list[str]) -> int:
    count = int(argv[0]) if argv else 100_000
    work = Path(tempfile.mkdtemp(prefix="s3flow-scale-"))
    try:
        make_tree(work / "src", count)
        with SeaweedFS() as server:
            env = {
                **os.environ,
                "AWS_ACCESS_KEY_ID": server.access_key,
                "AWS_SECRET_ACCESS_KEY": server.secret_key,
            }
            base = [str(SCRIPT), "--endpoint-url", server.endpoint_url]
            subprocess.run([*base, "-q", "mb", "s3://scale"], env=env, check=True)
            for label in ("sync", "resync"):
                args = [
                    "--json",
                    "sync",
                    "--listing-order",
                    "path",
                    str(work / "src"),
                    "s3://scale/data/",
                ]
                run = subprocess.run(
                    [*TIME, *base, *args], env=env, capture_output=True, text=True, check=False
                )
                print(f"{label}: exit {run.returncode}: {run.stdout.strip()}")
                print(f"{label}: {run.stderr.strip().splitlines()[-1]}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
