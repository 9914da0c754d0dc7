"""The activities flow (and the engagements flow's HubSpot-logged leg) against both simulators.

One HubSpot and one Salesforce simulator serve the session; each test reseeds them through the control
plane, gets a fresh store on its backend (SQLite and PostgreSQL) and links people with the contacts
flow first. Both simulators and the flows share one clock, so a test lets HubSpot's ten-second rate
window pass by moving it, not by sleeping.
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
from connectors.hubspot.events import EventFeedSettings
from connectors.hubspot.sandbox import HubSpotSandbox
from connectors.salesforce.connector import SalesforceConnector
from connectors.salesforce.sandbox.sandbox import SalesforceSandbox
from connectors.salesforce.settings import PasswordLogin, SalesforceSettings
from connectors.sandbox_core.clock import SimClock
from connectors.sandbox_core.server import make_tls
from syncd.budget import ApiBudget, DailyAllowance
from syncd.cli.compose import Runtime, contact_flow, engagement_flow
from syncd.cli.compose_activities import activity_flow, logged_engagements
from syncd.engine.activities import ActivityFlow, ActivitySettings
from syncd.engine.contacts import FlowSettings
from syncd.engine.engagements import EngagementFlow, EngagementSettings
from syncd.engine.logged import LoggedSettings
from syncd.engine.runs import RunSummary
from syncd.retry import RetryPolicy
from syncd.store.db import make_engine
from syncd.store.migrate import upgrade
from syncd.store.models import Activity, ActivityEngagement, Identity, Issue, Touch, TouchTask

MAPPING = Path(__file__).with_name("contacts.yaml")
FAST_RETRY = RetryPolicy(max_attempts=6, base_delay=0.001, max_delay=0.01, max_total_wait=1.0)
FAST_WAITS = Waits(ten_secondly=0.001, secondly=0.001, locked=0.001, daily_recheck=0.01)
HISTORY = EventFeedSettings(history=timedelta(days=3650), email_window=timedelta(days=120))
PEOPLE = 60


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
    _control: dict[str, httpx.Client] = field(default_factory=dict)

    # --- setup ----------------------------------------------------------------------------

    def reseed(self, store_url: str, seed: int = 11, people: int = PEOPLE, page_size: int = 2000) -> None:
        self.close_runtime()
        self.post("hubspot", "/__sandbox/reset", {"seed": seed, "contacts": people})
        self.post(
            "salesforce",
            "/__sandbox/reset",
            {"seed": seed, "people": people, "settings": {"duplicate_rules": False}},
        )
        upgrade(store_url)
        self.runtime = Runtime(
            self.hubspot_connector(), self.salesforce_connector(page_size), make_engine(store_url)
        )

    def hubspot_connector(self) -> HubSpotConnector:
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
            config, budget=budget, now=self.clock.now, sleep=_no_sleep, rng=random.Random(1), events=HISTORY
        )

    def salesforce_connector(self, page_size: int = 2000) -> SalesforceConnector:
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
            page_size=page_size,
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
    def rt(self) -> Runtime:
        assert self.runtime is not None
        return self.runtime

    @property
    def store(self) -> Engine:
        return self.rt.store

    # --- flows ----------------------------------------------------------------------------

    def link_people(self) -> RunSummary:
        """One contacts cycle: people in both systems linked, people of one system created in the other."""
        self.let_time_pass(11)
        flow = contact_flow(
            self.rt, MAPPING, settings=FlowSettings(lag=timedelta(seconds=30)), clock=self.clock.now
        )
        summary = flow.run("once", Never())
        assert summary.status == "succeeded", summary.error
        return summary

    def activities(self, settings: ActivitySettings | None = None) -> ActivityFlow:
        return activity_flow(self.rt, settings=settings, clock=self.clock.now)

    def engagements(self, logged: LoggedSettings | None = None) -> EngagementFlow:
        discovery = logged_engagements(self.rt, logged or LoggedSettings(), clock=self.clock.now)
        return engagement_flow(self.rt, settings=EngagementSettings(), clock=self.clock.now, logged=discovery)

    def run(self, flow: ActivityFlow | EngagementFlow) -> RunSummary:
        """One cycle of a flow, after HubSpot's ten-second window has passed."""
        self.let_time_pass(11)
        summary = flow.run("once", Never())
        self.rt.probe.discard()
        return summary

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

    def reset_counters(self) -> None:
        for system in ("hubspot", "salesforce"):
            assert self._client(system).delete("/__sandbox/counters").status_code < 300

    # --- what the systems and the store hold ------------------------------------------------

    def snapshot(self, system: str) -> dict[str, Any]:
        snapshot: dict[str, Any] = self.get(system, "/__sandbox/snapshot")
        return snapshot

    def activity_rows(self) -> list[Activity]:
        with Session(self.store) as session:
            return list(session.scalars(select(Activity).order_by(Activity.id)))

    def engagement_links(self) -> list[ActivityEngagement]:
        with Session(self.store) as session:
            return list(session.scalars(select(ActivityEngagement)))

    def touches(self) -> list[Touch]:
        with Session(self.store) as session:
            return list(session.scalars(select(Touch).order_by(Touch.id)))

    def task_links(self) -> list[TouchTask]:
        with Session(self.store) as session:
            return list(session.scalars(select(TouchTask)))

    def identities(self, *, active: bool = True) -> list[Identity]:
        with Session(self.store) as session:
            query = select(Identity)
            if active:
                query = query.where(Identity.active)
            return list(session.scalars(query))

    def issues(self, status: str = "open") -> list[Issue]:
        with Session(self.store) as session:
            return list(session.scalars(select(Issue).where(Issue.status == status)))


@pytest.fixture(scope="session")
def world_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("e2e_activities")
    tls = make_tls(tmp / "tls")
    shifted = ShiftedTime()
    clock = SimClock(monotonic=shifted.monotonic)
    with (
        HubSpotSandbox(seed=11, contacts=10, clock=clock, monotonic=shifted.monotonic) as hubspot,
        SalesforceSandbox(seed=11, people=10, tls=tls, clock=clock) as salesforce,
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
    world_session.reseed(store_url)
    world_session.link_people()
    world_session.reset_counters()
    return world_session
