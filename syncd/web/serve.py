"""Serving the dashboard with uvicorn, refusing an unauthenticated dashboard off loopback."""

from __future__ import annotations

import ipaddress
import logging
from datetime import UTC, datetime

import uvicorn
from sqlalchemy import Engine

from syncd.errors import ConfigError
from syncd.web.app import Clock, create_app
from syncd.web.query import DashboardSettings

log = logging.getLogger(__name__)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def parse_bind(bind: str) -> tuple[str, int]:
    """ "127.0.0.1:8081", "[::1]:8081" or "localhost:8081" → (host, port)."""
    host, sep, port = bind.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ConfigError(
            [f"dashboard bind address {bind!r} is not HOST:PORT"], hint="e.g. 127.0.0.1:8081 or 0.0.0.0:8081"
        )
    return host, int(port)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # any other host name may resolve to a public address


def check_bind(bind: str, token: str | None) -> tuple[str, int]:
    """(host, port) to listen on; a ConfigError when the address is not loopback and there is no token."""
    host, port = parse_bind(bind)
    if token is not None and not token.strip():
        raise ConfigError(["the dashboard token is empty"], hint="set a long random token or remove it")
    if token is None and not is_loopback(host):
        raise ConfigError(
            [
                f"refusing to serve the dashboard on {bind} without a token: "
                "anyone who can reach that address could read it"
            ],
            hint="set a dashboard token (readers then send Authorization: Bearer <token> or open it once "
            "with ?token=<token>), or bind to 127.0.0.1",
        )
    return host, port


def build_server(
    engine: Engine,
    bind: str,
    token: str | None,
    *,
    clock: Clock = _utc_now,
    settings: DashboardSettings | None = None,
) -> uvicorn.Server:
    """A uvicorn server for the dashboard (call `.run()`), after the bind/token check."""
    host, port = check_bind(bind, token)
    app = create_app(engine, token=token, clock=clock, settings=settings)
    config = uvicorn.Config(
        app, host=host, port=port, lifespan="off", access_log=False, log_config=None, server_header=False
    )
    return uvicorn.Server(config)


def serve(
    engine: Engine,
    bind: str,
    token: str | None,
    *,
    clock: Clock = _utc_now,
    settings: DashboardSettings | None = None,
) -> None:
    """Serve the dashboard until stopped. A non-loopback bind needs a token (ConfigError otherwise)."""
    server = build_server(engine, bind, token, clock=clock, settings=settings)
    log.info("dashboard listening on %s (token %s)", bind, "required" if token else "not required, loopback")
    server.run()
