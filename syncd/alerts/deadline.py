"""The SLA deadline of an MQL: the last instant a first contact still counts as within the agreed time.

On the calendar clock that is the MQL instant plus the hours. On the business clock (the SLA
report's BusinessClock: time counts only while open) it is where the opening hours since the MQL
add up to the hours — and when they add up exactly at a closing, the next opening: a call made
after hours but before the next opening still has a business speed of exactly the hours, which
the SLA counts as within.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from syncd.errors import FatalError
from syncd.reports.business_hours import BusinessClock, BusinessHours

_MAX_DAYS = 3660  # working weekdays are never empty, so this is only hit by a broken calendar


class SlaClock:
    """Deadlines on one clock; the business clock caches its day windows across calls."""

    def __init__(self, hours: BusinessHours | None) -> None:
        self._hours = hours
        self._clock = BusinessClock(hours) if hours is not None else None
        self._zone = ZoneInfo(hours.timezone) if hours is not None else None

    @property
    def business(self) -> bool:
        return self._clock is not None

    def deadline(self, start: datetime, within: timedelta) -> datetime:
        """The last instant at which a contact after `start` is still within `within`."""
        if self._clock is None or self._zone is None:
            return start + within
        remaining = within
        cursor = start
        day = start.astimezone(self._zone).date()
        for _ in range(_MAX_DAYS):
            window = self._clock.window(day)
            if window is not None:
                opens, closes = window
                begin = max(opens, cursor)
                if begin < closes:
                    available = closes - begin
                    if available > remaining:
                        return begin + remaining
                    remaining -= available
                    cursor = closes
            day += timedelta(days=1)
        raise FatalError(f"no business hours within {_MAX_DAYS} days of {start:%Y-%m-%d}: check the holidays")

    def earliest_due_at_or_after(self, instant: datetime, within: timedelta) -> datetime:
        """The earliest start whose deadline is at or after `instant` (to the second, rounded down):
        MQLs that entered earlier are past their deadline at `instant`. Deadlines grow with the start,
        so a binary search over the year before finds it."""
        if self._clock is None:
            return instant - within
        low, high = instant - timedelta(days=366), instant
        if self.deadline(low, within) >= instant:
            return low
        while high - low > timedelta(seconds=1):
            middle = low + (high - low) / 2
            if self.deadline(middle, within) >= instant:
                high = middle
            else:
                low = middle
        return low

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """Time from `start` to `end` on this clock (how the SLA report measures speed-to-lead)."""
        if self._clock is None:
            return end - start
        return self._clock.elapsed(start, end)
