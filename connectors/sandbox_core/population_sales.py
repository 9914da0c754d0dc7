"""The sales activity both simulators seed, drawn from the shared population (pure and deterministic).

Reps log calls, 1:1 emails and meetings in Salesforce (Tasks and Events on the person's Lead or
Contact); marketing automation logs list emails and welcome sends there too; some reps log calls,
meetings, notes, emails and to-dos in HubSpot instead. The volume follows the people: more activity
the further down the funnel a person is. The same (population) always gives the same activities.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Literal

from connectors.sandbox_core.population import Person, Population

ActivitySystem = Literal["salesforce", "hubspot"]
ActivityKind = Literal["call", "email", "meeting", "list_email", "auto_email", "note", "task"]
Direction = Literal["inbound", "outbound"]

# Rep activities per person by lifecycle stage: (chance of any, fewest, most).
_REP_ACTIVITY: Mapping[str, tuple[float, int, int]] = {
    "subscriber": (0.15, 1, 1),
    "lead": (0.35, 1, 2),
    "marketingqualifiedlead": (0.8, 1, 3),
    "salesqualifiedlead": (1.0, 1, 4),
    "opportunity": (1.0, 2, 5),
    "customer": (1.0, 2, 5),
}
SHARE_LIST_EMAIL = 0.15  # a newsletter send logged on the record by the marketing platform
SHARE_AUTO_EMAIL = 0.05  # a welcome email sent by the integration user, not a rep
# Share of HubSpot people whose rep also logs something in HubSpot: early stages, later stages.
SHARE_HUBSPOT_LOGGED = (0.08, 0.25)
ACTIVITY_WINDOW_DAYS = 60  # activity falls within this many days of the person's creation

CALL_RESULTS: tuple[str, ...] = ("Connected", "Left voicemail", "No answer", "Wrong number", "Meeting booked")
EMAIL_SUBJECTS: tuple[str, ...] = ("Following up", "Quick question", "Next steps", "Pricing details")
MEETING_SUBJECTS: tuple[str, ...] = ("Discovery call", "Product demo", "Pricing review", "Kick-off")
MEETING_MINUTES: tuple[int, ...] = (15, 30, 30, 45, 60)
CALL_SECONDS: tuple[int, ...] = (0, 0, 45, 120, 300, 900)
MEETING_OUTCOMES: tuple[str, ...] = ("COMPLETED", "COMPLETED", "COMPLETED", "NO_SHOW", "RESCHEDULED")
_HUBSPOT_KINDS: tuple[ActivityKind, ...] = ("call", "meeting", "note", "email", "task", "meeting")
_LATE_STAGES = frozenset({"marketingqualifiedlead", "salesqualifiedlead", "opportunity", "customer"})


@dataclass(frozen=True, slots=True)
class SalesActivity:
    """One sales activity as the system it is logged in would hold it.

    `owner_key` is the rep (for automated sends, the rep the send went out for). `on_lead` says which
    record carries it when the person is both a Lead and a Contact in Salesforce.
    """

    key: int
    person_key: int
    system: ActivitySystem
    kind: ActivityKind
    owner_key: int
    at: datetime
    subject: str
    direction: Direction
    outcome: str | None = None
    duration_seconds: int | None = None
    on_lead: bool = False


@dataclass(frozen=True)
class SalesActivities:
    """Every seeded activity, oldest person first, and the same grouped by person key."""

    activities: tuple[SalesActivity, ...]
    by_person: Mapping[int, tuple[SalesActivity, ...]] = field(default_factory=dict)

    def of(self, person_key: int, system: ActivitySystem) -> tuple[SalesActivity, ...]:
        return tuple(a for a in self.by_person.get(person_key, ()) if a.system == system)


def build_sales_activities(population: Population) -> SalesActivities:
    """The seeded sales activity of `population` (about 1.5 activities per person)."""
    rng = random.Random(f"{population.seed}:sales")
    out: list[SalesActivity] = []
    by_person: dict[int, tuple[SalesActivity, ...]] = {}
    for person in population.people:
        start = len(out)
        _person_activities(rng, person, population.now, out)
        if len(out) > start:
            by_person[person.key] = tuple(out[start:])
    return SalesActivities(tuple(out), MappingProxyType(by_person))


def _when(rng: random.Random, person: Person, now: datetime) -> datetime:
    offset = timedelta(seconds=rng.randrange(3600, ACTIVITY_WINDOW_DAYS * 86400))
    return min(person.created_at + offset, now - timedelta(minutes=1))


def _person_activities(rng: random.Random, person: Person, now: datetime, out: list[SalesActivity]) -> None:
    def add(
        system: ActivitySystem,
        kind: ActivityKind,
        subject: str,
        *,
        direction: Direction = "outbound",
        outcome: str | None = None,
        duration_seconds: int | None = None,
        on_lead: bool = False,
    ) -> None:
        out.append(
            SalesActivity(
                key=len(out) + 1,
                person_key=person.key,
                system=system,
                kind=kind,
                owner_key=person.owner_key,
                at=_when(rng, person, now),
                subject=subject,
                direction=direction,
                outcome=outcome,
                duration_seconds=duration_seconds,
                on_lead=on_lead,
            )
        )

    if person.in_salesforce is not None:
        chance, fewest, most = _REP_ACTIVITY.get(person.lifecycle, (0.5, 1, 2))
        count = rng.randint(fewest, most) if rng.random() < chance else 0
        for _ in range(count):
            on_lead = person.in_salesforce == "both" and rng.random() < 0.5
            roll = rng.random()
            if roll < 0.45:
                inbound = rng.random() < 0.15
                add(
                    "salesforce",
                    "call",
                    "Call",
                    direction="inbound" if inbound else "outbound",
                    outcome=rng.choice(CALL_RESULTS),
                    duration_seconds=rng.choice(CALL_SECONDS),
                    on_lead=on_lead,
                )
            elif roll < 0.8:
                add("salesforce", "email", f"Email: {rng.choice(EMAIL_SUBJECTS)}", on_lead=on_lead)
            else:
                minutes = rng.choice(MEETING_MINUTES)
                add(
                    "salesforce",
                    "meeting",
                    rng.choice(MEETING_SUBJECTS),
                    duration_seconds=minutes * 60,
                    on_lead=on_lead,
                )
        if rng.random() < SHARE_LIST_EMAIL:
            add("salesforce", "list_email", "Email: Monthly Newsletter")
        if rng.random() < SHARE_AUTO_EMAIL:
            add("salesforce", "auto_email", "Email: Welcome to Northwind")
    if person.in_hubspot:
        share = SHARE_HUBSPOT_LOGGED[1 if person.lifecycle in _LATE_STAGES else 0]
        if rng.random() < share:
            for _ in range(rng.randint(1, 2)):
                kind = rng.choice(_HUBSPOT_KINDS)
                if kind == "call":
                    add(
                        "hubspot",
                        "call",
                        f"Call with {person.first_name}",
                        outcome=rng.choice(CALL_RESULTS),
                        duration_seconds=rng.choice(CALL_SECONDS[2:]),
                    )
                elif kind == "meeting":
                    minutes = rng.choice(MEETING_MINUTES)
                    add(
                        "hubspot",
                        "meeting",
                        rng.choice(MEETING_SUBJECTS),
                        outcome=rng.choice(MEETING_OUTCOMES),
                        duration_seconds=minutes * 60,
                    )
                elif kind == "email":
                    add("hubspot", "email", rng.choice(EMAIL_SUBJECTS))
                elif kind == "note":
                    add("hubspot", "note", "Interested in the sync add-on")
                else:
                    add("hubspot", "task", "Send proposal")
