"""The seeded sales activity: deterministic, sized by the people, in a system its person is in."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from connectors.sandbox_core.population import build_population
from connectors.sandbox_core.population_sales import build_sales_activities

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def test_the_same_population_gives_the_same_activities_and_more_people_give_proportionally_more() -> None:
    small = build_population(3, 1_000, now=NOW)
    assert build_sales_activities(small) == build_sales_activities(build_population(3, 1_000, now=NOW))
    few = len(build_sales_activities(small).activities)
    many = len(build_sales_activities(build_population(3, 4_000, now=NOW)).activities)
    assert 1.0 < few / 1_000 < 2.0 and 3.5 < many / few < 4.5


def test_each_activity_is_in_a_system_its_person_is_in_and_in_the_persons_history() -> None:
    population = build_population(5, 2_000, now=NOW)
    sales = build_sales_activities(population)
    people = {p.key: p for p in population.people}
    kinds = Counter((a.system, a.kind) for a in sales.activities)
    assert {k for s, k in kinds if s == "salesforce"} == {
        "call",
        "email",
        "meeting",
        "list_email",
        "auto_email",
    }
    assert {k for s, k in kinds if s == "hubspot"} == {"call", "email", "meeting", "note", "task"}
    for activity in sales.activities:
        person = people[activity.person_key]
        assert person.created_at < activity.at < NOW
        assert activity.owner_key == person.owner_key
        if activity.system == "salesforce":
            assert person.in_salesforce is not None
            assert not activity.on_lead or person.in_salesforce == "both"
        else:
            assert person.in_hubspot
    assert sales.of(sales.activities[0].person_key, sales.activities[0].system)[0] == sales.activities[0]
    calls = [a for a in sales.activities if a.kind == "call" and a.system == "salesforce"]
    assert {a.direction for a in calls} == {"inbound", "outbound"} and all(a.outcome for a in calls)
