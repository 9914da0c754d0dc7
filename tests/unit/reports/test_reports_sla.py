"""The SLA: speed-to-lead on calendar and business clocks, boundaries, uncontacted MQLs, follow-up depth."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction

import pytest
from report_builders import activity, at, stage

from syncd.reports import BusinessClock, BusinessHours, Period, ReportError, sla

MARCH = Period(date(2026, 3, 1), date(2026, 3, 31))
OFFICE = BusinessHours(timezone="UTC", opens=time(9), closes=time(17))  # Mon–Fri 09:00–17:00


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


def test_speed_of_exactly_n_hours_counts_as_within() -> None:
    lifecycle = [stage("exact", "mql", at(0, 10)), stage("late", "mql", at(0, 10))]
    activities = [
        activity("a1", "exact", at(0, 14)),  # exactly 4 h
        activity("a2", "late", at(0, 14) + timedelta(microseconds=1)),  # a microsecond over
    ]
    report = sla(lifecycle=lifecycle, activities=activities, period=MARCH, within_hours=4)
    assert report.overall.within_calendar == 1
    assert report.overall.within_calendar_share == Fraction(1, 2)
    assert {m.person_id: m.calendar_speed for m in report.mqls}["exact"] == timedelta(hours=4)


def test_never_contacted_mqls_stay_in_the_denominator_and_are_listed() -> None:
    lifecycle = [
        stage("quick", "mql", at(0, 9)),
        stage("ghost", "mql", at(0, 9)),
        stage("slow", "mql", at(0, 9)),
    ]
    activities = [
        activity("a1", "quick", at(0, 10)),  # 1 h
        activity("a2", "slow", at(2, 9)),  # 48 h
        # Automated emails and marketing sends never count as contact.
        activity("a3", "ghost", at(0, 9, 1), kind="email", by="automation"),
        activity("a4", "ghost", at(0, 9, 2), kind="marketing_email"),
    ]
    report = sla(lifecycle=lifecycle, activities=activities, period=MARCH, within_hours=24)
    overall = report.overall
    assert (overall.mqls, overall.contacted, overall.uncontacted) == (3, 2, ("ghost",))
    assert overall.within_calendar_share == Fraction(1, 3)
    # Median over the contacted only: (1 h + 48 h) / 2.
    assert overall.median_calendar == timedelta(hours=24, minutes=30)


def test_activities_before_the_mql_instant_do_not_count() -> None:
    lifecycle = [stage("p", "mql", at(1))]
    activities = [activity("before", "p", at(0, 23)), activity("after", "p", at(1, 2))]
    report = sla(lifecycle=lifecycle, activities=activities, period=MARCH, within_hours=1)
    assert report.mqls[0].calendar_speed == timedelta(hours=2)


def test_median_and_p90_by_nearest_rank() -> None:
    # Speeds 1..10 hours: median (5 + 6)/2 = 5.5 h; P90 rank ⌈0.9·10⌉ = 9 → 9 h.
    lifecycle = [stage(f"p{i}", "mql", at(0)) for i in range(1, 11)]
    activities = [activity(f"a{i}", f"p{i}", at(0, i)) for i in range(1, 11)]
    report = sla(lifecycle=lifecycle, activities=activities, period=MARCH, within_hours=24)
    assert report.overall.median_calendar == timedelta(hours=5, minutes=30)
    assert report.overall.p90_calendar == timedelta(hours=9)
    # With an 11th at 11 h: P90 rank ⌈9.9⌉ = 10 → 10 h; median = 6 h.
    lifecycle.append(stage("p11", "mql", at(0)))
    activities.append(activity("a11", "p11", at(0, 11)))
    report = sla(lifecycle=lifecycle, activities=activities, period=MARCH, within_hours=24)
    assert report.overall.p90_calendar == timedelta(hours=10)
    assert report.overall.median_calendar == timedelta(hours=6)


def test_business_clock_skips_the_night() -> None:
    # MQL Tuesday 20:00, call Wednesday 09:30 → 30 business minutes (13.5 h on the calendar).
    report = sla(
        lifecycle=[stage("p", "mql", utc(2026, 3, 3, 20))],
        activities=[activity("a", "p", utc(2026, 3, 4, 9, 30))],
        period=MARCH,
        within_hours=1,
        business_hours=OFFICE,
    )
    (row,) = report.mqls
    assert row.calendar_speed == timedelta(hours=13, minutes=30)
    assert row.business_speed == timedelta(minutes=30)
    assert (report.overall.within_calendar, report.overall.within_business) == (0, 1)


def test_business_clock_skips_the_weekend() -> None:
    clock = BusinessClock(OFFICE)
    # Friday 16:00 → Monday 10:00: 1 h on Friday + 1 h on Monday.
    assert clock.elapsed(utc(2026, 3, 6, 16), utc(2026, 3, 9, 10)) == timedelta(hours=2)
    # MQL on Saturday: the clock starts at Monday's opening.
    assert clock.elapsed(utc(2026, 3, 7, 11), utc(2026, 3, 9, 9, 15)) == timedelta(minutes=15)
    # Both ends outside opening hours on the same evening: nothing elapses.
    assert clock.elapsed(utc(2026, 3, 3, 18), utc(2026, 3, 3, 23)) == timedelta(0)
    # Monday 08:00 → next Monday 08:00: five full 8-hour days.
    assert clock.elapsed(utc(2026, 3, 2, 8), utc(2026, 3, 9, 8)) == timedelta(hours=40)


def test_business_clock_spans_many_weeks_and_earlier_dates() -> None:
    clock = BusinessClock(OFFICE)
    # 10 weeks of 40 h; then an earlier interval after the cache was built for later dates.
    assert clock.elapsed(utc(2026, 3, 9, 8), utc(2026, 5, 18, 8)) == timedelta(hours=400)
    assert clock.elapsed(utc(2025, 3, 3, 8), utc(2025, 3, 10, 8)) == timedelta(hours=40)


def test_business_clock_keeps_local_hours_across_a_dst_change() -> None:
    berlin = BusinessClock(BusinessHours(timezone="Europe/Berlin", opens=time(9), closes=time(17)))
    # Friday 27 March 2026 16:00 CET (15:00 UTC) → Monday 30 March 10:00 CEST (08:00 UTC):
    # 1 h Friday + 1 h Monday although the clocks moved forward on Sunday 29 March.
    assert berlin.elapsed(utc(2026, 3, 27, 15), utc(2026, 3, 30, 8)) == timedelta(hours=2)
    # Monday 30 March opens at 09:00 CEST = 07:00 UTC (it was 08:00 UTC the Monday before).
    assert berlin.window(date(2026, 3, 30)) == (utc(2026, 3, 30, 7), utc(2026, 3, 30, 15))
    assert berlin.window(date(2026, 3, 23)) == (utc(2026, 3, 23, 8), utc(2026, 3, 23, 16))


def test_business_clock_counts_real_time_when_dst_changes_inside_opening_hours() -> None:
    # Opening 01:00–05:00 local every day: on 29 March 2026 Berlin skips 02:00–03:00, so the
    # window is 01:00 CET (00:00 UTC) to 05:00 CEST (03:00 UTC): 3 real hours.
    night = BusinessClock(
        BusinessHours(timezone="Europe/Berlin", opens=time(1), closes=time(5), weekdays=frozenset(range(7)))
    )
    assert night.elapsed(utc(2026, 3, 28, 23), utc(2026, 3, 29, 12)) == timedelta(hours=3)
    # In autumn (25 October 2026) 02:00–03:00 happens twice: 5 real hours.
    assert night.elapsed(utc(2026, 10, 24, 22), utc(2026, 10, 25, 12)) == timedelta(hours=5)


def test_business_clock_skips_holidays() -> None:
    clock = BusinessClock(BusinessHours(holidays=frozenset({date(2026, 3, 4)})))
    # Tuesday 16:00 → Thursday 10:00 with Wednesday off: 1 h + 1 h.
    assert clock.elapsed(utc(2026, 3, 3, 16), utc(2026, 3, 5, 10)) == timedelta(hours=2)


def test_bad_business_hours_are_rejected_with_a_hint() -> None:
    with pytest.raises(ReportError):
        BusinessHours(opens=time(17), closes=time(9))
    with pytest.raises(ReportError) as err:
        BusinessClock(BusinessHours(timezone="Mars/Olympus"))
    assert "IANA" in str(err.value)


def test_follow_up_depth_counts_attempts_within_d_days() -> None:
    lifecycle = [stage("deep", "mql", at(0)), stage("shallow", "mql", at(0)), stage("none", "mql", at(0))]
    activities = [activity(f"d{i}", "deep", at(i * 3)) for i in range(5)]  # days 0, 3, 6, 9, 12
    # Four attempts inside, the fifth exactly at day 14 (counts), the sixth after it.
    activities += [activity(f"s{i}", "shallow", at(i)) for i in range(3)]
    activities += [activity("s14", "shallow", at(14)), activity("s15", "shallow", at(14, 0, 1))]
    report = sla(lifecycle=lifecycle, activities=activities, period=MARCH, within_hours=1)
    attempts = {m.person_id: m.attempts for m in report.mqls}
    assert attempts == {"deep": 5, "shallow": 4, "none": 0}
    assert report.overall.with_min_attempts == 1
    assert report.overall.with_min_attempts_share == Fraction(1, 3)
    # Tighter parameters: 3 days, at least 2 attempts → deep (days 0, 3) and shallow (0, 1, 2).
    tight = sla(
        lifecycle=lifecycle,
        activities=activities,
        period=MARCH,
        within_hours=1,
        followup_days=3,
        min_attempts=2,
    )
    assert tight.overall.with_min_attempts == 2


def test_grouping_by_owner_and_team() -> None:
    lifecycle = [stage(p, "mql", at(0)) for p in ("p1", "p2", "p3", "p4")]
    activities = [
        activity("a1", "p1", at(0, 1), owner="ann"),
        activity("a2", "p2", at(0, 5), owner="bob"),
        activity("a3", "p3", at(0, 2), owner="cid"),
    ]
    teams = {"ann": "east", "bob": "east"}
    report = sla(
        lifecycle=lifecycle,
        activities=activities,
        period=MARCH,
        within_hours=2,
        owners={"p4": "bob"},  # p4 is assigned to bob but never contacted
        teams=teams,
    )
    assert report.by_owner["bob"].mqls == 2 and report.by_owner["bob"].uncontacted == ("p4",)
    assert report.by_owner["ann"].within_calendar_share == 1
    east = report.by_team["east"]
    # ann's p1 (1 h, within), bob's p2 (5 h) and p4 (never) → 1 of 3.
    assert (east.mqls, east.within_calendar, east.within_calendar_share) == (3, 1, Fraction(1, 3))
    # cid has no team.
    assert report.by_team[None].mqls == 1


def test_mql_cohort_uses_the_first_mql_entry_in_the_period() -> None:
    lifecycle = [stage("again", "mql", at(-5)), stage("again", "mql", at(2)), stage("new", "MQL", at(2))]
    report = sla(lifecycle=lifecycle, activities=[], period=MARCH, within_hours=1)
    assert [m.person_id for m in report.mqls] == ["new"]
