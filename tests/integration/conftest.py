"""S3Client over the session's SeaweedFS (real signatures, checksums and expiry)."""

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
async def weed(seaweed_server):
    async with s3flow.connect(
        endpoint_url=seaweed_server.endpoint_url,
        access_key=seaweed_server.access_key,
        secret_key=seaweed_server.secret_key,
        config=CONFIG,
    ) as client:
        yield client


@pytest.fixture
async def weed_bucket(weed):
    name = f"it-{uuid.uuid4().hex[:12]}"
    await weed.create_bucket(name)
    yield name
    await weed.delete_bucket(name, force=True)
