"""Seed data and the control plane: conversions, merges, user edits, system touches, faults, reset."""

from __future__ import annotations

from collections import Counter

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceGeneralError

from connectors.salesforce.sandbox import SalesforceSandbox
from connectors.salesforce.sandbox.org import API_USER_ID

from .conftest import control, http_session, token_login


def test_seed_has_people_as_leads_contacts_and_both(sf: Salesforce) -> None:
    seeded = f"CreatedById != '{API_USER_ID}'"  # records other tests create belong to the API user
    leads = sf.query_all(f"SELECT Id, Email, IsConverted FROM Lead WHERE {seeded}")["records"]
    contacts = sf.query_all(f"SELECT Id, Email, AccountId FROM Contact WHERE {seeded}")["records"]
    assert len(leads) > 100 and len(contacts) > 50
    assert all(c["AccountId"] for c in contacts)
    contact_emails = {c["Email"].strip().lower() for c in contacts if c["Email"]}
    unconverted_twins = [
        r
        for r in leads
        if not r["IsConverted"] and r["Email"] and r["Email"].strip().lower() in contact_emails
    ]
    assert unconverted_twins  # people who are both a Lead and a Contact
    variants = [
        r["Email"] for r in leads + contacts if r["Email"] and r["Email"] != r["Email"].strip().lower()
    ]
    assert variants  # case and whitespace variants, as real orgs hold


def test_seed_users_own_the_records(sf: Salesforce) -> None:
    owners = Counter(r["OwnerId"] for r in sf.query_all("SELECT OwnerId FROM Lead")["records"])
    users = {u["Id"] for u in sf.query_all("SELECT Id FROM User WHERE IsActive = true")["records"]}
    assert set(owners) <= users
    assert len(owners) >= 3


def test_seed_campaigns_have_costs_hierarchy_and_members(sf: Salesforce) -> None:
    campaigns = sf.query_all("SELECT Id, ParentId, BudgetedCost, ActualCost, Type, Channel__c FROM Campaign")[
        "records"
    ]
    assert len(campaigns) == 12
    assert all(c["Id"].startswith("701") and c["BudgetedCost"] > 0 for c in campaigns)
    assert any(c["ParentId"] for c in campaigns)
    members = sf.query_all("SELECT Id, LeadId, ContactId, HasResponded, Campaign.Name FROM CampaignMember")[
        "records"
    ]
    assert members and all(m["Id"].startswith("00v") for m in members)
    assert any(m["HasResponded"] for m in members) and not all(m["HasResponded"] for m in members)


def test_seed_tasks_hold_rep_calls_emails_and_automated_sends(sf: Salesforce) -> None:
    tasks = sf.query_all(
        "SELECT TaskSubtype, CallDurationInSeconds, CallDisposition, OwnerId, CreatedById, WhoId FROM Task"
    )["records"]
    kinds = Counter(t["TaskSubtype"] for t in tasks)
    assert kinds["Call"] > 0 and kinds["Email"] > 0 and kinds["ListEmail"] > 0
    calls = [t for t in tasks if t["TaskSubtype"] == "Call"]
    assert all(t["CallDisposition"] and t["CallDurationInSeconds"] is not None for t in calls)
    assert all(t["WhoId"][:3] in ("00Q", "003") for t in tasks)


def test_seed_opportunities_span_won_lost_and_open_with_one_primary_role(sf: Salesforce) -> None:
    opps = sf.query_all("SELECT Id, StageName, IsWon, IsClosed, CampaignId, Amount FROM Opportunity")[
        "records"
    ]
    assert any(o["IsWon"] for o in opps)
    assert any(o["IsClosed"] and not o["IsWon"] for o in opps)
    assert any(o["CampaignId"] for o in opps)
    roles = sf.query_all("SELECT OpportunityId, IsPrimary, Contact.Email FROM OpportunityContactRole")[
        "records"
    ]
    primaries = Counter(r["OpportunityId"] for r in roles if r["IsPrimary"])
    assert set(primaries) == {o["Id"] for o in opps} and set(primaries.values()) == {1}


def test_same_seed_gives_the_same_org(tls: object, sandbox: SalesforceSandbox) -> None:
    from connectors.salesforce.sandbox.org import SalesforceOrg

    again = SalesforceOrg(seed=7, people=400, clock=sandbox.state.clock)
    assert again.seed_counts == sandbox.state.seed_counts


def test_convert_lead_creates_account_contact_and_opportunity(fresh: SalesforceSandbox) -> None:
    sf = token_login(fresh)
    lead_id = sf.Lead.create(
        {"FirstName": "Conv", "LastName": "Erted", "Company": "Convert Co", "Email": "conv@convert.example"}
    )["id"]
    sf.Task.create({"WhoId": lead_id, "Subject": "Call", "TaskSubtype": "Call", "Status": "Completed"})
    ids = control(fresh, "POST", f"/leads/{lead_id}/convert", json={"create_opportunity": True})
    lead = sf.Lead.get(lead_id)
    assert lead["IsConverted"] is True and lead["Status"] == "Closed - Converted"
    assert (lead["ConvertedContactId"], lead["ConvertedAccountId"], lead["ConvertedOpportunityId"]) == (
        ids["contactId"],
        ids["accountId"],
        ids["opportunityId"],
    )
    assert lead["ConvertedDate"] == lead["LastModifiedDate"][:10]
    contact = sf.Contact.get(ids["contactId"])
    assert (contact["Email"], contact["AccountId"]) == ("conv@convert.example", ids["accountId"])
    moved = sf.query(f"SELECT WhoId FROM Task WHERE WhoId = '{ids['contactId']}'")["records"]
    assert len(moved) == 1  # activities follow the person
    role = sf.query(
        f"SELECT IsPrimary FROM OpportunityContactRole WHERE OpportunityId = '{ids['opportunityId']}'"
    )
    assert role["records"][0]["IsPrimary"] is True


def test_merge_deletes_losers_with_master_record_id_and_reparents_children(fresh: SalesforceSandbox) -> None:
    sf = token_login(fresh)
    master = sf.Contact.create({"LastName": "Master", "Email": "m@merge.example"})["id"]
    loser = sf.Contact.create({"LastName": "Loser", "Email": "m@merge.example"})["id"]
    task = sf.Task.create({"WhoId": loser, "Subject": "Email: hello", "TaskSubtype": "Email"})["id"]
    result = control(
        fresh, "POST", "/merge", json={"sobject": "Contact", "master_id": master, "loser_ids": [loser]}
    )
    assert result["mergedIds"] == [loser]
    assert sf.Task.get(task)["WhoId"] == master
    assert sf.query(f"SELECT COUNT() FROM Contact WHERE Id = '{loser}'")["totalSize"] == 0
    merged = sf.query_all(
        f"SELECT IsDeleted, MasterRecordId FROM Contact WHERE Id = '{loser}'", include_deleted=True
    )["records"][0]
    assert (merged["IsDeleted"], merged["MasterRecordId"]) == (True, master)


def test_user_edit_moves_last_modified_but_system_touch_only_systemmodstamp(fresh: SalesforceSandbox) -> None:
    sf = token_login(fresh)
    control(fresh, "POST", "/clock", json={"freeze": True})
    lead_id = sf.query("SELECT Id FROM Lead WHERE IsConverted = false LIMIT 1")["records"][0]["Id"]
    control(fresh, "POST", "/clock", json={"advance_seconds": 60})
    edited = control(fresh, "POST", f"/records/Lead/{lead_id}/edit", json={"fields": {"Rating": "Hot"}})
    after_edit = sf.Lead.get(lead_id)
    assert after_edit["Rating"] == "Hot"
    assert after_edit["LastModifiedDate"] == after_edit["SystemModstamp"] == edited["LastModifiedDate"]
    control(fresh, "POST", "/clock", json={"advance_seconds": 60})
    control(fresh, "POST", "/records/Lead/touch", json={"ids": [lead_id]})
    after_touch = sf.Lead.get(lead_id)
    assert after_touch["LastModifiedDate"] == after_edit["LastModifiedDate"]
    assert after_touch["SystemModstamp"] > after_touch["LastModifiedDate"]


def test_injected_fault_answers_with_a_salesforce_error_body_then_clears(fresh: SalesforceSandbox) -> None:
    sf = token_login(fresh)
    control(
        fresh,
        "POST",
        "/faults",
        json={"method": "GET", "path": "/query", "kind": "status", "status": 503, "count": 1},
    )
    with pytest.raises(SalesforceGeneralError) as caught:
        sf.query("SELECT Id FROM Lead LIMIT 1")
    assert caught.value.status == 503
    assert caught.value.content[0]["errorCode"] == "SERVER_UNAVAILABLE"
    assert sf.query("SELECT Id FROM Lead LIMIT 1")["totalSize"] == 1


def test_counters_name_endpoints_by_route_template(fresh: SalesforceSandbox) -> None:
    sf = token_login(fresh)
    control(fresh, "DELETE", "/counters")
    lead_id = sf.query("SELECT Id FROM Lead LIMIT 1")["records"][0]["Id"]
    sf.Lead.get(lead_id)
    counters = control(fresh, "GET", "/counters")
    assert counters["by_endpoint"]["GET /services/data/v{version}/query"] == 1
    assert counters["by_endpoint"]["GET /services/data/v{version}/sobjects/{sobject}/{record_id}"] == 1


def test_reset_reseeds_the_org(fresh: SalesforceSandbox) -> None:
    sf = token_login(fresh)
    sf.Lead.create({"LastName": "Extra", "Company": "Extra"})
    before = fresh.state.seed_counts
    control(fresh, "POST", "/reset", json={"seed": 3, "people": 30})
    assert fresh.state.seed_counts == before
    assert sf.query("SELECT COUNT() FROM Lead WHERE LastName = 'Extra'")["totalSize"] == 0


def test_snapshot_lists_every_object(fresh: SalesforceSandbox) -> None:
    snapshot = control(fresh, "GET", "/snapshot")
    assert set(snapshot["objects"]) >= {"Lead", "Contact", "Account", "Opportunity", "Task", "Campaign"}
    assert len(snapshot["objects"]["Lead"]) == fresh.state.seed_counts["Lead"]


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("POST", "/sobjects/Lead", b"{not json", 400, "JSON_PARSER_ERROR"),
        ("POST", "/sobjects/Lead", b"[1, 2]", 400, "JSON_PARSER_ERROR"),
        ("PUT", "/sobjects/Lead", b"{}", 405, "METHOD_NOT_ALLOWED"),
        ("GET", "/no/such/resource", b"", 404, "NOT_FOUND"),
        ("POST", "/composite", b'{"compositeRequest": "x"}', 400, "INVALID_INPUT"),
        ("GET", "/query/garbage", b"", 400, "INVALID_QUERY_LOCATOR"),
        ("POST", "/jobs/ingest", b'{"object": "Lead", "operation": "explode"}', 400, "INVALIDJOB"),
    ],
)
def test_bad_requests_get_salesforce_errors_and_the_server_keeps_serving(
    sf: Salesforce, sandbox: SalesforceSandbox, method: str, path: str, body: bytes, status: int, code: str
) -> None:
    response = http_session(sandbox).request(
        method,
        f"{sandbox.instance_url}/services/data/v59.0{path}",
        data=body,
        headers={"Authorization": f"Bearer {sf.session_id}", "Content-Type": "application/json"},
    )
    assert response.status_code == status
    assert response.json()[0]["errorCode"] == code
    assert sf.query("SELECT COUNT() FROM User")["totalSize"] > 0


def test_logging_a_completed_task_rolls_up_last_activity_as_a_system_update(fresh: SalesforceSandbox) -> None:
    sf = token_login(fresh)
    control(fresh, "POST", "/clock", json={"freeze": True})
    contact_id = sf.Contact.create({"LastName": "Active"})["id"]
    before = sf.Contact.get(contact_id)
    control(fresh, "POST", "/clock", json={"advance_seconds": 30})
    today = before["CreatedDate"][:10]
    sf.Task.create(
        {
            "WhoId": contact_id,
            "Subject": "Call",
            "TaskSubtype": "Call",
            "Status": "Completed",
            "ActivityDate": today,
        }
    )
    after = sf.Contact.get(contact_id)
    assert after["LastActivityDate"] == today
    assert after["LastModifiedDate"] == before["LastModifiedDate"]
    assert after["SystemModstamp"] > before["SystemModstamp"]


def test_seeded_people_with_activities_have_a_last_activity_date(sf: Salesforce) -> None:
    rows = sf.query_all(
        f"SELECT Id, LastActivityDate, (SELECT ActivityDate FROM Tasks), (SELECT ActivityDate FROM Events) "
        f"FROM Contact WHERE CreatedById != '{API_USER_ID}'"
    )["records"]
    with_activities = [r for r in rows if r["Tasks"] or r["Events"]]
    assert with_activities and any(r["Events"] for r in rows)
    for row in with_activities:
        children = [(row[key] or {}).get("records", ()) for key in ("Tasks", "Events")]
        dates = [a["ActivityDate"] for records in children for a in records]
        assert row["LastActivityDate"] == max(dates)


def test_simulated_activity_produces_an_incremental_change_stream(fresh: SalesforceSandbox) -> None:
    sf = token_login(fresh)
    control(fresh, "POST", "/clock", json={"freeze": True})
    control(fresh, "POST", "/clock", json={"advance_seconds": 5})
    mark = control(fresh, "GET", "/clock")["now"][:19] + "Z"
    control(fresh, "POST", "/clock", json={"advance_seconds": 5})
    done = control(
        fresh,
        "POST",
        "/activity",
        json={"edits": 5, "new_leads": 3, "conversions": 1, "deletes": 1, "touches": 2},
    )
    assert [len(done[k]) for k in ("edited", "created", "converted", "deleted", "touched")] == [5, 3, 1, 1, 2]
    changed_leads = {
        r["Id"]
        for r in sf.query_all(f"SELECT Id FROM Lead WHERE SystemModstamp > {mark}", include_deleted=True)[
            "records"
        ]
    }
    assert set(done["created"]) | set(done["converted"]) | set(done["deleted"]) <= changed_leads
    touched = sf.query_all(
        f"SELECT Id, LastModifiedDate, SystemModstamp FROM Contact "
        f"WHERE Id IN ('{done['touched'][0]}', '{done['touched'][1]}')"
    )["records"]
    assert all(t["SystemModstamp"] > t["LastModifiedDate"] or t["Id"] in done["edited"] for t in touched)


def test_simulated_activity_is_deterministic_for_a_seed(tls: object) -> None:
    from connectors.salesforce.sandbox.actions import simulate_activity
    from connectors.salesforce.sandbox.org import SalesforceOrg
    from connectors.sandbox_core.clock import SimClock

    clock = SimClock(frozen=True)
    runs = [
        simulate_activity(SalesforceOrg(seed=9, people=40, clock=clock), {"edits": 4, "new_leads": 2})
        for _ in range(2)
    ]
    assert runs[0] == runs[1] and len(runs[0]["edited"]) == 4


def test_reset_restores_the_starting_settings_plus_the_given_ones(fresh: SalesforceSandbox) -> None:
    control(fresh, "POST", "/settings", json={"api_daily_limit": 5, "duplicate_rules": True})
    control(fresh, "POST", "/reset", json={"seed": 3, "people": 30, "settings": {"duplicate_rules": True}})
    settings = control(fresh, "GET", "/settings")
    assert (settings["api_daily_limit"], settings["duplicate_rules"]) == (15000, True)


def test_reset_with_an_unknown_option_is_a_400_naming_it(sandbox: SalesforceSandbox) -> None:
    import httpx

    with httpx.Client(base_url=sandbox.instance_url, verify=str(sandbox.ca_file), trust_env=False) as client:
        answer = client.post("/__sandbox/reset", json={"colour": "blue"})
    assert answer.status_code == 400
    assert "colour" in answer.text
