"""Stage visits: echoes and repeats collapse, replays add nothing, a closed deal closed when it entered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from syncd.core.deal_stages import StageEntry, closed_at, entries_after, new_visits

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def e(minutes: int, stage: str, system: str = "salesforce") -> StageEntry:
    return StageEntry(at(minutes), stage, system)


@pytest.mark.parametrize(
    ("stored", "observed", "kept"),
    [
        # A first sight keeps every change of stage.
        ([], [e(0, "A"), e(5, "B"), e(9, "C")], [e(0, "A"), e(5, "B"), e(9, "C")]),
        # The other system entering the stage syncd carried across is no new visit.
        ([e(0, "A"), e(5, "B", "hubspot")], [e(6, "B")], []),
        # An amount change repeats the stage in Salesforce's history: no new visit either.
        ([e(0, "A")], [e(3, "A"), e(4, "B")], [e(4, "B")]),
        # Back to an earlier stage is a visit of its own.
        ([e(0, "A"), e(5, "B")], [e(8, "A")], [e(8, "A")]),
        # An entry older than what is stored is placed in time, not at the end.
        ([e(0, "A"), e(9, "C")], [e(4, "B")], [e(4, "B")]),
    ],
)
def test_new_visits(stored: list[StageEntry], observed: list[StageEntry], kept: list[StageEntry]) -> None:
    assert new_visits(stored, observed) == kept


def test_observing_the_same_entries_again_adds_nothing() -> None:
    first = new_visits([], [e(0, "A"), e(5, "B")])
    assert new_visits(first, [e(0, "A"), e(5, "B")]) == []


def test_entries_of_one_instant_keep_the_order_the_system_gave() -> None:
    # Created and won within the same second: Salesforce's history order decides.
    assert new_visits([], [e(0, "Prospecting"), e(0, "Closed Won")]) == [
        e(0, "Prospecting"),
        e(0, "Closed Won"),
    ]
    assert new_visits([e(0, "Prospecting")], [e(0, "Closed Won")]) == [e(0, "Closed Won")]


def test_a_closed_deal_closed_when_its_stage_was_last_entered() -> None:
    history = [e(0, "Open"), e(5, "Closed Won"), e(7, "Open"), e(9, "Closed Won")]
    assert closed_at(history, "Closed Won", True) == at(9)
    assert closed_at(history, "Open", False) is None
    assert closed_at(history, "Closed Lost", True) is None


def test_entries_after_an_instant() -> None:
    assert entries_after([e(9, "C"), e(0, "A")], at(0)) == [e(9, "C")]
    assert entries_after([e(9, "C"), e(0, "A")], None) == [e(0, "A"), e(9, "C")]
