from __future__ import annotations

import json
from dataclasses import asdict

from s3flow.journal import JournalHeader, decode, encode_part
from s3flow.models import Checksum, CompletedPart

HEADER = JournalHeader(
    source="/f",
    endpoint="http://e",
    bucket="b",
    key="k",
    upload_id="u1",
    size=10,
    mtime_ns=5,
    part_size=5,
    checksum="crc32c",
)


def test_round_trip_and_torn_last_line() -> None:
    parts = [CompletedPart(1, "e1", Checksum("crc32c", "AAAA"), 5), CompletedPart(2, "e2", None, 5)]
    text = json.dumps(asdict(HEADER)) + "\n" + "".join(encode_part(p) + "\n" for p in parts)
    header, decoded = decode(text + '{"n": 3, "etag": "e')  # kill -9 mid-write
    assert header == HEADER
    assert decoded == {1: parts[0], 2: parts[1]}


def test_garbage_header_means_no_journal() -> None:
    assert decode("not json") == (None, {})
    assert decode("") == (None, {})
