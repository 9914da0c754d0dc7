"""Both simulators over loopback, the real SDK clients, and a store on the backend under test.

Shared by the campaigns and lifecycle end-to-end suites. One pair of simulators serves a session;
each test reseeds them through the control plane and migrates a fresh store (SQLite or PostgreSQL).
The simulators, the connectors and the flows share one clock, so HubSpot's ten-second rate window
passes by moving it, not by sleeping.
"""

from __future__ import annotations

import random
import ssl
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, select

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
from syncd.connector import Page, PullRequest, RemoteRecord
from syncd.engine.contacts import FlowSettings
from syncd.engine.runs import RunSummary
from syncd.retry import RetryPolicy
from syncd.store.db import make_engine
from syncd.store.migrate import upgrade
from syncd.store.models import Identity

ROOT = Path(__file__).resolve().parents[2]
MAPPING = ROOT / "mappings" / "contacts.yaml"
FAST_RETRY = RetryPolicy(max_attempts=6, base_delay=0.001, max_delay=0.01, max_total_wait=1.0)
FAST_WAITS = Waits(ten_secondly=0.001, secondly=0.001, locked=0.001, daily_recheck=0.01)


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


class Recording:
    """A connector that adds fields to every pull and remembers every record its pulls handed out:
    what a flow pulled, read again by the test without one more API call."""

    def __init__(self, inner: Any, extra: Any) -> None:
        self._inner = inner
        self._extra = extra  # (object) -> extra field names
        self.pulled: list[RemoteRecord] = []
        self.system = inner.system

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def _record(self, pages: Iterator[Page]) -> Iterator[Page]:
        for page in pages:
            self.pulled.extend(page.records)
            yield page

    def pull(self, object: str, since: Any, fields: Sequence[str]) -> Iterator[Page]:
        wanted = list(dict.fromkeys([*fields, *self._extra(object)]))
        return self._record(self._inner.pull(object, since, wanted))

    def pull_many(self, pulls: Sequence[PullRequest]) -> list[Iterator[Page]]:
        widened = [
            PullRequest(p.object, p.since, tuple(dict.fromkeys([*p.fields, *self._extra(p.object)])))
            for p in pulls
        ]
        return [self._record(pages) for pages in self._inner.pull_many(widened)]


@dataclass
class World:
    hubspot: HubSpotSandbox
    salesforce: SalesforceSandbox
    clock: SimClock
    time: ShiftedTime
    tmp: Path
    runtime: Runtime | None = None
    _control: dict[str, httpx.Client] = field(default_factory=dict)

    # --- setup ----------------------------------------------------------------------------

    def reseed(self, store_url: str, *, seed: int = 7, people: int = 40) -> None:
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

    def sync_contacts(self, runtime: Runtime | None = None) -> RunSummary:
        """One contacts cycle with the shipped mapping (after HubSpot's ten-second window)."""
        runtime = runtime or self.runtime
        assert runtime is not None
        self.let_time_pass(11)
        flow = contact_flow(
            runtime, MAPPING, settings=FlowSettings(lag=timedelta(seconds=30)), clock=self.clock.now
        )
        summary = flow.run("once", Never())
        assert summary.status == "succeeded", summary.error
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

    def snapshot(self, system: str) -> dict[str, Any]:
        return dict(self.get(system, "/__sandbox/snapshot"))

    def records(self, sobject: str) -> list[dict[str, Any]]:
        """Live Salesforce records of one object."""
        rows = self.snapshot("salesforce")["objects"].get(sobject, [])
        return [r for r in rows if not r.get("IsDeleted")]

    def calls(self, system: str) -> int:
        return int(self.get(system, "/__sandbox/counters")["total"])

    def reset_counters(self) -> None:
        for system in ("hubspot", "salesforce"):
            response = self._client(system).delete("/__sandbox/counters")
            assert response.status_code < 300

    # --- the store ------------------------------------------------------------------------

    def person_of(self, system: str, external_id: str) -> int | None:
        with self.store.connect() as conn:
            row = conn.execute(
                select(Identity.person_id).where(
                    Identity.system == system, Identity.external_id == external_id
                )
            ).first()
        return None if row is None else int(row[0])

    def linked(self, system: str) -> dict[str, int]:
        with self.store.connect() as conn:
            rows = conn.execute(
                select(Identity.external_id, Identity.person_id).where(
                    Identity.system == system, Identity.active
                )
            )
            return {external_id: person for external_id, person in rows}


def open_world(tmp: Path) -> Iterator[World]:
    """Start both simulators for a session (seeded small; tests reseed them)."""
    tls = make_tls(tmp / "tls")
    shifted = ShiftedTime()
    clock = SimClock(monotonic=shifted.monotonic)
    with (
        HubSpotSandbox(seed=7, contacts=10, clock=clock, monotonic=shifted.monotonic) as hubspot,
        SalesforceSandbox(seed=7, people=10, tls=tls, clock=clock) as salesforce,
    ):
        world = World(hubspot, salesforce, clock, shifted, tmp)
        try:
            yield world
        finally:
            world.close_runtime()
            for client in world._control.values():
                client.close()
