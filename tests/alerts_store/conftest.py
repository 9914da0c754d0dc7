"""The alerts flow over a real store (SQLite and PostgreSQL) with rows inserted directly.

Other flows fill touches, lifecycle events and activities; here a `Seed` writes those rows as they
would, with explicit instants. The webhook is httpx over a respx router; Salesforce is a fake that
counts calls and refuses any it was not given answers for (these tests deliver no Tasks: the
Salesforce path runs against the simulator in tests/e2e_alerts).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import respx
from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session

from syncd.alerts.flow import AlertFlow, AlertSettings
from syncd.alerts.rules import Channel, Rule
from syncd.alerts.webhook import WebhookSender
from syncd.connector import ApiUsage, RemoteRecord, Write, WriteResult
from syncd.engine.runs import RunSummary
from syncd.retry import RetryPolicy
from syncd.store.db import make_engine
from syncd.store.migrate import upgrade
from syncd.store.models import Activity, Alert, Identity, Issue, LifecycleEvent, Person, Touch

HOOK_URL = "https://hooks.example.com/services/T0/B0/secret"
START = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)  # a Wednesday
HOOK = frozenset({Channel.WEBHOOK})
FAST = RetryPolicy(max_attempts=3, base_delay=0.001, max_delay=0.01, max_total_wait=1.0)


class Never:
    def is_set(self) -> bool:
        return False


class Clock:
    """The injected clock every test moves by hand."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


class NoSalesforce:
    """A Salesforce the store tests must never call: alerts evaluate from the store alone."""

    system = "salesforce"

    def __init__(self) -> None:
        self.calls: list[str] = []

    def fetch(self, object: str, keys: Sequence[str], fields: Sequence[str]) -> list[RemoteRecord]:
        self.calls.append(f"fetch {object}")
        raise AssertionError("alerts without Salesforce records must not call Salesforce")

    def push(self, object: str, writes: Sequence[Write]) -> list[WriteResult]:
        self.calls.append(f"push {object}")
        raise AssertionError("alerts without Salesforce records must not call Salesforce")

    def usage(self) -> ApiUsage:
        return ApiUsage("salesforce", used=len(self.calls), limit=None)


@dataclass
class Seed:
    """Writes store rows the way the other flows do (ids from the database unless given)."""

    engine: Engine
    clock: Clock
    _events: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def person(
        self, email: str, *, salesforce: str | None = "00Q000000000001AAA", hubspot: str | None = "501"
    ) -> int:
        now = self.clock()
        with self.engine.begin() as conn:
            person_id = int(
                conn.execute(
                    insert(Person).values(email=email, created_at=now, updated_at=now).returning(Person.id)
                ).scalar_one()
            )
            for system, obj, external_id in (
                ("salesforce", "Lead", salesforce),
                ("hubspot", "contacts", hubspot),
            ):
                if external_id:
                    conn.execute(
                        insert(Identity).values(
                            person_id=person_id,
                            system=system,
                            object=obj,
                            external_id=external_id,
                            active=True,
                            linked_at=now,
                        )
                    )
        return person_id

    def touch(
        self,
        person: int,
        kind: str = "page_view",
        *,
        at: datetime | None = None,
        recorded_at: datetime | None = None,
        touch_id: int | None = None,
        **detail: Any,
    ) -> int:
        now = self.clock()
        values: dict[str, Any] = {
            "person_id": person,
            "source_system": "hubspot",
            "source_event_id": f"ev-{next(self._events)}",
            "occurred_at": at or now,
            "kind": kind,
            "channel": "direct",
            "detail": detail,
            "recorded_at": recorded_at or now,
        }
        if touch_id is not None:
            values["id"] = touch_id
        with self.engine.begin() as conn:
            return int(conn.execute(insert(Touch).values(**values).returning(Touch.id)).scalar_one())

    def stage(self, person: int, stage: str, at: datetime, *, recorded_at: datetime | None = None) -> int:
        with self.engine.begin() as conn:
            return int(
                conn.execute(
                    insert(LifecycleEvent)
                    .values(
                        person_id=person,
                        stage=stage,
                        entered_at=at,
                        source_system="hubspot",
                        recorded_at=recorded_at or self.clock(),
                    )
                    .returning(LifecycleEvent.id)
                ).scalar_one()
            )

    def activity(self, person: int, at: datetime, *, kind: str = "call", initiated_by: str = "rep") -> None:
        with self.engine.begin() as conn:
            conn.execute(
                insert(Activity).values(
                    person_id=person,
                    source_system="salesforce",
                    source_event_id=f"00T{next(self._events):015d}",
                    occurred_at=at,
                    kind=kind,
                    initiated_by=initiated_by,
                    owner_email="rep@acme.com",
                    recorded_at=self.clock(),
                )
            )


@dataclass
class Harness:
    engine: Engine
    clock: Clock
    seed: Seed
    router: respx.MockRouter
    salesforce: NoSalesforce
    slept: list[float]

    def flow(self, *rules: Rule, dry_run: bool = False, **settings: Any) -> AlertFlow:
        """A new flow instance: what a restarted process builds."""
        client = httpx.Client(transport=httpx.MockTransport(self.router.handler))
        return AlertFlow(
            name="alerts",
            salesforce=self.salesforce,  # type: ignore[arg-type]
            store=self.engine,
            clock=self.clock,
            settings=AlertSettings(rules=rules, dry_run=dry_run, **settings),
            webhook=WebhookSender(HOOK_URL, client, policy=FAST, sleep=self.slept.append),
        )

    def run(self, flow: AlertFlow) -> RunSummary:
        summary = flow.run("once", Never())
        assert summary.status == "succeeded", summary.error
        return summary

    def alerts(self) -> list[Alert]:
        with Session(self.engine) as session:
            return list(session.scalars(select(Alert).order_by(Alert.id)))

    def issues(self) -> list[Issue]:
        with Session(self.engine) as session:
            return list(session.scalars(select(Issue).where(Issue.flow == "alerts").order_by(Issue.id)))


@pytest.fixture
def harness(store_url: str) -> Iterator[Harness]:
    upgrade(store_url)
    engine = make_engine(store_url)
    clock = Clock()
    router = respx.MockRouter(assert_all_called=False)
    yield Harness(engine, clock, Seed(engine, clock), router, NoSalesforce(), [])
    engine.dispose()
