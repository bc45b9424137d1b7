"""``kill -9`` of a bulk download with a manifest, through the real console script against
SeaweedFS: no wrong or partial file at any final name, and the rerun ends with every object
present and correct, exit 0 and no temp file left."""

from __future__ import annotations

import json
import random
import signal
import time
from typing import TYPE_CHECKING

import anyio
import pytest

from tests.cli.helpers import finish, start

if TYPE_CHECKING:
    from pathlib import Path

KiB = 1024
# Small objects (the lane), medium ones (one GET, the pool) and ranged ones (9 MiB).
SIZES = [1 * KiB] * 160 + [300 * KiB] * 30 + [9 * 1024 * KiB] * 6


def body(i: int) -> bytes:
    return random.Random(i).randbytes(SIZES[i])


def key(i: int) -> str:
    return f"p/d{i % 4}/k{i:03d}"


def published(out: Path) -> dict[str, Path]:
    """Final names (not temp files) under ``out``, by key."""
    return {
        p.relative_to(out).as_posix(): p
        for p in out.rglob("*")
        if p.is_file() and ".s3flow-" not in p.name
    }


def kill_when_half_done(proc, out: Path, manifest: Path) -> None:
    deadline = time.monotonic() + 60  # bounded: the job is killed long before it ends
    try:
        while time.monotonic() < deadline:
            lines = manifest.read_text().count("\n") if manifest.exists() else 0
            if lines >= 1 and len(published(out)) >= 40:
                return
            assert proc.poll() is None, "the job ended before it could be killed"
            time.sleep(0.01)
        raise AssertionError("the job never got far enough to be killed")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=10)  # reaps it and closes its pipes


@pytest.mark.parametrize("fsync", [False, True], ids=["default", "fsync-group-commit"])
async def test_kill_9_mid_bulk_download_then_rerun_gets_every_object(
    seaweed_server, weed, weed_bucket, tmp_path, fsync
) -> None:
    for i in range(len(SIZES)):
        await weed.put_object(weed_bucket, key(i), body(i))
    out, manifest = tmp_path / "out", tmp_path / "job.jsonl"
    args = ["sync", f"s3://{weed_bucket}/p/", str(out), "--manifest", str(manifest)]
    args += ["--concurrency-objects", "4", *(["--fsync"] if fsync else [])]

    proc = start(seaweed_server, tmp_path, *args)
    await anyio.to_thread.run_sync(kill_when_half_done, proc, out, manifest)
    assert proc.returncode == -signal.SIGKILL
    first = published(out)
    assert 40 <= len(first) < len(SIZES)
    wanted = {key(i).removeprefix("p/"): body(i) for i in range(len(SIZES))}
    for name, path in first.items():  # whatever is at a final name is whole and right
        assert path.read_bytes() == wanted[name], name
    done_before = [json.loads(line) for line in manifest.read_text().splitlines()]

    again = finish(seaweed_server, start(seaweed_server, tmp_path, *args))
    assert again.code == 0, again
    final = published(out)
    assert sorted(final) == sorted(wanted)
    assert all(final[name].read_bytes() == data for name, data in wanted.items())
    assert not [p for p in out.rglob("*") if ".s3flow-" in p.name]
    assert done_before  # the killed run had recorded progress, and the rerun honoured it
