"""`syncd sync --once` runs the engagements flow from the configuration file, dry runs included."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from syncd.cli import main

from .conftest import World


@pytest.fixture
def config(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    hubspot, salesforce = world.hubspot, world.salesforce
    monkeypatch.setenv("HS_TOKEN", hubspot.access_token)
    monkeypatch.setenv("SF_PASSWORD", salesforce.password)
    monkeypatch.setenv("SF_SECRET", salesforce.client_secret)
    monkeypatch.setenv("SF_TOKEN", salesforce.security_token)
    path = tmp_path / "config.yaml"
    path.write_text(
        f"""\
store:
  url: {world.store_url}
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
    enabled: false
  engagements:
    interval_seconds: 60
""",
        encoding="utf-8",
    )
    return path


def _syncd(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), env=dict(os.environ))


def test_a_dry_run_reads_the_feeds_and_writes_nothing(world: World, config: Path) -> None:
    result = _syncd("sync", "--once", "--dry-run", "--config", str(config))

    assert result.exit_code == 0, result.output
    assert "flow engagements: succeeded" in result.stdout
    assert "store touches (new or replayed):" in result.stdout
    assert world.touches() == []
    assert world.tasks() == []


def test_sync_once_stores_touches_and_saves_tasks(world: World, config: Path) -> None:
    result = _syncd("sync", "--once", "--config", str(config))

    assert result.exit_code == 0, result.output
    assert "flow engagements: succeeded" in result.stdout
    assert world.touches()
    assert len(world.tasks()) == len(world.task_links()) > 0
