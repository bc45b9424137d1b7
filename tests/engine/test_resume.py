from __future__ import annotations

import os
import random
from dataclasses import replace

import anyio
import pytest

from s3flow.client import S3Client
from s3flow.config import MiB
from s3flow.errors import AccessDenied, RetryableError, S3FlowError
from tests.engine.helpers import CONFIG


async def kill_after(client, backend, path, parts_before_crash: int) -> None:
    """Let some parts finish, then make the process 'die' (cancel without cleanup).

    The subprocess kill -9 version of this runs against SeaweedFS in tests/integration.
    """
    from s3flow.journal import Journal

    remove = Journal.remove
    Journal.remove = lambda self: None  # type: ignore[method-assign]
    real = backend.upload_part
    done = 0

    async def dying(*args, **kwargs):
        nonlocal done
        if done >= parts_before_crash:
            await anyio.sleep(10)
        done += 1
        return await real(*args, **kwargs)

    backend.upload_part = dying
    abort = backend.abort_multipart_upload

    async def no_abort(*args, **kwargs):  # kill -9: no cleanup runs
        return None

    backend.abort_multipart_upload = no_abort
    with anyio.move_on_after(0.5):
        await client.upload_file(path, "b", "k", resume=True)
    backend.upload_part = real
    backend.abort_multipart_upload = abort
    Journal.remove = remove  # type: ignore[method-assign]


async def test_resume_sends_only_unfinished_parts(client, backend, tmp_path) -> None:
    data = random.Random(2).randbytes(31 * MiB)
    path = tmp_path / "f"
    path.write_bytes(data)
    await kill_after(client, backend, path, parts_before_crash=3)
    assert len(backend.uploads) == 1
    sent_before = backend.calls["upload_part"]
    result = await client.upload_file(path, "b", "k", resume=True)
    assert backend.buckets["b"]["k"].data == data
    assert result.resumed_parts == 3
    assert backend.calls["upload_part"] - sent_before == 7 - 3
    assert backend.uploads == {}


async def test_changed_source_restarts_and_aborts_stale_upload(client, backend, tmp_path) -> None:
    path = tmp_path / "f"
    path.write_bytes(random.Random(2).randbytes(31 * MiB))
    await kill_after(client, backend, path, parts_before_crash=3)
    (stale,) = backend.uploads
    new = random.Random(3).randbytes(31 * MiB)
    path.write_bytes(new)
    os.utime(path, ns=(1, 2))
    result = await client.upload_file(path, "b", "k", resume=True)
    assert backend.buckets["b"]["k"].data == new and result.resumed_parts == 0
    assert stale not in backend.uploads and backend.uploads == {}


async def test_without_resume_the_stale_upload_is_aborted(client, backend, tmp_path) -> None:
    path = tmp_path / "f"
    path.write_bytes(random.Random(2).randbytes(31 * MiB))
    await kill_after(client, backend, path, parts_before_crash=2)
    result = await client.upload_file(path, "b", "k")
    assert result.resumed_parts == 0 and backend.uploads == {}


async def test_failed_abort_keeps_the_journal_and_the_rerun_resumes(
    backend, delays, tmp_path, state_dir
) -> None:
    """The server goes away mid-upload: parts fail, and so does the abort. The upload is
    still on the server, so the journal must stay for the rerun to resume it."""
    client = S3Client(backend, replace(CONFIG, max_concurrency=1), sleep=delays)
    data = random.Random(4).randbytes(31 * MiB)
    path = tmp_path / "f"
    path.write_bytes(data)
    real_part, real_abort = backend.upload_part, backend.abort_multipart_upload
    sent = 0

    async def gone_after_three(*args, **kwargs):
        nonlocal sent
        if sent >= 3:
            raise RetryableError("connection refused")
        sent += 1
        return await real_part(*args, **kwargs)

    async def abort_unreachable(*args, **kwargs):
        raise RetryableError("connection refused")

    backend.upload_part = gone_after_three
    backend.abort_multipart_upload = abort_unreachable
    with pytest.raises(S3FlowError):
        await client.upload_file(path, "b", "k", resume=True)
    backend.upload_part, backend.abort_multipart_upload = real_part, real_abort
    assert len(backend.uploads) == 1  # the abort could not reach the server
    assert len(list((state_dir / "journal").glob("upload-*.jsonl"))) == 1

    before = backend.calls["upload_part"]
    result = await client.upload_file(path, "b", "k", resume=True)
    assert backend.buckets["b"]["k"].data == data
    assert result.resumed_parts == 3
    assert backend.calls["upload_part"] - before == 7 - 3
    assert backend.uploads == {}
    assert list((state_dir / "journal").glob("*.jsonl")) == []


async def test_abort_that_succeeds_removes_the_journal(client, backend, tmp_path, state_dir):
    path = tmp_path / "f"
    path.write_bytes(random.Random(5).randbytes(12 * MiB))
    real_part = backend.upload_part

    async def refused(*args, **kwargs):
        raise AccessDenied("no")

    backend.upload_part = refused
    with pytest.raises(AccessDenied):
        await client.upload_file(path, "b", "k", resume=True)
    backend.upload_part = real_part
    assert backend.uploads == {}
    assert list((state_dir / "journal").glob("*.jsonl")) == []
