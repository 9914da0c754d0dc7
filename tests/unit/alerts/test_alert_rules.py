"""Alert rules decide from rows and an instant alone: every boundary pinned table-driven."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest

from syncd.alerts.deadline import SlaClock
from syncd.alerts.evaluate import Frontier, next_cursor, sla_decisions, touch_occurrences
from syncd.alerts.rules import (
    Channel,
    MqlRow,
    PersonView,
    SilenceRule,
    SlaRule,
    StageEntry,
    TouchRow,
    TouchRule,
)
from syncd.reports.business_hours import BusinessClock, BusinessHours

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)  # a Wednesday
HOOK = frozenset({Channel.WEBHOOK})


def touch(
    touch_id: int = 1,
    kind: str = "page_view",
    at: datetime = NOW - timedelta(hours=1),
    person: int = 7,
    **detail: Any,
) -> TouchRow:
    return TouchRow(touch_id, person, "hubspot", f"ev{touch_id}", at, at, kind, detail)


JANE = PersonView(
    7, "jane@acme.com", name="Jane Doe", salesforce_id="00Q000000000001", salesforce_object="Lead"
)
MQL_AT = NOW - timedelta(days=2)


def staged(*entries: tuple[str, datetime]) -> PersonView:
    return PersonView(7, "jane@acme.com", stages=tuple(StageEntry(s, at) for s, at in entries))


# --- form submissions and page views -----------------------------------------------------------

DEMO = TouchRule("demo", "form_submission", HOOK, forms=frozenset({"request a demo", "f-123"}))
PRICING = TouchRule("pricing", "page_view", HOOK, url="*/pricing*")
PRICING_MQL = TouchRule("pricing-mql", "page_view", HOOK, url="*/pricing*", min_stage="mql")

TOUCH_CASES = [
    pytest.param(
        DEMO, touch(kind="form_submission", form="Request a Demo"), JANE, True, id="form-by-name-any-case"
    ),
    pytest.param(DEMO, touch(kind="form_submission", form_id="f-123"), JANE, True, id="form-by-id"),
    pytest.param(DEMO, touch(kind="form_submission", form="Newsletter"), JANE, False, id="other-form"),
    pytest.param(
        DEMO, touch(kind="page_view", form="Request a demo"), JANE, False, id="not-a-form-submission"
    ),
    pytest.param(
        TouchRule("any-form-on-contact", "form_submission", HOOK, url="*/contact*"),
        touch(kind="form_submission", form="Anything", url="https://x.io/contact-us"),
        JANE,
        True,
        id="form-by-url",
    ),
    pytest.param(PRICING, touch(url="https://acme.io/Pricing?plan=pro"), JANE, True, id="url-glob-any-case"),
    pytest.param(PRICING, touch(url="https://acme.io/blog"), JANE, False, id="url-glob-misses"),
    pytest.param(PRICING, touch(), JANE, False, id="no-url"),
    pytest.param(
        PRICING_MQL, touch(url="https://a.io/pricing"), staged(("mql", MQL_AT)), True, id="mql-before"
    ),
    pytest.param(
        PRICING_MQL,
        touch(url="https://a.io/pricing", at=MQL_AT),
        staged(("mql", MQL_AT)),
        True,
        id="mql-at-the-same-instant",
    ),
    pytest.param(
        PRICING_MQL,
        touch(url="https://a.io/pricing", at=MQL_AT - timedelta(seconds=1)),
        staged(("mql", MQL_AT)),
        False,
        id="mql-only-after-the-touch",
    ),
    pytest.param(
        PRICING_MQL, touch(url="https://a.io/pricing"), staged(("SQL", MQL_AT)), True, id="later-stage"
    ),
    pytest.param(
        PRICING_MQL, touch(url="https://a.io/pricing"), staged(("lead", MQL_AT)), False, id="earlier"
    ),
    pytest.param(PRICING_MQL, touch(url="https://a.io/pricing"), None, False, id="unknown-person"),
    pytest.param(
        PRICING,
        touch(url="https://a.io/pricing", at=NOW - timedelta(hours=72)),
        JANE,
        True,
        id="exactly-max-age",
    ),
    pytest.param(
        PRICING,
        touch(url="https://a.io/pricing", at=NOW - timedelta(hours=72, seconds=1)),
        JANE,
        False,
        id="older-than-max-age",
    ),
]


@pytest.mark.parametrize(("rule", "row", "person", "fires"), TOUCH_CASES)
def test_touch_rules(rule: TouchRule, row: TouchRow, person: PersonView | None, fires: bool) -> None:
    people = {7: person} if person else {}
    found = touch_occurrences(rule, [row], people, NOW)
    assert bool(found) is fires
    if fires:
        (occurrence,) = found
        assert occurrence.key == f"{rule.name}:hubspot:ev1"
        assert occurrence.notify == HOOK
        assert occurrence.occurred_at == row.occurred_at


def test_a_form_occurrence_says_which_form_and_where() -> None:
    row = touch(kind="form_submission", form="Request a demo", url="https://acme.io/demo")
    (occurrence,) = touch_occurrences(DEMO, [row], {7: JANE}, NOW)
    assert occurrence.what == 'submitted the form "Request a demo" on https://acme.io/demo'
    assert occurrence.facts["form"] == "Request a demo"


# --- returning after silence ----------------------------------------------------------------------

BACK = SilenceRule("back", HOOK, silence=timedelta(days=30))
AT = NOW - timedelta(hours=1)

SILENCE_CASES = [
    pytest.param(AT - timedelta(days=30), JANE, True, id="exactly-n-days"),
    pytest.param(AT - timedelta(days=30) + timedelta(seconds=1), JANE, False, id="one-second-short"),
    pytest.param(AT - timedelta(days=90), JANE, True, id="long-silence"),
    pytest.param(None, JANE, False, id="first-touch-ever-is-not-a-return"),
    pytest.param(AT - timedelta(days=90), PersonView(7, "jane@acme.com"), False, id="not-known-to-sales"),
]


@pytest.mark.parametrize(("previous", "person", "fires"), SILENCE_CASES)
def test_returning_after_silence(previous: datetime | None, person: PersonView, fires: bool) -> None:
    row = touch(url="https://acme.io/", at=AT)
    found = touch_occurrences(BACK, [row], {7: person}, NOW, {1: previous})
    assert bool(found) is fires
    if fires:
        assert "is back after" in found[0].what


def test_silence_counts_only_the_rules_kinds() -> None:
    sent = touch(kind="email_send", at=AT)
    assert touch_occurrences(BACK, [sent], {7: JANE}, NOW, {1: AT - timedelta(days=60)}) == []


def test_the_gap_is_named_in_days() -> None:
    row = touch(url="https://acme.io/", at=AT)
    (occurrence,) = touch_occurrences(BACK, [row], {7: JANE}, NOW, {1: AT - timedelta(days=45)})
    assert occurrence.what == "is back after 45 days without a touch: visited https://acme.io/"


# --- the SLA deadline ----------------------------------------------------------------------------

BERLIN = BusinessHours(timezone="Europe/Berlin", opens=time(9), closes=time(17))


def berlin(day: int, hour: int, minute: int = 0) -> datetime:
    """March 2026 in Berlin (UTC+1 until the 29th): the 6th is a Friday, the 9th a Monday."""
    return datetime(2026, 3, day, hour - 1, minute, tzinfo=UTC)


DEADLINE_CASES = [
    pytest.param(None, NOW, 4, NOW + timedelta(hours=4), id="calendar"),
    pytest.param(BERLIN, berlin(4, 10), 4, berlin(4, 14), id="inside-one-day"),
    pytest.param(BERLIN, berlin(4, 15), 4, berlin(5, 11), id="across-the-night"),
    pytest.param(BERLIN, berlin(4, 20), 4, berlin(5, 13), id="after-closing-starts-next-morning"),
    pytest.param(BERLIN, berlin(4, 6), 4, berlin(4, 13), id="before-opening-starts-at-opening"),
    pytest.param(BERLIN, berlin(6, 15), 4, berlin(9, 11), id="across-the-weekend"),
    pytest.param(BERLIN, berlin(7, 11), 4, berlin(9, 13), id="mql-on-saturday"),
    pytest.param(BERLIN, berlin(4, 13), 4, berlin(5, 9), id="ends-at-closing-so-next-opening-still-counts"),
    pytest.param(BERLIN, berlin(4, 20), 0, berlin(5, 9), id="zero-hours-after-closing"),
    pytest.param(
        BusinessHours(timezone="Europe/Berlin", holidays=frozenset({date(2026, 3, 5)})),
        berlin(4, 15),
        4,
        berlin(6, 11),
        id="holiday-skipped",
    ),
]


@pytest.mark.parametrize(("hours", "start", "within", "deadline"), DEADLINE_CASES)
def test_sla_deadline(hours: BusinessHours | None, start: datetime, within: int, deadline: datetime) -> None:
    assert SlaClock(hours).deadline(start, timedelta(hours=within)) == deadline


@pytest.mark.parametrize(("hours", "start", "within", "deadline"), DEADLINE_CASES[1:])
def test_the_deadline_is_the_last_instant_the_sla_report_counts_as_within(
    hours: BusinessHours, start: datetime, within: int, deadline: datetime
) -> None:
    clock = BusinessClock(hours)
    deadline = SlaClock(hours).deadline(start, timedelta(hours=within))
    assert clock.elapsed(start, deadline) == timedelta(hours=within)
    assert clock.elapsed(start, deadline + timedelta(seconds=1)) > timedelta(hours=within)


@pytest.mark.parametrize("hours", [None, BERLIN])
@pytest.mark.parametrize("instant", [berlin(4, 12), berlin(5, 9), berlin(7, 12), berlin(9, 9, 30)])
def test_the_earliest_start_still_due_is_found_to_the_second(
    hours: BusinessHours | None, instant: datetime
) -> None:
    clock, within = SlaClock(hours), timedelta(hours=4)
    start = clock.earliest_due_at_or_after(instant, within)
    assert clock.deadline(start + timedelta(seconds=1), within) >= instant
    assert clock.deadline(start - timedelta(seconds=1), within) < instant


# --- MQL not contacted -----------------------------------------------------------------------------

SLA = SlaRule("sla", HOOK, within=timedelta(hours=4))
MQL = MqlRow(1, 7, NOW, NOW)
DUE = NOW + timedelta(hours=4)

SLA_CASES = [
    pytest.param(DUE, None, "waiting", id="at-the-deadline-still-waiting"),
    pytest.param(DUE + timedelta(seconds=1), None, "fire", id="just-past-the-deadline"),
    pytest.param(DUE + timedelta(days=1), DUE, "met", id="contact-at-exactly-n-hours-is-within"),
    pytest.param(DUE + timedelta(days=1), DUE + timedelta(seconds=1), "fire", id="contact-one-second-late"),
    pytest.param(NOW + timedelta(hours=1), NOW + timedelta(minutes=5), "met", id="contacted-early"),
    pytest.param(DUE + timedelta(hours=72), None, "fire", id="exactly-max-age"),
    pytest.param(DUE + timedelta(hours=72, seconds=1), None, "stale", id="older-than-max-age"),
]


@pytest.mark.parametrize(("now", "contact", "status"), SLA_CASES)
def test_mql_not_contacted(now: datetime, contact: datetime | None, status: str) -> None:
    (decision,) = sla_decisions(SLA, [MQL], {7: NOW}, {1: contact}, now, SlaClock(None))
    assert decision.status == status
    assert decision.deadline == DUE
    assert (decision.occurrence is not None) is (status == "fire")
    if decision.occurrence is not None:
        assert decision.occurrence.key == "sla:person:7"
        assert decision.occurrence.occurred_at == DUE
        assert "not contacted within 4 calendar hours" in decision.occurrence.what


def test_only_the_first_mql_of_a_person_counts() -> None:
    later = MqlRow(2, 7, NOW + timedelta(days=1), NOW)
    (decision,) = sla_decisions(SLA, [later], {7: NOW}, {2: None}, NOW + timedelta(days=3), SlaClock(None))
    assert decision.status == "not_first"


def test_grace_waits_for_activities_still_on_their_way() -> None:
    rule = SlaRule("sla", HOOK, within=timedelta(hours=4), grace=timedelta(minutes=15))
    at = DUE + timedelta(minutes=15)
    assert sla_decisions(rule, [MQL], {}, {1: None}, at, SlaClock(None))[0].status == "waiting"
    at += timedelta(seconds=1)
    assert sla_decisions(rule, [MQL], {}, {1: None}, at, SlaClock(None))[0].status == "fire"


def test_business_hours_mql_on_friday_afternoon_waits_over_the_weekend() -> None:
    rule = SlaRule("sla", HOOK, within=timedelta(hours=4), business_hours=BERLIN)
    mql = MqlRow(1, 7, berlin(6, 15), berlin(6, 15))
    clock = SlaClock(BERLIN)
    saturday = sla_decisions(rule, [mql], {}, {1: None}, berlin(7, 12), clock)[0]
    assert (saturday.status, saturday.deadline) == ("waiting", berlin(9, 11))
    monday = sla_decisions(rule, [mql], {}, {1: None}, berlin(9, 11, 1), clock)[0]
    assert monday.status == "fire"
    assert monday.occurrence is not None
    assert "within 4 business hours" in monday.occurrence.what


# --- the rule cursor ---------------------------------------------------------------------------------

HORIZON = NOW - timedelta(minutes=5)
OLD, RECENT = HORIZON - timedelta(minutes=1), HORIZON


CURSOR_CASES = [
    pytest.param([(11, OLD), (12, OLD)], set(), Frontier(12, OLD), True, 12, id="all-decided"),
    pytest.param([(11, OLD), (12, OLD)], {12}, Frontier(12, OLD), True, 11, id="stops-before-undecided"),
    pytest.param([(11, OLD), (12, RECENT)], set(), Frontier(12, RECENT), True, 11, id="stops-before-recent"),
    pytest.param([], set(), Frontier(40, OLD), True, 40, id="skips-rows-the-filter-left-out"),
    pytest.param([], set(), Frontier(40, RECENT), True, 10, id="recent-frontier-holds"),
    pytest.param([(11, OLD), (12, OLD)], set(), Frontier(40, OLD), False, 12, id="page-full-not-past-it"),
    pytest.param(
        [(11, OLD), (12, OLD)], set(), Frontier(40, RECENT), True, 12, id="recent-frontier-keeps-rows"
    ),
]


@pytest.mark.parametrize(("rows", "undecided", "frontier", "exhausted", "expected"), CURSOR_CASES)
def test_next_cursor(
    rows: list[tuple[int, datetime]], undecided: set[int], frontier: Frontier, exhausted: bool, expected: int
) -> None:
    moved = next_cursor(
        10, rows, undecided=undecided, horizon=HORIZON, frontier=frontier, exhausted=exhausted
    )
    assert moved == expected
