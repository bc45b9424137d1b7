"""An S3Client over the session's moto server, and a fresh bucket per test."""

from __future__ import annotations

import uuid

import pytest

import s3flow
from s3flow.config import MiB, RetryPolicy, TransferConfig

CONFIG = TransferConfig(
    part_size=5 * MiB,
    multipart_threshold=5 * MiB,
    max_concurrency=4,
    retry=RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05),
)


@pytest.fixture
async def s3(moto_server):
    async with s3flow.connect(
        endpoint_url=moto_server.endpoint_url,
        access_key=moto_server.access_key,
        secret_key=moto_server.secret_key,
        config=CONFIG,
    ) as client:
        yield client


@pytest.fixture
async def bucket(s3):
    name = f"t-{uuid.uuid4().hex[:12]}"
    await s3.create_bucket(name)
    yield name
    await s3.delete_bucket(name, force=True)
