"""The shared population: deterministic, with the overlaps and data quirks real org pairs have."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from connectors.sandbox_core.population import (
    CHANNEL_BY_TYPE,
    LIFECYCLE_STAGES,
    Population,
    build_population,
)

NOW = datetime(2026, 11, 20, 15, 30, 12, 345678, tzinfo=UTC)


@pytest.fixture(scope="module")
def population() -> Population:
    return build_population(42, 20_000, now=NOW)


def share(population: Population, predicate: object) -> float:
    people = population.people
    return sum(1 for person in people if predicate(person)) / len(people)  # type: ignore[operator]


def test_same_seed_gives_the_identical_population(population: Population) -> None:
    assert build_population(42, 20_000, now=NOW) == population


def test_a_different_seed_gives_a_different_population(population: Population) -> None:
    other = build_population(43, 20_000, now=NOW)
    assert other.people != population.people
    assert other.owners != population.owners
    assert other.campaigns != population.campaigns


def test_small_populations_have_sequential_keys_and_at_least_three_owners() -> None:
    small = build_population(42, 10, now=NOW)
    assert [p.key for p in small.people] == list(range(1, 11))
    assert len(small.owners) == 3
    assert build_population(42, 0, now=NOW).people == ()


def test_people_overlap_between_the_systems_in_the_agreed_shares(population: Population) -> None:
    assert share(population, lambda p: p.in_hubspot and p.in_salesforce) == pytest.approx(0.60, abs=0.02)
    assert share(population, lambda p: p.in_hubspot and not p.in_salesforce) == pytest.approx(0.20, abs=0.02)
    assert share(population, lambda p: not p.in_hubspot) == pytest.approx(0.20, abs=0.02)
    assert all(p.in_hubspot or p.in_salesforce for p in population.people)
    assert share(population, lambda p: p.in_salesforce == "both") == pytest.approx(0.05, abs=0.01)


def test_late_stage_people_are_mostly_salesforce_contacts_and_early_ones_leads(
    population: Population,
) -> None:
    def contact_share(stage: str) -> float:
        kinds = Counter(
            p.in_salesforce for p in population.people if p.lifecycle == stage and p.in_salesforce
        )
        return kinds["contact"] / sum(kinds.values())

    assert contact_share("customer") > 0.8
    assert contact_share("subscriber") < 0.2


def test_canonical_emails_are_unique_trimmed_and_lower_case(population: Population) -> None:
    emails = [p.email for p in population.people]
    assert len(set(emails)) == len(emails)
    assert all(email == email.strip().lower() and email.count("@") == 1 for email in emails)
    assert all(p.email.endswith("@" + p.domain) for p in population.people)


def test_about_a_tenth_store_a_case_or_whitespace_variant_that_normalizes_back(
    population: Population,
) -> None:
    variants = [
        p
        for p in population.people
        if (not p.invalid_email and p.email != p.email_variant_hubspot)
        or p.email != p.email_variant_salesforce
    ]
    variants = [p for p in variants if not p.invalid_email]
    assert len(variants) / len(population.people) == pytest.approx(0.10, abs=0.015)
    for person in variants:
        assert person.email_variant_hubspot.strip().lower() == person.email
        assert person.email_variant_salesforce.strip().lower() == person.email


def test_about_one_percent_have_a_malformed_address_in_one_system_where_they_exist(
    population: Population,
) -> None:
    invalid = [p for p in population.people if p.invalid_email]
    assert len(invalid) / len(population.people) == pytest.approx(0.01, abs=0.004)
    for person in invalid:
        stored = {"hubspot": person.email_variant_hubspot, "salesforce": person.email_variant_salesforce}
        broken = [system for system, value in stored.items() if value != person.email]
        assert len(broken) == 1
        assert person.in_hubspot if broken[0] == "hubspot" else person.in_salesforce is not None
        value = stored[broken[0]]
        host = value.rpartition("@")[2]
        assert " " in value or value.count("@") != 1 or "." not in host or host.endswith(".")


def test_lifecycle_stages_spread_like_a_funnel_with_scores_to_match(population: Population) -> None:
    stages = Counter(p.lifecycle for p in population.people)
    assert set(stages) == set(LIFECYCLE_STAGES)
    assert (
        stages["lead"]
        > stages["marketingqualifiedlead"]
        > stages["salesqualifiedlead"]
        > stages["opportunity"]
    )
    assert stages["subscriber"] + stages["lead"] > 0.5 * len(population.people)
    assert 0.05 < stages["customer"] / len(population.people) < 0.12

    def mean_score(stage: str) -> float:
        scores = [p.lead_score for p in population.people if p.lifecycle == stage]
        return sum(scores) / len(scores)

    assert mean_score("subscriber") < mean_score("marketingqualifiedlead") < mean_score("opportunity")
    assert all(0 <= p.lead_score <= 100 for p in population.people)


def test_a_few_percent_opted_out(population: Population) -> None:
    assert 0.02 < share(population, lambda p: p.opted_out) < 0.06


def test_owners_are_about_one_per_fifty_people_and_all_own_someone(population: Population) -> None:
    assert [o.key for o in population.owners] == list(range(1, 401))
    assert len({o.email for o in population.owners}) == 400
    owned = Counter(p.owner_key for p in population.people)
    assert set(owned) <= {o.key for o in population.owners}
    assert len(owned) > 390


def test_people_have_plausible_contact_details_and_past_creation_dates(population: Population) -> None:
    now = NOW.replace(microsecond=0)
    for person in population.people:
        assert person.first_name and person.last_name and person.company and person.title and person.city
        assert person.phone.startswith("+") and len(person.country) == 2
        assert now - timedelta(days=730) <= person.created_at <= now
        assert person.created_at.utcoffset() == timedelta(0)
    assert len({p.company for p in population.people}) > 1000
    assert len({p.city for p in population.people}) == 30


def test_campaigns_form_a_two_level_hierarchy_with_exact_costs(population: Population) -> None:
    campaigns = {c.key: c for c in population.campaigns}
    assert len(campaigns) == 12
    parents = {c.parent_key for c in campaigns.values() if c.parent_key is not None}
    assert len(parents) == 3
    assert all(campaigns[key].parent_key is None for key in parents)
    for campaign in campaigns.values():
        assert campaign.channel == CHANNEL_BY_TYPE[campaign.type]
        assert campaign.start < campaign.end
        assert isinstance(campaign.budgeted_cost, Decimal) and isinstance(campaign.actual_cost, Decimal)
        assert campaign.actual_cost.as_tuple().exponent == -2
        assert Decimal(0) < campaign.actual_cost <= campaign.budgeted_cost * Decimal("1.2")
    assert len({c.name for c in campaigns.values()}) == 12


def test_now_in_another_timezone_gives_the_same_population() -> None:
    shifted = NOW.astimezone(timezone(timedelta(hours=-5)))
    assert build_population(1, 50, now=shifted) == build_population(1, 50, now=NOW)


def test_bad_arguments_are_refused_with_the_reason() -> None:
    with pytest.raises(ValueError, match="people must be >= 0"):
        build_population(1, -1, now=NOW)
    with pytest.raises(ValueError, match="timezone-aware"):
        build_population(1, 1, now=datetime(2026, 1, 1))


def test_building_is_fast_enough_to_seed_large_simulators() -> None:
    started = time.perf_counter()
    build_population(7, 20_000, now=NOW)
    # ~0.3 s here (1 s with both cores busy); benchmarks/sandbox/bench_population.py measures people/s.
    assert time.perf_counter() - started < 3.0
