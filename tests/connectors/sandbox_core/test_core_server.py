"""SandboxServer: real loopback sockets, free ports, TLS, Nagle off, clean stop."""

from __future__ import annotations

import logging
import socket
import ssl
import statistics
import threading
import time
from pathlib import Path

import httpx
import pytest
import requests
import urllib3

from connectors.sandbox_core.faults import FaultRule
from connectors.sandbox_core.server import SandboxServer, TLSFiles, make_tls
from tests.connectors.sandbox_core.tiny_sim import Running, TinySim, build_app


def test_start_returns_once_the_real_port_accepts_connections() -> None:
    server = SandboxServer(build_app(TinySim()))
    server.start()
    try:
        assert server.port != 0
        assert server.base_url == f"http://127.0.0.1:{server.port}"
        with socket.create_connection(("127.0.0.1", server.port), timeout=1):
            pass
        assert httpx.get(server.base_url + "/__sandbox/health").json()["status"] == "ok"
    finally:
        server.stop()


def test_stop_frees_the_port_and_ends_the_server_thread() -> None:
    threads_before = set(threading.enumerate())
    server = SandboxServer(build_app(TinySim()))
    server.start()
    port = server.port
    session = requests.Session()
    session.trust_env = False
    assert session.get(f"{server.base_url}/items").status_code == 200  # leaves a keep-alive connection open
    server.stop()

    assert not server.running
    assert set(threading.enumerate()) - threads_before == set()
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass
    with socket.socket() as probe:
        # Free for any server again (SO_REUSEADDR as servers set it: closed connections sit in TIME_WAIT).
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))
    session.close()


def test_server_can_be_restarted_on_the_same_fixed_port() -> None:
    first = SandboxServer(build_app(TinySim()))
    with first:
        port = first.port
    with SandboxServer(build_app(TinySim()), port=port) as second:
        assert httpx.get(f"http://127.0.0.1:{port}/items").status_code == 200
        assert second.port == port


def test_a_port_in_use_fails_start_with_the_os_error() -> None:
    with SandboxServer(build_app(TinySim())) as taken:
        clash = SandboxServer(build_app(TinySim()), port=taken.port)
        with pytest.raises(OSError):
            clash.start()
        assert not clash.running


def test_accepted_sockets_have_nagle_disabled(tiny: Running) -> None:
    with httpx.Client(base_url=tiny.url) as client:
        assert client.get("/items").status_code == 200
        # Read the option on the server's side of the live keep-alive connection.
        connections = tiny.server._server.server_state.connections  # type: ignore[union-attr]
        options = {
            conn.transport.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
            for conn in list(connections)
        }
    assert options and all(value != 0 for value in options)


def test_keep_alive_round_trips_stay_far_below_the_delayed_ack_stall(tiny: Running) -> None:
    session = requests.Session()
    session.trust_env = False
    durations = []
    for i in range(40):
        started = time.perf_counter()
        response = session.post(f"{tiny.url}/items", json={"id": i, "name": "x" * 2000})
        durations.append(time.perf_counter() - started)
        assert response.status_code == 201
    session.close()
    assert statistics.median(durations) < 0.020  # a Nagle stall would be ~40 ms


def test_tls_serves_https_that_clients_trust_with_the_ca_file(tls_files: TLSFiles) -> None:
    with SandboxServer(build_app(TinySim()), tls=tls_files) as server:
        assert server.base_url.startswith("https://127.0.0.1:")
        session = requests.Session()
        session.trust_env = False  # REQUESTS_CA_BUNDLE would override verify=
        assert session.get(f"{server.base_url}/items", verify=str(tls_files.ca_pem)).status_code == 200
        assert session.get(f"https://localhost:{server.port}/items", verify=str(tls_files.ca_pem)).ok
        session.close()

        context = ssl.create_default_context(cafile=str(tls_files.ca_pem))
        assert httpx.get(f"{server.base_url}/items", verify=context).status_code == 200

        pool = urllib3.PoolManager(ca_certs=str(tls_files.ca_pem), cert_reqs="CERT_REQUIRED")
        assert pool.request("GET", f"{server.base_url}/items").status == 200
        pool.clear()


def test_tls_is_refused_by_clients_that_do_not_trust_the_ca(tls_files: TLSFiles) -> None:
    with (
        SandboxServer(build_app(TinySim()), tls=tls_files) as server,
        pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"),
    ):
        httpx.get(f"{server.base_url}/items", verify=ssl.create_default_context())


def test_make_tls_reuses_the_files_it_already_wrote(tmp_path: Path) -> None:
    directory = tmp_path / "tls"
    first = make_tls(directory)
    ca_before = first.ca_pem.read_bytes()
    second = make_tls(directory)
    assert second == first
    assert second.ca_pem.read_bytes() == ca_before
    assert b"BEGIN CERTIFICATE" in first.cert_pem.read_bytes()
    assert b"PRIVATE KEY" in first.key_pem.read_bytes()


def test_stop_with_idle_tls_keep_alive_clients_is_quick_and_quiet(
    tls_files: TLSFiles, caplog: pytest.LogCaptureFixture
) -> None:
    server = SandboxServer(build_app(TinySim()), tls=tls_files)
    server.start()
    session = requests.Session()
    session.trust_env = False
    assert session.get(f"{server.base_url}/items", verify=str(tls_files.ca_pem)).ok
    started = time.perf_counter()
    with caplog.at_level("WARNING"):
        server.stop()
    assert time.perf_counter() - started < 0.9  # under the 1 s grace period: nobody waited for it
    noisy = [r for r in caplog.records if r.name.startswith("uvicorn") and r.levelno >= logging.WARNING]
    assert [r.getMessage() for r in noisy] == []
    session.close()


def test_stop_drops_a_request_hanging_in_a_fault_after_the_grace_period() -> None:
    sim = TinySim()
    sim.injector.add(FaultRule(method=None, path="^/items$", kind="timeout", latency_ms=60_000))
    server = SandboxServer(build_app(sim))
    server.start()
    hung: list[BaseException] = []

    def call() -> None:
        try:
            httpx.get(f"{server.base_url}/items", timeout=30)
        except httpx.TransportError as exc:
            hung.append(exc)

    caller = threading.Thread(target=call)
    caller.start()
    deadline = time.monotonic() + 10
    while sim.counters.total == 0 and time.monotonic() < deadline:  # until the request is inside
        time.sleep(0.01)
    assert sim.counters.total == 1
    started = time.perf_counter()
    server.stop()
    caller.join(5)
    assert time.perf_counter() - started < 3
    assert not caller.is_alive()
    assert len(hung) == 1
