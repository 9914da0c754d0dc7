"""Each dashboard page's numbers, computed from the store by the report layer, as JSON-ready dicts.

The HTML page and its `/api/...` twin are both rendered from the dict a function here returns, so
they cannot disagree; `syncd report ... --format json` is meant to print the same dicts.
Number formats: money and credits are decimal strings at the report's precision ("1234.50"),
ratios and shares are numbers rounded to 4 places (0.25 = 25%), durations are hours rounded to
2 places, dates ISO 8601. A ratio without a denominator is null.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from syncd.reports.data_driven import DataDrivenReport
from syncd.reports.errors import ReportError
from syncd.reports.funnel import funnel
from syncd.reports.markov import markov
from syncd.reports.mql_value import mql_value
from syncd.reports.pacing import actual_to_date, pacing
from syncd.reports.paths import DEFAULT_EXCLUDED_KINDS, TouchIndex
from syncd.reports.pipeline import PipelineReport, PipelineTotals, pipeline
from syncd.reports.roi import DATA_DRIVEN_MODELS, roi
from syncd.reports.rule_models import AttributionReport, RuleModel, attribute, check_model
from syncd.reports.sales_velocity import sales_velocity
from syncd.reports.shapley import shapley
from syncd.reports.sla import MqlContact, sla
from syncd.reports.stages import first_entries, stage_key
from syncd.reports.store import (
    load_funnel_inputs,
    load_mql_value_inputs,
    load_roi_inputs,
    load_sla_inputs,
    load_stage_inputs,
)
from syncd.reports.teams import OwnerTeams
from syncd.reports.types import ConversionType, GroupBy, Period
from syncd.store import models as m
from syncd.web.query import DashboardSettings, Query

Figures = dict[str, Any]

# Speed-to-lead histogram bins, in hours: [low, high).
SPEED_BINS: tuple[tuple[float, float, str], ...] = (
    (0, 1, "< 1 h"),
    (1, 4, "1–4 h"),
    (4, 8, "4–8 h"),
    (8, 24, "8–24 h"),
    (24, 48, "1–2 d"),
    (48, 72, "2–3 d"),
    (72, 168, "3–7 d"),
    (168, float("inf"), "≥ 7 d"),
)
RUNS_PER_FLOW = 5
WEEKLY_AFTER_DAYS = 14  # the SLA trend is per week for longer periods


_CENT = Decimal("0.01")


def money(value: Decimal | None) -> str | None:
    """At least two decimals, more only when they are not zero (credits of count conversions)."""
    if value is None:
        return None
    cents = value.quantize(_CENT)
    return str(cents if cents == value else value.normalize())


def ratio(value: Fraction | None) -> float | None:
    return None if value is None else round(float(value), 4)


def hours(value: timedelta | None) -> float | None:
    return None if value is None else round(value.total_seconds() / 3600, 2)


def _period(period: Period) -> dict[str, str]:
    return {"from": period.start.isoformat(), "to": period.end.isoformat()}


def _data_driven(model: str) -> bool:
    return model in DATA_DRIVEN_MODELS


def _check(query: Query) -> None:
    """Refuse an impossible model/grouping before reading the store."""
    if _data_driven(query.model):
        if query.by is not GroupBy.CHANNEL:
            raise ReportError(
                f"the {query.model} model credits channels only, not campaigns",
                hint="group by channel, or pick a rule-based model for campaigns",
            )
    else:
        check_model(RuleModel(query.model), query.conversion)


def attribution_figures(engine: Engine, query: Query, settings: DashboardSettings) -> Figures:
    """Credits per channel/campaign for the chosen conversion and model, and ROI on won revenue."""
    _check(query)
    data_driven = _data_driven(query.model)
    # One load for both reports: the extra rows each needs do not change the other's result.
    inputs = load_roi_inputs(
        engine,
        query.period,
        data_driven=data_driven,
        mql_stage=settings.mql_stage,
        customer_stage=settings.customer_stage,
        also_for=(query.conversion, ConversionType.DEAL_CREATE),  # deal_create: the pipeline
        exclude_kinds=DEFAULT_EXCLUDED_KINDS,  # what TouchIndex leaves out: not read at all
    )
    index = TouchIndex(inputs.touches)
    report: AttributionReport | DataDrivenReport
    if data_driven:
        run = markov if query.model == "markov" else shapley
        report = run(
            query.conversion,
            people=inputs.people,
            touches=index,
            deals=inputs.deals,
            deal_contacts=inputs.deal_contacts,
            period=query.period,
        )
        conversions = report.converting_journeys + len(report.unattributed)
        attributed = sum(report.credits.values(), Decimal(0))
        total = report.total_value + report.unattributed_value  # its total_value is the credited part
    else:
        report = attribute(
            query.conversion,
            RuleModel(query.model),
            people=inputs.people,
            touches=index,
            deals=inputs.deals,
            deal_contacts=inputs.deal_contacts,
            group_by=query.by,
            period=query.period,
        )
        conversions = report.conversions
        attributed = report.attributed_value
        total = report.total_value
    credits = dict(report.credits)
    roi_report = roi(
        query.model,
        people=inputs.people,
        touches=index,
        deals=inputs.deals,
        deal_contacts=inputs.deal_contacts,
        lifecycle=inputs.lifecycle,
        costs=inputs.costs,
        period=query.period,
        group_by=query.by,
        mql_stage=settings.mql_stage,
        customer_stage=settings.customer_stage,
    )
    marketing = pipeline(
        deals=inputs.deals,
        deal_contacts=inputs.deal_contacts,
        touches=index,
        period=query.period,
        group_by=query.by,
    )
    return {
        "page": "attribution",
        "period": _period(query.period),
        "model": query.model,
        "conversion": query.conversion.value,
        "by": query.by.value,
        "attribution": {
            "conversions": conversions,
            "total_value": money(total),
            "attributed_value": money(attributed),
            "unattributed": len(report.unattributed),
            "unattributed_value": money(report.unattributed_value),
            "rows": [
                {
                    "key": key,
                    "credit": money(value),
                    "share": ratio(Fraction(value) / Fraction(attributed) if attributed else None),
                }
                for key, value in sorted(credits.items(), key=lambda kv: (-kv[1], kv[0] is None, kv[0] or ""))
            ],
        },
        "roi": {
            "unattributed_revenue": money(roi_report.unattributed_revenue),
            "rows": [
                {
                    "key": row.key,
                    "attributed_revenue": money(row.attributed_revenue),
                    "cost": money(row.cost),
                    "roi": ratio(row.roi),
                    "roas": ratio(row.roas),
                    "leads": row.leads,
                    "mqls": row.mqls,
                    "customers": row.customers,
                    "cost_per_lead": money(row.cost_per_lead),
                    "cost_per_mql": money(row.cost_per_mql),
                    "cost_per_customer": money(row.cost_per_customer),
                }
                for row in roi_report.rows
            ],
        },
        "pipeline": _pipeline(marketing),
    }


def _pipeline(report: PipelineReport) -> Figures:
    """Sourced and influenced pipeline side by side (sourced ⊆ influenced: never added)."""
    empty = PipelineTotals(0, Decimal(0))
    keys = sorted(set(report.sourced_by) | set(report.influenced_by), key=lambda k: (k is None, k or ""))
    return {
        "sourced": {"deals": report.sourced.deals, "amount": money(report.sourced.amount)},
        "influenced": {"deals": report.influenced.deals, "amount": money(report.influenced.amount)},
        "rows": [
            {
                "key": key,
                "sourced_deals": report.sourced_by.get(key, empty).deals,
                "sourced_amount": money(report.sourced_by.get(key, empty).amount),
                "influenced_deals": report.influenced_by.get(key, empty).deals,
                "influenced_amount": money(report.influenced_by.get(key, empty).amount),
            }
            for key in keys
        ],
    }


def funnel_figures(engine: Engine, query: Query, settings: DashboardSettings, now: datetime) -> Figures:
    """MQL value per source, stage conversion and velocity, and sales velocity for the period."""
    value_inputs = load_mql_value_inputs(
        engine, query.period, mql_stage=settings.mql_stage, exclude_kinds=DEFAULT_EXCLUDED_KINDS
    )
    value = mql_value(
        lifecycle=value_inputs.lifecycle,
        touches=value_inputs.touches,
        deals=value_inputs.deals,
        deal_contacts=value_inputs.deal_contacts,
        period=query.period,
        group_by=query.by,
        mql_stage=settings.mql_stage,
    )
    funnel_inputs = load_funnel_inputs(engine, query.period, stages=settings.funnel_stages, as_of=now)
    steps = funnel(funnel_inputs.lifecycle, period=query.period, stages=settings.funnel_stages, as_of=now)
    velocity = sales_velocity(funnel_inputs.deals, period=query.period)
    return {
        "page": "funnel",
        "period": _period(query.period),
        "by": query.by.value,
        "mql_value": {
            "rows": [
                {
                    "source": row.source,
                    "mqls": row.mqls,
                    "customers": row.customers,
                    "won_revenue": money(row.won_revenue),
                    "close_rate": ratio(row.close_rate),
                    "revenue_per_customer": money(row.revenue_per_customer),
                    "value_per_mql": money(row.value_per_mql),
                }
                for row in value.rows
            ]
        },
        "funnel": {
            "method": steps.method.value,
            "stages": [{"stage": stage, "entered": count} for stage, count in steps.entered.items()],
            "steps": [
                {
                    "from": step.from_stage,
                    "to": step.to_stage,
                    "entered": step.entered,
                    "converted": step.converted,
                    "rate": ratio(step.rate),
                    "median_hours": hours(step.median_time),
                }
                for step in steps.steps
            ],
        },
        "sales_velocity": {
            "opportunities": velocity.opportunities,
            "closed": velocity.closed,
            "won": velocity.won,
            "win_rate": ratio(velocity.win_rate),
            "average_deal_size": money(velocity.average_deal_size),
            "cycle_days": ratio(velocity.cycle_days),
            "velocity_per_day": money(velocity.velocity_per_day),
        },
    }


def _speed_bins(rows: Sequence[MqlContact]) -> list[dict[str, Any]]:
    counts = [0] * len(SPEED_BINS)
    for row in rows:
        if row.calendar_speed is None:
            continue
        h = row.calendar_speed.total_seconds() / 3600
        counts[next(i for i, (low, high, _) in enumerate(SPEED_BINS) if low <= h < high)] += 1
    bins = [{"label": label, "count": counts[i]} for i, (_, _, label) in enumerate(SPEED_BINS)]
    bins.append({"label": "never", "count": sum(1 for r in rows if r.calendar_speed is None)})
    return bins


def _bucket_start(day: date, weekly: bool) -> date:
    return day - timedelta(days=day.weekday()) if weekly else day


def _within_over_time(
    rows: Sequence[MqlContact], period: Period, within_hours: float
) -> list[dict[str, Any]]:
    """% within SLA per day (per ISO week, from Monday, for periods over 14 days) of the MQL instant."""
    weekly = period.days > WEEKLY_AFTER_DAYS
    limit = timedelta(hours=within_hours)
    buckets: dict[date, list[MqlContact]] = {}
    day = _bucket_start(period.start, weekly)
    while day <= period.end:
        buckets[day] = []
        day += timedelta(days=7 if weekly else 1)
    for row in rows:
        buckets[_bucket_start(row.mql_at.astimezone(UTC).date(), weekly)].append(row)
    series = []
    for start, items in buckets.items():
        within = sum(1 for r in items if r.calendar_speed is not None and r.calendar_speed <= limit)
        series.append(
            {
                "start": start.isoformat(),
                "mqls": len(items),
                "within": within,
                "share": ratio(Fraction(within, len(items)) if items else None),
            }
        )
    return series


def sla_figures(engine: Engine, query: Query, settings: DashboardSettings) -> Figures:
    """Speed-to-lead for the period's MQL cohort: distribution, % within SLA over time, attempts,
    owners and the MQLs nobody has contacted yet."""
    inputs = load_sla_inputs(engine, query.period, mql_stage=settings.mql_stage)
    report = sla(
        lifecycle=inputs.lifecycle,
        activities=inputs.activities,
        period=query.period,
        within_hours=query.hours,
        business_hours=settings.business_hours,
        mql_stage=settings.mql_stage,
        followup_days=settings.followup_days,
        min_attempts=settings.min_attempts,
        teams=OwnerTeams(settings.teams) if settings.teams else None,
    )
    emails = {p.person_id: p.email for p in inputs.people}
    overall = report.overall
    attempts = Counter(min(r.attempts, report.min_attempts) for r in report.mqls)
    by_mql = {r.person_id: r for r in report.mqls}
    return {
        "page": "sla",
        "period": _period(query.period),
        "within_hours": query.hours,
        "followup_days": report.followup_days,
        "min_attempts": report.min_attempts,
        "overall": {
            "mqls": overall.mqls,
            "contacted": overall.contacted,
            "uncontacted": len(overall.uncontacted),
            "within": overall.within_calendar,
            "within_share": ratio(overall.within_calendar_share),
            "within_business": overall.within_business,
            "within_business_share": ratio(overall.within_business_share),
            "median_hours": hours(overall.median_calendar),
            "p90_hours": hours(overall.p90_calendar),
            "median_business_hours": hours(overall.median_business),
            "p90_business_hours": hours(overall.p90_business),
            "with_min_attempts": overall.with_min_attempts,
            "with_min_attempts_share": ratio(overall.with_min_attempts_share),
        },
        "speed_histogram": _speed_bins(report.mqls),
        "within_over_time": _within_over_time(report.mqls, query.period, query.hours),
        "within_over_time_bucket": "week" if query.period.days > WEEKLY_AFTER_DAYS else "day",
        "attempts": [
            {
                "attempts": f"≥ {n}" if n == report.min_attempts else str(n),
                "mqls": attempts.get(n, 0),
            }
            for n in range(report.min_attempts + 1)
        ],
        "by_owner": [
            {
                "owner": owner,
                "mqls": stats.mqls,
                "contacted": stats.contacted,
                "within_share": ratio(stats.within_calendar_share),
                "median_hours": hours(stats.median_calendar),
            }
            for owner, stats in report.by_owner.items()
        ],
        # Empty without teams (DashboardSettings.teams, from the config's teams: section).
        "by_team": [
            {
                "team": team,
                "mqls": stats.mqls,
                "contacted": stats.contacted,
                "within_share": ratio(stats.within_calendar_share),
                "median_hours": hours(stats.median_calendar),
            }
            for team, stats in (report.by_team.items() if settings.teams else ())
        ],
        "uncontacted": [
            {
                "person_id": pid,
                "email": emails.get(pid),
                "mql_at": by_mql[pid].mql_at.isoformat(),
            }
            for pid in sorted(overall.uncontacted, key=lambda p: (by_mql[p].mql_at, p))
        ],
    }


def pacing_figures(engine: Engine, query: Query, settings: DashboardSettings, now: datetime) -> Figures:
    """Actual stage entries (MQLs by default) against the goal's straight line through the period."""
    stage = settings.mql_stage
    inputs = load_stage_inputs(engine, query.period, stage=stage, as_of=now)
    actual = actual_to_date(inputs.lifecycle, period=query.period, as_of=now, stage=stage)
    today = now.astimezone(UTC).date()
    entries = first_entries(inputs.lifecycle).get(stage_key(stage), {})
    per_day = Counter(
        at.astimezone(UTC).date() for at in entries.values() if at <= now and query.period.contains(at)
    )
    series = []
    running = 0
    for i in range(query.period.days):
        day = query.period.start + timedelta(days=i)
        running += per_day.get(day, 0)
        target = Fraction(query.goal * (i + 1), query.period.days) if query.goal is not None else None
        series.append(
            {
                "date": day.isoformat(),
                "actual": running if day <= today else None,
                "target": ratio(target),
            }
        )
    figures: Figures = {
        "page": "pacing",
        "period": _period(query.period),
        "stage": stage,
        "as_of": today.isoformat(),
        "goal": query.goal,
        "actual": actual,
        "series": series,
    }
    if query.goal is not None:
        p = pacing(query.goal, actual, period=query.period, as_of=today)
        figures.update(
            days_in_period=p.days_in_period,
            elapsed_days=p.elapsed_days,
            remaining_days=p.remaining_days,
            target_to_date=ratio(p.target_to_date),
            pace=ratio(p.pace),
            projection=ratio(p.projection),
            required_per_remaining_day=ratio(p.required_per_remaining_day),
        )
    return figures


def _run(run: m.Run) -> dict[str, Any]:
    duration = (run.finished_at - run.started_at).total_seconds() if run.finished_at else None
    return {
        "id": run.id,
        "trigger": run.trigger,
        "status": run.status,
        "dry_run": run.dry_run,
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "duration_seconds": round(duration, 1) if duration is not None else None,
        "counts": dict(run.counts or {}),
        "api_calls": dict(run.api_calls or {}),
        "error": run.error,
    }


def _calls(value: Any) -> int:
    return int(value) if isinstance(value, int | float) else 0


def sync_figures(engine: Engine, settings: DashboardSettings, now: datetime) -> Figures:
    """Sync health: the last runs of every flow, open issues per category and API use per system."""
    since = now - timedelta(days=1)
    with Session(engine) as session:
        flows = sorted(session.scalars(select(m.Run.flow).group_by(m.Run.flow)))
        per_flow = []
        for flow in flows:
            runs = session.scalars(
                select(m.Run)
                .where(m.Run.flow == flow)
                .order_by(m.Run.started_at.desc(), m.Run.id.desc())
                .limit(RUNS_PER_FLOW)
            ).all()
            per_flow.append({"flow": flow, "runs": [_run(r) for r in runs]})
        issues = session.execute(
            select(m.Issue.category, func.count())
            .where(m.Issue.status == "open")
            .group_by(m.Issue.category)
            .order_by(func.count().desc(), m.Issue.category)
        ).all()
        latest = session.scalars(
            select(m.Run).where(m.Run.finished_at.is_not(None)).order_by(m.Run.id.desc()).limit(1)
        ).first()
        recent = session.scalars(select(m.Run).where(m.Run.started_at >= since)).all()
    systems = sorted(
        set(settings.api_daily_budgets)
        | {s for r in recent for s in (r.api_calls or {})}
        | set((latest.api_calls or {}) if latest else {})
    )
    api = []
    for system in systems:
        used = sum(_calls((r.api_calls or {}).get(system)) for r in recent)
        budget = settings.api_daily_budgets.get(system)
        api.append(
            {
                "system": system,
                "latest_run_calls": _calls((latest.api_calls or {}).get(system)) if latest else 0,
                "last_24h_calls": used,
                "daily_budget": budget,
                "budget_share": ratio(Fraction(used, budget) if budget else None),
            }
        )
    return {
        "page": "sync",
        "as_of": now.isoformat(),
        "flows": per_flow,
        "latest_run_id": latest.id if latest else None,
        "open_issues": sum(count for _, count in issues),
        "issues_by_category": [{"category": category, "count": count} for category, count in issues],
        "api": api,
    }
