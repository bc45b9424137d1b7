"""What reliability test modules share: the transfer size and config, timeouts, seed choice."""

from __future__ import annotations

import random

from s3flow.config import MiB, RetryPolicy, TransferConfig

__all__ = ["CONFIG", "READ_TIMEOUT", "SIZE", "STALL_SECONDS", "seed_with_early_hit"]

# 24 MiB in 8 MiB parts: three parts (and three ranges), all in flight at once.
SIZE = 24 * MiB
CONFIG = TransferConfig(
    part_size=8 * MiB,
    multipart_threshold=8 * MiB,
    max_concurrency=4,
    retry=RetryPolicy(max_attempts=5, base_delay=0.01, max_delay=0.1),
)
READ_TIMEOUT = 1.0  # the client's read timeout where a test stalls responses
STALL_SECONDS = 2.5  # how long the proxy stalls: well past READ_TIMEOUT, still bounded


def seed_with_early_hit(rate: float, *, within: int, start: int = 0) -> int:
    """The first seed from ``start`` whose first ``within`` draws include one below ``rate``.

    The proxy gives the n-th eligible request the n-th draw, so such a seed makes the fault
    fire among the first ``within`` requests of a transfer, whatever the timing; the rate
    over the whole run stays ``rate``.
    """
    for seed in range(start, start + 10_000):
        rng = random.Random(seed)
        if any(rng.random() < rate for _ in range(within)):
            return seed
    raise AssertionError("no seed found")  # pragma: no cover
