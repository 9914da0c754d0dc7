"""Faults, latency and counters as real HTTP clients (httpx, requests, urllib3) see them."""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator

import httpx
import pytest
import requests
import urllib3

from connectors.sandbox_core.faults import FaultRule
from tests.connectors.sandbox_core.tiny_sim import Running


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with requests.Session() as s:
        s.trust_env = False
        yield s


def add_fault(client: httpx.Client, **rule: object) -> str:
    response = client.post("/__sandbox/faults", json=rule)
    assert response.status_code == 201, response.text
    fault_id: str = response.json()["id"]
    return fault_id


def test_status_fault_by_count_fires_for_the_next_n_matching_calls_then_retires(tiny: Running) -> None:
    with httpx.Client(base_url=tiny.url) as client:
        add_fault(
            client,
            method="GET",
            path=r"^/items$",
            kind="status",
            status=503,
            count=2,
            headers={"Retry-After": "3"},
        )
        first, second, third = (client.get("/items") for _ in range(3))
        assert [first.status_code, second.status_code, third.status_code] == [503, 503, 200]
        assert first.headers["retry-after"] == "3"
        assert first.json() == {"status": "error", "message": "simulated 503", "category": "SIMULATED"}
        assert client.get("/__sandbox/faults").json() == {"faults": []}


def test_status_fault_uses_the_rule_body_when_given_and_leaves_other_paths_alone(tiny: Running) -> None:
    with httpx.Client(base_url=tiny.url) as client:
        body = [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
        add_fault(client, path=r"^/items/", kind="status", status=403, body=body)
        assert client.get("/items/1").status_code == 403
        assert client.get("/items/1").json() == body
        assert client.get("/items").status_code == 200


def test_fault_method_filter_spares_other_methods(tiny: Running) -> None:
    with httpx.Client(base_url=tiny.url) as client:
        add_fault(client, method="post", path="^/items$", kind="status", status=429)
        assert client.get("/items").status_code == 200
        assert client.post("/items", json={"id": 9}).status_code == 429


def test_status_fault_by_rate_hits_about_that_share_and_repeats_for_the_same_seed(tiny: Running) -> None:
    def run() -> list[int]:
        with httpx.Client(base_url=tiny.url) as client:
            assert client.post("/__sandbox/reset", json={"seed": 11}).status_code == 200
            add_fault(client, path="^/items$", kind="status", status=500, probability=0.3)
            return [client.get("/items").status_code for _ in range(120)]

    first, second = run(), run()
    assert first == second
    assert 18 <= first.count(500) <= 54
    assert set(first) == {200, 500}


def test_reset_fault_is_a_connection_error_for_requests_and_the_next_call_works(
    tiny: Running, session: requests.Session
) -> None:
    tiny.sim.injector.add(FaultRule(method=None, path="^/items$", kind="reset", count=1))
    assert session.get(f"{tiny.url}/items/1").status_code == 200  # warm a keep-alive connection first
    with pytest.raises(requests.exceptions.ConnectionError):
        session.get(f"{tiny.url}/items")
    assert session.get(f"{tiny.url}/items").status_code == 200


def test_reset_fault_is_a_transport_error_for_httpx_and_urllib3(tiny: Running) -> None:
    tiny.sim.injector.add(FaultRule(method=None, path="^/items$", kind="reset", count=2))
    with httpx.Client(base_url=tiny.url) as client, pytest.raises(httpx.TransportError):
        client.get("/items")
    pool = urllib3.PoolManager(retries=False)
    with pytest.raises(urllib3.exceptions.ProtocolError):
        pool.request("POST", f"{tiny.url}/items", json={"id": 5})
    pool.clear()
    assert "5" not in tiny.sim.items  # the request never reached the simulator


def test_timeout_fault_hangs_then_drops_so_clients_time_out(tiny: Running, session: requests.Session) -> None:
    tiny.sim.injector.add(FaultRule(method="GET", path="^/items$", kind="timeout", latency_ms=400, count=2))
    with pytest.raises(requests.exceptions.ReadTimeout):
        session.get(f"{tiny.url}/items", timeout=(1, 0.1))
    started = time.perf_counter()
    with pytest.raises(requests.exceptions.ConnectionError):
        session.get(f"{tiny.url}/items", timeout=5)
    assert time.perf_counter() - started >= 0.4
    assert session.get(f"{tiny.url}/items", timeout=5).status_code == 200


def test_latency_fault_delays_then_serves_the_real_response(tiny: Running, session: requests.Session) -> None:
    tiny.sim.injector.add(FaultRule(method=None, path="^/items/1$", kind="latency", latency_ms=150, count=1))
    started = time.perf_counter()
    response = session.get(f"{tiny.url}/items/1")
    assert time.perf_counter() - started >= 0.15
    assert response.json() == {"id": "1"}


def test_global_latency_is_added_to_api_calls_but_not_to_control_calls(
    tiny: Running, session: requests.Session
) -> None:
    assert session.post(f"{tiny.url}/__sandbox/latency", json={"latency_ms": 30}).json() == {"latency_ms": 30}

    def median_seconds(path: str) -> float:
        durations = []
        for _ in range(7):
            started = time.perf_counter()
            session.get(f"{tiny.url}{path}").raise_for_status()
            durations.append(time.perf_counter() - started)
        return statistics.median(durations)

    assert 0.030 <= median_seconds("/items") < 0.060
    assert median_seconds("/__sandbox/health") < 0.020


def test_control_calls_are_never_counted_nor_faulted(tiny: Running) -> None:
    with httpx.Client(base_url=tiny.url) as client:
        add_fault(client, path=".*", kind="status", status=500)
        assert client.get("/__sandbox/health").status_code == 200
        assert client.get("/__sandbox/counters").json()["total"] == 0
        assert client.get("/items").status_code == 500
        assert client.get("/__sandbox/counters").json()["total"] == 1


def test_counters_count_calls_per_route_template_including_faulted_calls(tiny: Running) -> None:
    with httpx.Client(base_url=tiny.url) as client:
        for item_id in ("1", "2", "3"):
            client.get(f"/items/{item_id}")
        client.post("/items", json={"id": 4})
        client.get("/nowhere")
        add_fault(client, path="^/items$", kind="status", status=503, count=1)
        client.get("/items")

        counters = client.get("/__sandbox/counters").json()
        assert counters == {
            "total": 6,
            "by_endpoint": {
                "GET /items": 1,
                "GET /items/{item_id}": 3,
                "GET /nowhere": 1,
                "POST /items": 1,
            },
            "budget": {"daily_limit": 1000, "used": 6},
        }
        assert client.delete("/__sandbox/counters").json()["total"] == 0
        assert tiny.sim.counters.total == 0
