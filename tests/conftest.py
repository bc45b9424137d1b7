"""Shared fixtures: AWS environment isolation, real S3 servers, deterministic payloads.

Server fixtures are synchronous and session-scoped (a thread or a subprocess), so they do not
depend on the event-loop scope. Tests that use ``seaweed_server`` (directly or through another
fixture) get the ``seaweed`` marker automatically: deselect them with ``-m "not seaweed"``.
"""

from __future__ import annotations

import os
import random
import uuid
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import pytest

import s3flow
from s3flow.config import MiB, RetryPolicy, TransferConfig
from s3flow.testing.servers import S3Server, run_moto, run_seaweedfs

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterator
    from pathlib import Path

_ENV_PREFIXES = ("AWS_", "BOTO_", "S3FLOW_")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that needs SeaweedFS, even through another fixture, with ``seaweed``."""
    for item in items:
        if "seaweed_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.seaweed)


@pytest.fixture(autouse=True)
def isolate_aws_env(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """No credentials, config or metadata service of this machine can leak into a test."""
    for name in list(os.environ):
        if name.upper().startswith(_ENV_PREFIXES):
            monkeypatch.delenv(name)
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / "missing-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "missing-aws-credentials"))
    return home


@pytest.fixture(scope="session")
def moto_server() -> Iterator[S3Server]:
    """moto on 127.0.0.1 (lenient: no signature or checksum checks); one per session."""
    with run_moto() as server:
        yield server


@pytest.fixture(scope="session")
def seaweed_server() -> Iterator[S3Server]:
    """SeaweedFS on 127.0.0.1 with real credentials; started only when a test asks for it."""
    with run_seaweedfs() as server:
        yield server


@pytest.fixture
def payload() -> Callable[..., bytes]:
    """``payload(size, seed=0)``: the same pseudo-random bytes for the same arguments."""

    def make(size: int, seed: int = 0) -> bytes:
        return random.Random(seed).randbytes(size)

    return make


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
