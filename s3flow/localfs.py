"""The only engine module that touches local files.

Positional reads and writes (``pread``/``pwrite``) in worker threads, so
parts are read in parallel with no shared cursor and the event loop never
blocks. Downloads land in a temp file next to the destination and are
``os.replace``d into place once verified: the destination has the old bytes
or the new, whatever happens to the process. With ``fsync`` the file is
fsynced before the rename and its directory after, so it survives a power
loss too (see the README's "Durability").
"""

from __future__ import annotations

import asyncio
import contextvars
import ctypes
import errno
import functools
import hashlib
import itertools
import os
import re
import secrets
import stat
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from s3flow.errors import LocalFileError
from s3flow.lane import run_in_lane, wait_done

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterator, Sequence
    from pathlib import Path

__all__ = [
    "QUICK_IO_MAX",
    "FileIdentity",
    "TempFile",
    "describe",
    "dirs_to_check",
    "file_entry",
    "file_kind",
    "identify",
    "is_temp_name",
    "make_durable",
    "open_for_read",
    "open_temp",
    "pwrite_all",
    "pwritev_all",
    "read_small",
    "remove_stale_temps",
    "run_io",
    "run_quick_io",
    "start_writeback",
    "symlink_among",
    "sync_dir",
    "temp_path_for",
    "write_new_file",
]

T = TypeVar("T")

TEMP_MARKER = ".s3flow-"


@dataclass(frozen=True, slots=True)
class FileIdentity:
    """What tells us a file has not changed: size and mtime in nanoseconds."""

    size: int
    mtime_ns: int


def describe(error: OSError, path: str | os.PathLike[str]) -> LocalFileError:
    """Turn an OSError into a one-line error that says what to do."""
    hints = {
        errno.ENOENT: "no such file or directory; check the path",
        errno.EACCES: "permission denied; check the file's permissions",
        errno.EPERM: "permission denied; check the file's permissions",
        errno.EISDIR: "is a directory; give a file path (or use --recursive)",
        errno.ENOTDIR: "a parent of this path is not a directory",
        errno.ENOSPC: "no space left on device; free some space and retry",
        errno.EDQUOT: "disk quota exceeded; free some space and retry",
        errno.EROFS: "read-only file system; choose a writable destination",
        errno.ENAMETOOLONG: "file name too long",
    }
    return LocalFileError(hints.get(error.errno or 0, error.strerror or str(error)), path=str(path))


async def run_io(path: str | os.PathLike[str], fn: Callable[..., T], *args: object) -> T:
    """Run blocking ``fn(*args)`` in a worker thread, mapping OSError to LocalFileError.

    Like ``anyio.to_thread.run_sync`` (the caller waits for the thread even when
    cancelled, then sees the cancellation), at less than half its cost per call:
    19 against 42-46 µs of CPU per hop here (64 tasks making 20,000 ``os.stat``
    hops, process CPU time).
    """
    future = asyncio.wrap_future(_pool().submit(contextvars.copy_context().run, fn, *args))
    try:
        return await wait_done(future)
    except OSError as error:
        raise describe(error, path) from error


#: Files up to this size are read or published on the lane (:func:`run_quick_io`):
#: their own syscalls cost less than a pool hop. Bigger ones are hashed and
#: written in the pool, so one slow file never holds up the small ones behind it.
QUICK_IO_MAX = 64 * 1024


async def run_quick_io(path: str | os.PathLike[str], fn: Callable[..., T], *args: object) -> T:
    """:func:`run_io` for calls that take microseconds (a small file's whole publish, a
    few ``lstat``): on :mod:`s3flow.lane`'s one thread, without a wake-up per call."""
    try:
        return await run_in_lane(fn, *args)
    except OSError as error:
        raise describe(error, path) from error


_POOL: tuple[int, ThreadPoolExecutor] | None = None
_POOL_LOCK = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    """One pool per process (a forked child must not inherit its parent's idle threads)."""
    global _POOL
    pool = _POOL
    if pool is None or pool[0] != os.getpid():
        with _POOL_LOCK:
            if _POOL is None or _POOL[0] != os.getpid():
                # As many threads as anyio's default limiter: a slow disk blocks
                # some calls without queueing every other file behind them.
                _POOL = (os.getpid(), ThreadPoolExecutor(40, thread_name_prefix="s3flow-io"))
            pool = _POOL
    return pool[1]


_KINDS = (
    (stat.S_ISDIR, "a directory; give a file path (or use --recursive)"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def file_kind(mode: int) -> str:
    """``a named pipe (FIFO)``, ``a socket``, ... for what is not a regular file."""
    return next((text for test, text in _KINDS[1:] if test(mode)), "a special file")


def not_regular(mode: int, path: str | os.PathLike[str]) -> LocalFileError | None:
    """The error for uploading what is not a regular file, or None for a regular file.

    Like ``aws s3 cp``, which skips character and block devices, FIFOs and
    sockets: their size says nothing about what reading them gives (``/dev/zero``
    never ends, a FIFO waits for a writer). A stream goes through stdin instead.
    """
    if stat.S_ISREG(mode):
        return None
    kind = next((text for test, text in _KINDS if test(mode)), "not a regular file")
    if stat.S_ISDIR(mode):
        return LocalFileError(f"is {kind}", path=str(path))
    return LocalFileError(
        f"is {kind}, not a regular file; nothing was uploaded "
        "(to upload what it gives, pipe it to stdin: `s3flow cp - s3://bucket/key < PATH`)",
        path=str(path),
    )


def _identify(path: Path) -> FileIdentity:
    st = os.stat(path)
    if error := not_regular(st.st_mode, path):
        raise error
    return FileIdentity(st.st_size, st.st_mtime_ns)


def read_small(path: Path, limit: int) -> tuple[FileIdentity, bytes | None]:
    """Blocking: the file's identity, and its bytes when it is smaller than ``limit``.

    One call (one worker-thread hop) for the small-file upload path. The bytes
    are read through one descriptor and the file re-checked afterwards, so a
    file changed while read is reported (``bytes`` is None then too).
    """
    # O_NONBLOCK: opening a FIFO waits for a writer, in a thread no Ctrl-C can stop.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    with open(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if error := not_regular(st.st_mode, path):
            raise error
        identity = FileIdentity(st.st_size, st.st_mtime_ns)
        if st.st_size >= limit:
            return identity, None
        data = f.read()
        after = os.fstat(f.fileno())
    if len(data) != identity.size or after.st_mtime_ns != identity.mtime_ns:
        return FileIdentity(-1, -1), None  # changed while we read it
    return identity, data


async def identify(path: Path) -> FileIdentity:
    return await run_io(path, _identify, path)


# At most this much per write call, because the kernel sizes the page-cache
# folios it allocates by the write's length (Linux 6.x, ext4/xfs large folios):
# a 256 KiB write at an aligned offset gets one 256 KiB folio. In a VM with free
# page reporting (virtio-balloon; here page_reporting_order=5, 128 KiB) every
# free block of 128 KiB or more is handed back to the host after ~2 s, so such a
# folio comes from memory the host must fault in again, page by page, while the
# kernel copies into it. Blocks of 32 KiB (order 3) are what the network stack
# allocates and frees for every received packet (SKB_FRAG_PAGE_ORDER), so they
# are recycled warm, and s5cmd's small writes land in folios of order 0-3.
# Measured on a 1 GiB download (SeaweedFS on loopback, cache dropped before
# each run; filemap:mm_filemap_add_to_page_cache counted with perf): 256 KiB
# writes gave 4,096 order-6 folios and 1.2-2.7 s of system CPU (perf: 69% in
# copy_folio_from_iter_atomic), 32 KiB writes 32,768 order-3 folios and
# 0.6-1.0 s, like s5cmd's 0.7-1.7 s (issue 14).
WRITE_PIECE = 32 * 1024
_IOV_MAX = 1024  # Linux


def _groups(chunks: Sequence[bytes | bytearray]) -> Iterator[list[memoryview]]:
    """The chunks as lists of views, each list at most ``WRITE_PIECE`` bytes in all."""
    group: list[memoryview] = []
    size = 0
    for chunk in chunks:
        view = memoryview(chunk)
        for start in range(0, len(view), WRITE_PIECE):
            piece = view[start : start + WRITE_PIECE]
            if group and (size + len(piece) > WRITE_PIECE or len(group) == _IOV_MAX):
                yield group
                group, size = [], 0
            group.append(piece)
            size += len(piece)
    if group:
        yield group


def pwrite_all(fd: int, data: memoryview, offset: int) -> None:
    """Write ``data`` at ``offset`` in calls of at most :data:`WRITE_PIECE` bytes."""
    done, size = 0, len(data)
    while done < size:
        done += os.pwrite(fd, data[done : done + WRITE_PIECE], offset + done)


def pwritev_all(fd: int, chunks: Sequence[bytes | bytearray], offset: int) -> None:
    """Write ``chunks`` back to back at ``offset`` without joining them first,
    at most :data:`WRITE_PIECE` bytes per call."""
    for views in _groups(chunks):
        while views:
            written = os.pwritev(fd, views, offset)
            offset += written
            while views and written >= len(views[0]):
                written -= len(views[0])
                views.pop(0)
            if views and written:
                views[0] = views[0][written:]


_SYNC_FILE_RANGE_WRITE = 2


@functools.cache
def _sync_file_range() -> Callable[[int, int, int, int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        call = ctypes.CDLL(None, use_errno=True).sync_file_range
    except (OSError, AttributeError):
        return None
    call.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    call.restype = ctypes.c_int
    return call


def start_writeback(fd: int, offset: int, length: int) -> None:
    """Blocking: start writing ``fd``'s dirty pages in this span to disk, without waiting.

    Only for a download that fsyncs its file before the rename (``fsync``):
    without one it would only add disk-submission CPU to the client (1.08 s
    sys against 0.45 s for 512 MiB, issue 14). Left to that fsync, the
    whole file's writeback starts only then, after the last byte has arrived:
    0.53-0.55 s of a 1 GiB download here. Started as each batch lands, it
    overlaps the download, and that fsync took 0.15-0.19 s
    (`sync_file_range`, Linux only; elsewhere this does nothing and the fsync
    does it all). The pages stay cached, unlike ``posix_fadvise(DONTNEED)``.
    """
    call = _sync_file_range()
    if call is not None:
        call(fd, offset, length, _SYNC_FILE_RANGE_WRITE)  # a hint: failure costs only speed


@asynccontextmanager
async def open_for_read(path: Path) -> AsyncIterator[int]:
    fd = await run_io(path, os.open, path, os.O_RDONLY | os.O_NONBLOCK)  # see read_small
    try:
        yield fd
    finally:
        os.close(fd)


# A random prefix per process and a counter: unique names without a getrandom()
# call per file (O_EXCL catches the unlikely clash with another process).
_TEMP_PREFIX = secrets.token_hex(4)
_TEMP_COUNT = itertools.count()


# Longest file name (bytes) on Linux and macOS file systems (ext4, xfs, btrfs, APFS).
NAME_MAX = 255
_TEMP_NAME = re.compile(r"\..+\.s3flow-[0-9a-f]{9,}", re.DOTALL)


def is_temp_name(name: str) -> bool:
    """Whether ``name`` is one of our download temp files (see :func:`temp_path_for`).

    The pattern: ``.`` + a base name + ``.s3flow-`` + at least 9 lowercase hex digits.

    >>> is_temp_name(".photo.jpg.s3flow-1a2b3c4d0"), is_temp_name("notes.s3flow-draft")
    (True, False)
    """
    return _TEMP_NAME.fullmatch(name) is not None


def temp_path_for(dest: Path) -> Path:
    """A unique temp file beside ``dest``: ``.<name>.s3flow-<hex>``.

    A name too long for that (a key's last part of 238-255 bytes) is cut, and
    ``~`` and 8 hex digits of its hash stand for the rest, so the temp name
    fits ``NAME_MAX`` and still matches :func:`is_temp_name`.
    """
    suffix = f"{TEMP_MARKER}{_TEMP_PREFIX}{next(_TEMP_COUNT):x}"
    base = dest.name
    encoded = os.fsencode(base)
    if len(encoded) + len(suffix) + 1 > NAME_MAX:
        tag = "~" + hashlib.sha256(encoded).hexdigest()[:8]
        room = NAME_MAX - len(suffix) - 1 - len(tag)
        kept, used = [], 0
        for char in base:  # whole characters: never half of a UTF-8 sequence
            size = len(os.fsencode(char))
            if used + size > room:
                break
            kept.append(char)
            used += size
        base = "".join(kept) + tag
    return dest.with_name(f".{base}{suffix}")


@dataclass(slots=True)
class TempFile:
    """A temp file next to its destination, published atomically by :meth:`publish`."""

    path: Path
    dest: Path
    fd: int

    async def publish(self, *, fsync: bool = False) -> None:
        await run_io(self.dest, _publish, self.fd, self.path, self.dest, fsync)


def _publish(fd: int, temp: Path, dest: Path, fsync: bool) -> None:
    """Blocking: rename ``temp`` onto ``dest``; with ``fsync``, durably (file, rename, directory)."""
    if fsync:
        os.fsync(fd)
    os.replace(temp, dest)
    if fsync:
        sync_dir(dest.parent)


def sync_dir(path: Path) -> None:
    """Blocking: fsync a directory, so the renames in it survive a power loss."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _open_temp(
    dest: Path, size: int, path: Path | None, make_parents: bool = False
) -> tuple[Path, int]:
    # One stat of dest, not four: small-file downloads run this per file.
    try:
        mode = os.stat(dest).st_mode
    except FileNotFoundError:
        pass
    else:
        if stat.S_ISDIR(mode):
            raise LocalFileError("is a directory; give a file path to download to", path=str(dest))
        if not stat.S_ISREG(mode):
            # os.replace would swap a device, FIFO or socket for a regular file.
            raise LocalFileError("is not a regular file; choose a file path", path=str(dest))
    temp = path or temp_path_for(dest)
    flags = os.O_RDWR | os.O_CREAT | (0 if path else os.O_EXCL)
    try:
        fd = os.open(temp, flags, 0o644)
    except FileNotFoundError:
        if not make_parents:
            raise LocalFileError(
                "destination directory does not exist; create it first", path=str(dest)
            ) from None
        os.makedirs(dest.parent, exist_ok=True)  # only when missing: the common case skips it
        fd = os.open(temp, flags, 0o644)
    try:
        if size and os.fstat(fd).st_size != size:
            # Fail before downloading anything when the disk cannot hold the file.
            # (posix_fallocate would reserve it, but its unwritten extents make
            # every later write several times dearer on ext4.)
            free = os.statvfs(temp.parent)
            if free.f_bavail * free.f_frsize < size:
                raise OSError(errno.ENOSPC, "no space left on device", str(dest))
            os.ftruncate(fd, size)
    except BaseException:
        os.close(fd)
        os.unlink(temp)
        raise
    return temp, fd


def write_new_file(
    dest: Path,
    chunks: Sequence[bytes | bytearray],
    verify: Callable[[Path], None],
    mtime: float | None = None,
    make_parents: bool = False,
    fsync: bool = False,
) -> None:
    """Blocking: ``verify``, then write ``chunks`` to a temp file, rename onto ``dest``.

    The whole small-object publish in one call, so it costs one worker-thread hop.
    ``fsync``: durably (see :func:`_publish`).
    """
    verify(dest)  # before anything touches the disk
    temp, fd = _open_temp(dest, 0, None, make_parents)
    try:
        pwritev_all(fd, chunks, 0)
        _publish(fd, temp, dest, fsync)
    except BaseException:
        _remove(temp)
        raise
    finally:
        os.close(fd)
    if mtime is not None:
        os.utime(dest, (mtime, mtime))


@asynccontextmanager
async def open_temp(
    dest: Path, size: int, *, reuse: Path | None = None, make_parents: bool = False
) -> AsyncIterator[TempFile]:
    """Open a temp file for ``dest``; remove it unless published.

    ``reuse`` reopens an earlier temp file (resume); ``make_parents`` creates
    missing directories. The temp file never appears at ``dest`` unless published.
    """
    temp, fd = await run_io(dest, _open_temp, dest, size, reuse, make_parents)
    handle = TempFile(temp, dest, fd)
    try:
        yield handle
    except BaseException:
        _remove(temp)
        raise
    finally:
        os.close(fd)


def _remove(path: Path) -> None:
    # Synchronous on purpose: it must run even while the task is being cancelled.
    with suppress(FileNotFoundError):
        os.unlink(path)


# --- durability of bulk jobs (group commit) ----------------------------------------


def file_entry(path: Path) -> tuple[int, float, float]:
    """Blocking: a regular file's size, mtime and change time (seconds)."""
    st = os.stat(path)
    if not stat.S_ISREG(st.st_mode):
        raise IsADirectoryError(errno.EISDIR, "is not a regular file", str(path))
    return st.st_size, st.st_mtime_ns / 1e9, st.st_ctime_ns / 1e9


@functools.cache
def _syncfs() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        call = ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):
        return None
    call.argtypes = [ctypes.c_int]
    call.restype = ctypes.c_int
    return call


def make_durable(root: Path, paths: Sequence[Path]) -> None:
    """Blocking: ``paths`` (files renamed into place under ``root``) and their directory
    entries are on disk when this returns.

    One ``syncfs`` of ``root``'s file system covers them all (Linux); files on another
    file system (a mount inside the tree), or any file where ``syncfs`` is missing or
    fails, are fsynced one by one, with their directories.
    """
    call = _syncfs()
    synced, device = False, -1
    if call is not None:
        fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
        try:
            synced = call(fd) == 0
            device = os.fstat(fd).st_dev
        finally:
            os.close(fd)
    parents: dict[Path, list[Path]] = {}
    for path in paths:
        parents.setdefault(path.parent, []).append(path)
    for parent, files in parents.items():
        try:
            if synced and os.stat(parent).st_dev == device:
                continue
        except FileNotFoundError:
            continue  # removed since (a later delete): nothing left to make durable
        for path in files:
            _fsync_path(path, os.O_RDONLY)
        _fsync_path(parent, os.O_RDONLY | os.O_DIRECTORY)


def _fsync_path(path: Path, flags: int) -> None:
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_stale_temps(directories: Sequence[Path], before: float) -> int:
    """Blocking: remove s3flow's own temp files (exact names only, regular files, not
    links) last written before ``before`` (epoch seconds) from ``directories``.

    A bulk download run after this time did not leave them: they are what a killed
    run left behind. Returns how many were removed.
    """
    removed = 0
    for directory in directories:
        try:
            entries = list(os.scandir(directory))
        except OSError:
            continue  # gone or unreadable: nothing of ours to find there
        for item in entries:
            if not is_temp_name(item.name):
                continue
            try:
                st = item.stat(follow_symlinks=False)
                if stat.S_ISREG(st.st_mode) and st.st_mtime < before:
                    os.unlink(item.path)
                    removed += 1
            except FileNotFoundError:
                continue
    return removed


def dirs_to_check(root: Path, path: Path, known: set[str]) -> list[str]:
    """The directories between ``root`` and ``path`` (both excluded) not yet in ``known``,
    the cache of directories found to be real ones; no I/O.

    >>> from pathlib import Path
    >>> dirs_to_check(Path("/d"), Path("/d/a/b/f"), {"/d/a"})
    ['/d/a/b']
    """
    dirs: list[str] = []
    current = str(root)
    for part in path.relative_to(root).parts[:-1]:
        current = os.path.join(current, part)
        if current not in known:
            dirs.append(current)
    return dirs


def symlink_among(dirs: list[str], known: set[str]) -> str | None:
    """Blocking: the first of ``dirs`` (outermost first) that is a symbolic link, or None.
    Real ones are added to ``known``."""
    for current in dirs:
        try:
            st = os.lstat(current)
        except FileNotFoundError:
            return None  # made by the download itself, as a real directory
        if stat.S_ISLNK(st.st_mode):
            return current
        known.add(current)
    return None
