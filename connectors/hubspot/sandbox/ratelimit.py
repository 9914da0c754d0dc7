"""HubSpot's request budgets: the rolling ten-second app bucket, the daily account bucket and search's own
per-second bucket, with the headers and 429 bodies HubSpot documents."""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from connectors.hubspot.sandbox.errors import HubSpotError
from connectors.hubspot.sandbox.settings import HubSpotSettings


@dataclass(frozen=True)
class Admission:
    """The outcome of charging one request: headers to send (empty for search)."""

    headers: dict[str, str]


class _Window:
    """A rolling window of request times (monotonic seconds)."""

    def __init__(self) -> None:
        self.times: deque[float] = deque()

    def used(self, now: float, span: float) -> int:
        edge = now - span
        times = self.times
        while times and times[0] <= edge:
            times.popleft()
        return len(times)

    def free_in(self, now: float, span: float) -> float:
        return max(0.0, self.times[0] + span - now) if self.times else 0.0


class RateLimiter:
    """Charges requests against the buckets. Rolling windows run on real (monotonic) time like HubSpot's
    infrastructure; the daily bucket resets at midnight UTC of the simulator clock."""

    def __init__(
        self,
        settings: Callable[[], HubSpotSettings],
        *,
        now: Callable[[], datetime],
        monotonic: Callable[[], float],
    ) -> None:
        self._settings = settings
        self._now = now
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._ten = _Window()
        self._search = _Window()
        self._day: date | None = None
        self._daily_used = 0

    def reset(self) -> None:
        with self._lock:
            self._ten = _Window()
            self._search = _Window()
            self._day = None
            self._daily_used = 0

    def _roll_day(self) -> None:
        today = self._now().date()
        if today != self._day:
            self._day = today
            self._daily_used = 0

    def admit(self, *, search: bool) -> Admission:
        """Charge one request or raise the 429 HubSpot would send."""
        s = self._settings()
        with self._lock:
            mono = self._monotonic()
            self._roll_day()
            span = s.ten_second_window_ms / 1000
            ten_used = self._ten.used(mono, span)
            if self._daily_used >= s.daily_limit:
                raise self._limited(s, "DAILY", "You have reached your daily limit.", None, ten_used, search)
            if search:
                used = self._search.used(mono, 1.0)
                if used >= s.search_per_second:
                    raise self._limited(
                        s,
                        "SECONDLY",
                        "You have reached your secondly limit.",
                        self._search.free_in(mono, 1.0),
                        ten_used,
                        search,
                    )
                self._search.times.append(mono)
                self._daily_used += 1
                return Admission({})
            if ten_used >= s.ten_secondly_limit:
                raise self._limited(
                    s,
                    "TEN_SECONDLY_ROLLING",
                    "You have reached your ten_secondly_rolling limit.",
                    self._ten.free_in(mono, span),
                    ten_used,
                    search,
                )
            self._ten.times.append(mono)
            self._daily_used += 1
            return Admission(self._headers(s, ten_used + 1))

    def _headers(self, s: HubSpotSettings, ten_used: int) -> dict[str, str]:
        return {
            "X-HubSpot-RateLimit-Max": str(s.ten_secondly_limit),
            "X-HubSpot-RateLimit-Remaining": str(max(0, s.ten_secondly_limit - ten_used)),
            "X-HubSpot-RateLimit-Interval-Milliseconds": str(s.ten_second_window_ms),
            "X-HubSpot-RateLimit-Daily": str(s.daily_limit),
            "X-HubSpot-RateLimit-Daily-Remaining": str(max(0, s.daily_limit - self._daily_used)),
        }

    def _limited(
        self,
        s: HubSpotSettings,
        policy: str,
        message: str,
        free_in: float | None,
        ten_used: int,
        search: bool,
    ) -> HubSpotError:
        headers = {} if search else self._headers(s, ten_used)
        if s.retry_after and free_in is not None:
            headers["Retry-After"] = str(max(1, math.ceil(free_in)))
        return HubSpotError(
            429,
            message,
            category="RATE_LIMITS",
            headers=headers,
            extra={"errorType": "RATE_LIMIT", "policyName": policy},
        )

    def budget(self) -> dict[str, Any]:
        s = self._settings()
        with self._lock:
            mono = self._monotonic()
            self._roll_day()
            ten = self._ten.used(mono, s.ten_second_window_ms / 1000)
            search = self._search.used(mono, 1.0)
            return {
                "ten_secondly": {
                    "max": s.ten_secondly_limit,
                    "used": ten,
                    "remaining": max(0, s.ten_secondly_limit - ten),
                },
                "daily": {
                    "max": s.daily_limit,
                    "used": self._daily_used,
                    "remaining": max(0, s.daily_limit - self._daily_used),
                },
                "search_secondly": {
                    "max": s.search_per_second,
                    "used": search,
                    "remaining": max(0, s.search_per_second - search),
                },
            }
