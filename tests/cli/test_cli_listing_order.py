"""cp -r, sync and sync --dask-scheduler on SeaweedFS, which lists like a file tree
(``logs/a`` before ``logs-old.txt``): no flag needed, every key handled once."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import pytest

from s3flow.testing.servers import S3Server, s3_request
from tests.cli.helpers import Run, finish, start

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

TREE = {
    "a.b": b"1",
    "a/x": b"22",
    "a/y.z": b"333",
    "a/y/q": b"4444",
    "logs-old.txt": b"55555",
    "logs/1": b"666666",
    "logs/2": b"7777777",
    "z": b"88888888",
}


@pytest.fixture
def weed_cli(seaweed_server: S3Server, tmp_path: Path, isolate_aws_env: Path):
    def run(*args: str) -> Run:
        proc = start(seaweed_server, isolate_aws_env, *args, cwd=tmp_path)
        return finish(seaweed_server, proc)

    return run


@pytest.fixture
def weed_bucket(seaweed_server: S3Server) -> Iterator[str]:
    name = f"order-{uuid.uuid4().hex[:10]}"
    assert s3_request(seaweed_server, "PUT", f"/{name}").status == 200
    yield name
    s3_request(seaweed_server, "DELETE", f"/{name}")


def _make(root: Path, files: dict[str, bytes]) -> None:
    for key, data in files.items():
        path = root.joinpath(*key.split("/"))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def _read(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _summary(run: Run) -> str:
    assert run.code == 0, run
    return run.text.splitlines()[-1].split(" in ")[0]


def test_cp_recursive_and_sync_on_a_file_tree_server(weed_cli, weed_bucket, tmp_path) -> None:
    _make(tmp_path / "tree", TREE)
    url = f"s3://{weed_bucket}/t/"
    assert _summary(weed_cli("cp", "-r", "tree", url)).startswith("copied 8 ")
    down = weed_cli("cp", "-r", url, "down")
    assert _summary(down).startswith("copied 8 ")
    assert _read(tmp_path / "down") == TREE
    # sync both ways: nothing to do, nothing copied twice
    assert (
        _summary(weed_cli("sync", "tree", url)) == "copied 0 (0 B), skipped 8, deleted 0, failed 0"
    )
    assert (
        _summary(weed_cli("sync", url, "down")) == "copied 0 (0 B), skipped 8, deleted 0, failed 0"
    )
    # a change and an extra on each side; --delete removes exactly the extras
    (tmp_path / "tree" / "logs-old.txt").write_bytes(b"changed!")
    _make(tmp_path / "tree", {"logs/3": b"new"})
    _make(tmp_path / "down", {"logs-extra": b"x", "a/extra": b"y"})
    up = weed_cli("sync", "tree", url)
    assert _summary(up) == "copied 2 (11 B), skipped 7, deleted 0, failed 0", up
    again = weed_cli("sync", "--delete", url, "down")
    assert _summary(again) == "copied 2 (11 B), skipped 7, deleted 2, failed 0", again
    assert _read(tmp_path / "down") == _read(tmp_path / "tree")


def test_explicit_s3_order_error_names_the_flag(weed_cli, weed_bucket, tmp_path) -> None:
    _make(tmp_path / "tree", TREE)
    assert weed_cli("cp", "-r", "tree", f"s3://{weed_bucket}/t/").code == 0
    run = weed_cli("sync", "--listing-order", "s3", f"s3://{weed_bucket}/t/", "down")
    line = run.assert_one_line_error()
    assert "--listing-order path" in line and "order=" not in line, line


@pytest.mark.timeout(120)
def test_dask_sync_on_a_file_tree_server(weed_cli, weed_bucket, tmp_path, scheduler) -> None:
    _make(tmp_path / "tree", TREE)
    url = f"s3://{weed_bucket}/t/"
    up = weed_cli("sync", "tree", url, "--dask-scheduler", scheduler, "--shards", "4")
    assert _summary(up).startswith("copied 8 "), up
    down = weed_cli("sync", url, "down", "--dask-scheduler", scheduler, "--shards", "4")
    assert _summary(down).startswith("copied 8 "), down
    assert _read(tmp_path / "down") == TREE
    again = weed_cli("sync", url, "down", "--dask-scheduler", scheduler, "--delete")
    assert _summary(again).startswith("copied 0 (0 B), skipped 8, deleted 0, failed 0"), again
