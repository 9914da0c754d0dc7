"""CRM search: filter groups, operators, sorting, paging, documented limits and index lag."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hubspot.crm.contacts import (
    ApiException,
    PublicObjectSearchRequest,
    SimplePublicObjectInput,
    SimplePublicObjectInputForCreate,
)

from connectors.hubspot.sandbox import HubSpotSandbox
from tests.connectors.hubspot_sandbox.conftest import UNTHROTTLED, FakeMonotonic, error_model, make_client


def _search(client, filters=None, groups=None, **kwargs):
    if groups is None:
        groups = [{"filters": filters}] if filters else []
    request = PublicObjectSearchRequest(filter_groups=groups, **kwargs)
    return client.crm.contacts.search_api.do_search(request)


def _all_ids(client, **kwargs):
    ids, after = [], None
    while True:
        page = _search(client, after=after, limit=200, **kwargs)
        ids.extend(r.id for r in page.results)
        if page.paging is None:
            return ids, page.total
        after = page.paging.next.after


def _expected(sandbox, predicate):
    store = sandbox.state.store
    table = store.table("contacts")
    return [
        str(i) for i in table.ids if not table.records[i].archived and predicate(table.records[i].properties)
    ]


def test_incremental_search_on_lastmodifieddate_gte_sorted_ascending(sandbox, client):
    cursor_ms = int(datetime(2026, 6, 1, tzinfo=UTC).timestamp() * 1000)
    ids, total = _all_ids(
        client,
        filters=[{"propertyName": "lastmodifieddate", "operator": "GTE", "value": str(cursor_ms)}],
        sorts=[{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}],
        properties=["lastmodifieddate"],
    )
    expected = _expected(sandbox, lambda p: p["lastmodifieddate"] >= "2026-06-01T00:00:00.000Z")
    assert sorted(ids, key=int) == sorted(expected, key=int)
    assert total == len(expected)
    stamps = [
        sandbox.state.store.table("contacts").records[int(i)].properties["lastmodifieddate"] for i in ids
    ]
    assert stamps == sorted(stamps)


def test_filter_groups_are_ored_and_filters_inside_a_group_anded(sandbox, client):
    groups = [
        {
            "filters": [
                {"propertyName": "lifecyclestage", "operator": "EQ", "value": "customer"},
                {"propertyName": "hs_email_optout", "operator": "EQ", "value": "false"},
            ]
        },
        {"filters": [{"propertyName": "lifecyclestage", "operator": "EQ", "value": "opportunity"}]},
    ]
    ids, _ = _all_ids(client, groups=groups)
    expected = _expected(
        sandbox,
        lambda p: (
            (p.get("lifecyclestage") == "customer" and p.get("hs_email_optout") == "false")
            or p.get("lifecyclestage") == "opportunity"
        ),
    )
    assert sorted(ids, key=int) == expected
    assert expected


@pytest.mark.parametrize(
    ("flt", "predicate"),
    [
        ({"operator": "LT", "value": "50"}, lambda v: v is not None and float(v) < 50),
        ({"operator": "LTE", "value": "50"}, lambda v: v is not None and float(v) <= 50),
        ({"operator": "GT", "value": "50"}, lambda v: v is not None and float(v) > 50),
        ({"operator": "GTE", "value": "50"}, lambda v: v is not None and float(v) >= 50),
        ({"operator": "EQ", "value": "50"}, lambda v: v is not None and float(v) == 50),
        ({"operator": "NEQ", "value": "50"}, lambda v: v is None or float(v) != 50),
        (
            {"operator": "BETWEEN", "value": "20", "highValue": "40"},
            lambda v: v is not None and 20 <= float(v) <= 40,
        ),
        (
            {"operator": "IN", "values": ["10", "20", "30"]},
            lambda v: v is not None and float(v) in (10, 20, 30),
        ),
        ({"operator": "NOT_IN", "values": ["10", "20"]}, lambda v: v is None or float(v) not in (10, 20)),
        ({"operator": "HAS_PROPERTY"}, lambda v: v is not None),
        ({"operator": "NOT_HAS_PROPERTY"}, lambda v: v is None),
    ],
)
def test_numeric_operators_match_the_documented_semantics(sandbox, client, flt, predicate):
    ids, total = _all_ids(client, filters=[{"propertyName": "hubspotscore", **flt}])
    expected = _expected(sandbox, lambda p: predicate(p.get("hubspotscore")))
    assert sorted(ids, key=int) == expected
    assert total == len(expected)


def test_contains_token_matches_whole_tokens_and_wildcards(sandbox, client):
    domain = next(
        p["email"].split("@")[1]
        for p in (r.properties for r in sandbox.state.store.table("contacts").records.values())
        if p.get("email") and "@" in p["email"] and " " not in p["email"]
    ).lower()
    ids, _ = _all_ids(
        client, filters=[{"propertyName": "email", "operator": "CONTAINS_TOKEN", "value": f"*@{domain}"}]
    )
    expected = _expected(sandbox, lambda p: (p.get("email") or "").strip().lower().endswith("@" + domain))
    assert sorted(ids, key=int) == expected
    not_ids, _ = _all_ids(
        client, filters=[{"propertyName": "email", "operator": "NOT_CONTAINS_TOKEN", "value": f"*@{domain}"}]
    )
    assert not set(ids) & set(not_ids)


def test_eq_on_email_ignores_case(client):
    created = client.crm.contacts.basic_api.create(
        SimplePublicObjectInputForCreate(properties={"email": "Search.Case@search-test.example"})
    )
    page = _search(
        client,
        filters=[{"propertyName": "email", "operator": "EQ", "value": "search.case@search-test.example"}],
    )
    assert [r.id for r in page.results] == [created.id]


def test_sort_descending_by_createdate(client):
    page = _search(
        client,
        sorts=[{"propertyName": "createdate", "direction": "DESCENDING"}],
        limit=50,
        properties=["createdate"],
    )
    stamps = [r.properties["createdate"] for r in page.results]
    assert stamps == sorted(stamps, reverse=True)


def test_more_than_five_filter_groups_is_400(client):
    group = {"filters": [{"propertyName": "email", "operator": "HAS_PROPERTY"}]}
    with pytest.raises(ApiException) as info:
        _search(client, groups=[group] * 6)
    assert info.value.status == 400


def test_more_than_six_filters_in_a_group_is_400(client):
    flt = {"propertyName": "email", "operator": "HAS_PROPERTY"}
    with pytest.raises(ApiException) as info:
        _search(client, filters=[flt] * 7)
    assert info.value.status == 400


def test_more_than_eighteen_filters_in_total_is_400(client):
    flt = {"propertyName": "email", "operator": "HAS_PROPERTY"}
    with pytest.raises(ApiException) as info:
        _search(client, groups=[{"filters": [flt] * 5}] * 4)
    assert info.value.status == 400


def test_search_limit_above_200_is_400(client):
    with pytest.raises(ApiException) as info:
        _search(client, limit=201)
    assert info.value.status == 400


def test_paging_beyond_10000_results_is_400(client):
    with pytest.raises(ApiException) as info:
        _search(client, after="9950", limit=100)
    assert info.value.status == 400
    assert error_model(info.value).category == "VALIDATION_ERROR"


def test_unknown_filter_property_is_400(client):
    with pytest.raises(ApiException) as info:
        _search(client, filters=[{"propertyName": "favourite_colour", "operator": "EQ", "value": "x"}])
    assert info.value.status == 400
    assert error_model(info.value).errors[0].code == "PROPERTY_DOESNT_EXIST"


def test_search_body_over_3000_characters_is_400(client):
    values = [f"someone-{i}@long-search.example" for i in range(120)]
    with pytest.raises(ApiException) as info:
        _search(client, filters=[{"propertyName": "email", "operator": "IN", "values": values}])
    assert info.value.status == 400


def test_archived_records_are_never_returned(client):
    created = client.crm.contacts.basic_api.create(
        SimplePublicObjectInputForCreate(properties={"email": "archived@search-test.example"})
    )
    client.crm.contacts.basic_api.archive(created.id)
    page = _search(
        client, filters=[{"propertyName": "email", "operator": "EQ", "value": "archived@search-test.example"}]
    )
    assert page.total == 0 and page.results == []


def test_search_responses_carry_no_rate_limit_headers(client):
    _, status, headers = client.crm.contacts.search_api.do_search_with_http_info(
        PublicObjectSearchRequest(filter_groups=[], limit=1)
    )
    assert status == 200
    assert not [h for h in headers if h.lower().startswith("x-hubspot-ratelimit")]


@pytest.fixture()
def lagged():
    mono = FakeMonotonic()
    with HubSpotSandbox(seed=3, contacts=30, search_index_lag_ms=2000, monotonic=mono, **UNTHROTTLED) as sb:
        yield sb, make_client(sb, retry=False), mono


def test_index_lag_hides_new_records_and_shows_old_values_until_it_passes(lagged):
    _sb, client, mono = lagged
    created = client.crm.contacts.basic_api.create(
        SimplePublicObjectInputForCreate(properties={"email": "fresh@lag-test.example", "city": "Old"})
    )
    by_email = [{"propertyName": "email", "operator": "EQ", "value": "fresh@lag-test.example"}]
    assert _search(client, filters=by_email).total == 0
    mono.advance(2.5)
    assert _search(client, filters=by_email, properties=["city"]).results[0].properties["city"] == "Old"
    client.crm.contacts.basic_api.update(created.id, SimplePublicObjectInput(properties={"city": "New"}))
    assert _search(client, filters=by_email, properties=["city"]).results[0].properties["city"] == "Old"
    mono.advance(2.5)
    assert _search(client, filters=by_email, properties=["city"]).results[0].properties["city"] == "New"


def test_seeded_records_are_searchable_immediately_despite_lag(lagged):
    sb, client, _ = lagged
    live = sum(1 for r in sb.state.store.table("contacts").records.values() if not r.archived)
    assert _search(client).total == live > 0
