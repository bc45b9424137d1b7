"""A fault-injecting HTTP/1.1 reverse proxy for S3 tests, on 127.0.0.1 only.

It runs its own event loop in its own thread, so a synchronous (session) fixture can
start it and a test on any event loop can use it::

    with FaultProxy("http://127.0.0.1:8333") as proxy:
        proxy.configure([Rule(Fault.ERROR_500, rate=0.15, kind=Kind.PART_UPLOAD)], seed=1)
        ...  # point s3flow.connect(endpoint_url=proxy.url, ...) at it
        assert proxy.injected()[Fault.ERROR_500] > 0

Each request that some rule could apply to draws once from a seeded ``random.Random`` (in
arrival order); the first such rule whose rate the draw falls under is applied. So with a
given seed, the n-th eligible request always gets the same draw, whatever the timing. Bodies are
passed through byte for byte (Content-Length, chunked and aws-chunked alike); the proxy
never re-signs anything. ``Expect: 100-continue`` (not part of the SigV4 signature) is
answered by the proxy itself and not forwarded. Every wait is bounded by ``io_timeout``
or ``stall_seconds``; every loop is bounded in count.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import random
import socket
import struct
import threading
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

__all__ = ["Fault", "FaultProxy", "Kind", "Rule"]

_MAX_HEAD = 64 * 1024
_MAX_HEADERS = 200
_MAX_CHUNKS = 1_000_000
_MAX_REQUESTS_PER_CONNECTION = 100_000
_COPY_BLOCK = 1024 * 1024


class Fault(enum.StrEnum):
    """What the proxy does to a request it picked."""

    ERROR_500 = "500 InternalError"
    ERROR_503 = "503 SlowDown"
    ERROR_400_TIMEOUT = "400 RequestTimeout"
    RESET_REQUEST = "reset mid-request"
    RESET_RESPONSE = "reset mid-response"
    STALL = "stall past read timeout"
    TRUNCATE = "truncated body"
    CORRUPT = "corrupted byte"
    CORRUPT_REQUEST = "corrupted request byte"


_ERRORS = {
    Fault.ERROR_500: (
        500,
        "Internal Server Error",
        "InternalError",
        "We encountered an internal error. Please try again.",
    ),
    Fault.ERROR_503: (503, "Slow Down", "SlowDown", "Please reduce your request rate."),
    Fault.ERROR_400_TIMEOUT: (
        400,
        "Bad Request",
        "RequestTimeout",
        "Your socket connection to the server was not read from or written to within the timeout period.",
    ),
}
# Faults that need a response body with a known length; other responses pass through.
_BODY_FAULTS = {Fault.RESET_RESPONSE, Fault.TRUNCATE, Fault.CORRUPT}


class Kind(enum.StrEnum):
    """Which requests a rule applies to."""

    ANY = "any"
    PART_UPLOAD = "part upload"  # PUT ?partNumber=&uploadId=
    RANGED_GET = "ranged GET"  # GET with a Range header
    CREATE_UPLOAD = "create multipart upload"  # POST ?uploads
    COMPLETE_UPLOAD = "complete multipart upload"  # POST ?uploadId=


@dataclass(frozen=True)
class Rule:
    """Apply ``fault`` to a fraction ``rate`` of the requests of ``kind`` (and ``method``).

    ``limit`` caps how many times the rule fires (None: no cap). ``repeat=n`` applies the
    fault to the picked request and to its next ``n - 1`` re-sends (same method, target and
    Range), without drawing: the HTTP clients silently re-send a request once after a reset
    on a reused connection, so only a second reset in a row reaches the caller.
    """

    fault: Fault
    rate: float
    kind: Kind = Kind.ANY
    method: str | None = None
    limit: int | None = None
    repeat: int = 1


@dataclass
class _Request:
    method: str
    target: str
    version: str
    headers: list[tuple[str, str]]
    body_mode: str  # none | length | chunked
    length: int = 0

    def header(self, name: str) -> str | None:
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None

    @property
    def kind(self) -> set[Kind]:
        query = parse_qs(urlsplit(self.target).query, keep_blank_values=True)
        kinds = {Kind.ANY}
        if self.method == "PUT" and "partNumber" in query and "uploadId" in query:
            kinds.add(Kind.PART_UPLOAD)
        if self.method == "GET" and self.header("range"):
            kinds.add(Kind.RANGED_GET)
        if self.method == "POST" and "uploads" in query:
            kinds.add(Kind.CREATE_UPLOAD)
        if self.method == "POST" and "uploadId" in query:
            kinds.add(Kind.COMPLETE_UPLOAD)
        return kinds


@dataclass
class _Stats:
    requests: int = 0
    injected: Counter[Fault] = field(default_factory=Counter)
    not_applicable: Counter[Fault] = field(default_factory=Counter)
    by_kind: Counter[Kind] = field(default_factory=Counter)


class _Reset(Exception):
    """Close the client connection now."""


class FaultProxy:
    """Reverse proxy in front of ``upstream_url`` that injects faults by rule.

    Start and stop it from any thread (``with FaultProxy(...) as proxy``); ``url`` is
    where clients connect. ``stall_seconds`` must exceed the client's read timeout.
    """

    def __init__(
        self,
        upstream_url: str,
        *,
        stall_seconds: float = 5.0,
        io_timeout: float = 30.0,
        start_timeout: float = 10.0,
    ) -> None:
        parts = urlsplit(upstream_url)
        if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError(f"upstream must be on loopback, got {upstream_url!r}")
        self._upstream = (parts.hostname, parts.port or 80)
        self.stall_seconds = stall_seconds
        self.io_timeout = io_timeout
        self._start_timeout = start_timeout
        self._lock = threading.Lock()
        self._rules: list[Rule] = []
        self._fired: Counter[int] = Counter()
        self._sticky: dict[tuple[str, str, str | None], tuple[Fault, int]] = {}
        self._rng = random.Random(0)
        self._stats = _Stats()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._port = 0
        self._error: BaseException | None = None

    # Control, from any thread
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    def configure(self, rules: list[Rule] | tuple[Rule, ...] = (), *, seed: int = 0) -> None:
        """Replace the rules, reseed the RNG and zero the counters."""
        with self._lock:
            self._rules = list(rules)
            self._fired = Counter()
            self._sticky = {}
            self._rng = random.Random(seed)
            self._stats = _Stats()

    def clear(self) -> None:
        """No faults from now on (counters are kept)."""
        with self._lock:
            self._rules = []

    def injected(self) -> Counter[Fault]:
        with self._lock:
            return Counter(self._stats.injected)

    def stats(self) -> dict[str, object]:
        with self._lock:
            return {
                "requests": self._stats.requests,
                "injected": dict(self._stats.injected),
                "not_applicable": dict(self._stats.not_applicable),
                "by_kind": dict(self._stats.by_kind),
            }

    def start(self) -> FaultProxy:
        self._thread = threading.Thread(target=self._run, name="fault-proxy", daemon=True)
        self._thread.start()
        if not self._ready.wait(self._start_timeout) or self._error is not None:
            raise RuntimeError(f"fault proxy did not start: {self._error!r}")
        return self

    def stop(self) -> None:
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stop.set)
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # The proxy's own thread
    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # reported by start(); never kill the test run
            self._error = exc
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        tasks: set[asyncio.Task[None]] = set()

        async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            assert task is not None
            tasks.add(task)
            try:
                await self._serve(reader, writer)
            finally:
                tasks.discard(task)

        server = await asyncio.start_server(on_connect, "127.0.0.1", 0, limit=_MAX_HEAD * 2)
        self._port = server.sockets[0].getsockname()[1]
        self._ready.set()
        async with server:
            await self._stop.wait()
            server.close()
            for task in list(tasks):
                task.cancel()
            if tasks:
                await asyncio.wait(list(tasks), timeout=5)

    def _decide(self, request: _Request) -> Fault | None:
        kinds = request.kind
        identity = (request.method, request.target, request.header("range"))
        with self._lock:
            self._stats.requests += 1
            for kind in kinds - {Kind.ANY}:
                self._stats.by_kind[kind] += 1
            pending = self._sticky.pop(identity, None)
            if pending is not None:  # a re-send of a request picked with repeat > 1
                fault, left = pending
                if left > 1:
                    self._sticky[identity] = (fault, left - 1)
                return fault
            eligible = [
                i
                for i, rule in enumerate(self._rules)
                if rule.kind in kinds
                and (rule.method is None or rule.method == request.method)
                and (rule.limit is None or self._fired[i] < rule.limit)
            ]
            if not eligible:
                return None  # no draw: the n-th draw always goes to the n-th eligible request
            draw = self._rng.random()
            for i in eligible:
                rule = self._rules[i]
                if draw < rule.rate:
                    self._fired[i] += 1
                    if rule.repeat > 1:
                        self._sticky[identity] = (rule.fault, rule.repeat - 1)
                    return rule.fault
            return None

    def _count(self, fault: Fault, applied: bool = True) -> None:
        with self._lock:
            (self._stats.injected if applied else self._stats.not_applicable)[fault] += 1

    async def _io(self, awaitable):  # type: ignore[no-untyped-def]
        return await asyncio.wait_for(awaitable, self.io_timeout)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        try:
            for _ in range(_MAX_REQUESTS_PER_CONNECTION):
                request = await self._read_request(reader)
                if request is None:
                    return
                if (request.header("expect") or "").lower() == "100-continue":
                    writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                    await self._io(writer.drain())
                fault = self._decide(request)
                if fault in _ERRORS:
                    await self._drain_body(reader, request)
                    self._count(fault)
                    await self._send_error(writer, request, fault)
                    continue
                if fault is Fault.RESET_REQUEST:
                    # Take the head and part of the body, then reset.
                    if request.body_mode == "length" and request.length > 1:
                        await self._io(reader.readexactly(request.length // 2))
                    self._count(fault)
                    raise _Reset
                if upstream is not None and upstream[0].at_eof():
                    upstream[1].close()  # the server closed an idle connection
                    upstream = None
                if upstream is None:
                    upstream = await self._io(
                        asyncio.open_connection(*self._upstream, limit=_MAX_HEAD * 2)
                    )
                keep = await self._exchange(reader, writer, upstream, request, fault)
                if not keep:
                    return
        except _Reset:
            _reset(writer)
            writer = None  # type: ignore[assignment]
        except (
            OSError,
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,
            TimeoutError,
            ValueError,
        ):
            pass  # the client went away or sent garbage: drop the connection
        finally:
            if upstream is not None:
                upstream[1].close()
            if writer is not None:
                writer.close()

    async def _read_request(self, reader: asyncio.StreamReader) -> _Request | None:
        try:
            head = await self._io(reader.readuntil(b"\r\n\r\n"))
        except asyncio.IncompleteReadError as exc:
            if exc.partial.strip():
                raise
            return None  # clean close between requests
        lines = head.decode("latin-1").split("\r\n")
        method, target, version = lines[0].split(" ", 2)
        headers = _parse_headers(lines[1:])
        request = _Request(method, target, version, headers, "none")
        if (request.header("transfer-encoding") or "").lower().endswith("chunked"):
            request.body_mode = "chunked"
        elif request.header("content-length") is not None:
            request.body_mode = "length"
            request.length = int(request.header("content-length") or 0)
        return request

    async def _drain_body(self, reader: asyncio.StreamReader, request: _Request) -> None:
        if request.body_mode == "length":
            await self._copy_exact(reader, None, request.length)
        elif request.body_mode == "chunked":
            await self._copy_chunked(reader, None)

    async def _copy_exact(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter | None,
        n: int,
        *,
        flip_at: int | None = None,
    ) -> None:
        done = 0
        while done < n:  # bounded: each pass moves at least one byte or raises
            block = await self._io(reader.read(min(_COPY_BLOCK, n - done)))
            if not block:
                raise asyncio.IncompleteReadError(b"", n - done)
            if flip_at is not None and done <= flip_at < done + len(block):
                i = flip_at - done
                block = block[:i] + bytes([block[i] ^ 0xFF]) + block[i + 1 :]
            if writer is not None:
                writer.write(block)
                await self._io(writer.drain())
            done += len(block)

    async def _copy_chunked(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter | None
    ) -> None:
        """Forward a chunked body verbatim (sizes, extensions, trailers)."""
        for _ in range(_MAX_CHUNKS):
            line = await self._io(reader.readuntil(b"\r\n"))
            if writer is not None:
                writer.write(line)
            size = int(line.split(b";")[0].strip(), 16)
            if size == 0:
                for _ in range(_MAX_HEADERS):  # trailers, then an empty line
                    trailer = await self._io(reader.readuntil(b"\r\n"))
                    if writer is not None:
                        writer.write(trailer)
                    if trailer == b"\r\n":
                        if writer is not None:
                            await self._io(writer.drain())
                        return
                raise ValueError("too many trailers")
            await self._copy_exact(reader, writer, size)
            crlf = await self._io(reader.readexactly(2))
            if writer is not None:
                writer.write(crlf)
        raise ValueError("too many chunks")

    async def _send_error(
        self, writer: asyncio.StreamWriter, request: _Request, fault: Fault
    ) -> None:
        status, reason, code, message = _ERRORS[fault]
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{code}</Code><Message>{message}</Message>"
            "<RequestId>fault-proxy</RequestId></Error>"
        ).encode()
        head = (
            f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/xml\r\n"
            f"Content-Length: {len(body)}\r\nx-amz-request-id: fault-proxy\r\n\r\n"
        ).encode()
        writer.write(head if request.method == "HEAD" else head + body)
        await self._io(writer.drain())

    async def _exchange(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter],
        request: _Request,
        fault: Fault | None,
    ) -> bool:
        """Forward one request and its response; apply ``fault``. True: keep the connection."""
        up_reader, up_writer = upstream
        headers = [(k, v) for k, v in request.headers if k.lower() != "expect"]
        up_writer.write(
            _head_bytes(f"{request.method} {request.target} {request.version}", headers)
        )
        flip = None
        if fault is Fault.CORRUPT_REQUEST:
            if request.body_mode == "length" and request.length > 0:
                flip = self._flip_position(request.length)
                self._count(fault)
            else:
                self._count(fault, applied=False)
        if request.body_mode == "length":
            await self._copy_exact(reader, up_writer, request.length, flip_at=flip)
        elif request.body_mode == "chunked":
            await self._copy_chunked(reader, up_writer)
        await self._io(up_writer.drain())

        status_line, resp_headers = await self._read_response_head(up_reader)
        status = int(status_line.split(" ", 2)[1])
        lookup = {k.lower(): v for k, v in resp_headers}
        if request.method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            mode, length = "none", 0
        elif lookup.get("transfer-encoding", "").lower().endswith("chunked"):
            mode, length = "chunked", 0
        elif "content-length" in lookup:
            mode, length = "length", int(lookup["content-length"])
        else:
            mode, length = "eof", 0
        keep = (
            mode != "eof"
            and lookup.get("connection", "").lower() != "close"
            and (request.header("connection") or "").lower() != "close"
        )

        if fault is Fault.STALL:
            self._count(fault)
            if mode == "length" and length > 1:
                # Headers and half the body, then nothing: the client's read timeout fires.
                writer.write(_head_bytes(status_line, resp_headers))
                await self._copy_exact(up_reader, writer, length // 2)
            await self._stall(reader)
            raise _Reset
        if fault in _BODY_FAULTS and not (mode == "length" and length > 1):
            self._count(fault, applied=False)
            fault = None

        writer.write(_head_bytes(status_line, resp_headers))
        if fault is Fault.RESET_RESPONSE:
            self._count(fault)
            await self._copy_exact(up_reader, writer, length // 2)
            raise _Reset
        if fault is Fault.TRUNCATE:
            self._count(fault)
            await self._copy_exact(up_reader, writer, length - max(1, length // 3))
            await self._io(writer.drain())
            writer.close()  # a clean FIN, fewer bytes than Content-Length
            return False
        flip = None
        if fault is Fault.CORRUPT:
            self._count(fault)
            flip = self._flip_position(length)
        if mode == "length":
            await self._copy_exact(up_reader, writer, length, flip_at=flip)
        elif mode == "chunked":
            await self._copy_chunked(up_reader, writer)
        elif mode == "eof":
            for _ in range(1_000_000):
                block = await self._io(up_reader.read(_COPY_BLOCK))
                if not block:
                    break
                writer.write(block)
                await self._io(writer.drain())
        await self._io(writer.drain())
        return keep

    async def _stall(self, reader: asyncio.StreamReader) -> None:
        """Send nothing until the client gives up (closes), the proxy stops, or time is up."""
        assert self._stop is not None
        waits = [
            asyncio.ensure_future(self._stop.wait()),
            asyncio.ensure_future(reader.read(1)),  # b"" (or an error) once the client closes
        ]
        try:
            await asyncio.wait(
                waits, timeout=self.stall_seconds, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            for waiter in waits:
                waiter.cancel()
            await asyncio.gather(*waits, return_exceptions=True)

    def _flip_position(self, length: int) -> int:
        with self._lock:
            return self._rng.randrange(length)

    async def _read_response_head(
        self, reader: asyncio.StreamReader
    ) -> tuple[str, list[tuple[str, str]]]:
        for _ in range(10):  # skip interim 1xx responses
            head = await self._io(reader.readuntil(b"\r\n\r\n"))
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split(" ", 2)[1])
            if status >= 200 or status == 101:
                return lines[0], _parse_headers(lines[1:])
        raise ValueError("too many interim responses")


def _parse_headers(lines: list[str]) -> list[tuple[str, str]]:
    headers = []
    for line in lines[:_MAX_HEADERS]:
        if not line:
            continue
        name, _, value = line.partition(":")
        headers.append((name.strip(), value.strip()))
    return headers


def _head_bytes(first: str, headers: list[tuple[str, str]]) -> bytes:
    return (first + "\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n").encode(
        "latin-1"
    )


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP RST (SO_LINGER 0), not a FIN."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
