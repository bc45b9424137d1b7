from __future__ import annotations

import urllib.error
import urllib.request

import anyio
import pytest

from s3flow import ConfigError


def fetch(url: str, *, data: bytes | None = None, method: str = "GET") -> tuple[int, bytes]:
    headers = {"Content-Type": "application/octet-stream"} if data is not None else {}
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


async def test_canned_acl_read_back(s3, bucket) -> None:
    await s3.put_object(bucket, "page.html", "<p>hi</p>")
    await s3.set_acl(bucket, "page.html", "public-read")
    grants = await s3.get_acl(bucket, "page.html")
    assert ("http://acs.amazonaws.com/groups/global/AllUsers", "READ") in grants
    await s3.set_acl(bucket, None, "public-read")
    assert any(p == "READ" for _, p in await s3.get_acl(bucket))


async def test_unknown_acl(s3, bucket) -> None:
    with pytest.raises(ConfigError, match="unknown canned ACL"):
        await s3.set_acl(bucket, "k", "world-writable")


async def test_presigned_get_and_put_over_http(s3, bucket) -> None:
    await s3.put_object(bucket, "report.txt", "the report")
    url = s3.presign(bucket, "report.txt", expires_in=30)
    assert "X-Amz-Expires=30" in url
    status, body = await anyio.to_thread.run_sync(fetch, url)
    assert (status, body) == (200, b"the report")
    put_url = s3.presign(bucket, "upload/ü.txt", expires_in=30, method="PUT")
    status, _ = await anyio.to_thread.run_sync(
        lambda: fetch(put_url, data=b"via presigned put", method="PUT")
    )
    assert status == 200
    assert await s3.get_text(bucket, "upload/ü.txt") == "via presigned put"


@pytest.mark.parametrize("expires", [0, 604801])
async def test_presign_bad_expiry(s3, bucket, expires) -> None:
    with pytest.raises(ConfigError, match="expires_in"):
        s3.presign(bucket, "k", expires_in=expires)
