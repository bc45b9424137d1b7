"""Virtual-hosted addressing (BUCKET.DOMAIN) on the fast path, as botocore would use it.

SeaweedFS serves ``BUCKET.s3.test`` (``-s3.domainName``). ``*.s3.test`` does not
resolve here, so name lookups are pinned to 127.0.0.1 while the requests carry
the real Host; the names looked up show which host each path addressed.
"""

from __future__ import annotations

import dataclasses
import logging
import socket
import uuid
from typing import TYPE_CHECKING, Any

import pytest

import s3flow
from s3flow.testing.servers import s3_request
from tests.helpers import TEST_CONFIG
from tests.production.helpers import DOMAIN

if TYPE_CHECKING:
    from contextlib import AbstractAsyncContextManager
    from pathlib import Path

    from s3flow.testing.servers import S3Server

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def lookups(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every name under DOMAIN resolves to 127.0.0.1; the names asked for are recorded."""
    asked: list[str] = []
    real = socket.getaddrinfo

    def pinned(host: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, str) and (host == DOMAIN or host.endswith("." + DOMAIN)):
            asked.append(host)
            host = "127.0.0.1"
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", pinned)
    return asked


def _port(url: str | None) -> str:
    assert url
    return url.rsplit(":", 1)[1]


async def _round_trip(s3: s3flow.S3Client, server: S3Server, bucket: str) -> None:
    await s3.create_bucket(bucket)
    try:
        data = b"v" * (6 * 1024 * 1024)
        await s3.put_object(bucket, "dir/a b", data)
        await s3.put_object(bucket, "small", b"hi")
        assert await s3.get_object(bucket, "dir/a b") == data
        assert [o.key async for o in s3.list_objects(bucket)] == ["dir/a b", "small"]
        assert (await s3.head_object(bucket, "small")).size == 2
        # The same objects, addressed path-style on 127.0.0.1: the server routed by Host.
        plain = dataclasses.replace(server, endpoint_url=server.endpoint_url)
        assert s3_request(plain, "GET", f"/{bucket}/small").body == b"hi"
    finally:
        await s3.delete_bucket(bucket, force=True)


def _virtual(server: S3Server, **options: Any) -> AbstractAsyncContextManager[s3flow.S3Client]:
    """A client of ``http://DOMAIN:port`` with the server's keys, addressing virtual-hosted."""
    return s3flow.connect(
        endpoint_url=f"http://{DOMAIN}:{_port(server.endpoint_url)}",
        access_key=server.access_key,
        secret_key=server.secret_key,
        region="us-east-1",
        config=TEST_CONFIG,
        addressing_style="virtual",
        **options,
    )


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast", "botocore"])
async def test_virtual_hosted_from_the_argument(
    tls_server: S3Server, lookups: list[str], fast_path: bool, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="s3flow.http")
    bucket = f"vh-{uuid.uuid4().hex[:10]}"
    async with _virtual(tls_server, fast_path=fast_path) as s3:
        await _round_trip(s3, tls_server, bucket)
    assert f"{bucket}.{DOMAIN}" in lookups
    fast_lines = [r.getMessage() for r in caplog.records if r.name == "s3flow.http"]
    if fast_path:  # the hot calls went to BUCKET.DOMAIN over the fast path
        host = f"http://{bucket}.{DOMAIN}:{_port(tls_server.endpoint_url)}/"
        assert any(line.startswith(f"PUT {host}dir/a%20b") for line in fast_lines)
        assert any(line.startswith(f"HEAD {host}small") for line in fast_lines)
    else:
        assert fast_lines == []


async def test_virtual_hosted_from_the_profile_over_https(
    tls_server: S3Server,
    lookups: list[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="s3flow.http")
    config = tmp_path / "config"
    config.write_text(
        "[profile vh]\nregion = us-east-1\n"
        f"aws_access_key_id = {tls_server.access_key}\n"
        f"aws_secret_access_key = {tls_server.secret_key}\n"
        f"ca_bundle = {tls_server.ca_file}\ns3 =\n    addressing_style = virtual\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    bucket = f"vh-{uuid.uuid4().hex[:10]}"
    endpoint = f"https://{DOMAIN}:{_port(tls_server.https_endpoint)}"
    async with s3flow.connect(endpoint_url=endpoint, profile="vh", config=TEST_CONFIG) as s3:
        await _round_trip(s3, tls_server, bucket)
    assert f"{bucket}.{DOMAIN}" in lookups
    host = f"https://{bucket}.{DOMAIN}:{_port(tls_server.https_endpoint)}/"
    assert any(r.getMessage().startswith(f"PUT {host}dir/a%20b") for r in caplog.records)


async def test_a_bucket_name_that_cannot_be_a_host_name_goes_to_botocore(
    tls_server: S3Server, lookups: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="s3flow.http")
    bucket = f"vh.dotted.{uuid.uuid4().hex[:8]}"
    async with _virtual(tls_server) as s3:
        await _round_trip(s3, tls_server, bucket)
    # botocore addresses it as configured; the fast path leaves such names to botocore.
    assert not [
        r for r in caplog.records if r.name == "s3flow.http" and "vh.dotted" in r.getMessage()
    ]
