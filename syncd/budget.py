"""Client-side API budgets: keep syncd inside its configured burst windows and daily allowance.

Two primitives and one facade, all thread-safe with an injected clock (monotonic seconds):

- `RollingWindow`: at most N calls in any window of W seconds (HubSpot 100-190 per 10 s, search 5 per
  second). `acquire()` blocks until a slot is free.
- `DailyAllowance`: syncd's share of a system's daily allowance over a rolling window (24 h by default).
  `spend()` raises `BudgetExhaustedError(resume_after=...)` instead of exceeding it. It also takes the
  usage the server reports (HubSpot `X-HubSpot-RateLimit-Daily-Remaining`, Salesforce `Sforce-Limit-Info`)
  so that `usage()` shows reality and other apps' traffic on the same account is respected.
- `ApiBudget`: a daily allowance plus named groups of windows ("default", "search", ...); the connector
  makes every HTTP request, retries included, inside `with budget.slot(bucket):` (or calls
  `acquire(bucket)` just before it).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from syncd.connector import ApiUsage
from syncd.errors import BudgetExhaustedError

log = logging.getLogger(__name__)

Clock = Callable[[], float]
Sleep = Callable[[float], None]


class RollingWindow:
    """At most `limit` calls in any `window` seconds; `acquire()` sleeps until a slot is free.

    `acquire()` stamps the call when it starts. `acquire(hold=True)` ... `settle()` stamps it when it ends
    instead: the server counts a call when it arrives, which is after it starts and before it ends, so
    only the end stamp is sure never to undercount the server's window.
    """

    def __init__(
        self,
        limit: int,
        window: float,
        *,
        name: str = "window",
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        if limit < 1 or window <= 0:
            raise ValueError(f"{name}: limit must be >= 1 and window > 0 (got {limit} per {window}s)")
        self.limit = limit
        self.window = window
        self.name = name
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._settled = threading.Condition(self._lock)
        self._stamps: deque[float] = deque()
        self._in_flight = 0

    def _expire(self, now: float) -> None:
        while self._stamps and self._stamps[0] <= now - self.window:
            self._stamps.popleft()

    def _take(self, now: float, hold: bool) -> float | None:
        """Under the lock: take a slot (0.0), or say how long until a stamp expires (None: none will)."""
        self._expire(now)
        if len(self._stamps) + self._in_flight < self.limit:
            if hold:
                self._in_flight += 1
            else:
                self._stamps.append(now)
            return 0.0
        if not self._stamps:
            return None
        return max(self._stamps[0] + self.window - now, 0.0) or 1e-6

    def try_acquire(self) -> float:
        """Take a slot and return 0.0, or return the seconds until one frees up (taking nothing)."""
        with self._lock:
            wait = self._take(self._clock(), False)
            return self.window if wait is None else wait

    def acquire(self, *, hold: bool = False) -> float:
        """Block until a slot is free and take it; return the seconds slept for it.

        With `hold=True` the slot stays taken until `settle()`, which stamps it then.
        """
        waited = 0.0
        while True:
            with self._settled:
                wait = self._take(self._clock(), hold)
                if wait is None:
                    # Every slot belongs to a call still in flight: only a settle() can free one.
                    self._settled.wait(timeout=self.window)
                    continue
            if wait == 0.0:
                if waited:
                    log.debug("%s: waited %.3fs for a slot", self.name, waited)
                return waited
            # Sleep outside the lock so other threads can still see the window expire.
            self._sleep(wait)
            waited += wait

    def settle(self) -> None:
        """End a call taken with `acquire(hold=True)`: it now counts from this instant for a full window."""
        with self._settled:
            if self._in_flight > 0:
                self._in_flight -= 1
                self._stamps.append(self._clock())
                self._settled.notify_all()

    def observe_remaining(self, remaining: int) -> None:
        """Align with the server's view (e.g. `X-HubSpot-RateLimit-Remaining`) when it is tighter.

        Other clients of the same app spend the same window; their calls are recorded as taken now.
        """
        with self._lock:
            now = self._clock()
            self._expire(now)
            missing = (self.limit - max(remaining, 0)) - (len(self._stamps) + self._in_flight)
            for _ in range(missing):
                self._stamps.append(now)

    def in_use(self) -> int:
        """Slots taken: calls stamped inside the window plus calls in flight."""
        with self._lock:
            self._expire(self._clock())
            return len(self._stamps) + self._in_flight


@dataclass(slots=True)
class _Bucket:
    start: float
    count: int


@dataclass(frozen=True)
class _ServerReport:
    used: int
    limit: int
    at: float
    local_at_report: int


class DailyAllowance:
    """syncd's share of a daily API allowance over a rolling window; refuses rather than exceeds.

    `allocated` is how many calls syncd may make per window; without it, `share` (0-1] of the limit (the
    server's figure once reported, else `limit` as configured) is allowed, and without either the whole limit.
    HubSpot's daily limit resets at midnight rather than rolling; counting over a rolling 24 h is the stricter
    reading of the same number.
    Calls are counted in one-minute buckets so memory stays small at hundreds of thousands of calls a day.
    """

    BUCKET_SECONDS = 60.0

    def __init__(
        self,
        system: str,
        *,
        allocated: int | None = None,
        share: float | None = None,
        limit: int | None = None,
        window: float = 86_400.0,
        server_recheck_after: float = 900.0,
        clock: Clock = time.monotonic,
    ) -> None:
        if allocated is not None and allocated < 0:
            raise ValueError(f"{system}: allocated must not be negative")
        if share is not None and not 0 < share <= 1:
            raise ValueError(f"{system}: share must be in (0, 1]")
        if window <= 0:
            raise ValueError(f"{system}: window must be positive")
        self.system = system
        self._allocated = allocated
        self._share = share
        self._limit = limit
        self.window = window
        self._recheck = server_recheck_after
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: deque[_Bucket] = deque()  # oldest first
        self._count = 0
        self._report: _ServerReport | None = None

    def _expire(self, now: float) -> None:
        # A bucket leaves the window once its last possible call is older than the window.
        while self._buckets and self._buckets[0].start + self.BUCKET_SECONDS <= now - self.window:
            self._count -= self._buckets.popleft().count

    def _allowance(self) -> int | None:
        if self._allocated is not None:
            return self._allocated
        limit = self._current_limit()
        if limit is None:
            return None
        return math.floor(limit * self._share) if self._share is not None else limit

    def _current_limit(self) -> int | None:
        return self._report.limit if self._report is not None else self._limit

    def _server_used_now(self) -> int | None:
        """The server's last figure plus what syncd spent since (other apps' calls since are unknown)."""
        if self._report is None:
            return None
        return self._report.used + max(self._count - self._report.local_at_report, 0)

    def _resume_after_local(self, now: float, allowance: int, calls: int) -> float:
        # Walk buckets oldest first until enough calls would have aged out to make room for `calls`.
        excess = self._count + calls - allowance
        for bucket in self._buckets:
            excess -= bucket.count
            if excess <= 0:
                return max(bucket.start + self.BUCKET_SECONDS + self.window - now, 0.0)
        return self.window

    def check(self) -> None:
        """Raise `BudgetExhaustedError` when a call now would exceed the allowance; spend nothing."""
        with self._lock:
            self._check(self._clock())

    def _check(self, now: float, calls: int = 1) -> None:
        self._expire(now)
        allowance = self._allowance()
        if allowance is not None and self._count + calls > allowance:
            resume = self._resume_after_local(now, allowance, calls)
            raise BudgetExhaustedError(
                f"{self.system}: syncd has used its allocated {allowance} API calls in the last "
                f"{self.window / 3600:g} h",
                resume_after=resume,
                hint="the flow resumes by itself; raise the allocation in the config to sync faster",
            )
        # A report that says "used up" is trusted until `server_recheck_after` has passed; after that one
        # call may probe again, since refusing every call would mean no fresh report ever arrives.
        report = self._report
        used = self._server_used_now()
        if (
            report is not None
            and used is not None
            and used >= report.limit
            and now - report.at < self._recheck
        ):
            limit = report.limit
            resume = report.at + self._recheck - now
            raise BudgetExhaustedError(
                f"{self.system}: the account's daily API limit ({limit}) is used up by all its clients",
                resume_after=resume,
                hint="the flow resumes when the system reports capacity again; other apps share this limit",
            )

    def spend(self, calls: int = 1) -> None:
        """Record `calls` calls about to be made, or raise `BudgetExhaustedError` and record nothing."""
        with self._lock:
            now = self._clock()
            self._check(now, calls)
            start = now - (now % self.BUCKET_SECONDS)
            if self._buckets and self._buckets[-1].start == start:
                self._buckets[-1].count += calls
            else:
                self._buckets.append(_Bucket(start, calls))
            self._count += calls

    def observe_server(self, *, used: int, limit: int) -> None:
        """Take the server's word on the account's usage (all clients) and its limit."""
        with self._lock:
            now = self._clock()
            self._expire(now)
            self._report = _ServerReport(used=max(used, 0), limit=limit, at=now, local_at_report=self._count)

    def usage(self) -> ApiUsage:
        with self._lock:
            self._expire(self._clock())
            server_used = self._server_used_now()
            return ApiUsage(
                system=self.system,
                used=server_used if server_used is not None else self._count,
                limit=self._current_limit(),
                allocated=self._allowance(),
            )

    def spent(self) -> int:
        """Calls syncd itself made inside the current window."""
        with self._lock:
            self._expire(self._clock())
            return self._count


class ApiBudget:
    """Everything one connector must respect before a call: the daily allowance, then the bucket's windows."""

    def __init__(
        self,
        daily: DailyAllowance,
        windows: Mapping[str, Sequence[RollingWindow]] | None = None,
    ) -> None:
        self.daily = daily
        self._windows = dict(windows or {})

    def acquire(self, bucket: str = "default") -> None:
        """Wait for a slot in every window of `bucket` and spend one daily call; raise if the day is spent."""
        # Fail fast on the daily budget before waiting for a burst slot, and spend only once a slot is ours.
        self.daily.check()
        for window in self._windows.get(bucket, ()):
            window.acquire()
        self.daily.spend()

    @contextmanager
    def slot(self, bucket: str = "default") -> Iterator[None]:
        """`acquire(bucket)` for one call made inside the block, whose window slots count from its end."""
        self.daily.check()
        held: list[RollingWindow] = []
        try:
            for window in self._windows.get(bucket, ()):
                window.acquire(hold=True)
                held.append(window)
            self.daily.spend()
            yield
        finally:
            for window in held:
                window.settle()

    def window(self, bucket: str) -> Sequence[RollingWindow]:
        return tuple(self._windows.get(bucket, ()))

    def usage(self) -> ApiUsage:
        return self.daily.usage()
