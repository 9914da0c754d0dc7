"""The org's daily API request allocation, counted over a rolling 24 hours of simulator time."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta

from connectors.sandbox_core.clock import SimClock

_WINDOW = timedelta(hours=24)


class ApiBudget:
    """Counts API calls per rolling 24 h; `consume` refuses once the allocation is spent."""

    def __init__(self, clock: SimClock, limit: Callable[[], int]) -> None:
        self._clock = clock
        self._limit = limit
        self._calls: deque[datetime] = deque()
        self._lock = threading.Lock()

    def _prune(self, now: datetime) -> None:
        horizon = now - _WINDOW
        calls = self._calls
        while calls and calls[0] <= horizon:
            calls.popleft()

    def consume(self) -> bool:
        now = self._clock.now()
        with self._lock:
            self._prune(now)
            if len(self._calls) >= self._limit():
                return False
            self._calls.append(now)
            return True

    def spend(self, count: int) -> None:
        """Record `count` calls made now by other integrations sharing the org (control plane)."""
        now = self._clock.now()
        with self._lock:
            self._calls.extend([now] * count)

    def used(self) -> int:
        now = self._clock.now()
        with self._lock:
            self._prune(now)
            return len(self._calls)

    @property
    def limit(self) -> int:
        return self._limit()

    def header(self) -> str:
        return f"api-usage={self.used()}/{self.limit}"

    def reset(self) -> None:
        with self._lock:
            self._calls.clear()
