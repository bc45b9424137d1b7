"""``s3flow sync`` and ``cp --recursive`` through the real console script against moto."""

from __future__ import annotations

import json
import os
import re
import uuid
from typing import TYPE_CHECKING

from s3flow.testing.servers import s3_request
from tests.cli.helpers import get, put

if TYPE_CHECKING:
    from pathlib import Path

SUMMARY = re.compile(
    r"^(\(dryrun\) )?copied (\d+) \(.*\), skipped (\d+), deleted (\d+), failed (\d+) in "
)


def counts(text: str) -> tuple[int, int, int, int]:
    """(copied, skipped, deleted, failed) from the last line: the summary."""
    match = SUMMARY.match(text.splitlines()[-1])
    assert match, text
    return tuple(int(n) for n in match.groups()[1:])  # type: ignore[return-value]


def test_sync_up_again_change_dry_run_and_delete(cli, moto_server, bucket, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "a.txt").write_text("a")
    (tree / "sub" / "b.txt").write_text("bb")
    (tree / "c.log").write_text("ccc")
    url = f"s3://{bucket}/p"

    first = cli("sync", "tree", url)
    assert first.code == 0, first
    lines = first.text.splitlines()
    assert sorted(lines[:-1]) == [
        f"upload: tree/a.txt -> {url}/a.txt",
        f"upload: tree/c.log -> {url}/c.log",
        f"upload: tree/sub/b.txt -> {url}/sub/b.txt",
    ]
    assert lines[-1].startswith("copied 3 (6 B), skipped 0, deleted 0, failed 0 in ")
    assert get(moto_server, bucket, "p/sub/b.txt") == b"bb"

    again = cli("sync", "tree", url)
    assert again.code == 0 and counts(again.text) == (0, 3, 0, 0), again
    assert len(again.text.splitlines()) == 1  # skips print no lines

    (tree / "a.txt").write_text("changed")
    (tree / "c.log").unlink()
    changed = cli("sync", "tree", url)
    assert counts(changed.text) == (1, 1, 0, 0), changed  # c.log is only at the destination
    assert get(moto_server, bucket, "p/a.txt") == b"changed"

    dry = cli("sync", "--delete", "--dry-run", "tree", url)
    assert dry.code == 0, dry
    assert dry.text.splitlines() == [
        f"(dryrun) delete: {url}/c.log",
        "(dryrun) " + dry.text.splitlines()[-1].removeprefix("(dryrun) "),
    ]
    assert counts(dry.text) == (0, 2, 1, 0)
    assert get(moto_server, bucket, "p/c.log") == b"ccc"  # nothing changed

    deleted = cli("sync", "--delete", "tree", url)
    assert deleted.text.splitlines()[0] == f"delete: {url}/c.log", deleted
    assert counts(deleted.text) == (0, 2, 1, 0)
    assert get(moto_server, bucket, "p/c.log") is None


def test_sync_down_with_filters_json_and_quiet(cli, moto_server, bucket, tmp_path: Path) -> None:
    for key in ("d/keep.txt", "d/skip.txt", "d/x.log", "d/sub/deep.txt"):
        put(moto_server, bucket, key, key.encode())
    run = cli(
        "--json", "sync", f"s3://{bucket}/d/", "out",
        "--exclude", "*", "--include", "*.txt", "--exclude", "skip*",
    )  # fmt: skip
    assert run.code == 0, run
    *objects, summary = [json.loads(line) for line in run.text.splitlines()]
    assert sorted(o["destination"] for o in objects) == ["out/keep.txt", "out/sub/deep.txt"]
    assert {(o["operation"], o["status"]) for o in objects} == {("download", "ok")}
    assert summary["operation"] == "summary"
    assert summary["copied"] == 2 and summary["failed"] == 0 and summary["failed_keys"] == []
    assert set(summary) >= {"copied_bytes", "skipped", "deleted", "elapsed", "dry_run"}
    found = sorted(str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").rglob("*.*"))
    assert found == ["keep.txt", os.path.join("sub", "deep.txt")]

    quiet = cli("--quiet", "sync", "--size-only", f"s3://{bucket}/d/", "out", "--include", "*")
    assert quiet.code == 0 and quiet.out == b"", quiet
    assert (tmp_path / "out" / "x.log").read_bytes() == b"d/x.log"


def test_failed_objects_exit_1_with_the_failures_file(
    cli, moto_server, bucket, tmp_path: Path
) -> None:
    put(moto_server, bucket, "evil/ok.txt", b"ok")
    put(moto_server, bucket, "evil/../escape.txt", b"x")  # moto keeps such keys as they are
    run = cli("sync", f"s3://{bucket}/evil", "dest", "--failures-file", "failed.txt")
    assert run.code == 1 and "Traceback" not in run.err, run
    # The file has the keys; stderr still says why each one failed (aws s3 and s5cmd do).
    assert run.err.splitlines() == [
        f"failed: s3://{bucket}/evil/../escape.txt: key cannot be a local file name "
        "(empty, '.', '..' or absolute segment, backslash or NUL); it was not downloaded",
        "Error: 1 object failed; their keys are in failed.txt (rerun with --from-list failed.txt)",
    ]
    assert (tmp_path / "failed.txt").read_text().split() == ["../escape.txt"]
    assert (tmp_path / "dest" / "ok.txt").read_bytes() == b"ok"
    assert not (tmp_path / "escape.txt").exists()

    (tmp_path / "afile").write_text("a file where the destination directory should be")
    into_file = cli("sync", f"s3://{bucket}/evil/", "afile/sub")
    assert into_file.code == 1 and "Traceback" not in into_file.err, into_file
    err = into_file.err.splitlines()
    assert [e.split(":")[0] for e in err] == ["failed", "failed", "Error"], err
    assert err[-1] == "Error: 2 objects failed"


def test_cp_recursive_reports_unsafe_keys_as_failed(
    cli, moto_server, bucket, tmp_path: Path
) -> None:
    put(moto_server, bucket, "evil/ok.txt", b"ok")
    put(moto_server, bucket, "evil/../../escape.txt", b"x")
    put(moto_server, bucket, "evil/..\\..\\escape2.txt", b"x")
    run = cli("cp", "-r", f"s3://{bucket}/evil", "dest")
    assert run.code == 1 and "Traceback" not in run.err, run
    lines = run.err.splitlines()
    assert sum(line.startswith(f"failed: s3://{bucket}/evil/..") for line in lines) == 2, lines
    assert lines[-1] == "Error: 2 objects failed"
    assert run.text.splitlines()[0] == f"download: s3://{bucket}/evil/ok.txt -> dest/ok.txt"
    assert (tmp_path / "dest" / "ok.txt").read_bytes() == b"ok"
    assert not (tmp_path / "escape.txt").exists() and not (tmp_path.parent / "escape.txt").exists()


def test_two_endpoints_stream_between_buckets(cli, moto_server, bucket, tmp_path: Path) -> None:
    other = f"cli-{uuid.uuid4().hex[:12]}"
    assert s3_request(moto_server, "PUT", f"/{other}").status == 200
    put(moto_server, bucket, "src/one.bin", b"1" * 1000)
    put(moto_server, bucket, "src/two/two.bin", b"2" * 2000)
    run = cli(
        "sync", f"s3://{bucket}/src/", f"s3://{other}/dst/",
        "--dest-endpoint-url", moto_server.endpoint_url, "--concurrency-objects", "2",
    )  # fmt: skip
    assert run.code == 0, run
    assert f"copy: s3://{bucket}/src/one.bin -> s3://{other}/dst/one.bin" in run.text
    assert counts(run.text) == (2, 0, 0, 0)
    assert get(moto_server, other, "dst/two/two.bin") == b"2" * 2000
    again = cli("sync", f"s3://{bucket}/src/", f"s3://{other}/dst/", "--source-profile", "nope")
    assert again.code == 1 and "nope" in again.err  # the profile really was used


def test_missing_local_source_is_refused_before_deleting(cli, moto_server, bucket) -> None:
    put(moto_server, bucket, "p/keep.txt", b"k")
    run = cli("sync", "--delete", "no-such-dir", f"s3://{bucket}/p/")
    assert "no-such-dir: not a directory" in run.assert_one_line_error()
    assert get(moto_server, bucket, "p/keep.txt") == b"k"
