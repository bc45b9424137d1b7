"""Bulk sync against MemoryBackend with real temp directories."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import anyio
import pytest

from s3flow.bulk.filters import Filters
from s3flow.bulk.runner import SyncOptions, copy_tree, sync
from s3flow.bulk.sources import KeyRange
from s3flow.config import MiB, TransferConfig
from s3flow.errors import AccessDenied, BucketNotFound, ConfigError, SlowDown
from s3flow.models import ObjectInfo, S3Location
from s3flow.progress import ObjectDone, ProgressEvent
from s3flow.scheduler import AdaptiveLimit
from s3flow.testing.faults import FaultRule, FaultyBackend
from s3flow.testing.memory import MemoryBackend

CONFIG = TransferConfig(part_size=5 * MiB, multipart_threshold=5 * MiB, max_concurrency=4)

TREE = {
    "a.txt": b"alpha",
    "a/b.txt": b"nested",
    "a.b": b"dot sorts before slash",
    "dir/sub/deep.bin": b"x" * 1000,
    "empty": b"",
    "ünïcode/ключ.txt": b"unicode",
}


def make_tree(root: Path, files: dict[str, bytes]) -> None:
    for key, data in files.items():
        path = root.joinpath(*key.split("/"))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def read_tree(root: Path) -> dict[str, bytes]:
    out = {}
    for dirpath, _, names in os.walk(root):
        for name in names:
            path = Path(dirpath, name)
            out[path.relative_to(root).as_posix()] = path.read_bytes()
    return out


def stored(backend: MemoryBackend, bucket: str, prefix: str = "") -> dict[str, bytes]:
    return {
        k[len(prefix) :]: o.data for k, o in backend.buckets[bucket].items() if k.startswith(prefix)
    }


@pytest.fixture
def backend() -> MemoryBackend:
    backend = MemoryBackend()
    backend.buckets["b"] = {}
    backend.buckets["c"] = {}
    return backend


async def test_local_to_s3_then_rerun_skips(tmp_path: Path, backend: MemoryBackend) -> None:
    make_tree(tmp_path / "src", TREE)
    dst = S3Location("b", "backup")  # a prefix without its slash still means backup/
    first = await sync(tmp_path / "src", dst, dest_backend=backend, config=CONFIG)
    assert stored(backend, "b", "backup/") == TREE
    assert (first.copied, first.copied_bytes, first.failed) == (
        len(TREE),
        sum(map(len, TREE.values())),
        0,
    )
    second = await sync(tmp_path / "src", dst, dest_backend=backend, config=CONFIG)
    assert (second.copied, second.skipped) == (0, len(TREE))


async def test_size_change_and_newer_source_are_copied(
    tmp_path: Path, backend: MemoryBackend
) -> None:
    make_tree(tmp_path, TREE)
    dst = S3Location("b", "p/")
    await sync(tmp_path, dst, dest_backend=backend, config=CONFIG)
    (tmp_path / "a.txt").write_bytes(b"alpha, longer")
    future = backend.buckets["b"]["p/a.b"].modified.timestamp() + 10
    os.utime(tmp_path / "a.b", (future, future))
    summary = await sync(tmp_path, dst, dest_backend=backend, config=CONFIG)
    assert summary.copied == 2
    assert stored(backend, "b", "p/")["a.txt"] == b"alpha, longer"


async def test_s3_to_local_round_trip_sets_mtime(tmp_path: Path, backend: MemoryBackend) -> None:
    for key, data in TREE.items():
        await backend.put_object("b", "src/" + key, data)
    await backend.put_object("b", "src/folder/", b"")  # a console "folder" marker
    summary = await sync(S3Location("b", "src/"), tmp_path / "out", source_backend=backend)
    assert read_tree(tmp_path / "out") == TREE
    assert summary.failed == 0
    again = await sync(S3Location("b", "src/"), tmp_path / "out", source_backend=backend)
    assert (again.copied, again.skipped) == (0, len(TREE))


async def test_s3_to_local_creates_directories_for_ranged_downloads(
    tmp_path: Path, backend: MemoryBackend
) -> None:
    big = os.urandom(12 * MiB)  # three 5 MiB ranges: the temp-file path, not the one-GET one
    await backend.put_object("b", "src/x/y/big.bin", big)
    summary = await sync(
        S3Location("b", "src/"), tmp_path / "out", source_backend=backend, config=CONFIG
    )
    assert summary.failed == 0
    assert read_tree(tmp_path / "out") == {"x/y/big.bin": big}


async def test_s3_to_s3_same_endpoint_uses_server_side_copy(backend: MemoryBackend) -> None:
    for key, data in TREE.items():
        await backend.put_object("b", key, data)
    summary = await sync(
        S3Location("b"), S3Location("c", "x/"), source_backend=backend, dest_backend=backend
    )
    assert stored(backend, "c", "x/") == TREE
    assert summary.copied == len(TREE)
    assert backend.calls["copy_object"] == len(TREE)
    assert "get_object" not in backend.calls


async def test_s3_to_s3_across_endpoints_streams(backend: MemoryBackend, payload) -> None:
    other = MemoryBackend()
    other.buckets["dst"] = {}
    files = {**TREE, "big.bin": payload(12 * MiB + 3)}
    for key, data in files.items():
        await backend.put_object("b", key, data)
    summary = await sync(
        S3Location("b"),
        S3Location("dst"),
        source_backend=backend,
        dest_backend=other,
        config=CONFIG,
    )
    assert stored(other, "dst") == files
    assert summary.copied == len(files)
    assert "copy_object" not in other.calls


async def test_delete_and_dry_run(tmp_path: Path, backend: MemoryBackend) -> None:
    make_tree(tmp_path, {"keep": b"1", "new": b"22"})
    for key in ("keep", "gone1", "gone2", "zzz/old"):
        await backend.put_object("b", "p/" + key, b"1")
    events: list[ProgressEvent] = []
    dry = await sync(
        tmp_path,
        S3Location("b", "p/"),
        dest_backend=backend,
        options=SyncOptions(delete=True, dry_run=True, progress=events.append),
    )
    assert (dry.copied, dry.deleted, dry.skipped, dry.dry_run) == (1, 3, 1, True)
    assert sorted(stored(backend, "b", "p/")) == ["gone1", "gone2", "keep", "zzz/old"]
    done = {(e.key, e.action) for e in events if isinstance(e, ObjectDone)}
    assert ("new", "copy") in done and ("gone1", "delete") in done
    real = await sync(
        tmp_path,
        S3Location("b", "p/"),
        dest_backend=backend,
        options=SyncOptions(delete=True, delete_batch=2),
    )
    assert (real.copied, real.deleted) == (1, 3)
    assert sorted(stored(backend, "b", "p/")) == ["keep", "new"]
    assert backend.calls["delete_objects"] == 2  # batched, 2 keys per request here


async def test_delete_local_files(tmp_path: Path, backend: MemoryBackend) -> None:
    await backend.put_object("b", "keep", b"k")
    make_tree(tmp_path, {"keep": b"k", "extra/file": b"e"})
    summary = await sync(
        S3Location("b"), tmp_path, source_backend=backend, options=SyncOptions(delete=True)
    )
    assert summary.deleted == 1
    assert read_tree(tmp_path) == {"keep": b"k"}


async def test_filters_last_rule_wins_and_protect_dest(
    tmp_path: Path, backend: MemoryBackend
) -> None:
    make_tree(tmp_path, {"a.jpg": b"1", "b.txt": b"2", "c/d.jpg": b"3"})
    await backend.put_object("b", "old.txt", b"x")
    filters = Filters.of(("exclude", "*"), ("include", "*.jpg"))
    summary = await sync(
        tmp_path,
        S3Location("b"),
        dest_backend=backend,
        options=SyncOptions(filters=filters, delete=True),
    )
    assert sorted(stored(backend, "b")) == ["a.jpg", "c/d.jpg", "old.txt"]  # excluded: kept
    assert summary.deleted == 0


async def test_checksum_mode_catches_same_size_edit(
    tmp_path: Path, backend: MemoryBackend, payload
) -> None:
    files = {"small": b"abcdef", "multi": payload(11 * MiB)}
    make_tree(tmp_path, files)
    await sync(tmp_path, S3Location("b"), dest_backend=backend, config=CONFIG)
    # Same size, same (older) mtime: size_mtime cannot see the edit.
    for name, data in (("small", b"abcdeX"), ("multi", files["multi"][:-1] + b"\0")):
        stat = (tmp_path / name).stat()
        (tmp_path / name).write_bytes(data)
        os.utime(tmp_path / name, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    plain = await sync(tmp_path, S3Location("b"), dest_backend=backend, config=CONFIG)
    assert plain.copied == 0
    check = await sync(
        tmp_path,
        S3Location("b"),
        dest_backend=backend,
        config=CONFIG,
        options=SyncOptions(compare="checksum"),
    )
    assert check.copied == 2
    assert stored(backend, "b")["small"] == b"abcdeX"
    again = await sync(
        tmp_path,
        S3Location("b"),
        dest_backend=backend,
        config=CONFIG,
        options=SyncOptions(compare="checksum"),
    )
    assert (again.copied, again.skipped) == (0, 2)


async def test_checksum_mode_download_side(tmp_path: Path, backend: MemoryBackend) -> None:
    await backend.put_object("b", "k", b"remote")
    make_tree(tmp_path, {"k": b"local!"})
    summary = await sync(
        S3Location("b"), tmp_path, source_backend=backend, options=SyncOptions(compare="checksum")
    )
    assert summary.copied == 1
    assert (tmp_path / "k").read_bytes() == b"remote"


async def test_escaping_keys_are_refused(tmp_path: Path, backend: MemoryBackend) -> None:
    bad = ["../escape", "a/../../etc", "/abs", "back\\slash", "nul\0byte", "a//b", "./dot"]
    for key in [*bad, "fine"]:
        backend.buckets["b"][key] = await _stored(key)
    out = tmp_path / "out"
    summary = await sync(
        S3Location("b"),
        out,
        source_backend=backend,
        options=SyncOptions(failures_file=tmp_path / "failed.txt"),
    )
    assert summary.failed == len(bad)
    assert sorted(summary.failed_keys) == sorted(bad)
    assert read_tree(out) == {"fine": b"data"}
    assert not (tmp_path / "escape").exists()
    assert {p.name for p in tmp_path.iterdir()} - {"state"} == {"out", "failed.txt"}


async def _stored(key: str):
    scratch = MemoryBackend()
    scratch.buckets["s"] = {}
    await scratch.put_object("s", "k", b"data")
    return scratch.buckets["s"]["k"]


class Refusing(MemoryBackend):
    """Refuses writes to the keys in ``refused`` until they are cleared."""

    def __init__(self) -> None:
        super().__init__()
        self.refused: set[str] = set()

    async def put_object(self, bucket: str, key: str, body: bytes, **kwargs: object):
        if key in self.refused:
            raise AccessDenied("refused by test", bucket=bucket, key=key)
        return await super().put_object(bucket, key, body, **kwargs)  # type: ignore[arg-type]


async def test_failures_file_feeds_from_list(tmp_path: Path) -> None:
    backend = Refusing()
    backend.buckets["b"] = {}
    backend.refused = {"bad", "bad\nline"}
    make_tree(tmp_path / "src", {"ok1": b"1", "bad": b"2", "ok2": b"3", "bad\nline": b"4"})
    failures = tmp_path / "failed.txt"
    first = await sync(
        tmp_path / "src",
        S3Location("b"),
        dest_backend=backend,
        options=SyncOptions(failures_file=failures),
    )
    assert (first.copied, first.failed) == (2, 2)
    assert sorted(first.failed_keys) == ["bad", "bad\nline"]
    assert sorted(failures.read_text().splitlines()) == ['"bad\\nline"', "bad"]
    backend.refused.clear()
    backend.calls.clear()
    retry = await sync(
        tmp_path / "src",
        S3Location("b"),
        dest_backend=backend,
        options=SyncOptions(from_list=failures),
    )
    assert (retry.copied, retry.skipped, retry.failed) == (2, 0, 0)
    assert "list_page" not in backend.calls
    assert stored(backend, "b") == {"ok1": b"1", "bad": b"2", "ok2": b"3", "bad\nline": b"4"}


async def test_manifest_resume_skips_finished(tmp_path: Path, backend: MemoryBackend) -> None:
    files = {f"k{i:04d}": b"x" for i in range(600)}
    for key, data in files.items():
        await backend.put_object("b", key, data)
    manifest = tmp_path / "job.jsonl"
    opts = SyncOptions(compare="always", manifest=manifest, concurrency=8)
    first = await copy_tree(
        S3Location("b"), S3Location("c"), source_backend=backend, dest_backend=backend, options=opts
    )
    assert first.copied == 600
    backend.calls.clear()
    again = await copy_tree(
        S3Location("b"), S3Location("c"), source_backend=backend, dest_backend=backend, options=opts
    )
    assert (again.copied, again.skipped) == (0, 600)
    assert "copy_object" not in backend.calls
    with pytest.raises(ConfigError, match="another job"):
        await copy_tree(
            S3Location("b"),
            S3Location("other"),
            source_backend=backend,
            dest_backend=backend,
            options=opts,
        )


async def test_manifest_of_a_killed_job(tmp_path: Path, backend: MemoryBackend) -> None:
    """A manifest cut short (torn last line) still skips exactly what it records."""
    files = {f"k{i:04d}": b"x" for i in range(600)}
    for key, data in files.items():
        await backend.put_object("b", key, data)
    manifest = tmp_path / "job.jsonl"
    opts = SyncOptions(compare="always", manifest=manifest)
    await copy_tree(
        S3Location("b"), S3Location("c"), source_backend=backend, dest_backend=backend, options=opts
    )
    lines = manifest.read_text().splitlines()
    kept = [ln for ln in lines if '"w"' not in ln][:101]  # header + first 100 keys
    manifest.write_text("\n".join(kept) + '\n{"k": "torn')
    backend.calls.clear()
    again = await copy_tree(
        S3Location("b"), S3Location("c"), source_backend=backend, dest_backend=backend, options=opts
    )
    assert (again.copied, again.skipped) == (500, 100)


@pytest.mark.parametrize("shards", [1, 3, 16])
async def test_sharded_listing_matches(tmp_path: Path, backend: MemoryBackend, shards: int) -> None:
    keys = [f"{c}{i}" for c in "0aAz_-~" for i in range(30)] + ["", "a/b", "a.b"][1:]
    for key in keys:
        await backend.put_object("b", "src/" + key, key.encode())
    summary = await sync(
        S3Location("b", "src/"),
        S3Location("c"),
        source_backend=backend,
        dest_backend=backend,
        options=SyncOptions(shards=shards),
    )
    assert summary.copied == len(keys)
    assert stored(backend, "c") == {k: k.encode() for k in keys}
    make_tree(tmp_path, {k: k.encode() for k in keys})
    local = await sync(
        tmp_path,
        S3Location("c"),
        dest_backend=backend,
        options=SyncOptions(shards=shards, compare="size_only"),
    )
    assert (local.copied, local.skipped) == (0, len(keys))


async def test_explicit_spans(backend: MemoryBackend) -> None:
    for key in ("a", "b", "c", "d"):
        await backend.put_object("b", key, b"1")
    summary = await sync(
        S3Location("b"),
        S3Location("c"),
        source_backend=backend,
        dest_backend=backend,
        options=SyncOptions(spans=(KeyRange("a", "c"),)),
    )
    assert sorted(stored(backend, "c")) == ["b", "c"]
    assert summary.copied == 2


async def test_bad_jobs(tmp_path: Path, backend: MemoryBackend) -> None:
    with pytest.raises(ConfigError):
        await sync(tmp_path, tmp_path)
    with pytest.raises(ConfigError):
        await sync(tmp_path, S3Location("b"))
    with pytest.raises(ConfigError):
        SyncOptions(delete=True, compare="always")
    with pytest.raises(BucketNotFound):
        await sync(S3Location("nope"), tmp_path, source_backend=backend)


class PathOrdered(MemoryBackend):
    """Lists like a file tree (SeaweedFS): by '/'-separated segments, not whole keys."""

    async def list_page(
        self, bucket, *, prefix="", delimiter=None, token=None, start_after=None, max_keys=1000
    ):
        from s3flow.backend.protocol import ListPage
        from s3flow.models import ObjectInfo

        store = self.buckets[bucket]
        keys = sorted((k for k in store if k.startswith(prefix)), key=lambda k: k.split("/"))
        start = int(token or 0)
        objects = tuple(
            ObjectInfo(
                key=k, size=len(store[k].data), etag=store[k].etag, last_modified=store[k].modified
            )
            for k in keys[start : start + max_keys]
        )
        more = start + max_keys < len(keys)
        return ListPage(objects=objects, next_token=str(start + max_keys) if more else None)


async def test_wrong_listing_order_stops_before_any_delete(tmp_path: Path) -> None:
    backend = PathOrdered()
    backend.buckets["b"] = {}
    for key in ("a/b", "a.b"):
        await backend.put_object("b", key, b"x")
    make_tree(tmp_path, {"a.b": b"x", "a0": b"extra"})
    with pytest.raises(ConfigError, match="order='path'"):
        await sync(
            S3Location("b"),
            tmp_path,
            source_backend=backend,
            options=SyncOptions(delete=True, order="s3"),
        )
    assert sorted(read_tree(tmp_path)) == ["a.b", "a0"]  # nothing deleted
    summary = await sync(
        S3Location("b"),
        tmp_path,
        source_backend=backend,
        options=SyncOptions(delete=True, order="path", compare="size_only"),
    )
    assert (summary.copied, summary.skipped, summary.deleted) == (1, 1, 1)
    assert read_tree(tmp_path) == {"a.b": b"x", "a/b": b"x"}


@pytest.mark.parametrize("direction", ["download", "upload", "s3-to-s3"])
@pytest.mark.parametrize("delete", [False, True])
async def test_path_order_is_detected_and_each_key_acted_on_once(
    tmp_path: Path, direction: str, delete: bool
) -> None:
    """order="auto" (the default) switches to path order at the first inversion a
    file-tree listing explains; every source key is then handled exactly once, the
    right extras are deleted, and a repeat run finds nothing to do."""
    backend = PathOrdered()
    backend.buckets["b"] = {}
    backend.buckets["c"] = {}
    tree = {
        k: k.encode()
        for k in ("a.b", "a/x", "a/y.z", "a/y/q", "logs-old.txt", "logs/1", "logs/2", "z")
    }
    local = tmp_path / "local"
    local.mkdir()
    if direction == "upload":
        make_tree(local, tree)
        make_tree(tmp_path / "seed", {})
        await backend.put_object("b", "p/a/x", b"a/x")  # unchanged, must be skipped
        await backend.put_object("b", "p/extra-0", b"old")
        await backend.put_object("b", "p/extra/1", b"old")
        src, dst = local, S3Location("b", "p/")
    else:
        for key, data in tree.items():
            await backend.put_object("b", "p/" + key, data)
        if direction == "download":
            make_tree(local, {"extra-0": b"old", "extra/1": b"old"})
            src, dst = S3Location("b", "p/"), local
        else:
            for key in ("extra-0", "extra/1"):
                await backend.put_object("c", "q/" + key, b"old")
            src, dst = S3Location("b", "p/"), S3Location("c", "q/")
    options = SyncOptions(delete=delete, compare="size_only")
    summary = await sync(src, dst, source_backend=backend, dest_backend=backend, options=options)
    expected_copies = len(tree) - (direction == "upload")
    assert (summary.copied + summary.skipped, summary.failed) == (len(tree), 0)
    assert summary.copied == expected_copies  # nothing copied twice, nothing missed
    assert summary.deleted == (2 if delete else 0)
    if isinstance(dst, Path):
        assert read_tree(dst) == tree | ({} if delete else {"extra-0": b"old", "extra/1": b"old"})
    else:
        store = backend.buckets[dst.bucket]
        got = {k[len(dst.key) :] for k in store if k.startswith(dst.key)}
        extras = set() if delete else {"extra-0", "extra/1"}
        assert got == set(tree) | extras
    again = await sync(src, dst, source_backend=backend, dest_backend=backend, options=options)
    assert (again.copied, again.deleted, again.skipped) == (0, 0, len(tree))


class SlowPuts(FaultyBackend):
    """Puts that take a while, so objects overlap. Records, as each put starts, how many
    objects are in flight: started and not yet stored, counting those backing off to retry."""

    def __init__(self) -> None:
        super().__init__()
        self.buckets["b"] = {}
        self.active: set[str] = set()
        self.seen: list[int] = []

    async def put_object(self, bucket: str, key: str, *args: Any, **kwargs: Any) -> ObjectInfo:
        self.active.add(key)
        self.seen.append(len(self.active))
        await anyio.sleep(0.01)
        info = await super().put_object(bucket, key, *args, **kwargs)
        self.active.discard(key)
        return info


async def test_slowdown_lowers_objects_in_flight(tmp_path: Path) -> None:
    """A SlowDown burst halves the job's objects in flight; every object still lands."""
    backend = SlowPuts()
    backend.rules = [FaultRule(operation="put_object", times=4, error=lambda: SlowDown("503"))]
    files = {f"f{i:02d}": bytes([i]) * 100 for i in range(24)}
    make_tree(tmp_path / "src", files)
    limit = AdaptiveLimit(8)
    summary = await sync(
        tmp_path / "src",
        S3Location("b", "p/"),
        dest_backend=backend,
        config=CONFIG,
        options=SyncOptions(concurrency=8),
        limit=limit,
    )
    assert (summary.copied, summary.failed) == (24, 0)
    assert stored(backend, "b", "p/") == files
    assert backend.seen[:8] == list(range(1, 9))  # before the burst every slot was busy
    # After it the limit is 4, the four objects backing off keep their slots, and
    # it grows by one per window of successes: never all 8 again in this job.
    assert max(backend.seen[8:]) < 8


async def test_auto_order_watermarks_never_pass_a_held_key(tmp_path: Path) -> None:
    """Uploading to a file-tree server with a manifest: every watermark covers only keys
    recorded before it, including the keys held back until the order was known."""
    import json

    from s3flow.bulk import jobs

    backend = PathOrdered()
    backend.buckets["b"] = {}
    tree = {f"d{i:03d}{sep}x": b"x" for i in range(300) for sep in ("-", "/")}
    make_tree(tmp_path / "src", tree)
    for key in tree:
        if "/" in key:  # already there: the new "dNNN-x" keys are held behind them
            await backend.put_object("b", key, b"x")
    manifest = tmp_path / "job.jsonl"
    old = jobs.WATERMARK_EVERY
    jobs.WATERMARK_EVERY = 8
    try:
        options = SyncOptions(manifest=manifest, concurrency=4)
        summary = await sync(
            tmp_path / "src", S3Location("b"), dest_backend=backend, options=options
        )
    finally:
        jobs.WATERMARK_EVERY = old
    assert (summary.copied, summary.skipped, summary.failed) == (300, 300, 0)
    recorded: set[str] = set()
    marks = 0
    for line in manifest.read_text().splitlines()[1:]:
        record = json.loads(line)
        if "k" in record:
            recorded.add(record["k"])
        elif "w" in record:
            marks += 1
            assert all(k in recorded for k in tree if "-" in k and k <= record["w"]), record
    assert marks > 0 and recorded == {k for k in tree if "-" in k}


async def test_summary_counts_every_outcome_and_its_bytes(tmp_path: Path) -> None:
    from s3flow.bulk.options import SyncSummary

    backend = Refusing()
    backend.buckets["b"] = {}
    make_tree(tmp_path, {"same": b"12", "new": b"345", "bad": b"6789"})
    await backend.put_object("b", "same", b"12")
    await backend.put_object("b", "extra", b"abcde")
    later = backend.buckets["b"]["same"].modified.timestamp() - 10
    os.utime(tmp_path / "same", (later, later))  # older than the stored copy: skipped
    backend.refused = {"bad"}
    summary = await sync(
        tmp_path,
        S3Location("b"),
        dest_backend=backend,
        options=SyncOptions(delete=True, max_failed_keys=1),
    )
    expected = SyncSummary(
        copied=1,
        copied_bytes=3,
        skipped=1,
        skipped_bytes=2,
        deleted=1,
        deleted_bytes=5,
        failed=1,
        failed_bytes=4,
        elapsed=summary.elapsed,
        failed_keys=("bad",),
    )
    assert summary == expected and not summary.ok
