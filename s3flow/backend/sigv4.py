"""A pure AWS Signature Version 4 header signer for S3 (stdlib only).

The payload is never hashed: every body s3flow sends carries an
``x-amz-checksum-crc32c`` (or ``Content-MD5``) the server verifies, so the
request says ``x-amz-content-sha256: UNSIGNED-PAYLOAD``, as botocore does with
``payload_signing_enabled=False``. :func:`s3flow.testing.servers.sign_v4` (the
test servers' readiness probe) signs with it too, so there is one signer.

>>> import datetime as dt
>>> h = sign("GET", "/b/k", [], {"host": "h"}, access_key="AK", secret_key="SK",
...          session_token=None, region="us-east-1",
...          now=dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
>>> h["authorization"].split(",")[0]
'AWS4-HMAC-SHA256 Credential=AK/20240101/us-east-1/s3/aws4_request'
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache
from typing import TYPE_CHECKING
from urllib.parse import quote

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Mapping

__all__ = ["UNSIGNED_PAYLOAD", "canonical_query", "quote_path", "sign", "signing_key"]

UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
_SERVICE = "s3"


def quote_path(path: str) -> str:
    """Percent-encode a path as S3 expects: every segment with safe ``-_.~``, ``/`` kept.

    >>> quote_path("/b/a b+c=%/é")
    '/b/a%20b%2Bc%3D%25/%C3%A9'
    """
    return quote(path, safe="/~")  # letters, digits and "_.-~" are always safe


def canonical_query(query: list[tuple[str, str]]) -> str:
    """The encoded, sorted query string; also what the URL should carry.

    >>> canonical_query([("uploadId", "a/b"), ("partNumber", "2")])
    'partNumber=2&uploadId=a%2Fb'
    """
    pairs = sorted((quote(k, safe="~"), quote(v, safe="~")) for k, v in query)
    return "&".join(f"{k}={v}" for k, v in pairs)


@lru_cache(maxsize=32)
def signing_key(secret_key: str, date: str, region: str) -> bytes:
    key = ("AWS4" + secret_key).encode()
    for piece in (date, region, _SERVICE, "aws4_request"):
        key = hmac.new(key, piece.encode(), hashlib.sha256).digest()
    return key


def sign(
    method: str,
    url_path_quoted: str,
    query: list[tuple[str, str]],
    headers: Mapping[str, str],
    *,
    access_key: str,
    secret_key: str,
    session_token: str | None,
    region: str,
    now: dt.datetime,
    payload_hash: str = UNSIGNED_PAYLOAD,
) -> dict[str, str]:
    """Return ``headers`` (names lowercased) plus the SigV4 headers; every header is signed.

    ``headers`` must hold ``host``. ``url_path_quoted`` is the path exactly as
    sent (see :func:`quote_path`); ``query`` holds raw, unencoded pairs.
    ``payload_hash`` is only for the AWS documentation vectors.
    """
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    # Values are sent exactly as given; only the canonical form trims and
    # collapses runs of whitespace (as botocore's signer does).
    out = {k.lower(): v for k, v in headers.items()}
    out["x-amz-date"] = stamp
    out["x-amz-content-sha256"] = payload_hash
    if session_token:
        out["x-amz-security-token"] = session_token
    names = sorted(out)
    signed_headers = ";".join(names)
    canonical = "\n".join(
        (
            method,
            url_path_quoted or "/",
            canonical_query(query),
            "".join(f"{n}:{' '.join(out[n].split())}\n" for n in names),
            signed_headers,
            payload_hash,
        )
    )
    scope = f"{stamp[:8]}/{region}/{_SERVICE}/aws4_request"
    to_sign = (
        f"AWS4-HMAC-SHA256\n{stamp}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    )
    key = signing_key(secret_key, stamp[:8], region)
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    out["authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, "
        f"SignedHeaders={signed_headers}, Signature={signature}"
    )
    return out
