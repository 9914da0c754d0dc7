"""Salesforce Tasks and Events as sales activities, and sales activities as HubSpot engagements (pure).

A Task or Event is a sales activity when a rep (or automation) logged it on a Lead or Contact: calls,
1:1 emails and meetings, plus other completed tasks. Tasks syncd wrote itself (their key field holds a
syncd key) are never activities. Automated sends — a configured TaskSubtype such as ListEmail, or an
owner among the configured automation users — are activities initiated by automation, which the SLA
does not count. Everything here takes its inputs as arguments: no clock, no store, no HTTP.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any, Literal

from syncd.activities import SOURCE_ID_PROPERTY, source_key
from syncd.connector import RemoteRecord
from syncd.engine.task_keys import is_syncd_task_key

SALESFORCE = "salesforce"
KINDS = ("call", "email", "meeting", "task")
# Id prefixes of the records a Task or Event names as its person (WhoId): Lead and Contact.
PERSON_PREFIXES = ("00Q", "003")
REP, AUTOMATION = "rep", "automation"

SkipReason = Literal["syncd", "deleted", "open", "no_person", "kind"]


@dataclass(frozen=True)
class ActivityRules:
    """What counts as a sales activity and who initiated it. Every name is a setting."""

    # Task subtypes the marketing platform logs (list emails): automation, not a rep.
    automated_subtypes: frozenset[str] = frozenset({"ListEmail"})
    # Salesforce users (ids or emails, any case) whose activities are automation: integration users.
    automation_users: frozenset[str] = frozenset()
    # Kinds stored; the others are skipped.
    kinds: frozenset[str] = frozenset(KINDS)
    # Open Tasks are to-dos, not activity yet: they are read again once completed (their stamp moves).
    completed_only: bool = True
    # The Task field syncd's own Tasks carry their key in (engagement touches, alerts).
    task_key_field: str = "HubSpot_Engagement_Id__c"


@dataclass(frozen=True)
class SalesActivity:
    """One sales activity as read from the CRM, before its person is known."""

    source_system: str
    source_id: str
    who_id: str
    occurred_at: datetime
    kind: str
    initiated_by: str
    direction: str | None
    owner_id: str | None
    owner_email: str | None
    outcome: str | None
    duration_seconds: int | None
    subject: str | None
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Skipped:
    """A Task or Event that is not stored as a sales activity, and why."""

    reason: SkipReason


def read_activity(
    record: RemoteRecord, rules: ActivityRules, owner_emails: Mapping[str, str]
) -> SalesActivity | Skipped:
    """A Task or Event record as a sales activity, or why it is none. `owner_emails` maps user ids
    to emails (for the owner column and automation users named by email)."""
    fields = record.fields
    if record.object == "Task" and is_syncd_task_key(_text(fields.get(rules.task_key_field))):
        return Skipped("syncd")
    if record.deleted:
        return Skipped("deleted")
    who = _text(fields.get("WhoId"))
    if who is None or not who.startswith(PERSON_PREFIXES):
        return Skipped("no_person")
    if record.object == "Event":
        return _event(record, who, rules, owner_emails)
    if rules.completed_only and not fields.get("IsClosed"):
        return Skipped("open")
    return _task(record, who, rules, owner_emails)


def _task(
    record: RemoteRecord, who: str, rules: ActivityRules, owner_emails: Mapping[str, str]
) -> SalesActivity | Skipped:
    fields = record.fields
    subtype = _text(fields.get("TaskSubtype")) or ""
    kind = task_kind(subtype, _text(fields.get("Type")))
    if kind not in rules.kinds:
        return Skipped("kind")
    owner = _text(fields.get("OwnerId"))
    automated = subtype in rules.automated_subtypes or _is_automation_user(owner, rules, owner_emails)
    direction: str | None = None
    if kind == "call":
        direction = {"Inbound": "inbound", "Outbound": "outbound"}.get(_text(fields.get("CallType")) or "")
    elif kind == "email":
        direction = "outbound"
    occurred = (
        _instant(fields.get("CompletedDateTime")) or record.created_at or _day(fields.get("ActivityDate"))
    )
    duration = fields.get("CallDurationInSeconds")
    return SalesActivity(
        source_system=SALESFORCE,
        source_id=record.id,
        who_id=who,
        occurred_at=occurred or record.modified_at,
        kind=kind,
        initiated_by=AUTOMATION if automated else REP,
        direction=direction,
        owner_id=owner,
        owner_email=owner_emails.get(owner) if owner else None,
        outcome=_clip(fields.get("CallDisposition"), 80) if kind == "call" else None,
        duration_seconds=int(duration) if isinstance(duration, int | float) else None,
        subject=_clip(fields.get("Subject"), 255),
        detail=_detail(
            "Task",
            fields,
            ("Description", "Type", "TaskSubtype", "Status", "Priority", "CallType", "ActivityDate"),
        ),
    )


def _event(
    record: RemoteRecord, who: str, rules: ActivityRules, owner_emails: Mapping[str, str]
) -> SalesActivity | Skipped:
    fields = record.fields
    if "meeting" not in rules.kinds:
        return Skipped("kind")
    owner = _text(fields.get("OwnerId"))
    start = _instant(fields.get("StartDateTime")) or _instant(fields.get("ActivityDateTime"))
    minutes = fields.get("DurationInMinutes")
    return SalesActivity(
        source_system=SALESFORCE,
        source_id=record.id,
        who_id=who,
        occurred_at=start or _day(fields.get("ActivityDate")) or record.created_at or record.modified_at,
        kind="meeting",
        initiated_by=AUTOMATION if _is_automation_user(owner, rules, owner_emails) else REP,
        direction=None,
        owner_id=owner,
        owner_email=owner_emails.get(owner) if owner else None,
        outcome=None,
        duration_seconds=int(minutes) * 60 if isinstance(minutes, int | float) else None,
        subject=_clip(fields.get("Subject"), 255),
        detail=_detail("Event", fields, ("Description", "Type", "Location", "EndDateTime", "IsAllDayEvent")),
    )


def task_kind(subtype: str, task_type: str | None) -> str:
    """call | email | meeting | task, from a Task's subtype first and its type second."""
    if subtype == "Call" or (subtype in ("", "Task") and task_type == "Call"):
        return "call"
    if subtype in ("Email", "ListEmail") or (subtype in ("", "Task") and task_type == "Email"):
        return "email"
    if task_type == "Meeting":
        return "meeting"
    return "task"


def _is_automation_user(owner: str | None, rules: ActivityRules, owner_emails: Mapping[str, str]) -> bool:
    if owner is None or not rules.automation_users:
        return False
    users = {u.strip().casefold() for u in rules.automation_users}
    email = owner_emails.get(owner)
    return (
        owner.casefold() in users
        or owner[:15].casefold() in users
        or bool(email and email.casefold() in users)
    )


def _detail(obj: str, fields: Mapping[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    detail: dict[str, Any] = {"object": obj}
    for name in names:
        value = fields.get(name)
        if value not in (None, ""):
            detail[name] = value if not isinstance(value, str) else value[:4000]
    return detail


def _text(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


def _clip(value: Any, length: int) -> str | None:
    text = _text(value)
    return text[:length] if text else None


def _instant(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    return when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)


def _day(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.combine(datetime.fromisoformat(value[:10]).date(), time(0), tzinfo=UTC)
    except ValueError:
        return None


# --- HubSpot engagements (pure) -------------------------------------------------------------


@dataclass(frozen=True)
class EngagementSettings:
    """How stored sales activities become HubSpot engagements."""

    # Kinds written to HubSpot, and the engagement object each becomes.
    objects: Mapping[str, str] = field(
        default_factory=lambda: {"call": "calls", "email": "emails", "meeting": "meetings"}
    )
    # Automated sends are stored (the SLA tells them apart) but not written to HubSpot by default:
    # HubSpot holds its own marketing emails.
    push_automated: bool = False
    # Salesforce call results → HubSpot call outcome ids (hs_call_disposition). HubSpot keeps outcomes
    # as internal ids: unmapped results go into the call notes only.
    call_outcomes: Mapping[str, str] = field(default_factory=dict)
    batch_size: int = 100


@dataclass(frozen=True)
class StoredActivityView:
    """What an engagement is built from: a stored activity and who it is about."""

    source_system: str
    source_event_id: str
    occurred_at: datetime
    kind: str
    direction: str | None
    owner_email: str | None
    outcome: str | None
    duration_seconds: int | None
    subject: str | None
    detail: Mapping[str, Any]


def _hubspot_time(when: datetime) -> str:
    aware = when if when.tzinfo else when.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{aware.microsecond // 1000:03d}Z"


def _body(activity: StoredActivityView) -> str:
    lines = []
    description = activity.detail.get("Description")
    if description:
        lines.append(str(description))
    if activity.outcome:
        lines.append(f"Outcome: {activity.outcome}")
    if activity.owner_email:
        lines.append(f"Logged in Salesforce by {activity.owner_email}.")
    source = activity.detail.get("object", "record")
    lines.append(f"Synced by syncd from Salesforce {source} {activity.source_event_id}.")
    return "\n".join(lines)[:65000]


def engagement_properties(
    activity: StoredActivityView, owner_id: str | None, settings: EngagementSettings, now: datetime
) -> tuple[str, dict[str, Any]]:
    """(HubSpot object, properties) of the engagement carrying `activity`; keyed by the source id."""
    obj = settings.objects[activity.kind]
    props: dict[str, Any] = {
        SOURCE_ID_PROPERTY: source_key(activity.source_system, activity.source_event_id),
        "hs_timestamp": _hubspot_time(activity.occurred_at),
    }
    if owner_id:
        props["hubspot_owner_id"] = owner_id
    subject = activity.subject or activity.kind.capitalize()
    body = _body(activity)
    if obj == "calls":
        props.update(
            hs_call_title=subject,
            hs_call_body=body,
            hs_call_status="COMPLETED",
            hs_call_direction="INBOUND" if activity.direction == "inbound" else "OUTBOUND",
        )
        if activity.duration_seconds is not None:
            props["hs_call_duration"] = activity.duration_seconds * 1000
        outcome = settings.call_outcomes.get(activity.outcome or "")
        if outcome:
            props["hs_call_disposition"] = outcome
    elif obj == "emails":
        props.update(
            hs_email_subject=subject,
            hs_email_text=body,
            hs_email_status="SENT",
            hs_email_direction="INCOMING_EMAIL" if activity.direction == "inbound" else "EMAIL",
        )
    elif obj == "meetings":
        end = activity.occurred_at + timedelta(seconds=activity.duration_seconds or 0)
        props.update(
            hs_meeting_title=subject,
            hs_meeting_body=body,
            hs_meeting_start_time=_hubspot_time(activity.occurred_at),
            hs_meeting_end_time=_hubspot_time(end),
            hs_meeting_outcome="COMPLETED" if end <= now else "SCHEDULED",
        )
    else:
        props["hs_note_body"] = f"{subject}\n{body}"
    return obj, props
