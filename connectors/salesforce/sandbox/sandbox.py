"""SalesforceSandbox: a seeded simulated org served over loopback HTTPS, for tests, demos and benchmarks."""

from __future__ import annotations

from types import TracebackType
from typing import Any

from connectors.salesforce.sandbox.app import build_app
from connectors.salesforce.sandbox.org import SalesforceOrg
from connectors.salesforce.sandbox.settings import SalesforceSettings
from connectors.sandbox_core.clock import SimClock
from connectors.sandbox_core.server import SandboxServer, TLSFiles


class SalesforceSandbox:
    """One simulated org on 127.0.0.1. TLS is required: simple-salesforce only speaks https://.

    `settings` are SalesforceSettings field names (api_daily_limit=..., duplicate_rules=True, ...)."""

    def __init__(
        self,
        *,
        seed: int = 1,
        people: int = 200,
        latency_ms: float = 0.0,
        tls: TLSFiles,
        clock: SimClock | None = None,
        port: int = 0,
        **settings: Any,
    ) -> None:
        self.tls = tls
        self.state = SalesforceOrg(
            seed=seed,
            people=people,
            latency_ms=latency_ms,
            clock=clock,
            settings=SalesforceSettings().updated(settings),
        )
        self._server = SandboxServer(build_app(self.state), port=port, tls=tls)

    def start(self) -> SalesforceSandbox:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> SalesforceSandbox:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def instance_url(self) -> str:
        return self._server.base_url

    @property
    def token_url(self) -> str:
        return f"{self.instance_url}/services/oauth2/token"

    @property
    def username(self) -> str:
        return self.state.settings.username

    @property
    def password(self) -> str:
        return self.state.settings.password

    @property
    def security_token(self) -> str:
        return self.state.settings.security_token

    @property
    def client_id(self) -> str:
        return self.state.settings.client_id

    @property
    def client_secret(self) -> str:
        return self.state.settings.client_secret

    @property
    def ca_file(self) -> str:
        return str(self.tls.ca_pem)
