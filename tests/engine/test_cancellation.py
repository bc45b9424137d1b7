from __future__ import annotations

import anyio

from s3flow.config import MiB


async def test_cancel_mid_upload_aborts(client, backend, tmp_path) -> None:
    (tmp_path / "f").write_bytes(b"x" * 30 * MiB)
    real = backend.upload_part
    started = anyio.Event()

    async def slow(*args, **kwargs):
        started.set()
        await anyio.sleep(10)
        return await real(*args, **kwargs)

    backend.upload_part = slow
    with anyio.move_on_after(5) as scope:
        async with anyio.create_task_group() as tg:
            tg.start_soon(client.upload_file, tmp_path / "f", "b", "k")
            await started.wait()
            tg.cancel_scope.cancel()
    assert not scope.cancelled_caught
    assert backend.calls["create_multipart_upload"] == 1
    assert backend.calls["abort_multipart_upload"] == 1
    assert backend.uploads == {}
    assert client.statistics().bytes_held == 0  # every part buffer given back


async def test_cancel_mid_download_leaves_no_file(client, backend, tmp_path) -> None:
    await client.put_object("b", "k", b"y" * 20 * MiB)
    real = backend.get_object
    started = anyio.Event()

    async def slow(*args, **kwargs):
        started.set()
        await anyio.sleep(10)
        return await real(*args, **kwargs)

    backend.get_object = slow
    async with anyio.create_task_group() as tg:
        tg.start_soon(client.download_file, "b", "k", tmp_path / "out")
        await started.wait()
        tg.cancel_scope.cancel()
    assert (
        sorted(p.name for p in tmp_path.iterdir()) == ["state"] or not (tmp_path / "out").exists()
    )
    assert [p for p in tmp_path.iterdir() if p.name.startswith(".out")] == []
    assert not (tmp_path / "out").exists()
    assert client.statistics().bytes_held == 0


async def test_cancel_while_create_is_in_flight_still_aborts(client, backend, tmp_path) -> None:
    (tmp_path / "f").write_bytes(b"x" * 12 * MiB)
    real = backend.create_multipart_upload

    async def slow_create(*args, **kwargs):
        await anyio.sleep(0.2)  # the server creates it; our cancel lands meanwhile
        return await real(*args, **kwargs)

    backend.create_multipart_upload = slow_create
    with anyio.move_on_after(0.05):
        await client.upload_file(tmp_path / "f", "b", "k")
    assert backend.calls["create_multipart_upload"] == 1
    assert backend.uploads == {}


async def test_download_refuses_to_replace_a_special_file(client, backend, tmp_path) -> None:
    import os

    import pytest

    from s3flow import LocalFileError

    await client.put_object("b", "k", b"data")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(LocalFileError, match="not a regular file"):
        await client.download_file("b", "k", fifo)
    assert fifo.is_fifo()
