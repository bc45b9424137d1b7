"""What test modules share: a fast test config, a client for a session server, a temp bucket.

Fixtures stay in conftest.py; plain helpers live here, so tests import a module
rather than a conftest.py (which pytest imports by itself).
"""

from __future__ import annotations

import uuid
from contextlib import asynccontextmanager, contextmanager
from typing import TYPE_CHECKING, Any

import s3flow
from s3flow.config import MiB, RetryPolicy, TransferConfig

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from s3flow.testing.servers import S3Server

__all__ = ["TEST_CONFIG", "open_client", "process_cluster", "read_range", "temp_bucket"]

# Small parts and a fast retry policy, so multipart paths run on small files and
# retries never wait long.
TEST_CONFIG = TransferConfig(
    part_size=5 * MiB,
    multipart_threshold=5 * MiB,
    max_concurrency=4,
    retry=RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05),
)


@asynccontextmanager
async def open_client(server: S3Server, **kwargs: Any) -> AsyncIterator[s3flow.S3Client]:
    """An S3Client for one of the session's servers."""
    kwargs.setdefault("config", TEST_CONFIG)
    async with s3flow.connect(
        endpoint_url=server.endpoint_url,
        access_key=server.access_key,
        secret_key=server.secret_key,
        **kwargs,
    ) as client:
        yield client


@asynccontextmanager
async def temp_bucket(client: s3flow.S3Client, prefix: str = "t") -> AsyncIterator[str]:
    """A fresh bucket, force-deleted afterwards."""
    name = f"{prefix}-{uuid.uuid4().hex[:12]}"
    await client.create_bucket(name)
    try:
        yield name
    finally:
        await client.delete_bucket(name, force=True)


async def read_range(backend: Any, bucket: str, key: str, **kwargs: Any) -> tuple[bytes, list[int]]:
    """A backend's ``stream_range`` collected: the bytes, and the size of each batch."""
    batches: list[list[bytes]] = []

    async def sink(chunks: list[bytes]) -> None:
        batches.append(chunks)

    await backend.stream_range(bucket, key, sink=sink, **kwargs)
    return b"".join(c for b in batches for c in b), [sum(map(len, b)) for b in batches]


@contextmanager
def process_cluster(workers: int, *, timeout: float = 30) -> Iterator[Any]:
    """A Dask LocalCluster of single-threaded worker processes on 127.0.0.1.

    ``distributed`` is optional: callers ``pytest.importorskip`` it first.
    """
    import distributed

    with distributed.LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
        timeout=timeout,
    ) as cluster:
        yield cluster
