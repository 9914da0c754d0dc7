"""The simulator keeps "Became a <stage> date" (hs_lifecyclestage_<stage>_date) as HubSpot does: set when a
contact first enters a stage, through the official SDK; backward moves are ignored unless cleared first."""

from __future__ import annotations

from datetime import datetime

import pytest
from hubspot.crm.contacts import ApiException as ContactsApiException
from hubspot.crm.contacts import SimplePublicObjectInput, SimplePublicObjectInputForCreate

from tests.connectors.hubspot_sandbox.conftest import control

DATES = [
    f"hs_lifecyclestage_{s}_date"
    for s in ("lead", "marketingqualifiedlead", "salesqualifiedlead", "customer")
]


def _dates(client, contact_id: str) -> dict[str, str | None]:
    record = client.crm.contacts.basic_api.get_by_id(contact_id, properties=["lifecyclestage", *DATES])
    return {k: v for k, v in record.properties.items() if k in ("lifecyclestage", *DATES)}


def _move(http, sandbox, client, contact_id: str, stage: str, seconds: int = 3600) -> None:
    control(http, sandbox, "POST", "/clock", {"advance_seconds": seconds})
    client.crm.contacts.basic_api.update(
        contact_id, SimplePublicObjectInput(properties={"lifecyclestage": stage})
    )


def test_each_stage_entered_gets_its_date_once_and_backward_moves_change_nothing(http, sandbox, client):
    created = client.crm.contacts.basic_api.create(
        SimplePublicObjectInputForCreate(
            properties={"email": "dates@lifecycle-test.example", "lifecyclestage": "lead"}
        )
    )
    first = _dates(client, created.id)
    assert first["hs_lifecyclestage_lead_date"] is not None
    assert first["hs_lifecyclestage_marketingqualifiedlead_date"] is None

    _move(http, sandbox, client, created.id, "marketingqualifiedlead")
    mql = _dates(client, created.id)
    assert mql["hs_lifecyclestage_lead_date"] == first["hs_lifecyclestage_lead_date"]
    entered = datetime.fromisoformat(mql["hs_lifecyclestage_marketingqualifiedlead_date"])
    lead = datetime.fromisoformat(first["hs_lifecyclestage_lead_date"])
    assert (entered - lead).total_seconds() == pytest.approx(3600, abs=5)

    _move(http, sandbox, client, created.id, "lead")  # backward through the API: silently ignored
    assert _dates(client, created.id) == mql

    _move(http, sandbox, client, created.id, "customer")  # a skipped stage gets no date
    customer = _dates(client, created.id)
    assert customer["lifecyclestage"] == "customer"
    assert customer["hs_lifecyclestage_customer_date"] is not None
    assert customer["hs_lifecyclestage_salesqualifiedlead_date"] is None

    # Cleared first, the stage may move back; a stage entered again keeps its first date.
    _move(http, sandbox, client, created.id, "")
    _move(http, sandbox, client, created.id, "marketingqualifiedlead")
    again = _dates(client, created.id)
    assert again["lifecyclestage"] == "marketingqualifiedlead"
    assert (
        again["hs_lifecyclestage_marketingqualifiedlead_date"]
        == mql["hs_lifecyclestage_marketingqualifiedlead_date"]
    )


def test_the_stage_dates_are_read_only_through_the_api(client):
    created = client.crm.contacts.basic_api.create(
        SimplePublicObjectInputForCreate(properties={"email": "readonly@lifecycle-test.example"})
    )
    with pytest.raises(ContactsApiException) as info:
        client.crm.contacts.basic_api.update(
            created.id,
            SimplePublicObjectInput(properties={"hs_lifecyclestage_lead_date": "2020-01-01T00:00:00.000Z"}),
        )
    assert info.value.status == 400
    assert "READ_ONLY_VALUE" in info.value.body


def test_the_sales_feedback_properties_are_described(client):
    names = {p.name: p for p in client.crm.properties.core_api.get_all("contacts").results}
    status = names["salesforce_lead_status"]
    assert status.type == "enumeration"
    assert "Closed - Not Converted" in {o.value for o in status.options}
    reason = names["salesforce_disqualification_reason"]
    assert {o.value for o in reason.options} >= {"No Budget", "Competitor"}
