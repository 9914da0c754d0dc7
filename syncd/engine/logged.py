"""HubSpot-logged calls, meetings and notes as marketing touches, found without idle HubSpot calls.

Reps who work in HubSpot log calls, meetings and notes there. The engagements flow turns each into a
touch (kind call, meeting or note; a configured channel) and, through its Task leg, a Salesforce Task
on the person's Lead or Contact. Discovering them costs nothing on an idle cycle:

- HubSpot updates a contact's activity summary (`notes_last_updated`, the last activity date, and
  `num_notes`) when an engagement is logged on it, which moves the contact's `lastmodifieddate`. The
  engagements flow already reads the contacts modified since its last web read; this module gets that
  list, with the two summary properties, and looks only at contacts whose summary moved since it last
  looked (the summary seen is kept per contact beside the flow's cursors).
- For those: one associations v4 batch read per engagement object and 1,000 contacts, then one batch
  read per 100 engagements it does not know yet.
- The first run lists every engagement once instead (resumable page by page), with their contacts.

Engagements syncd wrote itself (they carry `syncd_source_id`) are never touches. One engagement on
several contacts is one touch per person (its id is `object:engagement:contact`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import Engine, select

from syncd.activities import SOURCE_ID_PROPERTY, is_syncd_engagement
from syncd.connector import Cursor, Owner, Page, RemoteRecord
from syncd.deals import Association
from syncd.engine.state import CursorMove, chunks
from syncd.engine.touch_store import TouchStore
from syncd.events import TouchEvent
from syncd.store.models import ActivityEngagement, Touch, table_of

log = logging.getLogger(__name__)

HUBSPOT = "hubspot"
LOGGED_FEED = "logged"
# HubSpot engagement object → touch kind.
LOGGED_KINDS: Mapping[str, str] = {
    "calls": "call",
    "meetings": "meeting",
    "notes": "note",
    "emails": "sales_email",
}
# The contact properties HubSpot moves when an engagement is logged on the contact.
SIGNAL_PROPERTIES = ("notes_last_updated", "num_notes")
SCAN_DONE = "logged_scan"
BACKFILL_PREFIX = "logged_backfill:"
SIGNATURE_PREFIX = "logged:"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_PROPERTIES: Mapping[str, tuple[str, ...]] = {
    "calls": (
        "hs_call_title",
        "hs_call_body",
        "hs_call_duration",
        "hs_call_direction",
        "hs_call_disposition",
    ),
    "meetings": ("hs_meeting_title", "hs_meeting_body", "hs_meeting_outcome", "hs_meeting_end_time"),
    "notes": ("hs_note_body",),
    "emails": ("hs_email_subject", "hs_email_text", "hs_email_direction"),
}
_COMMON = ("hs_timestamp", "hubspot_owner_id", SOURCE_ID_PROPERTY)


_LINKS = table_of(ActivityEngagement)
_TOUCHES = table_of(Touch)


class LoggedSource(Protocol):
    """What discovery needs from HubSpot (the HubSpot connector implements it)."""

    def pull(self, object: str, since: Cursor | None, fields: Sequence[str]) -> Iterator[Page]: ...

    def fetch(self, object: str, keys: Sequence[str], fields: Sequence[str]) -> list[RemoteRecord]: ...

    def associations(self, from_object: str, to_object: str, ids: Sequence[str]) -> list[Association]: ...

    def owners(self) -> list[Owner]: ...


@dataclass(frozen=True)
class LoggedSettings:
    """Which engagement objects become touches, and the channel their touches get."""

    objects: tuple[str, ...] = ("meetings", "calls", "notes")
    channel: str = "sales"
    contacts_per_read: int = 1_000


def logged_touch(event: TouchEvent) -> tuple[str, str] | None:
    """(kind, channel) of a logged engagement's event (the channel travels with the event)."""
    kind = LOGGED_KINDS.get(event.type)
    channel = event.properties.get("channel")
    return (kind, str(channel)) if kind and channel else None


def signature(record: RemoteRecord) -> Cursor:
    """A contact's activity summary as a cursor value: last activity instant and activity count."""
    return Cursor(
        _instant(record.fields.get("notes_last_updated")) or EPOCH, str(record.fields.get("num_notes") or "")
    )


def engagement_events(
    obj: str,
    engagement: RemoteRecord,
    contacts: Sequence[str],
    owner_emails: Mapping[str, str],
    channel: str,
) -> list[TouchEvent]:
    """One event per contact of one logged engagement (none for engagements syncd wrote)."""
    fields = engagement.fields
    if is_syncd_engagement(fields):
        return []
    occurred = _instant(fields.get("hs_timestamp")) or engagement.created_at or engagement.modified_at
    owner = str(fields.get("hubspot_owner_id") or "")
    properties: dict[str, Any] = {
        "channel": channel,
        "object": obj,
        "engagement_id": engagement.id,
        "title": fields.get("hs_call_title")
        or fields.get("hs_meeting_title")
        or fields.get("hs_email_subject"),
        "body": _plain(
            fields.get("hs_call_body") or fields.get("hs_meeting_body") or fields.get("hs_note_body")
        ),
        "outcome": fields.get("hs_meeting_outcome") or fields.get("hs_call_disposition"),
        "owner": owner_emails.get(owner) or (f"HubSpot owner {owner}" if owner else None),
    }
    duration = fields.get("hs_call_duration")
    if duration not in (None, ""):
        properties["duration"] = f"{int(float(str(duration)) // 1000)} s"
    return [
        TouchEvent(
            source_system=HUBSPOT,
            feed=LOGGED_FEED,
            id=f"{obj}:{engagement.id}:{contact}",
            type=obj,
            occurred_at=occurred,
            contact_id=contact,
            properties={k: v for k, v in properties.items() if v not in (None, "")},
        )
        for contact in contacts
    ]


class LoggedEngagements:
    """Discovery of HubSpot-logged engagements for one engagements flow."""

    def __init__(
        self,
        *,
        source: LoggedSource,
        store: Engine,
        flow: str,
        clock: Callable[[], datetime],
        settings: LoggedSettings | None = None,
    ) -> None:
        self._source = source
        self._engine = store
        self._cursors = TouchStore(store, flow)
        self._clock = clock
        self._settings = settings or LoggedSettings()
        self._owner_emails: dict[str, str] | None = None

    @property
    def settings(self) -> LoggedSettings:
        return self._settings

    def batches(
        self, changed: Sequence[RemoteRecord] | None
    ) -> Iterator[tuple[list[TouchEvent], list[CursorMove]]]:
        """Pages of events, each with the cursors to commit with it: the first listing while it is not
        complete, then the contacts of `changed` (contacts HubSpot modified) whose summary moved."""
        if not self._settings.objects:
            return
        done = self._cursors.cursors(HUBSPOT, [SCAN_DONE]).get(SCAN_DONE)
        if done is None:
            yield from self._first_listing()
        if changed:
            yield from self._changed(changed)

    # --- the first run: every engagement once ---------------------------------------------

    def _first_listing(self) -> Iterator[tuple[list[TouchEvent], list[CursorMove]]]:
        started = self._clock()
        positions = self._cursors.cursors(HUBSPOT, [f"{BACKFILL_PREFIX}{o}" for o in self._settings.objects])
        for obj in self._settings.objects:
            key = f"{BACKFILL_PREFIX}{obj}"
            position = positions.get(key)
            if position is not None and position.last_id is None:
                continue  # listed completely already
            for page in self._source.pull(obj, position, self._fields(obj)):
                contacts: dict[str, list[str]] = {}
                ids = [r.id for r in page.records if not is_syncd_engagement(r.fields)]
                if ids:
                    for link in self._source.associations(obj, "contacts", ids):
                        contacts.setdefault(link.from_id, []).append(link.to_id)
                owners = self._owners(r.fields.get("hubspot_owner_id") for r in page.records)
                events = [
                    event
                    for record in page.records
                    for event in engagement_events(
                        obj, record, contacts.get(record.id, ()), owners, self._settings.channel
                    )
                ]
                yield events, [CursorMove(HUBSPOT, key, page.cursor, observed_at=started)]
        yield [], [CursorMove(HUBSPOT, SCAN_DONE, Cursor(started, None), observed_at=started)]

    # --- later runs: contacts whose activity summary moved ----------------------------------

    def _changed(
        self, changed: Sequence[RemoteRecord]
    ) -> Iterator[tuple[list[TouchEvent], list[CursorMove]]]:
        started = self._clock()
        size = self._settings.contacts_per_read
        for start in range(0, len(changed), size):
            chunk = changed[start : start + size]
            known = self._cursors.cursors(HUBSPOT, (f"{SIGNATURE_PREFIX}{c.id}" for c in chunk))
            moved: dict[str, Cursor] = {}
            for contact in chunk:
                seen = signature(contact)
                if seen == Cursor(EPOCH, ""):
                    continue  # nothing ever logged on it
                if known.get(f"{SIGNATURE_PREFIX}{contact.id}") != seen:
                    moved[contact.id] = seen
            if not moved:
                continue
            events = self._events_of(list(moved))
            cursors = [
                CursorMove(HUBSPOT, f"{SIGNATURE_PREFIX}{contact}", seen, observed_at=started)
                for contact, seen in moved.items()
            ]
            yield events, cursors

    def _events_of(self, contacts: Sequence[str]) -> list[TouchEvent]:
        events: list[TouchEvent] = []
        for obj in self._settings.objects:
            by_engagement: dict[str, list[str]] = {}
            for link in self._source.associations("contacts", obj, contacts):
                by_engagement.setdefault(link.to_id, []).append(link.from_id)
            if not by_engagement:
                continue
            # Only what is new: neither syncd's own engagement nor a touch stored for every contact.
            own = self._own_engagements(by_engagement)
            stored = self._stored_touches(
                f"{obj}:{engagement}:{contact}" for engagement, cs in by_engagement.items() for contact in cs
            )
            unknown = [
                engagement
                for engagement, cs in by_engagement.items()
                if engagement not in own and any(f"{obj}:{engagement}:{c}" not in stored for c in cs)
            ]
            for id_chunk in chunks(unknown, 100):
                records = self._source.fetch(obj, list(id_chunk), self._fields(obj))
                owners = self._owners(r.fields.get("hubspot_owner_id") for r in records)
                for record in records:
                    events.extend(
                        engagement_events(
                            obj, record, by_engagement.get(record.id, ()), owners, self._settings.channel
                        )
                    )
        return events

    # --- helpers ----------------------------------------------------------------------------

    @staticmethod
    def _fields(obj: str) -> list[str]:
        return [*_COMMON, *_PROPERTIES.get(obj, ())]

    def _owners(self, ids: Iterable[Any]) -> dict[str, str]:
        """HubSpot owner emails by id, read once and again only when an unknown owner shows up."""
        wanted = {str(i) for i in ids if i}
        if self._owner_emails is None or wanted - self._owner_emails.keys():
            self._owner_emails = {o.id: o.email for o in self._source.owners() if o.email}
        return self._owner_emails

    def _own_engagements(self, ids: Iterable[str]) -> set[str]:
        found: set[str] = set()
        column = _LINKS.c.hubspot_id
        with self._engine.connect() as conn:
            for chunk in chunks(sorted(set(ids)), 500):
                found.update(conn.scalars(select(column).where(column.in_(chunk))))
        return found

    def _stored_touches(self, event_ids: Iterable[str]) -> set[str]:
        found: set[str] = set()
        touches = _TOUCHES.c
        with self._engine.connect() as conn:
            for chunk in chunks(sorted(set(event_ids)), 300):
                found.update(
                    conn.scalars(
                        select(touches.source_event_id).where(
                            touches.source_system == HUBSPOT, touches.source_event_id.in_(chunk)
                        )
                    )
                )
        return found


def _instant(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    text = str(value).strip()
    try:
        if text.isdigit():
            return datetime.fromtimestamp(int(text) / 1000, tz=UTC)
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _plain(value: Any) -> str | None:
    """Engagement bodies are HTML: tags dropped, kept short for a Task description."""
    if not value:
        return None
    text = str(value)
    out, inside = [], False
    for ch in text:
        if ch == "<":
            inside = True
        elif ch == ">":
            inside = False
        elif not inside:
            out.append(ch)
    return "".join(out).strip()[:2000] or None
