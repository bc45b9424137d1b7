"""Differential fuzzing: s3flow's HTTP/1.1 client against h11, on the same answers.

Hypothesis builds responses (well-formed ones, framing edge cases, then byte-level
mutations of them) and each goes to both parsers: to s3flow's real client through a raw
server on 127.0.0.1 that sends it and closes, and to an h11 client connection. The test
fails when s3flow accepts an answer h11 rejects, when both accept but read a different
status, reason, headers or body, when s3flow refuses a well-formed answer it must read,
or when s3flow fails with anything but HttpError. Examples are derandomized, so CI runs
the same cases every time; raise ``S3FLOW_FUZZ_EXAMPLES`` to search further locally.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass

import h11
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from s3flow.backend.http11 import HttpClient, HttpError

EXAMPLES = int(os.environ.get("S3FLOW_FUZZ_EXAMPLES", "300"))
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@dataclass(frozen=True)
class Read:
    """What a parser made of an answer (``None`` fields: it refused the answer)."""

    status: int
    reason: str
    headers: dict[str, str]
    body: bytes


# The answers


TOKEN = st.text(
    "abcdefghijklmnopqrstuvwxyz-ABCXYZ0123456789!#$%&'*+.^_`|~", min_size=1, max_size=12
)
VALUE = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=20).map(str.strip)
FRAMING = st.sampled_from(["length", "chunked", "close", "both", "none"])
STATUS = st.sampled_from(
    [
        "200 OK",
        "206 Partial Content",
        "204 No Content",
        "304 Not Modified",
        "404 Not Found",
        "500 Internal Server Error",
        "200",
        "200 ",
        "299 Odd\tReason",
    ]
)
ODD_HEADERS = st.sampled_from(
    [
        "Content-Length: 5, 5",
        "Content-Length: +5",
        "Content-Length: 1\xb2",
        "Content-Length: 0x5",
        "Content-Length : 5",
        "Transfer-Encoding: xchunkedx",
        "Transfer-Encoding: gzip, chunked",
        "Transfer-Encoding: Chunked",
        "Transfer-Encoding: identity",
        "Connection: close",
        "Connection: keep-alive",
        "Connection: Upgrade",
        " X-Folded: yes",
        "X-Empty:",
        "X-Spaces:    padded   ",
        "X-Tab:\tvalue\t",
        "X-Obs: caf\xe9",
        "X-Ctl: a\x01b",
        "X-Del: a\x7fb",
        "NoColon",
        ":empty-name",
    ]
)


def chunked(body: bytes, sizes: list[int], ext: bool, trailers: list[tuple[str, str]]) -> bytes:
    out, at = [], 0
    for size in [*sizes, len(body)]:
        piece = body[at : at + size]
        if not piece:
            continue
        at += len(piece)
        out.append(b"%x%s\r\n%s\r\n" % (len(piece), b";k=v" if ext else b"", piece))
    tail = "".join(f"{name}: {value}\r\n" for name, value in trailers)
    return b"".join(out) + b"0\r\n" + tail.encode("latin-1") + b"\r\n"


@st.composite
def answers(draw: st.DrawFn) -> tuple[bytes, str, bool]:
    """(answer bytes, request method, whether the answer is well-formed by construction)."""
    method = draw(st.sampled_from(["GET", "GET", "GET", "HEAD"]))
    version = draw(st.sampled_from(["HTTP/1.1", "HTTP/1.1", "HTTP/1.0"]))
    status = draw(STATUS)
    body = draw(st.binary(max_size=300))
    framing = draw(FRAMING)
    headers = [(n, v) for n, v in draw(st.lists(st.tuples(TOKEN, VALUE), max_size=4))]
    headers = [
        (n, v) for n, v in headers if n.lower() not in ("content-length", "transfer-encoding")
    ]
    lines = [f"{n}: {v}" for n, v in headers]
    if framing in ("length", "both"):
        lines.append(f"Content-Length: {len(body)}")
    if framing in ("chunked", "both"):
        lines.append("Transfer-Encoding: chunked")
        trailers = draw(st.lists(st.tuples(TOKEN, VALUE), max_size=2))
        sizes = draw(st.lists(st.integers(1, 64), max_size=6))
        payload = chunked(body, sizes, draw(st.booleans()), trailers)
    else:
        payload = body
    odd = draw(st.lists(ODD_HEADERS, max_size=2))
    lines += odd
    interim = draw(
        st.sampled_from(
            ["", "", "HTTP/1.1 100 Continue\r\n\r\n", "HTTP/1.1 103 Early\r\nLink: <x>\r\n\r\n"]
        )
    )
    head = f"{version} {status}\r\n" + "".join(f"{line}\r\n" for line in lines) + "\r\n"
    data = interim.encode() + head.encode("latin-1") + payload
    # Well-formed: nothing odd, and a body only where HTTP lets one be (s3flow must read these).
    valid = not odd and framing != "both" and not (framing == "chunked" and version == "HTTP/1.0")
    mutations = draw(st.integers(0, 3))
    for _ in range(mutations):
        data = mutate(draw, data)
    return data, method, valid and mutations == 0


NASTY = [b" ", b"\t", b"\r", b"\n", b"\r\n", b":", b";", b",", b"\x00", b"0", b"f", b"\xb2", b"-"]


def mutate(draw: st.DrawFn, data: bytes) -> bytes:
    at = draw(st.integers(0, max(0, len(data) - 1)))
    how = draw(st.sampled_from(["insert", "delete", "replace", "duplicate"]))
    if how == "insert":
        return data[:at] + draw(st.sampled_from(NASTY)) + data[at:]
    if how == "delete":
        return data[:at] + data[at + 1 :]
    if how == "replace":
        return data[:at] + draw(st.sampled_from(NASTY)) + data[at + 1 :]
    end = draw(st.integers(at, min(len(data), at + 40)))
    return data[:end] + data[at:end] + data[end:]


# The two parsers


def by_h11(data: bytes, method: str) -> Read | None:
    conn = h11.Connection(h11.CLIENT, max_incomplete_event_size=64 * 1024)
    conn.send(h11.Request(method=method, target="/k", headers=[("Host", "127.0.0.1")]))
    conn.send(h11.EndOfMessage())
    conn.receive_data(data)
    conn.receive_data(b"")
    response: h11.Response | None = None
    body = b""
    try:
        while True:
            event = conn.next_event()
            if isinstance(event, h11.Response):
                response = event
            elif isinstance(event, h11.Data):
                body += bytes(event.data)
            elif isinstance(event, h11.EndOfMessage):
                break
            elif isinstance(event, h11.InformationalResponse):
                continue
            else:  # ConnectionClosed or NEED_DATA before the end: not a whole answer
                return None
    except h11.RemoteProtocolError:
        return None
    assert response is not None
    headers: dict[str, str] = {}
    for name, value in response.headers:
        key, text = name.decode("latin-1"), value.decode("latin-1")
        headers[key] = f"{headers[key]}, {text}" if key in headers else text
    return Read(response.status_code, response.reason.decode("latin-1"), headers, body)


async def by_s3flow(data: bytes, method: str) -> Read | None:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(data)
            await writer.drain()
        finally:
            writer.close()

    async with asyncio.timeout(10):
        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            async with HttpClient(limit=1, connect_timeout=2, read_timeout=5) as client:
                try:
                    async with client.request("http", "127.0.0.1", port, method, "/k", {}) as r:
                        body = await r.read()
                        return Read(r.status, r.reason, dict(r.headers.items()), body)
                except HttpError:
                    return None
        finally:
            server.close()
            await server.wait_closed()


def comparable(read: Read) -> Read:
    """h11 lower-cases a Transfer-Encoding value; nothing else differs by design."""
    headers = dict(read.headers)
    if "transfer-encoding" in headers:
        headers["transfer-encoding"] = headers["transfer-encoding"].lower()
    return Read(read.status, read.reason, headers, read.body)


@FUZZ
@given(answers())
def test_s3flow_reads_no_answer_h11_refuses_and_reads_the_same_as_h11(
    case: tuple[bytes, str, bool],
) -> None:
    data, method, valid = case
    ours = asyncio.run(by_s3flow(data, method))
    theirs = by_h11(data, method)
    event(
        {(True, True): "both read it", (False, False): "both refuse"}.get(
            (ours is not None, theirs is not None),
            "only h11 reads it" if ours is None else "only s3flow reads it",
        )
    )
    if ours is not None:
        assert theirs is not None, f"s3flow accepted what h11 refuses: {data!r}"
        assert comparable(ours) == comparable(theirs), f"read differently: {data!r}"
    if valid:
        assert theirs is not None, f"the generator made a bad answer: {data!r}"
        assert ours is not None, f"s3flow refused a well-formed answer: {data!r}"


@pytest.mark.parametrize(
    "data",
    [
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: xchunkedx\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\nhello",
        b"HTTP/1.1 200 OK\r\nX-Ctl: a\x00b\r\nContent-Length: 5\r\n\r\nhello",
    ],
)
def test_the_lenient_answers_of_issue_12_are_caught_by_the_comparison(data: bytes) -> None:
    """The fuzzer's oracle itself: h11 refuses each answer the old client read."""
    assert by_h11(data, "GET") is None
    assert asyncio.run(by_s3flow(data, "GET")) is None
