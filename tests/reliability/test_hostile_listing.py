"""Hostile listings from a raw server on 127.0.0.1: a page that claims more but gives no
continuation token, a token that repeats, empty truncated pages forever, and malformed
entries. Each must stop with a one-line S3FlowError (through our HTTP client and through
botocore alike), ``ls -r`` must exit non-zero, and ``sync --delete`` must delete nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

import s3flow
from s3flow import S3FlowError

from .listing_server import ListingServer, page_xml

if TYPE_CHECKING:
    from collections.abc import Callable

SCRIPT = Path(sys.executable).parent / "s3flow"
MAX_EMPTY_PAGES = 1000  # s3flow.ops.listing.MAX_EMPTY_PAGES (not imported: the old code lacks it)


def no_token(token: str | None) -> bytes:
    return page_xml([("a", "1"), ("b", "1")], truncated="true")


def repeated_token(token: str | None) -> bytes:
    key = "a" if token is None else "b"
    return page_xml([(key, "1")], truncated="true", token="T")


def empty_forever(token: str | None) -> bytes:
    n = int(token[1:]) if token else 0
    return page_xml([], truncated="true", token=f"t{n + 1}")


def bad_truncated(token: str | None) -> bytes:
    return page_xml([("a", "1")], truncated="maybe", token="T")


def entry(key: str | None, size: str) -> Callable[[str | None], bytes]:
    return lambda token: page_xml([("a", "1"), (key, size)])


PAGES = {
    "truncated page without a token": (no_token, "no continuation token"),
    "repeated continuation token": (repeated_token, "twice"),
    "empty truncated pages forever": (empty_forever, "empty truncated pages"),
    "IsTruncated neither true nor false": (bad_truncated, "IsTruncated"),
    "non-numeric Size": (entry("c", "12abc"), "not a number|invalid literal"),
    "superscript digit Size": (entry("c", "\u00b2"), "not a number|invalid literal"),
    "Contents without Key": (entry(None, "1"), "without"),
}
BOTOCORE_LENIENT = {"IsTruncated neither true nor false"}  # botocore reads it as false


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast", "botocore"])
@pytest.mark.parametrize("case", list(PAGES))
async def test_hostile_listing_is_a_one_line_error(case: str, fast_path: bool) -> None:
    pages, expected = PAGES[case]
    if not fast_path and case in BOTOCORE_LENIENT:
        pytest.skip("botocore parses IsTruncated itself (anything but 'true' is false)")
    with ListingServer(pages) as server:
        async with s3flow.connect(
            endpoint_url=server.url, access_key="AK", secret_key="SK", fast_path=fast_path
        ) as s3:
            with pytest.raises(S3FlowError, match=expected) as caught:
                async for _ in s3.list_objects("b"):
                    pass
    assert "\n" not in str(caught.value) and "s3://b" in str(caught.value)
    assert server.list_requests <= MAX_EMPTY_PAGES + 1


def _run(server: ListingServer, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "AK",
        "AWS_SECRET_ACCESS_KEY": "SK",
        "AWS_DEFAULT_REGION": "us-east-1",
        "S3FLOW_STATE_DIR": str(home / "state"),
        "HOME": str(home),
    }
    return subprocess.run(
        [str(SCRIPT), "--endpoint-url", server.url, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=home,
        timeout=60,
    )


@pytest.mark.parametrize("case", list(PAGES)[:3])
def test_ls_and_sync_delete_stop_on_a_broken_listing(
    case: str, tmp_path: Path, reliability_row
) -> None:
    pages, expected = PAGES[case]
    row = reliability_row(f"listing: {case} (ls -r, sync --delete)", "every listing")
    local = tmp_path / "local"
    local.mkdir()
    for name in ("a", "b", "zz-on-an-unseen-page"):
        (local / name).write_text(name)
    with ListingServer(pages) as server:
        ls = _run(server, tmp_path, "ls", "-r", "s3://b/")
        sync = _run(server, tmp_path, "sync", "s3://b/", str(local), "--delete")
    row.tried = 2
    for run in (ls, sync):
        lines = [line for line in run.stderr.splitlines() if line.strip()]
        assert run.returncode != 0, run
        assert "Traceback" not in run.stderr, run
        assert lines and lines[-1].startswith("Error: ") and expected in lines[-1], run
    row.failed_cleanly = 2
    remaining = sorted(p.name for p in local.iterdir())
    row.bytes_lost = 3 - len(remaining)
    assert remaining == ["a", "b", "zz-on-an-unseen-page"]
