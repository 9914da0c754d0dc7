"""The deals flow against both simulators, over loopback through the real clients, on every store backend.

One HubSpot and one Salesforce simulator serve the session; each test reseeds them through the control
plane, gets a fresh store (SQLite or PostgreSQL: `store_url`) and links people with the contacts flow
first. Both simulators and the flows share one clock, so HubSpot's ten-second rate window passes by
moving it, not by sleeping.
"""

from __future__ import annotations

import random
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from connectors.hubspot.config import HubSpotConfig
from connectors.hubspot.connector import HubSpotConnector
from connectors.hubspot.errors import Waits
from connectors.hubspot.sandbox import HubSpotSandbox
from connectors.salesforce.connector import SalesforceConnector
from connectors.salesforce.sandbox.sandbox import SalesforceSandbox
from connectors.salesforce.settings import PasswordLogin, SalesforceSettings
from connectors.sandbox_core.clock import SimClock
from connectors.sandbox_core.server import make_tls
from syncd.budget import ApiBudget, DailyAllowance
from syncd.cli.compose import Runtime, contact_flow
from syncd.cli.compose_deals import deal_flow
from syncd.engine.contacts import FlowSettings
from syncd.engine.deals import DealFlow, DealSettings
from syncd.engine.runs import RunSummary
from syncd.mapping.defaults import default_mapping
from syncd.retry import RetryPolicy
from syncd.store.db import make_engine
from syncd.store.migrate import upgrade
from syncd.store.models import Deal, DealContact, DealStageChange, Identity, Issue

CONTACTS = Path(__file__).with_name("contacts.yaml")
FAST_RETRY = RetryPolicy(max_attempts=6, base_delay=0.001, max_delay=0.01, max_total_wait=1.0)
FAST_WAITS = Waits(ten_secondly=0.001, secondly=0.001, locked=0.001, daily_recheck=0.01)
PEOPLE = 200


class ShiftedTime:
    """Real monotonic time plus what the test let pass."""

    def __init__(self) -> None:
        self.offset = 0.0

    def monotonic(self) -> float:
        return time.monotonic() + self.offset


class Never:
    def is_set(self) -> bool:
        return False


def _no_sleep(seconds: float) -> None:
    """Retry waits: their lengths are pinned by the connector suites, not here."""


@dataclass
class World:
    hubspot: HubSpotSandbox
    salesforce: SalesforceSandbox
    clock: SimClock
    time: ShiftedTime
    runtime: Runtime | None = None
    store_url: str = ""
    _control: dict[str, httpx.Client] = field(default_factory=dict)

    # --- setup ----------------------------------------------------------------------------

    def reseed(self, store_url: str, seed: int = 7, people: int = PEOPLE) -> None:
        self.close_runtime()
        self.post(
            "hubspot",
            "/__sandbox/reset",
            {"seed": seed, "contacts": people, "settings": {"ten_secondly_limit": 250}},
        )
        self.post(
            "salesforce",
            "/__sandbox/reset",
            {"seed": seed, "people": people, "settings": {"duplicate_rules": False}},
        )
        upgrade(store_url)
        self.store_url = store_url
        self.runtime = Runtime(
            self._hubspot_connector(), self._salesforce_connector(), make_engine(store_url)
        )

    def _hubspot_connector(self) -> HubSpotConnector:
        config = HubSpotConfig(
            access_token=self.hubspot.access_token,
            base_url=self.hubspot.base_url,
            retry=FAST_RETRY,
            waits=FAST_WAITS,
            burst_limit=10_000,
            search_per_second=10_000,
        )
        budget = config.budget(clock=self.time.monotonic, sleep=self.let_time_pass)
        return HubSpotConnector(
            config, budget=budget, now=self.clock.now, sleep=_no_sleep, rng=random.Random(1)
        )

    def _salesforce_connector(self) -> SalesforceConnector:
        sf = self.salesforce
        settings = SalesforceSettings(
            credentials=PasswordLogin(
                username=sf.username,
                password=sf.password,
                client_id=sf.client_id,
                client_secret=sf.client_secret,
                security_token=sf.security_token,
            ),
            login_url=sf.token_url.split("/services/", 1)[0],
            ca_file=str(sf.ca_file),
        )
        return SalesforceConnector(
            settings,
            budget=ApiBudget(DailyAllowance("salesforce", allocated=100_000)),
            retry_policy=FAST_RETRY,
            sleep=_no_sleep,
            now=self.clock.now,
        )

    def close_runtime(self) -> None:
        if self.runtime is not None:
            self.runtime.close()
            self.runtime = None

    @property
    def store(self) -> Engine:
        assert self.runtime is not None
        return self.runtime.store

    # --- flows ----------------------------------------------------------------------------

    def link_people(self) -> RunSummary:
        """One contacts cycle: people in both systems linked, one-sided people created on the other side."""
        assert self.runtime is not None
        self.let_time_pass(11)
        flow = contact_flow(
            self.runtime, CONTACTS, settings=FlowSettings(lag=timedelta(seconds=30)), clock=self.clock.now
        )
        summary = flow.run("once", Never())
        assert summary.status == "succeeded", summary.error
        return summary

    def deals(self, settings: DealSettings | None = None) -> DealFlow:
        assert self.runtime is not None
        return deal_flow(
            self.runtime,
            default_mapping("deals"),
            settings=settings or DealSettings(lag=timedelta(seconds=30)),
            clock=self.clock.now,
        )

    def run(self, flow: DealFlow) -> RunSummary:
        """One deals cycle, after HubSpot's ten-second window (and the re-read lag) has passed."""
        self.let_time_pass(40)
        return flow.run("once", Never())

    def let_time_pass(self, seconds: float) -> None:
        self.time.offset += seconds

    # --- control plane --------------------------------------------------------------------

    def _client(self, system: str) -> httpx.Client:
        if system not in self._control:
            if system == "hubspot":
                client = httpx.Client(base_url=self.hubspot.base_url, trust_env=False, timeout=60)
            else:
                client = httpx.Client(
                    base_url=self.salesforce.instance_url,
                    verify=ssl.create_default_context(cafile=str(self.salesforce.ca_file)),
                    trust_env=False,
                    timeout=60,
                )
            self._control[system] = client
        return self._control[system]

    def post(self, system: str, path: str, body: Any = None) -> Any:
        response = self._client(system).post(path, json=body if body is not None else {})
        assert response.status_code < 300, f"{system} control {path}: {response.status_code} {response.text}"
        return response.json()

    def get(self, system: str, path: str) -> Any:
        response = self._client(system).get(path)
        assert response.status_code < 300, response.text
        return response.json()

    def fault(self, system: str, **rule: Any) -> None:
        self.post(system, "/__sandbox/faults", rule)

    def clear_faults(self) -> None:
        for system in ("hubspot", "salesforce"):
            assert self._client(system).delete("/__sandbox/faults").status_code < 300

    def counters(self, system: str) -> dict[str, int]:
        by_endpoint: dict[str, int] = self.get(system, "/__sandbox/counters")["by_endpoint"]
        return by_endpoint

    def calls(self, system: str) -> int:
        return sum(self.counters(system).values())

    def reset_counters(self) -> None:
        for system in ("hubspot", "salesforce"):
            assert self._client(system).delete("/__sandbox/counters").status_code < 300

    # --- what the systems and the store hold ------------------------------------------------

    def snapshot(self, system: str) -> dict[str, Any]:
        snapshot: dict[str, Any] = self.get(system, "/__sandbox/snapshot")
        return snapshot

    def hubspot_deals(self) -> list[dict[str, Any]]:
        return [d for d in self.snapshot("hubspot")["objects"]["deals"] if not d["archived"]]

    def opportunities(self) -> list[dict[str, Any]]:
        return [o for o in self.snapshot("salesforce")["objects"]["Opportunity"] if not o["IsDeleted"]]

    def rows(self, model: type[Any]) -> list[Any]:
        with Session(self.store) as session:
            return list(session.scalars(select(model)))

    def store_deals(self) -> list[Deal]:
        return self.rows(Deal)

    def deal_contacts(self) -> list[DealContact]:
        return self.rows(DealContact)

    def history(self) -> list[DealStageChange]:
        return self.rows(DealStageChange)

    def identities(self) -> list[Identity]:
        return [i for i in self.rows(Identity) if i.active]

    def issues(self, status: str = "open") -> list[Issue]:
        return [i for i in self.rows(Issue) if i.status == status]


@pytest.fixture(scope="session")
def world_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("e2e_deals")
    tls = make_tls(tmp / "tls")
    shifted = ShiftedTime()
    clock = SimClock(monotonic=shifted.monotonic)
    with (
        HubSpotSandbox(seed=7, contacts=10, clock=clock, monotonic=shifted.monotonic) as hubspot,
        SalesforceSandbox(seed=7, people=10, tls=tls, clock=clock) as salesforce,
    ):
        world = World(hubspot, salesforce, clock, shifted)
        try:
            yield world
        finally:
            world.close_runtime()
            for client in world._control.values():
                client.close()


@pytest.fixture
def world(world_session: World, store_url: str) -> World:
    """Freshly seeded simulators, a new store on each backend, and people linked by one contacts cycle."""
    world_session.clear_faults()
    world_session.reseed(store_url)
    world_session.link_people()
    world_session.reset_counters()
    return world_session
