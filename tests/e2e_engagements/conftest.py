"""The engagements flow against both simulators, over loopback through the real clients.

One HubSpot and one Salesforce simulator serve the session; each test reseeds them through the control
plane, gets a fresh store and links people with the contacts flow first. Both simulators and the flows
share one clock, so a test lets HubSpot's ten-second rate window pass by moving it, not by sleeping.
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
from syncd.connector import Connector
from syncd.core.normalize import canonical_email
from syncd.engine.contacts import FlowSettings
from syncd.engine.engagements import EngagementFlow, EngagementSettings
from syncd.engine.runs import RunSummary
from syncd.retry import RetryPolicy
from syncd.store.db import make_engine
from syncd.store.migrate import upgrade
from syncd.store.models import Identity, Issue, Person, Touch, TouchTask

MAPPING = Path(__file__).with_name("contacts.yaml")
FAST_RETRY = RetryPolicy(max_attempts=6, base_delay=0.001, max_delay=0.01, max_total_wait=1.0)
FAST_WAITS = Waits(ten_secondly=0.001, secondly=0.001, locked=0.001, daily_recheck=0.01)
# Long enough to cover every event the simulators seed.
HISTORY = EventFeedSettings(history=timedelta(days=3650), email_window=timedelta(days=120))
PEOPLE = 40


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
    tmp: Path
    runtime: Runtime | None = None
    store_url: str = ""
    _stores: int = 0
    _control: dict[str, httpx.Client] = field(default_factory=dict)

    # --- setup ----------------------------------------------------------------------------

    def reseed(self, seed: int = 5, people: int = PEOPLE) -> None:
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
        self._stores += 1
        self.store_url = f"sqlite:///{self.tmp / f'store{self._stores}.db'}"
        upgrade(self.store_url)
        self.runtime = Runtime(
            self._hubspot_connector(), self._salesforce_connector(), make_engine(self.store_url)
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
        # The client-side limiter waits by moving the shared clock: a full window costs no real time.
        budget = config.budget(clock=self.time.monotonic, sleep=self.let_time_pass)
        return HubSpotConnector(
            config, budget=budget, now=self.clock.now, sleep=_no_sleep, rng=random.Random(1), events=HISTORY
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
        """One contacts cycle: people in both systems linked, HubSpot-only people created as Leads."""
        assert self.runtime is not None
        self.let_time_pass(11)
        flow = contact_flow(
            self.runtime, MAPPING, settings=FlowSettings(lag=timedelta(seconds=30)), clock=self.clock.now
        )
        summary = flow.run("once", Never())
        assert summary.status == "succeeded", summary.error
        return summary

    def engagements(
        self, settings: EngagementSettings | None = None, *, salesforce: Connector | None = None
    ) -> EngagementFlow:
        assert self.runtime is not None
        if salesforce is None:
            return engagement_flow(self.runtime, settings=settings, clock=self.clock.now)
        return EngagementFlow(
            name="engagements",
            hubspot=self.runtime.hubspot,
            salesforce=salesforce,
            store=self.runtime.store,
            clock=self.clock.now,
            settings=settings,
        )

    def run(self, flow: EngagementFlow) -> RunSummary:
        """One engagements cycle, after HubSpot's ten-second window has passed."""
        self.let_time_pass(11)
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

    def counters(self, system: str) -> dict[str, int]:
        by_endpoint: dict[str, int] = self.get(system, "/__sandbox/counters")["by_endpoint"]
        return by_endpoint

    def reset_counters(self) -> None:
        for system in ("hubspot", "salesforce"):
            response = self._client(system).delete("/__sandbox/counters")
            assert response.status_code < 300

    # --- what the systems and the store hold ------------------------------------------------

    def tasks(self) -> list[dict[str, Any]]:
        """Salesforce Tasks syncd saved (keyed by its external id), deleted ones left out."""
        rows = self.get("salesforce", "/__sandbox/snapshot")["objects"].get("Task", [])
        return [
            r
            for r in rows
            if not r.get("IsDeleted") and str(r.get("HubSpot_Engagement_Id__c") or "").startswith("syncd:")
        ]

    def hubspot_events(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        snapshot = self.get("hubspot", "/__sandbox/snapshot")
        return snapshot["webEvents"], snapshot["emailEvents"]

    def touches(self) -> list[Touch]:
        with Session(self.store) as session:
            return list(session.scalars(select(Touch).order_by(Touch.id)))

    def task_links(self) -> list[TouchTask]:
        with Session(self.store) as session:
            return list(session.scalars(select(TouchTask)))

    def identities(self) -> list[Identity]:
        with Session(self.store) as session:
            return list(session.scalars(select(Identity).where(Identity.active)))

    def issues(self, status: str = "open") -> list[Issue]:
        with Session(self.store) as session:
            return list(session.scalars(select(Issue).where(Issue.status == status)))

    def people_emails(self) -> dict[str, int]:
        with Session(self.store) as session:
            return {email: pid for pid, email in session.execute(select(Person.id, Person.email))}


def expected_touch_ids(world: World) -> tuple[set[str], set[str]]:
    """(HubSpot event ids that must become touches, email event ids whose recipient is not linked)."""
    hubspot_ids = {i.external_id for i in world.identities() if i.system == "hubspot"}
    people = world.people_emails()
    web, email = world.hubspot_events()
    wanted = {
        e["id"]
        for e in web
        if e["objectId"] in hubspot_ids and e["eventType"] in ("e_visited_page", "e_submitted_form")
    }
    waiting: set[str] = set()
    for e in email:
        touch_type = e["type"] in ("SENT", "DELIVERED", "OPEN", "CLICK", "BOUNCE") or (
            e["type"] == "STATUSCHANGE" and e.get("portalSubscriptionStatus") == "UNSUBSCRIBED"
        )
        if not touch_type:
            continue
        (wanted if canonical_email(e["recipient"]) in people else waiting).add(e["id"])
    return wanted, waiting


@pytest.fixture(scope="session")
def world_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("e2e_engagements")
    tls = make_tls(tmp / "tls")
    shifted = ShiftedTime()
    clock = SimClock(monotonic=shifted.monotonic)
    with (
        HubSpotSandbox(seed=5, contacts=10, clock=clock, monotonic=shifted.monotonic) as hubspot,
        SalesforceSandbox(seed=5, people=10, tls=tls, clock=clock) as salesforce,
    ):
        world = World(hubspot, salesforce, clock, shifted, tmp)
        try:
            yield world
        finally:
            world.close_runtime()
            for client in world._control.values():
                client.close()


@pytest.fixture
def world(world_session: World) -> World:
    """Freshly seeded simulators, a new store, and people linked by one contacts cycle."""
    world_session.reseed()
    world_session.link_people()
    world_session.reset_counters()
    return world_session
