"""A tiny simulator built only from the sandbox core, for exercising it over real loopback sockets."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from connectors.sandbox_core.clock import SimClock
from connectors.sandbox_core.control import SimulatorControl, control_routes
from connectors.sandbox_core.counters import CallCounters
from connectors.sandbox_core.faults import FaultInjector
from connectors.sandbox_core.middleware import sandbox_middleware
from connectors.sandbox_core.server import SandboxServer

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@dataclass
class TinySim:
    """Implements SimulatorControl; holds a few items and records the resets it was asked for."""

    clock: SimClock = field(default_factory=lambda: SimClock(START, frozen=True))
    injector: FaultInjector = field(default_factory=lambda: FaultInjector(seed=7))
    counters: CallCounters = field(default_factory=CallCounters)
    latency_ms: float = 0.0
    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    resets: list[dict[str, Any]] = field(default_factory=list)

    def reset(self, options: Mapping[str, Any]) -> None:
        self.resets.append(dict(options))
        self.items = {"1": {"id": "1", "cost": Decimal("12.50"), "created": START}}

    def snapshot(self) -> dict[str, Any]:
        return {"items": list(self.items.values())}

    def budget(self) -> dict[str, Any]:
        return {"daily_limit": 1000, "used": self.counters.total}


def error_body(status: int) -> dict[str, Any]:
    return {"status": "error", "message": f"simulated {status}", "category": "SIMULATED"}


def build_app(sim: TinySim) -> Any:
    _: SimulatorControl = sim  # the tiny simulator must satisfy the control protocol

    async def list_items(request: Request) -> Response:
        return JSONResponse({"results": sorted(sim.items)})

    async def get_item(request: Request) -> Response:
        item = sim.items.get(request.path_params["item_id"])
        if item is None:
            return JSONResponse(error_body(404), status_code=404)
        return JSONResponse({"id": item["id"]})

    async def create_item(request: Request) -> Response:
        body = await request.json()
        sim.items[str(body["id"])] = body
        return JSONResponse(body, status_code=201)

    async def now(request: Request) -> Response:
        return JSONResponse({"now": sim.clock.now().isoformat()})

    app = Starlette(
        routes=[
            Route("/items", list_items, methods=["GET"]),
            Route("/items", create_item, methods=["POST"]),
            Route("/items/{item_id}", get_item, methods=["GET"]),
            Route("/now", now, methods=["GET"]),
            *control_routes(sim),
        ]
    )
    return sandbox_middleware(
        app,
        injector=sim.injector,
        counters=sim.counters,
        latency_ms=lambda: sim.latency_ms,
        default_error_body=error_body,
    )


@dataclass
class Running:
    sim: TinySim
    server: SandboxServer

    @property
    def url(self) -> str:
        return self.server.base_url


def fresh(sim: TinySim) -> None:
    sim.injector.clear()
    sim.injector.reseed(7)
    sim.counters.reset()
    sim.latency_ms = 0.0
    sim.clock.freeze()
    sim.clock.set(START)
    sim.reset({"seed": 7})
