"""Markov removal effects and Shapley values against small cases solved by hand with exact fractions."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from report_builders import at, deal, link, money, person, touch

from syncd.reports import (
    ConversionType,
    Journey,
    TooManyChannelsError,
    markov,
    markov_from_journeys,
    shapley,
    shapley_from_journeys,
)
from syncd.reports.markov import _Chain

REVENUE = ConversionType.REVENUE
DEAL = ConversionType.DEAL_CREATE


def journey(path: str, value: str | None = None) -> Journey:
    """ "A>B" converting with `value`, or non-converting when value is None."""
    return Journey(tuple(path.split(">")), value is not None, Decimal(value or 0))


def test_markov_two_channels_by_hand() -> None:
    # A>B>conv, A>null, B>conv. Counts: start→A 2, start→B 1; A→B 1, A→null 1; B→conv 2.
    # x_B = 1, x_A = ½·x_B = ½; P(conv) = ⅔·½ + ⅓·1 = ⅔.
    # Without A: P = ⅓·1 = ⅓ → RE_A = (⅔ − ⅓)/⅔ = ½. Without B: x_A = 0, P = 0 → RE_B = 1.
    # Σ RE = 3/2; 2 conversions → A = 2·½/(3/2) = ⅔, B = 4/3.
    report = markov_from_journeys([journey("A>B", "1"), journey("A"), journey("B", "1")], DEAL)
    assert report.conversion_probability == Fraction(2, 3)
    assert report.removal_effects == {"A": Fraction(1, 2), "B": Fraction(1)}
    assert report.exact == {"A": Fraction(2, 3), "B": Fraction(4, 3)}
    assert report.credits == {"A": money("0.666667"), "B": money("1.333333")}


def test_markov_three_channels_by_hand() -> None:
    # A>C>conv, B>C>null, A>B>conv.
    # start→A 2, start→B 1; A→C 1, A→B 1; B→C 1, B→conv 1; C→conv 1, C→null 1.
    # x_C = ½; x_B = ½·x_C + ½ = ¾; x_A = ½·x_C + ½·x_B = ⅝; P = ⅔·⅝ + ⅓·¾ = ⅔.
    # −A: P = ⅓·¾ = ¼ → RE_A = (⅔ − ¼)/⅔ = ⅝.
    # −B: x_A = ½·½ = ¼, P = ⅔·¼ = ⅙ → RE_B = (⅔ − ⅙)/⅔ = ¾.
    # −C: x_B = ½, x_A = ½·½ = ¼, P = ⅔·¼ + ⅓·½ = ⅓ → RE_C = ½.
    # Σ RE = 15/8; 2 conversions → A = 2·(5/8)/(15/8) = ⅔, B = 4/5, C = 8/15.
    report = markov_from_journeys([journey("A>C", "1"), journey("B>C"), journey("A>B", "1")], DEAL)
    assert report.removal_effects == {"A": Fraction(5, 8), "B": Fraction(3, 4), "C": Fraction(1, 2)}
    assert report.exact == {"A": Fraction(2, 3), "B": Fraction(4, 5), "C": Fraction(8, 15)}
    assert sum(report.credits.values()) == money("2")


def test_markov_credits_value_with_the_same_removal_effects() -> None:
    # Same chain as the two-channel case; values 100 and 200 → total 300 × (⅓, ⅔) = 100, 200.
    report = markov_from_journeys([journey("A>B", "100"), journey("A"), journey("B", "200")], REVENUE)
    assert report.credits == {"A": money("100.00"), "B": money("200.00")}
    assert report.total_value == money("300.00")


def test_markov_repeated_channel_does_not_change_absorption() -> None:
    # A>A>B>conv counts a self-loop A→A; absorption from A is unchanged, so it equals A>B>conv.
    looped = markov_from_journeys([journey("A>A>B", "1"), journey("A"), journey("B", "1")], DEAL)
    plain = markov_from_journeys([journey("A>B", "1"), journey("A"), journey("B", "1")], DEAL)
    assert looped.exact == plain.exact


def test_markov_from_data_includes_non_converting_people() -> None:
    # p1: A then B, deal created → converting journey A>B. p2: only A, never on a deal → A>null.
    # p3: only B, deal created → B>conv. This is the two-channel case above.
    people = [person("p1", at(0)), person("p2", at(0)), person("p3", at(0))]
    touches = [
        touch("1", "p1", at(1), "A"),
        touch("2", "p1", at(2), "B"),
        touch("3", "p2", at(1), "A"),
        touch("4", "p3", at(1), "B"),
    ]
    deals = [deal("d1", at(3)), deal("d3", at(3))]
    links = [link("d1", "p1"), link("d3", "p3")]
    report = markov(DEAL, people=people, touches=touches, deals=deals, deal_contacts=links)
    assert report.journeys == 3 and report.converting_journeys == 2
    assert report.exact == {"A": Fraction(2, 3), "B": Fraction(4, 3)}


def test_markov_without_conversions_credits_nothing() -> None:
    report = markov_from_journeys([journey("A"), journey("B>A")], DEAL)
    assert report.conversion_probability == 0
    assert report.credits == {"A": Decimal("0.000000"), "B": Decimal("0.000000")}


def test_shapley_two_channels_by_hand() -> None:
    # Journeys {A}: 100, {B}: 200, {A,B}: 300. v(A) = 100, v(B) = 200, v(AB) = 600.
    # φ_A = ½·(v(A) − 0) + ½·(v(AB) − v(B)) = 50 + 200 = 250; φ_B = ½·200 + ½·(600 − 100) = 350.
    report = shapley_from_journeys(
        [journey("A", "100"), journey("B", "200"), journey("A>B", "300"), journey("B>A")], REVENUE
    )
    assert report.exact == {"A": Fraction(250), "B": Fraction(350)}
    assert report.credits == {"A": money("250.00"), "B": money("350.00")}


def test_shapley_three_channels_by_hand() -> None:
    # {A}: 10, {A,B}: 20, {A,B,C}: 30 → v(A)=10, v(AB)=30, v(AC)=10, v(ABC)=60, others 0.
    # Weights for n = 3: |S| = 0 → ⅓, 1 → ⅙, 2 → ⅓.
    # φ_A = ⅓·10 + ⅙·(30 − 0) + ⅙·(10 − 0) + ⅓·(60 − 0) = 10/3 + 5 + 5/3 + 20 = 30
    # φ_B = ⅓·0 + ⅙·(30 − 10) + ⅙·0 + ⅓·(60 − 10) = 10/3 + 50/3 = 20
    # φ_C = ⅓·(60 − 30) = 10
    report = shapley_from_journeys(
        [journey("A", "10"), journey("A>B", "20"), journey("C>B>A>B", "30")], REVENUE
    )
    assert report.exact == {"A": Fraction(30), "B": Fraction(20), "C": Fraction(10)}
    assert sum(report.credits.values()) == money("60.00")


def test_shapley_counts_conversions_with_thirds() -> None:
    # One conversion over {A, B, C}: a third each of one deal.
    report = shapley_from_journeys([journey("A>B>C", "1")], DEAL)
    assert report.exact == {c: Fraction(1, 3) for c in "ABC"}
    assert report.credits == {"A": money("0.333334"), "B": money("0.333333"), "C": money("0.333333")}


def test_shapley_refuses_more_than_fifteen_channels() -> None:
    channels = [f"ch{i:02d}" for i in range(16)]
    with pytest.raises(TooManyChannelsError) as err:
        shapley_from_journeys([Journey(tuple(channels), True, Decimal(1))], DEAL)
    assert "at most 15 channels" in str(err.value) and "16" in str(err.value)


def test_shapley_is_exact_at_fifteen_channels() -> None:
    channels = tuple(f"ch{i:02d}" for i in range(15))
    report = shapley_from_journeys([Journey(channels, True, Decimal("15.00"))], REVENUE)
    assert set(report.exact.values()) == {Fraction(1)}


def test_data_driven_reports_list_conversions_without_touches() -> None:
    report = shapley(
        DEAL,
        people=[person("p", at(0))],
        touches=[],
        deals=[deal("d", at(1))],
        deal_contacts=[link("d", "p")],
    )
    assert report.unattributed == ("d",) and report.unattributed_value == Decimal(1)
    assert report.credits == {}


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.lists(st.sampled_from("ABCDE"), min_size=1, max_size=6), st.booleans()),
        min_size=1,
        max_size=12,
    )
)
def test_markov_removal_effects_match_a_full_solve_per_removed_channel(
    raw: list[tuple[list[str], bool]],
) -> None:
    # The report derives every P_without_c from one inversion; the definition re-solves the chain
    # with c's transitions sent to null. Both must agree exactly.
    journeys = [Journey(tuple(path), converted, Decimal(1 if converted else 0)) for path, converted in raw]
    report = markov_from_journeys(journeys, DEAL)
    chain = _Chain(journeys)
    p = chain.conversion_probability()
    assert report.conversion_probability == p
    for i, channel in enumerate(chain.channels):
        expected = (p - chain.conversion_probability(i)) / p if p else 0
        assert report.removal_effects is not None
        assert report.removal_effects[channel] == expected
