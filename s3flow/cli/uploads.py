"""``s3flow uploads ls|abort``: find and abort in-progress multipart uploads.

Unfinished uploads are invisible in listings but their parts are stored (and
billed) until they are aborted; ``abort --older-than 24h`` is the housekeeping.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import click

from s3flow.cli.commands import open_client
from s3flow.cli.runtime import location, options_of, run
from s3flow.errors import UploadNotFound
from s3flow.scheduler import run_bounded

if TYPE_CHECKING:
    from s3flow.cli.commands import Options
    from s3flow.models import S3Location, UploadInfo

__all__ = ["parse_duration", "uploads"]

_PART = re.compile(r"(\d+(?:\.\d+)?)([smhd])", re.IGNORECASE)
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> timedelta:
    """``"24h"`` → 1 day; units s, m, h, d, combinable: ``"1d12h"``, ``"90m"``."""
    compact = text.strip().replace(" ", "")
    parts = _PART.findall(compact)
    if not compact or "".join(n + u for n, u in parts) != compact:
        raise ValueError(f"{text!r} is not a duration; write e.g. 24h, 30m, 7d or 1d12h")
    return timedelta(seconds=sum(float(n) * _SECONDS[u.lower()] for n, u in parts))


def _duration(ctx: click.Context, param: click.Parameter, value: str | None) -> timedelta | None:
    if value is None:
        return None
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from None


def _date(when: datetime | None) -> str:
    return when.strftime("%Y-%m-%d %H:%M:%S") if when else "?" + " " * 18


@click.group()
def uploads() -> None:
    """List or abort in-progress multipart uploads."""


@uploads.command("ls")
@click.argument("url", callback=location)
@click.pass_context
def uploads_ls(ctx: click.Context, url: S3Location) -> None:
    """List in-progress uploads under s3://bucket[/prefix]: initiated, upload id, key."""
    run(_ls, options_of(ctx), url)


@uploads.command("abort")
@click.argument("url", callback=location)
@click.option(
    "--older-than",
    metavar="DURATION",
    callback=_duration,
    help="Only uploads started at least this long ago, e.g. 24h, 30m, 7d.",
)
@click.option("--dry-run", is_flag=True, help="Print what would be aborted; abort nothing.")
@click.pass_context
def uploads_abort(
    ctx: click.Context, url: S3Location, older_than: timedelta | None, dry_run: bool
) -> None:
    """Abort in-progress uploads under s3://bucket[/prefix] (their parts are deleted)."""
    run(
        _abort,
        options_of(ctx),
        url,
        older_than,
        dry_run,
        interrupted="interrupted; some of the uploads may already be aborted",
    )


async def _ls(options: Options, url: S3Location) -> None:
    out = options.out
    async with open_client(options) as s3:
        async for upload in s3.list_uploads(url.bucket, url.key):
            if out.as_json:
                out.record(
                    {
                        "bucket": url.bucket,
                        "key": upload.key,
                        "upload_id": upload.upload_id,
                        "initiated": upload.initiated,
                    }
                )
            else:
                out.data(f"{_date(upload.initiated)}  {upload.upload_id}  {upload.key}")


def _is_old(upload: UploadInfo, cutoff: datetime | None) -> bool:
    if cutoff is None:
        return True
    if upload.initiated is None:  # age unknown: never abort it by age
        return False
    started = upload.initiated
    if started.tzinfo is None:
        started = started.replace(tzinfo=UTC)
    return started <= cutoff


async def _abort(
    options: Options, url: S3Location, older_than: timedelta | None, dry_run: bool
) -> None:
    out = options.out
    cutoff = None if older_than is None else datetime.now(UTC) - older_than
    aborted: list[UploadInfo] = []
    async with open_client(options) as s3:
        found = [u async for u in s3.list_uploads(url.bucket, url.key) if _is_old(u, cutoff)]

        async def abort(upload: UploadInfo) -> None:
            target = f"s3://{url.bucket}/{upload.key}"
            if not dry_run:
                try:
                    await s3.abort_upload(url.bucket, upload.key, upload.upload_id)
                except UploadNotFound:  # completed or aborted meanwhile
                    return
            aborted.append(upload)
            if out.as_json:
                out.record(
                    {
                        "action": "abort",
                        "bucket": url.bucket,
                        "key": upload.key,
                        "upload_id": upload.upload_id,
                        "dry_run": dry_run,
                    }
                )
            else:
                dry = "(dryrun) " if dry_run else ""
                out.say(f"{dry}abort: {target} ({upload.upload_id})")

        await run_bounded(found, abort, limit=options.config.max_concurrency)
    n = len(aborted)
    uploads_text = "1 upload" if n == 1 else f"{n} uploads"
    if not out.as_json:
        out.say(f"would abort {uploads_text}" if dry_run else f"aborted {uploads_text}")
