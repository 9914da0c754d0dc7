"""Runs every enabled flow on its interval until told to stop.

APScheduler 3 does the timing: one job per flow, `max_instances=1` (a slow run is never
overlapped by the next tick) and `coalesce=True` (missed ticks collapse into one run). The
store, not the scheduler, remembers progress, so a restart simply resumes from the cursors.
A stop request (SIGTERM) is passed to the running flows, which finish their current page
and return; no new runs start.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from syncd.engine import StopSignal

log = logging.getLogger(__name__)


class Flow(Protocol):
    """One flow as the daemon sees it."""

    name: str

    def run(self, trigger: str, stop: StopSignal) -> object:
        """Run one cycle; return at the next page boundary once `stop` is set."""


class Lock(Protocol):
    def acquire(self) -> bool: ...
    def release(self) -> None: ...


@dataclass(frozen=True)
class Schedule:
    flow: Flow
    interval_seconds: float


class Daemon:
    """Schedules flows; `serve()` blocks until `stop()` (or a signal handler calling it)."""

    def __init__(
        self,
        schedules: Mapping[str, Schedule],
        lock_for: Callable[[str], Lock],
        *,
        first_run_at: datetime | None = None,
    ) -> None:
        self._schedules = dict(schedules)
        self._lock_for = lock_for
        self._stop = threading.Event()
        self._first_run_at = first_run_at
        self._scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(max_workers=max(1, len(self._schedules)))},
            job_defaults={"max_instances": 1, "coalesce": True, "misfire_grace_time": None},
            timezone=UTC,
        )

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def run_flow(self, name: str, trigger: str = "schedule") -> bool:
        """Run one cycle of `name` if no other replica is running it; False when skipped."""
        if self._stop.is_set():
            return False
        lock = self._lock_for(name)
        if not lock.acquire():
            log.info("flow %s is running elsewhere; skipping this tick", name)
            return False
        try:
            self._schedules[name].flow.run(trigger, self._stop)
        except Exception:
            # The flow records its own failure in the store; the daemon keeps the other flows going.
            log.exception("flow %s failed", name)
        finally:
            lock.release()
        return True

    def serve(self) -> None:
        start = self._first_run_at or datetime.now(UTC)
        for name, schedule in self._schedules.items():
            self._scheduler.add_job(
                self.run_flow,
                IntervalTrigger(seconds=schedule.interval_seconds, start_date=start, timezone=UTC),
                args=[name],
                id=name,
                name=f"flow:{name}",
                next_run_time=start,
            )
        self._scheduler.start()
        log.info("daemon started with flows %s", ", ".join(sorted(self._schedules)))
        self._stop.wait()
        # Running flows see the stop event and return at their next page boundary.
        self._scheduler.shutdown(wait=True)
        log.info("daemon stopped")

    def stop(self) -> None:
        self._stop.set()
