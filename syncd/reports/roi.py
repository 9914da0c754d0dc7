"""ROI per channel or campaign: attributed revenue against cost, and cost per lead, MQL and customer.

ROI = (attributed revenue − cost) / cost; ROAS = attributed revenue / cost; cost per lead / MQL /
customer = cost / count in the period, where each lead, MQL or customer is counted under its source
(the channel or campaign of the person's first touch at or before the instant in question).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from functools import partial

from syncd.reports.costs import CostProration, costs_by_group
from syncd.reports.errors import ReportError
from syncd.reports.markov import markov
from syncd.reports.money import CENT, quantize
from syncd.reports.paths import TouchIndex, as_index
from syncd.reports.rule_models import DEFAULT_HALF_LIFE_DAYS, RuleModel, attribute
from syncd.reports.shapley import MAX_EXACT_CHANNELS, shapley
from syncd.reports.sources import source_of
from syncd.reports.stages import first_entries, stage_key
from syncd.reports.types import (
    ConversionType,
    Cost,
    Deal,
    DealContact,
    GroupBy,
    LifecycleEvent,
    Period,
    Person,
    Touch,
)

DATA_DRIVEN_MODELS = ("markov", "shapley")


@dataclass(frozen=True, slots=True)
class RoiRow:
    """One channel or campaign (None: no source touch / no campaign). Ratios are None without cost."""

    key: str | None
    attributed_revenue: Decimal
    cost: Decimal
    roi: Fraction | None
    roas: Fraction | None
    leads: int
    mqls: int
    customers: int
    cost_per_lead: Decimal | None
    cost_per_mql: Decimal | None
    cost_per_customer: Decimal | None


@dataclass(frozen=True, slots=True)
class RoiReport:
    model: str
    group_by: GroupBy
    period: Period
    proration: CostProration
    rows: tuple[RoiRow, ...]
    unattributed_revenue: Decimal


def _ratio(numerator: Decimal, denominator: Decimal) -> Fraction | None:
    return Fraction(numerator) / Fraction(denominator) if denominator else None


def _per(cost: Decimal, count: int) -> Decimal | None:
    return quantize(Fraction(cost) / count, CENT) if count else None


def attributed_revenue(
    model: str,
    *,
    people: Sequence[Person],
    touches: Sequence[Touch] | TouchIndex,
    deals: Sequence[Deal],
    deal_contacts: Sequence[DealContact],
    period: Period,
    group_by: GroupBy = GroupBy.CHANNEL,
    lookback_days: int | None = None,
    half_life_days: float = DEFAULT_HALF_LIFE_DAYS,
    max_channels: int = MAX_EXACT_CHANNELS,
) -> tuple[dict[str | None, Decimal], Decimal]:
    """Revenue of deals won in the period credited per group, and the revenue no touch could take."""
    if model in DATA_DRIVEN_MODELS:
        if group_by is not GroupBy.CHANNEL:
            raise ReportError(
                f"the {model} model credits channels only, not {group_by.value}s",
                hint="group by channel, or use a rule-based model for campaigns",
            )
        run = markov if model == "markov" else partial(shapley, max_channels=max_channels)
        data = run(
            ConversionType.REVENUE,
            people=people,
            touches=touches,
            deals=deals,
            deal_contacts=deal_contacts,
            lookback_days=lookback_days,
            period=period,
        )
        return {key: value for key, value in data.credits.items()}, data.unattributed_value
    try:
        rule = RuleModel(model)
    except ValueError:
        known = ", ".join([m.value for m in RuleModel] + list(DATA_DRIVEN_MODELS))
        raise ReportError(f"unknown attribution model {model!r}", hint=f"use one of {known}") from None
    report = attribute(
        ConversionType.REVENUE,
        rule,
        people=people,
        touches=touches,
        deals=deals,
        deal_contacts=deal_contacts,
        group_by=group_by,
        lookback_days=lookback_days,
        period=period,
        half_life_days=half_life_days,
    )
    return dict(report.credits), report.unattributed_value


def roi(
    model: str,
    *,
    people: Sequence[Person],
    touches: Sequence[Touch] | TouchIndex,
    deals: Sequence[Deal],
    deal_contacts: Sequence[DealContact],
    lifecycle: Sequence[LifecycleEvent],
    costs: Sequence[Cost],
    period: Period,
    group_by: GroupBy = GroupBy.CHANNEL,
    proration: CostProration = CostProration.DAYS,
    mql_stage: str = "mql",
    customer_stage: str = "customer",
    lookback_days: int | None = None,
    half_life_days: float = DEFAULT_HALF_LIFE_DAYS,
) -> RoiReport:
    """ROI, ROAS and cost per lead / MQL / customer per channel or campaign for one period.

    Revenue: deals won in the period, credited under `model` (a rule model, "markov" or "shapley").
    Leads: people created in the period; MQLs / customers: people who first entered `mql_stage` /
    `customer_stage` in the period; each counted under its source.
    """
    index = as_index(touches)
    revenue, unattributed = attributed_revenue(
        model,
        people=people,
        touches=index,
        deals=deals,
        deal_contacts=deal_contacts,
        period=period,
        group_by=group_by,
        lookback_days=lookback_days,
        half_life_days=half_life_days,
    )
    spend = costs_by_group(costs, period, group_by=group_by, proration=proration)
    leads: dict[str | None, int] = {}
    for person in people:
        if period.contains(person.created_at):
            key = source_of(index, person.person_id, person.created_at, group_by)
            leads[key] = leads.get(key, 0) + 1
    entries = first_entries(lifecycle)
    counted: list[dict[str | None, int]] = []
    for stage in (mql_stage, customer_stage):
        counts: dict[str | None, int] = {}
        for person_id, instant in entries.get(stage_key(stage), {}).items():
            if period.contains(instant):
                key = source_of(index, person_id, instant, group_by)
                counts[key] = counts.get(key, 0) + 1
        counted.append(counts)
    mqls, customers = counted
    keys = set(revenue) | set(spend) | set(leads) | set(mqls) | set(customers)
    rows = []
    for key in sorted(keys, key=lambda k: (k is None, k or "")):
        rev = revenue.get(key, Decimal("0.00"))
        cost = spend.get(key, Decimal("0.00"))
        rows.append(
            RoiRow(
                key=key,
                attributed_revenue=rev,
                cost=cost,
                roi=_ratio(rev - cost, cost),
                roas=_ratio(rev, cost),
                leads=leads.get(key, 0),
                mqls=mqls.get(key, 0),
                customers=customers.get(key, 0),
                cost_per_lead=_per(cost, leads.get(key, 0)),
                cost_per_mql=_per(cost, mqls.get(key, 0)),
                cost_per_customer=_per(cost, customers.get(key, 0)),
            )
        )
    return RoiReport(
        model=model,
        group_by=group_by,
        period=period,
        proration=proration,
        rows=tuple(rows),
        unattributed_revenue=unattributed,
    )
