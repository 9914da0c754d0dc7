"""The operator's commands against both simulators: sync, dry run, status, errors, check, run."""

from __future__ import annotations

import os
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connectors.hubspot.sandbox import HubSpotSandbox
from connectors.salesforce.sandbox.sandbox import SalesforceSandbox
from connectors.sandbox_core.server import make_tls
from syncd.cli import main
from syncd.store.db import make_engine
from syncd.store.models import Cursor, Person, Run

MAPPING = Path(__file__).with_name("sandbox_contacts.yaml")


@pytest.fixture(scope="module")
def sandboxes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[HubSpotSandbox, SalesforceSandbox]]:
    tls = make_tls(tmp_path_factory.mktemp("tls"))
    with (
        HubSpotSandbox(seed=11, contacts=150) as hubspot,
        SalesforceSandbox(seed=11, people=150, tls=tls) as salesforce,
    ):
        yield hubspot, salesforce


def _control_planes(
    hubspot: HubSpotSandbox, salesforce: SalesforceSandbox
) -> list[tuple[str, ssl.SSLContext | bool]]:
    """Each simulator's base URL and how to verify it (Salesforce serves TLS from its test CA)."""
    return [
        (hubspot.base_url, False),
        (salesforce.instance_url, ssl.create_default_context(cafile=salesforce.ca_file)),
    ]


def _reset(hubspot: HubSpotSandbox, salesforce: SalesforceSandbox) -> None:
    for base, verify in _control_planes(hubspot, salesforce):
        with httpx.Client(base_url=base, verify=verify, trust_env=False) as client:
            client.post("/__sandbox/reset", json={"seed": 11}).raise_for_status()
            client.delete("/__sandbox/counters").raise_for_status()


def _snapshots(hubspot: HubSpotSandbox, salesforce: SalesforceSandbox) -> list[Any]:
    """Every record of both systems: equal snapshots mean nothing was written in between."""
    found = []
    for base, verify in _control_planes(hubspot, salesforce):
        with httpx.Client(base_url=base, verify=verify, trust_env=False, timeout=60) as client:
            snapshot = client.get("/__sandbox/snapshot").json()
            snapshot.pop("now", None)  # the simulator's clock, not a record
            found.append(snapshot)
    return found


@pytest.fixture
def config(
    tmp_path: Path, sandboxes: tuple[HubSpotSandbox, SalesforceSandbox], monkeypatch: pytest.MonkeyPatch
) -> Path:
    hubspot, salesforce = sandboxes
    _reset(hubspot, salesforce)
    monkeypatch.setenv("HS_TOKEN", hubspot.access_token)
    monkeypatch.setenv("SF_PASSWORD", salesforce.password)
    monkeypatch.setenv("SF_SECRET", salesforce.client_secret)
    monkeypatch.setenv("SF_TOKEN", salesforce.security_token)
    path = tmp_path / "config.yaml"
    path.write_text(
        f"""\
store:
  url: sqlite:///{tmp_path / "store.db"}
hubspot:
  access_token: ${{HS_TOKEN}}
  base_url: {hubspot.base_url}
salesforce:
  login_url: {salesforce.token_url.split("/services/", 1)[0]}
  ca_file: {salesforce.ca_file}
  auth:
    flow: password
    client_id: {salesforce.client_id}
    client_secret: ${{SF_SECRET}}
    username: {salesforce.username}
    password: ${{SF_PASSWORD}}
    security_token: ${{SF_TOKEN}}
flows:
  contacts:
    interval_seconds: 10
    mapping: {MAPPING}
""",
        encoding="utf-8",
    )
    return path


def _syncd(*args: str) -> Any:
    return CliRunner().invoke(main, list(args), env=dict(os.environ))


def _store(config: Path) -> str:
    return f"sqlite:///{config.parent / 'store.db'}"


def test_sync_once_syncs_then_a_second_cycle_writes_nothing(
    config: Path, sandboxes: tuple[HubSpotSandbox, SalesforceSandbox]
) -> None:
    assert _syncd("db", "upgrade", "--config", str(config)).exit_code == 0
    first = _syncd("sync", "--once", "--config", str(config))
    assert first.exit_code == 0, first.output
    assert "flow contacts: succeeded" in first.stdout
    assert "salesforce  created" in first.stdout
    after_first = _snapshots(*sandboxes)

    second = _syncd("sync", "--once", "--config", str(config))
    assert second.exit_code == 0, second.output
    assert "created 0, updated 0" in second.stdout
    assert _snapshots(*sandboxes) == after_first, "the second cycle changed records"


def test_dry_run_plans_writes_but_writes_nothing_and_moves_no_cursor(
    config: Path, sandboxes: tuple[HubSpotSandbox, SalesforceSandbox]
) -> None:
    _syncd("db", "upgrade", "--config", str(config))
    before = _snapshots(*sandboxes)
    result = _syncd("sync", "--once", "--dry-run", "--config", str(config))
    assert result.exit_code == 0, result.output
    assert "dry run: nothing was written" in result.stdout
    assert "salesforce Lead create:" in result.stdout
    assert "    e.g. " in result.stdout, "a sample of the planned field changes"
    assert _snapshots(*sandboxes) == before
    engine = make_engine(_store(config))
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Cursor)) == 0
    engine.dispose()


def test_status_and_errors_show_the_run_and_the_quarantined_records(config: Path) -> None:
    _syncd("db", "upgrade", "--config", str(config))
    assert _syncd("sync", "--once", "--config", str(config)).exit_code == 0
    status = _syncd("status", "--config", str(config))
    assert status.exit_code == 0, status.output
    assert "contacts" in status.stdout and "succeeded" in status.stdout
    budget = status.stdout.split("API budget (daily, rolling 24 h):", 1)[1]
    salesforce_row = next(line for line in budget.splitlines() if line.lstrip().startswith("salesforce"))
    # The simulated org's allowance is 15,000 a day; syncd is allocated its configured share.
    assert "15,000" in salesforce_row and "5,000" in salesforce_row

    listed = _syncd("errors", "list", "--config", str(config), "--category", "invalid_email")
    assert listed.exit_code == 0, listed.output
    assert "[invalid_email]" in listed.stdout
    exported = _syncd("errors", "export", "--csv", "--config", str(config))
    assert exported.exit_code == 0
    header, *rows = exported.stdout.splitlines()
    assert header.startswith("id,flow,system,object,record_key,category,message")
    assert rows and all(row.split(",")[1] == "contacts" for row in rows)


def test_check_validates_mappings_against_the_live_schemas(config: Path, tmp_path: Path) -> None:
    good = _syncd("check", "--config", str(config))
    assert good.exit_code == 0, good.output
    assert "mappings fit the live schemas" in good.stdout

    bad_mapping = tmp_path / "bad.yaml"
    bad_mapping.write_text(
        MAPPING.read_text(encoding="utf-8")
        .replace("hubspot: jobtitle", "hubspot: job_title_typo")
        .replace("salesforce: Phone", "salesforce: Fone"),
        encoding="utf-8",
    )
    config.write_text(config.read_text(encoding="utf-8").replace(str(MAPPING), str(bad_mapping)), "utf-8")
    bad = _syncd("check", "--config", str(config))
    assert bad.exit_code == 2
    assert "job_title_typo" in bad.stderr and "Fone" in bad.stderr, "every problem is listed in one run"
    assert f"{bad_mapping}:" in bad.stderr


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_run_serves_health_and_stops_cleanly_on_sigterm_after_a_cycle(config: Path) -> None:
    assert _syncd("db", "upgrade", "--config", str(config)).exit_code == 0
    bind = f"127.0.0.1:{_free_port()}"
    config.write_text(config.read_text(encoding="utf-8") + f"daemon:\n  health_bind: {bind}\n", "utf-8")
    daemon = subprocess.Popen(
        [sys.executable, "-m", "syncd", "run", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    engine = make_engine(_store(config))
    try:
        deadline = time.monotonic() + 120
        finished = 0
        while finished == 0 and time.monotonic() < deadline and daemon.poll() is None:
            with Session(engine) as session:
                finished = (
                    session.scalar(select(func.count()).select_from(Run).where(Run.finished_at.is_not(None)))
                    or 0
                )
            time.sleep(0.2)
        assert finished >= 1, "the daemon never finished a cycle"
        health = httpx.get(f"http://{bind}/healthz", timeout=10, trust_env=False)
        assert health.status_code == 200
        assert health.json()["flows"]["contacts"]["status"] == "succeeded"
        # The dashboard itself answers too (on loopback, no token needed).
        assert httpx.get(f"http://{bind}/sync", timeout=30, trust_env=False).status_code == 200
        daemon.send_signal(signal.SIGTERM)
        _, stderr = daemon.communicate(timeout=60)
    finally:
        daemon.kill()
        engine.dispose()
    assert daemon.returncode == 0, stderr
    assert "syncd stopped" in stderr


def test_check_with_the_engagements_flow_looks_for_its_task_key_field(config: Path) -> None:
    config.write_text(
        config.read_text(encoding="utf-8") + "  engagements:\n    interval_seconds: 300\n", "utf-8"
    )
    result = _syncd("check", "--config", str(config))
    assert result.exit_code == 0, result.output
    assert "flows: contacts every 10s, engagements every 300s" in result.stdout


def test_check_and_sync_once_with_every_flow_enabled(config: Path) -> None:
    config.write_text(
        config.read_text(encoding="utf-8")
        + "  deals: {}\n  campaigns: {}\n  engagements:\n    tasks:\n      digest_kinds: [page_view]\n"
        + "  activities: {}\n  alerts: {}\n",
        "utf-8",
    )
    checked = _syncd("check", "--config", str(config))
    assert checked.exit_code == 0, checked.output
    assert (
        "deals every 60s, campaigns every 60s, engagements every 60s, activities every 60s" in checked.stdout
    )

    assert _syncd("db", "upgrade", "--config", str(config)).exit_code == 0
    synced = _syncd("sync", "--once", "--config", str(config))
    assert synced.exit_code == 0, synced.output
    for flow in ("contacts", "deals", "campaigns", "engagements", "activities", "alerts"):
        assert flow in synced.stdout


def test_check_names_a_missing_task_key_field_of_the_engagements_flow(config: Path) -> None:
    config.write_text(
        config.read_text(encoding="utf-8") + "  engagements:\n    tasks:\n      key_field: Missing_Key__c\n",
        "utf-8",
    )
    result = _syncd("check", "--config", str(config))
    assert result.exit_code == 2, result.output
    assert "Salesforce Task has no field Missing_Key__c" in result.output


def test_resync_and_errors_retry_run_for_the_named_people(config: Path) -> None:
    _syncd("db", "upgrade", "--config", str(config))
    assert _syncd("sync", "--once", "--config", str(config)).exit_code == 0
    engine = make_engine(_store(config))
    with Session(engine) as session:
        email = session.scalars(select(Person.email).order_by(Person.id)).first()
    engine.dispose()
    assert email is not None

    resynced = _syncd("resync", email, "--config", str(config))
    assert resynced.exit_code == 0, resynced.output
    assert "flow contacts: succeeded" in resynced.stdout

    retried = _syncd("errors", "retry", "--category", "duplicate", "--config", str(config))
    assert retried.exit_code == 0, retried.output
    assert "retrying" in retried.stdout
    # A duplicate inside one system stays a duplicate until someone merges it there.
    assert "still open" in retried.stdout


def test_backfill_shows_what_it_will_read_and_then_leaves_nothing_to_read(config: Path) -> None:
    _syncd("db", "upgrade", "--config", str(config))
    first = _syncd("backfill", "--config", str(config))
    assert first.exit_code == 0, first.output
    assert "to read: " in first.stderr and "backfill" in first.stderr
    assert "flow contacts: succeeded" in first.stdout

    again = _syncd("backfill", "--config", str(config))
    assert again.exit_code == 0, again.output
    assert "created 0, updated 0" in again.stdout


def test_run_refuses_a_dashboard_open_to_the_network_without_a_token(config: Path) -> None:
    assert _syncd("db", "upgrade", "--config", str(config)).exit_code == 0
    config.write_text(config.read_text(encoding="utf-8") + "daemon:\n  health_bind: 0.0.0.0:8080\n", "utf-8")
    result = _syncd("run", "--config", str(config))
    assert result.exit_code == 2
    assert "refusing to serve the dashboard on 0.0.0.0:8080 without a token" in result.stderr
