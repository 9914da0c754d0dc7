"""Runs every enabled flow on its interval until told to stop.

APScheduler 3 does the timing: one job per *cycle* — the flows sharing an interval, run one after
the other in the configured order (contacts first: it links the people the others attach to) after
one shared change probe (syncd/engine/probe.py), so an idle cycle costs as few calls as the systems
allow. `max_instances=1` (a slow cycle is never overlapped by the next tick) and `coalesce=True`
(missed ticks collapse into one run). The store, not the scheduler, remembers progress, so a restart
simply resumes from the cursors. A stop request (SIGTERM) is passed to the running flow, which
finishes its current page and returns; no new runs start.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
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


class Probe(Protocol):
    """Reads the first pages of several flows' pulls together (syncd.engine.probe.SharedProbe)."""

    def prefetch_for(self, flows: Sequence[Flow]) -> None: ...
    def discard(self) -> None: ...


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
        probe: Probe | None = None,
    ) -> None:
        self._schedules = dict(schedules)
        self._lock_for = lock_for
        self._probe = probe
        self._stop = threading.Event()
        self._first_run_at = first_run_at
        self._scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(max_workers=max(1, len(self.cycles())))},
            job_defaults={"max_instances": 1, "coalesce": True, "misfire_grace_time": None},
            timezone=UTC,
        )

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def run_flow(self, name: str, trigger: str = "schedule") -> bool:
        """Run one cycle of `name` alone; False when skipped (stopping, or running elsewhere)."""
        return bool(self.run_cycle([name], trigger))

    def run_cycle(self, names: Sequence[str], trigger: str = "schedule") -> list[str]:
        """Run the named flows one after the other after one shared probe; the names of those run.

        A flow another replica is running is skipped this tick; one that fails is logged (it records
        its own failure in the store) and the others still run.
        """
        if self._stop.is_set():
            return []
        held: dict[str, Lock] = {}
        ran: list[str] = []
        try:
            for name in names:
                lock = self._lock_for(name)
                if lock.acquire():
                    held[name] = lock
                else:
                    log.info("flow %s is running elsewhere; skipping this tick", name)
            if self._probe is not None:
                self._probe.prefetch_for([self._schedules[name].flow for name in held])
            for name in held:
                if self._stop.is_set():
                    break
                try:
                    self._schedules[name].flow.run(trigger, self._stop)
                except Exception:
                    log.exception("flow %s failed", name)
                ran.append(name)
        finally:
            if self._probe is not None:
                self._probe.discard()
            for lock in held.values():
                lock.release()
        return ran

    def cycles(self) -> dict[float, list[str]]:
        """The flows grouped by interval, each group in the configured order."""
        grouped: dict[float, list[str]] = {}
        for name, schedule in self._schedules.items():
            grouped.setdefault(schedule.interval_seconds, []).append(name)
        return grouped

    def serve(self) -> None:
        start = self._first_run_at or datetime.now(UTC)
        for interval, names in self.cycles().items():
            self._scheduler.add_job(
                self.run_cycle,
                IntervalTrigger(seconds=interval, start_date=start, timezone=UTC),
                args=[names],
                id=f"cycle:{interval:g}s",
                name=f"cycle:{'+'.join(names)}",
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
