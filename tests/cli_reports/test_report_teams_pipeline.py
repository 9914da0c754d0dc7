"""`syncd report sla --by team` (teams from teams.csv or the config's teams: section) and
`syncd report pipeline` (sourced and influenced, side by side) on the hand-worked March (see conftest)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from syncd.cli.export import export
from syncd.cli.report import report
from syncd.reports.csvdata import Dataset, load_data, write_data
from syncd.reports.teams import TeamMember
from tests.cli_reports.conftest import seed_store

MARCH = ["--from", "2026-03-01", "--to", "2026-03-31"]
SLA = ["sla", *MARCH, "--within-hours", "24"]


def run(*args: str) -> Result:
    return CliRunner().invoke(report, list(args))


def ok_json(*args: str) -> dict[str, Any]:
    result = run(*args, "--format", "json")
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def with_teams(data: Dataset, *members: TeamMember) -> Dataset:
    return replace(data, teams=members)


def test_sla_by_team_groups_each_mql_under_its_owners_team(tmp_path: Path, dataset: Dataset) -> None:
    # alice reached p1 in 2 h and p4 in 4 h; bob reached p2 in 26 h; nobody reached p3 (no owner).
    folder = tmp_path / "teams"
    write_data(folder, with_teams(dataset, TeamMember("inbound", "Alice "), TeamMember("outbound", "bob")))
    doc = ok_json(*SLA, "--by", "team", "--data", str(folder))
    rows = {r["team"]: (r["mqls"], r["contacted"], r["within"], r["within_share"]) for r in doc["rows"]}
    assert rows == {
        "inbound": (2, 2, 2, "1.0000"),
        "outbound": (1, 1, 0, "0.0000"),
        None: (1, 0, 0, "0.0000"),  # p3, never contacted, has no owner and so no team
    }
    assert list(rows) == ["inbound", "outbound", None]
    assert doc["totals"]["mqls"] == 4 and doc["parameters"]["by"] == "team"
    per_mql = ok_json(*SLA, "--by", "mql", "--data", str(folder))
    assert [(r["owner"], r["team"]) for r in per_mql["rows"]] == [
        ("alice", "inbound"),
        ("bob", "outbound"),
        (None, None),
        ("alice", "inbound"),
    ]


def test_sla_by_team_without_teams_says_where_to_define_them(data_dir: Path) -> None:
    result = run(*SLA, "--by", "team", "--data", str(data_dir))
    assert result.exit_code == 2
    assert "no sales teams are defined" in result.output and "teams.csv (team, owner)" in result.output
    # Without teams, the per-MQL rows keep their documented columns.
    assert "team" not in ok_json(*SLA, "--by", "mql", "--data", str(data_dir))["rows"][0]


def test_an_owner_in_two_teams_of_teams_csv_is_named_with_its_line(tmp_path: Path, dataset: Dataset) -> None:
    folder = tmp_path / "twice"
    write_data(folder, with_teams(dataset, TeamMember("inbound", "alice"), TeamMember("outbound", "ALICE")))
    result = run(*SLA, "--by", "team", "--data", str(folder))
    assert result.exit_code == 2
    assert "teams.csv line 3, column team: ALICE is already in team inbound (line 2)" in result.output


def _config(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "syncd.yaml"
    path.write_text(
        f"""\
store:
  url: {url}
hubspot:
  access_token: ${{TEST_HUBSPOT_TOKEN}}
salesforce:
  login_url: https://acme.my.salesforce.com
  auth:
    flow: client_credentials
    client_id: 3MVG9abc
    client_secret: ${{TEST_SF_SECRET}}
teams:
  inbound: [Alice@Example.com]
  outbound: [bob@example.com]
""",
        encoding="utf-8",
    )
    return path


def test_sla_by_team_on_the_store_takes_the_teams_from_the_config_and_export_writes_them(
    store_url: str, dataset: Dataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_HUBSPOT_TOKEN", "pat-test")
    monkeypatch.setenv("TEST_SF_SECRET", "s3cret")
    emails = {"alice": "alice@example.com", "bob": "bob@example.com"}
    seed_store(
        store_url,
        replace(
            dataset,
            activities=tuple(replace(a, owner=emails.get(a.owner, a.owner)) for a in dataset.activities),
        ),
    )
    config = _config(tmp_path, store_url)
    doc = ok_json(*SLA, "--by", "team", "--config", str(config))
    assert {r["team"]: r["mqls"] for r in doc["rows"]} == {"inbound": 2, "outbound": 1, None: 1}
    with_url = run(*SLA, "--by", "team", "--url", store_url)
    assert with_url.exit_code == 2 and "no sales teams are defined" in with_url.output

    folder = tmp_path / "export"
    exported = CliRunner().invoke(export, ["--config", str(config), "--data", str(folder)])
    assert exported.exit_code == 0, exported.output
    assert load_data(folder).teams == (
        TeamMember("inbound", "Alice@Example.com"),
        TeamMember("outbound", "bob@example.com"),
    )
    assert ok_json(*SLA, "--by", "team", "--data", str(folder)) == doc


def test_pipeline_shows_sourced_and_influenced_side_by_side_never_added(data_dir: Path) -> None:
    # Deals created in March: d1 900 and d4 1000 (p1: ads, then email, organic before both), d2 100
    # and d5 400 (p2: ads; its earlier email open does not count), d3 250 (p3: no touch at all).
    doc = ok_json("pipeline", *MARCH, "--data", str(data_dir))
    assert doc["rows"] == [
        {
            "channel": "ads",
            "sourced_deals": 4,
            "sourced_amount": "2400.00",
            "influenced_deals": 4,
            "influenced_amount": "2400.00",
        },
        {
            "channel": "email",
            "sourced_deals": 0,
            "sourced_amount": "0.00",
            "influenced_deals": 2,
            "influenced_amount": "1900.00",
        },
        {
            "channel": "organic",
            "sourced_deals": 0,
            "sourced_amount": "0.00",
            "influenced_deals": 2,
            "influenced_amount": "1900.00",
        },
    ]
    # The influenced rows overlap (d1 and d4 are in all three): the total is not their sum.
    assert doc["totals"] == {
        "sourced_deals": 4,
        "sourced_amount": "2400.00",
        "influenced_deals": 4,
        "influenced_amount": "2400.00",
    }


def test_pipeline_alternatives_change_what_counts(data_dir: Path) -> None:
    # Sales calls are not marketing: with organic as a "sales" channel nothing changes for sourcing
    # (every first touch is ads), but d1 and d4 lose their organic influence.
    doc = ok_json("pipeline", *MARCH, "--data", str(data_dir), "--non-marketing-channels", "organic")
    assert "organic" not in {r["channel"] for r in doc["rows"]}
    # primary_campaign: no deal has a primary campaign, so nothing is sourced; influence stays.
    primary = ok_json("pipeline", *MARCH, "--data", str(data_dir), "--sourced-rule", "primary_campaign")
    assert primary["totals"]["sourced_deals"] == 0 and primary["totals"]["influenced_deals"] == 4
    # Influence up to the close: p2's email open still does not count; nothing new is influenced.
    closed = ok_json("pipeline", *MARCH, "--data", str(data_dir), "--influenced-until", "closed")
    assert closed["totals"]["influenced_amount"] == "2400.00"
    by_campaign = ok_json("pipeline", *MARCH, "--data", str(data_dir), "--by", "campaign")
    assert {r["campaign"]: r["influenced_deals"] for r in by_campaign["rows"]} == {
        "news": 2,
        "spring": 4,
        None: 2,
    }
