"""Marketing touches from the HubSpot simulator into the store and onto Salesforce as Tasks."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import pytest

from syncd.cli.compose import engagement_flow
from syncd.connector import Write, WriteResult
from syncd.engine.engagements import DEFAULT_TASK_EXCLUDE, EngagementSettings, TaskSettings, task_key
from syncd.engine.touch_store import StoredTouch
from syncd.errors import ConfigError

from .conftest import World, expected_touch_ids


def _who_by_person(world: World) -> dict[int, str]:
    """The record a person's Tasks belong on: their Contact, else their Lead."""
    found: dict[int, dict[str, str]] = {}
    for identity in world.identities():
        if identity.system == "salesforce":
            found.setdefault(identity.person_id, {})[identity.object] = identity.external_id
    return {person: ids.get("Contact") or ids["Lead"] for person, ids in found.items()}


def _writes(counters: dict[str, int]) -> dict[str, int]:
    return {
        k: n
        for k, n in counters.items()
        if k.split(" ")[0] in ("POST", "PATCH", "DELETE") and "token" not in k
    }


def test_every_touch_of_linked_people_is_stored_once_and_becomes_one_task_on_their_record(
    world: World,
) -> None:
    summary = world.run(world.engagements())

    assert summary.status == "succeeded", summary.error
    wanted, _ = expected_touch_ids(world)
    touches = world.touches()
    assert len(touches) == len(wanted) > 50
    assert {t.source_event_id for t in touches} == wanted
    assert {t.kind for t in touches} >= {"page_view", "form_submission", "email_click", "email_open"}

    who = _who_by_person(world)
    due = [t for t in touches if t.kind not in DEFAULT_TASK_EXCLUDE and t.person_id in who]
    tasks = world.tasks()
    by_key = Counter(task["HubSpot_Engagement_Id__c"] for task in tasks)
    assert len(tasks) == len(due) and set(by_key.values()) == {1}
    tasks_by_key = {task["HubSpot_Engagement_Id__c"]: task for task in tasks}
    for touch in due:
        task = tasks_by_key[task_key(_stored(touch))]
        assert task["WhoId"] == who[touch.person_id]
        assert task["Status"] == "Completed"
        assert task["ActivityDate"] == touch.occurred_at.date().isoformat()
    subjects = Counter(task["Subject"].split(":")[0] for task in tasks)
    assert subjects["Visited page"] and subjects["Submitted form"] and subjects["Email clicked"]
    # Sends, deliveries and opens stay in the store only.
    assert not {"Email sent", "Email delivered", "Email opened"} & set(subjects)
    assert len(world.task_links()) == len(due)


def test_a_rerun_writes_nothing(world: World) -> None:
    flow = world.engagements()
    assert world.run(flow).status == "succeeded"
    touches, tasks = len(world.touches()), len(world.tasks())
    world.reset_counters()

    again = world.run(flow)

    assert again.status == "succeeded", again.error
    assert len(world.touches()) == touches
    assert len(world.tasks()) == tasks
    assert _writes(world.counters("salesforce")) == {}
    assert again.counts.get("hubspot.touches", 0) == 0
    assert again.api_calls["salesforce"] == 0


class CrashAfterPush:
    """The Salesforce connector, except the process dies right after Salesforce saved the first batch."""

    def __init__(self, real: Any) -> None:
        self._real = real
        self.system = real.system

    def push(self, object: str, writes: Sequence[Write]) -> list[WriteResult]:
        self._real.push(object, writes)
        raise KeyboardInterrupt("crash between the Task push and its record")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def test_a_crash_between_task_push_and_record_does_not_duplicate_tasks(world: World) -> None:
    assert world.runtime is not None
    crashing = world.engagements(salesforce=CrashAfterPush(world.runtime.salesforce))
    with pytest.raises(KeyboardInterrupt):
        world.run(crashing)
    saved_before_crash = len(world.tasks())
    assert saved_before_crash > 0
    assert world.task_links() == []  # the store never heard of them

    summary = world.run(world.engagements())

    assert summary.status == "succeeded", summary.error
    tasks = world.tasks()
    keys = Counter(task["HubSpot_Engagement_Id__c"] for task in tasks)
    assert set(keys.values()) == {1}
    assert len(world.task_links()) == len(tasks)
    # The Tasks saved before the crash were found again by their key and updated, not created twice.
    assert summary.counts.get("salesforce.updated") == saved_before_crash
    assert summary.counts.get("salesforce.created", 0) == len(tasks) - saved_before_crash


def test_digest_mode_makes_one_task_per_person_per_day(world: World) -> None:
    settings = EngagementSettings(tasks=TaskSettings(mode="digest"))

    summary = world.run(world.engagements(settings))

    assert summary.status == "succeeded", summary.error
    who = _who_by_person(world)
    due = [t for t in world.touches() if t.kind not in DEFAULT_TASK_EXCLUDE and t.person_id in who]
    days = {(t.person_id, t.occurred_at.date()) for t in due}
    tasks = world.tasks()
    assert len(tasks) == len(days) < len(due)
    assert {(t["WhoId"], t["ActivityDate"]) for t in tasks} == {(who[p], d.isoformat()) for p, d in days}
    assert all(t["Subject"].startswith("Marketing activity: ") for t in tasks)
    assert len(world.task_links()) == len(due)
    assert world.run(world.engagements(settings)).counts.get("salesforce.created", 0) == 0


def test_digest_kinds_summarise_only_those_kinds_and_the_rest_get_a_task_each(world: World) -> None:
    settings = EngagementSettings(tasks=TaskSettings(digest_kinds=frozenset({"page_view"})))

    summary = world.run(world.engagements(settings))

    assert summary.status == "succeeded", summary.error
    who = _who_by_person(world)
    due = [t for t in world.touches() if t.kind not in DEFAULT_TASK_EXCLUDE and t.person_id in who]
    views = [t for t in due if t.kind == "page_view"]
    others = [t for t in due if t.kind != "page_view"]
    assert views and others, "the seeded quarter holds page views and other touches"
    keys = [t["HubSpot_Engagement_Id__c"] for t in world.tasks()]
    digests = [k for k in keys if k.startswith("syncd:d:")]
    assert len(digests) == len({(t.person_id, t.occurred_at.date()) for t in views})
    assert len(keys) - len(digests) == len(others)
    assert world.run(world.engagements(settings)).counts.get("salesforce.created", 0) == 0


def test_a_new_touch_on_a_digested_day_updates_that_days_task(world: World) -> None:
    settings = EngagementSettings(tasks=TaskSettings(mode="digest"))
    who = _who_by_person(world)
    person, contact_id = next(
        (i.person_id, i.external_id)
        for i in world.identities()
        if i.system == "hubspot" and i.person_id in who
    )
    first = world.clock.now() - timedelta(minutes=2)

    def visit(when: datetime, path: str) -> None:
        world.post(
            "hubspot",
            "/__sandbox/web-events",
            {"contactId": contact_id, "occurredAt": when.isoformat(), "properties": {"hs_url": path}},
        )

    visit(first, "https://www.example.com/first")
    world.run(world.engagements(settings))
    tasks_before = len(world.tasks())
    visit(first + timedelta(seconds=1), "https://www.example.com/second")

    summary = world.run(world.engagements(settings))

    assert summary.counts.get("salesforce.updated") == 1
    assert summary.counts.get("salesforce.created", 0) == 0
    assert len(world.tasks()) == tasks_before
    (task,) = [
        t for t in world.tasks() if t["HubSpot_Engagement_Id__c"] == f"syncd:d:{person}:{first:%Y%m%d}"
    ]
    assert "https://www.example.com/first" in task["Description"]
    assert "https://www.example.com/second" in task["Description"]


def test_excluded_kinds_are_configurable(world: World) -> None:
    settings = EngagementSettings(tasks=TaskSettings(exclude=frozenset({"page_view", "email_send"})))

    world.run(world.engagements(settings))

    subjects = Counter(task["Subject"].split(":")[0] for task in world.tasks())
    assert subjects["Email opened"] and subjects["Email delivered"]
    assert not subjects["Visited page"] and not subjects["Email sent"]


def test_events_of_unlinked_people_wait_and_are_stored_once_the_contacts_flow_links_them(
    world: World,
) -> None:
    email = "late.arrival@example.org"
    campaign = world.hubspot_events()[1][0]["emailCampaignId"]
    world.post(
        "hubspot",
        "/__sandbox/forms/submit",
        {"email": email, "formTitle": "Contact us", "properties": {"lastname": "Arrival"}},
    )
    world.post(
        "hubspot",
        "/__sandbox/email-events",
        {
            "type": "CLICK",
            "recipient": email,
            "emailCampaignId": campaign,
            "details": {"url": "https://x.test"},
        },
    )

    first = world.run(world.engagements())

    assert first.status == "succeeded", first.error
    waiting = [
        i for i in world.issues() if i.object == "email_event" and i.payload and i.payload["email"] == email
    ]
    assert len(waiting) == 1 and waiting[0].category == "other"
    assert "waits for its person" in waiting[0].message
    assert email not in world.people_emails()

    world.link_people()
    second = world.run(world.engagements())

    assert second.status == "succeeded", second.error
    person = world.people_emails()[email]
    kinds = sorted(t.kind for t in world.touches() if t.person_id == person)
    assert kinds == ["email_click", "form_submission"]
    assert [i for i in world.issues() if i.id == waiting[0].id] == []
    lead = _who_by_person(world)[person]
    subjects = sorted(t["Subject"].split(":")[0] for t in world.tasks() if t["WhoId"] == lead)
    assert subjects == ["Email clicked", "Submitted form"]


def test_throttled_and_failing_event_feeds_recover(world: World) -> None:
    throttled = {
        "status": "error",
        "message": "You have reached your ten_secondly_rolling limit.",
        "errorType": "RATE_LIMIT",
        "policyName": "TEN_SECONDLY_ROLLING",
    }
    world.fault(
        "hubspot",
        method="GET",
        path="^/email/public/v1/events",
        kind="status",
        status=429,
        body=throttled,
        count=2,
    )
    world.fault("hubspot", method="GET", path="^/email/public/v1/events", kind="status", status=502, count=1)
    world.fault("hubspot", method="GET", path="^/events/v3/events", kind="status", status=503, count=3)
    world.fault(
        "hubspot", method="GET", path="^/events/v3/events", kind="status", status=429, body=throttled, count=2
    )

    summary = world.run(world.engagements())

    assert summary.status == "succeeded", summary.error
    wanted, _ = expected_touch_ids(world)
    assert {t.source_event_id for t in world.touches()} == wanted
    assert world.get("hubspot", "/__sandbox/faults")["faults"] == []  # every fault fired and was retried


def _stored(touch: Any) -> StoredTouch:
    return StoredTouch(
        touch.id,
        touch.person_id,
        touch.source_system,
        touch.source_event_id,
        touch.occurred_at,
        touch.kind,
        touch.channel,
        touch.detail,
        None,
    )


def test_an_org_without_the_task_key_field_is_refused_with_what_to_create(world: World) -> None:
    assert world.runtime is not None
    settings = EngagementSettings(tasks=TaskSettings(key_field="Syncd_Touch_Key__c"))

    with pytest.raises(ConfigError) as refused:
        engagement_flow(world.runtime, settings=settings)

    assert "Salesforce Task has no field Syncd_Touch_Key__c" in str(refused.value)
    assert "External ID" in str(refused.value)


def test_events_that_wait_longer_than_allowed_are_given_up_not_retried_forever(world: World) -> None:
    email = "never.linked@example.org"
    campaign = world.hubspot_events()[1][0]["emailCampaignId"]
    world.post(
        "hubspot",
        "/__sandbox/email-events",
        {"type": "CLICK", "recipient": email, "emailCampaignId": campaign},
    )
    settings = EngagementSettings(max_wait=timedelta(minutes=10), lag=timedelta(minutes=5))
    world.run(world.engagements(settings))
    (waiting,) = [i for i in world.issues() if i.payload and i.payload["email"] == email]

    world.let_time_pass(11 * 60)
    summary = world.run(world.engagements(settings))
    later = world.run(world.engagements(settings))

    assert summary.counts.get("hubspot.gave_up") == 1
    assert later.counts.get("hubspot.gave_up", 0) == 0
    assert [i for i in world.issues() if i.payload and i.payload["email"] == email] == []
    (ignored,) = world.issues("ignored")
    assert ignored.id == waiting.id and "given up after waiting 0:10:00" in ignored.message


def test_only_contacts_with_new_activity_are_asked_for_their_web_events(world: World) -> None:
    # HubSpot answers web events per contact: asking about every linked contact each cycle would
    # spend a large portal's daily allowance, so a cycle asks only about contacts HubSpot modified.
    world.run(world.engagements())
    world.clock.advance(timedelta(minutes=10).total_seconds())  # past the re-read window
    world.run(world.engagements())
    world.reset_counters()

    idle = world.run(world.engagements())

    assert idle.status == "succeeded", idle.error
    assert world.counters("hubspot").get("GET /events/v3/events", 0) == 0

    who = _who_by_person(world)
    contact_id = next(
        i.external_id for i in world.identities() if i.system == "hubspot" and i.person_id in who
    )
    world.post(
        "hubspot",
        "/__sandbox/web-events",
        {
            "contactId": contact_id,
            "occurredAt": world.clock.now().isoformat(),
            "properties": {"hs_url": "https://www.example.com/pricing"},
        },
    )
    world.reset_counters()

    active = world.run(world.engagements())

    assert active.status == "succeeded", active.error
    assert world.counters("hubspot").get("GET /events/v3/events", 0) == 1
    assert active.counts.get("hubspot.touches") == 1
