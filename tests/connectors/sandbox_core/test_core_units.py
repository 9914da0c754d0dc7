"""Clock, fault rules, injector and counters on their own (no sockets)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest

from connectors.sandbox_core.clock import SimClock
from connectors.sandbox_core.counters import CallCounters
from connectors.sandbox_core.faults import FaultInjector, FaultRule

T0 = datetime(2026, 1, 1, tzinfo=UTC)


class FakeMonotonic:
    def __init__(self) -> None:
        self.value = 100.0

    def __call__(self) -> float:
        return self.value


def test_clock_runs_with_real_time_from_its_start() -> None:
    mono = FakeMonotonic()
    clock = SimClock(T0, monotonic=mono)
    mono.value += 2.5
    assert clock.now() == T0 + timedelta(seconds=2.5)


def test_frozen_clock_stands_still_until_moved_and_resumes_from_there() -> None:
    mono = FakeMonotonic()
    clock = SimClock(T0, frozen=True, monotonic=mono)
    mono.value += 60
    assert clock.now() == T0
    clock.advance(3600)
    assert clock.now() == T0 + timedelta(hours=1)
    clock.unfreeze()
    mono.value += 1
    assert clock.now() == T0 + timedelta(hours=1, seconds=1)
    clock.freeze()
    mono.value += 100
    assert clock.now() == T0 + timedelta(hours=1, seconds=1)


def test_clock_set_converts_to_utc_and_refuses_naive_datetimes() -> None:
    clock = SimClock(T0, frozen=True)
    clock.set(datetime(2026, 6, 1, 12, 0, tzinfo=timezone(timedelta(hours=2))))
    assert clock.now() == datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
    assert clock.now().tzinfo is UTC
    with pytest.raises(ValueError, match="timezone-aware"):
        clock.set(datetime(2026, 6, 1))


def test_default_clock_starts_at_the_real_now() -> None:
    before = datetime.now(UTC)
    now = SimClock().now()
    assert before <= now <= datetime.now(UTC)


def rule(**overrides: object) -> FaultRule:
    values: dict[str, object] = {"method": None, "path": "^/x", "kind": "status"}
    values.update(overrides)
    return FaultRule(**values)  # type: ignore[arg-type]


def test_counted_rule_fires_exactly_count_times() -> None:
    injector = FaultInjector(seed=1)
    injector.add(rule(count=3))
    picks = [injector.pick("GET", "/x") for _ in range(5)]
    assert [p is not None for p in picks] == [True, True, True, False, False]
    assert injector.rules() == []


def test_first_matching_rule_that_fires_wins_in_insertion_order() -> None:
    injector = FaultInjector(seed=1)
    injector.add(rule(method="POST", status=429))
    injector.add(rule(status=503, count=1))
    injector.add(rule(status=500))
    assert [injector.pick("GET", "/x").status for _ in range(2)] == [503, 500]  # type: ignore[union-attr]
    assert injector.pick("post", "/x").status == 429  # type: ignore[union-attr]
    assert injector.pick("GET", "/y") is None


def test_probability_rules_are_deterministic_per_seed_and_differ_across_seeds() -> None:
    def sequence(seed: int) -> list[bool]:
        injector = FaultInjector(seed=seed)
        injector.add(rule(probability=0.5))
        return [injector.pick("GET", "/x") is not None for _ in range(64)]

    assert sequence(3) == sequence(3)
    assert sequence(3) != sequence(4)
    assert 16 <= sum(sequence(3)) <= 48


def test_reseed_restarts_the_random_sequence() -> None:
    injector = FaultInjector(seed=5)
    injector.add(rule(probability=0.5))
    first = [injector.pick("GET", "/x") is not None for _ in range(32)]
    injector.reseed(5)
    assert [injector.pick("GET", "/x") is not None for _ in range(32)] == first


def test_rule_from_json_round_trips() -> None:
    original = rule(kind="timeout", latency_ms=250, headers={"Retry-After": "2"}, count=2, method="get")
    assert original.method == "GET"
    assert FaultRule.from_json(original.to_json()) == original


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"kind": "boom"}, "kind must be one of"),
        ({"path": "["}, "not a valid regex"),
        ({"status": 42}, "HTTP status"),
        ({"latency_ms": -5}, "latency_ms"),
        ({"probability": 1.5}, "probability"),
        ({"count": 0}, "count"),
    ],
)
def test_invalid_rules_say_what_is_wrong(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        rule(**overrides)


def test_counters_are_exact_under_concurrent_recording() -> None:
    counters = CallCounters()

    def hammer() -> None:
        for _ in range(5000):
            counters.record("GET /a")

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    counters.record("POST /b")
    assert counters.total == 20001
    assert counters.snapshot() == {"GET /a": 20000, "POST /b": 1}
    assert counters.count("GET /a") == 20000
    counters.reset()
    assert (counters.total, counters.snapshot()) == (0, {})
