"""The lane: one thread for quick blocking calls, settled in batches."""

from __future__ import annotations

import contextvars
import os
import threading

import anyio
import pytest

from s3flow import lane


async def test_every_caller_gets_its_own_result_in_submission_order() -> None:
    order: list[int] = []
    results: dict[int, int] = {}

    def work(i: int) -> int:
        order.append(i)
        return i * i

    async def call(i: int) -> None:
        results[i] = await lane.run_in_lane(work, i)

    async with anyio.create_task_group() as tg:
        for i in range(500):
            tg.start_soon(call, i)
    assert results == {i: i * i for i in range(500)}
    assert sorted(order) == list(range(500))
    assert threading.current_thread().name != "s3flow-lane"


REQUEST = contextvars.ContextVar("REQUEST", default="none")


async def test_runs_on_its_own_thread_with_the_callers_context() -> None:
    REQUEST.set("r1")
    seen = await lane.run_in_lane(lambda: (threading.current_thread().name, REQUEST.get()))
    assert seen == ("s3flow-lane", "r1")


async def test_an_error_reaches_its_caller_and_the_lane_keeps_serving() -> None:
    def fail(exc: BaseException) -> None:
        raise exc

    with pytest.raises(FileNotFoundError):
        await lane.run_in_lane(fail, FileNotFoundError("gone"))
    with pytest.raises(KeyboardInterrupt):
        await lane.run_in_lane(fail, KeyboardInterrupt())
    assert await lane.run_in_lane(os.path.basename, "/a/b") == "b"


def test_each_event_loop_gets_its_own_results() -> None:
    # Two loops in two threads share the lane; each future is settled on its own loop.
    got: list[str] = []

    def in_thread(name: str) -> None:
        async def main() -> None:
            got.extend([await lane.run_in_lane(str, name) for _ in range(50)])

        anyio.run(main)

    threads = [threading.Thread(target=in_thread, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(got) == ["a"] * 50 + ["b"] * 50


async def test_a_stop_iteration_reaches_its_caller_and_strands_no_one_in_its_batch() -> None:
    # asyncio futures refuse StopIteration (TypeError in the loop's callback): before,
    # that caller and every caller settled after it in the same batch waited for ever.
    def stop(_: int) -> None:
        raise StopIteration

    results: dict[int, object] = {}
    release = threading.Event()

    async def call(i: int) -> None:
        try:
            results[i] = await lane.run_in_lane(stop if i == 1 else str, i)
        except RuntimeError as error:
            results[i] = error

    async with anyio.create_task_group() as tg:  # pytest-timeout bounds it
        tg.start_soon(lane.run_in_lane, release.wait, 10)  # holds the lane: one batch
        for i in range(4):
            tg.start_soon(call, i)
        await anyio.wait_all_tasks_blocked()
        release.set()
    assert isinstance(results.pop(1), RuntimeError)
    assert results == {0: "0", 2: "2", 3: "3"}
