"""Authentication, the ten-second/daily/search budgets, their headers and 429 bodies, and SDK retries."""

from __future__ import annotations

import json

import pytest
from hubspot import HubSpot
from hubspot.crm.contacts import ApiException, PublicObjectSearchRequest
from urllib3.util.retry import Retry

from connectors.hubspot.sandbox import HubSpotSandbox
from tests.connectors.hubspot_sandbox.conftest import (
    FakeMonotonic,
    control,
    error_json,
    error_model,
    make_client,
    raw,
)


@pytest.fixture()
def limited():
    mono = FakeMonotonic()
    with HubSpotSandbox(
        seed=5,
        contacts=20,
        monotonic=mono,
        ten_secondly_limit=100,
        daily_limit=250_000,
        search_index_lag_ms=0,
    ) as sb:
        yield sb, mono


def _spend(client, n):
    api = client.crm.contacts.basic_api  # one API object: one connection pool
    for _ in range(n):
        api.get_page(limit=1)


def test_missing_token_is_401_invalid_authentication(sandbox, http):
    response = raw(http, sandbox, "GET", "/crm/v3/objects/contacts", token=None)
    assert response.status == 401
    assert json.loads(response.data)["category"] == "INVALID_AUTHENTICATION"


def test_wrong_token_is_401_through_the_sdk(sandbox):
    bad = HubSpot(access_token="pat-na1-not-the-token", host=sandbox.base_url, client_side_validation=True)
    with pytest.raises(ApiException) as info:
        bad.crm.contacts.basic_api.get_page()
    assert info.value.status == 401
    assert error_model(info.value).category == "INVALID_AUTHENTICATION"


def test_rate_limit_headers_report_the_ten_second_and_daily_budgets(limited):
    sb, _ = limited
    client = make_client(sb, retry=False)
    _, status, headers = client.crm.contacts.basic_api.get_page_with_http_info(limit=1)
    assert status == 200
    assert headers["X-HubSpot-RateLimit-Max"] == "100"
    assert headers["X-HubSpot-RateLimit-Remaining"] == "99"
    assert headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
    assert headers["X-HubSpot-RateLimit-Daily"] == "250000"
    assert headers["X-HubSpot-RateLimit-Daily-Remaining"] == "249999"


def test_ten_secondly_limit_answers_429_with_policy_name_then_recovers(limited):
    sb, mono = limited
    client = make_client(sb, retry=False)
    _spend(client, 100)
    with pytest.raises(ApiException) as info:
        client.crm.contacts.basic_api.get_page(limit=1)
    assert info.value.status == 429
    body = error_json(info.value)
    assert body["policyName"] == "TEN_SECONDLY_ROLLING"
    assert body["errorType"] == "RATE_LIMIT"
    assert body["status"] == "error" and body["correlationId"] and body["requestId"]
    assert "Retry-After" not in info.value.headers
    mono.advance(10.01)
    assert client.crm.contacts.basic_api.get_page(limit=1).results


def test_rejected_requests_do_not_spend_the_budget(limited, http):
    sb, _mono = limited
    client = make_client(sb, retry=False)
    _spend(client, 100)
    for _ in range(5):
        with pytest.raises(ApiException):
            client.crm.contacts.basic_api.get_page(limit=1)
    budget = control(http, sb, "GET", "/counters")["budget"]
    assert budget["ten_secondly"]["used"] == 100
    assert budget["daily"]["used"] == 100


def test_retry_after_is_sent_only_when_the_setting_enables_it(limited):
    sb, _ = limited
    sb.configure(retry_after=True)
    client = make_client(sb, retry=False)
    _spend(client, 100)
    with pytest.raises(ApiException) as info:
        client.crm.contacts.basic_api.get_page(limit=1)
    assert int(info.value.headers["Retry-After"]) >= 1


def test_daily_limit_answers_429_daily_until_the_next_simulator_day(limited, http):
    sb, _mono = limited
    sb.configure(daily_limit=3, ten_secondly_limit=250)
    client = make_client(sb, retry=False)
    _spend(client, 3)
    with pytest.raises(ApiException) as info:
        client.crm.contacts.basic_api.get_page(limit=1)
    body = error_json(info.value)
    assert (info.value.status, body["policyName"]) == (429, "DAILY")
    assert body["message"] == "You have reached your daily limit."
    control(http, sb, "POST", "/clock", {"advance_seconds": 86_400})
    assert client.crm.contacts.basic_api.get_page(limit=1).results


def test_search_has_its_own_five_per_second_bucket(limited):
    sb, mono = limited
    client = make_client(sb, retry=False)
    request = PublicObjectSearchRequest(filter_groups=[], limit=1)
    for _ in range(5):
        client.crm.contacts.search_api.do_search(request)
    with pytest.raises(ApiException) as info:
        client.crm.contacts.search_api.do_search(request)
    body = error_json(info.value)
    assert info.value.status == 429
    assert body["message"] == "You have reached your secondly limit."
    assert not [h for h in info.value.headers if h.lower().startswith("x-hubspot-ratelimit")]
    # the ten-second bucket is untouched by search
    _, _, headers = client.crm.contacts.basic_api.get_page_with_http_info(limit=1)
    assert headers["X-HubSpot-RateLimit-Remaining"] == "99"
    mono.advance(1.01)
    assert client.crm.contacts.search_api.do_search(request).total > 0


def test_sdk_retries_disabled_surface_a_429_once_as_api_exception(limited, http):
    sb, _ = limited
    sb.configure(retry_after=True)
    client = make_client(sb, retry=Retry(total=0, status_forcelist=(), respect_retry_after_header=False))
    _spend(client, 100)
    control(http, sb, "DELETE", "/counters")
    with pytest.raises(ApiException) as info:
        client.crm.contacts.basic_api.get_page(limit=1)
    assert info.value.status == 429
    assert error_json(info.value)["policyName"] == "TEN_SECONDLY_ROLLING"
    assert control(http, sb, "GET", "/counters")["total"] == 1


def test_budget_is_visible_on_the_control_plane(limited, http):
    sb, _ = limited
    _spend(make_client(sb, retry=False), 7)
    budget = control(http, sb, "GET", "/counters")["budget"]
    assert budget["ten_secondly"] == {"max": 100, "used": 7, "remaining": 93}
    assert budget["daily"]["used"] == 7


def test_default_sdk_silently_retries_a_get_429_that_carries_retry_after(limited, http):
    sb, _ = limited
    rule = {
        "method": "GET",
        "path": "^/crm/v3/objects/contacts$",
        "kind": "status",
        "status": 429,
        "headers": {"Retry-After": "0"},
        "count": 1,
    }
    control(http, sb, "POST", "/faults", rule)
    control(http, sb, "DELETE", "/counters")
    default_client = make_client(sb)  # urllib3's default Retry: what the connector must turn off
    assert default_client.crm.contacts.basic_api.get_page(limit=1).results
    assert control(http, sb, "GET", "/counters")["total"] == 2
    control(http, sb, "POST", "/faults", rule)
    with pytest.raises(ApiException) as info:
        make_client(sb, retry=False).crm.contacts.basic_api.get_page(limit=1)
    assert info.value.status == 429
    assert error_json(info.value)["policyName"] == "TEN_SECONDLY_ROLLING"


def test_settings_change_over_the_control_plane_and_reject_wrong_types(limited, http):
    sb, _ = limited
    updated = control(http, sb, "POST", "/settings", {"ten_secondly_limit": 250, "retry_after": True})
    assert updated["ten_secondly_limit"] == 250 and sb.settings.retry_after is True
    response = http.request(
        "POST",
        sb.base_url + "/__sandbox/settings",
        body=json.dumps({"ten_secondly_limit": "lots"}),
        headers={"Content-Type": "application/json"},
    )
    assert response.status == 400
    with pytest.raises(ValueError):
        sb.configure(daily_limit=1.5)
