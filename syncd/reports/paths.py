"""Conversion paths: the touches that lead to each conversion, with their key points FT/LC/OC/CW.

Touches are grouped per person and sorted once (`TouchIndex`); every later path is a slice or a
merge of those sorted lists, so building all paths is linear in the number of touches.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from operator import attrgetter

from syncd.reports.errors import ReportError
from syncd.reports.types import ConversionType, Deal, DealContact, Period, Person, Touch

_ONE = Decimal(1)


def touch_order(touch: Touch) -> tuple[datetime, str, str]:
    """Ties in time are ordered by (timestamp, source system, touch id) so results are deterministic."""
    return (touch.occurred_at, touch.source_system, touch.touch_id)


# The same key as touch_order, built in C: sorting a million touches is the index's main cost.
_ORDER_KEY = attrgetter("occurred_at", "source_system", "touch_id")
_TIME_KEY = attrgetter("occurred_at")


# Email opens are not touches unless configured: privacy proxies open every email automatically.
# Stored for the record (and for Tasks), but not interactions of the person: never touches in a report.
NOT_INTERACTIONS: frozenset[str] = frozenset({"email_send", "email_delivered", "email_bounce", "unsubscribe"})
# Calls, meetings, notes and 1:1 emails reps logged in HubSpot: touches only when asked (closed-loop.md).
SALES_TOUCH_KINDS: frozenset[str] = frozenset({"call", "meeting", "note", "sales_email"})
# Email opens count only when asked: privacy proxies open every email they receive.
DEFAULT_EXCLUDED_KINDS: frozenset[str] = NOT_INTERACTIONS | SALES_TOUCH_KINDS | {"email_open"}


def excluded_kinds(*, count_email_opens: bool = False, count_sales_touches: bool = False) -> frozenset[str]:
    """The touch kinds a report leaves out."""
    excluded = set(DEFAULT_EXCLUDED_KINDS)
    if count_email_opens:
        excluded.discard("email_open")
    if count_sales_touches:
        excluded -= SALES_TOUCH_KINDS
    return frozenset(excluded)


class TouchIndex:
    """Touches grouped by person and sorted once; build it once and pass it to every report.

    Touches whose kind is in `exclude_kinds` (case-insensitive) are left out of every path.
    """

    def __init__(
        self, touches: Iterable[Touch], *, exclude_kinds: frozenset[str] = DEFAULT_EXCLUDED_KINDS
    ) -> None:
        excluded = {k.casefold() for k in exclude_kinds}
        kind_excluded: dict[str, bool] = {}  # few distinct kinds: casefold each once
        grouped: dict[str, list[Touch]] = {}
        for touch in touches:
            if excluded:
                skip = kind_excluded.get(touch.kind)
                if skip is None:
                    skip = kind_excluded[touch.kind] = touch.kind.casefold() in excluded
                if skip:
                    continue
            grouped.setdefault(touch.person_id, []).append(touch)
        for items in grouped.values():
            items.sort(key=_ORDER_KEY)
        self._touches = grouped

    def person_ids(self) -> Iterable[str]:
        return self._touches.keys()

    def of(self, person_id: str) -> list[Touch]:
        """All touches of one person in path order (empty when none)."""
        return self._touches.get(person_id, [])

    def first_until(self, person_id: str, instant: datetime) -> Touch | None:
        """The person's first touch if it happened at or before `instant`."""
        items = self._touches.get(person_id)
        if not items or items[0].occurred_at > instant:
            return None
        return items[0]

    def until(self, person_id: str, instant: datetime, since: datetime | None = None) -> list[Touch]:
        """The person's touches at or before `instant` (and at or after `since`), in path order."""
        items = self._touches.get(person_id)
        if not items:
            return []
        end = bisect_right(items, instant, key=_TIME_KEY)
        start = bisect_left(items, since, key=_TIME_KEY) if since is not None else 0
        return items[start:end]


def as_index(touches: Sequence[Touch] | TouchIndex) -> TouchIndex:
    """Accept either raw touches (indexed with the default exclusions) or a prebuilt index."""
    return touches if isinstance(touches, TouchIndex) else TouchIndex(touches)


@dataclass(frozen=True, slots=True)
class KeyPoints:
    """Indexes into a path of the key touches; None when the conversion type or the data lacks the point."""

    ft: int | None
    lc: int | None
    oc: int | None
    cw: int | None


@dataclass(frozen=True, slots=True)
class Conversion:
    """One conversion with its path (touches in order, none after the conversion instant)."""

    conversion_id: str  # person_id for contact_create, deal_id otherwise
    type: ConversionType
    instant: datetime
    value: Decimal
    path: tuple[Touch, ...]
    key_points: KeyPoints
    person_ids: tuple[str, ...]


def _last_at_or_before(path: Sequence[Touch], instant: datetime | None) -> int | None:
    if instant is None or not path:
        return None
    idx = bisect_right(path, instant, key=_TIME_KEY) - 1
    return idx if idx >= 0 else None


def _window_start(instant: datetime, lookback_days: int | None) -> datetime | None:
    if lookback_days is None:
        return None
    if lookback_days < 0:
        raise ReportError(
            f"lookback_days must be 0 or more, got {lookback_days}", hint="omit it for no limit"
        )
    return instant - timedelta(days=lookback_days)


def deal_contacts_by_deal(deal_contacts: Iterable[DealContact]) -> dict[str, tuple[str, ...]]:
    """Person ids per deal, deduplicated, in a stable (sorted) order."""
    grouped: dict[str, set[str]] = {}
    for link in deal_contacts:
        grouped.setdefault(link.deal_id, set()).add(link.person_id)
    return {deal_id: tuple(sorted(ids)) for deal_id, ids in grouped.items()}


def build_conversions(
    conversion_type: ConversionType,
    *,
    people: Sequence[Person],
    touches: Sequence[Touch] | TouchIndex,
    deals: Sequence[Deal] = (),
    deal_contacts: Sequence[DealContact] = (),
    lookback_days: int | None = None,
    period: Period | None = None,
) -> list[Conversion]:
    """Every conversion of the given type (in the period, by conversion instant) with its path.

    contact_create: one per person at `created_at`; deal_create: one per deal at `created_at`;
    revenue: one per won deal with a close date, at `closed_at`, valued at its amount (None → 0).
    Deal paths pool the touches of every contact on the deal.
    """
    index = as_index(touches)
    conversions: list[Conversion] = []
    if conversion_type is ConversionType.CONTACT_CREATE:
        for person in people:
            if period is not None and not period.contains(person.created_at):
                continue
            path = index.until(
                person.person_id, person.created_at, _window_start(person.created_at, lookback_days)
            )
            last = len(path) - 1 if path else None
            conversions.append(
                Conversion(
                    conversion_id=person.person_id,
                    type=conversion_type,
                    instant=person.created_at,
                    value=_ONE,
                    path=tuple(path),
                    key_points=KeyPoints(ft=0 if path else None, lc=last, oc=None, cw=None),
                    person_ids=(person.person_id,),
                )
            )
        return conversions

    created = {p.person_id: p.created_at for p in people}
    contacts = deal_contacts_by_deal(deal_contacts)
    for deal in deals:
        if conversion_type is ConversionType.REVENUE:
            if not deal.is_won or deal.closed_at is None:
                continue
            instant = deal.closed_at
            value = deal.amount if deal.amount is not None else Decimal(0)
        else:
            instant = deal.created_at
            value = _ONE
        if period is not None and not period.contains(instant):
            continue
        person_ids = contacts.get(deal.deal_id, ())
        since = _window_start(instant, lookback_days)
        per_person = [index.until(pid, instant, since) for pid in person_ids]
        per_person = [p for p in per_person if p]
        path = per_person[0] if len(per_person) == 1 else list(heapq.merge(*per_person, key=_ORDER_KEY))
        creations = [created[pid] for pid in person_ids if pid in created]
        lead_created = min(creations) if creations else None
        last = len(path) - 1 if path else None
        if conversion_type is ConversionType.REVENUE:
            points = KeyPoints(
                ft=0 if path else None,
                lc=_last_at_or_before(path, lead_created),
                oc=_last_at_or_before(path, deal.created_at),
                cw=last,
            )
        else:
            points = KeyPoints(
                ft=0 if path else None, lc=_last_at_or_before(path, lead_created), oc=last, cw=None
            )
        conversions.append(
            Conversion(
                conversion_id=deal.deal_id,
                type=conversion_type,
                instant=instant,
                value=value,
                path=tuple(path),
                key_points=points,
                person_ids=person_ids,
            )
        )
    return conversions


@dataclass(frozen=True, slots=True)
class Journey:
    """A sequence of channels that ended in a conversion (with its value) or in nothing."""

    channels: tuple[str, ...]
    converted: bool
    value: Decimal


def build_journeys(
    conversion_type: ConversionType,
    *,
    people: Sequence[Person],
    touches: Sequence[Touch] | TouchIndex,
    deals: Sequence[Deal] = (),
    deal_contacts: Sequence[DealContact] = (),
    lookback_days: int | None = None,
    period: Period | None = None,
) -> tuple[list[Journey], list[Conversion]]:
    """Journeys for the data-driven models, plus the conversions that had no touch at all.

    Converting journeys are the conversions' paths. Every person who is not part of a conversion
    gives one non-converting journey: all their touches (those dated in the period, when one is given).
    """
    index = as_index(touches)
    conversions = build_conversions(
        conversion_type,
        people=people,
        touches=index,
        deals=deals,
        deal_contacts=deal_contacts,
        lookback_days=lookback_days,
        period=period,
    )
    journeys: list[Journey] = []
    unattributed: list[Conversion] = []
    converted_people: set[str] = set()
    for conversion in conversions:
        converted_people.update(conversion.person_ids)
        if conversion.path:
            journeys.append(Journey(tuple(t.channel for t in conversion.path), True, conversion.value))
        else:
            unattributed.append(conversion)
    for person_id in sorted(index.person_ids()):
        if person_id in converted_people:
            continue
        path = index.of(person_id)
        if period is not None:
            path = [t for t in path if period.contains(t.occurred_at)]
        if path:
            journeys.append(Journey(tuple(t.channel for t in path), False, Decimal(0)))
    return journeys, unattributed
