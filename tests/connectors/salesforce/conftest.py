"""Fixtures: the Salesforce simulator over loopback HTTPS, its control plane, and connectors pointed at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from connectors.salesforce.connector import SalesforceConnector
from connectors.salesforce.sandbox import SalesforceSandbox
from connectors.salesforce.settings import Credentials, SalesforceSettings
from connectors.sandbox_core.server import TLSFiles, make_tls
from syncd.budget import ApiBudget
from syncd.retry import RetryPolicy
from tests.connectors.salesforce.sfc_support import PEOPLE, Control, MakeConnector, password_login


@pytest.fixture(scope="session")
def sf_tls(tmp_path_factory: pytest.TempPathFactory) -> TLSFiles:
    directory: Path = tmp_path_factory.mktemp("sf-tls")
    return make_tls(directory)


@pytest.fixture(scope="session")
def _sf_sandbox(sf_tls: TLSFiles) -> Iterator[SalesforceSandbox]:
    with SalesforceSandbox(seed=1, people=PEOPLE, tls=sf_tls) as sandbox:
        yield sandbox


@pytest.fixture
def control(_sf_sandbox: SalesforceSandbox) -> Iterator[Control]:
    """The control plane of a freshly reseeded org (faults cleared, counters zeroed)."""
    http = requests.Session()
    http.trust_env = False
    http.verify = _sf_sandbox.ca_file
    ctl = Control(_sf_sandbox, http)
    ctl.reset()
    yield ctl
    http.close()


@pytest.fixture
def sandbox(control: Control) -> SalesforceSandbox:
    return control.sandbox


@pytest.fixture
def make_connector(sandbox: SalesforceSandbox) -> Iterator[MakeConnector]:
    """Connectors on the simulator: retries without sleeping, a fresh budget each, closed afterwards."""
    made: list[SalesforceConnector] = []

    def make(
        credentials: Credentials | None = None,
        *,
        budget: ApiBudget | None = None,
        sleeps: list[float] | None = None,
        **settings: Any,
    ) -> SalesforceConnector:
        connector = SalesforceConnector(
            SalesforceSettings(
                credentials or password_login(sandbox),
                **{"login_url": sandbox.instance_url, "ca_file": sandbox.ca_file, **settings},
            ),
            budget=budget,
            retry_policy=RetryPolicy(max_attempts=4, base_delay=0.01),
            sleep=(sleeps.append if sleeps is not None else lambda seconds: None),
        )
        made.append(connector)
        return connector

    yield make
    for connector in made:
        connector.close()


@pytest.fixture
def connector(make_connector: MakeConnector) -> SalesforceConnector:
    return make_connector()
