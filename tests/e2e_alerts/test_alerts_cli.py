"""`syncd sync --once --flow alerts` from a configuration file, in new processes: each alert fires once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from syncd.cli import main

from .conftest import World

SYNCD = Path(sys.executable).with_name("syncd")


@pytest.fixture
def config(world: World, tmp_path: Path, sqlite_url: str) -> tuple[Path, dict[str, str]]:
    hubspot, salesforce = world.hubspot, world.salesforce
    env = {
        **os.environ,
        "HS_TOKEN": hubspot.access_token,
        "SF_PASSWORD": salesforce.password,
        "SF_SECRET": salesforce.client_secret,
        "SF_TOKEN": salesforce.security_token,
    }
    path = tmp_path / "config.yaml"
    path.write_text(
        f"""\
store:
  url: {sqlite_url}
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
  alerts:
    links:
      salesforce_url: {salesforce.instance_url}
    rules:
      - name: demo-request
        kind: form_submission
        forms: [Request a demo]
        max_age_hours: 100000
        notify: [salesforce_task]
""",
        encoding="utf-8",
    )
    return path, env


def _syncd(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SYNCD), *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_each_alert_fires_once_across_new_processes(
    world: World, config: tuple[Path, dict[str, str]]
) -> None:
    path, env = config
    first = _syncd(env, "sync", "--once", "--flow", "alerts", "--config", str(path))
    assert first.returncode == 0, first.stderr
    assert "flow alerts: succeeded" in first.stdout
    tasks = world.alert_tasks()
    assert len(tasks) > 5
    assert f"salesforce  created {len(tasks)}," in first.stdout

    second = _syncd(env, "sync", "--once", "--flow", "alerts", "--config", str(path))
    assert second.returncode == 0, second.stderr
    assert "salesforce  created 0, updated 0, unchanged 0, quarantined 0; 0 API calls" in second.stdout
    assert len(world.alert_tasks()) == len(tasks)

    status = CliRunner().invoke(main, ["status", "--config", str(path)], env=env)
    assert status.exit_code == 0, status.output
    assert f"alert deliveries: {len(tasks)} sent, 0 pending, 0 failed" in status.output


def test_a_dry_run_lists_what_would_fire_and_writes_nothing(
    world: World, config: tuple[Path, dict[str, str]]
) -> None:
    path, env = config
    result = CliRunner().invoke(
        main, ["sync", "--once", "--dry-run", "--flow", "alerts", "--config", str(path)], env=env
    )
    assert result.exit_code == 0, result.output
    assert "alerts fire (rule demo-request, new or already fired):" in result.output
    assert 'submitted the form "Request a demo"' in result.output
    assert world.alert_tasks() == []
    assert world.stored_alerts() == []


def test_check_validates_the_alerts_flow_against_the_live_org(
    world: World, config: tuple[Path, dict[str, str]]
) -> None:
    path, env = config
    result = CliRunner().invoke(main, ["check", "--config", str(path)], env=env)
    assert result.exit_code == 0, result.output
    assert "flows: alerts every 60s" in result.stdout

    broken = path.read_text(encoding="utf-8").replace(
        "    rules:", "    task:\n      key_field: Nope__c\n    rules:"
    )
    path.write_text(broken, encoding="utf-8")
    refused = CliRunner().invoke(main, ["check", "--config", str(path)], env=env)
    assert refused.exit_code == 2, refused.output
    assert "flows.alerts.task.key_field: Salesforce Task has no field Nope__c" in refused.stderr


def test_without_configured_links_each_task_links_to_the_orgs_own_instance(
    world: World, config: tuple[Path, dict[str, str]]
) -> None:
    path, env = config
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace(f"    links:\n      salesforce_url: {world.salesforce.instance_url}\n", ""), "utf-8"
    )
    assert "salesforce_url" not in path.read_text(encoding="utf-8")

    result = CliRunner().invoke(main, ["sync", "--once", "--flow", "alerts", "--config", str(path)], env=env)

    assert result.exit_code == 0, result.output
    tasks = world.alert_tasks()
    assert tasks
    assert all(f"{world.salesforce.instance_url}/{t['WhoId']}" in t["Description"] for t in tasks)
