"""Operator actions on chosen people: resync (decide again as on a first sync) and retry (send again)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from syncd.cli.compose import contact_flow
from syncd.engine.contacts import FlowSettings

from .conftest import MAPPING, Never, World

PEOPLE = 120


@pytest.fixture
def fresh(world: World) -> World:
    world.reseed(seed=29, people=PEOPLE)
    return world


def _with_jobtitle_rule(tmp_path: Path, rule: str) -> Path:
    path = tmp_path / f"contacts-{rule}.yaml"
    text = MAPPING.read_text(encoding="utf-8")
    entry = "  jobtitle:\n    hubspot: jobtitle\n    salesforce: Title\n    rule: two_way\n"
    assert entry in text
    path.write_text(text.replace(entry, entry.replace("two_way", rule)), encoding="utf-8")
    return path


def _linked(world: World) -> list[dict[str, tuple[str, str]]]:
    people: dict[int, dict[str, tuple[str, str]]] = {}
    for identity in world.identities():
        if identity.active:
            people.setdefault(identity.person_id, {})[identity.system] = (
                identity.object,
                identity.external_id,
            )
    return [ids for ids in people.values() if len(ids) == 2]


def _record(world: World, system: str, ids: dict[str, tuple[str, str]]) -> dict[str, Any]:
    obj, record_id = ids[system]
    snapshot = world.get(system, "/__sandbox/snapshot")
    if system == "hubspot":
        return next(r for r in snapshot["objects"]["contacts"] if str(r["id"]) == record_id)
    return next(r for r in snapshot["objects"][obj] if r["Id"] == record_id)


def test_resync_decides_a_person_again_under_the_current_rules(fresh: World, tmp_path: Path) -> None:
    assert fresh.runtime is not None
    settings = FlowSettings(lag=timedelta(seconds=30))
    ignoring = contact_flow(
        fresh.runtime, _with_jobtitle_rule(tmp_path, "none"), settings=settings, clock=fresh.clock.now
    )
    assert ignoring.run("once", Never()).status == "succeeded"
    person = _linked(fresh)[0]
    fresh.post(
        "hubspot",
        f"/__sandbox/objects/contacts/{person['hubspot'][1]}/properties",
        {"properties": {"jobtitle": "Growth Hacker"}},
    )
    fresh.let_time_pass(60)
    assert ignoring.run("once", Never()).status == "succeeded"  # rule none: the title stays apart
    email = _record(fresh, "hubspot", person)["properties"]["email"]
    crm_title = _record(fresh, "salesforce", person)["Title"]
    assert crm_title != "Growth Hacker"

    # Ops now decide Salesforce owns titles. A plain cycle changes nothing: no record changed since.
    crm_wins = contact_flow(
        fresh.runtime, _with_jobtitle_rule(tmp_path, "crm_wins"), settings=settings, clock=fresh.clock.now
    )
    fresh.let_time_pass(60)
    assert crm_wins.run("once", Never()).status == "succeeded"
    assert _record(fresh, "hubspot", person)["properties"]["jobtitle"] == "Growth Hacker"

    summary = crm_wins.resync([email.upper()], Never())

    assert summary.status == "succeeded", summary.error
    assert _record(fresh, "hubspot", person)["properties"]["jobtitle"] == crm_title
    assert summary.counts.get("hubspot.updated") == 1
    assert summary.counts.get("salesforce.updated", 0) == 0
    fresh.let_time_pass(60)
    quiet = crm_wins.run("once", Never())
    assert quiet.counts.get("hubspot.updated", 0) == quiet.counts.get("salesforce.updated", 0) == 0


def test_retry_sends_a_refused_write_again_once_its_cause_is_fixed(fresh: World) -> None:
    assert fresh.run().status == "succeeded"
    fresh.post("salesforce", "/__sandbox/settings", {"disqualification_rule": True})
    lead = next(ids for ids in _linked(fresh) if ids["salesforce"][0] == "Lead")
    fresh.post(
        "hubspot",
        f"/__sandbox/objects/contacts/{lead['hubspot'][1]}/properties",
        {"properties": {"lifecyclestage": "other"}},
    )
    fresh.let_time_pass(60)
    assert fresh.run().status == "succeeded"
    (issue,) = [i for i in fresh.issues() if i.remote_code == "FIELD_CUSTOM_VALIDATION_EXCEPTION"]
    assert _record(fresh, "salesforce", lead)["Status"] != "Closed - Not Converted"

    fresh.post("salesforce", "/__sandbox/settings", {"disqualification_rule": False})
    assert fresh.runtime is not None
    summary = fresh.flow().resync([issue.record_key], Never(), forget_bases=False)

    assert summary.status == "succeeded", summary.error
    assert _record(fresh, "salesforce", lead)["Status"] == "Closed - Not Converted"
    assert not [i for i in fresh.issues() if i.id == issue.id], "the issue is closed once the write lands"
