"""localfs helpers that need no server."""

from __future__ import annotations

import os
import sys
import threading
from typing import TYPE_CHECKING

import anyio
import pytest

from s3flow import localfs
from s3flow.errors import LocalFileError

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from pathlib import Path


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="sync_file_range is Linux-only")
def test_writeback_hint_is_found_on_linux() -> None:
    # Without it every download's final fsync writes the whole file back at the end.
    assert localfs._sync_file_range() is not None


def test_start_writeback_keeps_the_bytes(tmp_path: Path) -> None:
    path = tmp_path / "f"
    data = os.urandom(3 * 1024 * 1024)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        localfs.pwritev_all(fd, [data[:1000], data[1000:]], 0)
        localfs.start_writeback(fd, 0, len(data))
        localfs.start_writeback(fd, len(data), 4096)  # past the end: still only a hint
        os.fsync(fd)
    finally:
        os.close(fd)
    assert path.read_bytes() == data


def test_start_writeback_on_a_closed_descriptor_is_only_a_lost_hint(tmp_path: Path) -> None:
    fd = os.open(tmp_path / "f", os.O_RDWR | os.O_CREAT, 0o644)
    os.close(fd)
    localfs.start_writeback(fd, 0, 4096)  # EBADF: ignored, the fsync reports real errors


@pytest.mark.parametrize(
    "sizes",
    [
        [1024 * 1024],  # one aligned MiB: 32 calls of 32 KiB
        [3, 0, 5, 7],
        [300_000, 5, 1024 * 1024 + 1],
        [1] * 3000,  # more pieces than IOV_MAX
    ],
)
def test_pwritev_all_writes_every_byte_in_steps(tmp_path: Path, sizes: list[int]) -> None:
    chunks = [os.urandom(n) for n in sizes]
    assert all(
        sum(len(v) for v in group) <= localfs.WRITE_PIECE and len(group) <= localfs._IOV_MAX
        for group in localfs._groups(chunks)
    )
    path = tmp_path / "f"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        localfs.pwritev_all(fd, chunks, 10)
    finally:
        os.close(fd)
    assert path.read_bytes() == b"\0" * 10 + b"".join(chunks)


def test_no_write_call_is_larger_than_a_32_kib_folio(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The kernel sizes page-cache folios by the write's length; folios above
    # 32 KiB came from host-reclaimed memory on the benchmark VM and tripled
    # a download's system CPU (see localfs.WRITE_PIECE).
    sizes: list[int] = []
    real_pwrite, real_pwritev = os.pwrite, os.pwritev

    def pwrite(fd: int, data: memoryview, offset: int) -> int:
        sizes.append(len(data))
        return real_pwrite(fd, data, offset)

    def pwritev(fd: int, views: list[memoryview], offset: int) -> int:
        sizes.append(sum(len(v) for v in views))
        return real_pwritev(fd, views, offset)

    monkeypatch.setattr(os, "pwrite", pwrite)
    monkeypatch.setattr(os, "pwritev", pwritev)
    data = os.urandom(1024 * 1024 + 5)
    path = tmp_path / "f"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        localfs.pwrite_all(fd, memoryview(data)[: 256 * 1024], 0)
        localfs.pwritev_all(fd, [data[256 * 1024 :]], 256 * 1024)
    finally:
        os.close(fd)
    assert path.read_bytes() == data
    assert sizes and max(sizes) <= 32 * 1024


@pytest.mark.parametrize(
    "name",
    ["a", "x" * 237, "x" * 238, "x" * 255, "é" * 127 + "x", "日" * 85, os.fsdecode(b"\xff" * 255)],
    ids=["short", "237", "238", "255", "2-byte-utf8", "3-byte-utf8", "not-utf8"],
)
def test_temp_name_always_fits_and_is_recognised(tmp_path: Path, name: str) -> None:
    temp = localfs.temp_path_for(tmp_path / name)
    assert temp.parent == tmp_path
    assert len(os.fsencode(temp.name)) <= 255
    assert localfs.is_temp_name(temp.name)
    assert temp != localfs.temp_path_for(tmp_path / name)  # unique per call
    os.close(os.open(temp, os.O_CREAT | os.O_EXCL | os.O_WRONLY))  # the file system takes it
    if len(os.fsencode(name)) <= 230:
        assert temp.name.startswith(f".{name}.s3flow-")  # short names are kept whole


@pytest.mark.parametrize(
    "name",
    ["notes.s3flow-draft", "a.s3flow-1a2b3c4d0", ".a.s3flow-", ".a.s3flow-1A2B3C4D0", "x"],
)
def test_names_that_are_not_temp_files(name: str) -> None:
    assert not localfs.is_temp_name(name)


RUNNERS = pytest.mark.parametrize("run", [localfs.run_io, localfs.run_quick_io])


@RUNNERS
async def test_run_io_cancelled_waits_for_its_thread_then_raises(
    tmp_path: Path, run: Callable[..., Awaitable[str]]
) -> None:
    # A cancelled caller must not move on (e.g. unlink its temp file) while the
    # worker thread still writes into it: run_io waits, then lets the cancellation through.
    entered, release = threading.Event(), threading.Event()
    finished: list[str] = []

    def blocking() -> str:
        entered.set()
        release.wait(10)
        finished.append("done")
        return "done"

    reached_after = False
    with anyio.CancelScope() as scope:
        async with anyio.create_task_group() as tg:

            async def call() -> None:
                nonlocal reached_after
                await run(tmp_path, blocking)
                reached_after = True

            tg.start_soon(call)
            for _ in range(10_000):  # bounded: the thread starts within milliseconds
                if entered.is_set():
                    break
                await anyio.sleep(0.001)
            scope.cancel()
            threading.Timer(0.05, release.set).start()
    assert scope.cancelled_caught
    assert finished == ["done"]  # the thread had finished before the cancellation was seen
    assert not reached_after


@RUNNERS
async def test_run_io_maps_os_errors_to_one_line(
    tmp_path: Path, run: Callable[..., Awaitable[object]]
) -> None:
    with pytest.raises(LocalFileError, match="no such file or directory") as caught:
        await run(tmp_path / "missing", os.stat, tmp_path / "missing")
    assert str(tmp_path / "missing") in str(caught.value)


def test_dirs_to_check_skips_known_directories_and_the_file(tmp_path: Path) -> None:
    root = tmp_path / "d"
    assert localfs.dirs_to_check(root, root / "f", set()) == []
    known = {str(root / "a")}
    assert localfs.dirs_to_check(root, root / "a" / "b" / "f", known) == [str(root / "a" / "b")]


def test_symlink_among_finds_the_link_and_remembers_real_directories(tmp_path: Path) -> None:
    (tmp_path / "real" / "sub").mkdir(parents=True)
    (tmp_path / "link").symlink_to(tmp_path / "real")
    known: set[str] = set()
    dirs = [str(tmp_path / "real"), str(tmp_path / "real" / "sub")]
    assert localfs.symlink_among(dirs, known) is None
    assert known == set(dirs)
    link = str(tmp_path / "link")
    assert localfs.symlink_among([str(tmp_path / "real"), link, link + "/x"], known) == link
    # Not there yet: the download makes it, as a real directory.
    assert localfs.symlink_among([str(tmp_path / "new")], known) is None
