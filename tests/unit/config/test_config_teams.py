"""The `teams:` section: owners by email in one team each; every mistake is named at its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from syncd.config import parse_config
from syncd.errors import ConfigError
from syncd.reports.teams import OwnerTeams, team_members

ENV = {"HUBSPOT_ACCESS_TOKEN": "pat-test", "SF_CLIENT_SECRET": "s3cret"}
HEAD = """\
hubspot:
  access_token: ${HUBSPOT_ACCESS_TOKEN}
salesforce:
  login_url: https://acme.my.salesforce.com
  auth:
    flow: client_credentials
    client_id: 3MVG9abc
    client_secret: ${SF_CLIENT_SECRET}
"""


def parse(teams: str) -> object:
    return parse_config(HEAD + teams, source="syncd.yaml", base_dir=Path("."), env=ENV)


def test_teams_map_owner_emails_whatever_their_case() -> None:
    config = parse(
        "teams:\n  inbound: [rita@example.com, Sam@Example.com]\n  enterprise: [ada@example.com]\n"
    )
    teams = OwnerTeams(team_members(config.teams.root))  # type: ignore[attr-defined]
    assert teams["RITA@example.com "] == "inbound"
    assert teams["sam@example.com"] == "inbound"
    assert teams["ada@example.com"] == "enterprise"
    assert teams.get("bob@example.com") is None
    assert teams.teams == ("enterprise", "inbound")


def test_no_teams_section_means_no_teams() -> None:
    assert parse("").teams.root == {}  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("section", "problem"),
    [
        (
            "teams:\n  inbound: [rita@example.com]\n  enterprise: [Rita@example.com]\n",
            "Rita@example.com is in teams inbound and enterprise — keep each owner in one team",
        ),
        ("teams:\n  inbound: [rita]\n", "team inbound: 'rita' is not an email"),
        ("teams:\n  inbound: rita@example.com\n", "syncd.yaml:10"),  # a list is needed
    ],
)
def test_a_bad_teams_section_is_reported_with_what_to_do(section: str, problem: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse(section)
    assert problem in str(raised.value)
    assert "teams" in str(raised.value)
