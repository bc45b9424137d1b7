"""PURE: merge two sorted listings into Copy / Skip / Delete / Check actions.

Both inputs must be sorted the way S3 sorts keys (code-point order of the
relative key, which is UTF-8 byte order); :func:`diff` checks this as it
goes and holds one entry of each side at a time, so memory is O(1) whatever
the size of the trees. Content comparison (``--checksum``) needs I/O, so
equal-sized pairs become :class:`Check` actions that the runner resolves
with :func:`plan_digest` and :func:`digest_matches` over digests it computed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, NamedTuple

from s3flow.errors import ConfigError
from s3flow.integrity import composite_checksum, full_checksum, multipart_etag

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence

from s3flow.integrity import PartDigest

__all__ = [
    "Action",
    "Order",
    "before",
    "Check",
    "CompareMode",
    "Copy",
    "Delete",
    "DigestPlan",
    "Entry",
    "Skip",
    "decide",
    "diff",
    "digest_matches",
    "plan_digest",
    "step",
]

CompareMode = Literal["size_mtime", "size_only", "checksum", "always"]
MODES = ("size_mtime", "size_only", "checksum", "always")
Order = Literal["s3", "path"]
"""Key order of listings: ``s3`` compares whole keys (AWS, MinIO, moto); ``path`` compares
``/``-separated segments, as servers backed by a file tree list (SeaweedFS)."""


def before(a: str, b: str, order: Order = "s3") -> bool:
    """True when key ``a`` sorts before key ``b`` in ``order``.

    >>> before("a.b", "a/b"), before("a.b", "a/b", "path")
    (True, False)
    """
    return a < b if order == "s3" else a.split("/") < b.split("/")


class Entry(NamedTuple):
    """One file or object: key relative to the sync root, size, mtime (epoch seconds).

    A named tuple rather than a dataclass: millions are made per job, and
    this is the cheapest immutable record Python has.
    """

    key: str
    size: int
    mtime: float = 0.0
    etag: str = ""
    ctime: float = 0.0  # local files: inode change time (a manifest's change test); 0 for objects


@dataclass(frozen=True, slots=True)
class Copy:
    """Transfer ``entry`` (a source entry). ``reason``: new, size, newer, checksum, always."""

    entry: Entry
    reason: str = "new"


@dataclass(frozen=True, slots=True)
class Skip:
    entry: Entry


@dataclass(frozen=True, slots=True)
class Delete:
    """Remove ``entry`` (a destination entry) that the source no longer has."""

    entry: Entry


@dataclass(frozen=True, slots=True)
class Check:
    """Same size, compare content: resolved by the runner (it needs I/O)."""

    entry: Entry
    dest: Entry


Action = Copy | Skip | Delete | Check


def decide(source: Entry, dest: Entry, mode: CompareMode) -> Action:
    """What to do with a key present on both sides.

    ``size_mtime`` (the default, as ``aws s3 sync``) copies when the sizes
    differ or the source is newer, in whole seconds (S3 listings carry whole
    seconds, so a sub-second local mtime must not look newer).

    >>> decide(Entry("a", 1, 20.5), Entry("a", 1, 20.0), "size_mtime")
    Skip(entry=Entry(key='a', size=1, mtime=20.5, etag='', ctime=0.0))
    """
    if mode == "always":
        return Copy(source, "always")
    if source.size != dest.size:
        return Copy(source, "size")
    if mode == "size_only":
        return Skip(source)
    if mode == "checksum":
        return Check(source, dest)
    if int(source.mtime // 1) > int(dest.mtime // 1):
        return Copy(source, "newer")
    return Skip(source)


def diff(
    sources: Iterable[Entry],
    dests: Iterable[Entry],
    *,
    mode: CompareMode = "size_mtime",
    delete: bool = False,
    order: Order = "s3",
) -> Iterator[Action]:
    """Merge two sorted listings into actions, lazily, in key order.

    Raises ValueError when either input is out of order or repeats a key
    (a wrong merge would silently delete or skip data).

    >>> src = [Entry("a", 1), Entry("b", 2)]
    >>> dst = [Entry("b", 3), Entry("c", 1)]
    >>> [type(a).__name__ for a in diff(src, dst, delete=True)]
    ['Copy', 'Copy', 'Delete']
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    src_it, dst_it = iter(sources), iter(dests)
    src = _next(src_it, None, "source", order)
    dst = _next(dst_it, None, "destination", order)
    while src is not None or dst is not None:
        action, take_src, take_dst = step(src, dst, mode=mode, delete=delete, order=order)
        if action is not None:
            yield action
        if take_src:
            src = _next(src_it, src, "source", order)
        if take_dst:
            dst = _next(dst_it, dst, "destination", order)


def step(
    src: Entry | None,
    dst: Entry | None,
    *,
    mode: CompareMode,
    delete: bool,
    order: Order = "s3",
) -> tuple[Action | None, bool, bool]:
    """One merge step over the heads of both listings (None: that side is exhausted).

    Returns the action (if any) and whether to advance the source and the
    destination. Shared by :func:`diff` and the runner's async merge.
    """
    if src is None or (dst is not None and before(dst.key, src.key, order)):
        assert dst is not None  # the merge stops when both sides are exhausted
        return (Delete(dst) if delete else None), False, True
    if dst is None or before(src.key, dst.key, order):
        return Copy(src, "new"), True, False
    return decide(src, dst, mode), True, True


def _next(it: Iterator[Entry], previous: Entry | None, side: str, order: Order) -> Entry | None:
    entry = next(it, None)
    check_order(previous, entry, side, order)
    return entry


def check_order(
    previous: Entry | None, entry: Entry | None, side: str, order: Order = "s3"
) -> None:
    """Raise ConfigError (a ValueError) unless ``entry`` sorts strictly after ``previous``."""
    if previous is not None and entry is not None and not before(previous.key, entry.key, order):
        hint = " (a server that lists like a file tree needs order='path')" if order == "s3" else ""
        raise ConfigError(
            f"{side} listing is not in {order} key order: {entry.key!r} came after "
            f"{previous.key!r}{hint}"
        )


# --- content comparison (--checksum) -------------------------------------------------

_MD5 = re.compile(r"^[0-9a-f]{32}$")
_MULTI_MD5 = re.compile(r"^[0-9a-f]{32}-(\d+)$")


@dataclass(frozen=True, slots=True)
class DigestPlan:
    """How to hash the local file so it can be compared with an object.

    ``part_size``: hash in parts of exactly this size (the object's upload
    parts); ``None``: any chunking will do. ``kind``: ``crc`` (full-object or,
    with a part size, composite CRC), ``md5`` (whole-file MD5 = single-part
    ETag) or ``etag`` (multipart ETag, MD5 per part).
    """

    algorithm: str
    kind: Literal["crc", "md5", "etag"]
    expected: str
    part_size: int | None = None


def plan_digest(
    etag: str, checksum: str | None, *, parts: int | None = None, part_size: int | None = None
) -> DigestPlan | None:
    """Choose the cheapest local digest that the object's checksum or ETag can confirm.

    ``part_size`` is the size of the object's first part (HeadObject
    ``partNumber=1``), needed for multipart objects. Returns None when
    nothing comparable is known (e.g. SSE-KMS ETags): the caller copies.

    >>> plan_digest("900150983cd24fb0d6963f7d28e17f72", None)
    DigestPlan(algorithm='md5', kind='md5', expected='900150983cd24fb0d6963f7d28e17f72', part_size=None)
    """
    algorithm, _, value = (checksum or "").partition(":")
    multipart = (parts or 0) > 1 or "-" in value or bool(_MULTI_MD5.match(etag))
    # A CRC first: it hashes several times faster than MD5.
    return _crc_plan(algorithm, value, multipart, part_size) or _md5_plan(etag, part_size)


def _crc_plan(
    algorithm: str, value: str, multipart: bool, part_size: int | None
) -> DigestPlan | None:
    if algorithm not in ("crc32c", "crc32") or not value:
        return None
    if not multipart:
        return DigestPlan(algorithm, "crc", value)
    # A composite CRC can only be rebuilt over the very same part boundaries.
    return DigestPlan(algorithm, "crc", value, part_size) if part_size else None


def _md5_plan(etag: str, part_size: int | None) -> DigestPlan | None:
    if _MD5.match(etag):
        return DigestPlan("md5", "md5", etag)
    if _MULTI_MD5.match(etag) and part_size:
        return DigestPlan("md5", "etag", etag, part_size)
    return None  # e.g. an SSE-KMS ETag, which is no MD5 of the content


def digest_matches(
    plan: DigestPlan, digests: Sequence[PartDigest], *, whole_md5: str | None = None
) -> bool:
    """True when the local digests prove the same content as the object.

    ``digests`` are per-chunk digests in file order (per part when
    ``plan.part_size`` is set); ``whole_md5`` is the hex MD5 for ``kind="md5"``.
    """
    if plan.kind == "md5":
        return whole_md5 == plan.expected
    if not digests:
        return False
    if plan.kind == "etag":
        return multipart_etag([d.md5 for d in digests]) == plan.expected
    expected = plan.expected.split("-")[0]  # some servers drop a composite's "-N"
    if full_checksum(digests).value == expected:
        return True
    return plan.part_size is not None and (
        composite_checksum(digests).value.split("-")[0] == expected
    )
