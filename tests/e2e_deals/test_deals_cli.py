"""`syncd check` validates the deals mapping against the live systems; `syncd sync --once` runs the flow."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from syncd.cli import main
from syncd.mapping.defaults import default_mapping

from .conftest import World


def _config(world: World, tmp_path: Path, mapping: Path | None = None) -> Path:
    hubspot, salesforce = world.hubspot, world.salesforce
    path = tmp_path / "config.yaml"
    mapping_line = f"\n    mapping: {mapping}" if mapping else ""
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
  deals:
    contact_role: Influencer{mapping_line}
""",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def secrets(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HS_TOKEN", world.hubspot.access_token)
    monkeypatch.setenv("SF_PASSWORD", world.salesforce.password)
    monkeypatch.setenv("SF_SECRET", world.salesforce.client_secret)
    monkeypatch.setenv("SF_TOKEN", world.salesforce.security_token)


def _syncd(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), env=dict(os.environ))


@pytest.mark.usefixtures("secrets")
def test_check_then_sync_once_runs_the_deals_flow(world: World, tmp_path: Path) -> None:
    config = _config(world, tmp_path)
    checked = _syncd("check", "--config", str(config))
    assert checked.exit_code == 0, checked.output
    assert "mappings fit the live schemas" in checked.stdout
    synced = _syncd("sync", "--once", "--config", str(config))
    assert synced.exit_code == 0, synced.output
    assert "flow deals: succeeded" in synced.stdout
    assert len(world.store_deals()) == len(world.opportunities()) == len(world.hubspot_deals())


@pytest.mark.usefixtures("secrets")
def test_check_lists_unknown_stages_with_file_and_line(world: World, tmp_path: Path) -> None:
    text = default_mapping("deals").read_text(encoding="utf-8")
    bad = tmp_path / "deals.yaml"
    bad.write_text(text.replace("contractsent: Proposal/Price Quote", "contract_sent: Proposal/Price Quote"))
    line = next(n for n, row in enumerate(bad.read_text().splitlines(), 1) if "contract_sent:" in row)
    result = _syncd("check", "--config", str(_config(world, tmp_path, bad)))
    assert result.exit_code == 2
    assert (
        f"deals.yaml:{line}: field 'stage': stage 'contract_sent' is not a stage of HubSpot pipeline"
        in result.output
    )
    assert "'contractsent' of HubSpot pipeline 'default' have no Salesforce stage" in result.output
