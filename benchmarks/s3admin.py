"""Signed housekeeping requests (create bucket, list, delete a prefix) with s3flow's stdlib signer.

None of this is timed; it keeps every run starting from the same empty prefix.
"""

from __future__ import annotations

import base64
import hashlib
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from s3flow.testing.servers import s3_request

if TYPE_CHECKING:
    from s3flow.testing.servers import S3Server

_NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


class AdminError(RuntimeError):
    pass


def create_bucket(server: S3Server, bucket: str) -> None:
    resp = s3_request(server, "PUT", f"/{bucket}")
    if resp.status not in (200, 409):
        raise AdminError(f"create bucket {bucket}: HTTP {resp.status} {resp.body[:200]!r}")


def list_sizes(server: S3Server, bucket: str, prefix: str) -> dict[str, int]:
    """Every key under ``prefix`` with its size (ListObjectsV2, all pages)."""
    out: dict[str, int] = {}
    token = ""
    while True:
        query = {"list-type": "2", "prefix": prefix, "max-keys": "1000"}
        if token:
            query["continuation-token"] = token
        resp = s3_request(server, "GET", f"/{bucket}", query=query, timeout=60)
        if resp.status != 200:
            raise AdminError(f"list {bucket}/{prefix}: HTTP {resp.status}")
        root = ET.fromstring(resp.body)
        for item in root.iter(f"{_NS}Contents"):
            out[item.findtext(f"{_NS}Key") or ""] = int(item.findtext(f"{_NS}Size") or 0)
        token = root.findtext(f"{_NS}NextContinuationToken") or ""
        if not token:
            return out


def delete_prefix(server: S3Server, bucket: str, prefix: str) -> int:
    """Delete every object under ``prefix`` in batches of 1,000; return how many."""
    keys = sorted(list_sizes(server, bucket, prefix))
    for i in range(0, len(keys), 1000):
        objects = "".join(f"<Object><Key>{escape(k)}</Key></Object>" for k in keys[i : i + 1000])
        body = f"<Delete><Quiet>true</Quiet>{objects}</Delete>".encode()
        md5 = base64.b64encode(hashlib.md5(body).digest()).decode()  # DeleteObjects requires it
        resp = s3_request(
            server,
            "POST",
            f"/{bucket}",
            query={"delete": ""},
            body=body,
            headers={"content-md5": md5, "content-type": "application/xml"},
            timeout=120,
        )
        if resp.status != 200 or b"<Error>" in resp.body:
            raise AdminError(f"delete {bucket}/{prefix}: HTTP {resp.status} {resp.body[:300]!r}")
    return len(keys)
