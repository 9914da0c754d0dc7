"""The deterministic deals both simulators seed from: who buys, how far each deal got, on which side it is.

Pure and fast, like the population it extends: the same population always gives the same deals. About one
person in six has a deal (opportunity and customer stages, and a fifth of sales-qualified leads); customers
mostly won theirs. Where the buyer exists in both systems, ~60% of deals are in both (the Opportunity
already carries the HubSpot deal's id, as an earlier integration would have left it), ~25% only in
Salesforce and ~15% only in HubSpot; otherwise the deal lives where its buyer does. Only Salesforce
Contacts can have contact roles, so a buyer who is only a Lead there has a HubSpot-only deal.

Stages are steps of one generic ladder (`STEPS`); each simulator names them in its own vocabulary.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from connectors.sandbox_core.population import Person, Population

STEPS: tuple[str, ...] = ("discovery", "qualification", "solution", "decision", "proposal")
WON, LOST = "won", "lost"
# HubSpot deal ids of seeded deals: a range of their own, above every other seeded id.
HUBSPOT_DEAL_ID_BASE = 800_000_000
ROLES: tuple[str, ...] = ("Economic Buyer", "Evaluator", "Influencer", "Technical Buyer", "Business User")
PRIMARY_ROLE = "Decision Maker"

SHARE_BOTH = 0.60
SHARE_SALESFORCE_ONLY = 0.25
_KINDS = ("New Business", "Expansion", "Renewal")


@dataclass(frozen=True, slots=True)
class DealContact:
    """A person on a deal: their role, and whether they are the primary contact."""

    person_key: int
    role: str
    primary: bool


@dataclass(frozen=True, slots=True)
class SeedDeal:
    """One deal as both systems would hold it. `visits` are (step, entered at), oldest first; the last
    is the current stage (`won`/`lost` when closed)."""

    key: int
    hubspot_id: int
    name: str
    owner_key: int
    amount: Decimal
    created_at: datetime
    close_date: date
    visits: tuple[tuple[str, datetime], ...]
    contacts: tuple[DealContact, ...]
    campaign_key: int | None
    in_hubspot: bool
    in_salesforce: bool

    @property
    def stage(self) -> str:
        return self.visits[-1][0]

    @property
    def is_closed(self) -> bool:
        return self.stage in (WON, LOST)

    @property
    def closed_at(self) -> datetime | None:
        return self.visits[-1][1] if self.is_closed else None

    @property
    def modified_at(self) -> datetime:
        return self.visits[-1][1]


def build_deals(population: Population) -> tuple[SeedDeal, ...]:
    """Every seeded deal of `population`, in key order (deterministic for the population's seed)."""
    rng = random.Random(f"{population.seed}:deals")
    now = population.now
    by_company: dict[str, list[Person]] = {}
    for person in population.people:
        by_company.setdefault(person.domain, []).append(person)
    deals: list[SeedDeal] = []
    for person in population.people:
        buying = person.lifecycle in ("opportunity", "customer")
        # Some sales-qualified leads already have an early deal; the roll is made for each of them.
        if not buying and not (person.lifecycle == "salesqualifiedlead" and rng.random() < 0.2):
            continue
        in_hubspot, in_salesforce = _presence(rng, person)
        if not (in_hubspot or in_salesforce):
            continue
        key = len(deals) + 1
        created = min(person.created_at + timedelta(days=rng.randrange(2, 60)), now - timedelta(days=1))
        created = created.replace(microsecond=0)
        visits = _visits(rng, person, created, now)
        closed = visits[-1][0] in (WON, LOST)
        close_date = (
            visits[-1][1].date() if closed else (created + timedelta(days=rng.randrange(14, 120))).date()
        )
        started = [c for c in population.campaigns if c.start <= created]
        campaign = rng.choice(started).key if started and rng.random() < 0.7 else None
        colleagues = [p for p in by_company.get(person.domain, ()) if p.key != person.key]
        others = rng.sample(colleagues, min(len(colleagues), rng.choice((0, 0, 1, 2))))
        contacts = (
            DealContact(person.key, PRIMARY_ROLE, True),
            *(DealContact(p.key, rng.choice(ROLES), False) for p in others),
        )
        deals.append(
            SeedDeal(
                key=key,
                hubspot_id=HUBSPOT_DEAL_ID_BASE + key,
                name=f"{person.company} - {rng.choice(_KINDS)}",
                owner_key=person.owner_key,
                amount=Decimal(rng.randrange(5, 200) * 500),
                created_at=created,
                close_date=close_date,
                visits=visits,
                contacts=contacts,
                campaign_key=campaign,
                in_hubspot=in_hubspot,
                in_salesforce=in_salesforce,
            )
        )
    return tuple(deals)


def _presence(rng: random.Random, person: Person) -> tuple[bool, bool]:
    """Which systems hold the deal: Salesforce needs the buyer as a Contact (contact roles name Contacts)."""
    hubspot = person.in_hubspot
    salesforce = person.in_salesforce in ("contact", "both")
    if hubspot and salesforce:
        roll = rng.random()
        if roll < SHARE_BOTH:
            return True, True
        if roll < SHARE_BOTH + SHARE_SALESFORCE_ONLY:
            return False, True
        return True, False
    return hubspot, salesforce


def _visits(
    rng: random.Random, person: Person, created: datetime, now: datetime
) -> tuple[tuple[str, datetime], ...]:
    if person.lifecycle == "customer":
        outcome: str | None = WON if rng.random() < 0.85 else LOST
    elif person.lifecycle == "opportunity":
        outcome = None if rng.random() < 0.75 else LOST
    else:
        outcome = None
    last = rng.randrange(len(STEPS)) if person.lifecycle != "salesqualifiedlead" else rng.randrange(2)
    if outcome == WON:
        last = len(STEPS) - 1
    steps = [s for i, s in enumerate(STEPS[: last + 1]) if i == 0 or rng.random() < 0.75]
    if outcome is not None:
        steps.append(outcome)
    end = min(now, created + timedelta(days=rng.randrange(14, 150)))
    span = max((end - created).total_seconds(), float(len(steps)))
    # The first stage is entered when the deal is created; each later one strictly after the one before.
    offsets = sorted({int(rng.uniform(1, span)) for _ in steps[1:]})
    while len(offsets) < len(steps) - 1:
        offsets.append((offsets[-1] if offsets else 0) + 1)
    instants = [created, *(created + timedelta(seconds=o) for o in offsets)]
    return tuple(zip(steps, (min(i, now) for i in instants), strict=True))
