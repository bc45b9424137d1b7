"""The bulk output (no server): per-object lines, names of both sides, the summary line."""

from __future__ import annotations

import json

import click
import pytest

from s3flow.bulk.runner import SyncSummary
from s3flow.cli.bulk_view import BulkView, Side, report, summary_line
from s3flow.cli.render import Reporter
from s3flow.progress import ListingDone, ObjectDone, ObjectQueued, PartDone, TransferStarted


@pytest.mark.parametrize(
    ("side", "shown"),
    [
        ("tree", "tree/a/b.txt"),
        ("tree/", "tree/a/b.txt"),
        (".", "a/b.txt"),
        ("s3://bkt", "s3://bkt/a/b.txt"),
        ("s3://bkt/p", "s3://bkt/p/a/b.txt"),
        ("s3://bkt/p/", "s3://bkt/p/a/b.txt"),
    ],
)
def test_sides_name_their_objects(side: str, shown: str) -> None:
    assert Side(side).show("a/b.txt") == shown


def test_one_line_per_copy_and_delete(capsys: pytest.CaptureFixture[str]) -> None:
    view = BulkView(Reporter(), Side("s3://bkt/src"), Side("out"))
    view(TransferStarted("src/a.txt", 3, 1))
    view(PartDone("src/a.txt", 1, 3))
    view(ObjectDone("a.txt", "copy", 3))
    view(ObjectDone("same.txt", "skip", 1))
    view(ObjectDone("old.txt", "delete", 1, "extraneous", dry_run=True))
    view(ObjectDone("../bad", "fail", 1, "key cannot be a local file name"))
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [
        "download: s3://bkt/src/a.txt -> out/a.txt",
        "(dryrun) delete: out/old.txt",
    ]
    # A failure is named, with its reason, when it happens (not only counted at the end).
    assert captured.err == "failed: s3://bkt/src/../bad: key cannot be a local file name\n"
    assert view.counts == {"copy": 1, "skip": 1, "delete": 1, "fail": 1}

    summary = SyncSummary(copied=1, copied_bytes=3, failed=1, elapsed=0.25, failed_keys=("../bad",))
    with pytest.raises(click.ClickException, match=r"^1 object failed$"):
        report(Reporter(), summary, view, None)
    captured = capsys.readouterr()
    assert captured.out == "copied 1 (3 B), skipped 0, deleted 0, failed 1 in 0.2 s\n"
    assert captured.err == ""


def test_json_mode_prints_one_object_per_line(capsys: pytest.CaptureFixture[str]) -> None:
    view = BulkView(Reporter(as_json=True), Side("d"), Side("s3://b/p"))
    view(ObjectDone("a.txt", "copy", 3))
    view(ObjectDone("x/b.txt", "fail", 5, "permission denied"))
    captured = capsys.readouterr()
    assert [json.loads(line) for line in captured.out.splitlines()] == [
        {
            "operation": "upload",
            "source": "d/a.txt",
            "destination": "s3://b/p/a.txt",
            "size": 3,
            "status": "ok",
            "dry_run": False,
        }
    ]
    assert json.loads(captured.err) == {
        "operation": "upload",
        "source": "d/x/b.txt",
        "destination": "s3://b/p/x/b.txt",
        "size": 5,
        "error": "permission denied",
        "status": "failed",
    }


def test_summary_line_units_and_dry_run() -> None:
    summary = SyncSummary(
        copied=12, copied_bytes=int(3.4 * 2**20), skipped=5, deleted=1, elapsed=1.2
    )
    assert summary_line(summary) == "copied 12 (3.4 MiB), skipped 5, deleted 1, failed 0 in 1.2 s"
    dry = SyncSummary(dry_run=True)
    assert summary_line(dry) == "(dryrun) copied 0 (0 B), skipped 0, deleted 0, failed 0 in 0.0 s"


def test_the_live_bar_counts_bytes_and_keeps_lines_above_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """On a terminal the bar (rich, imported only then) follows the engine's events."""
    from s3flow.cli.live import Bar

    out = Reporter()
    out.show_bar = True  # as on a TTY
    with out.progress("big.bin") as sink:
        assert isinstance(sink, Bar)
        sink(TransferStarted("big.bin", 10, 2))
        sink(PartDone("big.bin", 1, 4))
        sink(PartDone("big.bin", 2, 6))
        task = out._live.tasks[0] if out._live is not None else None
        assert task is not None and (task.total, task.completed) == (10, 10)
        out.say("upload: big.bin -> s3://b/big.bin")
    assert out._live is None
    assert "upload: big.bin -> s3://b/big.bin" in capsys.readouterr().out


def test_no_bar_without_a_terminal() -> None:
    out = Reporter(quiet=True)
    with out.progress("x") as sink, out.live() as bar:
        sink(PartDone("x", 1, 1))  # a no-op sink
        assert bar is None


def test_the_bulk_bar_total_follows_the_listing() -> None:
    """Total = bytes queued, "listing" until ListingDone; bytes that will never move (a
    content check that found the same object, a failure) leave the total."""
    out = Reporter()
    out.show_bar = True  # as on a TTY
    view = BulkView(out, Side("tree"), Side("s3://b/p"))
    with view.live():
        assert out._live is not None
        task = out._live.tasks[0]
        assert task.fields["listing"] is True and task.total is None
        view(ObjectQueued("a", "copy", 10))
        view(ObjectQueued("same", "check", 5))
        view(ObjectQueued("bad", "copy", 7))
        view(ObjectQueued("old", "delete", 3))
        assert task.total == 22 and task.description.startswith("0/4+ objects: ")
        view(ListingDone())
        assert task.fields["listing"] is False and "0/4 objects" in task.description
        view(TransferStarted("p/bad", 7, 1))
        view(PartDone("p/bad", 1, 4))  # 4 bytes went before it failed
        view(ObjectDone("bad", "fail", 7, "boom"))
        view(ObjectDone("same", "skip", 5, "same content"))
        view(TransferStarted("p/a", 12, 1))  # the file grew since it was listed
        view(PartDone("p/a", 1, 12))
        view(ObjectDone("a", "copy", 12))
        view(ObjectDone("old", "delete", 3))
        assert (task.total, task.completed) == (16, 16)
        assert task.description.startswith("4/4 objects: 1 copied, 1 skipped, 1 deleted, 1 failed")
