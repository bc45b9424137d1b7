"""Upload from an async byte stream of unknown length (e.g. stdin).

Parts grow as the stream goes on (:func:`s3flow.plan.stream_part_size`), so a
stream is not capped at 10,000 x 5 MiB. At most ``max_concurrency + 1`` parts
are buffered. A stream shorter than the first part goes in one PutObject.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import anyio

from s3flow.integrity import PartDigest, composite_checksum, digest
from s3flow.plan import stream_part_size
from s3flow.progress import PartDone, TransferDone
from s3flow.scheduler import run_stream
from s3flow.transfer.multipart import multipart_upload
from s3flow.transfer.upload import upload_bytes

if TYPE_CHECKING:
    from collections.abc import AsyncIterable, AsyncIterator

    from s3flow.models import CompletedPart, ObjectOptions, TransferResult
    from s3flow.transfer.common import Transfer

__all__ = ["upload_stream"]


async def _chunks_to_parts(
    source: AsyncIterator[bytes], first: bytes, base: int
) -> AsyncIterator[tuple[int, bytes]]:
    number, buffer = 1, bytearray(first)
    async for chunk in source:
        buffer += chunk
        while len(buffer) >= stream_part_size(number, base):
            size = stream_part_size(number, base)
            yield number, bytes(buffer[:size])
            del buffer[:size]
            number += 1
    if buffer or number == 1:
        yield number, bytes(buffer)


async def upload_stream(
    t: Transfer, source: AsyncIterable[bytes], *, options: ObjectOptions | None = None
) -> TransferResult:
    """Upload everything ``source`` yields to ``s3://t.bucket/t.key``."""
    iterator = aiter(source)
    first = bytearray()
    async for chunk in iterator:  # read until we know whether one request will do
        first += chunk
        if len(first) >= t.config.part_size:
            break
    if len(first) < t.config.part_size:
        return await upload_bytes(t, bytes(first), options=options)

    algorithm = t.config.checksum if t.config.checksum in ("crc32c", "crc32") else "crc32c"
    parts: dict[int, tuple[CompletedPart, PartDigest]] = {}
    async with multipart_upload(t, options=options, checksum_algorithm=algorithm) as upload:

        async def send(job: tuple[int, bytes]) -> None:
            number, data = job
            dig = await anyio.to_thread.run_sync(digest, algorithm, data)
            parts[number] = (await upload.upload_part(number, data, dig.checksum()), dig)
            t.progress(PartDone(t.key, number, len(data)))

        jobs = _chunks_to_parts(iterator, bytes(first), t.config.part_size)
        await run_stream(jobs, send, limit=t.config.max_concurrency)
        ordered = [parts[n] for n in sorted(parts)]
        info = await upload.complete([p for p, _ in ordered])
    size = sum(d.size for _, d in ordered)
    t.progress(TransferDone(t.key, size))
    return t.result(
        size=size,
        parts=len(ordered),
        etag=info.etag,
        checksum=str(composite_checksum([d for _, d in ordered])),
    )
