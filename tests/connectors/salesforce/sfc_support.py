"""Helpers for the loopback tests: the simulator's control plane as a small client, and login details."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import requests

from connectors.salesforce.connector import SalesforceConnector
from connectors.salesforce.sandbox import SalesforceSandbox
from connectors.salesforce.sandbox import SalesforceSettings as SandboxSettings
from connectors.salesforce.settings import PasswordLogin

PEOPLE = 400

MakeConnector = Callable[..., SalesforceConnector]


@dataclass
class Control:
    """The simulator's /__sandbox/ control plane, spoken over HTTPS like any client would."""

    sandbox: SalesforceSandbox
    http: requests.Session

    def _url(self, path: str) -> str:
        return f"{self.sandbox.instance_url}/__sandbox{path}"

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self.http.post(self._url(path), json=body or {}, timeout=10)
        assert response.status_code < 300, response.text
        return response.json()

    def get(self, path: str) -> Any:
        response = self.http.get(self._url(path), timeout=10)
        assert response.status_code < 300, response.text
        return response.json()

    def reset(self, **options: Any) -> None:
        """Reseed with default org settings and the clock on real time (a reseed keeps both as they were)."""
        self.post("/clock", {"set": datetime.now(UTC).isoformat(), "freeze": False})
        defaults = asdict(SandboxSettings())
        self.post("/reset", {"seed": 1, "people": PEOPLE, "settings": defaults, **options})

    def calls(self) -> int:
        """Requests the simulator served on its API (control-plane requests are not counted)."""
        total: int = self.get("/counters")["total"]
        return total

    def fault(self, **rule: Any) -> None:
        self.post("/faults", rule)

    def records(self, sobject: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self.get("/snapshot")["objects"].get(sobject, [])
        return rows


def password_login(sandbox: SalesforceSandbox) -> PasswordLogin:
    return PasswordLogin(
        username=sandbox.username,
        password=sandbox.password,
        client_id=sandbox.client_id,
        client_secret=sandbox.client_secret,
        security_token=sandbox.security_token,
    )
