"""The retry policy: what is retried, how long it waits, when it gives up."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable

import pytest

from syncd.errors import (
    AuthError,
    BudgetExhaustedError,
    ConfigError,
    FatalError,
    IssueCategory,
    RecordError,
    RetryableError,
)
from syncd.retry import RetryPolicy, call_with_retry


class Flaky:
    """Fails with the given errors in turn, then returns "ok"; counts its calls."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def run(fn: Callable[[], str], policy: RetryPolicy, seed: int = 7) -> tuple[str, list[float]]:
    slept: list[float] = []
    result = call_with_retry(fn, policy=policy, sleep=slept.append, rng=random.Random(seed))
    return result, slept


@pytest.mark.parametrize(
    "error",
    [
        BudgetExhaustedError("daily limit", resume_after=60),
        RecordError("bad record", category=IssueCategory.VALIDATION),
        AuthError("token revoked"),
        ConfigError(["unknown field"]),
        FatalError("invariant broken"),
        ValueError("not translated by the connector"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_non_retryable_errors_propagate_after_one_call(error: Exception) -> None:
    fn = Flaky(error, error)
    slept: list[float] = []
    with pytest.raises(type(error)) as raised:
        call_with_retry(fn, policy=RetryPolicy(), sleep=slept.append)
    assert raised.value is error
    assert fn.calls == 1
    assert slept == []


def test_transient_failures_are_retried_until_success() -> None:
    fn = Flaky(RetryableError("503"), RetryableError("reset"), RetryableError("timeout"))
    result, slept = run(fn, RetryPolicy(max_attempts=4))
    assert result == "ok"
    assert fn.calls == 4
    assert len(slept) == 3


def test_success_on_first_call_never_sleeps() -> None:
    fn = Flaky()
    assert run(fn, RetryPolicy()) == ("ok", [])


def test_gives_up_after_max_attempts_with_the_last_error() -> None:
    errors = [RetryableError(f"503 #{i}") for i in range(5)]
    fn = Flaky(*errors)
    slept: list[float] = []
    with pytest.raises(RetryableError) as raised:
        call_with_retry(fn, policy=RetryPolicy(max_attempts=3), sleep=slept.append)
    assert raised.value is errors[2]
    assert fn.calls == 3
    assert len(slept) == 2


@pytest.mark.parametrize(
    ("attempt", "ceiling"),
    [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (7, 30.0), (500, 30.0)],
)
def test_backoff_ceiling_doubles_per_attempt_up_to_max_delay(attempt: int, ceiling: float) -> None:
    assert RetryPolicy(base_delay=0.5, max_delay=30.0).backoff_ceiling(attempt) == ceiling


def test_waits_are_full_jitter_between_zero_and_the_ceiling() -> None:
    policy = RetryPolicy(max_attempts=6, base_delay=1.0, max_delay=8.0, max_total_wait=1000)
    fn = Flaky(*[RetryableError("503") for _ in range(5)])
    _, slept = run(fn, policy)
    assert len(slept) == 5
    for attempt, wait in enumerate(slept, start=1):
        assert 0.0 <= wait <= policy.backoff_ceiling(attempt)
    # Full jitter, not a fixed schedule: the waits are not simply the ceilings.
    assert slept != [policy.backoff_ceiling(a) for a in range(1, 6)]


def test_same_seed_gives_the_same_waits() -> None:
    policy = RetryPolicy(max_attempts=5, max_total_wait=1000)
    _, first = run(Flaky(*[RetryableError("x") for _ in range(4)]), policy, seed=3)
    _, second = run(Flaky(*[RetryableError("x") for _ in range(4)]), policy, seed=3)
    assert first == second


@pytest.mark.parametrize(
    ("retry_after", "expected_min"),
    [
        (10.0, 10.0),  # HubSpot TEN_SECONDLY_ROLLING, first attempt
        (20.0, 20.0),  # ... second attempt (the connector scales it)
        (1.0, 1.0),  # search secondly limit
        (2.0, 2.0),  # 423 Locked
        (0.0, 0.0),
    ],
)
def test_retry_after_is_a_floor_on_the_wait(retry_after: float, expected_min: float) -> None:
    policy = RetryPolicy(base_delay=0.1, max_delay=0.2, max_total_wait=100)
    fn = Flaky(RetryableError("429", retry_after=retry_after))
    _, slept = run(fn, policy)
    assert len(slept) == 1
    assert expected_min <= slept[0] <= max(expected_min, 0.2)


def test_backoff_wins_when_longer_than_retry_after() -> None:
    policy = RetryPolicy(base_delay=100.0, max_delay=100.0, max_total_wait=1000)
    fn = Flaky(RetryableError("429", retry_after=0.001))
    _, slept = run(fn, policy, seed=1)
    assert slept[0] == pytest.approx(random.Random(1).uniform(0, 100.0))


def test_gives_up_instead_of_sleeping_past_max_total_wait() -> None:
    error = RetryableError("429", retry_after=50.0)
    fn = Flaky(RetryableError("503", retry_after=30.0), error, RetryableError("never reached"))
    slept: list[float] = []
    with pytest.raises(RetryableError) as raised:
        call_with_retry(
            fn,
            policy=RetryPolicy(max_attempts=10, base_delay=0.0, max_total_wait=60.0),
            sleep=slept.append,
        )
    assert raised.value is error
    assert slept == [30.0]
    assert fn.calls == 2


def test_a_retry_after_beyond_the_whole_budget_fails_without_sleeping() -> None:
    fn = Flaky(RetryableError("477", retry_after=3600.0))
    slept: list[float] = []
    with pytest.raises(RetryableError):
        call_with_retry(fn, policy=RetryPolicy(max_total_wait=120.0), sleep=slept.append)
    assert slept == []
    assert fn.calls == 1


def test_a_budget_error_after_transient_ones_stops_retrying() -> None:
    budget = BudgetExhaustedError("daily", resume_after=100.0)
    fn = Flaky(RetryableError("503"), budget)
    with pytest.raises(BudgetExhaustedError):
        run(fn, RetryPolicy())
    assert fn.calls == 2


def test_each_retry_is_logged_with_operation_and_counts(caplog: pytest.LogCaptureFixture) -> None:
    fn = Flaky(RetryableError("HubSpot 503 on POST /crm/v3/objects/contacts/search"))
    with caplog.at_level(logging.WARNING, logger="syncd.retry"):
        call_with_retry(fn, policy=RetryPolicy(), operation="hubspot search contacts", sleep=lambda s: None)
    (record,) = caplog.records
    message = record.getMessage()
    assert "hubspot search contacts" in message
    assert "RetryableError" in message
    assert "attempt 1 of 6" in message


@pytest.mark.parametrize(
    "kwargs",
    [{"max_attempts": 0}, {"base_delay": -1.0}, {"max_total_wait": -5.0}],
)
def test_nonsense_policies_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]
