"""What aws s3 and s5cmd users rely on: directory operands, wildcards, flag names."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.cli.helpers import get, put

if TYPE_CHECKING:
    from pathlib import Path

KEYS = ("t/a.tmp", "t/b.tmp", "t/sub/c.tmp", "t/keep.log", "x.log", "tmp.log", "tmpfile", "tmp/1")


def _seed(server, bucket: str) -> None:
    for key in KEYS:
        put(server, bucket, key, key.encode())


def _left(server, bucket: str) -> set[str]:
    return {k for k in KEYS if get(server, bucket, k) is not None}


def test_rm_recursive_without_slash_is_the_directory(cli, moto_server, bucket) -> None:
    _seed(moto_server, bucket)
    run = cli("rm", "--recursive", f"s3://{bucket}/tmp")
    assert run.code == 0, run
    assert _left(moto_server, bucket) == set(KEYS) - {"tmp/1"}


def test_ls_wildcard_matches_at_any_depth(cli, moto_server, bucket) -> None:
    _seed(moto_server, bucket)
    run = cli("ls", f"s3://{bucket}/*.log")
    assert run.code == 0, run
    assert sorted(line.split()[-1] for line in run.text.splitlines()) == [
        "t/keep.log",
        "tmp.log",
        "x.log",
    ]
    one = cli("ls", f"s3://{bucket}/t/?.tmp")
    assert [line.split()[-1] for line in one.text.splitlines()] == ["t/a.tmp", "t/b.tmp"]
    none = cli("ls", f"s3://{bucket}/*.nothing")
    assert "no object matches the wildcard" in none.assert_one_line_error()


def test_rm_wildcard_deletes_the_matches_only(cli, moto_server, bucket) -> None:
    _seed(moto_server, bucket)
    run = cli("rm", f"s3://{bucket}/t/*.tmp")
    assert run.code == 0, run
    assert _left(moto_server, bucket) == set(KEYS) - {"t/a.tmp", "t/b.tmp", "t/sub/c.tmp"}
    again = cli("rm", f"s3://{bucket}/t/*.tmp")
    assert "no object matches" in again.assert_one_line_error()


def test_cp_wildcard_downloads_the_matches(cli, moto_server, bucket, tmp_path: Path) -> None:
    _seed(moto_server, bucket)
    run = cli("cp", f"s3://{bucket}/t/*.tmp", "out/")
    assert run.code == 0, run
    got = sorted(
        p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*.tmp")
    )
    assert got == ["a.tmp", "b.tmp", "sub/c.tmp"]
    assert not (tmp_path / "out" / "keep.log").exists()


def test_sync_refuses_wildcards_and_leaves_the_destination(
    cli, moto_server, bucket, tmp_path
) -> None:
    _seed(moto_server, bucket)
    (tmp_path / "dst").mkdir()
    (tmp_path / "dst" / "precious").write_text("keep me")
    run = cli("sync", "--delete", f"s3://{bucket}/*", "dst/")
    assert run.code == 2 and "wildcards" in run.err, run
    assert (tmp_path / "dst" / "precious").read_text() == "keep me"
    up = cli("cp", "dst/precious", f"s3://{bucket}/a*b")
    assert up.code == 2 and "wildcards" in up.err, up


@pytest.mark.parametrize("verb", ["cp", "mv"])
@pytest.mark.parametrize("pattern", ["*.nothing", "t*/", "t/?.log"])
def test_cp_and_mv_wildcard_matching_nothing_fail(
    cli, moto_server, bucket, tmp_path, verb: str, pattern: str
) -> None:
    _seed(moto_server, bucket)
    run = cli(verb, f"s3://{bucket}/{pattern}", str(tmp_path / "out") + "/")
    assert "no object matches the wildcard" in run.assert_one_line_error()
    assert run.code == 1 and not (tmp_path / "out").exists()
    assert _left(moto_server, bucket) == set(KEYS)
