from __future__ import annotations

import random

import pytest

from s3flow.client import S3Client
from s3flow.testing.faults import FaultyBackend
from tests.engine.helpers import CONFIG, Delays


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
