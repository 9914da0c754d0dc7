"""Salesforce Tasks and Events → sales activities, and activities → HubSpot engagements (pure)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from syncd.activities import SOURCE_ID_PROPERTY, is_syncd_engagement, source_key
from syncd.connector import RemoteRecord
from syncd.core.activities import (
    ActivityRules,
    EngagementSettings,
    SalesActivity,
    Skipped,
    StoredActivityView,
    engagement_properties,
    read_activity,
    task_kind,
)

AT = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
REP_ID, BOT_ID = "005000000000001AAA", "005000000000009AAA"
EMAILS = {REP_ID: "ana.rep@northwind.example", BOT_ID: "integration@northwind.example"}


def task(**fields: Any) -> RemoteRecord:
    base = {
        "WhoId": "00Q000000000001AAA",
        "OwnerId": REP_ID,
        "Subject": "Call",
        "IsClosed": True,
        "Status": "Completed",
        "TaskSubtype": "Call",
        "CompletedDateTime": "2026-03-02T15:00:00.000+0000",
    }
    base.update(fields)
    deleted = bool(base.pop("IsDeleted", False))
    return RemoteRecord("Task", "00T000000000001AAA", AT, base, created_at=AT, deleted=deleted)


def event(**fields: Any) -> RemoteRecord:
    base = {
        "WhoId": "003000000000001AAA",
        "OwnerId": REP_ID,
        "Subject": "Product demo",
        "StartDateTime": "2026-03-05T10:00:00.000+0000",
        "DurationInMinutes": 45,
    }
    base.update(fields)
    return RemoteRecord("Event", "00U000000000001AAA", AT, base, created_at=AT)


def read(record: RemoteRecord, **rules: Any) -> SalesActivity | Skipped:
    return read_activity(record, ActivityRules(**rules), EMAILS)


@pytest.mark.parametrize(
    ("subtype", "task_type", "kind"),
    [
        ("Call", None, "call"),
        ("Email", None, "email"),
        ("ListEmail", "Email", "email"),
        ("Task", "Call", "call"),
        ("Task", "Email", "email"),
        ("Task", "Meeting", "meeting"),
        ("Task", "Other", "task"),
        ("", None, "task"),
        ("Cadence", "Call", "task"),
    ],
)
def test_a_task_kind_comes_from_its_subtype_first_and_its_type_second(
    subtype: str, task_type: str | None, kind: str
) -> None:
    assert task_kind(subtype, task_type) == kind


def test_a_logged_call_is_a_rep_activity_with_its_outcome_direction_and_duration() -> None:
    activity = read(task(CallType="Inbound", CallDurationInSeconds=300, CallDisposition="Connected"))
    assert isinstance(activity, SalesActivity)
    assert (activity.kind, activity.initiated_by, activity.direction) == ("call", "rep", "inbound")
    assert (activity.outcome, activity.duration_seconds) == ("Connected", 300)
    assert activity.occurred_at == AT and activity.who_id == "00Q000000000001AAA"
    assert activity.owner_email == "ana.rep@northwind.example"
    assert activity.detail["object"] == "Task"


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        (task(HubSpot_Engagement_Id__c="syncd:t:0123456789abcdef"), "syncd"),
        (task(HubSpot_Engagement_Id__c="alert:0123456789abcdef"), "syncd"),
        (task(IsDeleted=True), "deleted"),
        (task(IsClosed=False, Status="Not Started"), "open"),
        (task(WhoId=None), "no_person"),
        (task(WhoId="001000000000001AAA"), "no_person"),  # an Account is no person
        (event(WhoId=None), "no_person"),
    ],
)
def test_tasks_syncd_wrote_and_records_that_are_no_sales_activity_are_skipped(
    record: RemoteRecord, reason: str
) -> None:
    assert read(record) == Skipped(reason)  # type: ignore[arg-type]


def test_a_task_keyed_by_someone_else_is_still_a_rep_activity() -> None:
    assert isinstance(read(task(HubSpot_Engagement_Id__c="other-tool:1")), SalesActivity)


def test_list_emails_and_automation_users_are_automation_by_subtype_id_or_email() -> None:
    list_email = read(task(TaskSubtype="ListEmail", Type="Email"))
    assert isinstance(list_email, SalesActivity) and list_email.initiated_by == "automation"
    by_email = read(
        task(TaskSubtype="Email", OwnerId=BOT_ID),
        automation_users=frozenset({"INTEGRATION@northwind.example"}),
    )
    by_id = read(task(TaskSubtype="Email", OwnerId=BOT_ID), automation_users=frozenset({BOT_ID[:15]}))
    not_listed = read(task(TaskSubtype="Email", OwnerId=BOT_ID))
    assert [a.initiated_by for a in (by_email, by_id, not_listed) if isinstance(a, SalesActivity)] == [
        "automation",
        "automation",
        "rep",
    ]


def test_an_event_is_a_meeting_at_its_start_with_its_duration() -> None:
    activity = read(event(Location="Video call", Description="Agenda"))
    assert isinstance(activity, SalesActivity)
    assert (activity.kind, activity.initiated_by, activity.duration_seconds) == ("meeting", "rep", 2700)
    assert activity.occurred_at == datetime(2026, 3, 5, 10, tzinfo=UTC)
    assert activity.detail == {"object": "Event", "Description": "Agenda", "Location": "Video call"}


def test_kinds_left_out_of_the_rules_are_skipped() -> None:
    assert read(event(), kinds=frozenset({"call"})) == Skipped("kind")
    assert read(task(TaskSubtype="Task", Type="Other"), kinds=frozenset({"call", "email"})) == Skipped("kind")


def test_open_tasks_are_activity_when_configured_so() -> None:
    assert isinstance(read(task(IsClosed=False), completed_only=False), SalesActivity)


def test_a_task_without_completion_time_happened_when_it_was_created() -> None:
    activity = read(task(CompletedDateTime=None))
    assert isinstance(activity, SalesActivity) and activity.occurred_at == AT


# --- engagements ---------------------------------------------------------------------------


def view(kind: str, **overrides: Any) -> StoredActivityView:
    values: dict[str, Any] = {
        "source_system": "salesforce",
        "source_event_id": "00T000000000001AAA",
        "occurred_at": AT,
        "kind": kind,
        "direction": "outbound",
        "owner_email": "ana.rep@northwind.example",
        "outcome": None,
        "duration_seconds": None,
        "subject": "Subject",
        "detail": {"object": "Task", "Description": "Talked budget"},
    }
    values.update(overrides)
    return StoredActivityView(**values)


def test_a_call_becomes_a_call_engagement_keyed_by_its_source_id() -> None:
    obj, props = engagement_properties(
        view("call", outcome="Left voicemail", duration_seconds=120, direction="inbound"),
        "40000001",
        EngagementSettings(call_outcomes={"Connected": "f240bbac"}),
        AT,
    )
    assert obj == "calls"
    assert (
        props[SOURCE_ID_PROPERTY]
        == source_key("salesforce", "00T000000000001AAA")
        == "salesforce:00T000000000001AAA"
    )
    assert props["hs_timestamp"] == "2026-03-02T15:00:00.000Z"
    assert (props["hs_call_direction"], props["hs_call_duration"], props["hubspot_owner_id"]) == (
        "INBOUND",
        120_000,
        "40000001",
    )
    assert "hs_call_disposition" not in props  # unmapped outcomes only go into the notes
    assert "Outcome: Left voicemail" in props["hs_call_body"] and "Talked budget" in props["hs_call_body"]
    mapped = engagement_properties(
        view("call", outcome="Connected"),
        None,
        EngagementSettings(call_outcomes={"Connected": "f240bbac"}),
        AT,
    )[1]
    assert mapped["hs_call_disposition"] == "f240bbac" and "hubspot_owner_id" not in mapped


def test_a_meeting_is_completed_once_over_and_scheduled_before() -> None:
    past = engagement_properties(
        view("meeting", duration_seconds=1800), None, EngagementSettings(), AT.replace(hour=16)
    )
    future = engagement_properties(view("meeting", duration_seconds=1800), None, EngagementSettings(), AT)
    assert past[0] == "meetings"
    assert (past[1]["hs_meeting_start_time"], past[1]["hs_meeting_end_time"]) == (
        "2026-03-02T15:00:00.000Z",
        "2026-03-02T15:30:00.000Z",
    )
    assert (past[1]["hs_meeting_outcome"], future[1]["hs_meeting_outcome"]) == ("COMPLETED", "SCHEDULED")


def test_an_email_and_a_task_become_an_email_and_a_note() -> None:
    settings = EngagementSettings(objects={"email": "emails", "task": "notes"})
    obj, props = engagement_properties(view("email"), None, settings, AT)
    assert (obj, props["hs_email_direction"], props["hs_email_status"]) == ("emails", "EMAIL", "SENT")
    obj, props = engagement_properties(view("task", subject="Send proposal"), None, settings, AT)
    assert obj == "notes" and props["hs_note_body"].startswith("Send proposal\n")


def test_engagements_carrying_a_source_id_are_syncd_s_own() -> None:
    assert is_syncd_engagement({SOURCE_ID_PROPERTY: "salesforce:00T1"})
    assert not is_syncd_engagement({SOURCE_ID_PROPERTY: ""}) and not is_syncd_engagement({})
