"""How a HubSpot pull walks records into resumable pages: keyset search, backfill listing, archived listing.

Pure: the HTTP calls come in as functions, so the walk is tested against fakes and the simulator alike.

Incremental pulls use search sorted by the modified property, but never page with `after`: every page
is a fresh query from the last timestamp seen (a keyset), which keeps each query far below HubSpot's
10,000-result ceiling and, unlike offsets, cannot skip a record when others are modified mid-pull.
A page holds only complete timestamps: the records at the response's newest instant are held back and
re-read by the next query, so a page's cursor (newest instant, highest id at it) is exact. When one instant
holds a whole response, that instant is walked by `hs_object_id` (the tie-break) before moving on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from connectors.hubspot.objects import ObjectSpec
from connectors.hubspot.records import epoch_ms, id_key, to_record
from syncd.connector import Cursor, Page, RemoteRecord
from syncd.errors import FatalError

# Backfill pages resume a listing, not a search: their cursor carries the listing position in `last_id`
# and the backfill's start instant in `modified_at`. Stored and handed back unchanged, it resumes there.
BACKFILL_MARK = "backfill:"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Search = Callable[[Mapping[str, Any]], Sequence[Mapping[str, Any]]]
ListPage = Callable[[str | None], tuple[Sequence[Mapping[str, Any]], str | None]]


def _sort_key(record: RemoteRecord) -> tuple[datetime, tuple[int, str]]:
    return (record.modified_at, id_key(record.id))


def make_page(records: Sequence[RemoteRecord]) -> Page:
    """Records ordered by (modified_at, id), with the cursor of the last one."""
    ordered = tuple(sorted(records, key=_sort_key))
    last = ordered[-1]
    return Page(records=ordered, cursor=Cursor(modified_at=last.modified_at, last_id=last.id))


def is_backfill_cursor(cursor: Cursor | None) -> bool:
    return cursor is not None and cursor.last_id is not None and cursor.last_id.startswith(BACKFILL_MARK)


def _within(record: RemoteRecord, lower: int, strict: bool) -> bool:
    ms = epoch_ms(record.modified_at)
    return ms > lower or (not strict and ms == lower)


def search_pages(
    spec: ObjectSpec,
    since: Cursor,
    properties: Sequence[str],
    search: Search,
    *,
    page_size: int,
) -> Iterator[Page]:
    """Records modified at or after `since` (skipping its instant up to `since.last_id`), oldest first."""
    modified = spec.modified_property
    lower = epoch_ms(since.modified_at)
    strict = False
    if since.last_id is not None:
        # The common case, an idle or quiet cycle, in ONE query: the rest of the cursor's instant OR
        # what came after it. Only a full answer could have split an instant between pages in an
        # unknown order; then the exact walk below runs instead (one extra call on a busy pull).
        rest = _rest_of_instant_and_after(spec, lower, since.last_id, properties, search, page_size=page_size)
        if rest is not None:
            if rest:
                yield make_page(rest)
            return
        yield from _instant_pages(spec, lower, since.last_id, properties, search, page_size=page_size)
        strict = True
    while True:
        body = {
            "filterGroups": [
                {
                    "filters": [
                        {"propertyName": modified, "operator": "GT" if strict else "GTE", "value": str(lower)}
                    ]
                }
            ],
            "sorts": [{"propertyName": modified, "direction": "ASCENDING"}],
            "properties": list(properties),
            "limit": page_size,
        }
        results = search(body)
        records = [to_record(spec, raw) for raw in results]
        # Defensive: a record outside the filter would break the keyset's progress guarantee.
        outside = [r.id for r in records if not _within(r, lower, strict)]
        if outside:
            raise FatalError(
                f"HubSpot search returned {len(outside)} {spec.name} outside the requested time range",
                hint="report it with the log line; the pull stops rather than risk skipping records",
            )
        if len(results) < page_size:
            if records:
                yield make_page(records)
            return
        top = max(epoch_ms(r.modified_at) for r in records)
        complete = [r for r in records if epoch_ms(r.modified_at) < top]
        if complete:
            yield make_page(complete)
            lower, strict = top, False
        else:
            # A whole response at one instant: walk it by id, then continue strictly after it.
            yield from _instant_pages(spec, top, None, properties, search, page_size=page_size)
            lower, strict = top, True


def _rest_of_instant_and_after(
    spec: ObjectSpec,
    instant_ms: int,
    after_id: str,
    properties: Sequence[str],
    search: Search,
    *,
    page_size: int,
) -> list[RemoteRecord] | None:
    """Records at `instant_ms` with an id above `after_id`, and every later one, when they fit in one
    answer; None when the answer is full (the caller then walks them exactly)."""
    modified = spec.modified_property
    body = {
        "filterGroups": [
            {
                "filters": [
                    {"propertyName": modified, "operator": "EQ", "value": str(instant_ms)},
                    {"propertyName": "hs_object_id", "operator": "GT", "value": after_id},
                ]
            },
            {"filters": [{"propertyName": modified, "operator": "GT", "value": str(instant_ms)}]},
        ],
        "sorts": [{"propertyName": modified, "direction": "ASCENDING"}],
        "properties": list(properties),
        "limit": page_size,
    }
    results = search(body)
    if len(results) >= page_size:
        return None
    floor = id_key(after_id)
    records = [to_record(spec, raw) for raw in results]
    outside = [
        r.id
        for r in records
        if not (
            _within(r, instant_ms, True) or (epoch_ms(r.modified_at) == instant_ms and id_key(r.id) > floor)
        )
    ]
    if outside:
        raise FatalError(
            f"HubSpot search returned {len(outside)} {spec.name} outside the requested range",
            hint="report it with the log line; the pull stops rather than risk skipping records",
        )
    return records


def _instant_pages(
    spec: ObjectSpec,
    instant_ms: int,
    after_id: str | None,
    properties: Sequence[str],
    search: Search,
    *,
    page_size: int,
) -> Iterator[Page]:
    """Every record modified exactly at `instant_ms` with an id above `after_id`, by id."""
    while True:
        filters: list[dict[str, str]] = [
            {"propertyName": spec.modified_property, "operator": "EQ", "value": str(instant_ms)}
        ]
        if after_id is not None:
            filters.append({"propertyName": "hs_object_id", "operator": "GT", "value": after_id})
        body = {
            "filterGroups": [{"filters": filters}],
            "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}],
            "properties": list(properties),
            "limit": page_size,
        }
        results = search(body)
        records = [to_record(spec, raw) for raw in results]
        if after_id is not None:
            floor = id_key(after_id)
            records = [r for r in records if id_key(r.id) > floor]
        if not records:
            return
        page = make_page(records)
        yield page
        if len(results) < page_size:
            return
        after_id = page.records[-1].id


def backfill_pages(
    spec: ObjectSpec,
    list_page: ListPage,
    *,
    started: datetime,
    after: str | None = None,
    last_id: str | None = None,
) -> Iterator[Page]:
    """Every live record through the list endpoint (no result ceiling), in id order.

    Records modified while the backfill runs may be listed in their earlier state; their modification is
    at or after `started` (the backfill's start instant minus a clock-skew margin), so the final page's
    cursor is `min(started, newest modification listed)` and the next incremental pull picks them up.
    Earlier pages carry `started` and the listing position, which `pull` resumes from.

    `last_id`, when given, ends the listing at the page that reaches it: the highest id of a record
    created before `started`. Records above it were created later (by the run that opened the
    backfill, mostly: echoes of its own creates), so the next incremental pull, which starts at or
    before `started`, reads them — a real concurrent create is read one cycle later, never lost.
    """
    newest: datetime | None = None
    stop_at = id_key(last_id) if last_id is not None else None
    while True:
        results, next_after = list_page(after)
        records = tuple(to_record(spec, raw) for raw in results)
        for record in records:
            if newest is None or record.modified_at > newest:
                newest = record.modified_at
        if stop_at is not None and any(id_key(r.id) >= stop_at for r in records):
            next_after = None
        if next_after is None:
            final = started if newest is None else min(started, newest)
            yield Page(records=records, cursor=Cursor(modified_at=final, last_id=None))
            return
        yield Page(records=records, cursor=Cursor(modified_at=started, last_id=BACKFILL_MARK + next_after))
        after = next_after


def archived_pages(
    spec: ObjectSpec,
    list_archived: ListPage,
    *,
    since: datetime | None,
) -> Iterator[Page]:
    """Records archived at or after `since`, as deletions. The listing is in id order, not archive order,
    so only the last page moves the cursor (to the newest archive time seen); earlier pages keep `since`."""
    floor = since or EPOCH
    newest = floor
    after: str | None = None
    while True:
        results, next_after = list_archived(after)
        records = tuple(
            r for r in (to_record(spec, raw, deleted=True) for raw in results) if r.modified_at >= floor
        )
        for record in records:
            newest = max(newest, record.modified_at)
        if next_after is None:
            yield Page(records=records, cursor=Cursor(modified_at=newest, last_id=None))
            return
        if records:
            yield Page(records=records, cursor=Cursor(modified_at=floor, last_id=None))
        after = next_after
