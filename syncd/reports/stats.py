"""Order statistics used by the reports: median and nearest-rank percentiles of durations."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import timedelta


def median(values: Sequence[timedelta]) -> timedelta | None:
    """The middle value; for an even count the mean of the two middle values. None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[mid]
    return (ordered[mid - 1] + ordered[mid]) / 2


def nearest_rank(values: Sequence[timedelta], percent: int) -> timedelta | None:
    """The nearest-rank percentile: the value at rank ⌈percent/100 · n⌉ (1-based). None when empty."""
    if not values:
        return None
    if not 0 < percent <= 100:
        raise ValueError(f"percent must be in 1..100, got {percent}")
    ordered = sorted(values)
    rank = math.ceil(percent * len(ordered) / 100)
    return ordered[rank - 1]
