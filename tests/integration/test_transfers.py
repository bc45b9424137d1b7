"""Round trips, integrity and clean failure against a real S3 server (SeaweedFS)."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import anyio
import pytest

import s3flow
from s3flow import ChecksumMismatch, TransferFailed
from s3flow.config import MiB
from s3flow.journal import journal_dir

pytestmark = pytest.mark.seaweed


@pytest.mark.parametrize("size", [0, 1, 5 * MiB, 5 * MiB + 1, 23 * MiB + 7])
async def test_round_trip(weed, weed_bucket, tmp_path, payload, size) -> None:
    data = payload(size, seed=size)
    (tmp_path / "src").write_bytes(data)
    up = await weed.upload_file(tmp_path / "src", weed_bucket, "obj")
    down = await weed.download_file(weed_bucket, "obj", tmp_path / "dst")
    assert hashlib.sha256((tmp_path / "dst").read_bytes()).digest() == hashlib.sha256(data).digest()
    assert up.size == down.size == size
    assert [u async for u in weed.list_uploads(weed_bucket)] == []


async def test_server_verifies_our_part_checksums(weed, weed_bucket) -> None:
    """A wrong CRC32C is refused by the server; the part is retried, then the upload aborted."""
    from s3flow.models import Checksum

    upload_id = await weed.backend.create_multipart_upload(
        weed_bucket, "k", checksum_algorithm="crc32c"
    )
    with pytest.raises(ChecksumMismatch):
        await weed.backend.upload_part(
            weed_bucket, "k", upload_id, 1, b"x" * 100, checksum=Checksum("crc32c", "AAAAAA==")
        )
    await weed.backend.abort_multipart_upload(weed_bucket, "k", upload_id)


async def test_exhausted_budget_aborts_and_leaves_no_upload(
    weed, weed_bucket, tmp_path, payload, monkeypatch
) -> None:
    import base64

    from s3flow.models import Checksum

    real = weed.backend.upload_part

    async def lying(*args, checksum, **kwargs):  # every part claims a wrong CRC: BadDigest
        crc = bytearray(base64.b64decode(checksum.value))
        crc[-1] ^= 1
        wrong = Checksum(checksum.algorithm, base64.b64encode(crc).decode())
        return await real(*args, checksum=wrong, **kwargs)

    monkeypatch.setattr(weed.backend, "upload_part", lying)
    (tmp_path / "src").write_bytes(payload(12 * MiB))
    with pytest.raises(TransferFailed, match="after 3 attempts") as info:
        await weed.upload_file(tmp_path / "src", weed_bucket, "obj")
    assert info.value.attempts == 3
    assert [u async for u in weed.list_uploads(weed_bucket)] == []
    assert [o async for o in weed.list_objects(weed_bucket)] == []


async def test_presigned_url_expiry_is_enforced(weed, weed_bucket) -> None:
    import urllib.error
    import urllib.request

    await weed.put_object(weed_bucket, "k", b"secret report")
    url = weed.presign(weed_bucket, "k", expires_in=1)
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == b"secret report"
    await anyio.sleep(2.5)
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(url, timeout=10)
    with info.value:  # closes the response it holds
        assert info.value.code == 403


async def test_wrong_secret_is_refused(seaweed_server) -> None:
    async with s3flow.connect(
        endpoint_url=seaweed_server.endpoint_url,
        access_key=seaweed_server.access_key,
        secret_key="wrong-secret",
    ) as s3:
        with pytest.raises(s3flow.CredentialsError) as info:
            await s3.list_buckets()
    assert "wrong-secret" not in str(info.value)


CHILD = textwrap.dedent(
    """
    import sys, anyio, s3flow
    from s3flow.config import TransferConfig, MiB
    endpoint, access, secret, bucket, path = sys.argv[1:6]

    async def main():
        config = TransferConfig(part_size=5 * MiB, max_concurrency=1)
        async with s3flow.connect(endpoint, access, secret, config=config) as s3:
            await s3.upload_file(path, bucket, "resumed", resume=True)

    anyio.run(main)
    """
)


def wait_for_parts(state: Path, count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for journal in (state / "journal").glob("upload-*.jsonl"):
            if len(journal.read_text().splitlines()) > count:  # header + parts
                return
        time.sleep(0.05)
    raise AssertionError("the child never finished enough parts")


async def test_kill_9_mid_upload_then_resume(
    seaweed_server, weed, weed_bucket, tmp_path, payload, monkeypatch
) -> None:
    state = tmp_path / "state"
    monkeypatch.setenv("S3FLOW_STATE_DIR", str(state))
    data = payload(60 * MiB, seed=9)
    src = tmp_path / "big"
    src.write_bytes(data)
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            CHILD,
            seaweed_server.endpoint_url,
            seaweed_server.access_key,
            seaweed_server.secret_key,
            weed_bucket,
            str(src),
        ],
        env={**os.environ, "S3FLOW_STATE_DIR": str(state)},
    )
    try:
        await anyio.to_thread.run_sync(wait_for_parts, state, 3)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    assert len([u async for u in weed.list_uploads(weed_bucket)]) == 1  # left by the kill
    assert journal_dir() == state / "journal"

    counted = {"parts": 0}
    real = weed.backend.upload_part

    async def counting(*args, **kwargs):
        counted["parts"] += 1
        return await real(*args, **kwargs)

    monkeypatch.setattr(weed.backend, "upload_part", counting)
    result = await weed.upload_file(src, weed_bucket, "resumed", resume=True)
    assert result.resumed_parts >= 3
    assert counted["parts"] == result.parts - result.resumed_parts
    await weed.download_file(weed_bucket, "resumed", tmp_path / "back")
    assert (tmp_path / "back").read_bytes() == data
    assert [u async for u in weed.list_uploads(weed_bucket)] == []
    assert list((state / "journal").glob("*.jsonl")) == []


async def test_download_interrupted_leaves_no_file(weed, weed_bucket, tmp_path, payload) -> None:
    await weed.put_object(weed_bucket, "k", payload(30 * MiB))
    # Cancelled when its first range lands (not after a fixed time: a quiet machine can
    # fetch all 30 MiB in 50 ms), while the other ranges are still in flight.
    with anyio.CancelScope() as scope:
        await weed.download_file(
            weed_bucket, "k", tmp_path / "out", progress=lambda event: scope.cancel()
        )
    assert scope.cancelled_caught
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir() if ".s3flow-" in p.name] == []


async def test_presigned_put_is_limited_to_its_key(weed, weed_bucket) -> None:
    import urllib.error
    import urllib.request

    url = weed.presign(weed_bucket, "allowed.txt", expires_in=30, method="PUT")
    other = url.replace("/allowed.txt?", "/other.txt?")
    assert other != url

    def put(target: str) -> int:
        request = urllib.request.Request(
            target, data=b"x", method="PUT", headers={"Content-Type": "application/octet-stream"}
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as error:
            with error:
                return error.code

    assert await anyio.to_thread.run_sync(put, other) == 403
    assert await anyio.to_thread.run_sync(put, url) == 200
    assert await weed.get_object(weed_bucket, "allowed.txt") == b"x"
    assert [o.key async for o in weed.list_objects(weed_bucket)] == ["allowed.txt"]


DOWNLOAD_CHILD = textwrap.dedent(
    """
    import sys, anyio, s3flow
    from s3flow.config import TransferConfig, MiB
    endpoint, access, secret, bucket, path = sys.argv[1:6]

    async def main():
        config = TransferConfig(part_size=5 * MiB, max_concurrency=1)
        async with s3flow.connect(endpoint, access, secret, config=config) as s3:
            await s3.download_file(bucket, "big", path)

    anyio.run(main)
    """
)


def wait_for_download_parts(state: Path, count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for journal in (state / "journal").glob("download-*.jsonl"):
            if len(journal.read_text().splitlines()) > count:  # header + parts
                return
        time.sleep(0.005)
    raise AssertionError("the child never finished enough ranges")


@pytest.mark.parametrize("old", [None, b"the previous version\n"])
async def test_kill_9_mid_download_never_leaves_a_partial_file(
    seaweed_server, weed, weed_bucket, tmp_path, payload, monkeypatch, old
) -> None:
    """No per-file fsync by default, yet a killed download leaves the old file or none."""
    state = tmp_path / "state"
    monkeypatch.setenv("S3FLOW_STATE_DIR", str(state))
    data = payload(80 * MiB, seed=14)
    await weed.put_object(weed_bucket, "big", data)
    dest = tmp_path / "out" / "big"
    dest.parent.mkdir()
    if old is not None:
        dest.write_bytes(old)
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            DOWNLOAD_CHILD,
            seaweed_server.endpoint_url,
            seaweed_server.access_key,
            seaweed_server.secret_key,
            weed_bucket,
            str(dest),
        ],
        env={**os.environ, "S3FLOW_STATE_DIR": str(state)},
    )
    try:
        await anyio.to_thread.run_sync(wait_for_download_parts, state, 2)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    assert child.returncode == -signal.SIGKILL  # killed mid-way, not finished
    if old is None:
        assert not dest.exists()
    else:
        assert dest.read_bytes() == old
    temps = [p for p in dest.parent.iterdir() if ".s3flow-" in p.name]
    assert len(temps) == 1  # left by the kill, for the resume

    result = await weed.download_file(weed_bucket, "big", dest)
    assert result.resumed_parts >= 2
    assert hashlib.sha256(dest.read_bytes()).digest() == hashlib.sha256(data).digest()
    assert sorted(p.name for p in dest.parent.iterdir()) == ["big"]
