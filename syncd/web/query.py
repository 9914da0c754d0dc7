"""Dashboard query parameters (`from`, `to`, `model`, `conversion`, `by`, `hours`, `goal`), parsed
once into a frozen `Query` with the defaults filled in, and the dashboard's settings."""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from syncd.reports.business_hours import BusinessHours
from syncd.reports.errors import ReportError
from syncd.reports.roi import DATA_DRIVEN_MODELS
from syncd.reports.rule_models import RuleModel
from syncd.reports.stages import DEFAULT_STAGES
from syncd.reports.teams import TeamMember
from syncd.reports.types import ConversionType, GroupBy, Period

MODELS: tuple[str, ...] = (*(m.value for m in RuleModel), *DATA_DRIVEN_MODELS)
CONVERSIONS: tuple[str, ...] = tuple(c.value for c in ConversionType)
GROUPS: tuple[str, ...] = (GroupBy.CHANNEL.value, GroupBy.CAMPAIGN.value)


@dataclass(frozen=True, slots=True)
class DashboardSettings:
    """What the dashboard assumes when the query does not say (from the daemon's configuration)."""

    default_days: int = 30  # default period: the last N days up to today
    sla_hours: float = 24.0
    business_hours: BusinessHours | None = None
    followup_days: int = 14
    min_attempts: int = 5
    mql_stage: str = "mql"
    customer_stage: str = "customer"
    funnel_stages: tuple[str, ...] = DEFAULT_STAGES
    mql_goal: int | None = None  # the pacing goal for the period when the query gives none
    api_daily_budgets: Mapping[str, int] = field(default_factory=dict)  # system → calls per day
    teams: tuple[TeamMember, ...] = ()  # sales teams by owner email (the config's teams: section)
    cache_size: int = 64


@dataclass(frozen=True, slots=True)
class Query:
    """One page's parameters with defaults applied; hashable, so it is part of the cache key."""

    period: Period
    model: str
    conversion: ConversionType
    by: GroupBy
    hours: float
    goal: int | None

    def as_params(self) -> dict[str, str]:
        """The query string that reproduces this query (links, forms, the JSON twin)."""
        params = {
            "from": self.period.start.isoformat(),
            "to": self.period.end.isoformat(),
            "model": self.model,
            "conversion": self.conversion.value,
            "by": self.by.value,
            "hours": f"{self.hours:g}",
        }
        if self.goal is not None:
            params["goal"] = str(self.goal)
        return params


def _date(params: Mapping[str, str], name: str) -> date | None:
    value = params.get(name, "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ReportError(
            f"query parameter {name}={value!r} is not a date", hint=f"use YYYY-MM-DD, e.g. {name}=2026-03-01"
        ) from None


def _choice(params: Mapping[str, str], name: str, choices: tuple[str, ...], default: str) -> str:
    value = params.get(name, "").strip() or default
    if value not in choices:
        raise ReportError(f"unknown {name} {value!r}", hint=f"use one of {', '.join(choices)}")
    return value


def _number(params: Mapping[str, str], name: str) -> float | None:
    value = params.get(name, "").strip()
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not number >= 0 or number == float("inf"):
        raise ReportError(f"query parameter {name}={value!r} is not a number ≥ 0", hint=f"e.g. {name}=24")
    return number


def month_of(day: date) -> Period:
    return Period(day.replace(day=1), day.replace(day=calendar.monthrange(day.year, day.month)[1]))


def parse_query(
    params: Mapping[str, str], *, today: date, settings: DashboardSettings, whole_month: bool = False
) -> Query:
    """Parse and validate the query string; a bad value raises ReportError naming the parameter.

    Default period: the last `settings.default_days` days up to today, or with `whole_month` (pacing)
    the current calendar month.
    """
    start, end = _date(params, "from"), _date(params, "to")
    if whole_month and start is None and end is None:
        period = month_of(today)
    else:
        end = end or today
        start = start or end - timedelta(days=settings.default_days - 1)
        if end < start:
            raise ReportError(f"the period ends ({end}) before it starts ({start})", hint="swap from and to")
        period = Period(start, end)
    goal = _number(params, "goal")
    hours = _number(params, "hours")
    return Query(
        period=period,
        model=_choice(params, "model", MODELS, RuleModel.LINEAR.value),
        conversion=ConversionType(_choice(params, "conversion", CONVERSIONS, ConversionType.REVENUE.value)),
        by=GroupBy(_choice(params, "by", GROUPS, GroupBy.CHANNEL.value)),
        hours=settings.sla_hours if hours is None else hours,
        goal=int(goal) if goal is not None else settings.mql_goal,
    )
