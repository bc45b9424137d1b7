"""Listings as sorted async streams of :class:`~s3flow.bulk.diff.Entry`, in S3 key order.

S3 sorts by the full key, so a depth-first walk with names sorted per
directory is *wrong*: ``a.b`` sorts before ``a/b`` ('.' < '/'), yet the walk
would visit directory ``a`` first. :func:`order_children` sorts a directory
``d`` as if it were named ``d/``, which puts its whole subtree exactly
where S3 would. Key ranges ``(after, upto]`` let listings be split into
shards that are listed (and synced) concurrently.
"""

from __future__ import annotations

import errno
import itertools
import json
import logging
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import anyio
import anyio.to_thread

from s3flow.bulk.diff import Entry, Order
from s3flow.errors import LocalFileError
from s3flow.localfs import file_kind, is_temp_name, run_io
from s3flow.ops.listing import PageGuard

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
    from pathlib import Path

    from s3flow.backend.protocol import S3Backend
    from s3flow.models import ObjectInfo

__all__ = [
    "KeyRange",
    "list_s3",
    "order_children",
    "read_key_list",
    "split_keyspace",
    "walk_local",
    "write_key_line",
]

_log = logging.getLogger("s3flow.bulk")

DEFAULT_ALPHABET = "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True, slots=True)
class KeyRange:
    """Relative keys ``k`` with ``after < k <= upto`` (``None``: unbounded)."""

    after: str | None = None
    upto: str | None = None

    def __contains__(self, key: object) -> bool:
        return (
            isinstance(key, str)
            and (self.after is None or key > self.after)
            and (self.upto is None or key <= self.upto)
        )


def split_keyspace(shards: int, alphabet: str = DEFAULT_ALPHABET) -> list[KeyRange]:
    """Split all keys into ``shards`` contiguous ranges at evenly spaced first characters.

    >>> split_keyspace(2, "ab")
    [KeyRange(after=None, upto='a'), KeyRange(after='a', upto=None)]
    """
    if shards < 1:
        raise ValueError(f"shards must be at least 1, got {shards}")
    chars = sorted(set(alphabet))
    step = len(chars) / shards
    bounds = sorted({chars[int(i * step) - 1] for i in range(1, shards) if int(i * step) >= 1})
    edges: list[str | None] = [None, *bounds, None]
    return [KeyRange(a, b) for a, b in itertools.pairwise(edges)]


# --- local -----------------------------------------------------------------------


def order_children(
    children: Iterable[tuple[str, bool]], order: Order = "s3"
) -> list[tuple[str, bool]]:
    """Sort ``(name, is_dir)`` pairs of one directory into S3 key order (or ``path`` order).

    >>> order_children([("a", True), ("a.b", False), ("a0", False)])
    [('a.b', False), ('a', True), ('a0', False)]
    """
    if order == "path":
        return sorted(children)
    return sorted(children, key=lambda c: c[0] + "/" if c[1] else c[0])


Scanned = tuple[str, bool, int, float, float, tuple[int, int] | None]
"""name, is_dir, size, mtime, ctime, and for a directory its (st_dev, st_ino)."""

Bad = tuple[str, str, bool]  # shown name, reason, is_dir


@dataclass(slots=True)
class _Scan:
    """One directory's sources, and what in it cannot be one: ``bad`` entries fail
    (a name that is not UTF-8, an unreadable entry); ``odd`` ones are skipped with a
    warning, as aws s3 does (a dangling or looping link, a FIFO, socket or device)."""

    follow: bool
    found: list[Scanned] = field(default_factory=list)
    bad: list[Bad] = field(default_factory=list)
    odd: list[Bad] = field(default_factory=list)

    def add(self, item: os.DirEntry[str]) -> None:
        name = item.name
        if not _utf8(name):
            self.bad.append((_shown(name), "file name is not valid UTF-8; rename it", False))
            return
        link = item.is_symlink()
        if link and not self.follow:
            return  # --no-follow-symlinks: links are not sources (aws s3 skips them silently)
        if not link and item.is_file(follow_symlinks=False):  # d_type: no stat for the kind
            self._file(name, item.stat(follow_symlinks=False))
        else:
            self._other(item, name, link)

    def _other(self, item: os.DirEntry[str], name: str, link: bool) -> None:
        """A directory, a link (followed), or a special file."""
        try:
            st = item.stat()  # through the link
        except FileNotFoundError:
            if not link:
                raise  # removed while we looked
            self.odd.append((name, "symbolic link leads nowhere (dangling); skipped", False))
            return
        except OSError as error:
            if not link or error.errno != errno.ELOOP:
                raise
            self.odd.append((name, "symbolic link loops back to itself; skipped", False))
            return
        if stat.S_ISDIR(st.st_mode):
            self.found.append((name, True, 0, 0.0, 0.0, (st.st_dev, st.st_ino)))
        elif stat.S_ISREG(st.st_mode):
            self._file(name, st)
        else:
            kind = file_kind(st.st_mode)
            self.odd.append((name, f"is {kind}, not a regular file; skipped", False))

    def _file(self, name: str, st: os.stat_result) -> None:
        self.found.append(
            (name, False, st.st_size, st.st_mtime_ns / 1e9, st.st_ctime_ns / 1e9, None)
        )


def _scan(path: str, follow: bool) -> _Scan:
    """A directory's entries, sorted into sources and what cannot be one."""
    scan = _Scan(follow)
    with os.scandir(path) as it:
        for item in it:
            if is_temp_name(item.name):
                continue  # a download in progress (ours), never a source
            try:
                scan.add(item)
            except FileNotFoundError:  # removed while we looked
                continue
            except OSError as error:  # an unreadable entry
                reason = error.strerror or str(error)
                scan.bad.append((_shown(item.name), f"cannot be read: {reason}", False))
    return scan


def _utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes, kept as surrogates by os.scandir
        return False
    return True


def _shown(name: str) -> str:
    """A printable form of a name that may hold undecodable bytes (as ``\\xff``)."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def _identity(path: str) -> tuple[int, int]:
    st = os.stat(path)
    return st.st_dev, st.st_ino


Report = Callable[[str, str, bool], None]  # key, reason, is_dir


@dataclass(frozen=True, slots=True)
class _Walk:
    """How one tree is read: what to follow, and where what cannot be a source goes."""

    root: Path
    order: Order
    follow: bool
    on_error: Report | None
    on_warning: Report

    def fail(self, key: str, reason: str, is_dir: bool) -> None:
        if self.on_error is None:
            raise LocalFileError(reason, path=os.path.join(self.root, key))
        self.on_error(key, reason, is_dir)

    async def children(self, prefix: str) -> list[Scanned]:
        directory = os.path.join(self.root, prefix)
        scan = await run_io(directory, _scan, directory, self.follow)
        for name, reason, is_dir in scan.bad:
            self.fail(prefix + name, reason, is_dir)
        for name, reason, is_dir in scan.odd:
            self.on_warning(prefix + name, reason, is_dir)
        by_name = {item[0]: item for item in scan.found}
        ordered = order_children(((n, item[1]) for n, item in by_name.items()), self.order)
        return [(prefix + name, *by_name[name][1:]) for name, _ in ordered]

    async def enter(
        self, key: str, ident: tuple[int, int] | None, path: list[_Frame]
    ) -> list[Scanned] | None:
        """The children of directory ``key``, or None when it is not walked: a link back
        to a directory on the current path (a loop), or a directory that cannot be read."""
        above = next((frame.key for frame in path if frame.ident == ident), None)
        if above is not None:
            shown = os.path.join(self.root, above) if above else str(self.root)
            self.on_warning(key, f"symbolic link loop: leads back to {shown}; not followed", True)
            return None
        try:
            return await self.children(key + "/")
        except LocalFileError as error:
            if self.on_error is None:
                raise
            self.on_error(key, f"directory cannot be read: {error.message}", True)
            return None


@dataclass(slots=True)
class _Frame:
    """A directory on the current path of the walk, and its children still to visit."""

    key: str
    ident: tuple[int, int] | None
    rest: Iterator[Scanned]


def _subtree_vs(span: KeyRange, key: str) -> int:
    """Where directory ``key``'s subtree lies against ``span``: -1 before, 1 after, 0 in."""
    # Every key under key/ is < key + "0" ('0' follows '/').
    if span.after is not None and key + "0" <= span.after:
        return -1
    if span.upto is not None and key + "/" > span.upto:
        return 1
    return 0


def _log_warning(key: str, reason: str, is_dir: bool) -> None:
    _log.warning("skipped %s: %s", key, reason)


async def walk_local(
    root: Path,
    span: KeyRange = KeyRange(),
    *,
    page: int = 1000,
    order: Order = "s3",
    follow_symlinks: bool = True,
    on_error: Report | None = None,
    on_warning: Report | None = None,
) -> AsyncIterator[list[Entry]]:
    """Yield the files under ``root`` in S3 key order, in lists of up to ``page`` entries.

    Symbolic links are followed (as aws s3 does) unless ``follow_symlinks`` is
    False, when they are skipped; a link back to a directory on the current
    path is a loop and is not followed. Directories entirely outside ``span``
    are not read (``span`` needs ``order="s3"``). What cannot be a source goes
    to ``on_error(key, reason, is_dir)`` (a name that is not UTF-8, an
    unreadable directory; without ``on_error`` it raises LocalFileError) or to
    ``on_warning`` (a dangling or looping link, a FIFO, socket or device:
    skipped; without ``on_warning`` it is logged). The root must be readable.
    Example::

        async for batch in walk_local(Path("photos")):
            print([entry.key for entry in batch])
    """
    if not await anyio.Path(root).is_dir():
        return
    walk = _Walk(root, order, follow_symlinks, on_error, on_warning or _log_warning)
    top = await run_io(root, _identity, str(root))
    path = [_Frame("", top, iter(await walk.children("")))]
    batch: list[Entry] = []
    while path:
        item = next(path[-1].rest, None)
        if item is None:
            path.pop()
            continue
        key, is_dir, size, mtime, ctime, ident = item
        if not is_dir:
            if key in span:
                batch.append(Entry(key, size, mtime, "", ctime))
            elif span.upto is not None and key > span.upto:
                break
            if len(batch) >= page:
                yield batch
                batch = []
            continue
        where = _subtree_vs(span, key)
        if where > 0:
            break
        if where < 0:
            continue
        if batch:
            yield batch
            batch = []
        children = await walk.enter(key, ident, path)
        if children is not None:
            path.append(_Frame(key, ident, iter(children)))
    if batch:
        yield batch


# --- S3 --------------------------------------------------------------------------


async def list_s3(
    backend: S3Backend, bucket: str, prefix: str, span: KeyRange = KeyRange()
) -> AsyncIterator[list[Entry]]:
    """Yield the objects under ``prefix`` within ``span``, one list per page, keys made
    relative to ``prefix``. Example::

        async for page in list_s3(backend, "photos", "2024/"):
            print(len(page))
    """
    token: str | None = None
    # A file-tree server (SeaweedFS) reads StartAfter "p/a" as "after the entry a",
    # skipping the directory a/ and all of its keys; start just below the range and
    # drop what is not in it here.
    start = prefix + _just_below(span.after) if span.after else None
    guard = PageGuard[str](bucket, prefix)
    while True:
        page = await backend.list_page(
            bucket, prefix=prefix, token=token, start_after=start if token is None else None
        )
        entries, past_end = _in_span(page.objects, len(prefix), span)
        if entries:
            yield entries
        token = None if past_end else guard.next(page.next_token, len(page.objects))
        if token is None:
            return


def _in_span(objects: Sequence[ObjectInfo], cut: int, span: KeyRange) -> tuple[list[Entry], bool]:
    """A page's entries (keys less ``cut`` leading characters) inside ``span``, and whether
    the page reached past its end (then no later page can hold one)."""
    entries = [_entry(o, cut) for o in objects]
    if span.after is not None:
        entries = [e for e in entries if e.key > span.after]
    if span.upto is not None and entries and entries[-1].key > span.upto:
        return [e for e in entries if e.key <= span.upto], True
    return entries, False


def _entry(info: ObjectInfo, cut: int) -> Entry:
    mtime = info.last_modified.timestamp() if info.last_modified else 0.0
    return Entry(info.key[cut:], info.size, mtime, info.etag)


def _just_below(key: str) -> str:
    """A string sorting before ``key`` but after every shorter-prefixed key below it."""
    last = ord(key[-1])
    return key[:-1] + chr(last - 1) if last > 1 else key[:-1]


# --- key lists (--from-list, failures file) ------------------------------------------


def write_key_line(key: str) -> str:
    """One line for ``key``; keys with line breaks or a leading quote are JSON-quoted."""
    if "\n" in key or "\r" in key or key.startswith('"'):
        return json.dumps(key) + "\n"
    return key + "\n"


def _read_keys(path: Path) -> list[str]:
    keys: set[str] = set()
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            line = line.rstrip("\n")
            if line:
                keys.add(json.loads(line) if line.startswith('"') else line)
    return sorted(keys)


async def read_key_list(path: Path) -> list[str]:
    """The distinct keys of a ``--from-list`` file, sorted."""
    return await run_io(path, _read_keys, path)
