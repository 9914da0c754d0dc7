"""Client-side budgets: burst windows block, the daily allowance refuses, server reports count."""

from __future__ import annotations

import threading

import pytest

from syncd.budget import ApiBudget, DailyAllowance, RollingWindow
from syncd.connector import ApiUsage
from syncd.errors import BudgetExhaustedError


class FakeClock:
    """Monotonic seconds that move only when told to (or when someone sleeps)."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now
        self.slept: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept.append(seconds)
            self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds


# --- rolling windows -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("limit", "window", "calls", "expected_wait"),
    [
        (100, 10.0, 100, 0.0),  # HubSpot Free burst: 100 in 10 s pass without waiting
        (100, 10.0, 101, 10.0),  # ... the 101st waits for the first to age out
        (190, 10.0, 380, 10.0),  # Pro burst: two full windows
        (5, 1.0, 5, 0.0),  # search: 5 per second
        (5, 1.0, 11, 2.0),  # ... 11 searches need two extra seconds
    ],
)
def test_window_blocks_only_as_long_as_needed(
    limit: int, window: float, calls: int, expected_wait: float
) -> None:
    clock = FakeClock()
    limiter = RollingWindow(limit, window, clock=clock, sleep=clock.sleep)
    start = clock.now
    for _ in range(calls):
        limiter.acquire()
    assert clock.now - start == pytest.approx(expected_wait)


def test_window_never_allows_more_than_limit_in_any_window() -> None:
    clock = FakeClock()
    limiter = RollingWindow(10, 10.0, clock=clock, sleep=clock.sleep)
    taken: list[float] = []
    for i in range(95):
        clock.advance(0.3 if i % 7 else 2.1)
        limiter.acquire()
        taken.append(clock.now)
    for t in taken:
        in_window = [s for s in taken if t - 10.0 < s <= t]
        assert len(in_window) <= 10


def test_window_frees_slots_as_time_passes() -> None:
    clock = FakeClock()
    limiter = RollingWindow(3, 10.0, clock=clock, sleep=clock.sleep)
    for _ in range(3):
        assert limiter.try_acquire() == 0.0
    assert limiter.try_acquire() == pytest.approx(10.0)
    clock.advance(4.0)
    assert limiter.try_acquire() == pytest.approx(6.0)
    clock.advance(6.0)
    assert limiter.try_acquire() == 0.0
    assert limiter.in_use() == 1


def test_server_reporting_fewer_remaining_slots_makes_the_window_tighter() -> None:
    clock = FakeClock()
    limiter = RollingWindow(100, 10.0, clock=clock, sleep=clock.sleep)
    limiter.acquire()
    limiter.observe_remaining(2)  # another client of the same app used 97
    assert limiter.in_use() == 98
    limiter.acquire()
    limiter.acquire()
    assert clock.slept == []
    limiter.acquire()
    assert clock.slept == [pytest.approx(10.0)]


def test_server_reporting_more_remaining_than_we_think_changes_nothing() -> None:
    clock = FakeClock()
    limiter = RollingWindow(10, 10.0, clock=clock, sleep=clock.sleep)
    for _ in range(5):
        limiter.acquire()
    limiter.observe_remaining(10)
    assert limiter.in_use() == 5


def test_window_is_exact_under_concurrent_acquires() -> None:
    clock = FakeClock()
    limiter = RollingWindow(1_000, 10.0, clock=clock, sleep=clock.sleep)
    threads = [threading.Thread(target=lambda: [limiter.acquire() for _ in range(125)]) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert limiter.in_use() == 1_000
    assert clock.slept == []
    assert limiter.try_acquire() > 0


@pytest.mark.parametrize(("limit", "window"), [(0, 10.0), (5, 0.0), (-1, 1.0)])
def test_window_refuses_nonsense_settings(limit: int, window: float) -> None:
    with pytest.raises(ValueError):
        RollingWindow(limit, window)


# --- daily allowance -------------------------------------------------------------------------


def test_daily_allowance_refuses_the_call_past_the_allocation() -> None:
    clock = FakeClock()
    daily = DailyAllowance("salesforce", allocated=50, limit=15_000, clock=clock)
    for _ in range(50):
        daily.spend()
    with pytest.raises(BudgetExhaustedError) as raised:
        daily.spend()
    assert raised.value.resume_after is not None
    assert 0 < raised.value.resume_after <= 86_400 + 60
    assert daily.spent() == 50  # the refused call was not counted


@pytest.mark.parametrize(
    ("spread_minutes", "elapsed", "expected_resume"),
    [
        # All 10 calls in the first minute: room again once that minute bucket leaves the 24 h window.
        (0, 0.0, 86_400.0 + 60.0),
        (0, 3_600.0, 86_400.0 + 60.0 - 3_600.0),
        # One call per minute: the oldest minute frees the first slot.
        (1, 0.0, 86_400.0 + 60.0 - 9 * 60.0),
    ],
)
def test_resume_after_says_when_the_rolling_window_frees_a_slot(
    spread_minutes: int, elapsed: float, expected_resume: float
) -> None:
    clock = FakeClock(now=0.0)
    daily = DailyAllowance("salesforce", allocated=10, clock=clock)
    for _ in range(10):
        daily.spend()
        clock.advance(60.0 * spread_minutes)
    clock.advance(elapsed - (60.0 * spread_minutes))
    with pytest.raises(BudgetExhaustedError) as raised:
        daily.spend()
    assert raised.value.resume_after == pytest.approx(expected_resume)
    assert raised.value.resume_after is not None
    clock.advance(raised.value.resume_after)
    daily.spend()  # and at that instant the call is allowed


def test_calls_older_than_the_window_no_longer_count() -> None:
    clock = FakeClock(now=0.0)
    daily = DailyAllowance("salesforce", allocated=3, clock=clock)
    for _ in range(3):
        daily.spend()
    clock.advance(86_400.0 + 60.0)
    assert daily.spent() == 0
    for _ in range(3):
        daily.spend()


def test_share_of_the_server_reported_limit_is_the_allocation() -> None:
    clock = FakeClock()
    daily = DailyAllowance("salesforce", share=0.25, clock=clock)
    assert daily.usage() == ApiUsage(system="salesforce", used=0, limit=None, allocated=None)
    daily.observe_server(used=1_000, limit=100_000)
    assert daily.usage().allocated == 25_000


@pytest.mark.parametrize(
    ("allocated", "share", "limit", "expected"),
    [
        (500, None, 15_000, 500),
        (None, 0.1, 15_000, 1_500),
        (None, None, 250_000, 250_000),
        (None, None, None, None),
    ],
)
def test_allocation_is_explicit_else_a_share_else_the_whole_limit(
    allocated: int | None, share: float | None, limit: int | None, expected: int | None
) -> None:
    daily = DailyAllowance("x", allocated=allocated, share=share, limit=limit, clock=FakeClock())
    assert daily.usage().allocated == expected


def test_usage_reflects_what_the_server_reports_plus_calls_since() -> None:
    clock = FakeClock()
    daily = DailyAllowance("hubspot", allocated=10_000, limit=250_000, clock=clock)
    for _ in range(5):
        daily.spend()
    assert daily.usage() == ApiUsage(system="hubspot", used=5, limit=250_000, allocated=10_000)
    # Other apps on the account: HubSpot says 1,200 used of 500,000 (Daily/Daily-Remaining headers).
    daily.observe_server(used=1_200, limit=500_000)
    daily.spend()
    daily.spend()
    assert daily.usage() == ApiUsage(system="hubspot", used=1_202, limit=500_000, allocated=10_000)


def test_account_limit_used_up_by_other_apps_parks_us_until_recheck() -> None:
    clock = FakeClock()
    daily = DailyAllowance("salesforce", allocated=5_000, clock=clock, server_recheck_after=900.0)
    daily.observe_server(used=15_000, limit=15_000)
    with pytest.raises(BudgetExhaustedError) as raised:
        daily.spend()
    assert raised.value.resume_after == pytest.approx(900.0)
    clock.advance(300.0)
    with pytest.raises(BudgetExhaustedError) as raised:
        daily.check()
    assert raised.value.resume_after == pytest.approx(600.0)
    clock.advance(600.0)
    daily.spend()  # one probe after the recheck period; its response brings a fresh report
    daily.observe_server(used=14_000, limit=15_000)
    daily.spend()


def test_spend_is_exact_under_concurrent_calls() -> None:
    clock = FakeClock()
    daily = DailyAllowance("salesforce", allocated=4_000, clock=clock)
    refused: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(600):
            try:
                daily.spend()
            except BudgetExhaustedError:
                with lock:
                    refused.append(1)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert daily.spent() == 4_000
    assert len(refused) == 8 * 600 - 4_000


@pytest.mark.parametrize("kwargs", [{"allocated": -1}, {"share": 0.0}, {"share": 1.5}, {"window": 0.0}])
def test_daily_refuses_nonsense_settings(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        DailyAllowance("x", **kwargs)  # type: ignore[arg-type]


# --- the facade ------------------------------------------------------------------------------


def test_budget_waits_for_the_bucket_windows_and_counts_every_call() -> None:
    clock = FakeClock()
    daily = DailyAllowance("hubspot", allocated=1_000, clock=clock)
    budget = ApiBudget(
        daily,
        {
            "default": [RollingWindow(100, 10.0, clock=clock, sleep=clock.sleep)],
            "search": [RollingWindow(5, 1.0, clock=clock, sleep=clock.sleep)],
        },
    )
    for _ in range(10):
        budget.acquire("search")
    assert clock.slept == [pytest.approx(1.0)]
    for _ in range(100):
        budget.acquire()
    assert len(clock.slept) == 1  # the default bucket has its own window
    assert budget.usage().used == 110


def test_budget_refuses_before_waiting_when_the_day_is_spent() -> None:
    clock = FakeClock()
    budget = ApiBudget(
        DailyAllowance("hubspot", allocated=2, clock=clock),
        {"default": [RollingWindow(1, 10.0, clock=clock, sleep=clock.sleep)]},
    )
    budget.acquire()
    clock.advance(10.0)
    budget.acquire()
    with pytest.raises(BudgetExhaustedError):
        budget.acquire()
    assert clock.slept == []


def test_unknown_bucket_is_only_bound_by_the_daily_allowance() -> None:
    clock = FakeClock()
    budget = ApiBudget(DailyAllowance("hubspot", allocated=3, clock=clock))
    for _ in range(3):
        budget.acquire("anything")
    with pytest.raises(BudgetExhaustedError):
        budget.acquire("anything")


# --- calls stamped when they end -------------------------------------------------------------


def test_a_held_slot_counts_from_the_end_of_the_call() -> None:
    clock = FakeClock(now=0.0)
    limiter = RollingWindow(1, 10.0, clock=clock, sleep=clock.sleep)
    limiter.acquire(hold=True)
    clock.advance(3.0)  # the call takes three seconds
    limiter.settle()
    limiter.acquire()
    # Stamped at its start, the slot would have been free at 10 s; stamped at its end it frees at 13 s.
    assert clock.now == pytest.approx(13.0)


def test_slots_held_by_calls_in_flight_are_taken() -> None:
    clock = FakeClock()
    limiter = RollingWindow(3, 10.0, clock=clock, sleep=clock.sleep)
    limiter.acquire(hold=True)
    limiter.acquire(hold=True)
    assert limiter.in_use() == 2
    limiter.observe_remaining(1)  # the server counts both in-flight calls: nothing to add
    assert limiter.in_use() == 2
    limiter.settle()
    limiter.settle()
    limiter.settle()  # an extra settle is ignored
    assert limiter.in_use() == 2


def test_a_caller_waits_for_a_call_in_flight_to_settle() -> None:
    clock = FakeClock(now=0.0)
    limiter = RollingWindow(1, 10.0, clock=clock, sleep=clock.sleep)
    limiter.acquire(hold=True)
    got_slot_at: list[float] = []
    waiter = threading.Thread(target=lambda: (limiter.acquire(), got_slot_at.append(clock.now)))
    waiter.start()
    clock.advance(2.0)
    limiter.settle()
    waiter.join(timeout=10)
    assert not waiter.is_alive()
    assert got_slot_at == [pytest.approx(12.0)]


def test_budget_slot_settles_even_when_the_call_fails() -> None:
    clock = FakeClock(now=0.0)
    window = RollingWindow(1, 10.0, clock=clock, sleep=clock.sleep)
    budget = ApiBudget(DailyAllowance("hubspot", allocated=10, clock=clock), {"default": [window]})
    with pytest.raises(ConnectionResetError), budget.slot():
        clock.advance(1.0)
        raise ConnectionResetError
    assert budget.usage().used == 1
    with budget.slot():
        pass
    assert clock.now == pytest.approx(11.0)


def test_budget_slot_refuses_when_the_day_is_spent_and_holds_nothing() -> None:
    clock = FakeClock()
    window = RollingWindow(5, 10.0, clock=clock, sleep=clock.sleep)
    budget = ApiBudget(DailyAllowance("hubspot", allocated=0, clock=clock), {"default": [window]})
    with pytest.raises(BudgetExhaustedError), budget.slot():
        pass
    assert window.in_use() == 0
