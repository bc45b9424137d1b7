"""The stdlib SigV4 signer and S3Server's repr (no server, no event loop)."""

from __future__ import annotations

import datetime as dt
import pickle

import pytest

from s3flow.testing.servers import UNSIGNED_PAYLOAD, S3Server, sign_v4

# Examples from the AWS docs "Signature Calculations for the Authorization Header" (S3).
AK = "AKIAIOSFODNN7EXAMPLE"
SK = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
WHEN = dt.datetime(2013, 5, 24, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("url", "headers", "signed_headers", "signature"),
    [
        pytest.param(
            "https://examplebucket.s3.amazonaws.com/test.txt",
            {"Range": "bytes=0-9"},
            "host;range;x-amz-content-sha256;x-amz-date",
            "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
            id="get-object",
        ),
        pytest.param(
            "https://examplebucket.s3.amazonaws.com/?lifecycle",
            {},
            "host;x-amz-content-sha256;x-amz-date",
            "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543",
            id="get-bucket-lifecycle",
        ),
        pytest.param(
            "https://examplebucket.s3.amazonaws.com/?max-keys=2&prefix=J",
            {},
            "host;x-amz-content-sha256;x-amz-date",
            "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
            id="list-objects",
        ),
    ],
)
def test_sign_v4_matches_aws_documentation_vectors(
    url: str, headers: dict[str, str], signed_headers: str, signature: str
) -> None:
    signed = sign_v4(
        "GET", url, headers, access_key=AK, secret_key=SK, payload_hash=EMPTY_SHA256, now=WHEN
    )
    assert signed["authorization"] == (
        f"AWS4-HMAC-SHA256 Credential={AK}/20130524/us-east-1/s3/aws4_request, "
        f"SignedHeaders={signed_headers}, Signature={signature}"
    )
    assert signed["x-amz-date"] == "20130524T000000Z"
    assert signed["x-amz-content-sha256"] == EMPTY_SHA256
    assert signed["host"] == "examplebucket.s3.amazonaws.com"


def test_sign_v4_is_deterministic_and_depends_on_every_input() -> None:
    args = ("PUT", "http://127.0.0.1:8333/b/a%20b?partNumber=1&uploadId=x", {"X-Amz-Meta-A": "1"})
    base = sign_v4(*args, access_key=AK, secret_key=SK, now=WHEN)
    assert base == sign_v4(*args, access_key=AK, secret_key=SK, now=WHEN)
    assert base["x-amz-content-sha256"] == UNSIGNED_PAYLOAD
    assert "x-amz-meta-a" in base["authorization"]
    variants = [
        sign_v4(*args, access_key=AK, secret_key=SK + "x", now=WHEN),
        sign_v4(*args, access_key=AK, secret_key=SK, now=WHEN, region="eu-west-1"),
        sign_v4(*args, access_key=AK, secret_key=SK, now=WHEN + dt.timedelta(seconds=1)),
        sign_v4(*args, access_key=AK, secret_key=SK, now=WHEN, payload_hash=EMPTY_SHA256),
        sign_v4("GET", *args[1:], access_key=AK, secret_key=SK, now=WHEN),
    ]
    sigs = {v["authorization"].rsplit("=", 1)[1] for v in [base, *variants]}
    assert len(sigs) == 1 + len(variants)


def test_sign_v4_agrees_with_botocore() -> None:
    botocore_auth = pytest.importorskip("botocore.auth")
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    url = "http://127.0.0.1:8333/bucket/dir/a%20b%2Bc~%C3%A9?uploads=&prefix=a%20b"
    signer = botocore_auth.S3SigV4Auth(Credentials(AK, SK), "s3", "us-east-1")
    request = AWSRequest(method="POST", url=url, headers={"X-Amz-Meta-K": "v"})
    request.context["timestamp"] = "20130524T000000Z"
    request.headers["X-Amz-Date"] = "20130524T000000Z"
    request.headers["X-Amz-Content-SHA256"] = UNSIGNED_PAYLOAD
    string_to_sign = signer.string_to_sign(request, signer.canonical_request(request))
    expected = signer.signature(string_to_sign, request)
    ours = sign_v4("POST", url, {"X-Amz-Meta-K": "v"}, access_key=AK, secret_key=SK, now=WHEN)
    assert ours["authorization"].endswith(f"Signature={expected}")


def test_s3server_repr_hides_the_secret() -> None:
    server = S3Server("http://127.0.0.1:1", "AKIDEXAMPLE", "very-secret-value")
    for text in (repr(server), str(server), f"{server}", f"{server!r}"):
        assert "very-secret-value" not in text
        assert "AKIDEXAMPLE" not in text
        assert "AKID****" in text
        assert "'********'" in text
    assert pickle.loads(pickle.dumps(server)) == server
    with pytest.raises(AttributeError):
        server.secret_key = "x"  # type: ignore[misc]
