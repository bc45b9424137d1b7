"""The pure parts of bulk: diff, ordering of local listings, content comparison."""

from __future__ import annotations

import base64
import hashlib
import itertools

import crc32c
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from s3flow.bulk.diff import (
    Check,
    Copy,
    Delete,
    Entry,
    Skip,
    before,
    decide,
    diff,
    digest_matches,
    plan_digest,
)
from s3flow.bulk.sources import KeyRange, order_children, split_keyspace
from s3flow.integrity import composite_checksum, digest, multipart_etag


@pytest.mark.parametrize(
    ("src", "dst", "mode", "expected"),
    [
        (Entry("k", 1, 10.0), Entry("k", 2, 10.0), "size_mtime", Copy(Entry("k", 1, 10.0), "size")),
        (
            Entry("k", 1, 12.0),
            Entry("k", 1, 10.0),
            "size_mtime",
            Copy(Entry("k", 1, 12.0), "newer"),
        ),
        (Entry("k", 1, 10.9), Entry("k", 1, 10.0), "size_mtime", Skip(Entry("k", 1, 10.9))),
        (Entry("k", 1, 9.0), Entry("k", 1, 10.0), "size_mtime", Skip(Entry("k", 1, 9.0))),
        (Entry("k", 1, 99.0), Entry("k", 1, 10.0), "size_only", Skip(Entry("k", 1, 99.0))),
        (Entry("k", 1), Entry("k", 2), "size_only", Copy(Entry("k", 1), "size")),
        (Entry("k", 1), Entry("k", 1), "checksum", Check(Entry("k", 1), Entry("k", 1))),
        (Entry("k", 1), Entry("k", 2), "checksum", Copy(Entry("k", 1), "size")),
        (Entry("k", 1), Entry("k", 1), "always", Copy(Entry("k", 1), "always")),
    ],
)
def test_decide_table(src: Entry, dst: Entry, mode: str, expected: object) -> None:
    assert decide(src, dst, mode) == expected  # type: ignore[arg-type]


keys = st.text(alphabet="ab./-é", min_size=1, max_size=6)
listing = st.dictionaries(keys, st.integers(0, 3), max_size=30)


@given(listing, listing, st.booleans(), st.sampled_from(["size_mtime", "size_only", "always"]))
def test_diff_covers_each_key_once_in_order(
    src: dict[str, int], dst: dict[str, int], delete: bool, mode: str
) -> None:
    sources = [Entry(k, v) for k, v in sorted(src.items())]
    dests = [Entry(k, v) for k, v in sorted(dst.items())]
    actions = list(diff(sources, dests, mode=mode, delete=delete))  # type: ignore[arg-type]
    out_keys = [a.entry.key for a in actions]
    assert out_keys == sorted(out_keys)
    assert len(set(out_keys)) == len(out_keys)
    copied = {a.entry.key for a in actions if isinstance(a, Copy)}
    assert copied >= set(src) - set(dst)
    assert {a.entry.key for a in actions if isinstance(a, Copy | Skip)} == set(src)
    deleted = {a.entry.key for a in actions if isinstance(a, Delete)}
    assert deleted == (set(dst) - set(src) if delete else set())
    for a in actions:
        if isinstance(a, Skip):
            assert src[a.entry.key] == dst[a.entry.key]


def test_diff_is_lazy_and_rejects_bad_order() -> None:
    def endless():
        n = 0
        while True:
            yield Entry(f"{n:012d}", 1)
            n += 1

    stream = diff(endless(), [], mode="size_only")
    assert [next(stream).entry.key for _ in range(3)] == [
        "000000000000",
        "000000000001",
        "000000000002",
    ]
    with pytest.raises(ValueError, match="not in s3 key order"):
        list(diff([Entry("b", 1), Entry("a", 1)], []))
    with pytest.raises(ValueError, match="destination"):
        list(diff([], [Entry("a", 1), Entry("a", 1)]))
    with pytest.raises(ValueError, match="mode"):
        list(diff([], [], mode="fast"))  # type: ignore[arg-type]


# --- the ordering trap: a depth-first walk must produce S3's full-key order ------------

Tree = dict[str, "Tree | None"]  # None: a file


def _walk(tree: Tree, prefix: str = "") -> list[str]:
    out: list[str] = []
    children = order_children((name, sub is not None) for name, sub in tree.items())
    for name, is_dir in children:
        sub = tree[name]
        if is_dir:
            assert sub is not None
            out.extend(_walk(sub, prefix + name + "/"))
        else:
            out.append(prefix + name)
    return out


def _tree(paths: list[str]) -> Tree:
    root: Tree = {}
    for path in paths:
        node = root
        *dirs, leaf = path.split("/")
        for d in dirs:
            nxt = node.setdefault(d, {})
            if nxt is None:  # a file already has this name
                break
            node = nxt
        else:
            if leaf not in node:
                node[leaf] = None
    return root


segment = st.text(alphabet=" !-.0/_aAz\u00e9\U0001f600", min_size=1, max_size=3).filter(
    lambda s: "/" not in s
)
paths = st.lists(st.lists(segment, min_size=1, max_size=4).map("/".join), max_size=40)


@given(paths)
@settings(max_examples=300)
def test_walk_order_is_s3_key_order(raw: list[str]) -> None:
    walked = _walk(_tree(raw))
    assert walked == sorted(walked)
    # ...and sorted by UTF-8 bytes, as S3 compares keys.
    assert walked == sorted(walked, key=lambda k: k.encode())


def test_the_trap_itself() -> None:
    tree: Tree = {"a": {"b": None}, "a.b": None, "a0": None}
    assert _walk(tree) == ["a.b", "a/b", "a0"]
    naive = sorted(tree)  # names sorted within the directory: a, a.b, a0
    assert naive == ["a", "a.b", "a0"]  # would yield a/b before a.b: wrong


@given(st.integers(1, 40), st.lists(st.text(max_size=4), max_size=50))
def test_split_keyspace_partitions(shards: int, probe: list[str]) -> None:
    spans = split_keyspace(shards)
    assert 1 <= len(spans) <= shards
    assert spans[0].after is None and spans[-1].upto is None
    for key in probe:
        assert sum(key in s for s in spans) == 1
    assert KeyRange("a", "c").__contains__("b") and "a" not in KeyRange("a", "c")


# --- content comparison ---------------------------------------------------------------


def _b64(n: int) -> str:
    return base64.b64encode(n.to_bytes(4, "big")).decode()


def test_single_part_md5_and_crc() -> None:
    data = b"hello world"
    md5 = hashlib.md5(data).hexdigest()
    plan = plan_digest(md5, None)
    assert plan is not None and plan.kind == "md5"
    assert digest_matches(plan, [], whole_md5=md5)
    assert not digest_matches(plan, [], whole_md5=hashlib.md5(b"hello worle").hexdigest())
    crc = plan_digest(md5, f"crc32c:{_b64(crc32c.crc32c(data))}")
    assert crc is not None and crc.kind == "crc" and crc.part_size is None
    halves = [digest("crc32c", data[:4]), digest("crc32c", data[4:])]  # any chunking
    assert digest_matches(crc, halves)
    assert not digest_matches(crc, [digest("crc32c", b"hello worle")])


def test_multipart_needs_part_size() -> None:
    parts = [b"a" * 10, b"b" * 10, b"c" * 3]
    etag = multipart_etag([hashlib.md5(p).digest() for p in parts])
    assert plan_digest(etag, None, parts=3) is None
    plan = plan_digest(etag, None, parts=3, part_size=10)
    assert plan is not None and plan.kind == "etag"
    assert digest_matches(plan, [digest("md5", p) for p in parts])
    composite = composite_checksum([digest("crc32c", p) for p in parts])
    crc_plan = plan_digest(etag, str(composite), parts=3, part_size=10)
    assert crc_plan is not None and crc_plan.kind == "crc"
    assert digest_matches(crc_plan, [digest("crc32c", p) for p in parts])
    assert not digest_matches(crc_plan, [digest("crc32c", p) for p in (b"x" * 10, *parts[1:])])


def test_unknown_etag_means_copy() -> None:
    assert plan_digest("not-an-md5", None) is None


def _walk_path_order(tree: Tree, prefix: str = "") -> list[str]:
    out: list[str] = []
    for name, is_dir in order_children(((n, s is not None) for n, s in tree.items()), "path"):
        sub = tree[name]
        if is_dir:
            assert sub is not None
            out.extend(_walk_path_order(sub, prefix + name + "/"))
        else:
            out.append(prefix + name)
    return out


@given(paths)
def test_path_order_walk_matches_segment_order(raw: list[str]) -> None:
    """SeaweedFS lists like a file tree: segment by segment."""
    walked = _walk_path_order(_tree(raw))
    assert walked == sorted(walked, key=lambda k: k.split("/"))
    assert all(before(a, b, "path") for a, b in itertools.pairwise(walked))


def test_diff_in_path_order() -> None:
    src = [Entry("a/b", 1), Entry("a.b", 1)]  # path order: a/b first
    dst = [Entry("a/b", 1), Entry("a0", 1)]
    actions = list(diff(src, dst, mode="size_only", delete=True, order="path"))
    assert [(type(a).__name__, a.entry.key) for a in actions] == [
        ("Skip", "a/b"),
        ("Copy", "a.b"),
        ("Delete", "a0"),
    ]
    with pytest.raises(ValueError, match="order='path'"):
        list(diff(src, [], mode="size_only"))
