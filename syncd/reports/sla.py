"""The sales SLA: speed-to-lead, share reached within N hours, and follow-up depth per MQL cohort.

Speed-to-lead = first rep-initiated sales activity (call, 1:1 email, meeting; automated ones never
count) at or after the MQL instant − the MQL instant, on two clocks: calendar and business hours.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction

from syncd.reports.business_hours import BusinessClock, BusinessHours
from syncd.reports.errors import ReportError
from syncd.reports.stages import first_entries, stage_key
from syncd.reports.stats import median, nearest_rank
from syncd.reports.types import Activity, LifecycleEvent, Period

DEFAULT_SALES_KINDS = frozenset({"call", "email", "meeting"})
DEFAULT_FOLLOWUP_DAYS = 14
DEFAULT_MIN_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class MqlContact:
    """One MQL of the cohort: when it became an MQL, who owns it, and how fast it was reached."""

    person_id: str
    mql_at: datetime
    owner: str | None
    team: str | None
    first_contact_at: datetime | None
    calendar_speed: timedelta | None
    business_speed: timedelta | None
    attempts: int  # rep-initiated sales activities within the follow-up window


@dataclass(frozen=True, slots=True)
class SlaStats:
    """SLA figures for a set of MQLs. Shares have every MQL (contacted or not) as denominator;
    medians and P90 (nearest rank) are over contacted MQLs only. Business figures are None when
    no business hours were given."""

    mqls: int
    contacted: int
    uncontacted: tuple[str, ...]
    within_calendar: int
    within_calendar_share: Fraction | None
    within_business: int | None
    within_business_share: Fraction | None
    median_calendar: timedelta | None
    p90_calendar: timedelta | None
    median_business: timedelta | None
    p90_business: timedelta | None
    with_min_attempts: int
    with_min_attempts_share: Fraction | None


@dataclass(frozen=True, slots=True)
class SlaReport:
    period: Period
    within_hours: float
    followup_days: int
    min_attempts: int
    overall: SlaStats
    by_owner: dict[str | None, SlaStats]
    by_team: dict[str | None, SlaStats]
    mqls: tuple[MqlContact, ...]


def _share(part: int, whole: int) -> Fraction | None:
    return Fraction(part, whole) if whole else None


def _stats(rows: Sequence[MqlContact], within: timedelta, min_attempts: int, business: bool) -> SlaStats:
    calendar = [r.calendar_speed for r in rows if r.calendar_speed is not None]
    office = [r.business_speed for r in rows if r.business_speed is not None]
    within_calendar = sum(1 for s in calendar if s <= within)
    within_business = sum(1 for s in office if s <= within) if business else None
    deep = sum(1 for r in rows if r.attempts >= min_attempts)
    return SlaStats(
        mqls=len(rows),
        contacted=len(calendar),
        uncontacted=tuple(sorted(r.person_id for r in rows if r.first_contact_at is None)),
        within_calendar=within_calendar,
        within_calendar_share=_share(within_calendar, len(rows)),
        within_business=within_business,
        within_business_share=_share(within_business, len(rows)) if within_business is not None else None,
        median_calendar=median(calendar),
        p90_calendar=nearest_rank(calendar, 90),
        median_business=median(office) if business else None,
        p90_business=nearest_rank(office, 90) if business else None,
        with_min_attempts=deep,
        with_min_attempts_share=_share(deep, len(rows)),
    )


def _grouped(
    rows: Sequence[MqlContact], key: str, within: timedelta, min_attempts: int, business: bool
) -> dict[str | None, SlaStats]:
    groups: dict[str | None, list[MqlContact]] = {}
    for row in rows:
        groups.setdefault(getattr(row, key), []).append(row)
    ordered = sorted(groups.items(), key=lambda kv: (kv[0] is None, kv[0] or ""))
    return {k: _stats(v, within, min_attempts, business) for k, v in ordered}


def sla(
    *,
    lifecycle: Sequence[LifecycleEvent],
    activities: Sequence[Activity],
    period: Period,
    within_hours: float,
    business_hours: BusinessHours | None = None,
    mql_stage: str = "mql",
    sales_kinds: frozenset[str] = DEFAULT_SALES_KINDS,
    rep_initiator: str = "rep",
    followup_days: int = DEFAULT_FOLLOWUP_DAYS,
    min_attempts: int = DEFAULT_MIN_ATTEMPTS,
    owners: Mapping[str, str] | None = None,
    teams: Mapping[str, str] | None = None,
) -> SlaReport:
    """SLA over the cohort of people who first became MQLs in the period.

    A speed of exactly `within_hours` counts as within. Attempts = qualifying activities from the
    MQL instant to `followup_days` later, both inclusive. Each MQL's owner is `owners[person_id]`
    when given, else the owner of its first qualifying activity (None when uncontacted); its team
    is `teams[owner]` (None when unmapped).
    """
    if within_hours < 0 or followup_days < 0 or min_attempts < 1:
        raise ReportError(
            f"invalid SLA parameters within_hours={within_hours}, followup_days={followup_days}, "
            f"min_attempts={min_attempts}",
            hint="use within_hours ≥ 0, followup_days ≥ 0 and min_attempts ≥ 1",
        )
    kinds = {k.casefold() for k in sales_kinds}
    initiator = rep_initiator.casefold()
    per_person: dict[str, list[Activity]] = {}
    for activity in activities:
        if (
            activity.initiated_by.strip().casefold() == initiator
            and activity.kind.strip().casefold() in kinds
        ):
            per_person.setdefault(activity.person_id, []).append(activity)
    times: dict[str, list[datetime]] = {}
    for pid, items in per_person.items():
        items.sort(key=lambda a: (a.occurred_at, a.activity_id))
        times[pid] = [a.occurred_at for a in items]
    clock = BusinessClock(business_hours) if business_hours is not None else None
    window = timedelta(days=followup_days)
    cohort = sorted(
        (pid, at)
        for pid, at in first_entries(lifecycle).get(stage_key(mql_stage), {}).items()
        if period.contains(at)
    )
    rows = []
    for pid, mql_at in cohort:
        stamps = times.get(pid, [])
        first_idx = bisect_left(stamps, mql_at)
        first = per_person[pid][first_idx] if first_idx < len(stamps) else None
        attempts = bisect_right(stamps, mql_at + window) - first_idx
        owner = owners.get(pid) if owners is not None else None
        if owner is None and first is not None:
            owner = first.owner
        rows.append(
            MqlContact(
                person_id=pid,
                mql_at=mql_at,
                owner=owner,
                team=teams.get(owner) if teams is not None and owner is not None else None,
                first_contact_at=first.occurred_at if first else None,
                calendar_speed=first.occurred_at - mql_at if first else None,
                business_speed=clock.elapsed(mql_at, first.occurred_at) if first and clock else None,
                attempts=attempts,
            )
        )
    within = timedelta(hours=within_hours)
    business = clock is not None
    return SlaReport(
        period=period,
        within_hours=within_hours,
        followup_days=followup_days,
        min_attempts=min_attempts,
        overall=_stats(rows, within, min_attempts, business),
        by_owner=_grouped(rows, "owner", within, min_attempts, business),
        by_team=_grouped(rows, "team", within, min_attempts, business),
        mqls=tuple(rows),
    )
