"""Retry policy: which failures to retry, how long to wait, and the loop.

Each part or range calls :func:`with_retries` on its own, so each has its own
budget. ``sleep`` and ``rng`` are injected so tests never wait.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

import anyio

from s3flow.errors import RetryableError, S3FlowError, TransferFailed

if TYPE_CHECKING:
    from s3flow.config import RetryPolicy

__all__ = ["delay", "is_retryable", "with_retries"]

R = TypeVar("R")
Sleep = Callable[[float], Awaitable[None]]
OnRetry = Callable[[int, S3FlowError], None]


def is_retryable(error: BaseException) -> bool:
    """True for failures another attempt may fix (classified at the backend boundary)."""
    return isinstance(error, RetryableError)


def delay(policy: RetryPolicy, attempt: int, rng: random.Random) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (0-based).

    Full jitter: parts that hit the same SlowDown must not retry in lockstep.
    """
    return rng.uniform(0, min(policy.max_delay, policy.base_delay * 2**attempt))


async def with_retries(
    attempt: Callable[[], Awaitable[R]],
    policy: RetryPolicy,
    *,
    what: str = "request",
    bucket: str | None = None,
    key: str | None = None,
    part_number: int | None = None,
    on_retry: OnRetry | None = None,
    sleep: Sleep = anyio.sleep,
    rng: random.Random | None = None,
) -> R:
    """Run ``attempt()`` until it succeeds or the budget is spent.

    Non-retryable errors propagate at once. When the budget is spent, raises
    :class:`TransferFailed` naming the part, the attempts and the last error.
    """
    rng = rng or random.Random()
    for n in range(policy.max_attempts):
        try:
            return await attempt()
        except RetryableError as error:
            if n + 1 == policy.max_attempts:
                raise TransferFailed(
                    f"{what} failed after {policy.max_attempts} attempts; last error: {error}",
                    bucket=bucket,
                    key=key,
                    part_number=part_number,
                    attempts=policy.max_attempts,
                ) from error
            if on_retry is not None:
                on_retry(n + 1, error)
            await sleep(delay(policy, n, rng))
    raise AssertionError("unreachable")
