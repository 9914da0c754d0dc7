"""Small builders for report test data: readable ids, instants as offsets from a fixed Monday."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from syncd.reports.types import Activity, Deal, DealContact, LifecycleEvent, Person, Touch

# Monday 2 March 2026, 00:00 UTC.
T0 = datetime(2026, 3, 2, tzinfo=UTC)


def at(days: float = 0, hours: float = 0, minutes: float = 0) -> datetime:
    return T0 + timedelta(days=days, hours=hours, minutes=minutes)


def touch(
    touch_id: str,
    person_id: str,
    when: datetime,
    channel: str,
    campaign: str | None = None,
    *,
    kind: str = "page_view",
    source: str = "hubspot",
) -> Touch:
    return Touch(touch_id, person_id, when, channel, campaign, kind, source)


def person(person_id: str, created: datetime) -> Person:
    return Person(person_id, f"{person_id}@example.com", created)


def deal(
    deal_id: str,
    created: datetime,
    *,
    closed: datetime | None = None,
    amount: str | None = None,
    won: bool = False,
    campaign: str | None = None,
) -> Deal:
    return Deal(deal_id, created, closed, Decimal(amount) if amount is not None else None, won, campaign)


def link(deal_id: str, person_id: str, primary: bool = False) -> DealContact:
    return DealContact(deal_id, person_id, primary)


def stage(person_id: str, name: str, when: datetime) -> LifecycleEvent:
    return LifecycleEvent(person_id, name, when)


def activity(
    activity_id: str,
    person_id: str,
    when: datetime,
    *,
    kind: str = "call",
    by: str = "rep",
    owner: str = "ann",
) -> Activity:
    return Activity(activity_id, person_id, when, kind, by, owner)


def money(value: str) -> Decimal:
    return Decimal(value)
