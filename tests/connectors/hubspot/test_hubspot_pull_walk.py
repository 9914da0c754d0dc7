"""The pull walk: keyset search pages, ties at one instant, resume cursors, backfill and archived listings."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from connectors.hubspot.objects import CONTACTS
from connectors.hubspot.pulling import (
    BACKFILL_MARK,
    archived_pages,
    backfill_pages,
    is_backfill_cursor,
    search_pages,
)
from connectors.hubspot.records import epoch_ms
from syncd.connector import Cursor, Page
from syncd.errors import FatalError

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def contact(record_id: int, ms: int) -> dict[str, Any]:
    stamp = (T0 + timedelta(milliseconds=ms)).isoformat().replace("+00:00", "Z")
    return {
        "id": str(record_id),
        "properties": {"email": f"p{record_id}@x.com", "lastmodifieddate": stamp, "createdate": stamp},
        "archived": False,
    }


class FakeSearch:
    """HubSpot search over a list: filter groups, one sort, limit; ties in random order (none promised)."""

    def __init__(self, records: Sequence[dict[str, Any]], seed: int = 1) -> None:
        self.records = list(records)
        self.rng = random.Random(seed)
        self.bodies: list[Mapping[str, Any]] = []

    @staticmethod
    def _value(record: Mapping[str, Any], name: str) -> int:
        if name == "hs_object_id":
            return int(record["id"])
        stamp = datetime.fromisoformat(record["properties"][name].replace("Z", "+00:00"))
        return epoch_ms(stamp)

    def __call__(self, body: Mapping[str, Any]) -> list[dict[str, Any]]:
        self.bodies.append(body)
        assert "after" not in body, "the walk must never page by offset"
        assert body["limit"] <= 200
        ops = {"GT": int.__gt__, "GTE": int.__ge__, "EQ": int.__eq__}
        # Groups are OR-ed, the filters of a group AND-ed.
        matches = [
            r
            for r in self.records
            if any(
                all(
                    ops[f["operator"]](self._value(r, f["propertyName"]), int(f["value"]))
                    for f in group["filters"]
                )
                for group in body["filterGroups"]
            )
        ]
        (sort,) = body["sorts"]
        self.rng.shuffle(matches)
        matches.sort(key=lambda r: self._value(r, sort["propertyName"]))
        return matches[: body["limit"]]


def walk(
    records: Sequence[dict[str, Any]], since: Cursor, page_size: int = 10
) -> tuple[list[Page], FakeSearch]:
    search = FakeSearch(records)
    return list(search_pages(CONTACTS, since, ["email"], search, page_size=page_size)), search


def ids(pages: Sequence[Page]) -> list[str]:
    return [r.id for p in pages for r in p.records]


def assert_pages_are_ordered_with_exact_cursors(pages: Sequence[Page]) -> None:
    flat = [r for p in pages for r in p.records]
    keys = [(r.modified_at, int(r.id)) for r in flat]
    assert keys == sorted(keys)
    for page in pages:
        last = page.records[-1]
        assert page.cursor == Cursor(modified_at=last.modified_at, last_id=last.id)


@pytest.mark.parametrize(
    ("name", "stamps"),
    [
        ("distinct instants", list(range(0, 95_000, 1000))),
        ("pairs share an instant", [i // 2 * 1000 for i in range(95)]),
        ("page-sized tie", [0] * 10 + list(range(1000, 50_000, 1000))),
        ("tie larger than several pages", [5] * 37 + [7] * 3 + list(range(10, 30))),
        ("everything at one instant", [42] * 55),
        ("an exact multiple of the page size", list(range(40))),
    ],
)
def test_every_record_once_in_order_whatever_the_ties(name: str, stamps: list[int]) -> None:
    records = [contact(1000 + i, ms) for i, ms in enumerate(stamps)]
    rng = random.Random(name)
    rng.shuffle(records)
    pages, _ = walk(records, Cursor(T0 - timedelta(days=1)))
    assert sorted(ids(pages), key=int) == sorted((r["id"] for r in records), key=int)
    assert len(ids(pages)) == len(records)
    assert_pages_are_ordered_with_exact_cursors(pages)


def test_since_is_inclusive() -> None:
    records = [contact(1, 0), contact(2, 1000), contact(3, 2000)]
    pages, _ = walk(records, Cursor(T0 + timedelta(milliseconds=1000)))
    assert ids(pages) == ["2", "3"]


@pytest.mark.parametrize("page_index", [0, 1, 2, 3])
def test_resuming_from_any_page_cursor_continues_without_loss_or_repeat(page_index: int) -> None:
    records = [contact(100 + i, (i // 3) * 10) for i in range(60)]  # threes share an instant
    pages, _ = walk(records, Cursor(T0 - timedelta(days=1)), page_size=8)
    seen = ids(pages[: page_index + 1])
    resumed, _ = walk(records, pages[page_index].cursor, page_size=8)
    assert seen + ids(resumed) == ids(pages)


def test_a_quiet_resume_from_a_cursor_inside_an_instant_costs_one_query() -> None:
    records = [contact(100, 0), contact(101, 0), contact(102, 0), contact(103, 10), contact(104, 20)]
    resumed, search = walk(records, Cursor(T0, last_id="101"), page_size=10)
    assert ids(resumed) == ["102", "103", "104"]
    assert len(search.bodies) == 1, "the rest of the instant and what follows, in one search"


def test_an_idle_resume_costs_one_query_and_reads_nothing() -> None:
    records = [contact(100, 0), contact(101, 0)]
    resumed, search = walk(records, Cursor(T0, last_id="101"), page_size=10)
    assert ids(resumed) == [] and len(search.bodies) == 1


def test_a_full_response_at_one_instant_is_walked_by_id() -> None:
    records = [contact(500 + i, 0) for i in range(25)] + [contact(600, 10)]
    pages, search = walk(records, Cursor(T0 - timedelta(days=1)), page_size=10)
    assert ids(pages) == [str(500 + i) for i in range(25)] + ["600"]
    tie_queries = [b for b in search.bodies if b["sorts"][0]["propertyName"] == "hs_object_id"]
    assert tie_queries, "the instant is walked with hs_object_id as the tie-break"


def test_queries_never_approach_the_result_ceiling() -> None:
    records = [contact(i, i * 7) for i in range(2_500)]
    pages, search = walk(records, Cursor(T0 - timedelta(days=1)), page_size=200)
    assert len(ids(pages)) == 2_500
    assert all("after" not in body for body in search.bodies)


def test_a_search_answer_outside_the_filter_stops_the_pull() -> None:
    def broken(body: Mapping[str, Any]) -> list[dict[str, Any]]:
        return [contact(1, 0)] * 10

    with pytest.raises(FatalError):
        list(search_pages(CONTACTS, Cursor(T0 + timedelta(days=1)), [], broken, page_size=10))


class FakeListing:
    """The list endpoint: id order, an opaque `after`, pages of `limit`."""

    def __init__(self, records: Sequence[dict[str, Any]], limit: int) -> None:
        self.records = sorted(records, key=lambda r: int(r["id"]))
        self.limit = limit
        self.calls: list[str | None] = []

    def __call__(self, after: str | None) -> tuple[list[dict[str, Any]], str | None]:
        self.calls.append(after)
        start = (
            0 if after is None else next(i for i, r in enumerate(self.records) if int(r["id"]) >= int(after))
        )
        chunk = self.records[start : start + self.limit]
        rest = self.records[start + self.limit :]
        return chunk, (rest[0]["id"] if rest else None)


def test_backfill_lists_everything_and_ends_at_the_earlier_of_start_and_newest_change() -> None:
    records = [contact(i, i * 1000) for i in range(1, 26)]
    started = T0 + timedelta(hours=1)
    pages = list(backfill_pages(CONTACTS, FakeListing(records, 10), started=started))
    assert [len(p.records) for p in pages] == [10, 10, 5]
    assert all(is_backfill_cursor(p.cursor) for p in pages[:-1])
    assert pages[0].cursor == Cursor(modified_at=started, last_id=BACKFILL_MARK + "11")
    newest = T0 + timedelta(seconds=25)
    assert pages[-1].cursor == Cursor(modified_at=newest, last_id=None)


def test_backfill_cursor_never_passes_its_start_instant() -> None:
    records = [contact(1, 0), contact(2, 10 * 3_600_000)]  # modified ten hours after the start
    started = T0 + timedelta(hours=1)
    (page,) = list(backfill_pages(CONTACTS, FakeListing(records, 10), started=started))
    assert page.cursor.modified_at == started


def test_backfill_ends_with_the_page_that_reaches_its_last_id() -> None:
    records = [contact(i, i * 1000) for i in range(1, 46)]
    listing = FakeListing(records, 10)
    pages = list(backfill_pages(CONTACTS, listing, started=T0 + timedelta(hours=1), last_id="23"))
    assert ids(pages) == [str(i) for i in range(1, 31)]  # pages of 10 up to the one holding 23
    assert pages[-1].cursor == Cursor(modified_at=T0 + timedelta(seconds=30), last_id=None)
    assert all(is_backfill_cursor(p.cursor) for p in pages[:-1])


def test_backfill_resumes_from_its_cursor() -> None:
    records = [contact(i, i) for i in range(1, 26)]
    listing = FakeListing(records, 10)
    first = next(iter(backfill_pages(CONTACTS, listing, started=T0)))
    assert first.cursor.last_id is not None
    rest = list(
        backfill_pages(
            CONTACTS,
            listing,
            started=first.cursor.modified_at,
            after=first.cursor.last_id[len(BACKFILL_MARK) :],
        )
    )
    assert ids([first, *rest]) == [str(i) for i in range(1, 26)]


def test_archived_listing_yields_deletions_since_and_moves_the_cursor_only_at_the_end() -> None:
    def archived(record_id: int, ms: int) -> dict[str, Any]:
        raw = contact(record_id, 0)
        raw["archived"] = True
        raw["archivedAt"] = (T0 + timedelta(milliseconds=ms)).isoformat().replace("+00:00", "Z")
        return raw

    records = [archived(i, (30 - i) * 1000) for i in range(1, 30)]
    since = T0 + timedelta(seconds=5)
    pages = list(archived_pages(CONTACTS, FakeListing(records, 10), since=since))
    got = [r for p in pages for r in p.records]
    assert all(r.deleted for r in got)
    assert sorted(int(r.id) for r in got) == list(range(1, 26))  # archived at 5 s or later
    assert all(p.cursor.modified_at == since for p in pages[:-1])
    assert pages[-1].cursor.modified_at == T0 + timedelta(seconds=29)
