"""Listings as sorted async streams of :class:`~s3flow.bulk.diff.Entry`, in S3 key order.

S3 sorts by the full key, so a depth-first walk with names sorted per
directory is *wrong*: ``a.b`` sorts before ``a/b`` ('.' < '/'), yet the walk
would visit directory ``a`` first. :func:`order_children` sorts a directory
``d`` as if it were named ``d/``, which puts its whole subtree exactly
where S3 would. Key ranges ``(after, upto]`` let listings be split into
shards that are listed (and synced) concurrently.
"""

from __future__ import annotations

import itertools
import json
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

import anyio
import anyio.to_thread

from s3flow.bulk.diff import Entry, Order
from s3flow.errors import LocalFileError
from s3flow.localfs import is_temp_name, run_io
from s3flow.ops.listing import PageGuard

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterable
    from pathlib import Path

    from s3flow.backend.protocol import S3Backend

__all__ = [
    "KeyRange",
    "list_s3",
    "order_children",
    "read_key_list",
    "split_keyspace",
    "walk_local",
    "write_key_line",
]

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


Scanned = tuple[str, bool, int, float, float]  # name, is_dir, size, mtime, ctime


def _scan(path: str) -> tuple[list[Scanned], list[tuple[str, str, bool]]]:
    """A directory's files and subdirectories, and what in it cannot be a source."""
    found: list[Scanned] = []
    bad: list[tuple[str, str, bool]] = []
    with os.scandir(path) as it:
        for item in it:
            if is_temp_name(item.name):
                continue  # a download in progress (ours), never a source
            try:
                _classify(item, found, bad)
            except FileNotFoundError:  # removed while we looked
                continue
            except OSError as error:  # a symlink loop (ELOOP), an unreadable entry
                reason = error.strerror or str(error)
                bad.append((_shown(item.name), f"cannot be read: {reason}", False))
    return found, bad


def _classify(
    item: os.DirEntry[str], found: list[Scanned], bad: list[tuple[str, str, bool]]
) -> None:
    name = item.name
    is_dir = item.is_dir(follow_symlinks=False)
    if not _utf8(name):
        bad.append((_shown(name), "file name is not valid UTF-8; rename it", is_dir))
    elif is_dir:
        found.append((name, True, 0, 0.0, 0.0))
    elif item.is_file():
        st = item.stat()
        found.append((name, False, st.st_size, st.st_mtime_ns / 1e9, st.st_ctime_ns / 1e9))
    elif item.is_symlink() and not os.path.exists(item.path):
        bad.append((name, "symbolic link leads nowhere (dangling); fix or remove it", False))


def _utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes, kept as surrogates by os.scandir
        return False
    return True


def _shown(name: str) -> str:
    """A printable form of a name that may hold undecodable bytes (as ``\\xff``)."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")


async def walk_local(
    root: Path,
    span: KeyRange = KeyRange(),
    *,
    page: int = 1000,
    order: Order = "s3",
    on_error: Callable[[str, str, bool], None] | None = None,
) -> AsyncIterator[list[Entry]]:
    """Yield the files under ``root`` in S3 key order, in lists of up to ``page`` entries.

    Symlinked directories are not followed; directories entirely outside
    ``span`` are not read (``span`` needs ``order="s3"``). What cannot be a
    source (a name that is not UTF-8, a symlink loop or dangling link, a
    directory that cannot be read) goes to ``on_error(key, reason, is_dir)``
    and the walk goes on; without ``on_error`` it raises LocalFileError. The
    root itself must be readable. Example::

        async for batch in walk_local(Path("photos")):
            print([entry.key for entry in batch])
    """
    if not await anyio.Path(root).is_dir():
        return

    def report(key: str, reason: str, is_dir: bool) -> None:
        if on_error is None:
            raise LocalFileError(reason, path=os.path.join(root, key))
        on_error(key, reason, is_dir)

    batch: list[Entry] = []
    stack = [iter(await _children(root, "", order, report))]
    while stack:
        item = next(stack[-1], None)
        if item is None:
            stack.pop()
            continue
        key, is_dir, size, mtime, ctime = item
        if is_dir:
            # Every key under key/ is < key + "0" ('0' follows '/').
            if span.after is not None and key + "0" <= span.after:
                continue
            if span.upto is not None and key + "/" > span.upto:
                break
            if batch:
                yield batch
                batch = []
            try:
                children = await _children(root, key + "/", order, report)
            except LocalFileError as error:
                if on_error is None:
                    raise
                on_error(key, f"directory cannot be read: {error.message}", True)
                continue
            stack.append(iter(children))
        elif key in span:
            batch.append(Entry(key, size, mtime, "", ctime))
            if len(batch) >= page:
                yield batch
                batch = []
        elif span.upto is not None and key > span.upto:
            break
    if batch:
        yield batch


async def _children(
    root: Path, prefix: str, order: Order, report: Callable[[str, str, bool], None]
) -> list[Scanned]:
    directory = os.path.join(root, prefix)
    scanned, bad = await run_io(directory, _scan, directory)
    for name, reason, is_dir in bad:
        report(prefix + name, reason, is_dir)
    by_name = {name: rest for name, *rest in scanned}
    ordered = order_children(((n, bool(r[0])) for n, r in by_name.items()), order)
    return [(prefix + name, d, *by_name[name][1:]) for name, d in ordered]  # type: ignore[misc]


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
    after, upto, cut = span.after, span.upto, len(prefix)
    # A file-tree server (SeaweedFS) reads StartAfter "p/a" as "after the entry a",
    # skipping the directory a/ and all of its keys; start just below the range and
    # drop what is not in it here.
    start = prefix + _just_below(after) if after else None
    guard = PageGuard[str](bucket, prefix)
    while True:
        page = await backend.list_page(
            bucket, prefix=prefix, token=token, start_after=start if token is None else None
        )
        entries = [
            Entry(
                o.key[cut:], o.size, o.last_modified.timestamp() if o.last_modified else 0.0, o.etag
            )
            for o in page.objects
        ]
        if after is not None:
            entries = [e for e in entries if e.key > after]
        if upto is not None and entries and entries[-1].key > upto:
            yield [e for e in entries if e.key <= upto]
            return
        if entries:
            yield entries
        token = guard.next(page.next_token, len(page.objects))
        if token is None:
            return


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
