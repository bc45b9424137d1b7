"""Sharded jobs on a Dask LocalCluster (threads) against MemoryBackends."""

from __future__ import annotations

import pickle
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from s3flow.bulk.cluster import Connection, plan_shards, run_shard, sync_on_cluster
from s3flow.bulk.filters import Filters
from s3flow.bulk.runner import SyncOptions
from s3flow.bulk.sources import KeyRange
from s3flow.config import TransferConfig
from s3flow.errors import ConfigError
from s3flow.models import S3Location
from s3flow.testing.memory import MemoryBackend

distributed = pytest.importorskip("distributed")

SERVERS: dict[str, MemoryBackend] = {}


@asynccontextmanager
async def open_memory(conn: Connection):
    """The test's opener: endpoint URL -> a shared in-process MemoryBackend."""
    yield SERVERS[conn.endpoint_url or ""]


def test_tasks_pickle_and_hide_secrets(tmp_path: Path) -> None:
    conn = Connection(endpoint_url="http://a:1", access_key="AK", secret_key="s3cr3t")
    tasks = plan_shards(
        S3Location("b"),
        tmp_path,
        source=conn,
        dest=None,
        config=TransferConfig(),
        options=SyncOptions(
            filters=Filters.of(("exclude", "*.tmp")), failures_file=tmp_path / "failed.txt"
        ),
        shards=8,
    )
    assert len(tasks) == 8 and "s3cr3t" not in repr(tasks[0])
    back = pickle.loads(pickle.dumps(tasks))
    assert back == tasks and not back[0].options.filters.allows("x.tmp")
    assert back[3].options.failures_file == tmp_path / "failed.txt.shard-0003"
    # One-character bounds select the same keys in s3 and path order: allowed.
    assert (
        len(
            plan_shards(
                S3Location("b"),
                tmp_path,
                source=conn,
                dest=None,
                config=TransferConfig(),
                options=SyncOptions(order="path"),
                shards=2,
            )
        )
        == 2
    )
    with pytest.raises(ConfigError, match="order='s3'"):
        plan_shards(
            S3Location("b"),
            tmp_path,
            source=conn,
            dest=None,
            config=TransferConfig(),
            options=SyncOptions(order="path", spans=(KeyRange(None, "k5"), KeyRange("k5"))),
            shards=2,
        )


def test_run_shard_directly() -> None:
    SERVERS["one"] = src = MemoryBackend()
    src.buckets["b"] = {}
    src.buckets["c"] = {}
    import anyio

    async def fill() -> None:
        for key in ("a1", "m5", "z9"):
            await src.put_object("b", key, key.encode())

    anyio.run(fill)
    conn = Connection(endpoint_url="one")
    tasks = plan_shards(
        S3Location("b"),
        S3Location("c"),
        source=conn,
        dest=conn,
        config=TransferConfig(),
        options=SyncOptions(),
        shards=3,
    )
    summaries = [run_shard(t, open_memory) for t in tasks]
    assert sum(s.copied for s in summaries) == 3
    assert src.calls["copy_object"] == 3  # same endpoint: server-side


@pytest.mark.timeout(120)
def test_local_cluster_every_object_once(tmp_path: Path) -> None:
    import anyio

    SERVERS["src"] = src = MemoryBackend()
    SERVERS["dst"] = dst = MemoryBackend()
    src.buckets["b"] = {}
    dst.buckets["d"] = {}
    keys = [f"{c}{i:03d}" for c in "0Aaz" for i in range(50)]

    async def fill() -> None:
        for key in keys:
            await src.put_object("b", "p/" + key, key.encode())

    anyio.run(fill)
    with (
        distributed.LocalCluster(
            n_workers=3, processes=False, threads_per_worker=2, dashboard_address="127.0.0.1:0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        summary = sync_on_cluster(
            client,
            S3Location("b", "p/"),
            S3Location("d"),
            opener=open_memory,
            source=Connection(endpoint_url="src"),
            dest=Connection(endpoint_url="dst"),
            shards=8,
            options=SyncOptions(failures_file=tmp_path / "failed.txt"),
        )
    assert (summary.copied, summary.failed) == (len(keys), 0)
    assert {k: o.data for k, o in dst.buckets["d"].items()} == {k: k.encode() for k in keys}
    assert dst.calls["put_object"] == len(keys)  # exactly once each
    assert (tmp_path / "failed.txt").read_text() == ""
