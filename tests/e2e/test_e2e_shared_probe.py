"""The contacts flow read through a cycle's shared change probe: no extra calls, no lost edit."""

from __future__ import annotations

from typing import Any

from syncd.engine.contacts import ContactFlow
from syncd.engine.runs import RunSummary
from tests.e2e.conftest import Never, World


def _cycle(world: World, flow: ContactFlow) -> RunSummary:
    """What the daemon does for a cycle: prefetch the flows' probes, run them, drop what is left."""
    assert world.runtime is not None
    world.runtime.probe.prefetch_for([flow])
    try:
        return flow.run("once", Never())
    finally:
        world.runtime.probe.discard()


def _salesforce_calls(world: World) -> int:
    return sum(n for k, n in world.counters("salesforce").items() if "oauth2" not in k)


def _a_linked_lead(world: World) -> tuple[str, str]:
    """(Salesforce Lead id, HubSpot contact id) of one person syncd linked."""
    people: dict[int, dict[str, Any]] = {}
    for identity in world.identities():
        if identity.active:
            people.setdefault(identity.person_id, {})[identity.system] = identity
    pair = next(p for p in people.values() if len(p) == 2 and p["salesforce"].object == "Lead")
    return pair["salesforce"].external_id, pair["hubspot"].external_id


def test_an_idle_cycle_through_the_shared_probe_costs_one_salesforce_call(world: World) -> None:
    world.reseed(seed=21, people=300)
    flow = world.flow()
    assert _cycle(world, flow).status == "succeeded"
    for _ in range(2):  # the re-read window after the first sync's writes passes
        world.let_time_pass(300)
        _cycle(world, flow)
    world.reset_counters()

    idle = _cycle(world, flow)

    assert idle.status == "succeeded", idle.error
    assert _salesforce_calls(world) == 1, world.counters("salesforce")
    assert idle.api_calls.get("salesforce", 0) == 0, "the flow itself read nothing: the probe served it"


def test_an_edit_made_after_the_probe_read_is_carried_by_the_next_cycle(world: World) -> None:
    world.reseed(seed=22, people=300)
    flow = world.flow()
    assert _cycle(world, flow).status == "succeeded"
    world.let_time_pass(300)
    lead_id, contact_id = _a_linked_lead(world)
    assert world.runtime is not None

    world.runtime.probe.prefetch_for([flow])
    world.post(
        "salesforce", f"/__sandbox/records/Lead/{lead_id}/edit", {"fields": {"Title": "Head of RevOps"}}
    )
    try:
        flow.run("once", Never())
    finally:
        world.runtime.probe.discard()
    world.let_time_pass(60)
    carried = _cycle(world, flow)

    assert carried.status == "succeeded", carried.error
    contact = next(c for c in world.hubspot_contacts() if c["id"] == contact_id)
    assert contact["properties"]["jobtitle"] == "Head of RevOps"
