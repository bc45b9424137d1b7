"""An S3Client over the session's moto server, and a fresh bucket per test."""

from __future__ import annotations

import pytest

from tests.helpers import open_client, temp_bucket


@pytest.fixture
async def s3(moto_server):
    async with open_client(moto_server) as client:
        yield client


@pytest.fixture
async def bucket(s3):
    async with temp_bucket(s3) as name:
        yield name
