"""What engine test modules share: the small-part config and a sleep that only records."""

from __future__ import annotations

from s3flow.config import MiB, RetryPolicy, TransferConfig

__all__ = ["CONFIG", "Delays"]

CONFIG = TransferConfig(
    part_size=5 * MiB,
    multipart_threshold=5 * MiB,
    max_concurrency=4,
    retry=RetryPolicy(max_attempts=3),
)


class Delays(list[float]):
    """An injected ``sleep`` that returns at once and remembers each delay asked for."""

    async def __call__(self, seconds: float) -> None:
        self.append(seconds)
