"""Lifecycle events from the records the contacts flow pulls, through the real SDKs: the right instants,
nothing twice, conversions keeping events on their person, and no extra API call."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from syncd.cli.compose import Runtime
from syncd.connector import Write
from syncd.core.instants import instant
from syncd.core.lifecycle import LifecycleSettings, lifecycle_fields, observe
from syncd.engine.lifecycle_store import LifecycleWrite, record_lifecycle
from syncd.store.models import LifecycleEvent
from tests.e2e_campaigns.world import Recording, World

SETTINGS = LifecycleSettings()
STAGE = {
    "subscriber": "subscriber",
    "lead": "lead",
    "marketingqualifiedlead": "mql",
    "salesqualifiedlead": "sql",
    "opportunity": "opportunity",
    "customer": "customer",
}


class Pulls:
    """The contacts flow, its pulls widened by lifecycle's fields and recorded; then lifecycle."""

    def __init__(self, world: World) -> None:
        assert world.runtime is not None
        self.world = world
        self.hubspot = Recording(
            world.runtime.hubspot, lambda obj: lifecycle_fields(SETTINGS, "hubspot", obj)
        )
        self.salesforce = Recording(
            world.runtime.salesforce, lambda obj: lifecycle_fields(SETTINGS, "salesforce", obj)
        )
        self.runtime = Runtime(self.hubspot, self.salesforce, world.runtime.store)  # type: ignore[arg-type]

    def sync(self) -> LifecycleWrite:
        self.hubspot.pulled.clear()
        self.salesforce.pulled.clear()
        self.world.sync_contacts(self.runtime)
        observed = observe("hubspot", self.hubspot.pulled) + observe("salesforce", self.salesforce.pulled)
        with self.world.store.begin() as conn:
            return record_lifecycle(conn, observed, SETTINGS, self.world.clock.now())


def events(world: World) -> set[tuple[int, str, datetime, str]]:
    with world.store.connect() as conn:
        rows = conn.execute(
            select(
                LifecycleEvent.person_id,
                LifecycleEvent.stage,
                LifecycleEvent.entered_at,
                LifecycleEvent.source_system,
            )
        )
        return {(p, s, at.astimezone(UTC), src) for p, s, at, src in rows}


def hubspot_contacts(world: World) -> dict[str, dict[str, Any]]:
    rows = world.snapshot("hubspot")["objects"]["contacts"]
    return {r["id"]: r["properties"] for r in rows if not r.get("archived")}


def expected_hubspot(world: World) -> set[tuple[int, str, datetime, str]]:
    linked = world.linked("hubspot")
    found = set()
    for contact_id, props in hubspot_contacts(world).items():
        if contact_id not in linked:
            continue
        for value, stage in STAGE.items():
            when = instant(props.get(f"hs_lifecyclestage_{value}_date"))
            if when is not None:
                found.add((linked[contact_id], stage, when, "hubspot"))
    return found


def test_stage_instants_come_from_the_records_the_contacts_flow_pulled(world: World) -> None:
    pulls = Pulls(world)

    first = pulls.sync()
    # The next cycle reads the records the first one created in either system (Leads for HubSpot-only
    # people, HubSpot contacts for Salesforce-only ones) and the stage changes it wrote.
    second = pulls.sync()

    hubspot = expected_hubspot(world)
    stored = events(world)
    assert hubspot and hubspot <= stored
    linked = world.linked("salesforce")
    leads = [r for r in world.records("Lead") if r["Id"] in linked]
    for lead in leads:
        assert (linked[lead["Id"]], "lead", instant(lead["CreatedDate"]), "salesforce") in stored
    converted = [lead for lead in world.records("Lead") if lead.get("IsConverted")]
    assert converted
    sql = {(p, at.date()) for p, stage, at, src in stored if stage == "sql" and src == "salesforce"}
    for lead in converted:
        # A Lead converted before syncd first ran was never linked itself: its Contact names the person.
        person = world.person_of("salesforce", lead["ConvertedContactId"])
        assert (person, datetime.fromisoformat(lead["ConvertedDate"]).date()) in sql
    assert first.inserted + second.inserted + second.moved_earlier == len(stored)
    # Once per person, stage and source.
    assert len({(p, s, src) for p, s, _, src in stored}) == len(stored)

    again = pulls.sync()
    assert again == LifecycleWrite()
    assert events(world) == stored


def test_lifecycle_costs_no_api_call_of_its_own(world: World) -> None:
    """An idle contacts cycle reading lifecycle's fields costs what one without them costs."""
    pulls = Pulls(world)
    pulls.sync()
    pulls.sync()
    world.let_time_pass(600)  # past every re-read window
    world.sync_contacts()
    world.reset_counters()
    world.sync_contacts()
    plain = (world.calls("salesforce"), world.calls("hubspot"))
    world.reset_counters()
    written = pulls.sync()
    assert (world.calls("salesforce"), world.calls("hubspot")) == plain
    assert written == LifecycleWrite()


def test_a_stage_entered_later_and_a_conversion_keep_their_instants_and_person(world: World) -> None:
    pulls = Pulls(world)
    pulls.sync()
    assert world.runtime is not None
    linked = world.linked("hubspot")
    props = hubspot_contacts(world)
    contact_id = next(
        cid for cid, p in props.items() if cid in linked and p.get("lifecyclestage") in ("subscriber", "lead")
    )
    world.let_time_pass(600)
    moved_at = world.clock.now()
    result = world.runtime.hubspot.push(
        "contacts", [Write("update", "c", {"lifecyclestage": "marketingqualifiedlead"}, id=contact_id)]
    )[0]
    assert result.ok, result.error
    date_set = instant(hubspot_contacts(world)[contact_id]["hs_lifecyclestage_marketingqualifiedlead_date"])
    assert date_set is not None and abs((date_set - moved_at).total_seconds()) < 5

    sf_linked = world.linked("salesforce")
    lead = next(r for r in world.records("Lead") if r["Id"] in sf_linked and not r.get("IsConverted"))
    person = sf_linked[lead["Id"]]
    people_before = len(set(world.linked("salesforce").values()) | set(world.linked("hubspot").values()))
    world.let_time_pass(600)
    world.post("salesforce", f"/__sandbox/leads/{lead['Id']}/convert", {"create_opportunity": True})
    converted = next(r for r in world.snapshot("salesforce")["objects"]["Lead"] if r["Id"] == lead["Id"])

    pulls.sync()

    stored = events(world)
    assert (linked[contact_id], "mql", date_set, "hubspot") in stored
    conversion = instant(converted["LastModifiedDate"])
    assert (person, "sql", conversion, "salesforce") in stored
    assert (person, "opportunity", conversion, "salesforce") in stored
    assert world.person_of("salesforce", converted["ConvertedContactId"]) == person
    assert (
        len(set(world.linked("salesforce").values()) | set(world.linked("hubspot").values())) == people_before
    )
    # A replay of the same pulls writes nothing.
    assert pulls.sync() == LifecycleWrite()
