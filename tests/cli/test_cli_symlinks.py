"""Symbolic links and special files in a local source tree, through the real console
script against moto, as aws s3 treats them: links are followed (``--no-follow-symlinks``
skips them), a link back to a directory on the walk's own path is a loop that is named and
not followed, and what cannot be read as a file (a dangling link, a FIFO, a socket) is
named in a ``warning:`` line, counted as skipped, and makes the exit code 2; a failure
still wins (exit 1). What was skipped is never deleted at the destination by --delete."""

from __future__ import annotations

import os
import re
import socket
from typing import TYPE_CHECKING

import pytest

from s3flow.testing.servers import s3_request
from tests.cli.helpers import get, put

if TYPE_CHECKING:
    from pathlib import Path

    from s3flow.testing.servers import S3Server

needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs mkfifo")


def keys(server: S3Server, bucket: str, prefix: str) -> list[str]:
    response = s3_request(server, "GET", f"/{bucket}", query={"list-type": "2", "prefix": prefix})
    assert response.status == 200, response
    return sorted(re.findall(r"<Key>([^<]*)</Key>", response.body.decode()))


def warnings(err: str) -> list[str]:
    return sorted(line for line in err.splitlines() if line.startswith("warning: skipped "))


def test_symlinked_directories_are_followed_and_a_loop_is_named_not_walked(
    cli, moto_server, bucket, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "o.txt").write_bytes(b"outside")
    tree = tmp_path / "tree"
    (tree / "d").mkdir(parents=True)
    (tree / "a.txt").write_bytes(b"a")
    (tree / "d" / "b.txt").write_bytes(b"b")
    os.symlink(outside, tree / "linked")  # a directory elsewhere: followed
    os.symlink("../a.txt", tree / "d" / "alias.txt")  # a file: followed
    os.symlink("..", tree / "d" / "up")  # back to the root: a loop

    run = cli("sync", "tree", f"s3://{bucket}/p/")

    assert run.code == 2 and "Traceback" not in run.err, run
    (warning,) = warnings(run.err)
    assert "tree/d/up" in warning and "symbolic link loop" in warning, run.err
    assert "leads back to tree;" in warning, warning  # names where it leads back to
    assert keys(moto_server, bucket, "p/") == [
        "p/a.txt",
        "p/d/alias.txt",
        "p/d/b.txt",
        "p/linked/o.txt",
    ]
    assert get(moto_server, bucket, "p/linked/o.txt") == b"outside"
    assert get(moto_server, bucket, "p/d/alias.txt") == b"a"
    assert "copied 4" in run.text and "skipped 1" in run.text and "failed 0" in run.text, run


def test_no_follow_symlinks_skips_every_link_on_cp_and_sync(
    cli, moto_server, bucket, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "o.txt").write_bytes(b"outside")
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "a.txt").write_bytes(b"a")
    os.symlink(outside, tree / "linked")
    os.symlink("a.txt", tree / "alias.txt")
    os.symlink("nowhere", tree / "dangling")  # not followed, so not a warning either

    cp = cli("cp", "-r", "--no-follow-symlinks", "tree", f"s3://{bucket}/cp/")
    sync = cli("sync", "--no-follow-symlinks", "tree", f"s3://{bucket}/sync/")
    followed = cli("cp", "-r", "--follow-symlinks", "tree", f"s3://{bucket}/all/")

    assert cp.code == 0 and sync.code == 0, (cp, sync)
    assert not warnings(cp.err) and not warnings(sync.err), (cp.err, sync.err)
    assert keys(moto_server, bucket, "cp/") == ["cp/a.txt"]
    assert keys(moto_server, bucket, "sync/") == ["sync/a.txt"]
    assert followed.code == 2, followed  # the dangling link, now looked at
    assert keys(moto_server, bucket, "all/") == ["all/a.txt", "all/alias.txt", "all/linked/o.txt"]


@needs_fifo
def test_special_files_and_dangling_links_are_warned_skipped_and_never_deleted(
    cli, moto_server, bucket, tmp_path: Path
) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "a.txt").write_bytes(b"a")
    os.mkfifo(tree / "pipe")
    os.symlink("nowhere", tree / "dangling")
    os.symlink("self", tree / "self")  # a link to itself: ELOOP
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(str(tree / "sock"))
        put(moto_server, bucket, "p/pipe", b"kept")  # its key exists at the destination
        put(moto_server, bucket, "p/gone.txt", b"extra")

        run = cli("sync", "--delete", "tree", f"s3://{bucket}/p/")
    finally:
        sock.close()

    assert run.code == 2 and "Traceback" not in run.err, run
    shown = warnings(run.err)
    assert len(shown) == 4, run.err
    dangling, pipe, self_link, sock_line = shown
    assert "tree/dangling" in dangling and "leads nowhere" in dangling, dangling
    assert "tree/pipe" in pipe and "named pipe (FIFO)" in pipe, pipe
    assert "tree/self" in self_link and "loops back to itself" in self_link, self_link
    assert "tree/sock" in sock_line and "a socket" in sock_line, sock_line
    assert (
        run.err.splitlines()[-1] == "4 local files skipped with a warning (see above); exit code 2"
    )
    assert "copied 1" in run.text and "skipped 4" in run.text and "failed 0" in run.text, run
    assert "deleted 1" in run.text, run
    assert get(moto_server, bucket, "p/pipe") == b"kept"  # skipped at the source: not deleted
    assert get(moto_server, bucket, "p/gone.txt") is None
    assert keys(moto_server, bucket, "p/") == ["p/a.txt", "p/pipe"]


@needs_fifo
def test_a_failure_wins_over_warnings_and_mv_keeps_what_it_skipped(
    cli, moto_server, bucket, tmp_path: Path
) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "a.txt").write_bytes(b"a")
    os.mkfifo(tree / "pipe")
    bad = os.fsencode(tree) + b"/caf\xe9.txt"  # Latin-1 bytes: not UTF-8, a failure
    with open(bad, "wb") as f:
        f.write(b"latin")

    run = cli("mv", "-r", "tree", f"s3://{bucket}/m/")

    assert run.code == 1 and "Traceback" not in run.err, run
    assert len(warnings(run.err)) == 1 and "tree/pipe" in run.err, run.err
    assert any("caf\\xe9.txt" in line and "UTF-8" in line for line in run.err.splitlines())
    assert run.err.splitlines()[-1] == "Error: 1 object failed", run.err
    assert keys(moto_server, bucket, "m/") == ["m/a.txt"]
    assert not (tree / "a.txt").exists()  # moved
    assert (tree / "pipe").exists() and os.path.exists(bad)  # skipped or failed: kept
