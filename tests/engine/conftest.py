from __future__ import annotations

import random

import pytest

from s3flow.client import S3Client
from s3flow.config import MiB, RetryPolicy, TransferConfig
from s3flow.testing.faults import FaultyBackend

CONFIG = TransferConfig(
    part_size=5 * MiB,
    multipart_threshold=5 * MiB,
    max_concurrency=4,
    retry=RetryPolicy(max_attempts=3),
)


class Delays(list[float]):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def delays() -> Delays:
    return Delays()


@pytest.fixture
def backend() -> FaultyBackend:
    backend = FaultyBackend()
    backend.buckets["b"] = {}
    return backend


@pytest.fixture
def client(backend: FaultyBackend, delays: Delays) -> S3Client:
    return S3Client(backend, CONFIG, sleep=delays, rng=random.Random(0))


@pytest.fixture(autouse=True)
def state_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("S3FLOW_STATE_DIR", str(tmp_path / "state"))
    return tmp_path / "state"
