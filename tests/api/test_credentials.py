"""Credential errors found before any request. Which keys sign is proven against SeaweedFS,
which checks signatures (moto does not): tests/integration/test_credentials.py."""

from __future__ import annotations

import pytest

import s3flow
from s3flow import ConfigError, CredentialsError


async def names(endpoint: str, **kwargs) -> list[str]:
    async with s3flow.connect(endpoint_url=endpoint, **kwargs) as s3:
        return [b.name for b in await s3.list_buckets()]


async def test_no_credentials_is_a_clear_error(moto_server) -> None:
    with pytest.raises(CredentialsError, match="no credentials found") as info:
        await names(moto_server.endpoint_url)
    assert "\n" not in str(info.value)


async def test_half_given_keys(moto_server) -> None:
    with pytest.raises(CredentialsError, match="both"):
        await names(moto_server.endpoint_url, access_key="only-this")


async def test_malformed_endpoint(moto_server) -> None:
    with pytest.raises(ConfigError, match="endpoint URL"):
        await names("not a url", access_key="a", secret_key="b")
