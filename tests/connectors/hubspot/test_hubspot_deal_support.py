"""The HubSpot connector's deal support against the simulator: pipeline, associations, upserts by the link."""

from __future__ import annotations

from connectors.hubspot.connector import HubSpotConnector
from connectors.hubspot.sandbox import HubSpotSandbox
from syncd.connector import Write
from syncd.deals import Association


def test_the_pipeline_reads_its_stages_with_closed_and_won_flags(connector: HubSpotConnector) -> None:
    pipeline = connector.pipeline("deals", "default")
    assert pipeline.id == "default"
    assert pipeline.stage_ids[0] == "appointmentscheduled"
    won, lost = pipeline.stage("closedwon"), pipeline.stage("closedlost")
    assert won is not None and won.is_closed and won.is_won
    assert lost is not None and lost.is_closed and not lost.is_won
    assert not any(s.is_closed for s in pipeline.stages[:5])


def test_deals_upserted_by_the_link_property_are_created_once(connector: HubSpotConnector) -> None:
    fields = {"dealname": "Linked", "dealstage": "qualifiedtobuy", "pipeline": "default"}
    write = Write(
        "upsert",
        "r1",
        {**fields, "salesforce_opportunity_id": "006LINKTEST000001"},
        id_property="salesforce_opportunity_id",
    )
    [first] = connector.push("deals", [write])
    [again] = connector.push("deals", [write])
    assert first.ok and first.created and again.ok and not again.created
    assert first.id == again.id


def test_associations_are_read_added_and_removed_in_batches(
    connector: HubSpotConnector, sandbox: HubSpotSandbox
) -> None:
    [deal] = connector.push(
        "deals",
        [Write("create", "d", {"dealname": "Assoc", "dealstage": "qualifiedtobuy", "pipeline": "default"})],
    )
    assert deal.id is not None
    contacts = [str(i) for i in sandbox.state.store.table("contacts").ids[:2]]
    pairs = [Association(deal.id, c) for c in contacts]
    assert connector.associate("deals", "contacts", pairs, 3) == []
    assert connector.associate("deals", "contacts", pairs, 3) == []  # repeating it is harmless
    assert sorted(a.to_id for a in connector.associations("deals", "contacts", [deal.id])) == sorted(contacts)
    refused = connector.associate("deals", "contacts", [Association(deal.id, "999999999")], 3)
    assert refused == [Association(deal.id, "999999999")]
    connector.dissociate("deals", "contacts", pairs[:1])
    assert [a.to_id for a in connector.associations("deals", "contacts", [deal.id])] == contacts[1:]
    assert connector.associations("deals", "contacts", ["123456789"]) == []
