"""Ranged GETs received by worker threads (backend/blocking.py), against a scripted server.

The server answers HEAD and ranged GETs of one object byte by byte, over HTTP or TLS,
so what moto and SeaweedFS never do can be made to happen: a body that stalls until
the client leaves.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import re
import ssl

import anyio
import pytest

import s3flow
from s3flow.config import MiB, RetryPolicy, TransferConfig
from tests.api.test_http11_tls import _certificate

DATA = random.Random(14).randbytes(12 * MiB + 5)
ETAG = hashlib.md5(DATA).hexdigest()
CONFIG = TransferConfig(part_size=5 * MiB, max_concurrency=3, retry=RetryPolicy(max_attempts=2))
_RANGE = re.compile(r"range: bytes=(\d+)-(\d+)", re.IGNORECASE)


class Server:
    """``stall``: GETs send their head and 1,000 body bytes, then wait for the client to go."""

    def __init__(self, *, stall: bool = False) -> None:
        self.stall = stall
        self.gets = 0
        self.left_by_client = asyncio.Event()

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                await self._answer(head.decode("latin-1"), reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()

    async def _answer(
        self, request: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        tags = f'ETag: "{ETAG}"\r\nLast-Modified: Mon, 01 Dec 2026 00:00:00 GMT\r\n'
        if request.startswith("HEAD"):
            writer.write(f"HTTP/1.1 200 OK\r\n{tags}Content-Length: {len(DATA)}\r\n\r\n".encode())
            await writer.drain()
            return
        self.gets += 1
        match = _RANGE.search(request)
        assert match, request
        start, end = int(match[1]), int(match[2]) + 1
        body = DATA[start:end]
        content_range = f"Content-Range: bytes {start}-{end - 1}/{len(DATA)}\r\n"
        writer.write(
            f"HTTP/1.1 206 Partial Content\r\n{tags}{content_range}"
            f"Content-Length: {len(body)}\r\n\r\n".encode()
        )
        if self.stall:
            writer.write(body[:1000])
            await writer.drain()
            await reader.read()  # until the client closes or shuts its socket down
            self.left_by_client.set()
            return
        writer.write(body)
        await writer.drain()


async def _serve(server: Server, tls: ssl.SSLContext | None = None) -> asyncio.Server:
    return await asyncio.start_server(server.serve, "127.0.0.1", 0, ssl=tls)


def _connect(port: int, scheme: str = "http"):  # type: ignore[no-untyped-def]
    return s3flow.connect(
        endpoint_url=f"{scheme}://127.0.0.1:{port}",
        access_key="AK",
        secret_key="secret",
        region="us-east-1",
        config=CONFIG,
    )


def _leftovers(directory) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(p.name for p in directory.iterdir())


@pytest.mark.timeout(40)  # the read timeout is 60 s: only a cancelled recv ends sooner
async def test_cancel_stops_a_thread_blocked_in_recv_and_leaves_nothing(tmp_path) -> None:
    server = Server(stall=True)
    listener = await _serve(server)
    port = listener.sockets[0].getsockname()[1]
    try:
        async with _connect(port) as s3:
            with anyio.move_on_after(1) as scope:
                await s3.download_file("b", "k", tmp_path / "out")
            assert scope.cancelled_caught
            with anyio.fail_after(10):
                await server.left_by_client.wait()  # the socket was shut, not left to time out
    finally:
        listener.close()
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("scheme", ["http", "https"])
async def test_threaded_ranges_land_whole_over_http_and_tls(tmp_path, monkeypatch, scheme) -> None:
    tls = None
    if scheme == "https":
        cert, key = _certificate(tmp_path)
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(cert, key)
        monkeypatch.setenv("AWS_CA_BUNDLE", str(cert))  # trusted the way users trust a private CA
    server = Server()
    listener = await _serve(server, tls)
    port = listener.sockets[0].getsockname()[1]
    dest = tmp_path / "out" / "k"
    dest.parent.mkdir()
    try:
        async with _connect(port, scheme) as s3:
            result = await s3.download_file("b", "k", dest)
    finally:
        listener.close()
    assert dest.read_bytes() == DATA
    assert result.parts == 3 and server.gets == 3
    assert _leftovers(dest.parent) == ["k"]
