"""``s3flow mv``: a copy, then the source goes, only once its copy is complete.

A source is removed only after its own copy succeeded (``cp`` reported it
done); a failed or skipped object stays where it was, so an interrupted or
partly failed ``mv`` can simply be run again.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import anyio

from s3flow.errors import LocalFileError, ServiceError
from s3flow.models import S3Location

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from s3flow.cli.commands import Options
    from s3flow.client import S3Client

__all__ = ["remove_one", "remover"]


async def remove_one(s3: S3Client, options: Options, src: S3Location | str) -> None:
    """Delete the source of one finished copy (an object or a local file)."""
    if isinstance(src, S3Location):
        await s3.delete_object(src.bucket, src.key)
    else:
        try:
            await anyio.Path(src).unlink()
        except OSError as exc:
            raise LocalFileError(f"copied, but cannot remove: {exc.strerror}", path=src) from None
    options.out.event("delete", str(src), source=str(src))


def remover(
    options: Options, src: S3Location | str
) -> Callable[[S3Client, list[str]], Awaitable[None]]:
    """For ``mv --recursive``: remove the sources of the keys a bulk copy finished."""

    async def remove(s3: S3Client, keys: list[str]) -> None:
        if isinstance(src, S3Location):
            prefix = src.key if not src.key or src.key.endswith("/") else src.key + "/"
            full = [prefix + key for key in keys]
            result = await s3.delete_objects(src.bucket, full)
            for key in result.deleted:
                url = f"s3://{src.bucket}/{key}"
                options.out.event("delete", url, source=url)
            for failure in result.failed:
                url = f"s3://{src.bucket}/{failure.key}"
                options.out.failure(
                    {"operation": "delete", "source": url, "error": failure.message},
                    f"copied, not removed: {url}: {failure.message}",
                )
            if result.failed:
                raise ServiceError(
                    f"{len(result.failed)} copied objects could not be removed from the source",
                    bucket=src.bucket,
                )
            return
        root = Path(src)
        for key in keys:
            await remove_one(s3, options, str(root.joinpath(*key.split("/"))))

    return remove
