"""What the console script prints: --json per object and for errors, --only-show-errors,
--no-progress, and the bulk progress bar's total (drawn on a real pseudo-terminal)."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import uuid
from typing import TYPE_CHECKING

import pytest

from s3flow.testing.servers import S3Server, s3_request
from tests.cli.helpers import SCRIPT, cli_env, finish, get, put, start

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


def _lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines()]


def _tree(root: Path, files: dict[str, bytes]) -> None:
    for name, body in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)


def test_json_bulk_verbs_print_one_line_per_object_and_a_summary(
    cli, moto_server, bucket, tmp_path: Path
) -> None:
    _tree(tmp_path / "tree", {"a.txt": b"aaa", "d/b.txt": b"bb"})
    up = cli("cp", "-r", "tree", f"s3://{bucket}/p/", "--json")
    assert up.code == 0 and up.err == "", up
    *objects, summary = _lines(up.text)
    assert sorted(objects, key=lambda o: str(o["source"])) == [
        {
            "operation": "upload",
            "source": "tree/a.txt",
            "destination": f"s3://{bucket}/p/a.txt",
            "size": 3,
            "status": "ok",
            "dry_run": False,
        },
        {
            "operation": "upload",
            "source": "tree/d/b.txt",
            "destination": f"s3://{bucket}/p/d/b.txt",
            "size": 2,
            "status": "ok",
            "dry_run": False,
        },
    ]
    assert summary["operation"] == "summary" and summary["copied"] == 2, summary

    moved = cli("--json", "mv", "-r", f"s3://{bucket}/p/", f"s3://{bucket}/q/")
    assert moved.code == 0, moved
    records = _lines(moved.text)
    copies = [r for r in records if r["operation"] == "copy"]
    removed = [r for r in records if r["operation"] == "delete"]
    assert {r["destination"] for r in copies} == {
        f"s3://{bucket}/q/a.txt",
        f"s3://{bucket}/q/d/b.txt",
    }
    assert {r["source"] for r in removed} == {f"s3://{bucket}/p/a.txt", f"s3://{bucket}/p/d/b.txt"}
    assert records[-1]["operation"] == "summary"

    synced = cli("sync", f"s3://{bucket}/q/", "down", "--json")
    assert [r["operation"] for r in _lines(synced.text)] == ["download", "download", "summary"]

    dry = _lines(cli("rm", "-r", f"s3://{bucket}/q", "--json", "--dry-run").text)
    assert {(r["operation"], r["dry_run"]) for r in dry} == {("delete", True)}, dry
    removed_all = cli("rm", "-r", f"s3://{bucket}/q", "--json")
    assert removed_all.code == 0, removed_all
    records = _lines(removed_all.text)
    assert {(r["operation"], r["source"], r["status"]) for r in records[:-1]} == {
        ("delete", f"s3://{bucket}/q/a.txt", "ok"),
        ("delete", f"s3://{bucket}/q/d/b.txt", "ok"),
    }
    assert records[-1] == {"operation": "summary", "deleted": 2, "failed": 0}


def test_json_errors_are_json_objects_on_stderr(cli, moto_server, bucket, tmp_path: Path) -> None:
    """As s5cmd --json: results on stdout, each error one JSON object on stderr."""
    missing = cli("--json", "cp", f"s3://{bucket}/nope.txt", "here.txt")
    assert missing.code == 1 and missing.out == b"", missing
    error = json.loads(missing.err)
    assert error["operation"] == "cp" and error["type"] == "ObjectNotFound", error
    assert error["bucket"] == bucket and error["key"] == "nope.txt", error
    assert error["exit_code"] == 1 and f"s3://{bucket}/nope.txt" in str(error["error"])

    usage = cli("ls", f"s3://{bucket}/", "--json", "--no-such-flag")
    assert usage.code == 2, usage
    assert json.loads(usage.err) | {"error": ""} == {
        "operation": "ls",
        "error": "",
        "type": "NoSuchOption",
        "exit_code": 2,
    }

    # One object failing in a bulk job: its own JSON error line, then the job's.
    put(moto_server, bucket, "evil/ok.txt", b"ok")
    put(moto_server, bucket, "evil/../escape.txt", b"x")  # moto keeps such keys as they are
    bulk = cli("--json", "sync", f"s3://{bucket}/evil", "dest", "--failures-file", "failed.txt")
    assert bulk.code == 1, bulk
    failed, final = _lines(bulk.err)
    assert failed["status"] == "failed" and failed["operation"] == "download", failed
    assert failed["source"] == f"s3://{bucket}/evil/../escape.txt", failed
    assert "cannot be a local file name" in str(failed["error"]), failed
    assert final["exit_code"] == 1 and "1 object failed" in str(final["error"]), final
    assert _lines(bulk.text)[-1]["failed"] == 1

    # Non-bulk verbs: the result on stdout, the error on stderr, both JSON.
    stat = cli("--json", "stat", f"s3://{bucket}/evil/nope")
    assert stat.code == 1 and json.loads(stat.err)["type"] == "ObjectNotFound", stat
    made = cli("--json", "mb", f"s3://{bucket}")
    assert made.code == 1 and json.loads(made.err)["operation"] == "mb", made
    assert "Error:" not in made.err


def test_only_show_errors_before_and_after_the_verb(
    cli, moto_server, bucket, tmp_path: Path
) -> None:
    _tree(tmp_path / "tree", {"a.txt": b"a", "b.txt": b"b"})
    after = cli("cp", "-r", "tree", f"s3://{bucket}/p/", "--only-show-errors")
    assert after.code == 0 and after.out == b"" and after.err == "", after
    assert get(moto_server, bucket, "p/b.txt") == b"b"
    before = cli("--only-show-errors", "--json", "cp", "tree/a.txt", f"s3://{bucket}/one.txt")
    assert before.code == 0 and before.out == b"" and before.err == "", before

    put(moto_server, bucket, "evil/../escape.txt", b"x")
    put(moto_server, bucket, "evil/fine.txt", b"f")
    failing = cli("sync", f"s3://{bucket}/evil/", "dest", "--only-show-errors")
    assert failing.code == 1 and failing.out == b"", failing
    assert failing.err.splitlines()[0].startswith(f"failed: s3://{bucket}/evil/../escape.txt: ")
    assert failing.err.splitlines()[-1] == "Error: 1 object failed"
    assert (tmp_path / "dest" / "fine.txt").read_bytes() == b"f"

    printed = cli("cp", "tree/a.txt", f"s3://{bucket}/two.txt", "--no-progress")
    assert printed.code == 0 and printed.text.startswith("upload: tree/a.txt -> "), printed


def _on_a_terminal(server: S3Server, home: Path, cwd: Path, *args: str) -> tuple[int, str]:
    """Run s3flow with stderr on a pseudo-terminal (so it draws its bar); what it drew."""
    leader, follower = pty.openpty()
    env = cli_env(server, home) | {"TERM": "xterm", "COLUMNS": "200", "LINES": "40"}
    assert SCRIPT is not None
    proc = subprocess.Popen(
        [SCRIPT, "--endpoint-url", server.endpoint_url, *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=follower,
        env=env,
        cwd=cwd,
    )
    os.close(follower)
    drawn = b""
    try:
        for _ in range(6000):  # bounded: ~60 s of 10 ms polls
            ready, _, _ = select.select([leader], [], [], 0.01)
            if ready:
                try:
                    chunk = os.read(leader, 65536)
                except OSError:  # EIO: every writer of the terminal has gone
                    break
                if not chunk:
                    break
                drawn += chunk
            elif proc.poll() is not None:
                break
    finally:
        os.close(leader)
        proc.communicate(timeout=60)
    return proc.returncode, drawn.decode(errors="replace")


def test_bulk_bar_says_listing_then_shows_the_whole_total(
    moto_server, bucket, tmp_path: Path, isolate_aws_env: Path
) -> None:
    """The first frame is drawn before anything is listed: its ETA reads "listing…", not
    "?"; once the listing ended, the total is every object's (no ETA from part of it)."""
    _tree(tmp_path / "tree", {f"f{i:02}.bin": bytes(1024) for i in range(12)})
    code, drawn = _on_a_terminal(
        moto_server, isolate_aws_env, tmp_path, "cp", "-r", "tree", f"s3://{bucket}/t/"
    )
    assert code == 0, drawn
    assert "listing…" in drawn, drawn
    last = drawn[drawn.rindex("\x1b[2K", 0, drawn.rindex("objects:")) :]  # the last frame
    assert "12/12 objects: 12 copied" in last and "listing…" not in last, last
    assert "12.0/12.0 KiB" in last, last

    quiet_code, nothing = _on_a_terminal(
        moto_server,
        isolate_aws_env,
        tmp_path,
        "cp",
        "-r",
        "tree",
        f"s3://{bucket}/u/",
        "--no-progress",
    )
    assert quiet_code == 0 and "objects:" not in nothing and "KiB" not in nothing, nothing


FILE_TREE = {  # SeaweedFS lists logs/1 before logs-old.txt (path order): sync re-lists
    "a.b": b"1",
    "a/x": b"22",
    "a/y/q": b"333",
    "logs-old.txt": b"4444",
    "logs/1": b"55555",
    "logs/2": b"666666",
}


@pytest.fixture
def weed_bucket(seaweed_server: S3Server) -> Iterator[str]:
    name = f"out-{uuid.uuid4().hex[:10]}"
    assert s3_request(seaweed_server, "PUT", f"/{name}").status == 200
    yield name
    s3_request(seaweed_server, "DELETE", f"/{name}")


@pytest.mark.seaweed
def test_path_order_relisting_counts_and_reports_each_object_once(
    seaweed_server: S3Server, weed_bucket: str, tmp_path: Path, isolate_aws_env: Path
) -> None:
    """sync switches to path order mid-listing on SeaweedFS and lists again: the bar's
    total and the JSON lines still have every object exactly once."""
    for key, body in FILE_TREE.items():
        put(seaweed_server, weed_bucket, f"t/{key}", body)
    url = f"s3://{weed_bucket}/t/"
    code, drawn = _on_a_terminal(seaweed_server, isolate_aws_env, tmp_path, "sync", url, "bar")
    assert code == 0, drawn
    last = drawn[drawn.rindex("\x1b[2K", 0, drawn.rindex("objects:")) :]
    assert "6/6 objects: 6 copied" in last and "listing…" not in last, last
    assert "21/21 bytes" in last, last

    run = finish(
        seaweed_server,
        start(seaweed_server, isolate_aws_env, "--json", "sync", url, "j", cwd=tmp_path),
    )
    assert run.code == 0, run
    *objects, summary = _lines(run.text)
    assert sorted(str(o["destination"]) for o in objects) == sorted(f"j/{k}" for k in FILE_TREE)
    assert summary["copied"] == 6
