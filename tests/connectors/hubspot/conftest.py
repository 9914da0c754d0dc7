"""Fixtures: a HubSpot simulator on loopback and a connector whose retry waits are recorded, not slept."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from connectors.hubspot.config import HubSpotConfig
from connectors.hubspot.connector import HubSpotConnector
from connectors.hubspot.sandbox import HubSpotSandbox
from syncd.retry import RetryPolicy


class Control:
    """The simulator's control plane (/__sandbox/), spoken over HTTP like any other client would."""

    def __init__(self, base_url: str) -> None:
        self.client = httpx.Client(base_url=base_url + "/__sandbox", timeout=10)

    def fault(self, **rule: Any) -> None:
        rule.setdefault("method", None)
        self.client.post("/faults", json=rule).raise_for_status()

    def counters(self) -> dict[str, Any]:
        data: dict[str, Any] = self.client.get("/counters").json()
        return data

    def calls(self, endpoint: str) -> int:
        return int(self.counters()["by_endpoint"].get(endpoint, 0))

    def contacts(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self.client.get("/snapshot").json()["objects"]["contacts"]
        return rows

    def settings(self, **changes: Any) -> None:
        self.client.post("/settings", json=changes).raise_for_status()

    def clock(self, **change: Any) -> None:
        self.client.post("/clock", json=change).raise_for_status()


class RecordedSleep:
    """Retry waits are recorded, not slept; the budget's clock is real time plus every recorded wait, so a
    budget paced on it agrees with the simulator's real-time windows yet never pays for a retry wait."""

    def __init__(self) -> None:
        self.waits: list[float] = []
        self.skipped = 0.0

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.skipped += seconds

    def clock(self) -> float:
        return time.monotonic() + self.skipped


# Search's 5 per second is raised so that tests not about pacing are not paced.
SETTINGS = {
    "search_index_lag_ms": 0.0,
    "search_per_second": 50,
    "max_search_results": 10_000,
    "ten_secondly_limit": 190,
    "ten_second_window_ms": 10_000,
}


@pytest.fixture(scope="module")
def sandbox_server() -> Iterator[tuple[HubSpotSandbox, Control]]:
    with HubSpotSandbox(seed=7, contacts=120, **SETTINGS) as sim:
        plane = Control(sim.base_url)
        yield sim, plane
        plane.client.close()


@pytest.fixture
def sandbox(sandbox_server: tuple[HubSpotSandbox, Control]) -> HubSpotSandbox:
    """The module's simulator, reseeded to the same portal with faults, counters, settings and clock reset."""
    sim, plane = sandbox_server
    plane.client.post("/reset", json={"seed": 7, "settings": SETTINGS}).raise_for_status()
    plane.clock(freeze=False)
    return sim


@pytest.fixture
def control(sandbox: HubSpotSandbox, sandbox_server: tuple[HubSpotSandbox, Control]) -> Control:
    return sandbox_server[1]


@pytest.fixture
def slept() -> RecordedSleep:
    return RecordedSleep()


def make_connector(
    sandbox: HubSpotSandbox, sleep: RecordedSleep, *, real_time_budget: bool = False, **overrides: Any
) -> HubSpotConnector:
    """A connector on the simulator. Its budget runs on `sleep`'s clock unless `real_time_budget`: after
    a 429 the burst window is full for its whole span, which on a plain clock costs real seconds."""
    settings: dict[str, Any] = {
        "access_token": sandbox.access_token,
        "base_url": sandbox.base_url,
        "retry": RetryPolicy(max_attempts=5, base_delay=0.01, max_delay=0.05, max_total_wait=600.0),
        "read_timeout": 5.0,
        "search_per_second": 50,
    }
    settings.update(overrides)
    config = HubSpotConfig(**settings)
    budget = None if real_time_budget else config.budget(clock=sleep.clock)
    return HubSpotConnector(config, budget=budget, sleep=sleep, rng=random.Random(3))


@pytest.fixture
def connector(sandbox: HubSpotSandbox, slept: RecordedSleep) -> Iterator[HubSpotConnector]:
    conn = make_connector(sandbox, slept)
    yield conn
    conn.close()
