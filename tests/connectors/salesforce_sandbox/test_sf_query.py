"""SOQL over REST through simple-salesforce: paging, batch sizes, relationships, queryAll and errors."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

from connectors.salesforce.sandbox import SalesforceSandbox
from connectors.salesforce.sandbox.store import sf_datetime
from connectors.sandbox_core.server import TLSFiles

from .conftest import token_login

LEADS = 20_000


@pytest.fixture(scope="module")
def big(tls: TLSFiles) -> Iterator[tuple[SalesforceSandbox, Salesforce]]:
    """An org with many Leads, written straight into the store to keep set-up fast."""
    with SalesforceSandbox(seed=5, people=0, tls=tls) as sandbox:
        org = sandbox.state
        template = {
            f.name: f.default_value if f.defaulted_on_create else None
            for f in org.schema.objects["Lead"].fields.values()
        }
        now = sf_datetime(org.clock.now())
        for n in range(LEADS):
            org.store.put(
                "Lead",
                dict(
                    template,
                    Id=org.ids.new("00Q"),
                    LastName=f"Lead {n:05d}",
                    Company="Acme",
                    Email=f"lead{n}@acme.example",
                    OwnerId=org.api_user_id,
                    IsDeleted=False,
                    CreatedDate=now,
                    LastModifiedDate=now,
                    SystemModstamp=now,
                    CreatedById=org.api_user_id,
                    LastModifiedById=org.api_user_id,
                ),
            )
        yield sandbox, token_login(sandbox)


def test_query_pages_carry_next_records_url_until_done(big: tuple[SalesforceSandbox, Salesforce]) -> None:
    _, sf = big
    first = sf.query("SELECT Id FROM Lead")
    assert first["totalSize"] == LEADS and first["done"] is False
    assert first["nextRecordsUrl"].startswith("/services/data/v59.0/query/01g")
    second = sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    assert second["totalSize"] == LEADS
    ids = {r["Id"] for r in first["records"]} | {r["Id"] for r in second["records"]}
    assert len(ids) == len(first["records"]) + len(second["records"])  # no overlap between pages


def test_page_sizes_vary_but_never_exceed_the_batch_size(big: tuple[SalesforceSandbox, Salesforce]) -> None:
    _, sf = big
    sizes = []
    page = sf.query("SELECT Id FROM Lead", headers={"Sforce-Query-Options": "batchSize=500"})
    while True:
        sizes.append(len(page["records"]))
        if page["done"]:
            break
        page = sf.query_more(page["nextRecordsUrl"], identifier_is_url=True)
    assert sum(sizes) == LEADS
    assert max(sizes) <= 500
    assert len(set(sizes[:-1])) > 1  # not always exactly the batch size, as the docs warn
    assert min(sizes[:-1]) >= 450


def test_default_batch_is_at_most_2000(big: tuple[SalesforceSandbox, Salesforce]) -> None:
    _, sf = big
    page = sf.query("SELECT Id FROM Lead", headers={"Sforce-Query-Options": "batchSize=5000"})
    assert 1800 <= len(page["records"]) <= 2000


def test_unknown_query_locator_is_rejected(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.query_more("01g5g000000XXXXAAA-2000")
    assert caught.value.content[0]["errorCode"] == "INVALID_QUERY_LOCATOR"


def test_records_have_attributes_and_nested_relationships(sf: Salesforce) -> None:
    record = sf.query(
        "SELECT Id, Email, Owner.Email, Account.Name, Account.Owner.Username FROM Contact "
        "WHERE AccountId != null LIMIT 1"
    )["records"][0]
    assert record["attributes"]["type"] == "Contact"
    assert record["attributes"]["url"] == f"/services/data/v59.0/sobjects/Contact/{record['Id']}"
    assert record["Owner"]["attributes"]["type"] == "User"
    assert "@" in record["Owner"]["Email"]
    assert record["Account"]["Name"]
    assert record["Account"]["Owner"]["Username"]


def test_null_lookup_projects_a_null_relationship(sf: Salesforce) -> None:
    records = sf.query("SELECT Id, ConvertedContact.Email FROM Lead WHERE IsConverted = false LIMIT 1")[
        "records"
    ]
    assert records[0]["ConvertedContact"] is None


def test_converted_leads_point_at_their_contacts(sf: Salesforce) -> None:
    records = sf.query_all(
        "SELECT Id, Email, ConvertedContactId, ConvertedContact.Email, ConvertedDate "
        "FROM Lead WHERE IsConverted = true"
    )["records"]
    assert records
    for lead in records:
        assert lead["ConvertedContactId"].startswith("003")
        assert lead["ConvertedContact"]["Email"] == lead["Email"]
        assert lead["ConvertedDate"]


def test_count_query_returns_only_the_total(sf: Salesforce) -> None:
    result = sf.query("SELECT COUNT() FROM Lead WHERE IsConverted = false")
    assert result["records"] == [] and result["done"] is True
    assert result["totalSize"] == len(
        sf.query_all("SELECT Id FROM Lead WHERE IsConverted = false")["records"]
    )


def test_count_of_a_field_returns_an_aggregate_result(sf: Salesforce) -> None:
    result = sf.query("SELECT COUNT(Id) total FROM Opportunity WHERE IsWon = true")
    assert result["totalSize"] == 1
    assert result["records"][0]["attributes"] == {"type": "AggregateResult"}
    assert result["records"][0]["total"] > 0


def test_limit_and_offset_page_through_an_ordered_result(sf: Salesforce) -> None:
    everything = [r["Id"] for r in sf.query("SELECT Id FROM Lead ORDER BY Id LIMIT 12")["records"]]
    window = [r["Id"] for r in sf.query("SELECT Id FROM Lead ORDER BY Id LIMIT 5 OFFSET 4")["records"]]
    assert window == everything[4:9]


def test_date_literals_filter_on_datetime_fields(sf: Salesforce) -> None:
    recent = sf.query("SELECT COUNT() FROM Lead WHERE CreatedDate = LAST_N_DAYS:30")["totalSize"]
    older = sf.query("SELECT COUNT() FROM Lead WHERE CreatedDate < LAST_N_DAYS:30")["totalSize"]
    total = sf.query("SELECT COUNT() FROM Lead")["totalSize"]
    assert recent + older == total


def test_malformed_soql_is_a_400_malformed_query(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.query("SELECT Id FRM Lead")
    assert caught.value.status == 400
    [error] = caught.value.content
    assert error["errorCode"] == "MALFORMED_QUERY"
    assert "unexpected token: FRM" in error["message"]


def test_unknown_field_is_invalid_field(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.query("SELECT Id, Shoe_Size__c FROM Lead")
    assert caught.value.content[0]["errorCode"] == "INVALID_FIELD"
    assert "No such column 'Shoe_Size__c' on entity 'Lead'" in caught.value.content[0]["message"]


def test_unknown_object_is_invalid_type(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.query("SELECT Id FROM Widget__c")
    assert caught.value.content[0]["errorCode"] == "INVALID_TYPE"


def test_query_all_includes_deleted_rows_and_query_does_not(sf: Salesforce) -> None:
    created = sf.Lead.create({"LastName": "Gone", "Company": "Deleted Inc", "Email": "gone@deleted.example"})
    sf.Lead.delete(created["id"])
    live = sf.query(f"SELECT Id FROM Lead WHERE Id = '{created['id']}'")
    everything = sf.query_all(
        f"SELECT Id, IsDeleted FROM Lead WHERE Id = '{created['id']}'", include_deleted=True
    )
    assert live["totalSize"] == 0
    assert everything["records"][0]["IsDeleted"] is True


def test_child_subquery_nests_related_records(sf: Salesforce) -> None:
    opps = sf.query_all(
        "SELECT Id, Name, (SELECT ContactId, IsPrimary FROM OpportunityContactRoles ORDER BY IsPrimary DESC) "
        "FROM Opportunity WHERE CreatedById != null"
    )["records"]
    seeded = [o for o in opps if o["OpportunityContactRoles"] is not None]
    assert len(seeded) >= 10
    for opp in seeded:
        roles = opp["OpportunityContactRoles"]
        assert roles["done"] is True and roles["totalSize"] == len(roles["records"]) >= 1
        assert roles["records"][0]["IsPrimary"] is True
        assert roles["records"][0]["attributes"]["type"] == "OpportunityContactRole"


def test_child_subquery_without_children_is_null(sf: Salesforce) -> None:
    account_id = sf.Account.create({"Name": "Childless Inc"})["id"]
    [record] = sf.query(f"SELECT Id, (SELECT Id FROM Contacts) FROM Account WHERE Id = '{account_id}'")[
        "records"
    ]
    assert record["Contacts"] is None


def test_child_subquery_filters_and_limits(sf: Salesforce) -> None:
    rows = sf.query_all(
        "SELECT Id, (SELECT Id, TaskSubtype FROM Tasks WHERE TaskSubtype = 'Call' LIMIT 1) FROM Contact"
    )["records"]
    with_calls = [r for r in rows if r["Tasks"] is not None]
    assert with_calls
    assert all(
        len(r["Tasks"]["records"]) == 1 and r["Tasks"]["records"][0]["TaskSubtype"] == "Call"
        for r in with_calls
    )


def test_unknown_child_relationship_is_invalid_type(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.query("SELECT Id, (SELECT Id FROM Widgets) FROM Account")
    assert caught.value.content[0]["errorCode"] == "INVALID_TYPE"
    assert "Didn't understand relationship 'Widgets'" in caught.value.content[0]["message"]


def test_opening_an_eleventh_cursor_drops_the_oldest(big: tuple[SalesforceSandbox, Salesforce]) -> None:
    _, sf = big
    headers = {"Sforce-Query-Options": "batchSize=200"}
    first = sf.query("SELECT Id FROM Lead", headers=headers)
    assert first["done"] is False
    for _ in range(10):
        sf.query("SELECT Id FROM Lead", headers=headers)
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    assert caught.value.content[0]["errorCode"] == "INVALID_QUERY_LOCATOR"


def test_group_by_returns_one_aggregate_result_per_group(sf: Salesforce) -> None:
    result = sf.query(
        "SELECT StageName, COUNT(Id) deals, SUM(Amount), MAX(CloseDate) FROM Opportunity "
        "WHERE Amount != null GROUP BY StageName ORDER BY StageName"
    )
    rows = result["records"]
    assert result["totalSize"] == len(rows) > 1
    assert [r["StageName"] for r in rows] == sorted(r["StageName"] for r in rows)
    opps = sf.query_all("SELECT StageName, Amount, CloseDate FROM Opportunity WHERE Amount != null")[
        "records"
    ]
    for row in rows:
        mine = [o for o in opps if o["StageName"] == row["StageName"]]
        assert row["attributes"] == {"type": "AggregateResult"}
        assert row["deals"] == len(mine)
        assert row["expr0"] == pytest.approx(sum(o["Amount"] for o in mine))
        assert row["expr1"] == max(o["CloseDate"] for o in mine)


def test_aggregates_without_group_by_return_one_row(sf: Salesforce) -> None:
    [row] = sf.query(
        "SELECT COUNT_DISTINCT(OwnerId) owners, MIN(CreatedDate), AVG(HubSpot_Score__c) FROM Lead"
    )["records"]
    assert row["owners"] >= 3
    assert row["expr0"].endswith("+0000")
    assert 0 <= row["expr1"] <= 100


def test_ungrouped_field_in_an_aggregate_query_is_malformed(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.query("SELECT StageName, Name, COUNT(Id) FROM Opportunity GROUP BY StageName")
    assert "Field must be grouped or aggregated: Name" in caught.value.content[0]["message"]


def test_semi_join_selects_records_referenced_by_another_object(sf: Salesforce) -> None:
    buyers = sf.query_all(
        "SELECT Id FROM Contact WHERE Id IN "
        "(SELECT ContactId FROM OpportunityContactRole WHERE IsPrimary = true)"
    )["records"]
    roles = sf.query_all("SELECT ContactId FROM OpportunityContactRole WHERE IsPrimary = true")["records"]
    assert {b["Id"] for b in buyers} == {r["ContactId"] for r in roles}
    others = sf.query(
        "SELECT COUNT() FROM Contact WHERE Id NOT IN "
        "(SELECT ContactId FROM OpportunityContactRole WHERE IsPrimary = true)"
    )["totalSize"]
    assert others + len(buyers) == sf.query("SELECT COUNT() FROM Contact")["totalSize"]


def test_semi_join_must_select_an_id(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.query("SELECT Id FROM Contact WHERE Id IN (SELECT Role FROM OpportunityContactRole)")
    assert caught.value.content[0]["errorCode"] == "MALFORMED_QUERY"
