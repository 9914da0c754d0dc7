"""Lifecycle stage entries: when each person first entered each stage."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from syncd.reports.types import LifecycleEvent

DEFAULT_STAGES: tuple[str, ...] = ("subscriber", "lead", "mql", "sql", "opportunity", "customer")


def stage_key(stage: str) -> str:
    """Stage names compare trimmed and case-insensitively ("MQL" == "mql")."""
    return stage.strip().casefold()


def first_entries(lifecycle: Iterable[LifecycleEvent]) -> dict[str, dict[str, datetime]]:
    """stage → person_id → the earliest instant the person entered that stage."""
    entries: dict[str, dict[str, datetime]] = {}
    for event in lifecycle:
        per_person = entries.setdefault(stage_key(event.stage), {})
        seen = per_person.get(event.person_id)
        if seen is None or event.entered_at < seen:
            per_person[event.person_id] = event.entered_at
    return entries


def implied_entries(
    lifecycle: Iterable[LifecycleEvent], stages: tuple[str, ...] = DEFAULT_STAGES
) -> list[dict[str, datetime]]:
    """Per ordered stage, person_id → entry instant, where entering a later stage implies having
    passed every earlier one at that instant (lifecycles often skip stages)."""
    explicit = first_entries(lifecycle)
    keys = [stage_key(s) for s in stages]
    result: list[dict[str, datetime]] = [{} for _ in keys]
    running: dict[str, datetime] = {}
    for k in range(len(keys) - 1, -1, -1):
        for person_id, instant in explicit.get(keys[k], {}).items():
            seen = running.get(person_id)
            if seen is None or instant < seen:
                running[person_id] = instant
        result[k] = dict(running)
    return result
