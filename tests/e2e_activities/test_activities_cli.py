"""`syncd sync --once` runs the activities flow (and the logged leg of engagements) from the configuration."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from syncd.cli import main

from .conftest import World
from .expected import syncd_engagements

FLOWS = """\
flows:
  contacts:
    enabled: false
  engagements:
    logged_channel: sales_team
  activities:
    automation_users: [{automation}]
    push_kinds: [call, meeting]
"""


@pytest.fixture
def config_for(world: World, store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    hubspot, salesforce = world.hubspot, world.salesforce
    monkeypatch.setenv("HS_TOKEN", hubspot.access_token)
    monkeypatch.setenv("SF_PASSWORD", salesforce.password)
    monkeypatch.setenv("SF_SECRET", salesforce.client_secret)
    monkeypatch.setenv("SF_TOKEN", salesforce.security_token)

    def write(flows: str) -> Path:
        path = tmp_path / "config.yaml"
        path.write_text(
            f"""\
store:
  url: {store_url}
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
{flows}""",
            encoding="utf-8",
        )
        return path

    return write


def _syncd(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), env=dict(os.environ))


def test_sync_once_stores_activities_pushes_the_configured_kinds_and_logs_touches(
    world: World, config_for
) -> None:  # type: ignore[no-untyped-def]
    config = config_for(FLOWS.format(automation=world.salesforce.username))
    result = _syncd("sync", "--once", "--config", str(config))

    assert result.exit_code == 0, result.output
    assert "flow activities: succeeded" in result.stdout and "flow engagements: succeeded" in result.stdout
    rows = world.activity_rows()
    assert {a.kind for a in rows} == {"call", "email", "meeting"}
    assert {a.initiated_by for a in rows if a.owner_email == world.salesforce.username} == {"automation"}
    assert {obj for obj, _, _ in syncd_engagements(world).values()} == {"calls", "meetings"}
    assert {t.channel for t in world.touches() if t.kind in ("meeting", "call", "note")} == {"sales_team"}


def test_a_dry_run_of_the_activities_flow_writes_nothing(world: World, config_for) -> None:  # type: ignore[no-untyped-def]
    config = config_for(FLOWS.format(automation=world.salesforce.username))
    result = _syncd("sync", "--once", "--dry-run", "--flow", "activities", "--config", str(config))

    assert result.exit_code == 0, result.output
    assert "store activities (new or replayed):" in result.stdout
    assert world.activity_rows() == [] and syncd_engagements(world) == {}
