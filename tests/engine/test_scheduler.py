from __future__ import annotations

import anyio
import pytest

from s3flow.errors import S3FlowError
from s3flow.scheduler import ByteBudget, run_bounded, run_stream


async def test_limit_respected_and_order_kept() -> None:
    running = peak = 0

    async def work(n: int) -> int:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await anyio.sleep(0)
        await anyio.sleep(0)
        running -= 1
        return n * 2

    assert await run_bounded(range(50), work, limit=4) == [n * 2 for n in range(50)]
    assert peak == 4


async def test_first_failure_cancels_siblings_and_is_raised_alone() -> None:
    started: list[int] = []
    cancelled = 0

    async def work(n: int) -> None:
        nonlocal cancelled
        started.append(n)
        if n == 1:
            raise S3FlowError("part 1 broke")
        try:
            await anyio.sleep(10)
        except anyio.get_cancelled_exc_class():
            cancelled += 1
            raise

    with anyio.fail_after(5), pytest.raises(S3FlowError, match="part 1 broke"):
        await run_bounded(range(100), work, limit=3)
    assert cancelled == 2 and len(started) == 3  # the rest never started


async def test_bug_stays_loud() -> None:
    async def work(n: int) -> None:
        raise KeyError(n)

    with pytest.raises(ExceptionGroup):
        await run_bounded([1], work, limit=1)


async def test_run_stream_bounds_what_it_holds() -> None:
    produced = consumed = max_ahead = 0

    async def source():
        nonlocal produced, max_ahead
        for n in range(200):
            produced += 1
            max_ahead = max(max_ahead, produced - consumed)
            yield n

    async def work(n: int) -> None:
        nonlocal consumed
        await anyio.sleep(0)
        consumed += 1

    await run_stream(source(), work, limit=5)
    assert consumed == 200 and max_ahead <= 6


async def test_byte_budget_caps_bytes_in_flight() -> None:
    budget = ByteBudget(10)
    peak = 0

    async def work(n: int) -> None:
        nonlocal peak
        async with budget.hold(4):
            peak = max(peak, budget.in_use)
            await anyio.sleep(0)

    await run_bounded(range(20), work, limit=8)
    assert peak <= 10 and budget.in_use == 0


async def test_byte_budget_lets_one_oversized_request_through() -> None:
    budget = ByteBudget(10)
    with anyio.fail_after(1):
        async with budget.hold(50):
            assert budget.in_use == 50
    assert budget.in_use == 0


async def test_byte_budget_is_given_back_on_error_and_on_cancel() -> None:
    budget = ByteBudget(10)
    with pytest.raises(KeyError):
        async with budget.buffer(4):
            raise KeyError("boom")
    with anyio.move_on_after(0):
        async with budget.hold(6):
            await anyio.sleep(1)
    assert budget.in_use == 0
    with anyio.fail_after(1):  # the whole budget is free again: no waiting
        async with budget.hold(10):
            pass


async def test_byte_budget_recycles_part_buffers() -> None:
    budget = ByteBudget(100, pool_limit=8)
    async with budget.buffer(8) as first:
        assert len(first) == 8 and budget.in_use == 8
    async with budget.buffer(8) as again:
        assert again is first  # no fresh allocation (and its page faults) per part
    async with budget.buffer(8) as a, budget.buffer(8) as b:
        assert a is first and b is not first and budget.in_use == 16
    assert budget.in_use == 0


def test_adaptive_limit_halves_once_per_burst_and_recovers() -> None:
    from s3flow.scheduler import AdaptiveLimit

    now = [0.0]
    limit = AdaptiveLimit(16, cooldown=1.0, clock=lambda: now[0])
    limit.throttled()
    limit.throttled()  # same burst: no second cut
    assert limit.current == 8
    now[0] = 2.0
    limit.throttled()
    assert limit.current == 4
    for _ in range(4):
        limit.succeeded()
    assert limit.current == 5  # additive increase: +1 per window of `current` successes
    for _ in range(200):
        limit.succeeded()
    assert limit.current == 16


async def test_slowdown_lowers_client_concurrency(client, backend, tmp_path) -> None:
    from s3flow.errors import SlowDown
    from s3flow.testing.faults import FaultRule

    backend.rules = [
        FaultRule(
            operation="upload_part", part_number=1, times=1, error=lambda: SlowDown("503 SlowDown")
        )
    ]
    (tmp_path / "f").write_bytes(b"z" * 12 * 1024 * 1024)
    before = client.statistics().requests_allowed
    await client.upload_file(tmp_path / "f", "b", "k")
    assert client.statistics().requests_allowed < before


async def test_concurrency_recovers_after_throttling_stops(backend, tmp_path) -> None:
    """SlowDown bursts cut the client's request limit; clean traffic grows it back to the max."""
    import random

    from s3flow.client import S3Client
    from s3flow.errors import SlowDown
    from s3flow.testing.faults import FaultRule
    from tests.engine.helpers import CONFIG, Delays

    clock = [0.0]  # one cut per burst, bursts 2 s apart
    client = S3Client(backend, CONFIG, sleep=Delays(), rng=random.Random(0), clock=lambda: clock[0])
    maximum = client.statistics().requests_max
    for burst in range(3):
        clock[0] = burst * 2.0
        backend.rules = [
            FaultRule(operation="put_object", times=1, error=lambda: SlowDown("503 SlowDown"))
        ]
        await client.put_object("b", f"k{burst}", b"x")
    throttled = client.statistics().requests_allowed
    assert throttled == maximum // 8
    successes = 0
    while client.statistics().requests_allowed < maximum and successes < 10_000:
        await client.put_object("b", "k", b"x")
        successes += 1
    assert client.statistics().requests_allowed == maximum
    assert successes < 10_000
