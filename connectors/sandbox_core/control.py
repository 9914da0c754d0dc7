"""The control plane every simulator mounts under /__sandbox/: clock, faults, counters, reset, snapshot."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connectors.sandbox_core.clock import SimClock
from connectors.sandbox_core.counters import CallCounters
from connectors.sandbox_core.faults import FaultInjector, FaultRule


class SimulatorControl(Protocol):
    """What a simulator's state object offers the control plane.

    `reset(options)` rebuilds the simulator's data from `options` (at least {"seed": n}); the
    /__sandbox/reset route then clears the faults, reseeds the injector and zeroes the counters itself.
    """

    clock: SimClock
    injector: FaultInjector
    counters: CallCounters
    latency_ms: float

    def reset(self, options: Mapping[str, Any]) -> None: ...

    def snapshot(self) -> dict[str, Any]: ...

    def budget(self) -> dict[str, Any]: ...


class ControlError(ValueError):
    """A control-plane request the simulator cannot act on; answered with 400 and the reason.

    Any ValueError a simulator's control hook raises (e.g. from `reset`) is answered the same way.
    """


def json_default(value: Any) -> Any:
    """JSON for the values simulator state holds: datetimes in ISO 8601 (UTC as Z), Decimals as strings."""
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def json_response(content: Any, status: int = 200) -> Response:
    body = json.dumps(content, default=json_default, separators=(",", ":"))
    return Response(body, status_code=status, media_type="application/json")


Endpoint = Callable[[Request], Awaitable[Response]]


def control_routes(sim: SimulatorControl) -> list[Route]:
    """Routes of the common control plane; a simulator adds its own actions under /__sandbox/ beside them."""

    async def health(request: Request) -> Response:
        return json_response({"status": "ok", "now": sim.clock.now()})

    async def get_clock(request: Request) -> Response:
        return json_response(_clock_state(sim.clock))

    async def post_clock(request: Request) -> Response:
        body = await _json_object(request)
        unknown = sorted(set(body) - {"advance_seconds", "set", "freeze"})
        if unknown or not body:
            raise ControlError(
                f"unknown clock fields {unknown}; send advance_seconds, set (ISO 8601 with offset) or freeze"
            )
        if "set" in body:
            sim.clock.set(_parse_datetime(body["set"]))
        if "advance_seconds" in body:
            sim.clock.advance(_number(body, "advance_seconds"))
        if "freeze" in body:
            if not isinstance(body["freeze"], bool):
                raise ControlError("freeze must be true or false")
            if body["freeze"]:
                sim.clock.freeze()
            else:
                sim.clock.unfreeze()
        return json_response(_clock_state(sim.clock))

    async def list_faults(request: Request) -> Response:
        return json_response({"faults": [fault.to_json() for fault in sim.injector.rules()]})

    async def add_fault(request: Request) -> Response:
        body = await _json_object(request)
        try:
            rule = FaultRule.from_json(body)
        except (TypeError, ValueError) as exc:
            raise ControlError(str(exc)) from exc
        return json_response({"id": sim.injector.add(rule)}, status=201)

    async def clear_faults(request: Request) -> Response:
        sim.injector.clear()
        return json_response({"faults": []})

    async def delete_fault(request: Request) -> Response:
        fault_id = request.path_params["fault_id"]
        if not sim.injector.remove(fault_id):
            return json_response({"error": f"no active fault {fault_id}"}, status=404)
        return json_response({"id": fault_id, "deleted": True})

    async def get_counters(request: Request) -> Response:
        return json_response(
            {"total": sim.counters.total, "by_endpoint": sim.counters.snapshot(), "budget": sim.budget()}
        )

    async def reset_counters(request: Request) -> Response:
        sim.counters.reset()
        return json_response({"total": 0, "by_endpoint": {}, "budget": sim.budget()})

    async def reset(request: Request) -> Response:
        options = await _json_object(request, allow_empty=True)
        seed = options.get("seed")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ControlError(f"seed must be an integer, got {seed!r}")
        sim.reset(options)
        sim.injector.clear()
        if seed is not None:
            sim.injector.reseed(seed)
        sim.counters.reset()
        return json_response({"status": "reset", "options": options})

    async def snapshot(request: Request) -> Response:
        return json_response(sim.snapshot())

    async def get_latency(request: Request) -> Response:
        return json_response({"latency_ms": sim.latency_ms})

    async def set_latency(request: Request) -> Response:
        body = await _json_object(request)
        latency = _number(body, "latency_ms")
        if latency < 0:
            raise ControlError(f"latency_ms must be >= 0, got {latency}")
        sim.latency_ms = latency
        return json_response({"latency_ms": sim.latency_ms})

    def route(path: str, endpoint: Endpoint, method: str) -> Route:
        return Route("/__sandbox" + path, _answer_control_errors(endpoint), methods=[method])

    return [
        route("/health", health, "GET"),
        route("/clock", get_clock, "GET"),
        route("/clock", post_clock, "POST"),
        route("/faults", list_faults, "GET"),
        route("/faults", add_fault, "POST"),
        route("/faults", clear_faults, "DELETE"),
        route("/faults/{fault_id}", delete_fault, "DELETE"),
        route("/counters", get_counters, "GET"),
        route("/counters", reset_counters, "DELETE"),
        route("/reset", reset, "POST"),
        route("/snapshot", snapshot, "GET"),
        route("/latency", get_latency, "GET"),
        route("/latency", set_latency, "POST"),
    ]


def _answer_control_errors(endpoint: Endpoint) -> Endpoint:
    async def wrapped(request: Request) -> Response:
        try:
            return await endpoint(request)
        except ValueError as exc:  # ControlError, or a simulator hook refusing its input
            return json_response({"error": str(exc), "path": request.url.path}, status=400)

    return wrapped


def _clock_state(clock: SimClock) -> dict[str, Any]:
    return {"now": clock.now(), "frozen": clock.frozen}


async def _json_object(request: Request, *, allow_empty: bool = False) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        if allow_empty:
            return {}
        raise ControlError("expected a JSON object body")
    try:
        body = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ControlError(f"body is not valid JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise ControlError("expected a JSON object body")
    return body


def _number(body: Mapping[str, Any], name: str) -> float:
    value = body[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ControlError(f"{name} must be a number, got {value!r}")
    return float(value)


def _parse_datetime(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ControlError(f"set must be an ISO 8601 string, got {value!r}")
    try:
        when = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ControlError(f"set is not an ISO 8601 datetime: {value!r}") from exc
    if when.tzinfo is None:
        raise ControlError(f"set needs a UTC offset or Z: {value!r}")
    return when
