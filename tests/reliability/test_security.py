"""Secrets never leak: a full run with DEBUG logging on every logger, then a search of
everything captured for the secret key and the presigned URL's signature."""

from __future__ import annotations

import logging
import traceback
import urllib.request
from urllib.parse import parse_qs, urlsplit

import anyio
import pytest

import s3flow
from s3flow import S3FlowError

from .helpers import CONFIG

pytestmark = pytest.mark.seaweed

_LOGGERS = ("", "botocore", "aiobotocore", "s3flow", "aiohttp", "urllib3")


def _exception_texts(error: BaseException) -> list[str]:
    """str, repr and the formatted traceback of an error and everything chained to it."""
    texts = ["".join(traceback.format_exception(error))]
    seen: set[int] = set()
    current: BaseException | None = error
    for _ in range(20):  # bounded walk down the chain
        if current is None or id(current) in seen:
            break
        seen.add(id(current))
        texts += [str(current), repr(current)]
        current = current.__cause__ or current.__context__
    return texts


def _fetch(url: str) -> bytes:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback, no proxy
    with opener.open(url, timeout=10) as response:
        return response.read()


async def test_no_secret_in_debug_logs_exceptions_or_reprs(
    seaweed_server, bucket, key, tmp_path, source, caplog
) -> None:
    for name in _LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    secret = seaweed_server.secret_key
    wrong_secret = secret[::-1] + "-wrong"
    src, data = source(1)
    errors: list[BaseException] = []
    reprs: list[str] = []

    async with s3flow.connect(
        endpoint_url=seaweed_server.endpoint_url,
        access_key=seaweed_server.access_key,
        secret_key=secret,
        config=CONFIG,
    ) as s3:
        await s3.upload_file(src, bucket, key)
        await s3.download_file(bucket, key, tmp_path / "dst")
        assert (tmp_path / "dst").read_bytes() == data
        url = s3.presign(bucket, key, expires_in=120)
        assert await anyio.to_thread.run_sync(_fetch, url) == data
        try:
            await s3.download_file(bucket, key + "-missing", tmp_path / "missing")
        except S3FlowError as error:
            errors.append(error)
        await s3.delete_object(bucket, key + "-none")  # through botocore: its DEBUG logs too
        reprs += [repr(s3), str(s3), repr(s3.backend), repr(s3.config)]
    async with s3flow.connect(
        endpoint_url=seaweed_server.endpoint_url,
        access_key=seaweed_server.access_key,
        secret_key=wrong_secret,
        config=CONFIG,
    ) as bad:
        try:
            await bad.head_object(bucket, key)
        except S3FlowError as error:
            errors.append(error)
        reprs += [repr(bad), repr(bad.backend)]
    assert len(errors) == 2, errors

    signature = parse_qs(urlsplit(url).query)["X-Amz-Signature"][0]
    assert len(signature) == 64
    logged = [caplog.text]
    for record in caplog.records:
        logged += [record.getMessage(), record.exc_text or ""]
    assert len(caplog.records) > 50, "DEBUG logging of the S3 stack was not captured"
    assert any(r.name == "s3flow.http" for r in caplog.records), "the fast path logged nothing"
    sources = {
        "log": logged,
        "exception": [t for e in errors for t in _exception_texts(e)],
        "repr": reprs,
    }
    leaks = [
        f"{what} in {where}: "
        + next((line for line in "\n".join(texts).splitlines() if value in line), "")[:200]
        for where, texts in sources.items()
        for what, value in (
            ("secret key", secret),
            ("wrong secret key", wrong_secret),
            ("presigned X-Amz-Signature", signature),
        )
        if any(value in text for text in texts)
    ]
    leaking_loggers = sorted(
        {r.name for r in caplog.records if signature in r.getMessage() or secret in r.getMessage()}
    )
    assert not leaks, f"{leaks}; loggers: {leaking_loggers}"
