"""The one retry policy: transient failures are retried here and nowhere else.

Connectors translate SDK/HTTP failures into `syncd.errors` classes and call the remote through
`call_with_retry`. Only `RetryableError` is retried; every other error (budget, record, auth,
config, fatal, or anything untranslated) propagates at once. Waits are exponential with full jitter,
never shorter than the server's `retry_after` (connectors also use it to express per-error minimums
such as HubSpot's ten-secondly window). Sleep and randomness are injected so tests take no time.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import tenacity

from syncd.errors import FatalError, RetryableError

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try. Every number is a setting: vendors change their limits often.

    `max_attempts` counts the first call. `max_total_wait` bounds the seconds slept across all retries
    of one call: when the next wait would cross it, the last error is raised instead of sleeping.
    """

    max_attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_total_wait: float = 120.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base_delay < 0 or self.max_delay < 0 or self.max_total_wait < 0:
            raise ValueError("delays must not be negative")

    def backoff_ceiling(self, attempt: int) -> float:
        """The upper bound of the jittered wait after failed attempt number `attempt` (1-based)."""
        # Exponent capped so large attempt numbers cannot overflow a float.
        return min(self.max_delay, self.base_delay * 2.0 ** min(attempt - 1, 60))

    def wait_for(self, attempt: int, error: BaseException | None, rng: random.Random) -> float:
        """Seconds to wait after failed attempt `attempt`: full jitter, at least the error's retry_after."""
        wait = rng.uniform(0.0, self.backoff_ceiling(attempt))
        retry_after = error.retry_after if isinstance(error, RetryableError) else None
        if retry_after is not None and retry_after > wait:
            wait = retry_after
        return wait


def call_with_retry(
    fn: Callable[[], T],
    *,
    policy: RetryPolicy,
    operation: str = "call",
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
) -> T:
    """Call `fn`, retrying it on `RetryableError` as `policy` allows; return its result.

    `operation` names the call in logs (e.g. "hubspot POST /crm/v3/objects/contacts/search"); it and
    the error's class and message are all that is logged, so neither may carry field values.
    When retries run out, the last `RetryableError` is raised unchanged.
    """
    jitter = rng if rng is not None else random.Random()

    def wait(state: tenacity.RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome is not None else None
        return policy.wait_for(state.attempt_number, error, jitter)

    def stop(state: tenacity.RetryCallState) -> bool:
        if state.attempt_number >= policy.max_attempts:
            return True
        return state.idle_for + state.upcoming_sleep > policy.max_total_wait

    def before_sleep(state: tenacity.RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome is not None else None
        log.warning(
            "retrying %s after %s: %s (attempt %d of %d, waiting %.2fs)",
            operation,
            type(error).__name__,
            error,
            state.attempt_number,
            policy.max_attempts,
            state.upcoming_sleep,
        )

    def give_up(state: tenacity.RetryCallState) -> T:
        error = state.outcome.exception() if state.outcome is not None else None
        log.warning(
            "giving up on %s after %d attempts and %.2fs of waiting: %s",
            operation,
            state.attempt_number,
            state.idle_for,
            type(error).__name__,
        )
        if error is None:  # tenacity stops only after a failed attempt; this cannot happen
            raise FatalError(f"retrying {operation} stopped without an error")
        raise error

    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception_type(RetryableError),
        wait=wait,
        stop=stop,
        sleep=sleep,
        before_sleep=before_sleep,
        retry_error_callback=give_up,
        reraise=True,
    )
    return retrying(fn)
