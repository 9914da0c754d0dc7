"""The ASGI middleware every simulator runs behind: counts calls, adds latency and injects faults.

Control-plane paths (`/__sandbox/...`) pass straight through: they are never counted, delayed nor faulted.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable, Sequence
from typing import Any

from starlette.routing import BaseRoute, Match, Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from connectors.sandbox_core.counters import CallCounters
from connectors.sandbox_core.faults import FaultInjector, FaultRule

CONTROL_PREFIX = "/__sandbox"
# Scope extension the server puts on each request: a callable(reset: bool) that drops the connection.
ABORT_EXTENSION = "sandbox.abort"

DefaultErrorBody = Callable[[int], Any]

_TEMPLATE_CACHE_SIZE = 4096


class ConnectionDropped(Exception):
    """A reset/timeout fault fired where no server can drop the connection (an in-process ASGI client)."""


def sandbox_middleware(
    app: ASGIApp,
    *,
    injector: FaultInjector,
    counters: CallCounters,
    latency_ms: Callable[[], float],
    default_error_body: DefaultErrorBody,
    routes: Sequence[BaseRoute] | None = None,
) -> ASGIApp:
    """Wrap a simulator's ASGI app.

    Counts each API call under "METHOD /route/template" (templates come from `routes`, or from the
    Starlette app's own routes), sleeps the global latency, then applies the first fault that fires:
    "status" answers JSON (the rule's body, else `default_error_body(status)`) with the rule's headers,
    "reset" drops the connection at once without a response, "timeout" hangs `latency_ms` then drops,
    "latency" sleeps `latency_ms` and then serves the real response.
    """
    return _SandboxMiddleware(
        app,
        injector=injector,
        counters=counters,
        latency_ms=latency_ms,
        default_error_body=default_error_body,
        routes=list(routes) if routes is not None else _find_routes(app),
    )


class _SandboxMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        injector: FaultInjector,
        counters: CallCounters,
        latency_ms: Callable[[], float],
        default_error_body: DefaultErrorBody,
        routes: list[BaseRoute],
    ) -> None:
        self.app = app
        self._injector = injector
        self._counters = counters
        self._latency_ms = latency_ms
        self._default_error_body = default_error_body
        self._routes = routes
        self._templates: dict[tuple[str, str], str] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _is_control(scope["path"]):
            await self.app(scope, receive, send)
            return
        method: str = scope["method"]
        path: str = scope["path"]
        self._counters.record(f"{method} {self._template(scope)}")
        delay = self._latency_ms()
        if delay > 0:
            await sleep_precisely(delay / 1000)
        rule = self._injector.pick(method, path)
        if rule is None:
            await self.app(scope, receive, send)
        elif rule.kind == "latency":
            await sleep_precisely(rule.latency_ms / 1000)
            await self.app(scope, receive, send)
        elif rule.kind == "status":
            await self._send_error(rule, send)
        elif rule.kind == "reset":
            await _drop(scope, receive, reset=True)
        else:  # "timeout"
            await asyncio.sleep(rule.latency_ms / 1000)
            await _drop(scope, receive, reset=False)

    async def _send_error(self, rule: FaultRule, send: Send) -> None:
        body_value = rule.body if rule.body is not None else self._default_error_body(rule.status)
        body = json.dumps(body_value, separators=(",", ":")).encode()
        headers = [
            (b"content-type", b"application/json;charset=utf-8"),
            (b"content-length", b"%d" % len(body)),
        ]
        headers += [
            (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in rule.headers.items()
        ]
        await send({"type": "http.response.start", "status": rule.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _template(self, scope: Scope) -> str:
        key = (scope["method"], scope["path"])
        template = self._templates.get(key)
        if template is None:
            template = _resolve_template(self._routes, scope, "") or scope["path"]
            if len(self._templates) >= _TEMPLATE_CACHE_SIZE:
                self._templates.clear()
            self._templates[key] = template
        return template


def _is_control(path: str) -> bool:
    return path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/")


def _find_routes(app: ASGIApp) -> list[BaseRoute]:
    """The route table of a Starlette app (or of a router under a few layers of middleware)."""
    current: Any = app
    for _ in range(16):
        routes = getattr(current, "routes", None)
        if isinstance(routes, list):
            return routes
        current = getattr(current, "app", None)
        if current is None:
            break
    return []


def _resolve_template(routes: Sequence[BaseRoute], scope: Scope, prefix: str) -> str | None:
    partial: str | None = None
    for route in routes:
        match, child = route.matches(scope)
        if match is Match.NONE:
            continue
        if isinstance(route, Mount):
            inner = _resolve_template(route.routes, {**scope, **child}, prefix + route.path)
            if inner is not None:
                return inner
            continue
        template = prefix + route.path if isinstance(route, Route) else None
        if match is Match.FULL and template is not None:
            return template
        if partial is None:
            partial = template
    return partial


async def _drop(scope: Scope, receive: Receive, *, reset: bool) -> None:
    abort = scope.get("extensions", {}).get(ABORT_EXTENSION)
    if abort is None:
        raise ConnectionDropped(
            f"a {'reset' if reset else 'timeout'} fault fired for {scope['method']} {scope['path']}, "
            "but this server cannot drop connections: serve the simulator with SandboxServer"
        )
    abort(reset)
    # Wait until the server has seen the connection go, so it does not answer with a 500 of its own.
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(2.0):
            while (await receive())["type"] != "http.disconnect":
                pass


# The event loop's timers wake up to a millisecond late (epoll timeouts round up), which would add
# ~5% to a 20 ms simulated latency: sleep to just before the deadline, then yield until it passes.
_TIMER_SLACK = 0.0015


async def sleep_precisely(seconds: float) -> None:
    """Wait `seconds` to within a fraction of a millisecond, spinning (yielding) for at most ~1.5 ms."""
    deadline = time.perf_counter() + seconds
    if seconds > _TIMER_SLACK:
        await asyncio.sleep(seconds - _TIMER_SLACK)
    while time.perf_counter() < deadline:
        await asyncio.sleep(0)
