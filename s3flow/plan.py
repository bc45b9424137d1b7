"""Pure part planning: how a size splits into S3 parts or download ranges.

No I/O and no clock: everything here is checked by property tests.
"""

from __future__ import annotations

from dataclasses import dataclass

from s3flow.config import MAX_PART_SIZE, MAX_PARTS, MIN_PART_SIZE
from s3flow.errors import ConfigError

__all__ = ["PartPlan", "fit_part_size", "plan_parts", "stream_part_size"]


@dataclass(frozen=True, slots=True)
class PartPlan:
    number: int  # 1-based, as S3 counts
    offset: int
    size: int

    @property
    def end(self) -> int:
        """Offset one past the last byte."""
        return self.offset + self.size


def fit_part_size(size: int, part_size: int, *, max_parts: int = MAX_PARTS) -> int:
    """Smallest part size >= ``part_size`` that fits ``size`` in ``max_parts``.

    >>> fit_part_size(100 * 1024**3, 5 * 1024**2) // 1024**2
    11
    """
    if size < 0:
        raise ConfigError(f"size must be >= 0, got {size}")
    if size > max_parts * MAX_PART_SIZE:
        raise ConfigError(f"{size} bytes exceed S3's largest object ({max_parts} x 5 GiB)")
    needed = -(-size // max_parts)  # ceil: the smallest part that fits
    if needed <= part_size:
        return part_size
    # Round up to a whole MiB so part boundaries stay readable.
    return min(-(-needed // (1024 * 1024)) * (1024 * 1024), MAX_PART_SIZE)


def plan_parts(size: int, *, part_size: int, max_parts: int = MAX_PARTS) -> list[PartPlan]:
    """Split ``size`` bytes into S3 parts.

    Covers ``[0, size)`` exactly, no empty part (a 0-byte file is one empty
    part), at most ``max_parts`` parts, each at least ``part_size`` but the last.

    >>> [p.size for p in plan_parts(12, part_size=5)]
    [5, 5, 2]
    """
    if part_size <= 0:
        raise ConfigError(f"part_size must be positive, got {part_size}")
    part_size = fit_part_size(size, part_size, max_parts=max_parts)
    if size == 0:
        return [PartPlan(1, 0, 0)]
    return [
        PartPlan(number, offset, min(part_size, size - offset))
        for number, offset in enumerate(range(0, size, part_size), start=1)
    ]


def stream_part_size(number: int, base: int = MIN_PART_SIZE) -> int:
    """Part size for part ``number`` of a stream of unknown length.

    Doubles every 500 parts, so 10,000 parts reach S3's 5 TiB maximum
    object size instead of stopping at 10,000 x ``base``.

    >>> stream_part_size(1), stream_part_size(501) // stream_part_size(1)
    (5242880, 2)
    """
    if not 1 <= number <= MAX_PARTS:
        raise ConfigError(f"part number must be in 1..{MAX_PARTS}, got {number}")
    return min(base << ((number - 1) // 500), MAX_PART_SIZE)
