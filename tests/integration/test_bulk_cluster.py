"""A sync sharded over a real Dask LocalCluster into SeaweedFS, with a worker killed mid-job."""

from __future__ import annotations

import hashlib
import os
import signal
import threading
import time

import anyio
import pytest

from s3flow.bulk.cluster import Connection, sync_on_cluster
from s3flow.bulk.runner import SyncOptions
from s3flow.client import open_backend
from s3flow.config import MiB, TransferConfig
from s3flow.models import S3Location
from tests.helpers import process_cluster

distributed = pytest.importorskip("distributed")
pytestmark = [pytest.mark.seaweed, pytest.mark.slow, pytest.mark.timeout(180)]

FILES = 120


@pytest.mark.filterwarnings(
    "ignore::ResourceWarning", "ignore::DeprecationWarning", "ignore::UserWarning"
)
async def test_every_object_arrives_once_when_a_worker_dies(
    seaweed_server, weed, weed_bucket, tmp_path
) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    digests = {}
    for n in range(FILES):
        data = os.urandom(512 * 1024)
        (tree / f"f{n:04d}").write_bytes(data)
        digests[f"f{n:04d}"] = hashlib.md5(data).hexdigest()
    conn = Connection(
        endpoint_url=seaweed_server.endpoint_url,
        access_key=seaweed_server.access_key,
        secret_key=seaweed_server.secret_key,
    )
    killed: list[str] = []

    def run() -> object:
        with (
            process_cluster(3, timeout=60) as cluster,
            distributed.Client(cluster) as dask,
        ):
            pids = dask.run(os.getpid)
            stop = threading.Event()

            def kill_a_busy_worker() -> None:
                deadline = time.monotonic() + 60
                while not stop.is_set() and time.monotonic() < deadline:
                    busy = [w for w, tasks in dask.processing().items() if tasks]
                    if busy:
                        os.kill(pids[busy[0]], signal.SIGKILL)
                        killed.append(busy[0])
                        return
                    time.sleep(0.02)

            killer = threading.Thread(target=kill_a_busy_worker)
            killer.start()
            try:
                return sync_on_cluster(
                    dask,
                    tree,
                    S3Location(weed_bucket, "data/"),
                    opener=open_backend,
                    dest=conn,
                    config=TransferConfig(part_size=8 * MiB, max_concurrency=4),
                    options=SyncOptions(concurrency=8),
                    shards=12,
                    retries=3,
                )
            finally:
                stop.set()
                killer.join()

    summary = await anyio.to_thread.run_sync(run)
    assert killed, "no worker was busy to kill"
    assert summary.failed == 0
    stored = {o.key.removeprefix("data/"): o async for o in weed.list_objects(weed_bucket)}
    assert sorted(stored) == sorted(digests)
    assert {k: o.etag for k, o in stored.items()} == digests
