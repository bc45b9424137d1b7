"""head/stat, du, ls -H --summarize, mv, and filters / dry runs on cp -r, rm -r and mv -r."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from tests.cli.helpers import get, put

if TYPE_CHECKING:
    from pathlib import Path


def test_head_and_stat(cli, moto_server, bucket, tmp_path: Path) -> None:
    (tmp_path / "p.html").write_text("<b>hi</b>")
    up = cli("cp", "p.html", f"s3://{bucket}/p.html", "--metadata", "owner=ada")
    assert up.code == 0, up
    run = cli("head", f"s3://{bucket}/p.html")
    assert run.code == 0, run
    assert "content_type         text/html" in run.text
    assert "metadata.owner       ada" in run.text and "size                 9" in run.text
    data = json.loads(cli("--json", "stat", f"s3://{bucket}/p.html").text)
    assert data["size"] == 9 and data["metadata"] == {"owner": "ada"}
    assert data["content_type"] == "text/html" and data["etag"]
    missing = cli("head", f"s3://{bucket}/nope")
    assert "object not found" in missing.assert_one_line_error()


def test_du_and_ls_summarize(cli, moto_server, bucket) -> None:
    put(moto_server, bucket, "d/a", b"x" * 1536)
    put(moto_server, bucket, "d/sub/b", b"y" * 512)
    put(moto_server, bucket, "other", b"z")
    assert (
        cli("du", f"s3://{bucket}/d/").text.strip() == f"2048 bytes in 2 objects: s3://{bucket}/d/"
    )
    assert (
        cli("du", "-h", f"s3://{bucket}/d/").text.strip()
        == f"2.0 KiB in 2 objects: s3://{bucket}/d/"
    )
    assert json.loads(cli("--json", "du", f"s3://{bucket}").text)["objects"] == 3
    listing = cli("ls", "--recursive", "--human-readable", "--summarize", f"s3://{bucket}/d/")
    lines = listing.text.splitlines()
    assert lines[0].endswith("1.5 KiB d/a") and lines[1].endswith("512 B d/sub/b"), lines
    assert lines[-2:] == ["Total Objects: 2", "   Total Size: 2.0 KiB"]
    plain = cli("ls", "--summarize", f"s3://{bucket}/d/")
    assert plain.text.splitlines()[-1] == "   Total Size: 1536 Bytes"  # one level: d/a only


def test_mv_single_each_direction(cli, moto_server, bucket, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("A")
    up = cli("mv", "a.txt", f"s3://{bucket}/m/")
    assert up.code == 0, up
    assert not (tmp_path / "a.txt").exists() and get(moto_server, bucket, "m/a.txt") == b"A"
    across = cli("mv", f"s3://{bucket}/m/a.txt", f"s3://{bucket}/n/b.txt")
    assert across.code == 0, across
    assert get(moto_server, bucket, "m/a.txt") is None
    assert get(moto_server, bucket, "n/b.txt") == b"A"
    down = cli("mv", f"s3://{bucket}/n/b.txt", "out/")
    assert down.code == 0, down
    assert (tmp_path / "out" / "b.txt").read_text() == "A"
    assert get(moto_server, bucket, "n/b.txt") is None
    put(moto_server, bucket, "same", b"S")
    assert cli("mv", f"s3://{bucket}/same", f"s3://{bucket}/same").code == 2
    assert get(moto_server, bucket, "same") == b"S"


def test_mv_no_clobber_keeps_the_source(cli, moto_server, bucket, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("new")
    put(moto_server, bucket, "a.txt", b"old")
    run = cli("mv", "-n", "a.txt", f"s3://{bucket}/a.txt")
    assert run.code == 0, run
    assert (tmp_path / "a.txt").read_text() == "new" and get(moto_server, bucket, "a.txt") == b"old"


def test_mv_recursive_with_filters_and_dry_run(cli, moto_server, bucket, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    for name in ("a.txt", "sub/b.txt", "sub/c.log"):
        (tree / name).write_text(name)
    dry = cli("mv", "-r", "tree", f"s3://{bucket}/t/", "--exclude", "*.log", "--dryrun")
    assert dry.code == 0 and "(dryrun)" in dry.text, dry
    assert (tree / "a.txt").exists() and get(moto_server, bucket, "t/a.txt") is None
    run = cli("mv", "-r", "tree", f"s3://{bucket}/t/", "--exclude", "*.log")
    assert run.code == 0, run
    assert sorted(p.relative_to(tree).as_posix() for p in tree.rglob("*") if p.is_file()) == [
        "sub/c.log"
    ]
    assert get(moto_server, bucket, "t/sub/b.txt") == b"sub/b.txt"
    assert get(moto_server, bucket, "t/sub/c.log") is None
    s3 = cli("mv", "-r", f"s3://{bucket}/t", f"s3://{bucket}/u/")
    assert s3.code == 0, s3
    assert (
        get(moto_server, bucket, "t/a.txt") is None
        and get(moto_server, bucket, "u/a.txt") == b"a.txt"
    )
    inside = cli("mv", "-r", f"s3://{bucket}/u/", f"s3://{bucket}/u/deeper/")
    assert inside.code == 2 and "inside" in inside.err
    assert get(moto_server, bucket, "u/a.txt") == b"a.txt"


def test_cp_and_rm_recursive_filters_and_dry_run(cli, moto_server, bucket, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    for name in ("a.jpg", "b.jpg", "c.txt"):
        (tree / name).write_text(name)
    run = cli("cp", "-r", "tree", f"s3://{bucket}/p/", "--exclude", "*", "--include", "*.jpg")
    assert run.code == 0, run
    assert get(moto_server, bucket, "p/a.jpg") and get(moto_server, bucket, "p/c.txt") is None
    dry = cli("cp", "-r", "tree", f"s3://{bucket}/q/", "--dry-run")
    assert dry.code == 0 and dry.text.count("(dryrun)") >= 3, dry
    assert get(moto_server, bucket, "q/a.jpg") is None
    one = cli("cp", "tree/c.txt", f"s3://{bucket}/one.txt", "--dryrun")
    assert one.code == 0 and "(dryrun)" in one.text and get(moto_server, bucket, "one.txt") is None
    dry_rm = cli("rm", "-r", f"s3://{bucket}/p", "--dryrun")
    assert dry_rm.text.count("(dryrun) delete:") == 2 and get(moto_server, bucket, "p/a.jpg")
    rm = cli("rm", "-r", f"s3://{bucket}/p/", "--exclude", "b.jpg")
    assert rm.code == 0, rm
    assert get(moto_server, bucket, "p/a.jpg") is None and get(moto_server, bucket, "p/b.jpg")
    assert cli("rm", f"s3://{bucket}/p/b.jpg", "--exclude", "x").code == 2


def test_global_options_after_the_verb(cli, moto_server, bucket, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("A")
    run = cli("cp", "a.txt", f"s3://{bucket}/a.txt", "--json")
    assert run.code == 0, run
    assert json.loads(run.text)["destination"] == f"s3://{bucket}/a.txt"
    listing = cli("ls", f"s3://{bucket}/", "--json", "--region", "us-east-1")
    assert json.loads(listing.text)["key"] == "a.txt"
    literal = cli("cp", "a.txt", f"s3://{bucket}/b.txt", "--", "--json")
    assert literal.code == 2  # after --, it is an argument (a third one here), not the option
