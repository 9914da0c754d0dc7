"""A small closed-loop dataset whose report numbers can be worked out by hand, as CSVs and in a store.

March 2026 (all instants UTC):

- p1 created 03-02 10:00; touches t1 ads/spring 03-01 09:00, t2 email/news 03-03 09:00,
  t3 organic 03-05 09:00; lead 03-01, MQL Mon 03-02 09:00, customer 03-10; deal d1 created 03-06,
  won 03-10, 900.00. Rep calls at 11:00 (owner alice) on 03-02, 03-03, 03-04, 03-05, 03-06 (five
  attempts), and an automated email at 09:05 that never counts.
- p2 created 03-04 12:00; touches t4 email_open 03-04 08:00 (left out by default), t5 ads 03-04
  12:00; lead 03-03, MQL Wed 03-04 10:00 (reached by bob Thu 03-05 12:00: 26 h, 10 business h),
  customer 03-20; deal d2 created 03-05, won 03-20, 100.00.
- p3 created 03-05, no touch; lead 03-05, MQL Fri 03-06 16:00, never contacted; deal d3 won
  03-15, 250.00 (unattributed revenue).
- p4 created 03-08, no touch; lead 03-08, MQL Mon 03-09 09:00, reached by alice 13:00 (4 h).
- d4 (p1) won 04-02, 1000.00: outside March. d5 (p2) lost 03-25.
- Costs: ads 03-01..03-31 200.00; email 02-15..03-16 300.00 (16 of 30 days in March: 160.00).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import insert

from syncd.reports.csvdata import Dataset, write_data
from syncd.reports.types import Activity, Cost, Deal, DealContact, LifecycleEvent, Person, Touch
from syncd.store import models as m
from syncd.store.db import make_engine
from syncd.store.migrate import upgrade


def at(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def build_dataset() -> Dataset:
    people = (
        Person("p1", "p1@example.com", at(3, 2, 10)),
        Person("p2", "p2@example.com", at(3, 4, 12)),
        Person("p3", "p3@example.com", at(3, 5)),
        Person("p4", "p4@example.com", at(3, 8)),
    )
    touches = (
        Touch("t1", "p1", at(3, 1, 9), "ads", "spring", "ad_click", "hubspot"),
        Touch("t2", "p1", at(3, 3, 9), "email", "news", "email_click", "hubspot"),
        Touch("t3", "p1", at(3, 5, 9), "organic", None, "page_view", "hubspot"),
        Touch("t4", "p2", at(3, 4, 8), "email", "news", "email_open", "hubspot"),
        Touch("t5", "p2", at(3, 4, 12), "ads", "spring", "ad_click", "hubspot"),
    )
    lifecycle = (
        LifecycleEvent("p1", "lead", at(3, 1)),
        LifecycleEvent("p1", "mql", at(3, 2, 9)),
        LifecycleEvent("p1", "customer", at(3, 10)),
        LifecycleEvent("p2", "lead", at(3, 3)),
        LifecycleEvent("p2", "mql", at(3, 4, 10)),
        LifecycleEvent("p2", "customer", at(3, 20)),
        LifecycleEvent("p3", "lead", at(3, 5)),
        LifecycleEvent("p3", "mql", at(3, 6, 16)),
        LifecycleEvent("p4", "lead", at(3, 8)),
        LifecycleEvent("p4", "mql", at(3, 9, 9)),
    )
    calls = tuple(Activity(f"a1{d}", "p1", at(3, d, 11), "call", "rep", "alice") for d in range(2, 7))
    activities = (
        Activity("a0", "p1", at(3, 2, 9, 5), "email", "automation", ""),
        *calls,
        Activity("a2", "p2", at(3, 5, 12), "email", "rep", "bob"),
        Activity("a4", "p4", at(3, 9, 13), "call", "rep", "alice"),
    )
    deals = (
        Deal("d1", at(3, 6), at(3, 10), Decimal("900.00"), True, None),
        Deal("d2", at(3, 5), at(3, 20), Decimal("100.00"), True, None),
        Deal("d3", at(3, 7), at(3, 15), Decimal("250.00"), True, None),
        Deal("d4", at(3, 12), at(4, 2), Decimal("1000.00"), True, None),
        Deal("d5", at(3, 11), at(3, 25), Decimal("400.00"), False, None),
    )
    deal_contacts = (
        DealContact("d1", "p1", True),
        DealContact("d2", "p2", True),
        DealContact("d3", "p3", True),
        DealContact("d4", "p1", True),
        DealContact("d5", "p2", True),
    )
    costs = (
        Cost("ads", None, date(2026, 3, 1), date(2026, 3, 31), Decimal("200.00")),
        Cost("email", None, date(2026, 2, 15), date(2026, 3, 16), Decimal("300.00")),
    )
    return Dataset(people, touches, lifecycle, activities, deals, deal_contacts, costs)


def seed_store(url: str, data: Dataset) -> None:
    """Migrate an empty store and write the dataset into it (ids become 1, 2, ... in file order)."""
    upgrade(url)
    now = at(4, 30)
    person = {p.person_id: i for i, p in enumerate(data.people, 1)}
    names = sorted(
        {t.campaign for t in data.touches if t.campaign} | {c.campaign for c in data.costs if c.campaign}
    )
    campaign = {name: i for i, name in enumerate(names, 1)}
    deal = {d.deal_id: i for i, d in enumerate(data.deals, 1)}
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(
                insert(m.Person),
                [
                    {
                        "id": person[p.person_id],
                        "email": p.email,
                        "created_at": p.created_at,
                        "updated_at": now,
                    }
                    for p in data.people
                ],
            )
            if campaign:
                connection.execute(
                    insert(m.Campaign),
                    [
                        {
                            "id": i,
                            "system": "salesforce",
                            "external_id": f"701{i}",
                            "name": n,
                            "updated_at": now,
                        }
                        for n, i in campaign.items()
                    ],
                )
            connection.execute(
                insert(m.Touch),
                [
                    {
                        "id": i,
                        "person_id": person[t.person_id],
                        "source_system": t.source_system or "hubspot",
                        "source_event_id": t.touch_id,
                        "occurred_at": t.occurred_at,
                        "kind": t.kind,
                        "channel": t.channel or None,
                        "campaign_id": campaign[t.campaign] if t.campaign else None,
                        "recorded_at": now,
                    }
                    for i, t in enumerate(data.touches, 1)
                ],
            )
            connection.execute(
                insert(m.LifecycleEvent),
                [
                    {
                        "person_id": person[e.person_id],
                        "stage": e.stage,
                        "entered_at": e.entered_at,
                        "source_system": "hubspot",
                        "recorded_at": now,
                    }
                    for e in data.lifecycle
                ],
            )
            connection.execute(
                insert(m.Activity),
                [
                    {
                        "person_id": person[a.person_id],
                        "source_system": "salesforce",
                        "source_event_id": a.activity_id,
                        "occurred_at": a.occurred_at,
                        "kind": a.kind,
                        "initiated_by": a.initiated_by,
                        "owner_email": a.owner or None,
                        "recorded_at": now,
                    }
                    for a in data.activities
                ],
            )
            connection.execute(
                insert(m.Deal),
                [
                    {
                        "id": deal[d.deal_id],
                        "hubspot_id": d.deal_id,
                        "name": d.deal_id,
                        "stage": "closedwon" if d.is_won else ("closedlost" if d.closed_at else "open"),
                        "amount": d.amount,
                        "created_at": d.created_at,
                        "closed_at": d.closed_at,
                        "is_closed": d.closed_at is not None,
                        "is_won": d.is_won,
                        "primary_campaign_id": campaign[d.primary_campaign] if d.primary_campaign else None,
                        "updated_at": now,
                    }
                    for d in data.deals
                ],
            )
            connection.execute(
                insert(m.DealContact),
                [
                    {"deal_id": deal[c.deal_id], "person_id": person[c.person_id], "is_primary": c.is_primary}
                    for c in data.deal_contacts
                ],
            )
            connection.execute(
                insert(m.Cost),
                [
                    {
                        "channel": c.channel,
                        "campaign_id": campaign[c.campaign] if c.campaign else None,
                        "period_start": c.period_start,
                        "period_end": c.period_end,
                        "amount": c.amount,
                        "source": "cost_file",
                        "source_key": f"row-{i}",
                    }
                    for i, c in enumerate(data.costs, 1)
                ],
            )
    finally:
        engine.dispose()


@pytest.fixture
def dataset() -> Dataset:
    return build_dataset()


@pytest.fixture
def data_dir(tmp_path: Path, dataset: Dataset) -> Path:
    folder = tmp_path / "march"
    write_data(folder, dataset)
    return folder


@pytest.fixture
def seeded_store(store_url: str, dataset: Dataset) -> Iterator[str]:
    seed_store(store_url, dataset)
    yield store_url
