"""Presigned URLs: SigV4 query signing, pure computation (stdlib only).

Both backends presign here, so a URL is the same whichever path serves the
client, and presigning never needs botocore or a network call.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from typing import TYPE_CHECKING, Literal

from s3flow.backend.sigv4 import UNSIGNED_PAYLOAD, canonical_query, quote_path, signing_key
from s3flow.errors import ConfigError

if TYPE_CHECKING:
    from s3flow.backend.credentials import Credentials

__all__ = ["dns_compatible", "presign_url"]

_MAX_EXPIRY = 7 * 24 * 3600  # SigV4's limit
_DNS_BUCKET = re.compile(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]")  # no dots: TLS wildcards


def dns_compatible(bucket: str) -> bool:
    """Whether ``bucket`` can be a host-name label (virtual-hosted addressing).

    >>> dns_compatible("logs-2024"), dns_compatible("my.bucket"), dns_compatible("Up")
    (True, False, False)
    """
    return _DNS_BUCKET.fullmatch(bucket) is not None


def presign_url(
    base_url: str,
    credentials: Credentials,
    region: str,
    bucket: str,
    key: str,
    *,
    virtual_host: bool = False,
    method: Literal["GET", "PUT"] = "GET",
    expires_in: int = 3600,
    now: dt.datetime | None = None,
) -> str:
    """A URL that allows ``method`` on ``bucket/key`` for ``expires_in`` seconds.

    ``base_url`` is ``scheme://host[:port]``; with ``virtual_host`` the bucket
    goes in the host name (``BUCKET.host``) as botocore does for AWS.

    >>> from s3flow.backend.credentials import Credentials
    >>> url = presign_url("http://127.0.0.1:9000", Credentials("AK", "SK"), "us-east-1",
    ...                   "b", "a b", now=dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
    >>> url.split("?")[0], "X-Amz-Expires=3600" in url
    ('http://127.0.0.1:9000/b/a%20b', True)
    """
    if not 1 <= expires_in <= _MAX_EXPIRY:
        raise ConfigError(f"expires_in must be 1 to {_MAX_EXPIRY} seconds, got {expires_in}")
    scheme, _, host = base_url.rstrip("/").partition("://")
    if virtual_host:
        host, path = f"{bucket}.{host}", quote_path(f"/{key}")
    else:
        path = quote_path(f"/{bucket}/{key}")
    stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%dT%H%M%SZ")
    scope = f"{stamp[:8]}/{region}/s3/aws4_request"
    query = [
        ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
        ("X-Amz-Credential", f"{credentials.access_key}/{scope}"),
        ("X-Amz-Date", stamp),
        ("X-Amz-Expires", str(expires_in)),
        ("X-Amz-SignedHeaders", "host"),
    ]
    if credentials.session_token:
        query.append(("X-Amz-Security-Token", credentials.session_token))
    qs = canonical_query(query)
    canonical = f"{method}\n{path}\n{qs}\nhost:{host}\n\nhost\n{UNSIGNED_PAYLOAD}"
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    to_sign = f"AWS4-HMAC-SHA256\n{stamp}\n{scope}\n{digest}"
    key_bytes = signing_key(credentials.secret_key, stamp[:8], region)
    signature = hmac.new(key_bytes, to_sign.encode(), hashlib.sha256).hexdigest()
    return f"{scheme}://{host}{path}?{qs}&X-Amz-Signature={signature}"
