"""``s3flow cp``: local→s3, s3→local, s3→s3, stdin/stdout, and --recursive.

``--recursive`` is a bulk-engine job (``cli.bulk``): it streams the listing,
moves many objects at once and refuses keys that would escape a local
destination (``..`` segments, absolute paths, backslashes, NUL), reporting
them as failed and exiting 1. A single download into a directory checks its
key with :func:`local_target`.
"""

from __future__ import annotations

import dataclasses
import errno
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import anyio
import click

from s3flow.bulk.actions import with_content_type
from s3flow.bulk.filters import Filters, Wildcard
from s3flow.bulk.options import SyncOptions
from s3flow.cli.attributes import Attributes
from s3flow.cli.bulk import BulkJob, run_job
from s3flow.cli.commands import RawLocation, is_pattern, open_client, write_stdout
from s3flow.cli.moving import remove_one, remover
from s3flow.cli.render import printable
from s3flow.config import MiB
from s3flow.errors import (
    ConfigError,
    InvalidKey,
    LocalFileError,
    ObjectExists,
    ObjectNotFound,
    PreconditionFailed,
)
from s3flow.models import S3Location

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from s3flow.cli.commands import Options
    from s3flow.client import S3Client
    from s3flow.models import ObjectOptions
    from s3flow.progress import ProgressSink

__all__ = ["CopyRequest", "copy", "interrupted", "local_target", "plan", "refuse_wildcard"]

_UNSAFE_SEGMENT = re.compile(r"(^|[/\\])\.\.([/\\]|$)")


@dataclass(frozen=True, slots=True)
class CopyRequest:
    """A checked ``cp SRC DST``: exactly one side may be local (a path or ``-``)."""

    src: S3Location | str
    dst: S3Location | str
    recursive: bool
    no_clobber: bool
    objects: int | None = None  # objects in flight with --recursive (None: SyncOptions' default)
    filters: Filters = field(default_factory=Filters)  # a wildcard source, as filters
    options: ObjectOptions | None = None  # attributes of written objects (--content-type, …)
    guess_type: bool = True  # Content-Type from the file extension when not given
    dry_run: bool = False  # print what would be copied; change nothing
    move: bool = False  # mv: remove each source once its copy is complete
    follow_symlinks: bool = True  # a local tree's links are followed (aws s3's default)
    pattern: S3Location | None = None  # the wildcard source as given: matching nothing fails


def plan(
    src: str,
    dst: str,
    *,
    recursive: bool,
    no_clobber: bool,
    objects: int | None = None,
    attributes: Attributes | None = None,
    rules: Filters | None = None,
    dry_run: bool = False,
    move: bool = False,
    follow_symlinks: bool = True,
    raw: bool = False,
) -> CopyRequest:
    """Check SRC and DST before any I/O; mistakes raise click.BadParameter (exit 2)."""
    source, dest = _sides(src, dst, raw)
    filters, given = Filters(), source
    if isinstance(source, S3Location) and is_pattern(source):
        # s5cmd: a wildcard source copies every matching object, named relative to
        # the prefix before the first wildcard (cp 's3://b/logs/*.gz' d/ -> d/x/a.gz).
        pattern = Wildcard.parse(source.key)
        source, filters, recursive = (
            S3Location(source.bucket, pattern.base),
            pattern.filters(),
            True,
        )
    _check_modes(source, dest, recursive=recursive, no_clobber=no_clobber, objects=objects)
    attributes = attributes or Attributes(None, True)
    _check_extras(source, dest, recursive, attributes, rules, move)
    if rules:
        filters = Filters(filters.rules + rules.rules)
    return CopyRequest(
        source,
        dest,
        recursive,
        no_clobber,
        objects,
        filters,
        attributes.options,
        attributes.guess,
        dry_run,
        move,
        follow_symlinks,
        given if filters.rules and isinstance(given, S3Location) else None,
    )


def _sides(src: str, dst: str, raw: bool) -> tuple[S3Location | str, S3Location | str]:
    kind = RawLocation if raw else S3Location
    try:
        source = kind.parse(src) if S3Location.is_s3_url(src) else src
        dest = kind.parse(dst) if S3Location.is_s3_url(dst) else dst
    except ConfigError as exc:
        raise click.BadParameter(printable(str(exc))) from None
    # Local to local is cp(1)'s job: every path below has S3 on one side at least.
    if isinstance(source, str) and isinstance(dest, str):
        raise click.BadParameter("one of SRC and DST must be an s3:// URL")
    refuse_wildcard(dest, "a destination")
    return source, dest


def _check_modes(
    source: S3Location | str,
    dest: S3Location | str,
    *,
    recursive: bool,
    no_clobber: bool,
    objects: int | None,
) -> None:
    if recursive:
        _check_tree(source, dest, no_clobber=no_clobber)
    elif objects is not None:
        raise click.UsageError("--concurrency-objects needs --recursive (one object is one copy)")
    # stdin has no name to put under a prefix (a file's own name is used: cp f s3://b/dir/).
    if source == "-" and isinstance(dest, S3Location) and _is_dir_key(dest.key):
        raise click.BadParameter(
            printable(f"{dest} names no object; give the key to upload stdin to")
        )
    # A prefix is no object: its GET would 404, or fetch an empty "folder" marker.
    if isinstance(source, S3Location) and not recursive and _is_dir_key(source.key):
        raise click.BadParameter(
            printable(f"{source} names no object; use --recursive to copy a prefix")
        )


def _check_tree(source: S3Location | str, dest: S3Location | str, *, no_clobber: bool) -> None:
    # A stream is one object; a tree has many, and no single stream to read or write.
    if "-" in (source, dest):
        raise click.BadParameter("- (stdin/stdout) cannot be used with --recursive")
    # The bulk engine writes without If-None-Match; sync's diff is how a tree skips what exists.
    if no_clobber:
        raise click.UsageError(
            "--no-clobber cannot be used with --recursive; "
            "`s3flow sync` copies only new and changed objects"
        )


def _check_extras(
    source: S3Location | str,
    dest: S3Location | str,
    recursive: bool,
    attributes: Attributes,
    rules: Filters | None,
    move: bool,
) -> None:
    """Attributes, filters and mv's own rules."""
    if attributes.given and isinstance(dest, str):
        raise click.UsageError(
            "object attributes (--content-type, --metadata, --acl, …) apply to uploads "
            "and copies to s3://, not to downloads"
        )
    if rules and not recursive:
        raise click.UsageError("--include/--exclude need --recursive (or a wildcard source)")
    if move:
        _check_move(source, dest, recursive)


def _check_move(source: S3Location | str, dest: S3Location | str, recursive: bool) -> None:
    if "-" in (source, dest):
        raise click.BadParameter("mv cannot read stdin or write stdout; use cp")
    if isinstance(source, S3Location) and isinstance(dest, S3Location):
        _refuse_overlap(source, dest, recursive)


def _refuse_overlap(src: S3Location, dst: S3Location, recursive: bool) -> None:
    """mv onto itself would delete what it just copied; into its own prefix, it would chase
    its own copies."""
    if src.bucket != dst.bucket:
        return
    if recursive:
        root = src.key if not src.key or src.key.endswith("/") else src.key + "/"
        target = dst.key if not dst.key or dst.key.endswith("/") else dst.key + "/"
        if target.startswith(root):
            raise click.BadParameter(
                printable(f"{dst} is inside {src}; mv would move its own copies")
            )
    elif _into(dst, src.key.rsplit("/", 1)[-1]) == src:
        raise click.BadParameter(printable(f"{src} and {dst} are the same object"))


def refuse_wildcard(side: S3Location | str, what: str) -> None:
    """A * or ? in an s3:// URL is a pattern, never part of a literal prefix."""
    if isinstance(side, S3Location) and is_pattern(side):
        raise click.BadParameter(printable(f"{side}: wildcards (* ?) cannot be used in {what}"))


def interrupted(request: CopyRequest) -> str:
    """What Ctrl-C leaves behind for this cp, said truthfully (see ``runtime.run``)."""
    src, dst = request.src, request.dst
    if request.recursive:
        return (
            "interrupted; objects already copied are kept, unfinished ones were aborted or "
            "removed (`s3flow sync` with the same arguments copies only what is missing)"
        )
    if dst == "-":
        return "interrupted; the output on stdout is incomplete"
    if isinstance(dst, str):
        return (
            "interrupted; the download was stopped and its partial file removed "
            f"({dst} is unchanged)"
        )
    what = "upload" if isinstance(src, str) else "copy"
    return f"interrupted; the {what} was stopped (a multipart {what} it began is aborted)"


def _is_dir_key(key: str) -> bool:
    return not key or key.endswith("/")


def _into(dest: S3Location, name: str) -> S3Location:
    """DST s3://b/ or s3://b/dir/ receives the source under its own name."""
    return S3Location(dest.bucket, dest.key + name) if _is_dir_key(dest.key) else dest


def local_target(root: Path, relative: str, *, bucket: str, key: str) -> Path:
    """``root / relative``, or InvalidKey if that would land outside ``root``."""
    unsafe = (
        "\x00" in relative
        or relative.startswith(("/", "\\"))
        or re.match(r"^[A-Za-z]:", relative) is not None
        or _UNSAFE_SEGMENT.search(relative) is not None
    )
    target = root.joinpath(*[part for part in relative.split("/") if part not in ("", ".")])
    base = os.path.abspath(root)
    if unsafe or os.path.commonpath([base, os.path.abspath(target)]) != base:
        raise InvalidKey("key would escape the destination directory", bucket=bucket, key=key)
    return target


async def copy(options: Options, request: CopyRequest) -> None:
    """Run one checked cp request."""
    if request.recursive:
        bulk = SyncOptions(
            filters=request.filters,
            object_options=request.options,
            guess_content_type=request.guess_type,
            dry_run=request.dry_run,
            follow_symlinks=request.follow_symlinks,
        )
        if request.objects is not None:
            bulk = dataclasses.replace(bulk, concurrency=request.objects)
        job = BulkJob(
            src=str(request.src),
            dst=str(request.dst),
            options=bulk,
            copy_only=True,
            pattern=request.pattern,
        )
        await run_job(options, job, moved=remover(options, request.src) if request.move else None)
        return
    await _copy_single(options, request)


async def _copy_single(options: Options, request: CopyRequest) -> None:
    """One object or file (or stdin/stdout); mv removes the source once it is copied."""
    async with open_client(options) as s3:
        src, dst = request.src, request.dst
        if request.dry_run:
            verb = "move" if request.move else "copy"
            options.out.event(
                f"(dryrun) {verb}", f"{src} -> {dst}", source=str(src), destination=str(dst)
            )
        elif src == "-" and isinstance(dst, S3Location):
            await _from_stdin(s3, options, dst, request)
        elif dst == "-" and isinstance(src, S3Location):
            await write_stdout(s3.iter_object(src.bucket, src.key))
        else:
            with options.out.progress(_label(src)) as sink:
                copied = await _copy_one(s3, options, request, src, dst, sink)
            if copied and request.move:
                await remove_one(s3, options, src)


def _label(src: S3Location | str) -> str:
    return os.path.basename(src.key if isinstance(src, S3Location) else src) or str(src)


async def _copy_one(
    s3: S3Client,
    options: Options,
    request: CopyRequest,
    src: S3Location | str,
    dst: S3Location | str,
    sink: ProgressSink,
) -> bool:
    """Copy one object or file; False when --no-clobber skipped it."""
    if isinstance(src, str) and isinstance(dst, S3Location):
        return await _upload(s3, options, request, src, dst, sink)
    if isinstance(src, S3Location) and isinstance(dst, str):
        target = Path(dst)
        if dst.endswith(("/", os.sep)) or await anyio.Path(target).is_dir():
            target = local_target(
                target, src.key.rsplit("/", 1)[-1], bucket=src.bucket, key=src.key
            )
        return await _download(s3, options, src, target, request.no_clobber, sink)
    if isinstance(src, S3Location) and isinstance(dst, S3Location):
        return await _server_copy(s3, options, request, src, dst)
    return False


async def _upload(
    s3: S3Client,
    options: Options,
    request: CopyRequest,
    src: str,
    dst: S3Location,
    sink: ProgressSink,
) -> bool:
    no_clobber = request.no_clobber
    if await anyio.Path(src).is_dir():
        raise LocalFileError("is a directory; use --recursive to copy it", path=src)
    dst = _into(dst, Path(src).name)
    try:
        if no_clobber and await _exists(s3, dst):  # before sending any part
            raise ObjectExists("exists", bucket=dst.bucket, key=dst.key)
        attrs = with_content_type(request.options, Path(src).name, guess=request.guess_type)
        result = await s3.upload_file(
            src,
            dst.bucket,
            dst.key,
            progress=sink,
            resume=True,
            no_clobber=no_clobber,
            options=attrs,
        )
    except (ObjectExists, PreconditionFailed):
        # Real servers answer a failed If-None-Match with 412 PreconditionFailed.
        if not no_clobber:
            raise
        options.out.event("skip", f"{dst} exists", destination=str(dst))
        return False
    options.out.transfer("upload", src, str(dst), result)
    return True


async def _server_copy(
    s3: S3Client, options: Options, request: CopyRequest, src: S3Location, dst: S3Location
) -> bool:
    dst = _into(dst, src.key.rsplit("/", 1)[-1])
    if request.no_clobber and await _exists(s3, dst):
        options.out.event("skip", f"{dst} exists", destination=str(dst))
        return False
    result = await s3.copy_object(src.bucket, src.key, dst.bucket, dst.key, options=request.options)
    options.out.transfer("copy", str(src), str(dst), result)
    return True


async def _download(
    s3: S3Client,
    options: Options,
    src: S3Location,
    target: Path,
    no_clobber: bool,
    sink: ProgressSink,
) -> bool:
    local = anyio.Path(target)
    if await local.exists():
        if no_clobber:
            options.out.event("skip", f"{target} exists", destination=str(target))
            return False
        if not await local.is_file() and not await local.is_dir():
            # The engine publishes with os.replace, which would swap out a device or a FIFO.
            raise LocalFileError("is not a regular file; refusing to replace it", path=str(target))
    try:
        await anyio.Path(target.parent).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        reason = "exists and is not a directory" if exc.errno == errno.EEXIST else exc.strerror
        raise LocalFileError(
            f"cannot create directory: {reason}", path=str(target.parent)
        ) from None
    result = await s3.download_file(src.bucket, src.key, target, progress=sink)
    options.out.transfer("download", str(src), str(target), result)
    return True


async def _exists(s3: S3Client, location: S3Location) -> bool:
    try:
        await s3.head_object(location.bucket, location.key)
    except ObjectNotFound:
        return False
    return True


async def _from_stdin(
    s3: S3Client, options: Options, dst: S3Location, request: CopyRequest
) -> None:
    if request.no_clobber and await _exists(s3, dst):
        options.out.event("skip", f"{dst} exists", destination=str(dst))
        return
    with options.out.progress("stdin") as sink:
        result = await s3.upload_stream(
            _stdin_chunks(), dst.bucket, dst.key, progress=sink, options=request.options
        )
    options.out.transfer("upload", "-", str(dst), result)


async def _stdin_chunks() -> AsyncIterator[bytes]:
    stdin = sys.stdin.buffer
    while chunk := await anyio.to_thread.run_sync(stdin.read, MiB):
        yield chunk
