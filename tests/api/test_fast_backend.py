"""The fast path (backend/fast.py) against moto, both ways, plus its wire rules without a server.

Every scenario runs with ``fast_path=True`` and ``fast_path=False`` and must behave the
same. A fake aiohttp server covers what moto cannot produce (region redirects, a 200
carrying ``<Error>``).
"""

from __future__ import annotations

import hashlib
import logging
import socket

import pytest
from aiohttp import web

import s3flow
from s3flow import (
    AccessDenied,
    BucketNotFound,
    ConfigError,
    CredentialsError,
    ObjectExists,
    ObjectNotFound,
    PreconditionFailed,
    RetryableError,
    SlowDown,
)
from s3flow.backend import wire
from s3flow.backend.aws import AioBotocoreBackend
from s3flow.backend.credentials import Credentials, StaticCredentials
from s3flow.backend.fast import FastBackend
from s3flow.backend.protocol import STREAM_BATCH
from s3flow.backend.signed import SignedSession
from s3flow.config import MiB, RetryPolicy, TransferConfig
from s3flow.models import CompletedPart, ObjectOptions
from tests.helpers import read_range

CONFIG = TransferConfig(
    part_size=5 * MiB,
    multipart_threshold=5 * MiB,
    max_concurrency=4,
    retry=RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05),
)
KEYS = ["dir/with space.txt", "plus+and=eq", "100%/pct%2F", "ünï/日本語.bin", "a~b!*'()", "x//y"]


def connect_moto(moto_server, *, fast_path: bool = True):
    return s3flow.connect(
        endpoint_url=moto_server.endpoint_url,
        access_key=moto_server.access_key,
        secret_key=moto_server.secret_key,
        config=CONFIG,
        fast_path=fast_path,
    )


@pytest.fixture(params=[True, False], ids=["fast", "botocore"])
async def s3(request, moto_server):
    async with connect_moto(moto_server, fast_path=request.param) as client:
        yield client


def test_backend_kind_follows_the_flag(s3, request) -> None:
    fast = request.node.callspec.params["s3"]
    assert isinstance(s3.backend, FastBackend if fast else AioBotocoreBackend)


@pytest.mark.parametrize("size", [0, 1, 5 * MiB, 5 * MiB + 1, 23 * MiB])
async def test_round_trip(s3, bucket, tmp_path, payload, size) -> None:
    data = payload(size, seed=size)
    (tmp_path / "src").write_bytes(data)
    up = await s3.upload_file(tmp_path / "src", bucket, "obj")
    await s3.download_file(bucket, "obj", tmp_path / "dst")
    assert (tmp_path / "dst").read_bytes() == data
    assert up.size == size
    assert (await s3.head_object(bucket, "obj")).size == size
    assert [u async for u in s3.list_uploads(bucket)] == []


def sent_by_botocore(caplog) -> list[str]:
    """The operations botocore sent so far in this test (it logs each one at DEBUG)."""
    made = (r.getMessage() for r in caplog.records if r.name == "botocore.endpoint")
    return [m.split("name=")[1].split(")")[0] for m in made if m.startswith("Making request")]


async def test_hot_calls_do_not_touch_botocore(
    moto_server, bucket, tmp_path, payload, caplog
) -> None:
    """Keys and endpoint given: botocore sends only the calls the fast path does not make."""
    import aiohttp

    caplog.set_level(logging.DEBUG, logger="botocore.endpoint")
    async with connect_moto(moto_server) as s3:
        data = payload(11 * MiB)
        (tmp_path / "src").write_bytes(data)
        await s3.upload_file(tmp_path / "src", bucket, "big")
        await s3.download_file(bucket, "big", tmp_path / "dst")
        assert (tmp_path / "dst").read_bytes() == data
        await s3.put_object(bucket, "small", b"hello")
        assert await s3.get_object(bucket, "small") == b"hello"
        assert [o.key async for o in s3.list_objects(bucket)] == ["big", "small"]
        url = s3.presign(bucket, "small", expires_in=30)
        assert bucket in [b.name for b in await s3.list_buckets()]
        assert sent_by_botocore(caplog) == []
        async with aiohttp.ClientSession() as http, http.get(url) as response:
            assert await response.read() == b"hello"
        await s3.delete_object(bucket, "small")
        assert sent_by_botocore(caplog) == ["DeleteObject"]


async def test_list_buckets_answers_as_botocore_does(moto_server, bucket, caplog) -> None:
    """ListBuckets on the fast path: the same names and creation times as through botocore."""
    caplog.set_level(logging.DEBUG, logger="botocore.endpoint")
    listed = []
    for fast in (True, False):
        caplog.clear()
        async with connect_moto(moto_server, fast_path=fast) as s3:
            listed.append(sorted((b.name, b.created) for b in await s3.list_buckets()))
            assert isinstance(s3.backend, FastBackend) == fast
        assert sent_by_botocore(caplog) == ([] if fast else ["ListBuckets"])
    assert listed[0] == listed[1] and bucket in [name for name, _ in listed[0]]
    assert all(created is not None and created.tzinfo is not None for _, created in listed[0])


async def test_transfers_never_import_botocore(moto_server, bucket, tmp_path) -> None:
    """With keys and an endpoint, a process that moves data never imports botocore (~0.3 s).

    Nor aiohttp (~80 ms): the fast path has its own HTTP/1.1 client.
    """
    import sys

    import anyio

    script = """
import asyncio, sys, s3flow
async def main(url, key, secret, bucket, path):
    async with s3flow.connect(endpoint_url=url, access_key=key, secret_key=secret) as s3:
        await s3.upload_file(path, bucket, "k")
        assert [o.key async for o in s3.list_objects(bucket)] == ["k"]
        await s3.download_file(bucket, "k", path + ".out")
    assert not [m for m in sys.modules if "botocore" in m or "aiohttp" in m]
asyncio.run(main(*sys.argv[1:]))
"""
    (tmp_path / "f").write_bytes(b"x" * 100)
    s3 = moto_server
    args = [s3.endpoint_url, s3.access_key, s3.secret_key, bucket, str(tmp_path / "f")]
    with anyio.fail_after(60):
        await anyio.run_process([sys.executable, "-c", script, *args], stdout=None, stderr=None)
    assert (tmp_path / "f.out").read_bytes() == b"x" * 100


@pytest.mark.parametrize("key", KEYS)
async def test_awkward_keys(s3, bucket, key) -> None:
    body = key.encode() * 3
    await s3.put_object(bucket, key, body)
    assert await s3.get_object(bucket, key) == body
    assert (await s3.head_object(bucket, key)).size == len(body)
    assert [o.key async for o in s3.list_objects(bucket)] == [key]


async def test_multipart_with_awkward_key(s3, bucket, tmp_path, payload) -> None:
    key = "sub dir/ü+=%/big.bin"
    data = payload(5 * MiB + 1, seed=3)
    (tmp_path / "src").write_bytes(data)
    await s3.upload_file(tmp_path / "src", bucket, key)
    assert await s3.get_object(bucket, key) == data


async def test_missing_key_and_bucket(s3, bucket) -> None:
    with pytest.raises(ObjectNotFound, match=f"s3://{bucket}/nope") as info:
        await s3.head_object(bucket, "nope")
    assert "\n" not in str(info.value)
    with pytest.raises(ObjectNotFound):
        await s3.backend.get_object(bucket, "nope")
    with pytest.raises(BucketNotFound):
        await s3.backend.get_object("no-such-bucket-x", "k")
    with pytest.raises(BucketNotFound):
        await s3.backend.put_object("no-such-bucket-x", "k", b"x")


async def test_no_clobber(s3, bucket, tmp_path, payload) -> None:
    await s3.put_object(bucket, "k", b"first")
    with pytest.raises(ObjectExists, match="no-clobber"):
        await s3.put_object(bucket, "k", b"second", no_clobber=True)
    (tmp_path / "big").write_bytes(payload(6 * MiB))
    with pytest.raises(ObjectExists):
        await s3.upload_file(tmp_path / "big", bucket, "k", no_clobber=True)
    assert await s3.get_object(bucket, "k") == b"first"


async def test_stream_range_batches_and_if_match(s3, bucket, payload) -> None:
    data = payload(3 * MiB, seed=5)
    info = await s3.backend.put_object(bucket, "k", data)
    got, batches = await read_range(
        s3.backend, bucket, "k", start=10, end=3 * MiB, if_match=info.etag
    )
    assert got == data[10:]
    assert len(batches) >= 2 and all(b >= STREAM_BATCH for b in batches[:-1])
    with pytest.raises(PreconditionFailed):
        await read_range(s3.backend, bucket, "k", start=0, end=10, if_match="0" * 32)
    assert await s3.backend.get_object(bucket, "k", start=5, end=9) == data[5:9]


async def test_options_and_metadata(s3, bucket) -> None:
    options = ObjectOptions(
        content_type="text/plain", storage_class="STANDARD", metadata=(("owner", "ada"),)
    )
    await s3.put_object(bucket, "k", "hello", options=options)
    info = await s3.head_object(bucket, "k")
    assert dict(info.metadata)["owner"] == "ada"
    assert info.etag == hashlib.md5(b"hello").hexdigest()
    assert info.last_modified is not None


async def test_abort_then_upload_is_gone(s3, bucket) -> None:
    upload_id = await s3.backend.create_multipart_upload(bucket, "k", checksum_algorithm="crc32c")
    await s3.backend.upload_part(bucket, "k", upload_id, 1, bytearray(b"x" * 100))
    assert [u.upload_id async for u in s3.list_uploads(bucket)] == [upload_id]
    await s3.backend.abort_multipart_upload(bucket, "k", upload_id)
    assert [u async for u in s3.list_uploads(bucket)] == []  # (moto answers a late part with 500)


@pytest.mark.parametrize("fast_path", [True, False])
async def test_network_failure_is_retryable(fast_path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    async with s3flow.connect(
        endpoint_url=f"http://127.0.0.1:{port}",
        access_key="AKIDEXAMPLE",
        secret_key="very-secret-key",
        fast_path=fast_path,
    ) as s3:
        with pytest.raises(RetryableError) as info:
            await s3.backend.put_object("b", "k", b"x")
    assert "\n" not in str(info.value)
    assert "very-secret-key" not in str(info.value)


# The wire rules, without a server.


@pytest.mark.parametrize(
    ("status", "body", "cls"),
    [
        (404, b"", ObjectNotFound),
        (403, b"", AccessDenied),
        (412, b"", PreconditionFailed),
        (503, b"", SlowDown),
        (500, b"", RetryableError),
        (404, b"<Error><Code>NoSuchBucket</Code><Message>m</Message></Error>", BucketNotFound),
        (403, b"<Error><Code>SignatureDoesNotMatch</Code></Error>", CredentialsError),
        (403, b"<Error><Code>InvalidAccessKeyId</Code></Error>", CredentialsError),
        (500, b"<html>not xml", RetryableError),
    ],
)
def test_error_for_response(status, body, cls) -> None:
    error = wire.error_for_response(status, "Reason", body, "b", "k")
    assert type(error) is cls
    assert str(error).startswith("s3://b/k: ")
    assert "\n" not in str(error)


def test_200_with_error_body_is_an_error() -> None:
    body = b'<?xml version="1.0"?><Error><Code>InternalError</Code><Message>x</Message></Error>'
    with pytest.raises(RetryableError):
        wire.result_fields(body, 200, "b", "k")
    with pytest.raises(RetryableError, match="malformed"):
        wire.result_fields(b"<Complete", 200, "b", "k")
    ok = b'<R xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><ETag>"e-2"</ETag></R>'
    assert wire.result_fields(ok, 200, "b", "k") == {"ETag": '"e-2"'}


def test_complete_body_escapes_and_carries_checksums() -> None:
    from s3flow.models import Checksum

    body = wire.complete_body(
        [CompletedPart(1, "a&b", Checksum("crc32c", "AAA=")), CompletedPart(2, "c")]
    )
    assert b"<ETag>&quot;a&amp;b&quot;</ETag><ChecksumCRC32C>AAA=</ChecksumCRC32C>" in body
    assert b"<PartNumber>2</PartNumber><ETag>&quot;c&quot;</ETag></Part>" in body


# What moto cannot answer: a fake S3 and a fake slow backend.


class FakeSlow:
    supports_conditional_writes = True

    def __init__(self) -> None:
        self.calls: list[str] = []

    async def head_object(self, bucket, key, *, part_number=None):
        self.calls.append(f"head {bucket}")
        return "slow"

    async def put_object(self, bucket, key, body, **kwargs):
        self.calls.append(f"put {bucket}")
        return "slow"


@pytest.fixture
async def fake_s3():
    hits: list[str] = []

    async def handle(request: web.Request) -> web.Response:
        hits.append(f"{request.method} {request.path_qs}")
        if request.path.startswith("/elsewhere/"):
            return web.Response(status=301, headers={"x-amz-bucket-region": "eu-west-1"})
        if "uploadId" in request.query and request.method == "POST":
            return web.Response(
                body=b"<Error><Code>InternalError</Code><Message>later</Message></Error>"
            )
        return web.Response(status=200, headers={"ETag": '"abc"'})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}", hits
    await runner.cleanup()


async def test_fallbacks_and_200_errors(fake_s3) -> None:
    from s3flow.backend.http11 import HttpClient

    endpoint, hits = fake_s3
    slow = FakeSlow()
    async with HttpClient(limit=4, connect_timeout=5, read_timeout=5) as session:

        async def opened() -> FakeSlow:
            return slow

        signed = SignedSession(
            session, StaticCredentials(Credentials("a", "s3cr3t")), endpoint, "us-east-1", True
        )
        fast = FastBackend(signed, opened)  # type: ignore[arg-type]
        # A region redirect sends this call, and every later one for the bucket, to botocore.
        assert await fast.head_object("elsewhere", "k") == "slow"
        assert await fast.head_object("elsewhere", "k") == "slow"
        assert len(hits) == 1
        # Non-ASCII metadata goes to botocore for this call only.
        assert (
            await fast.put_object("b", "k", b"x", options=ObjectOptions(metadata=(("m", "é"),)))
            == "slow"
        )
        # A metadata name that is not an HTTP token never gets this far (ObjectOptions checks).
        with pytest.raises(ConfigError, match="metadata name"):
            ObjectOptions(metadata={"a b": "v"})
        assert (await fast.put_object("b", "k", b"x")).etag == "abc"
        assert slow.calls == ["head elsewhere", "head elsewhere", "put b"]
        # CompleteMultipartUpload answering 200 with <Error> is an error.
        with pytest.raises(RetryableError, match="later") as info:
            await fast.complete_multipart_upload("b", "k", "id", [CompletedPart(1, "e")])
        assert "s3cr3t" not in str(info.value)
        assert hits[-1] == "POST /b/k?uploadId=id"
        assert fast.supports_conditional_writes
