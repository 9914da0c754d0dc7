"""Sales activities in the simulated org: Events (meetings) beside Tasks, seeded from the population."""

from __future__ import annotations

from collections import Counter

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

from connectors.salesforce.sandbox import SalesforceSandbox
from connectors.salesforce.sandbox.org import API_USER_ID

from .conftest import control, token_login

SEEDED = f"CreatedById != '{API_USER_ID}'"


def _field(describe: dict[str, object], name: str) -> dict[str, object]:
    fields = describe["fields"]
    assert isinstance(fields, list)
    return next(f for f in fields if f["name"] == name)


def test_event_describes_its_times_and_who_like_a_real_org(sf: Salesforce) -> None:
    describe = sf.Event.describe()
    assert describe["keyPrefix"] == "00U"
    who = _field(describe, "WhoId")
    assert (who["type"], who["referenceTo"], who["relationshipName"]) == (
        "reference",
        ["Contact", "Lead"],
        "Who",
    )
    for name, kind in (
        ("StartDateTime", "datetime"),
        ("EndDateTime", "datetime"),
        ("ActivityDateTime", "datetime"),
        ("DurationInMinutes", "int"),
        ("IsAllDayEvent", "boolean"),
    ):
        assert _field(describe, name)["type"] == kind
    subtype = _field(describe, "EventSubtype")
    assert (subtype["createable"], subtype["updateable"]) == (True, False)
    contact_children = {r["childSObject"] for r in sf.Contact.describe()["childRelationships"]}
    assert {"Task", "Event"} <= contact_children


def test_task_carries_call_fields_and_a_create_only_subtype(sf: Salesforce) -> None:
    describe = sf.Task.describe()
    subtype = _field(describe, "TaskSubtype")
    values = [v["value"] for v in subtype["picklistValues"]]  # type: ignore[union-attr]
    assert {"Call", "Email", "ListEmail", "Task"} <= set(values)
    assert subtype["updateable"] is False
    for name in (
        "CallType",
        "CallDurationInSeconds",
        "CallDisposition",
        "Status",
        "Priority",
        "ActivityDate",
    ):
        _field(describe, name)


def test_an_event_from_start_and_end_gets_its_duration_and_activity_time(sf: Salesforce) -> None:
    contact = sf.Contact.create({"LastName": "Meeting", "Email": "meet@events.example"})["id"]
    event_id = sf.Event.create(
        {
            "WhoId": contact,
            "Subject": "Product demo",
            "StartDateTime": "2026-03-02T15:00:00.000+0000",
            "EndDateTime": "2026-03-02T15:45:00.000+0000",
        }
    )["id"]
    event = sf.Event.get(event_id)
    assert event_id.startswith("00U")
    assert (event["DurationInMinutes"], event["ActivityDateTime"], event["ActivityDate"]) == (
        45,
        "2026-03-02T15:00:00.000+0000",
        "2026-03-02",
    )
    assert event["EventSubtype"] == "Event" and event["IsDeleted"] is False


def test_an_event_from_activity_time_and_duration_gets_its_end(sf: Salesforce) -> None:
    event_id = sf.Event.create(
        {"Subject": "Call back", "ActivityDateTime": "2026-03-02T09:30:00Z", "DurationInMinutes": 30}
    )["id"]
    event = sf.Event.get(event_id)
    assert (event["StartDateTime"], event["EndDateTime"]) == (
        "2026-03-02T09:30:00.000+0000",
        "2026-03-02T10:00:00.000+0000",
    )
    sf.Event.update(event_id, {"EndDateTime": "2026-03-02T11:00:00Z"})
    assert sf.Event.get(event_id)["DurationInMinutes"] == 90


def test_an_event_without_an_end_or_duration_is_refused_as_a_real_org_does(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as refused:
        sf.Event.create({"Subject": "Open-ended", "StartDateTime": "2026-03-02T09:30:00Z"})
    assert refused.value.content[0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert refused.value.content[0]["fields"] == ["DurationInMinutes"]


def test_events_are_queried_incrementally_and_created_in_collections(sf: Salesforce) -> None:
    created = sf.restful(
        "composite/sobjects",
        method="POST",
        json={
            "allOrNone": False,
            "records": [
                {
                    "attributes": {"type": "Event"},
                    "Subject": f"Batch meeting {i}",
                    "StartDateTime": "2026-04-01T10:00:00Z",
                    "DurationInMinutes": 30,
                }
                for i in range(3)
            ],
        },
    )
    assert all(r["success"] for r in created)
    ids = [r["id"] for r in created]
    rows = sf.query_all(
        "SELECT Id, Subject, SystemModstamp FROM Event WHERE Subject LIKE 'Batch meeting%' "
        "ORDER BY SystemModstamp ASC, Id ASC"
    )["records"]
    assert [r["Id"] for r in rows] == sorted(ids)


def test_seed_holds_rep_meetings_calls_emails_and_automated_sends(sf: Salesforce) -> None:
    events = sf.query_all(f"SELECT WhoId, OwnerId, Type, DurationInMinutes FROM Event WHERE {SEEDED}")[
        "records"
    ]
    assert events and all(e["WhoId"][:3] in ("00Q", "003") and e["Type"] == "Meeting" for e in events)
    assert all(e["DurationInMinutes"] > 0 and e["OwnerId"] != API_USER_ID for e in events)
    tasks = sf.query_all("SELECT TaskSubtype, OwnerId, CreatedById, CallType FROM Task")["records"]
    kinds = Counter(t["TaskSubtype"] for t in tasks)
    assert kinds["Call"] and kinds["Email"] and kinds["ListEmail"]
    list_emails = [t for t in tasks if t["TaskSubtype"] == "ListEmail"]
    assert all(t["CreatedById"] == API_USER_ID and t["OwnerId"] != API_USER_ID for t in list_emails)
    # Automated welcome emails: owned by the integration user itself.
    assert any(t["TaskSubtype"] == "Email" and t["OwnerId"] == API_USER_ID for t in tasks)
    assert {"Inbound", "Outbound"} <= {t["CallType"] for t in tasks if t["TaskSubtype"] == "Call"}


def test_conversion_and_merge_move_events_with_the_person(fresh: SalesforceSandbox) -> None:
    sf = token_login(fresh)
    lead = sf.Lead.create({"LastName": "Mover", "Company": "Move Co", "Email": "move@events.example"})["id"]
    meeting = {"Subject": "Demo", "StartDateTime": "2026-05-01T10:00:00Z", "DurationInMinutes": 30}
    event = sf.Event.create({"WhoId": lead, **meeting})["id"]
    before = sf.Event.get(event)["SystemModstamp"]
    control(fresh, "POST", "/clock", json={"advance_seconds": 5})
    converted = control(fresh, "POST", f"/leads/{lead}/convert", json={})
    moved = sf.Event.get(event)
    assert moved["WhoId"] == converted["contactId"] and moved["SystemModstamp"] > before

    loser = sf.Contact.create({"LastName": "Twin", "Email": "move@events.example"})["id"]
    other = sf.Event.create({"WhoId": loser, **meeting})["id"]
    control(
        fresh,
        "POST",
        "/merge",
        json={"sobject": "Contact", "master_id": converted["contactId"], "loser_ids": [loser]},
    )
    assert sf.Event.get(other)["WhoId"] == converted["contactId"]


def test_a_past_event_moves_last_activity_date_like_a_completed_task(fresh: SalesforceSandbox) -> None:
    sf = token_login(fresh)
    control(fresh, "POST", "/clock", json={"set": "2026-06-10T12:00:00Z"})
    contact = sf.Contact.create({"LastName": "Busy"})["id"]
    sf.Event.create(
        {
            "WhoId": contact,
            "Subject": "Past",
            "StartDateTime": "2026-06-09T10:00:00Z",
            "DurationInMinutes": 30,
        }
    )
    sf.Event.create(
        {
            "WhoId": contact,
            "Subject": "Next",
            "StartDateTime": "2026-06-20T10:00:00Z",
            "DurationInMinutes": 30,
        }
    )
    assert sf.Contact.get(contact)["LastActivityDate"] == "2026-06-09"


def test_simulated_reps_log_calls_emails_and_meetings(fresh: SalesforceSandbox) -> None:
    sf = token_login(fresh)
    logged = control(fresh, "POST", "/activity", json={"activities": 12})["logged"]
    assert len(logged) == 12
    assert {i[:3] for i in logged} == {"00T", "00U"}
    ids = ", ".join(f"'{i}'" for i in logged if i.startswith("00T"))
    tasks = sf.query_all(f"SELECT WhoId, TaskSubtype, IsClosed FROM Task WHERE Id IN ({ids})")["records"]
    assert all(t["IsClosed"] and t["TaskSubtype"] in ("Call", "Email") for t in tasks)


def test_deleting_a_lead_deletes_its_events(fresh: SalesforceSandbox) -> None:
    sf = token_login(fresh)
    lead = sf.Lead.create({"LastName": "Gone", "Company": "Gone Co"})["id"]
    event = sf.Event.create(
        {"WhoId": lead, "Subject": "Demo", "StartDateTime": "2026-05-01T10:00:00Z", "DurationInMinutes": 30}
    )["id"]
    sf.Lead.delete(lead)
    rows = sf.query_all(f"SELECT Id, IsDeleted FROM Event WHERE Id = '{event}'", include_deleted=True)[
        "records"
    ]
    assert [r["IsDeleted"] for r in rows] == [True]
