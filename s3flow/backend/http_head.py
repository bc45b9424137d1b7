"""Pure HTTP/1.1 response-head rules for :mod:`s3flow.backend.http11` (no I/O).

Strict where leniency lets a reply be framed two ways (RFC 9112, checked
against h11 by ``tests/unit/test_http_fuzz.py``): a Transfer-Encoding other
than exactly ``chunked``, a Content-Length that is not one run of ASCII
digits (``5, 5``, ``1²``), a header line that is not ``token ":" value``
(a space before the colon, a folded line) are errors, never guesses. s3flow
may refuse what h11 accepts, never the other way round.

>>> head = parse_head(b"HTTP/1.1 200 OK\\r\\nContent-Length: 5\\r\\n\\r\\n", "GET")
>>> head.status, head.length, head.chunked, head.keep_alive
(200, 5, False, True)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["INTERIM", "Head", "HttpError", "check_trailer", "chunk_size", "parse_head"]

# Only these 1xx answers are interim: 101 switches protocols, which we never ask for.
INTERIM = frozenset({100, 102, 103})

_TEXT = r"[\x21-\x7e\x80-\xff]"  # visible ASCII and obs-text (the head is decoded as latin-1)
_STATUS_LINE = re.compile(r"HTTP/1\.([01]) ([0-9]{3})(?: ([\t \x21-\x7e\x80-\xff]*))?")
_FIELD = re.compile(
    rf"([-!#$%&'*+.^_`|~0-9a-zA-Z]+):[ \t]*((?:{_TEXT}+(?:[ \t]+{_TEXT}+)*)?)[ \t]*"
)
_DIGITS = re.compile(r"[0-9]{1,19}")  # ASCII only: str.isdigit() also takes "²"
_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]{1,16})(?:;[^\r\n]*)?[ \t]*")


class HttpError(Exception):
    """The connection failed, closed early, timed out, or the answer was not HTTP/1.1.

    The text never includes header values: they may carry signatures or tokens.
    """


@dataclass(frozen=True, slots=True)
class Head:
    """One parsed response head and how its body is framed.

    ``length``: the body's size (0 for HEAD, 204, 304 and interim answers),
    or ``None`` when it is ``chunked`` or ends when the server closes.
    """

    status: int
    reason: str
    headers: dict[str, str]  # lower-case names; repeated ones joined by ", "
    keep_alive: bool
    length: int | None
    chunked: bool


def _fields(lines: list[str]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in lines:
        match = _FIELD.fullmatch(line)
        if match is None:
            raise HttpError("malformed response header line")
        name, value = match[1].lower(), match[2]
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers


def _length(headers: dict[str, str]) -> int | None:
    """The Content-Length, checked even where it does not frame the body (as h11 does)."""
    value = headers.get("content-length")
    if value is None:
        return None
    if not _DIGITS.fullmatch(value):  # repeated ones were joined: "5, 5" fails here too
        raise HttpError("malformed or repeated Content-Length")
    return int(value)


def _chunked(headers: dict[str, str]) -> bool:
    value = headers.get("transfer-encoding")
    if value is None:
        return False
    if value.lower() != "chunked":  # gzip, chunked would need decoding we do not do
        raise HttpError("unsupported Transfer-Encoding (only chunked is accepted)")
    return True


def _status_line(line: str) -> tuple[str, int, str]:
    """(HTTP minor version, status, reason) of a status line."""
    status_line = _STATUS_LINE.fullmatch(line)
    if status_line is None:
        raise HttpError(f"not an HTTP/1.x answer: {line[:80]!r}")
    return status_line[1], int(status_line[2]), status_line[3] or ""


def parse_head(head: bytes, method: str) -> Head:
    """Parse ``head`` (up to and including the blank line) of an answer to ``method``."""
    lines = head[:-4].decode("latin-1").split("\r\n")
    minor, status, reason = _status_line(lines[0])
    headers = _fields(lines[1:])
    length, chunked = _length(headers), _chunked(headers)
    tokens = {t.strip() for t in headers.get("connection", "").lower().split(",")}
    keep = "keep-alive" in tokens if minor == "0" else "close" not in tokens
    if status < 200:
        if status not in INTERIM:
            raise HttpError(f"unexpected {status} answer (no upgrade was asked for)")
        return Head(status, reason, headers, keep, 0, False)
    if status > 599:
        raise HttpError(f"status {status} is not an HTTP status")
    if method == "HEAD" or status in (204, 304):
        return Head(status, reason, headers, keep, 0, False)
    return Head(status, reason, headers, *_framing(keep, length, chunked))


def _framing(keep: bool, length: int | None, chunked: bool) -> tuple[bool, int | None, bool]:
    """(keep-alive, length, chunked) of an answer that has a body."""
    if chunked:
        # Both framings given: chunked wins, and the connection may not be
        # trusted for another answer (RFC 9112, section 6.3).
        return keep and length is None, None, True
    if length is None:
        return False, None, False  # the body ends when the server closes
    return keep, length, False


def chunk_size(line: bytes) -> int:
    """The size in a chunk-size line (extensions ignored).

    >>> chunk_size(b"1a;name=value")
    26
    """
    match = _CHUNK_SIZE.fullmatch(line)
    if match is None:
        raise HttpError("malformed chunk size in a chunked body")
    return int(match[1], 16)


def check_trailer(line: bytes) -> None:
    """A trailer line must be a well-formed header line, as in the head."""
    _fields([line.decode("latin-1")])
