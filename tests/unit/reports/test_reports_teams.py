"""Sales teams for the SLA by team: owners match their team by email, whatever the case or spacing."""

from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction

import pytest
from report_builders import activity, at, stage

from syncd.reports import OwnerTeams, Period, ReportError, TeamMember, sla, team_members

MARCH = Period(date(2026, 3, 1), date(2026, 3, 31))


def test_sla_by_team_groups_mqls_by_their_owners_team() -> None:
    teams = OwnerTeams(team_members({"inbound": ["rita@example.com", "sam@example.com"]}))
    lifecycle = [stage(p, "mql", at(0, 9)) for p in ("a", "b", "c", "d")]
    activities = [
        activity("1", "a", at(0, 10), owner="Rita@Example.com"),  # 1 h, inbound
        activity("2", "b", at(2, 9), owner=" sam@example.com "),  # 48 h, inbound
        activity("3", "c", at(0, 11), owner="ada@example.com"),  # 2 h, no team
    ]  # d: never contacted, no owner, no team
    report = sla(lifecycle=lifecycle, activities=activities, period=MARCH, within_hours=24, teams=teams)
    assert list(report.by_team) == ["inbound", None]
    inbound, other = report.by_team["inbound"], report.by_team[None]
    assert (inbound.mqls, inbound.contacted, inbound.within_calendar_share) == (2, 2, Fraction(1, 2))
    assert inbound.median_calendar == timedelta(hours=24, minutes=30)
    assert (other.mqls, other.contacted, other.uncontacted) == (2, 1, ("d",))
    assert {m.person_id: m.team for m in report.mqls} == {
        "a": "inbound",
        "b": "inbound",
        "c": None,
        "d": None,
    }


def test_teams_know_every_team_and_refuse_an_owner_in_two() -> None:
    teams = OwnerTeams(
        [TeamMember("inbound", "rita@example.com"), TeamMember("enterprise", "ada@example.com")]
    )
    assert teams.teams == ("enterprise", "inbound") and len(teams) == 2
    assert teams.get("nobody@example.com") is None
    with pytest.raises(ReportError, match=r"RITA@example\.com is in teams inbound and outbound"):
        OwnerTeams([TeamMember("inbound", "rita@example.com"), TeamMember("outbound", "RITA@example.com")])
