"""The /__sandbox/ control plane: clock, faults, reset, snapshot, latency, and its error answers."""

from __future__ import annotations

from datetime import datetime

import httpx

from tests.connectors.sandbox_core.tiny_sim import START, Running


def test_health_answers_ok_with_the_simulated_time(tiny: Running) -> None:
    response = httpx.get(f"{tiny.url}/__sandbox/health")
    assert response.json() == {"status": "ok", "now": "2026-01-05T09:00:00Z"}


def test_clock_can_be_set_advanced_and_read_back_by_the_api(tiny: Running) -> None:
    with httpx.Client(base_url=tiny.url) as client:
        assert client.get("/__sandbox/clock").json() == {"now": "2026-01-05T09:00:00Z", "frozen": True}
        moved = client.post(
            "/__sandbox/clock", json={"set": "2026-03-01T00:00:00+02:00", "advance_seconds": 3600}
        )
        assert moved.json() == {"now": "2026-02-28T23:00:00Z", "frozen": True}
        assert client.get("/now").json() == {"now": "2026-02-28T23:00:00+00:00"}


def test_unfrozen_clock_runs_forward_from_where_it_was(tiny: Running) -> None:
    with httpx.Client(base_url=tiny.url) as client:
        assert client.post("/__sandbox/clock", json={"freeze": False}).json()["frozen"] is False
        first = datetime.fromisoformat(client.get("/now").json()["now"])
        second = datetime.fromisoformat(client.get("/now").json()["now"])
        assert START <= first < second
        assert (second - START).total_seconds() < 5


def test_bad_clock_requests_are_refused_with_the_reason(tiny: Running) -> None:
    with httpx.Client(base_url=tiny.url) as client:
        naive = client.post("/__sandbox/clock", json={"set": "2026-03-01T00:00:00"})
        assert naive.status_code == 400
        assert "UTC offset" in naive.json()["error"]
        unknown = client.post("/__sandbox/clock", json={"rewind": 5})
        assert unknown.status_code == 400
        assert "rewind" in unknown.json()["error"]
        assert client.post("/__sandbox/clock", content=b"{not json").status_code == 400
        assert client.get("/__sandbox/clock").json()["now"] == "2026-01-05T09:00:00Z"


def test_faults_can_be_listed_deleted_one_by_one_and_cleared(tiny: Running) -> None:
    with httpx.Client(base_url=tiny.url) as client:
        first = client.post("/__sandbox/faults", json={"path": "^/a", "kind": "reset", "count": 3}).json()[
            "id"
        ]
        second = client.post(
            "/__sandbox/faults", json={"path": "^/b", "kind": "status", "status": 429, "method": "get"}
        ).json()["id"]
        listed = client.get("/__sandbox/faults").json()["faults"]
        assert [(f["id"], f["path"], f["kind"], f["remaining"], f["method"]) for f in listed] == [
            (first, "^/a", "reset", 3, None),
            (second, "^/b", "status", None, "GET"),
        ]
        assert client.delete(f"/__sandbox/faults/{first}").status_code == 200
        assert client.delete(f"/__sandbox/faults/{first}").status_code == 404
        assert [f["id"] for f in client.get("/__sandbox/faults").json()["faults"]] == [second]
        assert client.delete("/__sandbox/faults").json() == {"faults": []}
        assert tiny.sim.injector.rules() == []


def test_invalid_fault_rules_are_refused_listing_every_problem(tiny: Running) -> None:
    with httpx.Client(base_url=tiny.url) as client:
        response = client.post("/__sandbox/faults", json={"path": "(", "kind": "explode", "probability": 2})
        assert response.status_code == 400
        error = response.json()["error"]
        assert "kind must be one of" in error
        assert "not a valid regex" in error
        assert "probability" in error
        missing = client.post("/__sandbox/faults", json={"kind": "reset", "colour": "red"})
        assert "missing field 'path'" in missing.json()["error"]
        assert "unknown field 'colour'" in missing.json()["error"]
        assert tiny.sim.injector.rules() == []


def test_reset_rebuilds_the_simulator_and_clears_faults_and_counters(tiny: Running) -> None:
    with httpx.Client(base_url=tiny.url) as client:
        client.post("/__sandbox/faults", json={"path": ".", "kind": "status", "status": 500})
        client.get("/items")
        response = client.post("/__sandbox/reset", json={"seed": 99, "contacts": 10})
        assert response.json() == {"status": "reset", "options": {"seed": 99, "contacts": 10}}
        assert tiny.sim.resets[-1] == {"seed": 99, "contacts": 10}
        assert tiny.sim.injector.rules() == []
        assert tiny.sim.counters.total == 0
        assert client.post("/__sandbox/reset", json={"seed": "x"}).status_code == 400


def test_snapshot_returns_every_record_with_decimals_and_datetimes_encoded(tiny: Running) -> None:
    snapshot = httpx.get(f"{tiny.url}/__sandbox/snapshot").json()
    assert snapshot == {"items": [{"id": "1", "cost": "12.50", "created": "2026-01-05T09:00:00Z"}]}


def test_latency_can_be_read_and_refuses_negative_values(tiny: Running) -> None:
    with httpx.Client(base_url=tiny.url) as client:
        assert client.get("/__sandbox/latency").json() == {"latency_ms": 0.0}
        assert client.post("/__sandbox/latency", json={"latency_ms": -1}).status_code == 400
        assert client.post("/__sandbox/latency", json={"latency_ms": "fast"}).status_code == 400
        assert client.post("/__sandbox/latency", json={"latency_ms": 5}).json() == {"latency_ms": 5.0}
        assert tiny.sim.latency_ms == 5.0


def test_a_simulator_refusing_reset_options_answers_400_with_its_reason(tiny: Running) -> None:
    def refuse(options: object) -> None:
        raise ValueError("contacts must be a number")

    tiny.sim.reset = refuse  # type: ignore[method-assign]
    try:
        response = httpx.post(f"{tiny.url}/__sandbox/reset", json={"contacts": "many"})
    finally:
        del tiny.sim.reset
    assert response.status_code == 400
    assert response.json()["error"] == "contacts must be a number"
