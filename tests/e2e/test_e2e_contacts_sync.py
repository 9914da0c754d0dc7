"""The contact sync's promises on a seeded population of about a thousand people per system.

The first sync runs once for the module; each later test starts from a converged state and leaves one.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import pytest

from syncd.connector import Write
from syncd.core.normalize import canonical_email
from syncd.engine.runs import RunSummary

from .conftest import World

PEOPLE = 700


def _email(record: dict[str, Any]) -> str | None:
    raw = record["properties"].get("email") if "properties" in record else record.get("Email")
    return canonical_email(raw)


@dataclass
class FirstSync:
    summary: RunSummary
    hubspot_before: list[dict[str, Any]]
    salesforce_before: list[dict[str, Any]]
    # Pairs given differing values before the first sync, by what they test.
    differing: dict[str, tuple[dict[str, Any], dict[str, Any]]]


def _make_differences(world: World) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """People on both sides whose values users changed differently before syncd ever ran."""
    pairs = [
        (c, p)
        for c, p in _pairs(world.hubspot_contacts(), world.salesforce_people())
        if p["sobject"] == "Lead"
    ]
    names = ["hubspot_newer", "salesforce_newer", "hubspot_opted_out", "salesforce_opted_out", "company"]
    chosen = dict(zip(names, pairs[: len(names)], strict=True))

    def hub(name: str, properties: dict[str, Any]) -> None:
        world.post(
            "hubspot",
            f"/__sandbox/objects/contacts/{chosen[name][0]['id']}/properties",
            {"properties": properties},
        )

    def crm(name: str, fields: dict[str, Any]) -> None:
        world.post("salesforce", f"/__sandbox/records/Lead/{chosen[name][1]['Id']}/edit", {"fields": fields})

    crm("hubspot_newer", {"Title": "Title set in Salesforce"})
    hub("salesforce_newer", {"jobtitle": "Title set in HubSpot"})
    world.let_time_pass(5)
    hub("hubspot_newer", {"jobtitle": "Newer title from HubSpot"})
    crm("salesforce_newer", {"Title": "Newer title from Salesforce"})
    hub("hubspot_opted_out", {"hs_email_optout": "true"})
    crm("hubspot_opted_out", {"HasOptedOutOfEmail": False})
    hub("salesforce_opted_out", {"hs_email_optout": "false"})
    crm("salesforce_opted_out", {"HasOptedOutOfEmail": True})
    hub("company", {"company": "Company in HubSpot"})
    crm("company", {"Company": "Company in Salesforce"})
    world.let_time_pass(5)
    return chosen


@pytest.fixture(scope="module")
def first(world: World) -> FirstSync:
    world.reseed(seed=11, people=PEOPLE)
    differing = _make_differences(world)
    hubspot_before = world.hubspot_contacts()
    salesforce_before = world.salesforce_people()
    summary = world.run()
    assert summary.status == "succeeded", summary.error
    return FirstSync(summary, hubspot_before, salesforce_before, differing)


def _writes_and_state(world: World) -> tuple[dict[str, int], dict[str, str], dict[str, str]]:
    """Salesforce collection writes counted by the simulator, and every record's last-modified stamp."""
    counters = world.counters("salesforce")
    sf_writes = {k: n for k, n in counters.items() if k.endswith("/composite/sobjects")}
    hubspot = {c["id"]: c["updatedAt"] for c in world.hubspot_contacts()}
    salesforce = {p["Id"]: p["SystemModstamp"] for p in world.salesforce_people()}
    return sf_writes, hubspot, salesforce


def _linked(world: World) -> dict[int, dict[str, tuple[str, str]]]:
    people: dict[int, dict[str, tuple[str, str]]] = {}
    for identity in world.identities():
        if identity.active:
            people.setdefault(identity.person_id, {})[identity.system] = (
                identity.object,
                identity.external_id,
            )
    return {p: ids for p, ids in people.items() if len(ids) == 2}


def test_first_sync_puts_every_valid_person_on_both_sides_exactly_once(
    world: World, first: FirstSync
) -> None:
    hubspot = world.hubspot_contacts()
    salesforce = world.salesforce_people()
    hubspot_emails = Counter(e for c in hubspot if (e := _email(c)))
    salesforce_emails = {e for p in salesforce if (e := _email(p))}
    assert hubspot_emails and salesforce_emails
    assert [e for e, n in hubspot_emails.items() if n > 1] == [], "two HubSpot contacts share an email"
    assert set(hubspot_emails) == salesforce_emails, "someone exists on one side only"
    before = {e for p in first.salesforce_before if (e := _email(p))}
    old_ids = {p["Id"] for p in first.salesforce_before}
    new_duplicates = [p["Id"] for p in salesforce if p["Id"] not in old_ids and _email(p) in before]
    assert new_duplicates == [], "a Lead was created for someone Salesforce already had"
    created = first.summary.counts
    assert created.get("hubspot.created", 0) > 0 and created.get("salesforce.created", 0) > 0


def test_first_sync_quarantines_invalid_emails_with_reasons_and_syncs_the_rest(
    world: World, first: FirstSync
) -> None:
    invalid = {f"hubspot/contacts/{c['id']}" for c in first.hubspot_before if not _email(c)} | {
        f"salesforce/{p['sobject']}/{p['Id']}" for p in first.salesforce_before if not _email(p)
    }
    assert invalid, "the seeded population has invalid emails"
    issues = [i for i in world.issues() if i.category == "invalid_email"]
    assert {i.record_key for i in issues} == invalid
    # People entered twice in Salesforce: one record is synced, the other stays quarantined.
    twice = Counter(e for p in first.salesforce_before if (e := _email(p)) is not None)
    duplicated = {e for e, n in twice.items() if n > 1}
    open_duplicates = {i.record_key for i in world.issues() if i.category == "duplicate"}
    assert duplicated and duplicated <= open_duplicates
    for system in ("hubspot", "salesforce"):
        held = sum(1 for key in invalid if key.startswith(system))
        assert first.summary.counts.get(f"{system}.quarantined", 0) >= held
    assert all(i.message.startswith(f"{i.record_key}: email ") for i in issues), [i.message for i in issues]
    # Nobody with an invalid email was copied across.
    assert all(
        _email(c) for c in world.hubspot_contacts() if c["id"] not in {c["id"] for c in first.hubspot_before}
    )


def test_rerun_right_after_writes_nothing_and_an_idle_cycle_is_cheap(world: World, first: FirstSync) -> None:
    world.reset_counters()
    _, hubspot_before, salesforce_before = _writes_and_state(world)
    rerun = world.run()
    assert rerun.status == "succeeded", rerun.error
    sf_writes, hubspot_after, salesforce_after = _writes_and_state(world)
    assert sf_writes == {}
    assert hubspot_after == hubspot_before, "a HubSpot contact was written"
    assert salesforce_after == salesforce_before, "a Salesforce record was written"
    assert not [k for k in rerun.counts if k.endswith(("created", "updated"))], rerun.counts
    # A scheduling interval later the lag window has been re-read once; from then on a cycle with
    # nothing to do only asks each system what changed.
    world.let_time_pass(300)
    world.run()
    world.let_time_pass(300)
    world.reset_counters()
    idle = world.run()
    assert idle.status == "succeeded", idle.error
    hubspot_calls = sum(world.counters("hubspot").values())
    salesforce_calls = sum(n for k, n in world.counters("salesforce").items() if "oauth2" not in k)
    assert salesforce_calls <= 1, world.counters("salesforce")
    assert hubspot_calls <= 1, world.counters("hubspot")
    assert idle.api_calls["salesforce"] <= 1 and idle.api_calls["hubspot"] <= 1


def test_one_sided_edits_cross_once_and_do_not_echo(world: World, first: FirstSync) -> None:
    linked = list(_linked(world).values())
    hubspot_edit, salesforce_edit = linked[-4], linked[-5]
    _, hubspot_id = hubspot_edit["hubspot"]
    world.post(
        "hubspot",
        f"/__sandbox/objects/contacts/{hubspot_id}/properties",
        {"properties": {"jobtitle": "VP Demand Generation"}},
    )
    sf_object, sf_id = salesforce_edit["salesforce"]
    world.post(
        "salesforce", f"/__sandbox/records/{sf_object}/{sf_id}/edit", {"fields": {"Title": "Head of RevOps"}}
    )
    world.let_time_pass(60)
    crossing = world.run()
    assert crossing.status == "succeeded", crossing.error
    assert crossing.counts.get("salesforce.updated") == 1 and crossing.counts.get("hubspot.updated") == 1
    assert _salesforce_record(world, *hubspot_edit["salesforce"])["Title"] == "VP Demand Generation"
    assert (
        _hubspot_contact(world, salesforce_edit["hubspot"][1])["properties"]["jobtitle"] == "Head of RevOps"
    )
    world.let_time_pass(60)
    after = world.run()
    assert not [k for k in after.counts if k.endswith(("created", "updated"))], after.counts


def test_one_hubspot_edit_costs_salesforce_a_probe_a_read_and_a_write(world: World, first: FirstSync) -> None:
    # Quiet first: the re-read window after earlier writes is consumed.
    for _ in range(2):
        world.let_time_pass(300)
        world.run()
    person = next(ids for ids in _linked(world).values() if ids["salesforce"][0] == "Lead")
    world.post(
        "hubspot",
        f"/__sandbox/objects/contacts/{person['hubspot'][1]}/properties",
        {"properties": {"jobtitle": "Director of Lifecycle"}},
    )
    world.let_time_pass(60)
    world.reset_counters()

    summary = world.run()

    assert summary.counts.get("salesforce.updated") == 1, summary.counts
    calls = world.counters("salesforce")
    # The composite probe of both objects, the linked Lead read by id, and the update: no lookup by
    # email, since the person's email did not change.
    assert sum(calls.values()) == 3, calls


def _salesforce_record(world: World, sobject: str, record_id: str) -> dict[str, Any]:
    snapshot = world.get("salesforce", "/__sandbox/snapshot")
    return next(r for r in snapshot["objects"][sobject] if r["Id"] == record_id)


def _hubspot_contact(world: World, contact_id: str) -> dict[str, Any]:
    return next(c for c in world.hubspot_contacts() if c["id"] == contact_id)


def _pairs(
    hubspot: list[dict[str, Any]], salesforce: list[dict[str, Any]]
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """People held once on each side, by email."""
    by_email: dict[str, list[dict[str, Any]]] = {}
    for person in salesforce:
        if (email := _email(person)) is not None:
            by_email.setdefault(email, []).append(person)
    pairs = []
    for contact in hubspot:
        email = _email(contact)
        if email is not None and len(by_email.get(email, [])) == 1:
            pairs.append((contact, by_email[email][0]))
    return pairs


def test_first_sync_with_differing_values_follows_each_fields_rule(world: World, first: FirstSync) -> None:
    def values(name: str) -> tuple[dict[str, Any], dict[str, Any]]:
        contact, person = first.differing[name]
        return _hubspot_contact(world, contact["id"])["properties"], _salesforce_record(
            world, "Lead", person["Id"]
        )

    # two_way: the side modified later wins.
    hub, crm = values("hubspot_newer")
    assert hub["jobtitle"] == crm["Title"] == "Newer title from HubSpot"
    hub, crm = values("salesforce_newer")
    assert hub["jobtitle"] == crm["Title"] == "Newer title from Salesforce"
    # most_restrictive: an opt-out on either side wins.
    for name in ("hubspot_opted_out", "salesforce_opted_out"):
        hub, crm = values(name)
        assert hub["hs_email_optout"] == "true" and crm["HasOptedOutOfEmail"] is True, name
    # prefer_crm_unless_blank: the CRM's company.
    hub, crm = values("company")
    assert hub["company"] == crm["Company"] == "Company in Salesforce"
    # write_once: a lead source Salesforce already holds is never overwritten.
    after = {p["Id"]: p for p in world.salesforce_people()}
    kept = [
        p["LeadSource"] == after[p["Id"]]["LeadSource"]
        for c, p in _pairs(first.hubspot_before, first.salesforce_before)
        if p["sobject"] == "Lead" and p.get("LeadSource") and c["properties"].get("hs_analytics_source")
    ]
    assert kept and all(kept)


def test_conflicting_edits_follow_each_fields_rule(world: World, first: FirstSync) -> None:
    leads = [ids for ids in _linked(world).values() if ids["salesforce"][0] == "Lead"]
    title_person, optout_person, source_person = leads[-1], leads[-2], leads[-3]
    # two_way: both sides change the title; Salesforce's edit is the newer one.
    _edit_hubspot(world, title_person, {"jobtitle": "Marketing Ops Lead"})
    world.let_time_pass(5)
    _edit_salesforce(world, title_person, {"Title": "Director of Sales Ops"})
    # most_restrictive: Salesforce opts out, HubSpot opts back in later; the opt-out still wins.
    _edit_salesforce(world, optout_person, {"HasOptedOutOfEmail": True})
    world.let_time_pass(5)
    _edit_hubspot(world, optout_person, {"hs_email_optout": "false", "jobtitle": "Buyer"})
    # write_once: the original source changes in HubSpot; Salesforce keeps the one it has.
    lead_source = _salesforce_record(world, *source_person["salesforce"])["LeadSource"]
    _edit_hubspot(world, source_person, {"hs_analytics_source": "OFFLINE"}, internal=True)
    _edit_salesforce(world, source_person, {"LeadSource": "Partner Referral"})
    world.let_time_pass(60)
    summary = world.run()
    assert summary.status == "succeeded", summary.error
    assert summary.conflicts >= 1
    assert _salesforce_record(world, *title_person["salesforce"])["Title"] == "Director of Sales Ops"
    assert (
        _hubspot_contact(world, title_person["hubspot"][1])["properties"]["jobtitle"]
        == "Director of Sales Ops"
    )
    assert _salesforce_record(world, *optout_person["salesforce"])["HasOptedOutOfEmail"] is True
    assert _hubspot_contact(world, optout_person["hubspot"][1])["properties"]["hs_email_optout"] == "true"
    assert lead_source != "Partner Referral"
    assert _salesforce_record(world, *source_person["salesforce"])["LeadSource"] == "Partner Referral"
    world.let_time_pass(60)
    after = world.run()
    assert not [k for k in after.counts if k.endswith(("created", "updated"))], after.counts


def _edit_hubspot(
    world: World, ids: dict[str, tuple[str, str]], properties: dict[str, Any], *, internal: bool = False
) -> None:
    world.post(
        "hubspot",
        f"/__sandbox/objects/contacts/{ids['hubspot'][1]}/properties",
        {"properties": properties, "internal": internal},
    )


def _edit_salesforce(world: World, ids: dict[str, tuple[str, str]], fields: dict[str, Any]) -> None:
    sobject, record_id = ids["salesforce"]
    world.post("salesforce", f"/__sandbox/records/{sobject}/{record_id}/edit", {"fields": fields})


def _identity(world: World, system: str, external_id: str) -> Any:
    return next(i for i in world.identities() if i.system == system and i.external_id == external_id)


def _quiet_cycle(world: World) -> None:
    world.let_time_pass(60)
    after = world.run()
    assert after.status == "succeeded", after.error
    assert not [k for k in after.counts if k.endswith(("created", "updated"))], after.counts


def test_a_converted_lead_is_followed_to_its_contact_without_creating_anyone(
    world: World, first: FirstSync
) -> None:
    ids = next(i for i in reversed(list(_linked(world).values())) if i["salesforce"][0] == "Lead")
    lead_id, hubspot_id = ids["salesforce"][1], ids["hubspot"][1]
    contacts_before = len(world.hubspot_contacts())
    people_before = len(world.salesforce_people())
    converted = world.post("salesforce", f"/__sandbox/leads/{lead_id}/convert", {})
    world.let_time_pass(60)
    summary = world.run()
    assert summary.status == "succeeded", summary.error
    assert not [k for k in summary.counts if k.endswith("created")], summary.counts
    lead, contact = (
        _identity(world, "salesforce", lead_id),
        _identity(world, "salesforce", converted["contactId"]),
    )
    assert (lead.active, lead.reason, lead.replaced_by) == (False, "converted", converted["contactId"])
    assert contact.active and contact.object == "Contact"
    assert contact.person_id == _identity(world, "hubspot", hubspot_id).person_id
    assert len(world.hubspot_contacts()) == contacts_before
    assert len(world.salesforce_people()) == people_before  # the Lead became the Contact
    _quiet_cycle(world)


def test_a_salesforce_merge_keeps_one_person_and_creates_no_one(world: World, first: FirstSync) -> None:
    assert world.runtime is not None
    ids = [ids for ids in _linked(world).values() if ids["salesforce"][0] == "Lead"][30]
    sobject, linked_id = ids["salesforce"]
    loser = _salesforce_record(world, sobject, linked_id)
    email = _email(loser)
    # Someone enters the person again: a copy of the Lead, which syncd quarantines as a duplicate.
    # (A copy: a merge master with other values would also test how those values sync.)
    copied = ("FirstName", "LastName", "Company", "Title", "Phone", "City", "Country", "Status", "LeadSource")
    fields = {name: loser[name] for name in copied if loser.get(name) is not None}
    created = world.runtime.salesforce.push(
        "Lead", [Write(op="create", ref="t", fields={**fields, "Email": email})]
    )
    assert created[0].ok, created
    world.let_time_pass(60)
    world.run()
    assert any(i.category == "duplicate" and i.record_key == email for i in world.issues())
    master = _salesforce_record(world, "Lead", str(created[0].id))
    person_id = _identity(world, "salesforce", linked_id).person_id
    contacts_before = len(world.hubspot_contacts())
    world.post(
        "salesforce",
        "/__sandbox/merge",
        {"sobject": sobject, "master_id": master["Id"], "loser_ids": [loser["Id"]]},
    )
    world.let_time_pass(60)
    summary = world.run()
    assert summary.status == "succeeded", summary.error
    assert not [k for k in summary.counts if k.endswith("created")], summary.counts
    retired = _identity(world, "salesforce", loser["Id"])
    assert (retired.active, retired.reason) == (False, "merged")
    survivor = _identity(world, "salesforce", master["Id"])
    assert survivor.active and survivor.person_id == person_id
    assert len(world.hubspot_contacts()) == contacts_before
    assert sum(1 for p in world.salesforce_people() if _email(p) == email) == 1
    _quiet_cycle(world)


def test_a_hubspot_merge_keeps_one_contact_and_creates_no_one(world: World, first: FirstSync) -> None:
    people = [ids for ids in _linked(world).values()][10:12]
    primary, other = people[0]["hubspot"][1], people[1]["hubspot"][1]
    person_id = _identity(world, "hubspot", primary).person_id
    contacts_before = len(world.hubspot_contacts())
    salesforce_before = len(world.salesforce_people())
    merged = world.post("hubspot", "/__sandbox/merge", {"primaryObjectId": primary, "objectIdToMerge": other})
    assert merged["id"] not in (primary, other)
    world.let_time_pass(60)
    summary = world.run()
    assert summary.status == "succeeded", summary.error
    assert not [k for k in summary.counts if k.endswith("created")], summary.counts
    new = _identity(world, "hubspot", merged["id"])
    assert new.active and new.person_id == person_id
    for old in (primary, other):
        identity = _identity(world, "hubspot", old)
        assert (identity.active, identity.reason) == (False, "merged")
    assert len(world.hubspot_contacts()) == contacts_before - 1
    assert len(world.salesforce_people()) == salesforce_before
    _quiet_cycle(world)


def test_deletes_become_tombstones_and_are_not_propagated(world: World, first: FirstSync) -> None:
    assert world.runtime is not None
    people = [ids for ids in _linked(world).values() if ids["salesforce"][0] == "Lead"][20:22]
    sf_deleted, hub_deleted = people[0], people[1]
    result = world.runtime.salesforce.push(
        "Lead", [Write(op="delete", ref="t", id=sf_deleted["salesforce"][1])]
    )
    assert result[0].ok, result
    result = world.runtime.hubspot.push(
        "contacts", [Write(op="delete", ref="t", id=hub_deleted["hubspot"][1])]
    )
    assert result[0].ok, result
    # A HubSpot delete is seen when syncd next reads the person: here a Salesforce user edits them.
    _edit_salesforce(world, hub_deleted, {"Title": "Procurement"})
    contacts_before = len(world.hubspot_contacts())
    world.let_time_pass(60)
    summary = world.run()
    assert summary.status == "succeeded", summary.error
    assert not [k for k in summary.counts if k.endswith("created")], summary.counts
    for system, ids in (("salesforce", sf_deleted), ("hubspot", hub_deleted)):
        identity = _identity(world, system, ids[system][1])
        assert (identity.active, identity.reason) == (False, "deleted"), system
    # The other side keeps its record.
    assert _hubspot_contact(world, sf_deleted["hubspot"][1])
    assert _salesforce_record(world, *hub_deleted["salesforce"])["IsDeleted"] is False
    assert len(world.hubspot_contacts()) == contacts_before
    # A later change on the surviving side does not bring the deleted record back.
    _edit_salesforce(world, hub_deleted, {"Title": "Head of Procurement"})
    world.let_time_pass(60)
    later = world.run()
    assert later.status == "succeeded", later.error
    assert not [k for k in later.counts if k.endswith("created")], later.counts
    assert len(world.hubspot_contacts()) == contacts_before
    _quiet_cycle(world)
