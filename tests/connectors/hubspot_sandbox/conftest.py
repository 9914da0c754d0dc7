"""Fixtures for the HubSpot simulator suite: served sandboxes and the official SDK pointed at them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
import urllib3
from hubspot import HubSpot
from hubspot.crm.contacts import ApiClient as ContactsApiClient
from hubspot.crm.contacts import Configuration as ContactsConfiguration

from connectors.hubspot.sandbox import HubSpotSandbox

# The shared sandbox must not throttle the suite itself; the rate-limit tests run their own.
UNTHROTTLED = {"ten_secondly_limit": 1_000_000, "daily_limit": 100_000_000, "search_per_second": 1_000_000}


class FakeMonotonic:
    """A monotonic clock the test moves by hand (rolling windows, search index lag)."""

    def __init__(self) -> None:
        self.value = 1_000.0

    def __call__(self) -> float:
        return self.value

    def advance(self, seconds: float) -> None:
        self.value += seconds


@pytest.fixture(scope="session")
def sandbox() -> Iterator[HubSpotSandbox]:
    with HubSpotSandbox(seed=7, contacts=400, search_index_lag_ms=0, **UNTHROTTLED) as sb:
        yield sb


def make_client(sb: HubSpotSandbox, **kwargs: Any) -> HubSpot:
    # hubspot-api-client 12 ships with client_side_validation off; switching it on makes every typed
    # model reject a response missing a required field or holding an out-of-enum value: the fidelity check.
    return HubSpot(access_token=sb.access_token, host=sb.base_url, client_side_validation=True, **kwargs)


@pytest.fixture(scope="session")
def client(sandbox: HubSpotSandbox) -> HubSpot:
    # Turn the SDK's own urllib3 retries off, as the connector does: every response is seen once.
    return make_client(sandbox, retry=False)


@pytest.fixture(scope="session")
def http() -> urllib3.PoolManager:
    return urllib3.PoolManager(retries=False)


def error_model(exc: Any) -> Any:
    """An ApiException's body deserialised into the SDK's `Error` model (validation on)."""
    configuration = ContactsConfiguration()
    configuration.client_side_validation = True
    api_client = ContactsApiClient(configuration=configuration)
    return api_client.deserialize(SimpleNamespace(data=exc.body), "Error")


def error_json(exc: Any) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(exc.body)
    return body


def raw(
    http: urllib3.PoolManager,
    sb: HubSpotSandbox,
    method: str,
    path: str,
    body: Any = None,
    *,
    token: str | None = "default",
    fields: dict[str, Any] | None = None,
) -> urllib3.BaseHTTPResponse:
    """A plain HTTP call (for endpoints the SDK lacks and for headers)."""
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {sb.access_token if token == 'default' else token}"
    return http.request(
        method,
        sb.base_url + path,
        body=json.dumps(body) if body is not None else None,
        headers=headers,
        fields=fields,
    )


def control(http: urllib3.PoolManager, sb: HubSpotSandbox, method: str, path: str, body: Any = None) -> Any:
    response = http.request(
        method,
        sb.base_url + "/__sandbox" + path,
        body=json.dumps(body) if body is not None else None,
        headers={"Content-Type": "application/json"},
    )
    assert response.status < 300, response.data
    return json.loads(response.data)
