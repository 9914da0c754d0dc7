"""HubSpot-logged engagements → touch events → Salesforce Tasks (pure)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from syncd.activities import SOURCE_ID_PROPERTY
from syncd.connector import Cursor, RemoteRecord
from syncd.engine.engagements import KINDS, TaskSettings, Taxonomy, classify, task_fields, touch_detail
from syncd.engine.logged import EPOCH, LOGGED_FEED, engagement_events, signature
from syncd.engine.touch_store import StoredTouch

AT = datetime(2026, 4, 1, 9, 30, tzinfo=UTC)


def engagement(obj: str, **properties: Any) -> RemoteRecord:
    fields = {"hs_timestamp": "2026-04-01T09:30:00.000Z", "hubspot_owner_id": "40000001", **properties}
    return RemoteRecord(obj, "9001", AT, fields, created_at=AT)


def test_a_meeting_on_two_contacts_is_one_event_per_contact_with_its_detail_and_channel() -> None:
    events = engagement_events(
        "meetings",
        engagement(
            "meetings",
            hs_meeting_title="Product demo",
            hs_meeting_outcome="COMPLETED",
            hs_meeting_body="<p>Went <b>well</b></p>",
        ),
        ["101", "102"],
        {"40000001": "ana.rep@northwind.example"},
        "sales",
    )
    assert [(e.id, e.contact_id, e.feed, e.occurred_at) for e in events] == [
        ("meetings:9001:101", "101", LOGGED_FEED, AT),
        ("meetings:9001:102", "102", LOGGED_FEED, AT),
    ]
    assert events[0].properties == {
        "channel": "sales",
        "object": "meetings",
        "engagement_id": "9001",
        "title": "Product demo",
        "body": "Went well",
        "outcome": "COMPLETED",
        "owner": "ana.rep@northwind.example",
    }
    assert classify(events[0], Taxonomy()) == ("meeting", "sales")


def test_engagements_syncd_wrote_never_become_events() -> None:
    own = engagement("calls", **{SOURCE_ID_PROPERTY: "salesforce:00T000000000001AAA"})
    assert engagement_events("calls", own, ["101"], {}, "sales") == []


def test_a_call_keeps_its_duration_and_an_unknown_owner_by_id() -> None:
    [event] = engagement_events(
        "calls", engagement("calls", hs_call_title="Intro", hs_call_duration="125000"), ["7"], {}, "sales"
    )
    assert event.properties["duration"] == "125 s" and event.properties["owner"] == "HubSpot owner 40000001"
    assert classify(event, Taxonomy()) == ("call", "sales")


def test_the_activity_summary_of_a_contact_is_its_signature() -> None:
    contact = RemoteRecord(
        "contacts", "5", AT, {"notes_last_updated": "2026-04-01T09:30:00.000Z", "num_notes": "3"}
    )
    assert signature(contact) == Cursor(AT, "3")
    assert signature(RemoteRecord("contacts", "6", AT, {})) == Cursor(EPOCH, "")


def test_logged_touches_are_task_kinds_and_become_call_and_meeting_tasks() -> None:
    assert {"call", "meeting", "note"} <= set(TaskSettings().kinds) and "sales_email" in KINDS
    [event] = engagement_events(
        "calls",
        engagement(
            "calls",
            hs_call_title="Intro call",
            hs_call_body="Budget confirmed",
            hs_call_disposition="Connected",
        ),
        ["7"],
        {"40000001": "ana.rep@northwind.example"},
        "sales",
    )
    detail = touch_detail(event, None)
    touch = StoredTouch(1, 42, "hubspot", event.id, AT, "call", "sales", detail, None)
    fields = task_fields(touch, "003000000000001AAA", TaskSettings())
    assert fields["Subject"] == "Call: Intro call" and fields["Type"] == "Call"
    assert "Logged in HubSpot by: ana.rep@northwind.example" in fields["Description"]
    assert (
        "Outcome: Connected" in fields["Description"] and "Notes: Budget confirmed" in fields["Description"]
    )
    meeting = StoredTouch(2, 42, "hubspot", "meetings:1:7", AT, "meeting", "sales", {"title": "Demo"}, None)
    assert task_fields(meeting, "003000000000001AAA", TaskSettings())["Type"] == "Meeting"
    note = StoredTouch(3, 42, "hubspot", "notes:1:7", AT, "note", "sales", {}, None)
    assert task_fields(note, "003000000000001AAA", TaskSettings())["Subject"] == "Note"
