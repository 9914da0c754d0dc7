"""Closed-loop store fixtures written through the ORM models: a small hand-made March 2026 with
known answers, and a generated store of any size (deterministic from a seed)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, insert
from sqlalchemy.orm import Session

from syncd.store import models as m

MARCH = (date(2026, 3, 1), date(2026, 3, 31))
NOW = datetime(2026, 3, 25, 12, 0, tzinfo=UTC)


def at(month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


@dataclass(frozen=True)
class Small:
    """Store ids of the hand-made data, by name."""

    people: dict[str, int]
    deals: dict[str, int]
    campaigns: dict[str, int]


def seed_small(engine: Engine) -> Small:
    """Six people, two campaigns, five deals (one deleted), stages, activities, costs, runs, issues.

    March 2026 answers (see the tests): won revenue 12,500 from D1 (10,000; contacts ann and bob)
    and D5 (2,500; dan). D4 is won in March but deleted; D2 was won in February.
    """
    with Session(engine) as s:
        web = m.Campaign(
            system="salesforce",
            external_id="701A",
            name="Spring webinar",
            type="Webinar",
            channel="webinar",
            updated_at=at(1, 1),
        )
        ads = m.Campaign(
            system="hubspot",
            external_id="ads-1",
            name="Search ads Q1",
            channel="paid_search",
            updated_at=at(1, 1),
        )
        s.add_all([web, ads])
        created = {
            "ann": at(2, 20),
            "bob": at(3, 3),
            "cat": at(3, 5),
            "dan": at(3, 8),
            "eve": at(1, 10),
            "fay": at(3, 12),
        }
        people = {
            name: m.Person(email=f"{name}@example.com", created_at=t, updated_at=t)
            for name, t in created.items()
        }
        s.add_all(people.values())
        s.flush()
        touches: list[tuple[str, datetime, str, str, m.Campaign | None]] = [
            ("ann", at(2, 18), "ad_click", "paid_search", ads),
            ("ann", at(3, 2), "event", "webinar", web),
            ("ann", at(3, 9), "email_click", "email", None),
            ("ann", at(3, 20), "email_open", "email", None),
            ("bob", at(3, 1), "page_view", "organic", None),
            ("bob", at(3, 4), "ad_click", "paid_search", ads),
            ("cat", at(3, 5, 9), "page_view", "social", None),
            ("dan", at(3, 7), "ad_click", "paid_search", ads),
            ("dan", at(4, 2), "email_click", "email", None),
            ("eve", at(1, 5), "email_click", "email", None),
            ("eve", at(3, 15), "event", "webinar", web),
        ]
        for i, (name, when, kind, channel, campaign) in enumerate(touches):
            s.add(
                m.Touch(
                    person_id=people[name].id,
                    source_system="hubspot",
                    source_event_id=f"t{i}",
                    occurred_at=when,
                    kind=kind,
                    channel=channel,
                    campaign_id=campaign.id if campaign else None,
                    recorded_at=when,
                )
            )
        deal_specs: dict[str, dict[str, Any]] = {
            "D1": dict(
                created_at=at(3, 6),
                closed_at=at(3, 18),
                amount=Decimal("10000"),
                won=True,
                who=["ann", "bob"],
            ),
            "D2": dict(
                created_at=at(2, 1), closed_at=at(2, 25), amount=Decimal("5000"), won=True, who=["eve"]
            ),
            "D3": dict(created_at=at(3, 10), closed_at=None, amount=Decimal("3000"), won=False, who=["cat"]),
            "D4": dict(
                created_at=at(3, 2), closed_at=at(3, 22), amount=Decimal("7777"), won=True, who=["dan"]
            ),
            "D5": dict(
                created_at=at(3, 9), closed_at=at(3, 30), amount=Decimal("2500"), won=True, who=["dan"]
            ),
        }
        deals: dict[str, m.Deal] = {}
        for name, spec in deal_specs.items():
            deal = m.Deal(
                hubspot_id=f"hs-{name}",
                name=name,
                stage="closedwon" if spec["won"] else "qualification",
                amount=spec["amount"],
                currency="USD",
                created_at=spec["created_at"],
                closed_at=spec["closed_at"],
                is_closed=spec["closed_at"] is not None,
                is_won=spec["won"],
                primary_campaign_id=ads.id if name == "D5" else None,
                updated_at=spec["created_at"],
                deleted_at=at(3, 23) if name == "D4" else None,
            )
            deals[name] = deal
            s.add(deal)
        s.flush()
        for name, spec in deal_specs.items():
            for i, who in enumerate(spec["who"]):
                s.add(m.DealContact(deal_id=deals[name].id, person_id=people[who].id, is_primary=i == 0))
        stages = [
            ("ann", "lead", at(2, 20)),
            ("ann", "mql", at(3, 3, 8)),
            ("ann", "sql", at(3, 5)),
            ("ann", "opportunity", at(3, 6)),
            ("ann", "customer", at(3, 18)),
            ("bob", "lead", at(3, 3)),
            ("bob", "mql", at(3, 4, 9)),
            ("cat", "lead", at(3, 5, 9)),
            ("cat", "mql", at(3, 6)),
            ("dan", "mql", at(2, 10)),
            ("dan", "mql", at(3, 9)),
            ("dan", "customer", at(3, 30)),
            ("eve", "subscriber", at(1, 10)),
            ("eve", "MQL", at(3, 15, 9)),
            ("fay", "lead", at(3, 12)),
        ]
        for name, stage, when in stages:
            s.add(
                m.LifecycleEvent(
                    person_id=people[name].id,
                    stage=stage,
                    entered_at=when,
                    source_system="hubspot",
                    recorded_at=when,
                )
            )
        activities = [
            ("ann", at(3, 3, 9), "email", "automation"),
            ("ann", at(3, 3, 10), "call", "rep"),
            ("ann", at(3, 4, 10), "call", "rep"),
            ("bob", at(3, 6, 12), "meeting", "rep"),
            ("eve", at(3, 15, 9, 30), "call", "rep"),
        ]
        for i, (name, when, kind, by) in enumerate(activities):
            s.add(
                m.Activity(
                    person_id=people[name].id,
                    source_system="salesforce",
                    source_event_id=f"a{i}",
                    occurred_at=when,
                    kind=kind,
                    initiated_by=by,
                    owner_email="rita@example.com" if name != "eve" else "sam@example.com",
                    recorded_at=when,
                )
            )
        s.add_all(
            [
                m.Cost(
                    channel="paid_search",
                    period_start=date(2026, 3, 1),
                    period_end=date(2026, 3, 31),
                    amount=Decimal("3100"),
                    source="cost_file",
                    source_key="ps-mar",
                ),
                m.Cost(
                    campaign_id=web.id,
                    period_start=date(2026, 2, 15),
                    period_end=date(2026, 3, 16),
                    amount=Decimal("3000"),
                    source="salesforce_campaign",
                    source_key="701A",
                ),
                m.Cost(
                    channel="social",
                    period_start=date(2026, 4, 1),
                    period_end=date(2026, 4, 30),
                    amount=Decimal("500"),
                    source="cost_file",
                    source_key="so-apr",
                ),
            ]
        )
        seed_runs(s)
        s.commit()
        return Small(
            people={k: v.id for k, v in people.items()},
            deals={k: v.id for k, v in deals.items()},
            campaigns={"web": web.id, "ads": ads.id},
        )


def seed_runs(s: Session) -> None:
    """Runs of two flows and quarantined records (four open, one resolved)."""
    runs = [
        m.Run(
            flow="contacts",
            trigger="schedule",
            started_at=NOW - timedelta(hours=30),
            finished_at=NOW - timedelta(hours=30) + timedelta(seconds=42),
            status="succeeded",
            counts={"hubspot.created": 12},
            api_calls={"hubspot": 300, "salesforce": 20},
        ),
        m.Run(
            flow="contacts",
            trigger="schedule",
            started_at=NOW - timedelta(hours=2),
            finished_at=NOW - timedelta(hours=2) + timedelta(seconds=8),
            status="failed",
            counts={},
            api_calls={"hubspot": 40, "salesforce": 5},
            error="Salesforce rejected the login: INVALID_LOGIN",
        ),
        m.Run(
            flow="deals",
            trigger="schedule",
            started_at=NOW - timedelta(hours=1),
            finished_at=NOW - timedelta(hours=1) + timedelta(seconds=20),
            status="succeeded",
            counts={"salesforce.updated": 3},
            api_calls={"hubspot": 120, "salesforce": 45},
        ),
    ]
    s.add_all(runs)
    s.flush()
    for i, (category, status) in enumerate(
        [
            ("validation", "open"),
            ("validation", "open"),
            ("validation", "open"),
            ("duplicate", "open"),
            ("picklist", "resolved"),
        ]
    ):
        s.add(
            m.Issue(
                flow="contacts",
                system="salesforce",
                object="Lead",
                record_key=f"lead-{i}",
                category=category,
                message="Salesforce rejected Lead: REQUIRED_FIELD_MISSING (Company)",
                status=status,
                first_seen_at=NOW - timedelta(hours=3),
                last_seen_at=NOW - timedelta(hours=2),
                run_id=runs[1].id,
            )
        )


CHANNELS = ("paid_search", "organic", "email", "social", "webinar", "referral", "display", "direct")
STAGES = ("subscriber", "lead", "mql", "sql", "opportunity", "customer")


def seed_generated(engine: Engine, *, people: int, touches_per_person: int = 10, seed: int = 7) -> None:
    """A random but deterministic closed loop over January–April 2026: people with touches,
    lifecycle stages, deals (about one per 8 people, half won), rep and automated activities, costs."""
    rng = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    span = 120 * 86400
    with Session(engine) as s:
        campaigns = [
            m.Campaign(
                system="hubspot",
                external_id=f"c{i}",
                name=f"Campaign {i}",
                channel=CHANNELS[i % len(CHANNELS)],
                updated_at=start,
            )
            for i in range(12)
        ]
        s.add_all(campaigns)
        s.flush()
        campaign_ids = [c.id for c in campaigns]
        person_rows = []
        created: list[datetime] = []
        for i in range(people):
            t = start + timedelta(seconds=rng.randrange(span))
            created.append(t)
            person_rows.append({"id": i + 1, "email": f"p{i}@example.com", "created_at": t, "updated_at": t})
        s.execute(insert(m.Person), person_rows)
        touch_rows = []
        for i in range(people):
            for _ in range(rng.randrange(touches_per_person * 2 + 1)):
                when = created[i] + timedelta(seconds=rng.randrange(-30 * 86400, 40 * 86400))
                touch_rows.append(
                    {
                        "person_id": i + 1,
                        "source_system": rng.choice(("hubspot", "salesforce")),
                        "source_event_id": f"e{len(touch_rows)}",
                        "occurred_at": when,
                        "kind": rng.choice(
                            ("page_view", "form_submission", "email_click", "email_open", "ad_click")
                        ),
                        "channel": rng.choice(CHANNELS),
                        "campaign_id": rng.choice(campaign_ids) if rng.random() < 0.4 else None,
                        "detail": {},
                        "recorded_at": when,
                    }
                )
        for chunk in range(0, len(touch_rows), 20_000):
            s.execute(insert(m.Touch), touch_rows[chunk : chunk + 20_000])
        life_rows = []
        activity_rows = []
        for i in range(people):
            t = created[i]
            depth = rng.randrange(1, len(STAGES) + 1)
            for stage in STAGES[rng.randrange(0, 2) : depth]:
                t += timedelta(seconds=rng.randrange(3600, 10 * 86400))
                life_rows.append(
                    {
                        "person_id": i + 1,
                        "stage": stage,
                        "entered_at": t,
                        "source_system": "hubspot",
                        "recorded_at": t,
                    }
                )
                if stage == "mql":
                    for _ in range(rng.randrange(0, 7)):
                        when = t + timedelta(seconds=rng.randrange(-3600, 20 * 86400))
                        activity_rows.append(
                            {
                                "person_id": i + 1,
                                "source_system": "salesforce",
                                "source_event_id": f"a{len(activity_rows)}",
                                "occurred_at": when,
                                "kind": rng.choice(("call", "email", "meeting", "note")),
                                "initiated_by": rng.choice(("rep", "rep", "automation")),
                                "owner_email": f"rep{rng.randrange(4)}@example.com",
                                "recorded_at": when,
                            }
                        )
        s.execute(insert(m.LifecycleEvent), life_rows)
        if activity_rows:
            s.execute(insert(m.Activity), activity_rows)
        deal_rows = []
        contact_rows = []
        for d in range(people // 8):
            contact = rng.randrange(people)
            opened = created[contact] + timedelta(seconds=rng.randrange(86400, 30 * 86400))
            closed = (
                opened + timedelta(seconds=rng.randrange(86400, 40 * 86400)) if rng.random() < 0.7 else None
            )
            won = closed is not None and rng.random() < 0.6
            deal_rows.append(
                {
                    "id": d + 1,
                    "salesforce_id": f"006{d:012d}",
                    "name": f"Deal {d}",
                    "stage": "Closed Won" if won else "Open",
                    "amount": Decimal(rng.randrange(1000, 90000)) + Decimal("0.50"),
                    "currency": "USD",
                    "created_at": opened,
                    "closed_at": closed,
                    "is_closed": closed is not None,
                    "is_won": won,
                    "primary_campaign_id": rng.choice(campaign_ids) if rng.random() < 0.3 else None,
                    "updated_at": opened,
                    "deleted_at": None,
                }
            )
            others = {contact, *(rng.randrange(people) for _ in range(rng.randrange(0, 3)))}
            for j, pid in enumerate(sorted(others)):
                contact_rows.append({"deal_id": d + 1, "person_id": pid + 1, "is_primary": j == 0})
        if deal_rows:
            s.execute(insert(m.Deal), deal_rows)
            s.execute(insert(m.DealContact), contact_rows)
        cost_rows = []
        for month in (1, 2, 3, 4):
            for c, channel in enumerate(CHANNELS):
                cost_rows.append(
                    {
                        "channel": channel,
                        "period_start": date(2026, month, 1),
                        "period_end": date(2026, month, 28),
                        "amount": Decimal(1000 + 250 * c),
                        "source": "cost_file",
                        "source_key": f"{channel}-{month}",
                    }
                )
        s.execute(insert(m.Cost), cost_rows)
        s.commit()
