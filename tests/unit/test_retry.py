from __future__ import annotations

import random

import pytest

from s3flow.config import RetryPolicy
from s3flow.errors import AccessDenied, RetryableError, SlowDown, TransferFailed
from s3flow.retry import delay, is_retryable, with_retries


def test_classification() -> None:
    assert is_retryable(SlowDown("x"))
    assert is_retryable(RetryableError("x"))
    assert not is_retryable(AccessDenied("x"))


def test_delay_is_full_jitter_and_capped() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=3.0)
    rng = random.Random(1)
    for attempt in range(12):
        for _ in range(50):
            d = delay(policy, attempt, rng)
            assert 0 <= d <= min(3.0, 0.5 * 2**attempt)


class Flaky:
    def __init__(self, failures: int, error: Exception) -> None:
        self.failures, self.error, self.calls = failures, error, 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return "ok"


async def test_budget_absorbs_failures_with_fake_sleep() -> None:
    delays: list[float] = []

    async def sleep(seconds: float) -> None:
        delays.append(seconds)

    retried: list[int] = []
    attempt = Flaky(3, SlowDown("503"))
    result = await with_retries(
        attempt,
        RetryPolicy(max_attempts=4),
        sleep=sleep,
        rng=random.Random(0),
        on_retry=lambda n, e: retried.append(n),
    )
    assert result == "ok" and attempt.calls == 4
    assert len(delays) == 3 and retried == [1, 2, 3]


async def test_budget_exhausted_raises_transfer_failed() -> None:
    async def sleep(seconds: float) -> None:
        pass

    attempt = Flaky(10, RetryableError("500 InternalError"))
    with pytest.raises(TransferFailed) as info:
        await with_retries(
            attempt,
            RetryPolicy(max_attempts=3),
            what="part 7",
            bucket="b",
            key="k",
            part_number=7,
            sleep=sleep,
        )
    assert attempt.calls == 3
    assert info.value.part_number == 7 and info.value.attempts == 3
    assert "part 7 failed after 3 attempts" in str(info.value)
    assert "500 InternalError" in str(info.value)


async def test_non_retryable_fails_at_once() -> None:
    async def sleep(seconds: float) -> None:
        raise AssertionError("must not sleep")

    attempt = Flaky(1, AccessDenied("no"))
    with pytest.raises(AccessDenied):
        await with_retries(attempt, RetryPolicy(), sleep=sleep)
    assert attempt.calls == 1
