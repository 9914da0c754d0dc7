"""Versions, describeGlobal, describe and limits in the shapes the REST API returns."""

from __future__ import annotations

from typing import Any

from simple_salesforce import Salesforce

from connectors.salesforce.sandbox import SalesforceSandbox
from connectors.salesforce.sandbox.ids import checksum_suffix, normalize_id, to_18

from .conftest import http_session


def _field(describe: dict[str, Any], name: str) -> dict[str, Any]:
    return next(f for f in describe["fields"] if f["name"] == name)


def test_versions_list_needs_no_session_and_names_releases(sandbox: SalesforceSandbox) -> None:
    versions = http_session(sandbox).get(f"{sandbox.instance_url}/services/data/").json()
    assert {"label": "Winter '24", "url": "/services/data/v59.0", "version": "59.0"} in versions
    assert versions[-1]["version"] == "62.0"


def test_unknown_api_version_is_not_found(sf: Salesforce, sandbox: SalesforceSandbox) -> None:
    response = http_session(sandbox).get(
        f"{sandbox.instance_url}/services/data/v12.0/limits",
        headers={"Authorization": f"Bearer {sf.session_id}"},
    )
    assert response.status_code == 404
    assert response.json()[0]["errorCode"] == "NOT_FOUND"


def test_describe_global_lists_the_objects_with_key_prefixes(sf: Salesforce) -> None:
    listing = sf.describe()
    prefixes = {o["name"]: o["keyPrefix"] for o in listing["sobjects"]}
    assert prefixes == {
        "Lead": "00Q",
        "Contact": "003",
        "Account": "001",
        "Opportunity": "006",
        "OpportunityContactRole": "00K",
        "OpportunityHistory": "008",
        "Task": "00T",
        "Event": "00U",
        "Campaign": "701",
        "CampaignMember": "00v",
        "User": "005",
        "Organization": "00D",
    }
    assert listing["maxBatchSize"] == 200


def test_lead_describe_reports_required_and_restricted_fields(sf: Salesforce) -> None:
    describe = sf.Lead.describe()
    assert describe["name"] == "Lead" and describe["keyPrefix"] == "00Q"
    last_name = _field(describe, "LastName")
    assert (last_name["type"], last_name["length"], last_name["nillable"], last_name["createable"]) == (
        "string",
        80,
        False,
        True,
    )
    status = _field(describe, "Status")
    assert status["restrictedPicklist"] is True
    assert status["defaultedOnCreate"] is True
    assert {
        "value": "Open - Not Contacted",
        "label": "Open - Not Contacted",
        "active": True,
        "defaultValue": True,
        "validFor": None,
    } in status["picklistValues"]
    email = _field(describe, "Email")
    assert (email["type"], email["soapType"]) == ("email", "xsd:string")


def test_describe_reports_lookups_with_relationship_names(sf: Salesforce) -> None:
    lead = sf.Lead.describe()
    converted = _field(lead, "ConvertedContactId")
    assert converted["referenceTo"] == ["Contact"]
    assert converted["relationshipName"] == "ConvertedContact"
    assert (converted["createable"], converted["updateable"]) == (False, False)
    owner = _field(lead, "OwnerId")
    assert owner["referenceTo"] == ["Group", "User"] and owner["polymorphicForeignKey"] is True
    who = _field(sf.Task.describe(), "WhoId")
    assert who["referenceTo"] == ["Contact", "Lead"] and who["relationshipName"] == "Who"


def test_describe_includes_the_custom_mapping_fields(sf: Salesforce) -> None:
    lead = sf.Lead.describe()
    score = _field(lead, "HubSpot_Score__c")
    assert (score["type"], score["custom"]) == ("double", True)
    reason = _field(lead, "Disqualification_Reason__c")
    assert reason["restrictedPicklist"] is True and len(reason["picklistValues"]) == 6
    external = _field(lead, "HubSpot_Contact_Id__c")
    assert external["externalId"] is True and external["idLookup"] is True


def test_describe_lists_child_relationships(sf: Salesforce) -> None:
    account = sf.Account.describe()
    children = {(c["childSObject"], c["field"]): c["relationshipName"] for c in account["childRelationships"]}
    assert children[("Contact", "AccountId")] == "Contacts"
    assert children[("Opportunity", "AccountId")] == "Opportunities"


def test_opportunity_describe_lists_the_stages(sf: Salesforce) -> None:
    stages = [p["value"] for p in _field(sf.Opportunity.describe(), "StageName")["picklistValues"]]
    assert stages[0] == "Prospecting" and "Closed Won" in stages and "Closed Lost" in stages


def test_unknown_object_describe_is_not_found(sf: Salesforce, sandbox: SalesforceSandbox) -> None:
    response = http_session(sandbox).get(
        f"{sandbox.instance_url}/services/data/v59.0/sobjects/Widget/describe",
        headers={"Authorization": f"Bearer {sf.session_id}"},
    )
    assert response.status_code == 404
    assert response.json() == [{"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}]


def test_limits_report_the_daily_api_allocation(sf: Salesforce) -> None:
    limits = sf.limits()
    assert limits["DailyApiRequests"]["Max"] == 15000
    used = sf.api_usage["api-usage"].used
    assert limits["DailyApiRequests"]["Remaining"] == 15000 - used


def test_ids_carry_the_case_checksum_suffix() -> None:
    assert to_18("001A0000006Vm9r") == "001A0000006Vm9rIAC"  # Salesforce documentation example
    assert checksum_suffix("003000000000000") == "AAA"
    assert normalize_id("001A0000006Vm9r") == "001A0000006Vm9rIAC"
    assert normalize_id("001A0000006Vm9rIAC") == "001A0000006Vm9rIAC"
    assert normalize_id("001a0000006Vm9rIAC") is None  # case-mangled body no longer matches its suffix
    assert normalize_id("not-an-id") is None


def test_records_accept_15_and_18_character_ids(sf: Salesforce) -> None:
    record_id = sf.query("SELECT Id FROM Contact LIMIT 1")["records"][0]["Id"]
    assert len(record_id) == 18 and record_id.startswith("003")
    assert sf.Contact.get(record_id[:15])["Id"] == record_id


def test_sobject_metadata_lists_recent_items(sf: Salesforce) -> None:
    metadata = sf.Contact.metadata()
    assert metadata["objectDescribe"]["name"] == "Contact"
    assert 0 < len(metadata["recentItems"]) <= 10
    assert metadata["recentItems"][0]["attributes"]["type"] == "Contact"


def test_organization_answers_simple_salesforces_is_sandbox(sf: Salesforce) -> None:
    assert sf.is_sandbox() is False
    [org] = sf.query("SELECT Id, OrganizationType FROM Organization")["records"]
    assert org["Id"].startswith("00D") and org["OrganizationType"] == "Developer Edition"
