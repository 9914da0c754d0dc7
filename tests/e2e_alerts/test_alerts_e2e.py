"""Alerts over the engagements flow's real touches: high-priority Tasks for the owner in the Salesforce
simulator (through simple-salesforce) and webhook posts, each once across reruns, restarts and faults."""

from __future__ import annotations

import json
import math
from collections import Counter
from datetime import UTC, timedelta

import pytest
from sqlalchemy import insert

from syncd.alerts.flow import AlertSettings
from syncd.alerts.render import LinkSettings, TaskSettings
from syncd.alerts.rules import Channel, SilenceRule, SlaRule, TouchRule
from syncd.cli.compose_alerts import require_task_fields
from syncd.engine.task_keys import alert_task_key
from syncd.errors import ConfigError
from syncd.store.models import LifecycleEvent, Touch

from .conftest import World

BOTH = frozenset(Channel)
# Seeded history reaches back months: a large max age lets the rule see all of it.
DEMO = TouchRule(
    "demo", "form_submission", BOTH, forms=frozenset({"request a demo"}), max_age=timedelta(days=3650)
)


def _records(world: World) -> dict[int, dict[str, str]]:
    found: dict[int, dict[str, str]] = {}
    for identity in world.identities():
        if identity.system == "salesforce":
            found.setdefault(identity.person_id, {})[identity.object] = identity.external_id
    return found


def _owners(world: World) -> dict[str, str]:
    snapshot = world.snapshot()
    return {r["Id"]: r["OwnerId"] for obj in ("Lead", "Contact") for r in snapshot.get(obj, [])}


def _writes(counters: dict[str, int]) -> Counter[str]:
    return Counter(
        {k: n for k, n in counters.items() if k.split(" ")[0] in ("POST", "PATCH") and "token" not in k}
    )


def test_demo_requests_become_one_high_priority_task_for_each_owner(world_on_every_backend: World) -> None:
    world = world_on_every_backend
    records = _records(world)
    demos = [
        t
        for t in world.touches()
        if t.kind == "form_submission" and t.detail.get("form") == "Request a demo" and t.person_id in records
    ]
    assert len(demos) > 5
    links = LinkSettings(salesforce_url=world.salesforce.instance_url)

    first = world.run(world.alerts(DEMO, links=links))

    assert first.counts["alerts.fired"] == len(demos)
    tasks = world.alert_tasks()
    assert len(tasks) == len(demos)
    owners = _owners(world)
    by_key = {t["HubSpot_Engagement_Id__c"]: t for t in tasks}
    stored = {a.occurrence_key: a for a in world.stored_alerts()}
    for touch in demos:
        key = f"demo:hubspot:{touch.source_event_id}"
        task = by_key[alert_task_key(key)]
        who = records[touch.person_id].get("Contact") or records[touch.person_id]["Lead"]
        assert task["WhoId"] == who
        assert task["OwnerId"] == owners[who]
        assert task["OwnerId"].startswith("005")
        assert task["Priority"] == "High"
        assert task["Status"] == "Not Started"
        assert 'submitted the form "Request a demo"' in task["Subject"]
        assert f"{world.salesforce.instance_url}/{who}" in task["Description"]
        alert = stored[key]
        assert (alert.task_state, alert.task_id, alert.webhook_state) == ("sent", task["Id"], "sent")
    assert world.posts() == len(demos)
    # Tasks travel 200 per sObject Collections upsert; owners are read once per object and batch.
    writes = _writes(world.counters("salesforce"))
    upserts = sum(n for k, n in writes.items() if "/composite/sobjects/" in k and k.startswith("PATCH"))
    assert upserts == math.ceil(len(demos) / 200)
    assert first.api_calls["salesforce"] <= 3 * math.ceil(len(demos) / 200)

    world.reset_counters()
    world.run(world.alerts(DEMO, links=links))
    restarted = world.run(world.alerts(DEMO, links=links))
    assert "alerts.fired" not in restarted.counts
    assert len(world.alert_tasks()) == len(demos)
    assert world.posts() == len(demos)
    assert world.counters("salesforce") == {}
    assert world.counters("hubspot") == {}


def test_an_idle_cycle_costs_no_api_call(world: World) -> None:
    rules = (
        TouchRule("pricing", "page_view", BOTH, url="*/pricing*"),
        SilenceRule("back", BOTH, silence=timedelta(days=30)),
        SlaRule("sla", BOTH, within=timedelta(hours=4)),
    )
    flow = world.alerts(*rules)
    world.run(flow)
    world.reset_counters()
    world.let_time_pass(60)

    idle = world.run(flow)

    assert idle.api_calls == {"salesforce": 0}
    assert world.counters("salesforce") == {}
    assert world.counters("hubspot") == {}


def test_a_fresh_pricing_visit_by_an_mql_reaches_the_owner(world: World) -> None:
    records = _records(world)
    hubspot = {i.person_id: i.external_id for i in world.identities() if i.system == "hubspot"}
    person = next(p for p in sorted(records) if p in hubspot)
    now = world.now()
    with world.store.begin() as conn:
        conn.execute(
            insert(LifecycleEvent).values(
                person_id=person,
                stage="mql",
                entered_at=now - timedelta(days=2),
                source_system="hubspot",
                recorded_at=now,
            )
        )
    rule = TouchRule("pricing-mql", "page_view", BOTH, url="*/pricing*", min_stage="mql")
    flow = world.alerts(rule)
    world.run(flow)
    before = len(world.stored_alerts())

    visited = (now + timedelta(minutes=1)).astimezone(UTC)
    world.post(
        "hubspot",
        "/__sandbox/web-events",
        {
            "contactId": hubspot[person],
            "eventType": "e_visited_page",
            "occurredAt": visited.isoformat().replace("+00:00", "Z"),
            "properties": {"hs_url": "https://www.example.com/pricing", "hs_page_title": "Pricing"},
        },
    )
    world.let_time_pass(120)
    world.link_and_collect()
    world.run(flow)

    fresh = world.stored_alerts()[before:]
    assert len(fresh) == 1
    (alert,) = fresh
    assert "visited https://www.example.com/pricing (already MQL)" in alert.what
    assert alert.task_state == "sent"
    task = next(t for t in world.alert_tasks() if t["Id"] == alert.task_id)
    assert task["Priority"] == "High"
    payload = json.loads(world.router.routes["hook"].calls.last.request.content)
    assert payload["text"].startswith(alert.what)


def test_injected_faults_lose_no_alert_and_duplicate_no_task(world: World) -> None:
    world.fault(
        "salesforce", path="/composite/sobjects/Task/", method="PATCH", kind="status", status=503, count=6
    )
    flow = world.alerts(DEMO)

    first = world.run(flow)

    fired = first.counts["alerts.fired"]
    assert fired > 0
    assert world.alert_tasks() == []
    assert {a.task_state for a in world.stored_alerts()} == {"pending"}
    assert {a.task_attempts for a in world.stored_alerts()} == {1}
    assert world.issues() == []

    world.run(flow)
    assert len(world.alert_tasks()) == fired
    assert {a.task_state for a in world.stored_alerts()} == {"sent"}
    world.fault("salesforce", path="/composite/sobjects/Task/", method="PATCH", kind="reset", count=1)
    world.run(world.alerts(DEMO))
    assert len(world.alert_tasks()) == fired


def test_an_org_without_the_task_key_field_is_refused_at_build(world: World) -> None:
    assert world.runtime is not None
    settings = AlertSettings(rules=(DEMO,), task=TaskSettings(key_field="Missing_Key__c"))
    with pytest.raises(ConfigError, match="Salesforce Task has no field Missing_Key__c"):
        require_task_fields(world.runtime.salesforce, settings)
    webhook_only = AlertSettings(rules=(TouchRule("x", "page_view", frozenset({Channel.WEBHOOK}), url="*"),))
    world.reset_counters()
    require_task_fields(world.runtime.salesforce, webhook_only)
    assert world.counters("salesforce") == {}


def test_tasks_travel_200_per_upsert(world: World) -> None:
    """450 alerts (touches written straight into the store) cost 3 upserts and the owner reads."""
    records = _records(world)
    now = world.now()
    rows = [
        {
            "person_id": person,
            "source_system": "hubspot",
            "source_event_id": f"bulk-{n}",
            "occurred_at": now - timedelta(minutes=n % 600),
            "kind": "form_submission",
            "channel": "direct",
            "detail": {"form": "Request a demo"},
            "recorded_at": now - timedelta(hours=1),
        }
        for n, person in enumerate(sorted(records) * (450 // len(records) + 1))
    ][:450]
    with world.store.begin() as conn:
        conn.execute(insert(Touch), rows)
    rule = TouchRule(
        "bulk", "form_submission", frozenset({Channel.SALESFORCE_TASK}), forms=frozenset({"request a demo"})
    )

    summary = world.run(world.alerts(rule))

    assert summary.counts["alerts.fired"] == 450
    assert summary.counts["salesforce.created"] == 450
    writes = _writes(world.counters("salesforce"))
    objects = {o for o in ("Lead", "Contact") if any(o in r for r in records.values())}
    # Per batch of 200: one upsert, and one retrieve of owners per object the Tasks go on.
    assert writes["PATCH /services/data/v{version}/composite/sobjects/{sobject}/{field}"] == 3
    assert writes["POST /services/data/v{version}/composite/sobjects/{sobject}"] == 3 * len(objects)
    assert summary.api_calls["salesforce"] == 3 * (1 + len(objects))
    assert len([t for t in world.alert_tasks() if t["HubSpot_Engagement_Id__c"].startswith("alert:")]) == 450
