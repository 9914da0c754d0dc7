"""Marketing events as connectors hand them to the engagements flow: one frozen `TouchEvent` each.

A connector reads its system's raw event feeds and turns every event into a `TouchEvent` before it
leaves the connector package; the flow maps `type` to a touch kind and a channel (see
`syncd.engine.engagements`). Pages come oldest first, each with the cursor to resume after it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from syncd.connector import Cursor


@dataclass(frozen=True)
class TouchEvent:
    """One marketing interaction as the source system recorded it.

    `feed` names the source's event stream ("email" or "web" for HubSpot), `type` the source's own
    event type (`CLICK`, `e_visited_page`, ...). A person is found by `contact_id` (the source's
    record id) when given, else by `email`. `properties` holds what a touch's detail and channel
    need (url, page title, form name, UTM values, bounce category, ...).
    """

    source_system: str
    feed: str
    id: str
    type: str
    occurred_at: datetime
    contact_id: str | None = None
    email: str | None = None
    campaign_id: str | None = None
    properties: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EventPage:
    """Events of one feed, oldest first; `cursor` is where to resume once the page is recorded."""

    events: tuple[TouchEvent, ...]
    cursor: Cursor


@dataclass(frozen=True)
class EmailCampaignInfo:
    """A marketing email send, named so a touch can say which email it was about."""

    id: str
    name: str
    subject: str | None = None
