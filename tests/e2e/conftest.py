"""The contact flow against both simulators, over loopback through the official SDKs.

One HubSpot and one Salesforce simulator serve the whole e2e session (starting and stopping servers
costs seconds); each test module reseeds them through the control plane and gets a fresh store.
Both simulators and the flow share one clock, so a test can let "a scheduling interval" pass by
moving it instead of sleeping.
"""

from __future__ import annotations

import random
import ssl
import time
from collections.abc import Iterator, Mapping
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
from syncd.engine.contacts import ContactFlow, FlowSettings
from syncd.engine.runs import RunSummary
from syncd.retry import RetryPolicy
from syncd.store.db import make_engine
from syncd.store.migrate import upgrade
from syncd.store.models import Identity, Issue

MAPPING = Path(__file__).with_name("contacts.yaml")
# Retries keep their shape (attempts, backoff, policy windows) but wait milliseconds, not seconds.
FAST_RETRY = RetryPolicy(max_attempts=6, base_delay=0.001, max_delay=0.01, max_total_wait=1.0)
FAST_WAITS = Waits(ten_secondly=0.001, secondly=0.001, locked=0.001, daily_recheck=0.01)


class ShiftedTime:
    """Real monotonic time plus what the test let pass: no test waits for time to go by."""

    def __init__(self) -> None:
        self.offset = 0.0

    def monotonic(self) -> float:
        return time.monotonic() + self.offset

    def sleep(self, seconds: float) -> None:
        self.offset += seconds


class Never:
    def is_set(self) -> bool:
        return False


def _no_sleep(seconds: float) -> None:
    """Retry waits of the connectors: their lengths are asserted by the connector suites, not here."""


@dataclass
class World:
    """Both simulators, a store and the connectors a flow runs with."""

    hubspot: HubSpotSandbox
    salesforce: SalesforceSandbox
    clock: SimClock
    time: ShiftedTime
    tmp: Path
    runtime: Runtime | None = None
    _stores: int = 0
    _flow: ContactFlow | None = None
    _control: dict[str, httpx.Client] = field(default_factory=dict)

    # --- setup ----------------------------------------------------------------------------

    def reseed(
        self,
        *,
        seed: int,
        people: int,
        salesforce: Mapping[str, Any] | None = None,
        salesforce_connector: Mapping[str, Any] | None = None,
    ) -> None:
        """Fresh data on both sides (same seed and size: overlapping populations) and a fresh store.

        `salesforce` sets the simulator's settings, `salesforce_connector` the connector's."""
        self.close_runtime()
        self.post("hubspot", "/__sandbox/reset", {"seed": seed, "contacts": people})
        self.post(
            "salesforce",
            "/__sandbox/reset",
            {"seed": seed, "people": people, "settings": {"duplicate_rules": False, **(salesforce or {})}},
        )
        self._stores += 1
        url = f"sqlite:///{self.tmp / f'store{self._stores}.db'}"
        upgrade(url)
        self.runtime = Runtime(
            self._hubspot_connector(),
            self._salesforce_connector(**(salesforce_connector or {})),
            make_engine(url),
        )

    def _hubspot_connector(self) -> HubSpotConnector:
        config = HubSpotConfig(
            access_token=self.hubspot.access_token,
            base_url=self.hubspot.base_url,
            retry=FAST_RETRY,
            waits=FAST_WAITS,
            # The simulator's limits are the real ones; the client-side limiter must not sleep here.
            burst_limit=10_000,
            search_per_second=10_000,
        )
        # The client-side limiter waits out a full window after a 429: in shifted time, so it costs nothing.
        budget = config.budget(clock=self.time.monotonic, sleep=self.time.sleep)
        return HubSpotConnector(
            config, budget=budget, now=self.clock.now, sleep=_no_sleep, rng=random.Random(1)
        )

    def _salesforce_connector(self, **overrides: Any) -> SalesforceConnector:
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
            **overrides,
        )
        return SalesforceConnector(
            settings,
            budget=ApiBudget(DailyAllowance("salesforce", allocated=100_000, clock=self.time.monotonic)),
            retry_policy=FAST_RETRY,
            sleep=_no_sleep,
            now=self.clock.now,
        )

    def close_runtime(self) -> None:
        self._flow = None
        if self.runtime is not None:
            self.runtime.close()
            self.runtime = None

    @property
    def store(self) -> Engine:
        assert self.runtime is not None
        return self.runtime.store

    def flow(self, settings: FlowSettings | None = None) -> ContactFlow:
        assert self.runtime is not None
        return contact_flow(
            self.runtime,
            MAPPING,
            settings=settings or FlowSettings(lag=timedelta(seconds=30)),
            clock=self.clock.now,
        )

    def run(self, flow: ContactFlow | None = None) -> RunSummary:
        """One cycle; without `flow`, the module's flow (schemas described once, as the daemon does)."""
        if flow is None:
            self._flow = self._flow or self.flow()
            flow = self._flow
        return flow.run("once", Never())

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

    def delete(self, system: str, path: str) -> Any:
        response = self._client(system).delete(path)
        assert response.status_code < 300, response.text
        return response.json()

    def counters(self, system: str) -> dict[str, int]:
        by_endpoint: dict[str, int] = self.get(system, "/__sandbox/counters")["by_endpoint"]
        return by_endpoint

    def reset_counters(self) -> None:
        for system in ("hubspot", "salesforce"):
            self.delete(system, "/__sandbox/counters")

    def fault(self, system: str, **rule: Any) -> str:
        fault_id: str = self.post(system, "/__sandbox/faults", rule)["id"]
        return fault_id

    def clear_faults(self) -> None:
        for system in ("hubspot", "salesforce"):
            self.delete(system, "/__sandbox/faults")

    def let_time_pass(self, seconds: float) -> None:
        """Time passes for both simulators (clock, search index, rate windows), the flow and its limiters."""
        self.time.offset += seconds

    # --- what the systems hold ------------------------------------------------------------

    def hubspot_contacts(self) -> list[dict[str, Any]]:
        """Live HubSpot contacts (archived and merged-away ones left out)."""
        snapshot = self.get("hubspot", "/__sandbox/snapshot")
        merged = set(snapshot["merged"])
        return [
            c for c in snapshot["objects"]["contacts"] if not c.get("archived") and str(c["id"]) not in merged
        ]

    def salesforce_people(self) -> list[dict[str, Any]]:
        """Live Salesforce Leads (unconverted) and Contacts, each with its sobject name."""
        snapshot = self.get("salesforce", "/__sandbox/snapshot")
        people = []
        for sobject in ("Lead", "Contact"):
            for row in snapshot["objects"].get(sobject, []):
                if row.get("IsDeleted") or row.get("IsConverted"):
                    continue
                people.append({"sobject": sobject, **row})
        return people

    def issues(self, status: str = "open") -> list[Issue]:
        with Session(self.store) as session:
            return list(session.scalars(select(Issue).where(Issue.status == status)))

    def identities(self) -> list[Identity]:
        with Session(self.store) as session:
            return list(session.scalars(select(Identity)))


def writes_in(counters: Mapping[str, int]) -> dict[str, int]:
    """Calls that change data: every POST/PATCH/DELETE except reads sent as POST."""
    reads = ("/search", "/batch/read", "/composite ", "/oauth2/token", "/composite/sobjects/{sobject}")
    changing = {}
    for endpoint, n in counters.items():
        method, _, path = endpoint.partition(" ")
        if method == "GET":
            continue
        # syncd sends only queries and id reads through Composite: it is a read here.
        if method == "POST" and (path.endswith(reads) or path.endswith("/composite")):
            continue
        changing[endpoint] = n
    return changing


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("e2e")
    tls = make_tls(tmp / "tls")
    shifted = ShiftedTime()
    clock = SimClock(monotonic=shifted.monotonic)
    with (
        HubSpotSandbox(seed=1, contacts=10, clock=clock, monotonic=shifted.monotonic) as hubspot,
        SalesforceSandbox(seed=1, people=10, tls=tls, clock=clock) as salesforce,
    ):
        world = World(hubspot, salesforce, clock, shifted, tmp)
        try:
            yield world
        finally:
            world.close_runtime()
            for client in world._control.values():
                client.close()
