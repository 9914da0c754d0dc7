"""Counts the API calls a simulator served, per endpoint, so tests and benchmarks can assert call budgets."""

from __future__ import annotations

import threading
from collections import Counter


class CallCounters:
    """Thread-safe call counts keyed by endpoint ("METHOD /route/template")."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_endpoint: Counter[str] = Counter()
        self._total = 0

    def record(self, endpoint: str) -> None:
        with self._lock:
            self._by_endpoint[endpoint] += 1
            self._total += 1

    @property
    def total(self) -> int:
        with self._lock:
            return self._total

    def count(self, endpoint: str) -> int:
        with self._lock:
            return self._by_endpoint[endpoint]

    def reset(self) -> None:
        with self._lock:
            self._by_endpoint.clear()
            self._total = 0

    def snapshot(self) -> dict[str, int]:
        """Calls per endpoint, sorted by endpoint key."""
        with self._lock:
            return dict(sorted(self._by_endpoint.items()))
