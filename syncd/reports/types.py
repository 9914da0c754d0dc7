"""The plain data the reports read: people, touches, lifecycle events, activities, deals, costs.

One dataclass per CSV file of a `--data DIR` folder (and per store table the runners read).
Timestamps are timezone-aware UTC datetimes; money is Decimal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from syncd.reports.errors import ReportError


@dataclass(frozen=True, slots=True)
class Person:
    """One human, created (became a contact/lead) at `created_at`."""

    person_id: str
    email: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Touch:
    """One marketing interaction of one person at one instant."""

    touch_id: str
    person_id: str
    occurred_at: datetime
    channel: str  # "" when unknown
    campaign: str | None
    kind: str
    # Second tie-break after the timestamp (then touch_id), so equal instants order deterministically.
    source_system: str = ""


@dataclass(frozen=True, slots=True)
class LifecycleEvent:
    """A person entered a lifecycle stage (subscriber, lead, mql, sql, opportunity, customer)."""

    person_id: str
    stage: str
    entered_at: datetime


@dataclass(frozen=True, slots=True)
class Activity:
    """One sales activity (call, 1:1 email, meeting, ...) logged against a person."""

    activity_id: str
    person_id: str
    occurred_at: datetime
    kind: str
    initiated_by: str  # "rep", "automation" or "syncd" (written by the sync itself)
    owner: str


@dataclass(frozen=True, slots=True)
class Deal:
    """A deal/opportunity; `closed_at` is None while open, `amount` None when unknown."""

    deal_id: str
    created_at: datetime
    closed_at: datetime | None
    amount: Decimal | None
    is_won: bool
    primary_campaign: str | None


@dataclass(frozen=True, slots=True)
class DealContact:
    """A person attached to a deal."""

    deal_id: str
    person_id: str
    is_primary: bool


@dataclass(frozen=True, slots=True)
class Cost:
    """Spend on a channel (and optionally one campaign) over the dates period_start..period_end inclusive."""

    channel: str
    campaign: str | None
    period_start: date
    period_end: date
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Period:
    """A reporting period: the UTC calendar dates `start`..`end`, both inclusive."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ReportError(
                f"period ends ({self.end}) before it starts ({self.start})", hint="swap the dates"
            )

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def contains(self, instant: datetime) -> bool:
        """True when the instant's UTC date falls inside the period."""
        return self.start <= _utc_date(instant) <= self.end


def _utc_date(instant: datetime) -> date:
    offset = instant.utcoffset()
    if offset is None:
        raise ReportError(
            f"timestamp {instant.isoformat()} has no timezone", hint="pass timezone-aware UTC datetimes"
        )
    return (instant - offset).date()


class ConversionType(StrEnum):
    """What counts as a conversion: a contact created (1), a deal created (1), or a won deal's amount."""

    CONTACT_CREATE = "contact_create"
    DEAL_CREATE = "deal_create"
    REVENUE = "revenue"


class GroupBy(StrEnum):
    """How credits are summed: per channel, per campaign, or per single touch."""

    CHANNEL = "channel"
    CAMPAIGN = "campaign"
    TOUCH = "touch"
