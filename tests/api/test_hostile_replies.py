"""Malformed answers to single-object requests (HEAD, GET), from a raw server on 127.0.0.1.

Sizes and counts in headers are trusted to size files and plan ranges: anything but a
plain number must become a one-line S3FlowError naming the object, on both backends.
(The same server through the real CLI: tests/cli/test_cli_hostile.py.)
"""

from __future__ import annotations

import pytest

import s3flow
from s3flow import S3FlowError
from s3flow.config import RetryPolicy, TransferConfig
from tests.rawserver import RawServer, response

ETAG = '"0123456789abcdef0123456789abcdef"'
GOOD = {"Content-Length": "10", "ETag": ETAG, "Last-Modified": "Fri, 04 Dec 2026 12:00:00 GMT"}

# name: (HEAD headers, GET headers); the GET body is always 10 bytes.
CASES = {
    "head-length-12abc": (GOOD | {"Content-Length": "12abc"}, GOOD),
    "head-length-superscript-2": (GOOD | {"Content-Length": "²"}, GOOD),
    "head-length-negative": (GOOD | {"Content-Length": "-5"}, GOOD),
    # Arabic-Indic digits: int() takes them.
    "head-length-arabic-digits": (GOOD | {"Content-Length": "\u0661\u0660"}, GOOD),
    "head-parts-count-two": (GOOD | {"x-amz-mp-parts-count": "two"}, GOOD),
    "get-range-total-superscript": (
        GOOD,
        GOOD | {"Content-Range": "bytes 0-9/1²"},
    ),
    "get-range-total-words": (GOOD, GOOD | {"Content-Range": "bytes 0-9/ten"}),
}
CONFIG = TransferConfig(retry=RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.02))


def server_for(case: str) -> RawServer:
    head, get = CASES[case]

    def answer(method: str, target: str, headers: dict[str, str]) -> bytes:
        if method == "HEAD":
            return response("200 OK", head)
        status = "206 Partial Content" if "Content-Range" in get else "200 OK"
        return response(status, get, b"0123456789")

    return RawServer(answer)


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast", "botocore"])
@pytest.mark.parametrize("case", list(CASES))
async def test_malformed_size_is_one_line_error(case, fast_path, tmp_path) -> None:
    with server_for(case) as server:
        async with s3flow.connect(
            endpoint_url=server.url,
            access_key="AKIDEXAMPLE",
            secret_key="not-a-secret",
            config=CONFIG,
            fast_path=fast_path,
        ) as s3:
            call = (
                s3.head_object("b", "dir/k")
                if case.startswith("head")
                else s3.download_file("b", "dir/k", tmp_path / "out")
            )
            with pytest.raises(S3FlowError) as info:
                await call
    text = str(info.value)
    assert "\n" not in text
    assert text.startswith("s3://b/dir/k: ")
    assert "malformed reply" in text or "Content-Length" in text, text
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir()] == []  # no temp file either
