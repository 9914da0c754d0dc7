"""The daily API allocation: Sforce-Limit-Info on every response, 403 when spent, rolling 24 hours."""

from __future__ import annotations

import pytest
from simple_salesforce.exceptions import SalesforceRefusedRequest

from connectors.salesforce.sandbox import SalesforceSandbox

from .conftest import control, http_session, token_login


def test_every_response_reports_api_usage(fresh: SalesforceSandbox) -> None:
    sf = token_login(fresh)
    sf.query("SELECT Id FROM Lead LIMIT 1")
    first = sf.api_usage["api-usage"]
    leads = sf.Lead
    leads.describe()
    assert leads.api_usage["api-usage"].used == first.used + 1
    assert first.total == 15000


def test_error_responses_carry_the_limit_header_too(fresh: SalesforceSandbox) -> None:
    sf = token_login(fresh)
    response = http_session(fresh).get(
        f"{fresh.instance_url}/services/data/v59.0/query",
        params={"q": "SELECT Nope FROM Lead"},
        headers={"Authorization": f"Bearer {sf.session_id}"},
    )
    assert response.status_code == 400
    assert response.headers["Sforce-Limit-Info"].startswith("api-usage=")


def test_spent_allocation_answers_403_request_limit_exceeded(fresh: SalesforceSandbox) -> None:
    control(fresh, "POST", "/settings", json={"api_daily_limit": 3})
    sf = token_login(fresh)
    for _ in range(3):
        sf.query("SELECT Id FROM Lead LIMIT 1")
    with pytest.raises(SalesforceRefusedRequest) as caught:
        sf.query("SELECT Id FROM Lead LIMIT 1")
    assert caught.value.status == 403
    assert caught.value.content == [
        {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}
    ]


def test_allocation_frees_up_as_calls_age_past_24_hours(fresh: SalesforceSandbox) -> None:
    control(fresh, "POST", "/settings", json={"api_daily_limit": 2, "session_timeout_seconds": 86400 * 2})
    sf = token_login(fresh)
    sf.query("SELECT Id FROM Lead LIMIT 1")
    control(fresh, "POST", "/clock", json={"advance_seconds": 12 * 3600})
    sf.query("SELECT Id FROM Lead LIMIT 1")
    with pytest.raises(SalesforceRefusedRequest):
        sf.query("SELECT Id FROM Lead LIMIT 1")
    control(fresh, "POST", "/clock", json={"advance_seconds": 12 * 3600 + 1})
    sf.query("SELECT Id FROM Lead LIMIT 1")  # the first call has left the window
    assert sf.api_usage["api-usage"].used == 2


def test_other_integrations_share_the_allocation(fresh: SalesforceSandbox) -> None:
    sf = token_login(fresh)
    control(fresh, "POST", "/api-usage", json={"calls": 1000})
    sf.query("SELECT Id FROM Lead LIMIT 1")
    assert sf.api_usage["api-usage"].used == 1001
    assert control(fresh, "GET", "/counters")["budget"]["api_usage"] == 1001
