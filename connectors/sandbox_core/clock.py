"""The simulator's notion of now: real time from a chosen start, which tests can freeze or move."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta


class SimClock:
    """The simulator's notion of now (UTC, tz-aware).

    Runs with real time from `start` unless frozen; `advance(seconds)` and `set(when)` move it
    (control plane: POST /__sandbox/clock). Thread-safe.
    """

    def __init__(
        self,
        start: datetime | None = None,
        *,
        frozen: bool = False,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._anchor = _as_utc(start) if start is not None else datetime.now(UTC)
        self._anchor_mono = monotonic()
        self._frozen = frozen

    @property
    def frozen(self) -> bool:
        with self._lock:
            return self._frozen

    def now(self) -> datetime:
        with self._lock:
            return self._now_locked()

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._anchor += timedelta(seconds=seconds)

    def set(self, when: datetime) -> None:
        with self._lock:
            self._anchor = _as_utc(when)
            self._anchor_mono = self._monotonic()

    def freeze(self) -> None:
        with self._lock:
            if not self._frozen:
                self._anchor = self._now_locked()
                self._frozen = True

    def unfreeze(self) -> None:
        with self._lock:
            if self._frozen:
                self._anchor_mono = self._monotonic()
                self._frozen = False

    def _now_locked(self) -> datetime:
        if self._frozen:
            return self._anchor
        return self._anchor + timedelta(seconds=self._monotonic() - self._anchor_mono)


def _as_utc(when: datetime) -> datetime:
    if when.tzinfo is None:
        raise ValueError(f"the simulator clock needs a timezone-aware datetime, got {when.isoformat()}")
    return when.astimezone(UTC)
