"""Marketing touches the portal records: web analytics events (events v3) and legacy email events."""

from __future__ import annotations

import base64
from bisect import bisect_left, bisect_right, insort
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from connectors.hubspot.sandbox.values import epoch_ms, from_epoch_ms, iso_ms

EMAIL_EVENT_TYPES = frozenset(
    {
        "SENT",
        "DROPPED",
        "PROCESSED",
        "DELIVERED",
        "DEFERRED",
        "BOUNCE",
        "OPEN",
        "CLICK",
        "STATUSCHANGE",
        "SPAMREPORT",
        "SUPPRESSED",
        "UNBOUNCE",
        "FORWARD",
        "PRINT",
    }
)


@dataclass(frozen=True)
class WebEvent:
    """One web analytics event on a contact (`e_visited_page`, `e_submitted_form`, ...)."""

    seq: int
    event_type: str
    object_id: int
    occurred_ms: int
    properties: Mapping[str, str]

    def to_json(self) -> dict[str, Any]:
        return {
            "objectType": "contact",
            "objectId": str(self.object_id),
            "eventType": self.event_type,
            "occurredAt": iso_ms(from_epoch_ms(self.occurred_ms)),
            "id": f"{self.seq:012d}-{self.object_id}",
            "properties": dict(self.properties),
        }


@dataclass(frozen=True)
class EmailEvent:
    """One legacy marketing email event (SENT, DELIVERED, OPEN, CLICK, BOUNCE, STATUSCHANGE, ...)."""

    seq: int
    type: str
    created_ms: int
    recipient: str
    email_campaign_id: int
    portal_id: int
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": f"{self.seq:08x}-{self.email_campaign_id:x}-{self.type.lower()}",
            "type": self.type,
            "created": self.created_ms,
            "recipient": self.recipient,
            "emailCampaignId": self.email_campaign_id,
            "portalId": self.portal_id,
            "appId": 113,
            "appName": "BatchTest" if self.type == "SENT" else "Batch",
            "sentBy": {"id": f"{self.email_campaign_id:x}-{self.recipient}", "created": self.created_ms},
        }
        out.update(self.details)
        return out


@dataclass(frozen=True)
class EmailCampaign:
    """A marketing email send, linked to a population campaign by name."""

    id: int
    name: str
    subject: str
    campaign_key: int
    sent_ms: int

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "appId": 113,
            "appName": "Batch",
            "contentId": self.id + 7_000_000,
            "name": self.name,
            "subject": self.subject,
            "type": "BATCH_EMAIL",
            "lastUpdatedTime": self.sent_ms,
        }


def encode_cursor(*parts: int) -> str:
    raw = ":".join(str(p) for p in parts).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str) -> tuple[int, ...] | None:
    try:
        padded = token + "=" * (-len(token) % 4)
        return tuple(int(p) for p in base64.urlsafe_b64decode(padded.encode()).decode().split(":"))
    except (ValueError, UnicodeDecodeError):
        return None


def _order(entry: tuple[int, int, Any]) -> tuple[int, int]:
    return entry[0], entry[1]


class EventLog:
    """Web and email events, each kept sorted by (time, sequence) for range reads."""

    def __init__(self, portal_id: int) -> None:
        self.portal_id = portal_id
        self._seq = 0
        self.web: list[tuple[int, int, WebEvent]] = []
        self.web_by_object: dict[int, list[tuple[int, int, WebEvent]]] = {}
        self.email: list[tuple[int, int, EmailEvent]] = []
        self.campaigns: dict[int, EmailCampaign] = {}
        self._bulk = False

    def begin_bulk(self) -> None:
        """Append without keeping order (seeding); `end_bulk` sorts once."""
        self._bulk = True

    def end_bulk(self) -> None:
        self._bulk = False
        self.web.sort(key=_order)
        self.email.sort(key=_order)
        for events in self.web_by_object.values():
            events.sort(key=_order)

    def _next(self) -> int:
        self._seq += 1
        return self._seq

    def add_web(
        self, event_type: str, object_id: int, when: datetime, properties: Mapping[str, str]
    ) -> WebEvent:
        event = WebEvent(self._next(), event_type, object_id, epoch_ms(when), dict(properties))
        key = (event.occurred_ms, event.seq, event)
        per_object = self.web_by_object.setdefault(object_id, [])
        if self._bulk:
            self.web.append(key)
            per_object.append(key)
        else:
            insort(self.web, key, key=_order)
            insort(per_object, key, key=_order)
        return event

    def add_email(
        self,
        type_: str,
        when: datetime,
        recipient: str,
        campaign_id: int,
        details: Mapping[str, Any] | None = None,
    ) -> EmailEvent:
        event = EmailEvent(
            self._next(), type_, epoch_ms(when), recipient, campaign_id, self.portal_id, dict(details or {})
        )
        key = (event.created_ms, event.seq, event)
        if self._bulk:
            self.email.append(key)
        else:
            insort(self.email, key, key=_order)
        return event

    def move_object(self, old_id: int, new_id: int) -> None:
        """After a merge, the surviving record owns the old record's events."""
        moved = self.web_by_object.pop(old_id, [])
        target = self.web_by_object.setdefault(new_id, [])
        for _, _, e in moved:
            renamed = WebEvent(e.seq, e.event_type, new_id, e.occurred_ms, e.properties)
            key = (e.occurred_ms, e.seq, renamed)
            insort(target, key, key=_order)
            i = bisect_left(self.web, (e.occurred_ms, e.seq), key=_order)
            self.web[i] = key

    def web_page(
        self,
        *,
        object_id: int | None,
        event_type: str | None,
        occurred_after: int | None,
        occurred_before: int | None,
        after: tuple[int, ...] | None,
        limit: int,
        descending: bool,
    ) -> tuple[list[WebEvent], str | None]:
        source = self.web if object_id is None else self.web_by_object.get(object_id, [])
        lo = bisect_right(source, (occurred_after, 1 << 62), key=_order) if occurred_after is not None else 0
        hi = (
            bisect_left(source, (occurred_before, -1), key=_order)
            if occurred_before is not None
            else len(source)
        )
        if after is not None and len(after) == 2:
            if descending:
                hi = min(hi, bisect_left(source, (after[0], after[1]), key=_order))
            else:
                lo = max(lo, bisect_right(source, (after[0], after[1]), key=_order))
        indices = range(hi - 1, lo - 1, -1) if descending else range(lo, hi)
        out: list[WebEvent] = []
        for i in indices:
            event = source[i][2]
            if event_type and event.event_type != event_type:
                continue
            if len(out) == limit:
                last = out[-1]
                return out, encode_cursor(last.occurred_ms, last.seq)
            out.append(event)
        return out, None

    def email_page(
        self,
        *,
        start_ms: int | None,
        end_ms: int | None,
        event_type: str | None,
        recipient: str | None,
        campaign_id: int | None,
        offset: tuple[int, ...] | None,
        limit: int,
    ) -> tuple[list[EmailEvent], str | None]:
        """Newest first, like the legacy endpoint; the offset continues below the last event returned."""
        source = self.email
        lo = bisect_left(source, (start_ms, -1), key=_order) if start_ms is not None else 0
        hi = bisect_right(source, (end_ms, 1 << 62), key=_order) if end_ms is not None else len(source)
        if offset is not None and len(offset) == 2:
            hi = min(hi, bisect_left(source, (offset[0], offset[1]), key=_order))
        wanted_recipient = recipient.strip().lower() if recipient else None
        out: list[EmailEvent] = []
        for i in range(hi - 1, lo - 1, -1):
            event = source[i][2]
            if event_type and event.type != event_type:
                continue
            if wanted_recipient and event.recipient.strip().lower() != wanted_recipient:
                continue
            if campaign_id is not None and event.email_campaign_id != campaign_id:
                continue
            if len(out) == limit:
                last = out[-1]
                return out, encode_cursor(last.created_ms, last.seq)
            out.append(event)
        return out, None
