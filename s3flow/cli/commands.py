"""The verbs' async bodies (all but cp, which lives in ``copying``): one client call each.

Every function takes the global :class:`Options` first and raises only
``S3FlowError`` on failure; ``main._run`` turns that into one line and an exit code.
"""

from __future__ import annotations

import copy
import sys
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import anyio

from s3flow.bulk.filters import Filters, Wildcard
from s3flow.cli.render import format_size
from s3flow.client import connect
from s3flow.errors import ObjectNotFound, S3FlowError, ServiceError
from s3flow.models import S3Location

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from datetime import datetime

    from s3flow.cli.render import Reporter
    from s3flow.client import S3Client
    from s3flow.config import SseCustomerKey, TransferConfig
    from s3flow.models import DeleteResult, ObjectInfo

__all__ = [
    "Options",
    "RawLocation",
    "acl_get",
    "acl_set",
    "cat",
    "is_pattern",
    "ls",
    "mb",
    "open_client",
    "presign",
    "rb",
    "rm",
]


class RawLocation(S3Location):
    """An s3:// URL given with ``--raw`` (s5cmd): ``*`` and ``?`` are part of the key."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, S3Location):
            return NotImplemented
        return (self.bucket, self.key) == (other.bucket, other.key)

    def __hash__(self) -> int:
        return hash((self.bucket, self.key))


def is_pattern(url: S3Location) -> bool:
    """Whether ``url``'s key is a wildcard pattern (not with --raw)."""
    return not isinstance(url, RawLocation) and Wildcard.has(url.key)


@dataclass(frozen=True, slots=True, kw_only=True)
class Options:
    """The global options, resolved once by the group and shared by every verb."""

    endpoint_url: str | None
    profile: str | None
    region: str | None
    verify_tls: bool
    ca_bundle: str | None = None
    config: TransferConfig
    out: Reporter
    sse_c: SseCustomerKey | None = None  # --sse-c-key: with every object read and write
    sse_c_source: SseCustomerKey | None = None  # --sse-c-copy-source-key


# ``s3flow run``: every line's verb uses the batch's one client (its pools, its credentials).
shared_client: ContextVar[S3Client | None] = ContextVar("s3flow_shared_client", default=None)


@asynccontextmanager
async def open_client(options: Options) -> AsyncIterator[S3Client]:
    """``connect()`` with the global options (the endpoint falls back to the environment)."""
    shared = shared_client.get()
    if shared is not None and options.sse_c is None and options.sse_c_source is None:
        yield shared
        return
    async with connect(
        endpoint_url=options.endpoint_url,
        region=options.region,
        profile=options.profile,
        config=options.config,
        verify_tls=options.verify_tls,
        ca_bundle=options.ca_bundle,
        sse_customer_key=options.sse_c,
        copy_source_sse_customer_key=options.sse_c_source,
    ) as s3:
        yield s3


def _date(when: datetime | None) -> str:
    return when.strftime("%Y-%m-%d %H:%M:%S") if when else " " * 19


async def ls(
    options: Options,
    url: S3Location | None,
    recursive: bool,
    human: bool = False,
    summarize: bool = False,
) -> None:
    """Buckets (no URL), or one level of a prefix like ``aws s3 ls`` (all keys with recursive)."""
    out = options.out
    async with open_client(options) as s3:
        if url is None:
            await _ls_buckets(s3, out)
            return
        total = await _ls_objects(s3, out, url, recursive, human)
    if summarize:
        _print_total(out, total, human)


async def _ls_buckets(s3: S3Client, out: Reporter) -> None:
    for bucket in await s3.list_buckets():
        if out.as_json:
            out.record({"bucket": bucket.name, "created": bucket.created})
        else:
            out.data(f"{_date(bucket.created)} {bucket.name}")


async def _ls_objects(
    s3: S3Client, out: Reporter, url: S3Location, recursive: bool, human: bool
) -> _Total:
    total = _Total()
    if is_pattern(url):  # like s5cmd: every matching key, at any depth
        async for obj in _matching(s3, url):
            total.add(obj)
            _print_object(out, obj, obj.key, human)
        if not total.objects:
            raise ObjectNotFound("no object matches the wildcard", bucket=url.bucket, key=url.key)
        return total
    # Like aws s3 ls: names are shown relative to the last "/" of the prefix.
    base = "" if recursive else url.key[: url.key.rfind("/") + 1]
    delimiter = None if recursive else "/"
    async for obj in s3.list_objects(url.bucket, url.key, delimiter):
        total.add(obj)
        _print_object(out, obj, obj.key[len(base) :], human)
    return total


def _print_total(out: Reporter, total: _Total, human: bool) -> None:
    if out.as_json:
        out.record({"total_objects": total.objects, "total_size": total.size})
    else:
        size = format_size(total.size) if human else f"{total.size} Bytes"
        out.data("")
        out.data(f"Total Objects: {total.objects}")
        out.data(f"   Total Size: {size}")


@dataclass(slots=True)
class _Total:
    objects: int = 0
    size: int = 0

    def add(self, obj: ObjectInfo) -> None:
        if not obj.is_prefix:
            self.objects += 1
            self.size += obj.size


async def _matching(s3: S3Client, url: S3Location) -> AsyncIterator[ObjectInfo]:
    """The objects whose whole key matches the wildcard ``url.key``."""
    pattern = Wildcard.parse(url.key)
    async for obj in s3.list_objects(url.bucket, pattern.base):
        if pattern.matches(obj.key):
            yield obj


def _print_object(out: Reporter, obj: ObjectInfo, name: str, human: bool = False) -> None:
    if out.as_json:
        out.record(
            {
                "key": obj.key,
                "size": obj.size,
                "last_modified": obj.last_modified,
                "etag": obj.etag,
                "prefix": obj.is_prefix,
            }
        )
    elif obj.is_prefix:
        out.data(f"{'PRE':>30} {name}")
    else:
        size = format_size(obj.size) if human else str(obj.size)
        out.data(f"{_date(obj.last_modified)} {size:>10} {name}")


async def mb(options: Options, url: S3Location) -> None:
    """Create the bucket (in --region, if given)."""
    async with open_client(options) as s3:
        await s3.create_bucket(url.bucket)
    options.out.event("make_bucket", url.bucket, bucket=url.bucket)


async def rb(options: Options, url: S3Location, force: bool) -> None:
    """Delete the bucket; with ``force`` empty it first (objects, versions, pending uploads)."""
    async with open_client(options) as s3:
        await s3.delete_bucket(url.bucket, force=force)
    options.out.event("remove_bucket", url.bucket, bucket=url.bucket)


async def rm(
    options: Options,
    url: S3Location,
    recursive: bool,
    rules: Filters | None = None,
    dry_run: bool = False,
) -> None:
    """Delete one key, or every key under the prefix in batches of 1,000."""
    out = options.out
    async with open_client(options) as s3:
        if not recursive and not is_pattern(url):
            await s3.delete_object(url.bucket, url.key)
            out.event("delete", str(url), source=str(url), bucket=url.bucket, key=url.key)
            return
        keys = await _keys_to_delete(s3, url, rules)
        if dry_run:
            for key in keys:
                out.event("(dryrun) delete", f"s3://{url.bucket}/{key}", bucket=url.bucket, key=key)
            return
        result = await s3.delete_objects(url.bucket, keys)
    _report_deletes(out, url, result)
    if result.failed:
        raise ServiceError(
            f"{len(result.failed)} of {len(keys)} keys could not be deleted",
            bucket=url.bucket,
            key=url.key or None,
        )


def _report_deletes(out: Reporter, url: S3Location, result: DeleteResult) -> None:
    """One line per key (failures on stderr, with the server's reason); under --json a
    summary object last, as the bulk verbs end."""
    for key in result.deleted:
        shown = f"s3://{url.bucket}/{key}"
        out.event("delete", shown, source=shown, bucket=url.bucket, key=key)
    for failure in result.failed:
        shown = f"s3://{url.bucket}/{failure.key}"
        why = f"{failure.code} {failure.message}"
        record = {"operation": "delete", "source": shown, "error": why}
        out.failure(record | {"bucket": url.bucket, "key": failure.key}, f"failed: {shown}: {why}")
    if out.as_json:
        summary = {"operation": "summary", "deleted": len(result.deleted)}
        out.outcome(summary | {"failed": len(result.failed)}, "")


async def _keys_to_delete(s3: S3Client, url: S3Location, rules: Filters | None) -> list[str]:
    """The keys a recursive or wildcard rm deletes, filtered relative to the listed root."""
    if is_pattern(url):
        base, keys = await _matching_keys(s3, url)
    else:
        # s3://b/tmp means the "directory" tmp/, as in sync and cp -r: never tmp.log.
        base = url.key if not url.key or url.key.endswith("/") else url.key + "/"
        keys = [obj.key async for obj in s3.list_objects(url.bucket, base)]
    if rules:  # relative to the listed directory, as cp -r and sync match them
        keys = [key for key in keys if rules.allows(key[len(base) :])]
    return keys


async def _matching_keys(s3: S3Client, url: S3Location) -> tuple[str, list[str]]:
    """The wildcard's base prefix and the keys matching it; none is an error."""
    keys = [obj.key async for obj in _matching(s3, url)]
    if not keys:
        raise ObjectNotFound("no object matches the wildcard", bucket=url.bucket, key=url.key)
    return Wildcard.parse(url.key).base, keys


async def cat(options: Options, url: S3Location) -> None:
    """Stream the object to stdout in order, fetching ranges ahead concurrently."""
    async with open_client(options) as s3:
        await write_stdout(s3.iter_object(url.bucket, url.key))


async def write_stdout(chunks: AsyncIterator[bytes]) -> None:
    """Write chunks to the binary stdout without blocking the event loop.

    A failure after some bytes went out says so: stdout cannot be taken back,
    so whoever reads it must be told that what they got is incomplete or invalid.
    """
    stdout = sys.stdout.buffer
    written = 0
    try:
        async for chunk in chunks:
            await anyio.to_thread.run_sync(stdout.write, chunk)
            written += len(chunk)
        await anyio.to_thread.run_sync(stdout.flush)
    except S3FlowError as exc:
        if not written:
            raise
        error = copy.copy(exc)  # same class and fields, one more clause
        error.args = (
            f"{exc.message}; {written} bytes were already written to stdout: "
            "that output is incomplete or invalid, do not use it",
        )
        raise error from None


async def presign(options: Options, url: S3Location, expires_in: int, method: str) -> None:
    """Print a URL allowing ``method`` on the key for ``expires_in`` seconds."""
    verb: Literal["GET", "PUT"] = "PUT" if method == "PUT" else "GET"
    async with open_client(options) as s3:
        signed = s3.presign(url.bucket, url.key, expires_in=expires_in, method=verb)
    if options.out.as_json:
        options.out.record({"url": signed, "method": verb, "expires_in": expires_in})
    else:
        options.out.data(signed)


async def acl_set(options: Options, url: S3Location, acl: str) -> None:
    """Apply a canned ACL to the object, or to the bucket when the URL has no key."""
    async with open_client(options) as s3:
        await s3.set_acl(url.bucket, url.key or None, acl)
    options.out.event("set_acl", f"{url} {acl}", bucket=url.bucket, key=url.key or None, acl=acl)


async def acl_get(options: Options, url: S3Location) -> None:
    """Print one ``PERMISSION grantee`` line per grant."""
    async with open_client(options) as s3:
        grants = await s3.get_acl(url.bucket, url.key or None)
    for grantee, permission in grants:
        if options.out.as_json:
            options.out.record({"grantee": grantee, "permission": permission})
        else:
            options.out.data(f"{permission:<12} {grantee}")
