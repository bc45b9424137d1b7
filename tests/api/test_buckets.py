from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET

import pytest

from s3flow import (
    BucketAlreadyExists,
    BucketNotEmpty,
    BucketNotFound,
    ClientClosed,
    InvalidBucketName,
)
from s3flow.testing import s3_request


async def test_create_list_delete(s3) -> None:
    name = f"t-{uuid.uuid4().hex[:12]}"
    await s3.create_bucket(name)
    assert name in [b.name for b in await s3.list_buckets()]
    await s3.delete_bucket(name)
    assert name not in [b.name for b in await s3.list_buckets()]


def location(server, bucket: str) -> str:
    """The bucket's LocationConstraint as the server recorded it ("" is us-east-1)."""
    answer = s3_request(server, "GET", f"/{bucket}", query={"location": ""})
    assert answer.status == 200, answer.body
    return ET.fromstring(answer.body).text or ""


@pytest.mark.parametrize(("region", "recorded"), [("eu-west-1", "eu-west-1"), (None, "")])
async def test_region_aware_create(s3, moto_server, region, recorded) -> None:
    """The bucket lands in the region asked for; without one, in the client's (us-east-1)."""
    name = f"t-{uuid.uuid4().hex[:12]}"
    await s3.create_bucket(name, region=region)
    try:
        assert location(moto_server, name) == recorded
    finally:
        await s3.delete_bucket(name)


@pytest.mark.parametrize("name", ["ab", "UPPER", "under_score", "-dash", "a" * 64, "a..b"])
async def test_invalid_name_is_refused_before_any_request(s3, name) -> None:
    with pytest.raises(InvalidBucketName, match="invalid bucket name"):
        await s3.create_bucket(name)


async def test_existing_bucket(s3, bucket) -> None:
    # moto answers 200 when you re-create your own bucket, like AWS in us-east-1.
    with pytest.raises(BucketAlreadyExists, match="already exists"):
        await s3.create_bucket(bucket)


async def test_delete_non_empty_refused_then_forced(s3) -> None:
    name = f"t-{uuid.uuid4().hex[:12]}"
    await s3.create_bucket(name)
    await s3.put_object(name, "a", b"1")
    await s3.put_object(name, "dir/b", b"2")
    upload_id = await s3.backend.create_multipart_upload(name, "pending")
    with pytest.raises(BucketNotEmpty, match="--force") as info:
        await s3.delete_bucket(name)
    assert info.value.bucket == name
    await s3.delete_bucket(name, force=True)
    assert name not in [b.name for b in await s3.list_buckets()]
    assert upload_id


async def test_force_delete_removes_versions(s3, moto_server) -> None:
    name = f"t-{uuid.uuid4().hex[:12]}"
    await s3.create_bucket(name)
    enable = b"<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>"
    answer = s3_request(moto_server, "PUT", f"/{name}", query={"versioning": ""}, body=enable)
    assert answer.status == 200, answer.body  # a call s3flow does not make
    for n in range(3):
        await s3.put_object(name, "same-key", f"v{n}")
    await s3.delete_object(name, "same-key")  # leaves a delete marker
    await s3.delete_bucket(name, force=True)
    assert name not in [b.name for b in await s3.list_buckets()]


async def test_missing_bucket(s3) -> None:
    with pytest.raises(BucketNotFound, match="s3://no-such-bucket-x"):
        await s3.delete_bucket("no-such-bucket-x")
    with pytest.raises(BucketNotFound):
        [o async for o in s3.list_objects("no-such-bucket-x")]


async def test_closed_client(moto_server) -> None:
    import s3flow

    async with s3flow.connect(
        moto_server.endpoint_url, moto_server.access_key, moto_server.secret_key
    ) as s3:
        pass
    with pytest.raises(ClientClosed):
        await s3.list_buckets()
