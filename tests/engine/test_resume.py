from __future__ import annotations

import os
import random

import anyio

from s3flow.config import MiB


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
