"""The alerts flow against both simulators over loopback, through the real clients.

The contacts flow links people, the engagements flow stores the simulators' marketing touches, then
the alerts flow evaluates rules over that store and saves Tasks in the Salesforce simulator through
simple-salesforce. The webhook is httpx over a respx router. Everything shares one simulated clock.
"""

from __future__ import annotations

import random
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
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
from syncd.alerts.flow import AlertFlow, AlertSettings
from syncd.alerts.rules import Rule
from syncd.alerts.webhook import WebhookSender
from syncd.budget import ApiBudget, DailyAllowance
from syncd.cli.compose import Runtime, contact_flow, engagement_flow
from syncd.engine.contacts import FlowSettings
from syncd.engine.runs import RunSummary
from syncd.retry import RetryPolicy
from syncd.store.db import make_engine
from syncd.store.migrate import upgrade
from syncd.store.models import Alert, Identity, Issue, Touch

MAPPING = Path(__file__).resolve().parents[1] / "e2e_engagements" / "contacts.yaml"
FAST_RETRY = RetryPolicy(max_attempts=6, base_delay=0.001, max_delay=0.01, max_total_wait=1.0)
FAST_WAITS = Waits(ten_secondly=0.001, secondly=0.001, locked=0.001, daily_recheck=0.01)
HISTORY = EventFeedSettings(history=timedelta(days=3650), email_window=timedelta(days=120))
HOOK_URL = "https://hooks.example.com/services/T0/B0/secret"
PEOPLE = 30


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
    """Retry waits: their lengths are pinned by the retry and webhook suites, not here."""


@dataclass
class World:
    hubspot: HubSpotSandbox
    salesforce: SalesforceSandbox
    clock: SimClock
    time: ShiftedTime
    runtime: Runtime | None = None
    router: respx.MockRouter = field(default_factory=lambda: respx.MockRouter(assert_all_called=False))
    _control: dict[str, httpx.Client] = field(default_factory=dict)

    # --- setup ----------------------------------------------------------------------------

    def reseed(self, store_url: str, seed: int = 7) -> None:
        self.close_runtime()
        self.post(
            "hubspot",
            "/__sandbox/reset",
            {"seed": seed, "contacts": PEOPLE, "settings": {"ten_secondly_limit": 250}},
        )
        self.post(
            "salesforce",
            "/__sandbox/reset",
            {"seed": seed, "people": PEOPLE, "settings": {"duplicate_rules": False}},
        )
        upgrade(store_url)
        self.runtime = Runtime(self._hubspot_connector(), self.salesforce_connector(), make_engine(store_url))
        self.router = respx.MockRouter(assert_all_called=False)
        self.router.post(HOOK_URL, name="hook").respond(200, text="ok")

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
            config, budget=budget, now=self.clock.now, sleep=_no_sleep, rng=random.Random(1), events=HISTORY
        )

    def salesforce_connector(self) -> SalesforceConnector:
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

    def link_and_collect(self) -> None:
        """One contacts cycle (links people) and one engagements cycle (stores touches, saves Tasks)."""
        assert self.runtime is not None
        self.let_time_pass(11)
        contacts = contact_flow(
            self.runtime, MAPPING, settings=FlowSettings(lag=timedelta(seconds=30)), clock=self.clock.now
        )
        assert contacts.run("once", Never()).status == "succeeded"
        self.let_time_pass(11)
        engagements = engagement_flow(self.runtime, clock=self.clock.now)
        summary = engagements.run("once", Never())
        assert summary.status == "succeeded", summary.error

    def alerts(self, *rules: Rule, salesforce: Any = None, **settings: Any) -> AlertFlow:
        assert self.runtime is not None
        client = httpx.Client(transport=httpx.MockTransport(self.router.handler))
        return AlertFlow(
            name="alerts",
            salesforce=salesforce or self.runtime.salesforce,
            store=self.runtime.store,
            clock=self.clock.now,
            settings=AlertSettings(rules=rules, **settings),
            webhook=WebhookSender(HOOK_URL, client, policy=FAST_RETRY, sleep=_no_sleep),
        )

    def run(self, flow: AlertFlow) -> RunSummary:
        summary = flow.run("once", Never())
        assert summary.status == "succeeded", summary.error
        return summary

    def let_time_pass(self, seconds: float) -> None:
        self.time.offset += seconds

    def now(self) -> datetime:
        return self.clock.now()

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
            assert self._client(system).delete("/__sandbox/counters").status_code < 300

    # --- what the systems and the store hold ------------------------------------------------

    def snapshot(self) -> dict[str, list[dict[str, Any]]]:
        objects: dict[str, list[dict[str, Any]]] = self.get("salesforce", "/__sandbox/snapshot")["objects"]
        return objects

    def alert_tasks(self) -> list[dict[str, Any]]:
        return [
            t
            for t in self.snapshot().get("Task", [])
            if not t.get("IsDeleted") and str(t.get("HubSpot_Engagement_Id__c") or "").startswith("alert:")
        ]

    def stored_alerts(self) -> list[Alert]:
        with Session(self.store) as session:
            return list(session.scalars(select(Alert).order_by(Alert.id)))

    def touches(self) -> list[Touch]:
        with Session(self.store) as session:
            return list(session.scalars(select(Touch).order_by(Touch.id)))

    def identities(self) -> list[Identity]:
        with Session(self.store) as session:
            return list(session.scalars(select(Identity).where(Identity.active)))

    def issues(self) -> list[Issue]:
        with Session(self.store) as session:
            return list(session.scalars(select(Issue).where(Issue.flow == "alerts", Issue.status == "open")))

    def posts(self) -> int:
        return int(self.router.routes["hook"].call_count)


@pytest.fixture(scope="session")
def world_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("e2e_alerts")
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
def world(world_session: World, sqlite_url: str) -> World:
    """Freshly seeded simulators, a new SQLite store, people linked and their touches stored."""
    world_session.reseed(sqlite_url)
    world_session.link_and_collect()
    world_session.reset_counters()
    return world_session


@pytest.fixture
def world_on_every_backend(world_session: World, store_url: str) -> World:
    """As `world`, once on SQLite and once on PostgreSQL."""
    world_session.reseed(store_url)
    world_session.link_and_collect()
    world_session.reset_counters()
    return world_session
