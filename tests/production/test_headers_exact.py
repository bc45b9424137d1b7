"""Metadata and headers are sent exactly as given, on both paths; CR/LF is refused before sending.

SeaweedFS checks every signature, so a value sent differently from how it was
signed fails there; what it stores is compared byte for byte between paths.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager

import pytest

import s3flow
from s3flow.models import ObjectOptions
from s3flow.testing.servers import S3Server, s3_request
from tests.helpers import TEST_CONFIG, temp_bucket

pytestmark = pytest.mark.timeout(120)

METADATA = (
    ("spaces", "two  spaces\tand tab"),
    ("runs", "a   b \t\t c"),
    ("inner", "x\t y"),
)


def _client(server: S3Server, *, fast_path: bool) -> AbstractAsyncContextManager[s3flow.S3Client]:
    return s3flow.connect(
        endpoint_url=server.endpoint_url,
        access_key=server.access_key,
        secret_key=server.secret_key,
        region="us-east-1",
        config=TEST_CONFIG,
        fast_path=fast_path,
    )


def _stored(server: S3Server, bucket: str, key: str) -> dict[str, str]:
    head = s3_request(server, "HEAD", f"/{bucket}/{key}")
    assert head.status == 200
    return {k: v for k, v in head.headers.items() if k.startswith(("x-amz-meta-", "content-type"))}


@pytest.mark.parametrize("size", [5, 6 * 1024 * 1024], ids=["put", "multipart"])
async def test_metadata_is_stored_byte_exact_as_on_the_botocore_path(
    tls_server: S3Server, size: int
) -> None:
    options = ObjectOptions(content_type="text/plain;  charset=utf-8", metadata=METADATA)
    body = b"x" * size
    async with _client(tls_server, fast_path=False) as slow, temp_bucket(slow, "hdr") as bucket:
        await slow.put_object(bucket, "slow", body, options=options)
        async with _client(tls_server, fast_path=True) as fast:
            await fast.put_object(bucket, "fast", body, options=options)
            assert await fast.get_object(bucket, "fast") == body
        by_botocore = _stored(tls_server, bucket, "slow")
        by_fast_path = _stored(tls_server, bucket, "fast")
    assert by_fast_path == by_botocore
    assert by_fast_path["x-amz-meta-spaces"] == "two  spaces\tand tab"
    assert by_fast_path["x-amz-meta-runs"] == "a   b \t\t c"


@pytest.mark.parametrize("value", ["a\r\nx-amz-acl: public-read", "line\nbreak", "nul\x00", "\x7f"])
def test_control_characters_are_refused_before_sending(value: str) -> None:
    with pytest.raises(s3flow.ConfigError) as caught:
        ObjectOptions(metadata=(("note", value),))
    assert "\n" not in str(caught.value) and "'note'" in str(caught.value)
    with pytest.raises(s3flow.ConfigError):
        ObjectOptions(content_type=value)
