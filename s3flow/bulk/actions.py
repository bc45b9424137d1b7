"""How each action is carried out, per kind of source and destination.

local -> S3 uploads, S3 -> local downloads (refusing keys that would escape
the destination directory), S3 -> S3 copies inside the server on one
endpoint and streams through memory, in bounded parts, across two.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from s3flow.bulk.diff import Entry, digest_matches, plan_digest
from s3flow.errors import InvalidKey, LocalFileError
from s3flow.integrity import PartDigest, crc_combine, digest
from s3flow.localfs import dirs_to_check, run_io, run_quick_io, symlink_among
from s3flow.models import ObjectInfo, ObjectOptions, S3Location
from s3flow.ops.objects import validate_key
from s3flow.transfer.common import Transfer
from s3flow.transfer.copy import copy_object
from s3flow.transfer.download import download_file, iter_download
from s3flow.transfer.stream import upload_stream
from s3flow.transfer.upload import upload_file

if TYPE_CHECKING:
    from s3flow.backend.protocol import S3Backend
    from s3flow.bulk.diff import DigestPlan
    from s3flow.config import TransferConfig
    from s3flow.progress import ProgressSink
    from s3flow.scheduler import AdaptiveLimit, ByteBudget

__all__ = ["Endpoint", "local_path", "safe_key"]

CHUNK = 8 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One side of a job: a local directory, or a bucket prefix on a backend."""

    root: Path | S3Location
    backend: S3Backend | None = None

    @property
    def is_local(self) -> bool:
        return isinstance(self.root, Path)

    @property
    def location(self) -> S3Location:
        assert isinstance(self.root, S3Location)
        return self.root

    def s3_key(self, key: str) -> str:
        return self.location.key + key


def with_content_type(
    options: ObjectOptions | None, name: str, *, guess: bool = True
) -> ObjectOptions | None:
    """``options`` with a content type guessed from the file name (as aws s3 and s5cmd
    do) when none is set; unknown extensions are left to the server's default."""
    if not guess or (options is not None and options.content_type):
        return options
    guessed, _ = mimetypes.guess_type(name, strict=False)
    if guessed is None:
        return options
    return replace(options or ObjectOptions(), content_type=guessed)


def safe_key(key: str) -> bool:
    """True when ``key`` is a plain relative path: no '..', '.', empty or absolute segment,
    backslash or NUL. Only such keys may become local files.

    >>> safe_key("a/b.txt"), safe_key("../etc/passwd"), safe_key("/abs"), safe_key("a//b")
    (True, False, False, False)
    """
    if not key or "\\" in key or "\0" in key:
        return False
    return all(part not in ("", ".", "..") for part in key.split("/"))


def local_path(root: Path, key: str) -> Path:
    """The file for ``key`` under ``root``; raises InvalidKey for keys that could escape it."""
    if not safe_key(key):
        raise InvalidKey(
            "key cannot be a local file name (empty, '.', '..' or absolute segment, "
            "backslash or NUL); it was not downloaded",
            key=key,
        )
    return root.joinpath(*key.split("/"))


@dataclass(frozen=True, slots=True, kw_only=True)
class Mover:
    """Carries out copies, deletes and content checks for one job."""

    src: Endpoint
    dst: Endpoint
    config: TransferConfig
    budget: ByteBudget
    progress: ProgressSink
    server_side: bool
    limit: AdaptiveLimit | None = None  # objects in flight: fed by every request's outcome
    options: ObjectOptions | None = None  # attributes for every object written to S3
    guess_content_type: bool = True  # uploads without a content type get one from the name
    real_dirs: set[str] = field(default_factory=set)  # destination directories not links

    def _transfer(self, end: Endpoint, key: str) -> Transfer:
        assert end.backend is not None
        s3_key = end.s3_key(key)
        validate_key(end.location.bucket, s3_key)
        return Transfer(
            backend=end.backend,
            config=self.config,
            bucket=end.location.bucket,
            key=s3_key,
            progress=self.progress,
            budget=self.budget,
            feedback=self.limit,
        )

    async def copy(self, entry: Entry) -> int:
        """Transfer one source entry; returns its size."""
        key = entry.key
        if self.src.is_local:
            assert isinstance(self.src.root, Path)
            path = local_path(self.src.root, key)
            options = with_content_type(self.options, path.name, guess=self.guess_content_type)
            result = await upload_file(
                self._transfer(self.dst, key), path, options=options, listed_size=entry.size
            )
            return result.size
        source = self._transfer(self.src, key)
        if self.dst.is_local:
            assert isinstance(self.dst.root, Path)
            path = local_path(self.dst.root, key)
            # Usually every directory is known by now, and no thread is needed.
            dirs = dirs_to_check(self.dst.root, path, self.real_dirs)
            link = await run_quick_io(path, symlink_among, dirs, self.real_dirs) if dirs else None
            if link is not None:
                # Following it would write outside the destination tree.
                raise LocalFileError(
                    f"a directory on the way is a symbolic link ({link}); s3flow does not "
                    "write through links: the object was not downloaded",
                    path=str(path),
                )
            # The object's time on the file, so the next sync sees it as up to date.
            # Size and ETag as listed spare small objects their HEAD.
            listed = ObjectInfo(key=source.key, size=entry.size, etag=entry.etag)
            result = await download_file(
                source, path, mtime=entry.mtime, make_parents=True, listed=listed
            )
            return result.size
        target = self._transfer(self.dst, key)
        if self.server_side:
            result = await copy_object(target, source.bucket, source.key, options=self.options)
            return result.size
        # Across endpoints: ranges in, parts out; the budget bounds all such copies together.
        held = min(entry.size, 2 * self.config.max_concurrency * self.config.part_size)
        async with self.budget.hold(held):
            result = await upload_stream(target, iter_download(source), options=self.options)
        return result.size

    async def delete_local(self, key: str) -> None:
        assert isinstance(self.dst.root, Path)
        path = local_path(self.dst.root, key)
        await run_io(path, os.unlink, path)

    async def same_content(self, source: Entry, dest: Entry) -> bool:
        """``--checksum``: do the two sides hold the same bytes? (Reads the local file.)"""
        if not self.src.is_local and not self.dst.is_local:
            # Both listings carry ETags; equal ETags mean equal bytes. Different
            # part layouts give different ETags, so those are copied again.
            return bool(source.etag) and source.etag == dest.etag
        local, remote = (self.src, self.dst) if self.src.is_local else (self.dst, self.src)
        assert isinstance(local.root, Path)
        assert remote.backend is not None
        plan = await _remote_plan(remote.backend, remote.location.bucket, remote.s3_key(source.key))
        if plan is None:
            return False
        path = local_path(local.root, source.key)
        digests, whole = await run_io(path, hash_file, path, plan)
        return digest_matches(plan, digests, whole_md5=whole)


async def _remote_plan(backend: S3Backend, bucket: str, key: str) -> DigestPlan | None:
    """How to hash a local file to compare it with the object (None: it cannot be)."""
    info = await backend.head_object(bucket, key)
    part_size = None
    # A multipart object's digest depends on its part size, which only part 1's head tells.
    if (info.parts or 0) > 1 or "-" in info.etag or "-" in (info.checksum or ""):
        part_size = (await backend.head_object(bucket, key, part_number=1)).size
    return plan_digest(info.etag, info.checksum, parts=info.parts, part_size=part_size)


def hash_file(path: Path, plan: DigestPlan) -> tuple[list[PartDigest], str | None]:
    """Digests of a local file laid out as ``plan`` asks (blocking: run it in a thread)."""
    with open(path, "rb") as f:
        if plan.kind == "md5":
            h = hashlib.md5()
            while chunk := f.read(CHUNK):
                h.update(chunk)
            return [], h.hexdigest()
        part_size = plan.part_size or CHUNK
        parts: list[PartDigest] = []
        while True:
            part = _hash_part(f, part_size, plan.algorithm)
            if part.size == 0 and parts:
                return parts, None
            parts.append(part)
            if part.size < part_size:
                return parts, None


def _hash_part(f: BinaryIO, size: int, algorithm: str) -> PartDigest:
    read = f.read
    if algorithm == "md5":
        h, got = hashlib.md5(), 0
        while got < size and (chunk := read(min(CHUNK, size - got))):
            h.update(chunk)
            got += len(chunk)
        return PartDigest("md5", got, md5=h.digest())
    crc, got = digest(algorithm, b"").crc, 0
    while got < size and (chunk := read(min(CHUNK, size - got))):
        crc = crc_combine(algorithm, crc, digest(algorithm, chunk).crc, len(chunk))
        got += len(chunk)
    return PartDigest(algorithm, got, crc=crc)
