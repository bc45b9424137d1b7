"""FastBackend over a raw server on 127.0.0.1: what it sends, and hostile answers (issue 12).

The raw harness of test_http11.py records each request byte for byte, so the signature
can be checked by botocore's own signer and oversized answers sent exactly.
"""

from __future__ import annotations

import base64
import hashlib

import pytest

from s3flow import RetryableError, ServiceError, SlowDown
from s3flow.backend.credentials import Credentials, StaticCredentials
from s3flow.backend.fast import FastBackend
from s3flow.backend.signed import SignedSession
from s3flow.models import Checksum, CompletedPart
from tests.api.test_http11 import Peer, Request, serving

SECRET = "raw-secret/key+="
COMPLETED = (
    b"<CompleteMultipartUploadResult><Bucket>b</Bucket><Key>k</Key>"
    b"<ETag>&quot;abc-2&quot;</ETag></CompleteMultipartUploadResult>"
)


async def _never_slow():  # every call here must stay on the fast path
    raise AssertionError("the slow backend was asked for")


def backend(client, port: int) -> FastBackend:
    endpoint = f"http://127.0.0.1:{port}"
    credentials = StaticCredentials(Credentials("AKRAW", SECRET))
    signed = SignedSession(client, credentials, endpoint, "us-east-1", True)
    return FastBackend(signed, _never_slow)


def botocore_signature(request: Request, port: int) -> str:
    """The signature botocore computes over the signed headers and the body as received."""
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials as BotoCredentials

    authorization = request.headers["authorization"]
    signed = authorization.split("SignedHeaders=")[1].split(",")[0].split(";")
    method, target, _ = request.line.split(" ")
    aws = AWSRequest(
        method=method,
        url=f"http://127.0.0.1:{port}{target}",
        headers={name: request.headers[name] for name in signed},
        data=request.body,
    )
    aws.context["timestamp"] = request.headers["x-amz-date"]
    signer = S3SigV4Auth(BotoCredentials("AKRAW", SECRET), "s3", "us-east-1")
    assert signer.payload(aws) == hashlib.sha256(request.body).hexdigest()
    return signer.signature(signer.string_to_sign(aws, signer.canonical_request(aws)), aws)


@pytest.mark.parametrize("if_none_match", [False, True])
async def test_complete_body_is_signed_and_carries_its_md5(if_none_match: bool) -> None:
    async def handler(peer: Peer) -> None:
        await peer.request()
        await peer.answer(COMPLETED)

    parts = [
        CompletedPart(1, "e1", Checksum("crc32c", "AAAAAA==")),
        CompletedPart(2, "e2", Checksum("crc32c", "AAAAAQ==")),
    ]
    async with serving(handler) as (server, client):
        fast = backend(client, server.port)
        info = await fast.complete_multipart_upload(
            "b", "k", "up/id", parts, if_none_match=if_none_match
        )
    assert info.etag == "abc-2"
    (request,) = server.requests
    body = request.body
    assert body.startswith(b"<CompleteMultipartUpload")
    assert request.headers["x-amz-content-sha256"] == hashlib.sha256(body).hexdigest()
    assert request.headers["content-md5"] == base64.b64encode(hashlib.md5(body).digest()).decode()
    signed = request.headers["authorization"].split("SignedHeaders=")[1].split(",")[0]
    assert {"content-md5", "x-amz-content-sha256"} <= set(signed.split(";"))
    assert ("if-none-match" in signed.split(";")) == if_none_match
    ours = request.headers["authorization"].rpartition("Signature=")[2]
    assert ours == botocore_signature(request, server.port)


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 9000000000\r\n\r\n<ListBucketResult>",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        + b"100000\r\n"
        + b"<" * 0x100000
        + b"\r\n"  # 1 MiB chunks, 12 of them: over 8 MiB
        + (b"100000\r\n" + b" " * 0x100000 + b"\r\n") * 11
        + b"0\r\n\r\n",
    ],
    ids=["claimed", "chunked"],
)
async def test_an_oversized_listing_is_a_clear_error_not_a_retry(answer: bytes) -> None:
    async def handler(peer: Peer) -> None:
        await peer.request()
        await peer.send(answer)
        await peer.until_client_leaves()

    async with serving(handler) as (server, client):
        with pytest.raises(ServiceError, match="over the 8388608 allowed") as caught:
            await backend(client, server.port).list_page("b")
    assert not isinstance(caught.value, RetryableError)
    assert "\n" not in str(caught.value) and SECRET not in str(caught.value)


async def test_an_oversized_error_answer_still_tells_its_status() -> None:
    async def handler(peer: Peer) -> None:
        await peer.request()
        await peer.send(b"HTTP/1.1 503 Slow Down\r\nContent-Length: 9000000000\r\n\r\n<Error>")
        await peer.until_client_leaves()

    async with serving(handler) as (server, client):
        with pytest.raises(SlowDown, match="Slow Down"):
            await backend(client, server.port).head_object("b", "k")
