"""Fault injection for engine tests: MemoryBackend that fails by rule.

Example::

    backend = FaultyBackend([FaultRule("upload_part", part_number=2, times=2)])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from s3flow.errors import RetryableError, S3FlowError
from s3flow.testing.memory import MemoryBackend

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence

    from s3flow.backend.protocol import Chunks
    from s3flow.models import Checksum, CompletedPart, ObjectInfo, ObjectOptions

__all__ = ["FaultRule", "FaultyBackend"]


@dataclass(slots=True, kw_only=True)
class FaultRule:
    """Fail ``operation`` (optionally only part/range ``part_number``) ``times`` times.

    ``kind``: "error" raises ``error`` (get_object: after half the body);
    "truncate" ends the body half-way (get_object); "corrupt" flips a byte
    (get_object); "lost-reply" performs the operation, then raises a retryable
    error as if the reply was lost. A range's number stays the same when its
    download resumes part-way.
    """

    operation: str
    times: int = 1
    part_number: int | None = None
    kind: str = "error"
    error: Callable[[], S3FlowError] = lambda: RetryableError("injected 500 InternalError")


class FaultyBackend(MemoryBackend):
    def __init__(self, rules: Sequence[FaultRule] = ()) -> None:
        super().__init__()
        self.rules = list(rules)
        self.injected = 0
        self.range_starts: list[int] = []  # the start of every stream_range call
        self._first_start: dict[tuple[str, str, int], int] = {}

    def _take(self, operation: str, part_number: int | None = None) -> FaultRule | None:
        for rule in self.rules:
            if rule.operation != operation or rule.times <= 0:
                continue
            if rule.part_number is not None and rule.part_number != part_number:
                continue
            rule.times -= 1
            self.injected += 1
            return rule
        return None

    async def upload_part(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        number: int,
        body: bytes | bytearray,
        *,
        checksum: Checksum | None = None,
    ) -> CompletedPart:
        if rule := self._take("upload_part", number):
            raise rule.error()
        return await super().upload_part(bucket, key, upload_id, number, body, checksum=checksum)

    async def put_object(
        self,
        bucket: str,
        key: str,
        body: bytes | bytearray,
        *,
        checksum: Checksum | None = None,
        options: ObjectOptions | None = None,
        if_none_match: bool = False,
    ) -> ObjectInfo:
        rule = self._take("put_object")
        if rule is not None and rule.kind == "lost-reply":
            await super().put_object(
                bucket, key, body, checksum=checksum, options=options, if_none_match=if_none_match
            )
            raise RetryableError("injected: connection reset after the server stored the object")
        if rule is not None:
            raise rule.error()
        return await super().put_object(
            bucket, key, body, checksum=checksum, options=options, if_none_match=if_none_match
        )

    async def stream_range(
        self,
        bucket: str,
        key: str,
        *,
        start: int,
        end: int | None,
        sink: Callable[[Chunks], Awaitable[None]],
        if_match: str | None = None,
    ) -> ObjectInfo:
        self.range_starts.append(start)
        number = 1
        if end is not None:
            first = self._first_start.setdefault((bucket, key, end), start)
            number = first // max(1, end - first) + 1
        rule = self._take("get_object", number)
        if rule is None:
            return await super().stream_range(
                bucket, key, start=start, end=end, sink=sink, if_match=if_match
            )
        data = await self.get_object(bucket, key, start=start, end=end, if_match=if_match)
        info = self.got_info(bucket, key, whole=end is None)
        if rule.kind == "corrupt" and data:
            await sink([bytes([data[0] ^ 0xFF]) + data[1:]])
            return info
        await sink([data[: len(data) // 2]])  # torn mid-body
        if rule.kind != "truncate":
            raise rule.error()
        return info

    async def create_multipart_upload(
        self,
        bucket: str,
        key: str,
        *,
        options: ObjectOptions | None = None,
        checksum_algorithm: str | None = None,
    ) -> str:
        rule = self._take("create_multipart_upload")
        upload_id = await super().create_multipart_upload(
            bucket, key, options=options, checksum_algorithm=checksum_algorithm
        )
        if rule is not None and rule.kind == "lost-reply":
            raise RetryableError("injected: connection reset after the server created the upload")
        if rule is not None:
            raise rule.error()
        return upload_id

    async def complete_multipart_upload(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        parts: Sequence[CompletedPart],
        *,
        if_none_match: bool = False,
    ) -> ObjectInfo:
        rule = self._take("complete_multipart_upload")
        if rule is not None and rule.kind == "lost-reply":
            await super().complete_multipart_upload(bucket, key, upload_id, parts)
            raise RetryableError("injected: connection reset after the server completed")
        if rule is not None:
            raise rule.error()
        return await super().complete_multipart_upload(
            bucket, key, upload_id, parts, if_none_match=if_none_match
        )
