"""Rule evaluation, pure: store rows and the instant in, occurrences (and how far a cursor may move) out.

Nothing here reads a clock, the store or the network; the caller passes `now` and everything the
rules look at, so every boundary (exactly N hours, exactly N days, a weekend on the business clock)
is pinned by table-driven tests.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

from syncd.alerts.deadline import SlaClock
from syncd.alerts.rules import (
    MqlRow,
    Occurrence,
    PersonView,
    SilenceRule,
    SlaRule,
    TouchRow,
    TouchRule,
    stage_rank,
)


def _utc(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def describe_touch(touch: TouchRow) -> str:
    """What a touch was, for a person's sentence: `visited https://x/pricing`."""
    detail = touch.detail
    if touch.kind == "page_view":
        return f"visited {detail.get('url') or detail.get('page_title') or 'a page'}"
    if touch.kind == "form_submission":
        form = detail.get("form") or detail.get("form_id") or "a form"
        where = f" on {detail['url']}" if detail.get("url") else ""
        return f'submitted the form "{form}"{where}'
    if touch.kind == "email_click":
        return f'clicked the email "{detail["email"]}"' if detail.get("email") else "clicked an email"
    return touch.kind.replace("_", " ")


def _glob(pattern: str, value: object) -> bool:
    return isinstance(value, str) and fnmatch.fnmatchcase(value.casefold(), pattern.casefold())


def _stage_at(person: PersonView | None, instant: datetime, min_stage: str) -> bool:
    """Whether the person had entered `min_stage` or a later stage at `instant` (inclusive)."""
    wanted = stage_rank(min_stage)
    if person is None or wanted is None:
        return False
    for entry in person.stages:
        rank = stage_rank(entry.stage)
        if rank is not None and rank >= wanted and entry.entered_at <= instant:
            return True
    return False


def touch_matches(rule: TouchRule, touch: TouchRow, person: PersonView | None) -> bool:
    """Whether a touch is what `rule` watches for (its age aside)."""
    if touch.kind != rule.kind:
        return False
    detail = touch.detail
    if rule.forms:
        names = {str(detail.get(k)).casefold() for k in ("form_id", "form") if detail.get(k)}
        if not names & rule.forms:
            return False
    if rule.url is not None and not _glob(rule.url, detail.get("url")):
        return False
    return rule.min_stage is None or _stage_at(person, touch.occurred_at, rule.min_stage)


def touch_candidates(
    rule: TouchRule | SilenceRule, touches: Iterable[TouchRow], now: datetime
) -> list[TouchRow]:
    """The touches a rule could fire on before anything about their people is known: right kind,
    form and URL, young enough. Only their people are then read from the store."""
    found: list[TouchRow] = []
    for touch in touches:
        if now - touch.occurred_at > rule.max_age:
            continue
        if isinstance(rule, SilenceRule):
            if touch.kind in rule.kinds:
                found.append(touch)
        elif touch_matches(replace(rule, min_stage=None), touch, None):
            found.append(touch)
    return found


def occurrence_key(rule: str, touch: TouchRow) -> str:
    """Keyed by the source's event id, so the same event never fires a rule twice."""
    return f"{rule}:{touch.source_system}:{touch.source_event_id}"


def touch_occurrences(
    rule: TouchRule | SilenceRule,
    touches: Iterable[TouchRow],
    people: Mapping[int, PersonView],
    now: datetime,
    previous: Mapping[int, datetime | None] | None = None,
) -> list[Occurrence]:
    """Occurrences of a touch rule among `touches`.

    `previous[touch.id]` is, for a silence rule, the instant of the person's last touch of the
    rule's kinds before this one (ordered by instant, then id); None when there was none.
    Touches older than the rule's `max_age` at `now` never fire.
    """
    found: list[Occurrence] = []
    for touch in touches:
        if now - touch.occurred_at > rule.max_age:
            continue
        person = people.get(touch.person_id)
        if isinstance(rule, TouchRule):
            if not touch_matches(rule, touch, person):
                continue
            what = describe_touch(touch)
            if rule.min_stage is not None:
                what += f" (already {rule.min_stage.upper()})"
            facts = {"when": _utc(touch.occurred_at)}
        else:
            if touch.kind not in rule.kinds or person is None or not person.known:
                continue
            before = (previous or {}).get(touch.id)
            if before is None or touch.occurred_at - before < rule.silence:
                continue
            gap = touch.occurred_at - before
            what = f"is back after {_days(gap)} without a touch: {describe_touch(touch)}"
            facts = {"when": _utc(touch.occurred_at), "previous touch": _utc(before)}
        for name in ("url", "form", "page_title", "email"):
            if touch.detail.get(name):
                facts[name] = str(touch.detail[name])
        found.append(
            Occurrence(
                rule=rule.name,
                key=occurrence_key(rule.name, touch),
                person_id=touch.person_id,
                occurred_at=touch.occurred_at,
                what=what,
                notify=rule.notify,
                facts=facts,
            )
        )
    return found


def _days(gap: timedelta) -> str:
    days = gap / timedelta(days=1)
    whole = int(days)
    return f"{whole} day{'s' if whole != 1 else ''}" if days == whole else f"{days:.1f} days"


def _hours(span: timedelta) -> str:
    hours = span / timedelta(hours=1)
    return f"{int(hours)}" if hours == int(hours) else f"{hours:g}"


@dataclass(frozen=True)
class SlaDecision:
    """What became of one MQL event: `waiting` ones are evaluated again in a later cycle."""

    mql_id: int
    status: Literal["fire", "met", "stale", "not_first", "waiting"]
    deadline: datetime
    occurrence: Occurrence | None = None


def sla_decisions(
    rule: SlaRule,
    mqls: Sequence[MqlRow],
    first_mql: Mapping[int, datetime],
    first_contact: Mapping[int, datetime | None],
    now: datetime,
    clock: SlaClock,
) -> list[SlaDecision]:
    """Decide each MQL event of the rule's stage.

    Only a person's first entry into the stage counts (`first_mql[person]`: the SLA report's
    cohort rule). `first_contact[mql.id]` is the first qualifying rep activity at or after the MQL
    instant. A contact at exactly the deadline is within. The rule fires once `now` is past the
    deadline plus the grace, unless the deadline is older than `max_age`.
    """
    decisions: list[SlaDecision] = []
    clock_name = "business" if clock.business else "calendar"
    for mql in mqls:
        deadline = clock.deadline(mql.entered_at, rule.within)
        first = first_mql.get(mql.person_id, mql.entered_at)
        if first < mql.entered_at:
            decisions.append(SlaDecision(mql.id, "not_first", deadline))
            continue
        contact = first_contact.get(mql.id)
        if contact is not None and contact <= deadline:
            decisions.append(SlaDecision(mql.id, "met", deadline))
        elif now <= deadline + rule.grace:
            decisions.append(SlaDecision(mql.id, "waiting", deadline))
        elif now - deadline > rule.max_age:
            decisions.append(SlaDecision(mql.id, "stale", deadline))
        else:
            facts = {"became MQL": _utc(mql.entered_at), "deadline": _utc(deadline)}
            facts["first contact"] = _utc(contact) if contact is not None else "none yet"
            what = (
                f"became an {rule.stage.upper()} at {_utc(mql.entered_at)} and was not contacted within "
                f"{_hours(rule.within)} {clock_name} hours (deadline {_utc(deadline)})"
            )
            occurrence = Occurrence(
                rule=rule.name,
                key=f"{rule.name}:person:{mql.person_id}",
                person_id=mql.person_id,
                occurred_at=deadline,
                what=what,
                notify=rule.notify,
                facts=facts,
            )
            decisions.append(SlaDecision(mql.id, "fire", deadline, occurrence))
    return decisions


@dataclass(frozen=True)
class Frontier:
    """The newest row of a table when a cycle began: its id and when it was recorded."""

    id: int
    recorded_at: datetime


def next_cursor(
    cursor: int,
    rows: Sequence[tuple[int, datetime]],
    *,
    undecided: set[int],
    horizon: datetime,
    frontier: Frontier | None,
    exhausted: bool,
) -> int:
    """How far a rule's id cursor may move after evaluating `rows` ((id, recorded_at), ascending).

    It stops before the first undecided row, and before the first row recorded at or after
    `horizon` (now minus the lag): a writer whose transaction is still open holds a smaller id
    than rows already visible, and re-reading the recent rows next cycle picks it up (their
    occurrences are keyed, so nothing fires twice). When every row up to the frontier was read
    (`exhausted`) and the frontier itself is older than the horizon, it moves to the frontier:
    rows the rule's filter skipped are never scanned again.
    """
    moved = cursor
    for row_id, recorded_at in rows:
        if row_id in undecided or recorded_at >= horizon:
            return moved
        moved = row_id
    if exhausted and frontier is not None and frontier.recorded_at < horizon:
        return max(moved, frontier.id)
    return moved
