"""The manifest never hides a failed, lost or changed key; local destinations are made
durable before the manifest calls them done. MemoryBackend and real temp directories."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from s3flow.bulk import jobs, manifest
from s3flow.bulk.diff import Entry
from s3flow.bulk.manifest import SKEW, Done, Watermark, subtree_end
from s3flow.bulk.runner import SyncOptions, copy_tree, sync
from s3flow.errors import ServiceError
from s3flow.models import S3Location
from s3flow.testing.memory import MemoryBackend


def make_tree(root: Path, files: dict[str, bytes]) -> None:
    for key, data in files.items():
        path = root.joinpath(*key.split("/"))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def read_tree(root: Path) -> dict[str, bytes]:
    return {
        Path(d, n).relative_to(root).as_posix(): Path(d, n).read_bytes()
        for d, _, names in os.walk(root)
        for n in names
    }


def stored(backend: MemoryBackend, bucket: str, prefix: str = "") -> dict[str, bytes]:
    return {
        k[len(prefix) :]: o.data for k, o in backend.buckets[bucket].items() if k.startswith(prefix)
    }


class Dying(MemoryBackend):
    """Accepts ``alive`` uploads, then refuses every one (a server killed mid-job)."""

    def __init__(self, alive: int) -> None:
        super().__init__()
        self.buckets["b"] = {}
        self.alive = alive
        self.refused: set[str] = set()

    async def put_object(self, bucket: str, key: str, body: Any, **kwargs: Any) -> Any:
        if key in self.refused or self.alive <= 0:
            raise ServiceError("connection refused (test: server down)", bucket=bucket, key=key)
        self.alive -= 1
        return await super().put_object(bucket, key, body, **kwargs)


async def objects_under_src(count: int, dirs: int, sizes: int) -> MemoryBackend:
    """A backend whose bucket "b" holds ``count`` small objects under ``src/`` in ``dirs`` directories."""
    backend = MemoryBackend()
    backend.buckets["b"] = {}
    for i in range(count):
        await backend.put_object("b", f"src/d{i % dirs}/k{i:04d}", b"x" * (i % sizes))
    return backend


def run(compare: str, src: Path, backend: MemoryBackend, **options: Any) -> Any:
    # order="s3": watermarks are written only while the listing order is known
    opts = SyncOptions(compare=compare, concurrency=8, order="s3", **options)  # type: ignore[arg-type]
    job = copy_tree if compare == "always" else sync
    return job(src, S3Location("b", "dst/"), dest_backend=backend, options=opts)


@pytest.mark.parametrize("compare", ["size_mtime", "always"])
async def test_a_failed_key_is_copied_by_the_rerun(tmp_path: Path, compare: str) -> None:
    """Issue 12, silent loss 1: one of three files failed; the rerun with the same
    manifest must upload it (it used to report 'skipped 3, failed 0')."""
    make_tree(tmp_path / "src", {"a": b"1", "b": b"2", "c": b"3"})
    backend = Dying(alive=100)
    backend.refused = {"dst/b"}
    path = tmp_path / "job.jsonl"
    first = await run(compare, tmp_path / "src", backend, manifest=path)
    assert (first.copied, first.failed) == (2, 1)
    backend.refused.clear()
    again = await run(compare, tmp_path / "src", backend, manifest=path)
    assert (again.copied, again.skipped, again.failed) == (1, 2, 0)
    assert stored(backend, "b", "dst/") == {"a": b"1", "b": b"2", "c": b"3"}


@pytest.mark.parametrize("compare", ["size_mtime", "always"])
async def test_server_killed_mid_job_rerun_copies_every_missing_key(
    tmp_path: Path, compare: str
) -> None:
    """Issue 12, silent loss 1 at scale: most keys failed (the server died); the rerun,
    and a --from-list of the failures with the same manifest, copy all of them."""
    files = {f"f{i:04d}": f"{i}".encode() for i in range(700)}
    make_tree(tmp_path / "src", files)
    for how in ("rerun", "from_list"):
        backend = Dying(alive=150)
        path, failures = tmp_path / f"{how}.jsonl", tmp_path / f"{how}-failed.txt"
        first = await run(compare, tmp_path / "src", backend, manifest=path, failures_file=failures)
        assert (first.copied, first.failed) == (150, 550)
        assert len(failures.read_text().splitlines()) == 550
        assert any('"w"' in line for line in path.read_text().splitlines())  # watermarks written
        backend.alive = 10_000  # the server is back
        extra = {"from_list": failures} if how == "from_list" else {}
        again = await run(compare, tmp_path / "src", backend, manifest=path, **extra)
        assert (again.copied, again.failed) == (550, 0), how
        assert stored(backend, "b", "dst/") == files, how
        third = await run(compare, tmp_path / "src", backend, manifest=path)
        assert (third.copied, third.skipped, third.failed) == (0, 700, 0), how


@pytest.mark.parametrize("compare", ["always", "checksum"])
async def test_a_changed_source_is_copied_despite_a_finished_manifest(
    tmp_path: Path, compare: str
) -> None:
    """Issue 12, silent loss 3: a manifest from a finished job skipped a changed file.
    The new bytes have the same size and the old mtime (as `cp -p` would leave)."""
    files = {f"k{i:03d}": b"old" for i in range(300)}
    make_tree(tmp_path / "src", files)
    old = 1_600_000_000  # long before the run: only the change time can tell
    for name in files:
        os.utime(tmp_path / "src" / name, (old, old))
    backend = Dying(alive=10_000)
    path = tmp_path / "job.jsonl"
    first = await run(compare, tmp_path / "src", backend, manifest=path)
    assert (first.copied, first.failed) == (300, 0)
    assert any('"w"' in line for line in path.read_text().splitlines())
    changed = tmp_path / "src" / "k007"
    changed.write_bytes(b"new")
    os.utime(changed, (old, old))
    again = await run(compare, tmp_path / "src", backend, manifest=path)
    assert (again.copied, again.skipped, again.failed) == (1, 299, 0)
    assert stored(backend, "b", "dst/")["k007"] == b"new"


async def test_a_changed_object_is_copied_despite_a_finished_manifest(tmp_path: Path) -> None:
    backend = MemoryBackend()
    backend.buckets["b"], backend.buckets["c"] = {}, {}
    for i in range(300):
        await backend.put_object("b", f"k{i:03d}", b"old")
    opts = SyncOptions(compare="always", manifest=tmp_path / "job.jsonl", order="s3")
    kw: dict[str, Any] = {"source_backend": backend, "dest_backend": backend, "options": opts}
    first = await copy_tree(S3Location("b"), S3Location("c"), **kw)
    assert first.copied == 300
    await backend.put_object("b", "k123", b"new")
    again = await copy_tree(S3Location("b"), S3Location("c"), **kw)
    assert (again.copied, again.skipped) == (1, 299)
    assert stored(backend, "c")["k123"] == b"new"


def test_watermark_never_covers_a_failed_key() -> None:
    mark = Watermark(None, started=1000.0)
    seqs = [mark.start(k) for k in ("a", "b", "c", "d")]
    mark.finish(seqs[0])
    mark.finish(seqs[2])
    mark.finish(seqs[3])
    mark.finish(seqs[1], failed="b")
    assert [json.loads(line) for line in mark.closed] == [{"after": None, "w": "a", "t": 1000.0}]
    assert (mark.after, mark.last) == ("b", "d")
    mark.gap(subtree_end("e"))  # a directory "e" could not be read
    seq = mark.start("e/x")  # nothing under it may be covered, even if it settled
    mark.finish(seq)
    mark.finish(mark.start("f"))
    done = Done()
    for line in [*mark.closed, mark.line()]:
        record = json.loads(line)
        done.intervals[(record["after"], record["t"] + 2 * SKEW)] = record["w"]
    assert [k for k in ("a", "b", "c", "d", "e/x", "e/y", "f") if done.covers(Entry(k, 1))] == [
        "a",
        "c",
        "d",
        "f",
    ]


async def test_local_files_are_durable_before_the_manifest_names_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 14 group commit: every key line written to the manifest names a file that a
    durability sweep (syncfs, or fsyncs) covered first; one sweep per flush."""
    backend = await objects_under_src(600, dirs=7, sizes=5)
    durable: set[str] = set()
    sweeps: list[int] = []
    written: list[str] = []

    def sweep(root: Path, paths: list[Path]) -> None:
        sweeps.append(len(paths))
        durable.update(p.relative_to(root).as_posix() for p in paths)

    real_append = manifest._append

    def append(path: Path, text: str) -> None:
        for line in text.splitlines():
            record = json.loads(line)
            if "k" in record:
                assert record["k"] in durable, record
                written.append(record["k"])
        real_append(path, text)

    monkeypatch.setattr(jobs, "make_durable", sweep, raising=False)
    monkeypatch.setattr(manifest, "_append", append)
    out = tmp_path / "out"
    summary = await sync(
        S3Location("b", "src/"),
        out,
        source_backend=backend,
        options=SyncOptions(manifest=tmp_path / "job.jsonl", concurrency=8),
    )
    assert summary.copied == 600
    assert len(written) == 600 and len(read_tree(out)) == 600
    assert 1 <= len(sweeps) < 600  # grouped, not one per file


async def test_fsync_in_a_bulk_download_is_a_group_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--fsync`` into a local tree: no fsync per file; sweeps of at most COMMIT_EVERY files,
    and by the time the job returns every file it wrote was in one."""
    import dataclasses

    from s3flow.config import TransferConfig

    backend = await objects_under_src(250, dirs=3, sizes=9)
    sweeps: list[set[str]] = []
    fsyncs: list[int] = []

    def sweep(root: Path, paths: list[Path]) -> None:
        sweeps.append({p.relative_to(root).as_posix() for p in paths})

    monkeypatch.setattr(jobs, "make_durable", sweep, raising=False)
    monkeypatch.setattr(jobs, "COMMIT_EVERY", 100)
    monkeypatch.setattr(os, "fsync", fsyncs.append)
    out = tmp_path / "out"
    summary = await sync(
        S3Location("b", "src/"),
        out,
        source_backend=backend,
        config=dataclasses.replace(TransferConfig(), fsync=True),
        options=SyncOptions(concurrency=8),
    )
    assert summary.copied == 250 and len(read_tree(out)) == 250
    assert fsyncs == []
    # A file is swept once; a sweep holds about COMMIT_EVERY (more arrive while one runs).
    assert sum(len(s) for s in sweeps) == 250 and 3 <= len(sweeps) <= 5
    assert set().union(*sweeps) == set(read_tree(out))


async def test_a_failed_sweep_is_never_followed_by_manifest_lines_for_its_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--fsync with a manifest: the first group commit fails (EIO from an fsync). Its
    files used to be dropped from the next sweeps while the job went on, so later
    manifest flushes named files no sweep had covered, and the job could end with a
    failure count of one for files that had never been made durable."""
    import dataclasses
    import errno

    from s3flow.config import TransferConfig
    from s3flow.errors import LocalFileError

    backend = await objects_under_src(300, dirs=3, sizes=7)
    durable: set[str] = set()
    named: list[str] = []

    def sweep(root: Path, paths: list[Path]) -> None:
        if not durable and not named and sweep.failed is False:  # type: ignore[attr-defined]
            sweep.failed = True  # type: ignore[attr-defined]
            raise OSError(errno.EIO, "Input/output error", str(root))
        durable.update(p.relative_to(root).as_posix() for p in paths)

    sweep.failed = False  # type: ignore[attr-defined]
    real_append = manifest._append

    def append(path: Path, text: str) -> None:
        named.extend(r["k"] for line in text.splitlines() if "k" in (r := json.loads(line)))
        real_append(path, text)

    monkeypatch.setattr(jobs, "make_durable", sweep, raising=False)
    monkeypatch.setattr(jobs, "COMMIT_EVERY", 50)
    monkeypatch.setattr(manifest, "_append", append)
    with pytest.raises(LocalFileError, match="Input/output error"):
        await sync(
            S3Location("b", "src/"),
            tmp_path / "out",
            source_backend=backend,
            config=dataclasses.replace(TransferConfig(), fsync=True),
            options=SyncOptions(manifest=tmp_path / "job.jsonl", concurrency=8),
        )
    assert sweep.failed  # type: ignore[attr-defined]
    assert set(named) <= durable


def test_make_durable_without_syncfs_fsyncs_each_file_and_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from s3flow import localfs

    make_tree(tmp_path, {"a/1": b"1", "a/2": b"2", "b/3": b"3"})
    synced: list[str] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(localfs, "_syncfs", lambda: None)
    monkeypatch.setattr(localfs.os, "fsync", fsync)
    localfs.make_durable(tmp_path, [tmp_path / "a/1", tmp_path / "a/2", tmp_path / "b/3"])
    names = sorted(os.path.relpath(p, tmp_path) for p in synced)
    assert names == ["a", "a/1", "a/2", "b", "b/3"]


async def test_old_objects_that_failed_are_not_under_a_watermark(tmp_path: Path) -> None:
    """Objects last modified long ago, so a watermark would cover them by time: only the
    interval ending before each failed key keeps the failed ones out."""
    from dataclasses import replace
    from datetime import UTC, datetime

    source = MemoryBackend()
    source.buckets["s"] = {}
    files = {f"o{i:04d}": f"{i}".encode() for i in range(700)}
    for key, data in files.items():
        await source.put_object("s", key, data)
    long_ago = datetime(2020, 1, 1, tzinfo=UTC)
    for key, obj in source.buckets["s"].items():
        source.buckets["s"][key] = replace(obj, modified=long_ago)
    dest = Dying(alive=150)
    opts = SyncOptions(compare="always", concurrency=8, manifest=tmp_path / "job.jsonl", order="s3")
    kw: dict[str, Any] = {"source_backend": source, "dest_backend": dest, "options": opts}
    first = await copy_tree(S3Location("s"), S3Location("b", "dst/"), **kw)
    assert (first.copied, first.failed) == (150, 550)
    dest.alive = 10_000
    again = await copy_tree(S3Location("s"), S3Location("b", "dst/"), **kw)
    assert (again.copied, again.skipped, again.failed) == (550, 150, 0)
    assert stored(dest, "b", "dst/") == files
