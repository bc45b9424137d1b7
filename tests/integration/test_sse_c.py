"""SSE-C against SeaweedFS, which enforces it (a read without the key is refused with
400, with another key 403): the connection's customer key goes with every GET, HEAD,
PutObject, CreateMultipartUpload and UploadPart, on the fast path and through botocore,
and it never shows in a repr or an error."""

from __future__ import annotations

import hashlib

import pytest

from s3flow import S3FlowError, SseCustomerKey
from s3flow.config import MiB
from s3flow.testing.servers import s3_request
from tests.helpers import open_client

pytestmark = pytest.mark.seaweed

KEY = SseCustomerKey(b"0123456789abcdef0123456789abcdef")
OTHER = SseCustomerKey(b"x" * 32)


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast", "botocore"])
@pytest.mark.parametrize("size", [11, 12 * MiB + 5], ids=["single", "multipart"])
async def test_round_trip_with_a_customer_key(
    seaweed_server, weed, weed_bucket, tmp_path, payload, size, fast_path
) -> None:
    data = payload(size, seed=size)
    (tmp_path / "src").write_bytes(data)
    async with open_client(seaweed_server, sse_customer_key=KEY, fast_path=fast_path) as s3:
        await s3.upload_file(tmp_path / "src", weed_bucket, "obj")
        info = await s3.head_object(weed_bucket, "obj")
        await s3.download_file(weed_bucket, "obj", tmp_path / "dst")
    assert info.size == size
    got = (tmp_path / "dst").read_bytes()
    assert hashlib.sha256(got).digest() == hashlib.sha256(data).digest()
    # Stored encrypted under that key: no key (400), another key (403).
    assert s3_request(seaweed_server, "HEAD", f"/{weed_bucket}/obj").status == 400
    wrong = s3_request(seaweed_server, "HEAD", f"/{weed_bucket}/obj", headers=OTHER.headers())
    assert wrong.status == 403


async def test_a_wrong_or_missing_key_is_one_clean_error_without_the_key(
    seaweed_server, weed, weed_bucket, tmp_path
) -> None:
    async with open_client(seaweed_server, sse_customer_key=KEY) as s3:
        await s3.put_object(weed_bucket, "obj", b"secret data")
    for other in (OTHER, None):
        async with open_client(seaweed_server, sse_customer_key=other) as s3:
            with pytest.raises(S3FlowError) as caught:
                await s3.download_file(weed_bucket, "obj", tmp_path / "dst")
        text = f"{caught.value} {caught.value!r}"
        assert "\n" not in str(caught.value) and f"{weed_bucket}" in text, text
        assert "SSE-C" in str(caught.value), text
        assert KEY.encoded not in text and OTHER.encoded not in text, text
        assert not (tmp_path / "dst").exists()
    assert "0123456789abcdef" not in repr(KEY) and KEY.encoded not in repr(KEY)
