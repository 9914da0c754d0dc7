"""Funnel: conversion between consecutive lifecycle stages and the median time between their entries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from fractions import Fraction

from syncd.reports.errors import ReportError
from syncd.reports.stages import DEFAULT_STAGES, first_entries, implied_entries, stage_key
from syncd.reports.stats import median
from syncd.reports.types import LifecycleEvent, Period


class FunnelMethod(StrEnum):
    """COHORT: of the people entering stage k in the period, how many ever entered k+1 (default).
    PERIOD: people entering k+1 in the period / people entering k in the period."""

    COHORT = "cohort"
    PERIOD = "period"


@dataclass(frozen=True, slots=True)
class FunnelStep:
    """Stage k → k+1. `median_time` is over cohort people who entered both (k+1 at or after k)."""

    from_stage: str
    to_stage: str
    entered: int
    converted: int
    rate: Fraction | None
    median_time: timedelta | None


@dataclass(frozen=True, slots=True)
class FunnelReport:
    period: Period
    method: FunnelMethod
    entered: dict[str, int]
    steps: tuple[FunnelStep, ...]


def funnel(
    lifecycle: Sequence[LifecycleEvent],
    *,
    period: Period,
    stages: tuple[str, ...] = DEFAULT_STAGES,
    method: FunnelMethod = FunnelMethod.COHORT,
    implied_stages: bool = True,
    as_of: datetime | None = None,
) -> FunnelReport:
    """Stage conversion and velocity between consecutive `stages` for one period.

    With `implied_stages` (default) entering a later stage counts as entering every skipped earlier
    stage at the same instant. Entries after `as_of` are ignored when it is given.
    """
    if len(stages) < 2:
        raise ReportError("a funnel needs at least two stages", hint="pass stages in funnel order")
    events = [e for e in lifecycle if as_of is None or e.entered_at <= as_of]
    if implied_stages:
        per_stage = implied_entries(events, stages)
    else:
        explicit = first_entries(events)
        per_stage = [explicit.get(stage_key(s), {}) for s in stages]
    entered = {
        stage: sum(1 for at in per_stage[k].values() if period.contains(at)) for k, stage in enumerate(stages)
    }
    steps = []
    for k in range(len(stages) - 1):
        current, following = per_stage[k], per_stage[k + 1]
        cohort = {pid: at for pid, at in current.items() if period.contains(at)}
        durations = [
            following[pid] - at for pid, at in cohort.items() if pid in following and following[pid] >= at
        ]
        converted = len(durations) if method is FunnelMethod.COHORT else entered[stages[k + 1]]
        steps.append(
            FunnelStep(
                from_stage=stages[k],
                to_stage=stages[k + 1],
                entered=len(cohort),
                converted=converted,
                rate=Fraction(converted, len(cohort)) if cohort else None,
                median_time=median(durations),
            )
        )
    return FunnelReport(period=period, method=method, entered=entered, steps=tuple(steps))
