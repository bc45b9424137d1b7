"""No-clobber writes that tell the truth when a reply was lost.

A conditional write (If-None-Match: *) whose reply is lost (reset, timeout,
5xx) may still have landed; its retry then fails its own precondition with
412. Believing that 412 reports ``ObjectExists`` for the object we just
wrote. So after an attempt that may have landed, a 412 is checked: HEAD the
key and compare what is there with what we sent. Ours: the write succeeded.
Not provably ours: ``ObjectExists``, saying why we could not tell.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from s3flow.errors import ObjectExists, ObjectNotFound, RetryableError

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from s3flow.models import ObjectInfo
    from s3flow.transfer.common import Transfer

__all__ = ["Conditional"]

R = TypeVar("R")


class Conditional:
    """Wraps each attempt of one no-clobber write; see the module docstring.

    ``ours(info)``: whether the stored object (from HEAD) is provably the one sent.
    """

    def __init__(
        self, t: Transfer, active: bool, ours: Callable[[ObjectInfo], Awaitable[bool]]
    ) -> None:
        self._t = t
        self._active = active
        self._ours = ours
        self.unsure = False  # an earlier attempt failed after it may have reached the server

    async def attempt(self, send: Callable[[], Awaitable[ObjectInfo]]) -> ObjectInfo:
        try:
            return await send()
        except RetryableError:
            self.unsure = True
            raise
        except ObjectExists:
            if not (self._active and self.unsure):
                raise
            return await self._settle()

    async def _settle(self) -> ObjectInfo:
        t = self._t
        try:
            info = await t.backend.head_object(t.bucket, t.key)
        except ObjectNotFound:
            # Gone between the 412 and the HEAD: nothing of ours is there; try again.
            raise RetryableError(
                "the no-clobber write failed its precondition, then the object was gone",
                bucket=t.bucket,
                key=t.key,
            ) from None
        if await self._ours(info):
            return info
        raise ObjectExists(
            "object already exists and no-clobber is set; nothing was overwritten (an earlier "
            "attempt's reply was lost, and the object there does not match what was sent)",
            bucket=t.bucket,
            key=t.key,
        )
