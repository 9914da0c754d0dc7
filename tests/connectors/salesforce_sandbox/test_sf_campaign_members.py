"""CampaignMember through simple-salesforce: the status drives HasResponded, the first response date
stays, one membership per campaign and person, and a converted Lead's memberships gain its Contact."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

from connectors.salesforce.sandbox import SalesforceSandbox
from connectors.sandbox_core.server import TLSFiles

from .conftest import control, token_login


@pytest.fixture(scope="module")
def org(tls: TLSFiles) -> Iterator[SalesforceSandbox]:
    """An org of this module's own: its campaigns must not change what the shared org's seed tests count."""
    with SalesforceSandbox(seed=11, people=10, tls=tls) as running:
        yield running


@pytest.fixture(scope="module")
def sf(org: SalesforceSandbox) -> Salesforce:
    return token_login(org)


def _lead(sf: Salesforce, email: str) -> str:
    return str(sf.Lead.create({"LastName": "Member", "Company": "Campaigns Co", "Email": email})["id"])


def _campaign(sf: Salesforce, name: str) -> str:
    return str(sf.Campaign.create({"Name": name, "Type": "Webinar", "Status": "In Progress"})["id"])


def test_the_status_drives_has_responded_and_the_first_response_date_stays(sf: Salesforce) -> None:
    campaign = _campaign(sf, "Members Webinar")
    lead = _lead(sf, "responds@members.example")
    member = sf.CampaignMember.create({"CampaignId": campaign, "LeadId": lead, "Status": "Sent"})["id"]
    fields = "HasResponded, FirstRespondedDate, Status"
    sent = sf.query(f"SELECT {fields} FROM CampaignMember WHERE Id = '{member}'")["records"][0]
    assert (sent["HasResponded"], sent["FirstRespondedDate"]) == (False, None)

    sf.CampaignMember.update(member, {"Status": "Responded"})
    responded = sf.query(f"SELECT {fields} FROM CampaignMember WHERE Id = '{member}'")["records"][0]
    assert responded["HasResponded"] is True and responded["FirstRespondedDate"]

    sf.CampaignMember.update(member, {"Status": "Sent"})
    back = sf.query(f"SELECT {fields} FROM CampaignMember WHERE Id = '{member}'")["records"][0]
    assert back["HasResponded"] is False
    assert back["FirstRespondedDate"] == responded["FirstRespondedDate"]


def test_one_membership_per_campaign_and_lead(sf: Salesforce) -> None:
    campaign = _campaign(sf, "Members Twice")
    lead = _lead(sf, "twice@members.example")
    sf.CampaignMember.create({"CampaignId": campaign, "LeadId": lead})
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.CampaignMember.create({"CampaignId": campaign, "LeadId": lead})
    assert info.value.content[0]["errorCode"] == "DUPLICATE_VALUE"


def test_has_responded_cannot_be_written(sf: Salesforce) -> None:
    campaign = _campaign(sf, "Members Readonly")
    lead = _lead(sf, "readonly@members.example")
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.CampaignMember.create({"CampaignId": campaign, "LeadId": lead, "HasResponded": True})
    assert info.value.content[0]["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"


def test_a_converted_leads_memberships_gain_its_contact_and_are_read_again(
    org: SalesforceSandbox, sf: Salesforce
) -> None:
    campaign = _campaign(sf, "Members Convert")
    lead = _lead(sf, "converts@members.example")
    member = sf.CampaignMember.create({"CampaignId": campaign, "LeadId": lead, "Status": "Responded"})["id"]
    before = sf.query(f"SELECT SystemModstamp FROM CampaignMember WHERE Id = '{member}'")["records"][0]
    control(org, "POST", "/clock", json={"advance_seconds": 60})

    ids = control(org, "POST", f"/leads/{lead}/convert", json={})

    after = sf.query(f"SELECT LeadId, ContactId, SystemModstamp FROM CampaignMember WHERE Id = '{member}'")[
        "records"
    ][0]
    assert after["LeadId"] == lead
    assert after["ContactId"] == ids["contactId"]
    assert after["SystemModstamp"] > before["SystemModstamp"]
