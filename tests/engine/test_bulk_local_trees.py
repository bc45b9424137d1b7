"""Odd local trees: what cannot be a source or a destination is one failed, named entry
(a dangling or looping link: one skipped entry with a warning) while the rest of the tree
is copied; s3flow's own temp files, and only those, are skipped
and cleaned up; a download never writes through a symlinked directory."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from s3flow.bulk import sources
from s3flow.bulk.runner import SyncOptions, copy_tree, sync
from s3flow.localfs import temp_path_for
from s3flow.models import S3Location
from s3flow.progress import ObjectDone, ProgressEvent
from s3flow.testing.memory import MemoryBackend


def make_tree(root: Path, files: dict[str, bytes]) -> None:
    for key, data in files.items():
        path = root.joinpath(*key.split("/"))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def stored(backend: MemoryBackend, bucket: str) -> dict[str, bytes]:
    return {k: o.data for k, o in backend.buckets[bucket].items()}


class Failed(list[tuple[str, str]]):
    def __call__(self, event: ProgressEvent) -> None:
        if isinstance(event, ObjectDone) and event.action == "fail":
            self.append((event.key, event.reason))
        if isinstance(event, ObjectDone) and event.warning:
            self.warned.append((event.key, event.reason))

    def __init__(self) -> None:
        super().__init__()
        self.warned: list[tuple[str, str]] = []


@pytest.fixture
def backend() -> MemoryBackend:
    backend = MemoryBackend()
    backend.buckets["b"] = {}
    backend.buckets["c"] = {}
    return backend


@pytest.mark.parametrize("job", [sync, copy_tree])
async def test_unreadable_entries_fail_named_and_the_rest_is_uploaded(
    tmp_path: Path, backend: MemoryBackend, monkeypatch: pytest.MonkeyPatch, job
) -> None:
    src = tmp_path / "src"
    good = {"a.txt": b"a", "d/b.txt": b"b", "z/last.txt": b"z"}
    make_tree(src, {**good, "locked/inside.txt": b"never read"})
    fd = os.open(os.fsencode(src) + b"/bad\xffname.txt", os.O_CREAT | os.O_WRONLY, 0o644)
    os.close(fd)
    os.symlink("loop", src / "loop")
    os.symlink("nowhere", src / "d" / "dangling")
    real_scandir = os.scandir

    def scandir(path):  # type: ignore[no-untyped-def]
        if str(path).rstrip("/").endswith("locked"):  # root reads everything: simulate EACCES
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(sources.os, "scandir", scandir)
    failed, failures = Failed(), tmp_path / "failed.txt"
    summary = await job(
        src,
        S3Location("b"),
        dest_backend=backend,
        options=SyncOptions(failures_file=failures, progress=failed),
    )
    assert stored(backend, "b") == good
    names = sorted(key for key, _ in failed)
    assert names == ["bad\\xffname.txt", "locked"]
    reasons = dict(failed)
    assert "UTF-8" in reasons["bad\\xffname.txt"]
    assert "permission denied" in reasons["locked"]
    warned = dict(failed.warned)
    assert sorted(warned) == ["d/dangling", "loop"]
    assert "loops back to itself" in warned["loop"]
    assert "leads nowhere" in warned["d/dangling"]
    assert (summary.copied, summary.failed, summary.skipped, summary.warned) == (3, 2, 2, 2)
    assert sorted(failures.read_text().splitlines()) == names


async def test_only_s3flows_own_temp_names_are_skipped(
    tmp_path: Path, backend: MemoryBackend
) -> None:
    files = {".cfg.s3flow-backup": b"1", "notes.s3flow-draft": b"2", "d/.x.s3flow-": b"3"}
    make_tree(tmp_path, files)
    temp_path_for(tmp_path / "d" / "y").write_bytes(b"a download in progress")
    summary = await sync(tmp_path, S3Location("b"), dest_backend=backend)
    assert stored(backend, "b") == files
    assert (summary.copied, summary.failed) == (3, 0)


async def test_a_key_ending_in_slash_with_content_fails_named(
    tmp_path: Path, backend: MemoryBackend
) -> None:
    await backend.put_object("b", "p/file.txt", b"f")
    await backend.put_object("b", "p/folder/", b"")  # a console folder marker: skipped
    await backend.put_object("b", "p/data/", b"bytes a file cannot hold")
    failed = Failed()
    summary = await sync(
        S3Location("b", "p/"),
        tmp_path / "out",
        source_backend=backend,
        options=SyncOptions(progress=failed),
    )
    assert (summary.copied, summary.failed) == (1, 1)
    assert [key for key, _ in failed] == ["data/"]
    assert "ends in '/'" in failed[0][1]
    assert sorted(os.listdir(tmp_path / "out")) == ["file.txt"]


async def test_stale_temp_files_are_removed_by_the_rerun(
    tmp_path: Path, backend: MemoryBackend
) -> None:
    """A kill -9 left a temp file beside d/f.bin; the rerun downloads f.bin and removes
    the leftover, and nothing that is not exactly ours or that is newer than the run."""
    await backend.put_object("b", "d/f.bin", b"object")
    await backend.put_object("b", "d/g.bin", b"other")
    out = tmp_path / "out"
    (out / "d").mkdir(parents=True)
    stale = temp_path_for(out / "d" / "f.bin")
    stale.write_bytes(b"half a download")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    in_use = temp_path_for(out / "d" / "g.bin")  # another process's live download
    in_use.write_bytes(b"being written")
    future = time.time() + 3600
    os.utime(in_use, (future, future))
    mine = out / "d" / ".notes.s3flow-keep"  # the user's, not ours
    mine.write_bytes(b"user data")
    os.utime(mine, (old, old))
    summary = await sync(S3Location("b"), out, source_backend=backend)
    assert (summary.copied, summary.failed) == (2, 0)
    assert sorted(os.listdir(out / "d")) == sorted(
        [".notes.s3flow-keep", in_use.name, "f.bin", "g.bin"]
    )
    assert (out / "d" / "f.bin").read_bytes() == b"object"


async def test_a_download_never_writes_through_a_symlinked_directory(
    tmp_path: Path, backend: MemoryBackend
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    os.symlink(outside, out / "link")
    await backend.put_object("b", "link/pwn.txt", b"pwned")
    await backend.put_object("b", "ok/fine.txt", b"fine")
    failed = Failed()
    summary = await copy_tree(
        S3Location("b"), out, source_backend=backend, options=SyncOptions(progress=failed)
    )
    assert (summary.copied, summary.failed) == (1, 1)
    assert [key for key, _ in failed] == ["link/pwn.txt"]
    assert "symbolic link" in failed[0][1]
    assert os.listdir(outside) == []
    assert (out / "ok" / "fine.txt").read_bytes() == b"fine"


async def test_links_are_followed_and_a_loop_is_cut_where_it_closes(
    tmp_path: Path, backend: MemoryBackend
) -> None:
    """Two links to one directory elsewhere are both followed (not a loop: it is not on
    the walk's path); a link deep inside back to an ancestor is named once and cut."""
    shared = tmp_path / "shared"
    make_tree(shared, {"s.txt": b"s"})
    src = tmp_path / "src"
    make_tree(src, {"a/b/c.txt": b"c"})
    os.symlink(shared, src / "one")
    os.symlink(shared, src / "a" / "two")
    os.symlink("../..", src / "a" / "b" / "back")  # back to src
    failed = Failed()
    summary = await sync(
        src, S3Location("b"), dest_backend=backend, options=SyncOptions(progress=failed)
    )
    assert sorted(stored(backend, "b")) == ["a/b/c.txt", "a/two/s.txt", "one/s.txt"]
    assert [key for key, _ in failed.warned] == ["a/b/back"]
    assert f"leads back to {src};" in failed.warned[0][1]
    assert (summary.copied, summary.failed, summary.warned) == (3, 0, 1)

    plain = await sync(
        src,
        S3Location("c"),
        dest_backend=backend,
        options=SyncOptions(follow_symlinks=False),
    )
    assert (plain.copied, plain.warned) == (1, 0)


async def test_delete_keeps_what_the_source_has_but_could_not_read(
    tmp_path: Path, backend: MemoryBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--delete removes keys the source lacks, never those under a directory it could not
    read, behind a link loop, or named by a file it skipped (a dangling link)."""
    src = tmp_path / "src"
    make_tree(src, {"a.txt": b"a", "locked/inside.txt": b"x", "d/b.txt": b"b"})
    os.symlink("..", src / "d" / "up")
    os.symlink("nowhere", src / "dangling")
    for key in ("locked/inside.txt", "locked/more/deep.txt", "d/up/a.txt", "dangling", "gone"):
        await backend.put_object("b", key, b"kept?")
    real_scandir = os.scandir

    def scandir(path):  # type: ignore[no-untyped-def]
        if str(path).rstrip("/").endswith("locked"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(sources.os, "scandir", scandir)
    summary = await sync(
        src, S3Location("b"), dest_backend=backend, options=SyncOptions(delete=True)
    )
    assert sorted(stored(backend, "b")) == [
        "a.txt",
        "d/b.txt",
        "d/up/a.txt",
        "dangling",
        "locked/inside.txt",
        "locked/more/deep.txt",
    ]
    assert (summary.deleted, summary.failed, summary.warned) == (1, 1, 2)
