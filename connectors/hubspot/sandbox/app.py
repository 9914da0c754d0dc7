"""Assembles the simulator's ASGI app (API routes, control plane, middleware) and the in-process
`HubSpotSandbox` that serves it on loopback."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp

from connectors.hubspot.sandbox.actions import HubSpotActions
from connectors.hubspot.sandbox.api import HubSpotApi, json_response
from connectors.hubspot.sandbox.errors import HubSpotError, default_error_body
from connectors.hubspot.sandbox.settings import HubSpotSettings
from connectors.hubspot.sandbox.state import HubSpotState
from connectors.sandbox_core.clock import SimClock
from connectors.sandbox_core.control import control_routes
from connectors.sandbox_core.middleware import sandbox_middleware
from connectors.sandbox_core.server import SandboxServer, TLSFiles


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if status == 404:
        error = HubSpotError(
            404, f"No route for {request.method} {request.url.path}", category="OBJECT_NOT_FOUND"
        )
    elif status == 405:
        error = HubSpotError(
            405, f"HTTP {request.method} is not supported by this URL", category="METHOD_NOT_ALLOWED"
        )
    else:
        error = HubSpotError(status, "error")
    return json_response(error.body(), status)


def build_app(state: HubSpotState) -> ASGIApp:
    """The whole simulator for one portal state, behind the shared fault/latency/counter middleware."""
    api = HubSpotApi(state)
    routes = control_routes(state) + HubSpotActions(state).routes() + api.routes()
    app = Starlette(routes=routes, exception_handlers={404: _http_error, 405: _http_error})
    return sandbox_middleware(
        app,
        injector=state.injector,
        counters=state.counters,
        latency_ms=lambda: state.latency_ms,
        default_error_body=default_error_body,
    )


def _token_for(seed: int) -> str:
    digest = hashlib.sha256(f"hubspot-sandbox:{seed}".encode()).hexdigest()
    return f"pat-na1-{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


class HubSpotSandbox:
    """A simulated HubSpot portal served on loopback, in-process.

    `contacts` is the size of the shared population the portal seeds from (the people marked
    `in_hubspot` become contacts), so a Salesforce simulator built with the same seed and size overlaps
    with it. Other keyword settings are `HubSpotSettings` fields (rate-limit tier, daily limit, search
    index lag, Retry-After, ...).
    """

    def __init__(
        self,
        *,
        seed: int = 1,
        contacts: int = 200,
        latency_ms: float = 0.0,
        tls: TLSFiles | None = None,
        clock: SimClock | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        access_token: str | None = None,
        port: int = 0,
        **settings: Any,
    ) -> None:
        self.access_token = access_token or _token_for(seed)
        self.state = HubSpotState(
            seed=seed,
            contacts=contacts,
            settings=HubSpotSettings().updated(settings),
            clock=clock or SimClock(monotonic=monotonic),
            access_token=self.access_token,
            latency_ms=latency_ms,
            monotonic=monotonic,
        )
        self.app = build_app(self.state)
        self._server = SandboxServer(self.app, port=port, tls=tls)

    @property
    def settings(self) -> HubSpotSettings:
        return self.state.settings

    @property
    def base_url(self) -> str:
        return self._server.base_url

    @property
    def ca_file(self) -> str | None:
        return str(self._server.tls.ca_pem) if self._server.tls else None

    def configure(self, **changes: Any) -> HubSpotSettings:
        """Change settings while running (e.g. `configure(ten_secondly_limit=100)`)."""
        return self.state.update_settings(changes)

    def reset(self, options: Mapping[str, Any]) -> None:
        self.state.reset(options)

    def start(self) -> HubSpotSandbox:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> HubSpotSandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
