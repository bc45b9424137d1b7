from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from s3flow.config import MAX_PART_SIZE, MAX_PARTS, MiB
from s3flow.errors import ConfigError
from s3flow.plan import fit_part_size, plan_parts, stream_part_size

MAX_OBJECT = MAX_PARTS * MAX_PART_SIZE


@given(
    st.integers(min_value=0, max_value=MAX_OBJECT), st.sampled_from([5 * MiB, 8 * MiB, 64 * MiB])
)
def test_plan_covers_the_file_exactly(size: int, part_size: int) -> None:
    parts = plan_parts(size, part_size=part_size)
    assert 1 <= len(parts) <= MAX_PARTS
    assert sum(p.size for p in parts) == size
    assert parts[0].offset == 0
    assert all(b.offset == a.end for a, b in itertools.pairwise(parts))
    assert [p.number for p in parts] == list(range(1, len(parts) + 1))
    assert all(p.size >= part_size for p in parts[:-1])
    assert all(p.size <= MAX_PART_SIZE for p in parts)
    if size:
        assert all(p.size > 0 for p in parts)


@pytest.mark.parametrize(
    ("size", "sizes"),
    [
        (0, [0]),
        (1, [1]),
        (5 * MiB, [5 * MiB]),
        (5 * MiB + 1, [5 * MiB, 1]),
        (10 * MiB, [5 * MiB, 5 * MiB]),
    ],
)
def test_boundaries(size: int, sizes: list[int]) -> None:
    assert [p.size for p in plan_parts(size, part_size=5 * MiB)] == sizes


def test_part_size_grows_to_fit_the_part_limit() -> None:
    size = 100 * 1024**3  # 100 GiB at 5 MiB would be 20,480 parts
    parts = plan_parts(size, part_size=5 * MiB)
    assert len(parts) <= MAX_PARTS
    assert parts[0].size == fit_part_size(size, 5 * MiB) > 5 * MiB


def test_largest_object_fits_and_larger_is_refused() -> None:
    assert len(plan_parts(MAX_OBJECT, part_size=5 * MiB)) == MAX_PARTS
    with pytest.raises(ConfigError, match="exceed"):
        plan_parts(MAX_OBJECT + 1, part_size=5 * MiB)


def test_stream_parts_reach_five_tebibytes() -> None:
    total = sum(stream_part_size(n) for n in range(1, MAX_PARTS + 1))
    assert total >= 5 * 1024**4
    assert stream_part_size(1) == 5 * MiB
    assert max(stream_part_size(n) for n in range(1, MAX_PARTS + 1)) <= MAX_PART_SIZE
    with pytest.raises(ConfigError):
        stream_part_size(MAX_PARTS + 1)
