"""``s3flow sync --dask-scheduler``: the CLI drives a real two-worker LocalCluster."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.cli.helpers import get, put

if TYPE_CHECKING:
    from pathlib import Path


@pytest.mark.timeout(90)
def test_sync_on_a_dask_cluster(cli, moto_server, bucket, tmp_path: Path, scheduler: str) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    for i in range(12):
        (tree / f"{chr(ord('a') + i)}-{i}.txt").write_text(str(i) * (i + 1))
    put(moto_server, bucket, "up/zz-extra.txt", b"extra")
    args = ("sync", "tree", f"s3://{bucket}/up", "--delete", "--dask-scheduler", scheduler)
    run = cli(*args, "--shards", "4", "--failures-file", "failed.txt")
    assert run.code == 0, run
    assert run.text.startswith("copied 12 (101 B), skipped 0, deleted 1, failed 0 in "), run
    assert get(moto_server, bucket, "up/c-2.txt") == b"222"
    assert get(moto_server, bucket, "up/zz-extra.txt") is None
    assert (tmp_path / "failed.txt").read_text() == ""

    down = cli(
        "--json",
        "sync",
        f"s3://{bucket}/up/",
        "down",
        "--dask-scheduler",
        scheduler,
        "--shards",
        "2",
    )
    assert down.code == 0, down
    assert '"copied":12' in down.text and '"failed":0' in down.text
    assert (tmp_path / "down" / "l-11.txt").read_text() == "11" * 12
