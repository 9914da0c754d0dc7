"""Business-hours clock: time elapsed counting only opening hours of working days in one timezone.

The clock starts at the next opening and stops at closing; nights, weekends and holidays do not
count. Opening and closing are local wall-clock times (IANA timezone via zoneinfo), so a day with
a DST change still opens and closes at the same local times.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from syncd.reports.errors import ReportError

_MICRO = timedelta(microseconds=1)
_PREFIX_MARGIN = timedelta(days=366)


@dataclass(frozen=True, slots=True)
class BusinessHours:
    """Working weekdays (Monday = 0), opening and closing local times, timezone and holidays."""

    timezone: str = "UTC"
    opens: time = time(9, 0)
    closes: time = time(17, 0)
    weekdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})
    holidays: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if self.opens >= self.closes:
            raise ReportError(
                f"business hours open at {self.opens} but close at {self.closes}",
                hint="opening must be before closing on the same day",
            )
        if not self.weekdays or not self.weekdays <= set(range(7)):
            raise ReportError(
                f"working weekdays {sorted(self.weekdays)} are not a non-empty subset of 0..6",
                hint="use 0 for Monday up to 6 for Sunday",
            )


class BusinessClock:
    """Measures business time between instants; caches per-day windows and running totals."""

    def __init__(self, hours: BusinessHours) -> None:
        try:
            self._tz = ZoneInfo(hours.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ReportError(
                f"unknown timezone {hours.timezone!r} for business hours",
                hint="use an IANA name such as Europe/Berlin or America/New_York",
            ) from None
        self._hours = hours
        self._windows: dict[date, tuple[datetime, datetime] | None] = {}
        self._base: date | None = None
        self._prefix: list[int] = [0]  # business microseconds of the days before base + i

    def window(self, day: date) -> tuple[datetime, datetime] | None:
        """The UTC opening and closing instants of a local calendar day, or None if it is not worked."""
        if day in self._windows:
            return self._windows[day]
        worked = day.weekday() in self._hours.weekdays and day not in self._hours.holidays
        result = None
        if worked:
            opens = datetime.combine(day, self._hours.opens, tzinfo=self._tz).astimezone(UTC)
            closes = datetime.combine(day, self._hours.closes, tzinfo=self._tz).astimezone(UTC)
            result = (opens, closes)
        self._windows[day] = result
        return result

    def _day_micros(self, day: date) -> int:
        w = self.window(day)
        return (w[1] - w[0]) // _MICRO if w else 0

    def _before(self, day: date) -> int:
        """Business microseconds of all days from the cache base up to (not including) `day`."""
        if self._base is None or day < self._base:
            self._base = day - _PREFIX_MARGIN
            self._prefix = [0]
        offset = (day - self._base).days
        while len(self._prefix) <= offset:
            current = self._base + timedelta(days=len(self._prefix) - 1)
            self._prefix.append(self._prefix[-1] + self._day_micros(current))
        return self._prefix[offset]

    def _overlap(self, day: date, start: datetime, end: datetime) -> int:
        w = self.window(day)
        if w is None:
            return 0
        lo, hi = max(w[0], start), min(w[1], end)
        return (hi - lo) // _MICRO if hi > lo else 0

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """Business time from `start` to `end` (zero when end is not after start)."""
        if end <= start:
            return timedelta(0)
        first = start.astimezone(self._tz).date()
        last = end.astimezone(self._tz).date()
        if first == last:
            return self._overlap(first, start, end) * _MICRO
        # The earlier day first: it may move the cache base, which the later lookup then shares.
        after_first = self._before(first + timedelta(days=1))
        middle = self._before(last) - after_first
        return (self._overlap(first, start, end) + middle + self._overlap(last, start, end)) * _MICRO
