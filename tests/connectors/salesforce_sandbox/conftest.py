"""Fixtures: simulated orgs over loopback HTTPS and simple-salesforce clients wired to them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests
from requests.adapters import HTTPAdapter
from simple_salesforce import Salesforce

from connectors.salesforce.sandbox import SalesforceSandbox
from connectors.sandbox_core.server import TLSFiles, make_tls

LOGIN_HOSTS = (
    "https://login.salesforce.com",
    "https://test.salesforce.com",
    "https://acme.my.salesforce.com",
)


class RedirectToSandbox(HTTPAdapter):
    """Sends requests for Salesforce's login hosts to the simulator instead."""

    def __init__(self, instance_url: str) -> None:
        super().__init__()
        self.netloc = urlsplit(instance_url).netloc

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        parts = urlsplit(request.url or "")
        request.url = urlunsplit(("https", self.netloc, parts.path, parts.query, parts.fragment))
        return super().send(request, **kwargs)


def http_session(sandbox: SalesforceSandbox) -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # REQUESTS_CA_BUNDLE would otherwise override verify
    session.verify = sandbox.ca_file
    adapter = RedirectToSandbox(sandbox.instance_url)
    for host in LOGIN_HOSTS:
        session.mount(host, adapter)
    return session


def password_login(sandbox: SalesforceSandbox) -> Salesforce:
    return Salesforce(
        username=sandbox.username,
        password=sandbox.password,
        security_token=sandbox.security_token,
        session=http_session(sandbox),
    )


def oauth_token(sandbox: SalesforceSandbox) -> dict[str, Any]:
    session = http_session(sandbox)
    response = session.post(
        sandbox.token_url,
        data={
            "grant_type": "password",
            "client_id": sandbox.client_id,
            "client_secret": sandbox.client_secret,
            "username": sandbox.username,
            "password": sandbox.password + sandbox.security_token,
        },
    )
    response.raise_for_status()
    token: dict[str, Any] = response.json()
    return token


def token_login(sandbox: SalesforceSandbox) -> Salesforce:
    token = oauth_token(sandbox)
    return Salesforce(
        instance_url=token["instance_url"], session_id=token["access_token"], session=http_session(sandbox)
    )


def control(sandbox: SalesforceSandbox, method: str, path: str, **kwargs: Any) -> Any:
    response = http_session(sandbox).request(method, f"{sandbox.instance_url}/__sandbox{path}", **kwargs)
    assert response.status_code < 300, response.text
    return response.json()


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TLSFiles:
    return make_tls(Path(tmp_path_factory.mktemp("sf-tls")))


@pytest.fixture(scope="session")
def sandbox(tls: TLSFiles) -> Iterator[SalesforceSandbox]:
    """A shared org: tests only read seeded data or write records of their own."""
    with SalesforceSandbox(seed=7, people=400, tls=tls) as running:
        yield running


@pytest.fixture(scope="session")
def sf(sandbox: SalesforceSandbox) -> Salesforce:
    return token_login(sandbox)


@pytest.fixture
def fresh(tls: TLSFiles) -> Iterator[SalesforceSandbox]:
    """A small org of its own, for tests that change settings, sessions or the budget."""
    with SalesforceSandbox(seed=3, people=30, tls=tls) as running:
        yield running
