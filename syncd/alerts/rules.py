"""The alert rules and the rows they read: frozen values shared by evaluation, the store and delivery."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

from syncd.reports.business_hours import BusinessHours
from syncd.reports.stages import DEFAULT_STAGES, stage_key


class Channel(StrEnum):
    """Where an alert goes."""

    SALESFORCE_TASK = "salesforce_task"
    WEBHOOK = "webhook"


# Kinds a person does themselves: sends, deliveries and opens (privacy proxies) say nothing about them.
DEFAULT_RETURN_KINDS = frozenset({"page_view", "form_submission", "email_click"})
# The SLA report's qualifying sales touches.
DEFAULT_SALES_KINDS = frozenset({"call", "email", "meeting"})


@dataclass(frozen=True)
class TouchRule:
    """A touch of one kind that matches: a form submission (by form id/name and/or URL) or a page view
    (by URL), optionally only by people at or past `min_stage` at the touch's instant.

    Patterns are globs (`*` any text), compared case-insensitively: `*/pricing*`.
    """

    name: str
    kind: Literal["form_submission", "page_view"]
    notify: frozenset[Channel]
    forms: frozenset[str] = frozenset()  # case-folded form ids or names
    url: str | None = None
    min_stage: str | None = None
    max_age: timedelta = timedelta(hours=72)


@dataclass(frozen=True)
class SilenceRule:
    """A known person (a Salesforce Lead/Contact) touching again after at least `silence` without touches."""

    name: str
    notify: frozenset[Channel]
    silence: timedelta
    kinds: frozenset[str] = DEFAULT_RETURN_KINDS
    max_age: timedelta = timedelta(hours=72)
    kind: Literal["returning_after_silence"] = "returning_after_silence"


@dataclass(frozen=True)
class SlaRule:
    """A person's first MQL with no rep-initiated sales activity within `within` (closed-loop.md's SLA):
    fires once the deadline has passed, plus `grace` for activities still on their way into the store."""

    name: str
    notify: frozenset[Channel]
    within: timedelta
    business_hours: BusinessHours | None = None  # None: the calendar clock
    stage: str = "mql"
    activity_kinds: frozenset[str] = DEFAULT_SALES_KINDS
    initiator: str = "rep"
    grace: timedelta = timedelta(0)
    max_age: timedelta = timedelta(hours=72)
    kind: Literal["mql_not_contacted"] = "mql_not_contacted"


Rule = TouchRule | SilenceRule | SlaRule


def stage_rank(stage: str) -> int | None:
    """The position of a lifecycle stage in the funnel (subscriber first), None for unknown stages."""
    key = stage_key(stage)
    ranks = {stage_key(s): i for i, s in enumerate(DEFAULT_STAGES)}
    return ranks.get(key)


# --- what evaluation reads ------------------------------------------------------------------


@dataclass(frozen=True)
class TouchRow:
    id: int
    person_id: int
    source_system: str
    source_event_id: str
    occurred_at: datetime
    recorded_at: datetime
    kind: str
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StageEntry:
    stage: str
    entered_at: datetime


@dataclass(frozen=True)
class PersonView:
    """What the store knows about a person that rules and messages need."""

    person_id: int
    email: str
    name: str | None = None
    company: str | None = None
    salesforce_id: str | None = None  # the Contact, else the Lead
    salesforce_object: str | None = None
    hubspot_id: str | None = None
    stages: tuple[StageEntry, ...] = ()

    @property
    def known(self) -> bool:
        """Sales knows them: they have a Salesforce Lead or Contact."""
        return self.salesforce_id is not None

    def label(self) -> str:
        """How messages name the person: `Jane Doe (Acme) <jane@acme.com>`, or the email alone."""
        who = self.name or ""
        if who and self.company:
            who = f"{who} ({self.company})"
        return f"{who} <{self.email}>" if who else self.email


@dataclass(frozen=True)
class MqlRow:
    """A lifecycle event of the SLA rule's stage."""

    id: int
    person_id: int
    entered_at: datetime
    recorded_at: datetime


@dataclass(frozen=True)
class Occurrence:
    """One thing a rule saw, keyed so it fires once: `what` completes "<person> ..."."""

    rule: str
    key: str
    person_id: int
    occurred_at: datetime
    what: str
    notify: frozenset[Channel]
    facts: Mapping[str, str] = field(default_factory=dict)
