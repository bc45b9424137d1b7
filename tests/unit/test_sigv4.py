"""The fast path's SigV4 signer: AWS documentation vectors and agreement with botocore."""

from __future__ import annotations

import datetime as dt

import pytest

from s3flow.backend.sigv4 import canonical_query, quote_path, sign

# https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
DOC = {
    "access_key": "AKIAIOSFODNN7EXAMPLE",
    "secret_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "session_token": None,
    "region": "us-east-1",
    "now": dt.datetime(2013, 5, 24, tzinfo=dt.UTC),
}
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
HOST = {"host": "examplebucket.s3.amazonaws.com"}


def signature(headers: dict[str, str]) -> str:
    return headers["authorization"].rpartition("Signature=")[2]


def test_doc_get_object_with_range() -> None:
    h = sign(
        "GET", "/test.txt", [], {**HOST, "Range": "bytes=0-9"}, **DOC, payload_hash=EMPTY_SHA256
    )
    assert h["authorization"] == (
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
    )
    assert h["x-amz-date"] == "20130524T000000Z"


def test_doc_put_object_with_encoded_key() -> None:
    headers = {
        **HOST,
        "Date": "Fri, 24 May 2013 00:00:00 GMT",
        "x-amz-storage-class": "REDUCED_REDUNDANCY",
    }
    payload = "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"
    path = quote_path("/test$file.text")
    assert path == "/test%24file.text"
    h = sign("PUT", path, [], headers, **DOC, payload_hash=payload)
    assert signature(h) == "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ([("lifecycle", "")], "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"),
        (
            [("prefix", "J"), ("max-keys", "2")],
            "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
        ),
    ],
)
def test_doc_bucket_queries(query, expected) -> None:
    assert signature(sign("GET", "/", query, HOST, **DOC, payload_hash=EMPTY_SHA256)) == expected


def test_unsigned_payload_and_session_token() -> None:
    h = sign("PUT", "/b/k", [], {"host": "h"}, **{**DOC, "session_token": "tok"})
    assert h["x-amz-content-sha256"] == "UNSIGNED-PAYLOAD"
    assert h["x-amz-security-token"] == "tok"
    assert "x-amz-security-token" in h["authorization"]
    assert DOC["secret_key"] not in str(h)


def test_canonical_query_sorts_by_name_then_value() -> None:
    assert canonical_query([("a-b", "1"), ("a", "2"), ("a", "1")]) == "a=1&a=2&a-b=1"
    assert canonical_query([("uploadId", "x/y+z=")]) == "uploadId=x%2Fy%2Bz%3D"


KEYS = ["plain.txt", "with space/and+plus=eq%pct", "ünïcødé/日本.bin", "a~b_c-d.e", "x//y", "!*'()"]


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize(
    "query", [[], [("partNumber", "3"), ("uploadId", "2~Ab/c+d=")], [("uploads", "")]]
)
def test_agrees_with_botocore(monkeypatch, key, query) -> None:
    import botocore.auth
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.config import Config
    from botocore.credentials import Credentials

    now = dt.datetime(2024, 2, 29, 23, 59, 58)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: now)
    path = quote_path(f"/bucket/{key}")
    qs = canonical_query(query)
    url = f"https://s3.eu-west-1.amazonaws.com{path}" + (f"?{qs}" if qs else "")
    extra = {"Range": "bytes=0-99", "If-Match": '"abc"', "x-amz-checksum-crc32c": "AAAAAA=="}
    request = AWSRequest(method="PUT", url=url, headers=dict(extra))
    request.context["client_config"] = Config(s3={"payload_signing_enabled": False})
    S3SigV4Auth(Credentials("AK", "SK/secret", "token"), "s3", "eu-west-1").add_auth(request)

    ours = sign(
        "PUT",
        path,
        query,
        {"host": "s3.eu-west-1.amazonaws.com", **extra},
        access_key="AK",
        secret_key="SK/secret",
        session_token="token",
        region="eu-west-1",
        now=now.replace(tzinfo=dt.UTC),
    )
    assert request.headers["X-Amz-Content-SHA256"] == "UNSIGNED-PAYLOAD"
    assert ours["authorization"] == request.headers["Authorization"]
