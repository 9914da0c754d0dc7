"""Every flow enabled, run as the daemon runs a tick: one cycle, in order, after one shared change probe.

The issue's proof and its idle budget, through the production builders and the real SDKs against both
simulators: each marketing touch sales should see is one Salesforce Task, each rep activity one HubSpot
engagement, a rerun writes nothing, and an idle cycle of all six flows costs at most two Salesforce and
four HubSpot calls.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from syncd.cli.compose import Runtime
from syncd.cli.flows import build_flows
from syncd.config.flows import FLOW_NAMES, FlowsConfig
from syncd.daemon.scheduler import Daemon, Schedule
from syncd.store.db import make_engine
from syncd.store.migrate import upgrade
from syncd.store.models import ActivityEngagement, Identity, LifecycleEvent, Run, TouchTask
from tests.e2e.conftest import World, writes_in

PEOPLE = 300
ENGAGEMENT_OBJECTS = ("calls", "emails", "meetings", "notes")


class SoleReplica:
    def acquire(self) -> bool:
        return True

    def release(self) -> None:
        pass


@pytest.fixture
def loop(world: World, store_url: str) -> Iterator[tuple[World, Daemon, list[str]]]:
    world.reseed(seed=31, people=PEOPLE)
    world.close_runtime()
    upgrade(store_url)
    runtime = Runtime(
        world._hubspot_connector(),
        world._salesforce_connector(),
        make_engine(store_url),
        clock=world.clock.now,
    )
    world.runtime = runtime
    flows = build_flows(runtime, FlowsConfig.model_validate({name: {} for name in FLOW_NAMES}).configured())
    names = list(flows)
    daemon = Daemon(
        {name: Schedule(flow, 60) for name, flow in flows.items()},
        lambda _: SoleReplica(),
        probe=runtime.probe,
    )
    yield world, daemon, names
    world.close_runtime()


def _cycle(world: World, daemon: Daemon, names: list[str]) -> dict[str, dict[str, Any]]:
    world.reset_counters()
    assert daemon.run_cycle(names) == names
    with world.store.connect() as conn:
        rows = conn.execute(select(Run.flow, Run.status, Run.error).order_by(Run.id)).all()
    latest = {flow: (status, error) for flow, status, error in rows}
    failed = {name: latest[name] for name in names if latest[name][0] != "succeeded"}
    assert not failed, failed
    return {system: world.counters(system) for system in ("hubspot", "salesforce")}


def _calls(counters: dict[str, int]) -> int:
    return sum(n for endpoint, n in counters.items() if "oauth2" not in endpoint)


def _settle(world: World, daemon: Daemon, names: list[str]) -> None:
    for _ in range(3):  # the flows' own writes come back once; then every re-read window passes
        world.let_time_pass(400)
        _cycle(world, daemon, names)
    world.let_time_pass(60)


def test_each_touch_is_one_task_and_each_rep_activity_one_engagement(
    loop: tuple[World, Daemon, list[str]],
) -> None:
    world, daemon, names = loop
    _cycle(world, daemon, names)
    _settle(world, daemon, names)

    snapshot = world.get("salesforce", "/__sandbox/snapshot")
    task_keys = [
        t["HubSpot_Engagement_Id__c"]
        for t in snapshot["objects"]["Task"]
        if t.get("HubSpot_Engagement_Id__c")
    ]
    with world.store.connect() as conn:
        stored_keys = set(conn.scalars(select(TouchTask.task_key)))
        pushed = int(conn.execute(select(func.count()).select_from(ActivityEngagement)).scalar_one())
    assert task_keys, "the seeded quarter holds touches sales should see"
    assert [k for k, n in Counter(task_keys).items() if n > 1] == [], "a touch became two Tasks"
    assert {k for k in task_keys if not k.startswith("alert:")} == stored_keys

    hubspot = world.get("hubspot", "/__sandbox/snapshot")["objects"]
    source_ids = [
        e["properties"]["syncd_source_id"]
        for obj in ENGAGEMENT_OBJECTS
        for e in hubspot.get(obj, [])
        if e["properties"].get("syncd_source_id")
    ]
    assert source_ids, "the seeded quarter holds rep activities"
    assert [s for s, n in Counter(source_ids).items() if n > 1] == [], "an activity became two engagements"
    assert len(source_ids) == pushed


def test_a_rerun_writes_nothing_and_an_idle_cycle_of_every_flow_is_cheap(
    loop: tuple[World, Daemon, list[str]],
) -> None:
    world, daemon, names = loop
    _cycle(world, daemon, names)
    _settle(world, daemon, names)

    idle = _cycle(world, daemon, names)

    assert writes_in(idle["salesforce"]) == {} and writes_in(idle["hubspot"]) == {}
    assert _calls(idle["salesforce"]) <= 2, idle["salesforce"]
    assert _calls(idle["hubspot"]) <= 4, idle["hubspot"]


def test_lifecycle_stages_carry_the_instants_hubspot_recorded(loop: tuple[World, Daemon, list[str]]) -> None:
    world, daemon, names = loop
    _cycle(world, daemon, names)

    hubspot_mql: dict[str, datetime] = {}
    for contact in world.hubspot_contacts():
        stamp = contact["properties"].get("hs_lifecyclestage_marketingqualifiedlead_date")
        if stamp:
            hubspot_mql[contact["id"]] = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    with world.store.connect() as conn:
        person_of = {
            external_id: person
            for external_id, person in conn.execute(
                select(Identity.external_id, Identity.person_id).where(Identity.system == "hubspot")
            )
        }
        stored = {
            person: entered_at
            for person, entered_at in conn.execute(
                select(LifecycleEvent.person_id, LifecycleEvent.entered_at).where(
                    LifecycleEvent.stage == "mql", LifecycleEvent.source_system == "hubspot"
                )
            )
        }
    linked = {contact: when for contact, when in hubspot_mql.items() if contact in person_of}
    assert linked, "the seeded population has MQLs in HubSpot"
    assert {person_of[c]: when for c, when in linked.items()} == {
        person_of[c]: stored.get(person_of[c]) for c in linked
    }
