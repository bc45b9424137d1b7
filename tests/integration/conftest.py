"""S3Client over the session's SeaweedFS (real signatures, checksums and expiry)."""

from __future__ import annotations

import pytest

from tests.helpers import open_client, temp_bucket


@pytest.fixture
async def weed(seaweed_server):
    async with open_client(seaweed_server) as client:
        yield client


@pytest.fixture
async def weed_bucket(weed):
    async with temp_bucket(weed, "it") as name:
        yield name
