"""`syncd sandbox serve` for real: a child process, its JSON line, one SDK call per simulator, SIGTERM."""

from __future__ import annotations

import json
import os
import selectors
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from hubspot import HubSpot
from simple_salesforce import Salesforce

ROOT = Path(__file__).resolve().parents[3]


def spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "syncd", "sandbox", "serve", *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def first_line(child: subprocess.Popen[str], timeout: float = 60) -> str:
    assert child.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(child.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            child.kill()
            pytest.fail(f"no output from `syncd sandbox serve` within {timeout} s")
    return child.stdout.readline()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], dict[str, Any], Path]]:
    child = spawn("--contacts", "40", "--seed", "3", "--tls-dir", str(tmp_path / "tls"))
    try:
        line = first_line(child)
        assert line, child.communicate(timeout=30)[1]
        yield child, json.loads(line), tmp_path / "tls"
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate(timeout=30)


def test_serve_prints_working_credentials_and_stops_cleanly_on_sigterm(
    served: tuple[subprocess.Popen[str], dict[str, Any], Path],
) -> None:
    child, info, tls_dir = served
    hubspot, salesforce = info["hubspot"], info["salesforce"]
    assert info["ca_file"] == salesforce["ca_file"] == str(tls_dir / "sandbox-ca.pem")
    assert (info["seed"], info["contacts"]) == (3, 40)
    assert hubspot["base_url"].startswith("http://127.0.0.1:")
    assert salesforce["instance_url"].startswith("https://127.0.0.1:")

    client = HubSpot(access_token=hubspot["access_token"], host=hubspot["base_url"])
    page = json.loads(
        client.crm.contacts.basic_api.get_page(limit=100, properties=["email"], _preload_content=False).data
    )
    hubspot_emails = {(c["properties"]["email"] or "").strip().lower() for c in page["results"]}

    session = requests.Session()
    session.trust_env = False  # REQUESTS_CA_BUNDLE would override verify=
    session.verify = info["ca_file"]
    token = session.post(
        salesforce["token_url"],
        data={
            "grant_type": "password",
            "client_id": salesforce["client_id"],
            "client_secret": salesforce["client_secret"],
            "username": salesforce["username"],
            "password": salesforce["password"] + salesforce["security_token"],
        },
    ).json()
    sf = Salesforce(instance_url=token["instance_url"], session_id=token["access_token"], session=session)
    salesforce_emails = {
        (row["Email"] or "").strip().lower()
        for soql in ("SELECT Id, Email FROM Contact", "SELECT Id, Email FROM Lead")
        for row in sf.query(soql)["records"]
    }
    session.close()
    # Both seed from one population of 40: about 60% of the people are in both systems.
    assert 15 <= len(hubspot_emails & salesforce_emails) <= 25

    child.send_signal(signal.SIGTERM)
    out, err = child.communicate(timeout=30)
    assert child.returncode == 0, err
    assert out == ""  # the JSON line was the only output
    assert "Traceback" not in err


def test_serve_ctrl_c_also_stops_cleanly(served: tuple[subprocess.Popen[str], dict[str, Any], Path]) -> None:
    child, info, _ = served
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=30)
    assert child.returncode == 0, err
    with pytest.raises(requests.ConnectionError):
        requests.get(info["hubspot"]["base_url"] + "/__sandbox/health", timeout=5)


def test_serve_on_a_taken_port_says_which_option_to_change() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        child = spawn("--contacts", "5", "--hubspot-port", str(port))
        out, err = child.communicate(timeout=60)
    assert child.returncode == 1
    assert out == ""
    assert f"127.0.0.1:{port}" in err
    assert "--hubspot-port" in err
    assert "Traceback" not in err
