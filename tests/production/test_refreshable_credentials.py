"""Refreshable credentials on the fast path: keys rotating mid-transfer, a rejected key
refreshed once, and a credential_process profile with an Expiration.

SeaweedFS checks every signature and accepts the identity's spare keys, so a
request signed with a key it does not know fails there. The fast path's
requests are observed through its --debug log (``s3flow.http``), which names
the last four characters of the access key that signed each request.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import textwrap
from typing import TYPE_CHECKING

import anyio
import pytest

import s3flow
from s3flow.config import MiB, RetryPolicy, TransferConfig
from s3flow.progress import PartDone, PartRetried
from s3flow.testing.servers import s3_request
from tests.production.creds_server import RotatingCredentials

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from s3flow.progress import ProgressEvent
    from s3flow.testing.servers import S3Server

pytestmark = pytest.mark.timeout(180)

CONFIG = TransferConfig(
    part_size=5 * MiB,
    multipart_threshold=5 * MiB,
    max_concurrency=2,
    retry=RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05),
)
PART_PUT = re.compile(r"PUT http://\S+\?partNumber=(\d+)&uploadId=\S+ -> 200 \(key …(\w{4})\)")


def _all_keys(server: S3Server) -> list[tuple[str, str]]:
    return [(server.access_key, server.secret_key), *server.alternate_keys]


async def _slow_source(parts: int, pause: float) -> AsyncIterator[bytes]:
    for n in range(parts):
        yield bytes([n]) * (5 * MiB)
        await anyio.sleep(pause)  # a long transfer: the keys rotate while parts are in flight


async def test_keys_rotating_mid_transfer_no_failed_part_fast_path_throughout(
    tls_server: S3Server, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="s3flow.http")
    rotating = RotatingCredentials(_all_keys(tls_server), lifetime=1.5)
    events: list[ProgressEvent] = []
    parts = 14
    with rotating.running():
        monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", rotating.url)
        s3_request(tls_server, "PUT", "/rotation")
        async with s3flow.connect(
            endpoint_url=tls_server.endpoint_url, region="us-east-1", config=CONFIG
        ) as s3:
            result = await s3.upload_stream(
                _slow_source(parts, 0.5), "rotation", "big", progress=events.append
            )
            assert result.size == parts * 5 * MiB
            got = b"".join([chunk async for chunk in s3.iter_object("rotation", "big")])
            assert got == b"".join(bytes([n]) * (5 * MiB) for n in range(parts))
            await s3.delete_bucket("rotation", force=True)
    # The endpoint was asked again and again, and handed out several different keys.
    assert len(rotating.served) >= 4, rotating.served
    assert len(set(rotating.served)) >= 3
    # No part failed, none was retried, and every part went out on the fast path.
    assert not [e for e in events if isinstance(e, PartRetried)]
    assert sorted(e.part_number for e in events if isinstance(e, PartDone)) == list(
        range(1, parts + 1)
    )
    sent = [PART_PUT.search(r.getMessage()) for r in caplog.records if r.name == "s3flow.http"]
    part_puts = [m for m in sent if m]
    assert sorted(int(m.group(1)) for m in part_puts) == list(range(1, parts + 1))
    # ... signed with more than one of the rotating keys.
    used = {m.group(2) for m in part_puts}
    assert len(used) >= 2, used
    assert used <= {access[-4:] for access in rotating.served}


async def test_a_rejected_key_is_refreshed_once_and_the_request_sent_again(
    tls_server: S3Server, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="s3flow.http")
    # The first key handed out was already rotated away: the server does not know it.
    keys = [("AKROTATEDAWAY000", "gone"), *_all_keys(tls_server)]
    rotating = RotatingCredentials(keys, lifetime=3600)
    with rotating.running():
        monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", rotating.url)
        s3_request(tls_server, "PUT", "/rejected")
        async with s3flow.connect(
            endpoint_url=tls_server.endpoint_url, region="us-east-1", config=CONFIG
        ) as s3:
            await s3.put_object("rejected", "k", b"hello")
            assert await s3.get_object("rejected", "k") == b"hello"
            await s3.delete_bucket("rejected", force=True)
    assert rotating.served[:2] == ["AKROTATEDAWAY000", tls_server.access_key]
    lines = [r.getMessage() for r in caplog.records if r.name == "s3flow.http"]
    assert any("PUT" in line and "-> 403 (key …Y000)" in line for line in lines), lines
    assert any(
        "PUT" in line and f"-> 200 (key …{tls_server.access_key[-4:]})" in line for line in lines
    )
    # Static keys the server rejects are not "refreshed": one request, one clear error.
    caplog.clear()
    async with s3flow.connect(
        endpoint_url=tls_server.endpoint_url,
        access_key="AKROTATEDAWAY000",
        secret_key="gone",
        region="us-east-1",
        config=CONFIG,
    ) as s3:
        with pytest.raises(s3flow.CredentialsError):
            await s3.put_object("any-bucket", "k", b"x")
    assert len([r for r in caplog.records if r.name == "s3flow.http"]) == 1


async def test_credential_process_profile_with_expiration(
    tls_server: S3Server,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="s3flow.http")
    counter = tmp_path / "calls"
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps(_all_keys(tls_server)))
    script = tmp_path / "creds.py"
    script.write_text(
        textwrap.dedent(f"""
        import datetime as dt, json, pathlib
        calls = pathlib.Path({str(counter)!r})
        n = int(calls.read_text()) if calls.exists() else 0
        calls.write_text(str(n + 1))
        keys = json.loads(pathlib.Path({str(keys)!r}).read_text())
        access, secret = keys[n % len(keys)]
        expires = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=901)
        print(json.dumps({{"Version": 1, "AccessKeyId": access, "SecretAccessKey": secret,
                          "Expiration": expires.strftime("%Y-%m-%dT%H:%M:%SZ")}}))
        """)
    )
    config = tmp_path / "config"
    config.write_text(
        f"[profile expiring]\nregion = us-east-1\ncredential_process = {sys.executable} {script}\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    source = tmp_path / "src"
    source.write_bytes(b"p" * (12 * MiB))
    s3_request(tls_server, "PUT", "/process")
    async with s3flow.connect(
        endpoint_url=tls_server.endpoint_url, profile="expiring", config=CONFIG
    ) as s3:
        await s3.upload_file(source, "process", "f")
        await anyio.sleep(1.2)  # past the advisory refresh time: the next request refreshes
        await s3.download_file("process", "f", tmp_path / "back")
        await s3.delete_bucket("process", force=True)
    assert (tmp_path / "back").read_bytes() == source.read_bytes()
    assert int(counter.read_text()) >= 2  # the process ran again before expiry
    lines = [r.getMessage() for r in caplog.records if r.name == "s3flow.http"]
    assert sum("partNumber=" in line and "-> 200" in line for line in lines) == 3


async def test_a_failing_credential_process_is_one_line(
    tls_server: S3Server, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    script = tmp_path / "broken.py"
    script.write_text(
        "import sys\nsys.stderr.write('token expired: run sso login\\n')\nsys.exit(3)\n"
    )
    config = tmp_path / "config"
    config.write_text(
        f"[profile broken]\nregion = us-east-1\ncredential_process = {sys.executable} {script}\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    with pytest.raises(s3flow.CredentialsError) as caught:
        async with s3flow.connect(endpoint_url=tls_server.endpoint_url, profile="broken"):
            pass
    assert "\n" not in str(caught.value) and "could not get credentials" in str(caught.value)


def test_credential_process_runs_without_importing_botocore(
    tls_server: S3Server, tmp_path: Path
) -> None:
    """botocore + aiohttp cost ~0.5 s of start-up; a credential_process profile needs neither
    for transfers (bucket calls still open botocore on demand)."""
    s3_request(tls_server, "PUT", "/no-botocore")
    script = tmp_path / "creds.py"
    script.write_text(
        textwrap.dedent(f"""
        import datetime as dt, json
        expires = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1)
        print(json.dumps({{"Version": 1, "AccessKeyId": {tls_server.access_key!r},
                          "SecretAccessKey": {tls_server.secret_key!r},
                          "Expiration": expires.isoformat()}}))
        """)
    )
    config = tmp_path / "config"
    config.write_text(
        f"[profile p]\nregion = us-east-1\ncredential_process = {sys.executable} {script}\n"
    )
    program = textwrap.dedent(f"""
        import sys, anyio, s3flow
        async def main():
            async with s3flow.connect(endpoint_url={tls_server.endpoint_url!r}, profile="p") as s3:
                await s3.put_object("no-botocore", "k", b"payload")
                assert await s3.get_object("no-botocore", "k") == b"payload"
        anyio.run(main)
        print(sorted(m for m in ("botocore", "aiobotocore", "aiohttp") if m in sys.modules))
        """)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["AWS_CONFIG_FILE"] = str(config)
    done = subprocess.run(
        [sys.executable, "-c", program], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"
