"""``s3flow head`` (alias ``stat``) and ``s3flow du``: what one object is, what a prefix holds."""

from __future__ import annotations

from typing import TYPE_CHECKING

from s3flow.cli.commands import open_client
from s3flow.cli.render import format_size

if TYPE_CHECKING:
    from s3flow.cli.commands import Options
    from s3flow.models import S3Location

__all__ = ["du", "head"]


async def head(options: Options, url: S3Location) -> None:
    """One object's attributes: size, ETag, type, metadata, storage class, …"""
    async with open_client(options) as s3:
        info = await s3.head_object(url.bucket, url.key)
    fields: dict[str, object] = {
        "key": info.key,
        "size": info.size,
        "etag": info.etag,
        "last_modified": info.last_modified,
        "content_type": info.content_type,
        "cache_control": info.cache_control,
        "content_encoding": info.content_encoding,
        "content_disposition": info.content_disposition,
        "expires": info.expires,
        "storage_class": info.storage_class or "STANDARD",
        "sse": info.sse,
        "sse_kms_key_id": info.sse_kms_key_id,
        "checksum": info.checksum,
        "parts": info.parts,
        "version_id": info.version_id,
        "metadata": dict(info.metadata),
    }
    out = options.out
    if out.as_json:
        out.record({"url": str(url), **fields})
        return
    out.data(f"{'url':<20} {url}")
    for name, value in fields.items():
        if name == "metadata":
            for meta, text in info.metadata:
                out.data(f"{'metadata.' + meta:<20} {text}")
        elif value is not None and name != "key":
            out.data(f"{name:<20} {value}")


async def du(options: Options, url: S3Location, human: bool) -> None:
    """Count and bytes of the objects under the prefix (all depths), like s5cmd du."""
    objects = size = 0
    async with open_client(options) as s3:
        async for obj in s3.list_objects(url.bucket, url.key):
            objects += 1
            size += obj.size
    out = options.out
    if out.as_json:
        out.record({"url": str(url), "objects": objects, "size": size})
    else:
        shown = format_size(size) if human else f"{size} bytes"
        out.data(f"{shown} in {objects} objects: {url}")
