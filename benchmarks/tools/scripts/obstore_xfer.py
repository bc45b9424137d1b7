"""obstore put/get: one object, or a directory ↔ prefix with asyncio and a semaphore."""

from __future__ import annotations

import asyncio
import os
import sys
from typing import TYPE_CHECKING

import obstore
from _common import credentials, local_files, local_path, parse_args
from obstore.store import S3Store

if TYPE_CHECKING:
    from pathlib import Path

MiB = 1024 * 1024


def _store(a) -> S3Store:  # type: ignore[no-untyped-def]
    ak, sk = credentials()
    return S3Store(
        a.bucket,
        endpoint=a.endpoint,
        allow_http=True,
        region=a.region,
        access_key_id=ak,
        secret_access_key=sk,
        virtual_hosted_style_request=False,
    )


async def _upload(store: S3Store, path: Path, key: str, **knobs: int) -> None:
    """One PutObject or multipart upload; ``knobs``: chunk_size, max_concurrency (tuned)."""
    await obstore.put_async(store, key, path, **knobs)


async def _download(store: S3Store, key: str, path: Path) -> None:
    result = await obstore.get_async(store, key)
    with path.open("wb") as f:
        async for chunk in result.stream():
            f.write(chunk)


async def _download_ranged(store: S3Store, key: str, path: Path, part: int, n: int) -> None:
    """Tuned large download: ``part``-byte ranges, ``n`` in flight, written with pwrite."""
    size = (await obstore.head_async(store, key))["size"]
    sem = asyncio.Semaphore(n)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:

        async def one(start: int) -> None:
            async with sem:
                data = await obstore.get_range_async(
                    store, key, start=start, end=min(start + part, size)
                )
            os.pwrite(fd, memoryview(data), start)

        async with asyncio.TaskGroup() as tg:
            for start in range(0, size, part):
                tg.create_task(one(start))
    finally:
        os.close(fd)


async def main() -> None:
    a = parse_args()
    store = _store(a)
    if not a.many:
        if a.direction == "upload":
            knobs = {}
            if a.part_size_mib:
                knobs["chunk_size"] = a.part_size_mib * MiB
            if a.concurrency:
                knobs["max_concurrency"] = a.concurrency
            await _upload(store, a.local, a.key, **knobs)
        elif a.get_concurrency:
            part = (a.part_size_mib or 16) * MiB
            await _download_ranged(store, a.key, a.local, part, a.get_concurrency)
        else:
            await _download(store, a.key, a.local)
        return
    sem = asyncio.Semaphore(a.workers or 12)

    async def bounded(coro) -> None:  # type: ignore[no-untyped-def]
        async with sem:
            await coro

    if a.direction == "upload":
        coros = [_upload(store, p, k) for p, k in local_files(a.local, a.key)]
    else:
        keys = [m["path"] async for batch in obstore.list(store, a.key) for m in batch]
        coros = [_download(store, k, local_path(a.local, a.key, k)) for k in keys]
    async with asyncio.TaskGroup() as tg:
        for coro in coros:
            tg.create_task(bounded(coro))


if __name__ == "__main__":
    asyncio.run(main())
    # obstore 0.12 sometimes aborts (SIGABRT) while the interpreter tears down its Rust runtime
    # after many concurrent requests; the transfer is complete by then, so leave without teardown.
    sys.stdout.flush()
    os._exit(0)
