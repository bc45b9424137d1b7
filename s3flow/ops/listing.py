"""Lazy, paginated listing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Generic, TypeVar

from s3flow.errors import ServiceError
from s3flow.models import ObjectInfo, UploadInfo

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from s3flow.backend.protocol import S3Backend

__all__ = ["PageGuard", "list_objects", "list_uploads"]

Token = TypeVar("Token")

# Empty truncated pages in a row before a listing is given up. S3 may send a few (e.g.
# while skipping delete markers); a server sending them forever would loop forever.
MAX_EMPTY_PAGES = 1000


class PageGuard(Generic[Token]):
    """Stops a listing that would never end, with a one-line error.

    A continuation token seen before (a server looping) or
    :data:`MAX_EMPTY_PAGES` empty truncated pages in a row. Remembers every
    token of the listing: about 100 bytes per 1,000 keys.
    """

    def __init__(self, bucket: str, prefix: str = "", *, max_empty: int = MAX_EMPTY_PAGES) -> None:
        self.bucket, self.prefix, self.max_empty = bucket, prefix, max_empty
        self.seen: set[Token] = set()
        self.empty = 0

    def next(self, token: Token | None, entries: int) -> Token | None:
        """``token`` (None: the listing is complete), once checked."""
        if token is None:
            return None
        if token in self.seen:
            raise ServiceError(
                f"listing of prefix {self.prefix!r} loops: the server sent continuation token "
                f"{str(token)[:60]!r} twice; stopped after {len(self.seen) + 1} pages",
                bucket=self.bucket,
            )
        self.empty = 0 if entries else self.empty + 1
        if self.empty >= self.max_empty:
            raise ServiceError(
                f"listing of prefix {self.prefix!r} stopped: {self.empty} empty truncated pages "
                "in a row",
                bucket=self.bucket,
            )
        self.seen.add(token)
        return token


async def list_objects(
    backend: S3Backend,
    bucket: str,
    *,
    prefix: str = "",
    delimiter: str | None = None,
    start_after: str | None = None,
) -> AsyncIterator[ObjectInfo]:
    """Yield objects (and, with a delimiter, common prefixes as ``is_prefix=True``) page by page."""
    token: str | None = None
    guard = PageGuard[str](bucket, prefix)
    while True:
        page = await backend.list_page(
            bucket,
            prefix=prefix,
            delimiter=delimiter,
            token=token,
            start_after=start_after if token is None else None,
        )
        for common in page.prefixes:
            yield ObjectInfo(key=common, size=0, is_prefix=True)
        for obj in page.objects:
            yield obj
        token = guard.next(page.next_token, len(page.objects) + len(page.prefixes))
        if token is None:
            return


async def list_uploads(
    backend: S3Backend, bucket: str, *, prefix: str = ""
) -> AsyncIterator[UploadInfo]:
    token: tuple[str, str] | None = None
    guard = PageGuard[tuple[str, str]](bucket, prefix)
    while True:
        uploads, token = await backend.list_uploads_page(bucket, prefix=prefix, token=token)
        for upload in uploads:
            yield upload
        token = guard.next(token, len(uploads))
        if token is None:
            return
