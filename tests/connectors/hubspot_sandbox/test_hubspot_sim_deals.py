"""Deals in the HubSpot simulator through the official SDK: seeded deals, upsert by a unique property,
stage dates, association changes moving the deal, and the control plane's stage move."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hubspot import HubSpot
from hubspot.crm.associations.v4 import (
    BatchInputPublicAssociationMultiArchive,
    BatchInputPublicAssociationMultiPost,
    BatchInputPublicFetchAssociationsBatchRequest,
    PublicAssociationMultiArchive,
    PublicAssociationMultiPost,
    PublicFetchAssociationsBatchRequest,
    PublicObjectId,
)
from hubspot.crm.associations.v4.models.association_spec import AssociationSpec
from hubspot.crm.deals import ApiException as DealsApiException
from hubspot.crm.deals import (
    BatchInputSimplePublicObjectBatchInputUpsert,
    BatchReadInputSimplePublicObjectId,
    SimplePublicObjectBatchInputUpsert,
    SimplePublicObjectId,
)
from hubspot.crm.deals import SimplePublicObjectInputForCreate as DealInput

from connectors.hubspot.sandbox import HubSpotSandbox
from connectors.sandbox_core.deals import HUBSPOT_DEAL_ID_BASE, build_deals
from connectors.sandbox_core.population import build_population
from tests.connectors.hubspot_sandbox.conftest import control

LINK = "salesforce_opportunity_id"


def _upsert(client: HubSpot, key: str, properties: dict[str, str]) -> object:
    batch = BatchInputSimplePublicObjectBatchInputUpsert(
        inputs=[SimplePublicObjectBatchInputUpsert(id=key, id_property=LINK, properties=properties)]
    )
    return client.crm.deals.batch_api.upsert(batch)


def test_seeded_deals_come_from_the_shared_deal_population(sandbox: HubSpotSandbox, client: HubSpot) -> None:
    state = sandbox.state
    # The portal was seeded at its creation instant plus the 730 days of history it holds.
    population = build_population(state.seed, state.contacts, now=state.portal_created + timedelta(days=730))
    seeded = [d for d in build_deals(population) if d.in_hubspot]
    ids = sandbox.state.store.table("deals").ids
    assert ids[: len(seeded)] == [d.hubspot_id for d in seeded][: len(ids)]
    assert all(i > HUBSPOT_DEAL_ID_BASE for i in ids[: len(seeded)])
    page = client.crm.deals.batch_api.read(
        BatchReadInputSimplePublicObjectId(
            inputs=[SimplePublicObjectId(id=str(i)) for i in ids[:20]],
            properties=["dealstage", "hs_is_closed_won", "num_associated_contacts"]
            + [f"hs_date_entered_{s}" for s in ("appointmentscheduled", "closedwon")],
        )
    )
    stages = {r.properties["dealstage"] for r in page.results}
    assert stages & {"closedwon", "closedlost"} and stages - {"closedwon", "closedlost"}
    for deal in page.results:
        assert deal.properties["hs_date_entered_appointmentscheduled"]
        assert int(deal.properties["num_associated_contacts"]) >= 1
        assert (deal.properties["hs_is_closed_won"] == "true") == (
            deal.properties["dealstage"] == "closedwon"
        )


def test_deals_are_upserted_by_a_unique_property_once(client: HubSpot) -> None:
    first = _upsert(
        client,
        "006TESTUPSERT0001",
        {"dealname": "Upserted", "dealstage": "qualifiedtobuy", "pipeline": "default"},
    )
    again = _upsert(client, "006TESTUPSERT0001", {"amount": "1234"})
    assert first.results[0].new is True and again.results[0].new is False  # type: ignore[attr-defined]
    assert first.results[0].id == again.results[0].id  # type: ignore[attr-defined]
    read = client.crm.deals.batch_api.read(
        BatchReadInputSimplePublicObjectId(
            inputs=[SimplePublicObjectId(id="006TESTUPSERT0001")],
            id_property=LINK,
            properties=["amount", LINK],
        )
    )
    assert read.results[0].properties["amount"] == "1234"


def test_a_second_deal_with_the_same_unique_value_is_a_409(client: HubSpot) -> None:
    _upsert(
        client,
        "006TESTUNIQUE0001",
        {"dealname": "Unique", "dealstage": "qualifiedtobuy", "pipeline": "default"},
    )
    with pytest.raises(DealsApiException) as refused:
        client.crm.deals.basic_api.create(
            DealInput(
                properties={
                    "dealname": "Copy",
                    "dealstage": "qualifiedtobuy",
                    "pipeline": "default",
                    LINK: "006TESTUNIQUE0001",
                }
            )
        )
    assert refused.value.status == 409


def test_a_stage_move_sets_its_entry_date_and_the_won_flags(
    sandbox: HubSpotSandbox, client: HubSpot, http: object
) -> None:
    deal = client.crm.deals.basic_api.create(
        DealInput(
            properties={"dealname": "Moving", "dealstage": "appointmentscheduled", "pipeline": "default"}
        )
    )
    moved = control(http, sandbox, "POST", f"/deals/{deal.id}/stage", {"stage": "closedwon"})  # type: ignore[arg-type]
    props = moved["properties"]
    assert props["dealstage"] == "closedwon" and props["hs_is_closed_won"] == "true"
    entered = datetime.fromisoformat(props["hs_date_entered_closedwon"].replace("Z", "+00:00"))
    assert abs((entered - sandbox.state.clock.now()).total_seconds()) < 5
    assert props["hs_lastmodifieddate"] >= props["hs_date_entered_closedwon"]


def test_associating_a_contact_recounts_the_deal_and_moves_it(
    sandbox: HubSpotSandbox, client: HubSpot
) -> None:
    deal = client.crm.deals.basic_api.create(
        DealInput(
            properties={"dealname": "Counted", "dealstage": "appointmentscheduled", "pipeline": "default"}
        )
    )
    before = client.crm.deals.basic_api.get_by_id(deal.id, properties=["num_associated_contacts"])
    contact = str(sandbox.state.store.table("contacts").ids[0])
    spec = AssociationSpec(association_category="HUBSPOT_DEFINED", association_type_id=3)
    client.crm.associations.v4.batch_api.create(
        "deals",
        "contacts",
        BatchInputPublicAssociationMultiPost(
            inputs=[
                PublicAssociationMultiPost(
                    _from=PublicObjectId(id=deal.id), to=PublicObjectId(id=contact), types=[spec]
                )
            ]
        ),
    )
    after = client.crm.deals.basic_api.get_by_id(deal.id, properties=["num_associated_contacts"])
    assert after.properties["num_associated_contacts"] == "1"
    assert after.properties["hs_lastmodifieddate"] >= before.properties["hs_lastmodifieddate"]
    assert after.updated_at >= before.updated_at
    # Removing it through batch/archive recounts again; archiving a pair that is gone is harmless.
    archive = BatchInputPublicAssociationMultiArchive(
        inputs=[
            PublicAssociationMultiArchive(_from=PublicObjectId(id=deal.id), to=[PublicObjectId(id=contact)])
        ]
    )
    client.crm.associations.v4.batch_api.archive("deals", "contacts", archive)
    client.crm.associations.v4.batch_api.archive("deals", "contacts", archive)
    gone = client.crm.associations.v4.batch_api.get_page(
        "deals",
        "contacts",
        BatchInputPublicFetchAssociationsBatchRequest(
            inputs=[PublicFetchAssociationsBatchRequest(id=deal.id)]
        ),
    )
    assert gone.results == []
    final = client.crm.deals.basic_api.get_by_id(deal.id, properties=["num_associated_contacts"])
    assert final.properties["num_associated_contacts"] == "0"
