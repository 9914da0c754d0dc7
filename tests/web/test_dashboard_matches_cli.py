"""The numbers a marketer reads on the dashboard, rendered in a real headless Chromium, are the
numbers `syncd report ... --format json` prints for the same store, period and parameters.

The store is generated (300 people, January–April 2026); the CLI is the `syncd` command tree
(`syncd.cli.main`, what `python -m syncd` runs) driven by click's runner, with a config file naming
the same store and the same sales teams as the dashboard's settings. Pages show rounded figures
(money to cents, shares to 0.1%, hours to 0.01 h), so each CLI value is formatted the way the page
formats it before comparing. Screenshots of every compared page are kept (see conftest).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from click.testing import CliRunner

from connectors.sandbox_core.server import SandboxServer
from syncd.cli import main
from syncd.reports.teams import TeamMember
from syncd.store.db import make_engine
from syncd.store.migrate import upgrade
from syncd.web import DashboardSettings, create_app
from tests.reports_store.seed import seed_generated
from tests.web.test_dashboard_browser import READ_CARDS, READ_TABLE, screenshot

# The dashboard reads events up to its clock's instant, the CLI's pacing up to the end of its
# --as-of day: the clock stands at the day's last instant so both read the same events.
NOW = datetime(2026, 4, 30, 23, 59, 59, 999_999, tzinfo=UTC)
PERIOD = {"from": "2026-02-01", "to": "2026-03-31"}
CLI_PERIOD = ["--from", PERIOD["from"], "--to", PERIOD["to"]]
GOAL = 60
TEAMS = {"inbound": ["rep0@example.com", "REP1@example.com"], "outbound": ["rep2@example.com"]}
SETTINGS = DashboardSettings(
    mql_goal=GOAL, teams=tuple(TeamMember(team, owner) for team, owners in TEAMS.items() for owner in owners)
)
ENV = {"DASH_TEST_HUBSPOT_TOKEN": "pat-test", "DASH_TEST_SF_SECRET": "s3cret"}

# (model, conversion, by): the attribution page's picker positions compared with the CLI.
ATTRIBUTION = [
    ("linear", "revenue", "channel"),
    ("w_shaped", "revenue", "campaign"),
    ("time_decay", "deal_create", "channel"),
    ("u_shaped", "contact_create", "campaign"),
    ("markov", "revenue", "channel"),
    ("shapley", "revenue", "channel"),
]


def _cli_commands() -> dict[str, list[str]]:
    commands: dict[str, list[str]] = {}
    for model, conversion, by in ATTRIBUTION:
        name = f"{model}-{conversion}-{by}"
        commands[f"attribution {name}"] = ["attribution", "--model", model, "--conversion", conversion]
        commands[f"attribution {name}"] += ["--by", by]
        commands[f"roi {name}"] = ["roi", "--model", model, "--by", by]
        commands[f"pipeline {name}"] = ["pipeline", "--by", by]
    for by in ("channel", "campaign"):
        commands[f"mql-value {by}"] = ["mql-value", "--by", by]
    # The dashboard reads lifecycle events up to its clock's instant.
    commands["funnel"] = ["funnel", "--as-of", NOW.isoformat()]
    for by in ("owner", "team"):
        commands[f"sla {by}"] = ["sla", "--within-hours", "24", "--by", by]
    commands["pacing"] = ["pacing", "--goal", str(GOAL), "--as-of", NOW.date().isoformat()]
    return commands


def _run_cli(config: Path, args: Sequence[str]) -> dict[str, Any]:
    period = [] if args[0] == "pacing" else CLI_PERIOD  # pacing: the whole current quarter
    command = ["report", *args, *period, "--config", str(config), "--format", "json"]
    result = CliRunner().invoke(main, command, env=ENV)
    assert result.exit_code == 0, f"syncd {' '.join(command)}: {result.output}"
    document: dict[str, Any] = json.loads(result.stdout)
    return document


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A generated SQLite store and a syncd config naming it and the sales teams."""
    folder = tmp_path_factory.mktemp("matches-cli")
    url = f"sqlite:///{folder / 'store.db'}"
    upgrade(url)
    engine = make_engine(url)
    seed_generated(engine, people=300, touches_per_person=6)
    engine.dispose()
    config = folder / "syncd.yaml"
    teams = "\n".join(f"  {team}: [{', '.join(owners)}]" for team, owners in TEAMS.items())
    config.write_text(
        f"store:\n  url: {url}\n"
        "hubspot:\n  access_token: ${DASH_TEST_HUBSPOT_TOKEN}\n"
        "salesforce:\n  login_url: https://acme.my.salesforce.com\n  auth:\n    flow: client_credentials\n"
        "    client_id: 3MVG9abc\n    client_secret: ${DASH_TEST_SF_SECRET}\n"
        f"teams:\n{teams}\n",
        encoding="utf-8",
    )
    yield url, config


@pytest.fixture(scope="module")
def cli(store: tuple[str, Path]) -> dict[str, dict[str, Any]]:
    """Every CLI report the tests compare with."""
    _, config = store
    return {name: _run_cli(config, args) for name, args in _cli_commands().items()}


@pytest.fixture(scope="module")
def server(store: tuple[str, Path]) -> Iterator[SandboxServer]:
    url, _ = store
    engine = make_engine(url)
    with SandboxServer(create_app(engine, token=None, clock=lambda: NOW, settings=SETTINGS)) as running:
        yield running
    engine.dispose()


# --- the page's formats, applied to the CLI's values --------------------------------------------


def money(value: str | None) -> str:
    return "—" if value is None else f"{Decimal(value):,.2f}"


def share(value: str | None) -> str:
    return "—" if value is None else f"{float(value) * 100:.1f}%"


def times(value: str | None) -> str:
    return "—" if value is None else f"{float(value):.2f}×"


def hours(value: str | None) -> str:
    return "—" if value is None else f"{float(value):.2f} h"


def number(value: str | int | None) -> str:
    if value is None:
        return "—"
    v = float(value)
    return f"{v:,.0f}" if v.is_integer() else f"{v:,.2f}"


def label(key: str | None, by: str) -> str:
    if key is None:
        return "(no campaign)" if by == "campaign" else "(no source touch)"
    return key or "(unknown channel)"


def open_page(browser: Any, server: SandboxServer, page: str, **params: str) -> None:
    browser.get(f"{server.base_url}/{page}?{urlencode({**PERIOD, **params})}")
    assert browser.execute_script("return document.body.dataset.page") == page
    assert not browser.find_elements("css selector", "#error")


def page_rows(browser: Any, table_id: str, key_field: str = "key") -> dict[str, dict[str, str]]:
    """Table rows by the text of their first (label) cell."""
    rows = browser.execute_script(READ_TABLE, f"#{table_id}")
    return {row[key_field]: row for row in rows}


# --- the pages ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("model", "conversion", "by"), ATTRIBUTION)
def test_attribution_roi_and_pipeline_match_the_cli(
    browser: Any,
    server: SandboxServer,
    cli: dict[str, dict[str, Any]],
    artifacts: Path,
    model: str,
    conversion: str,
    by: str,
) -> None:
    open_page(browser, server, "attribution", model=model, conversion=conversion, by=by)
    name = f"{model}-{conversion}-{by}"
    screenshot(browser, artifacts, f"matches-cli-attribution-{name}")

    attribution = cli[f"attribution {name}"]
    credits = page_rows(browser, "credits")
    expected = {
        label(row[by], by): {"credit": money(row["credit"]), "share": share(row["share"])}
        for row in attribution["rows"]
    }
    assert {k: {"credit": r["credit"], "share": r["share"]} for k, r in credits.items()} == expected
    assert len(expected) >= 5  # a real comparison: most channels or campaigns have credit
    cards = browser.execute_script(READ_CARDS)
    totals = attribution["totals"]
    assert cards["conversions"] == str(totals["conversions"])
    for field in ("total_value", "attributed_value", "unattributed_value"):
        assert cards[field] == money(totals[field]), field

    roi = cli[f"roi {name}"]
    roi_rows = page_rows(browser, "roi")
    assert set(roi_rows) == {label(row[by], by) for row in roi["rows"]}
    for row in roi["rows"]:
        shown = roi_rows[label(row[by], by)]
        assert shown["attributed_revenue"] == money(row["attributed_revenue"])
        assert shown["cost"] == money(row["cost"])
        assert (shown["roi"], shown["roas"]) == (share(row["roi"]), times(row["roas"]))
        assert (shown["leads"], shown["mqls"], shown["customers"]) == tuple(
            str(row[f]) for f in ("leads", "mqls", "customers")
        )
        for field in ("cost_per_lead", "cost_per_mql", "cost_per_customer"):
            assert shown[field] == money(row[field]), field
    unattributed = money(roi["totals"]["unattributed_revenue"])
    assert f"Unattributed revenue: {unattributed}." in browser.find_element("tag name", "main").text

    pipeline = cli[f"pipeline {name}"]
    shown_pipeline = page_rows(browser, "pipeline")
    assert {
        k: (r["sourced_deals"], r["sourced_amount"], r["influenced_deals"], r["influenced_amount"])
        for k, r in shown_pipeline.items()
    } == {
        label(row[by], by): (
            str(row["sourced_deals"]),
            money(row["sourced_amount"]),
            str(row["influenced_deals"]),
            money(row["influenced_amount"]),
        )
        for row in pipeline["rows"]
    }
    t = pipeline["totals"]
    assert cards["sourced_pipeline"] == f"{money(t['sourced_amount'])} ({t['sourced_deals']} deals)"
    assert cards["influenced_pipeline"] == f"{money(t['influenced_amount'])} ({t['influenced_deals']} deals)"


@pytest.mark.parametrize("by", ["channel", "campaign"])
def test_mql_value_funnel_and_sales_velocity_match_the_cli(
    browser: Any, server: SandboxServer, cli: dict[str, dict[str, Any]], artifacts: Path, by: str
) -> None:
    open_page(browser, server, "funnel", by=by)
    screenshot(browser, artifacts, f"matches-cli-funnel-{by}")
    value = cli[f"mql-value {by}"]
    shown = page_rows(browser, "mql-value", "source")
    fields = ("mqls", "customers", "close_rate", "won_revenue", "revenue_per_customer", "value_per_mql")
    assert {k: tuple(r[f] for f in fields) for k, r in shown.items()} == {
        label(row["source"], by): (
            str(row["mqls"]),
            str(row["customers"]),
            share(row["close_rate"]),
            money(row["won_revenue"]),
            money(row["revenue_per_customer"]),
            money(row["value_per_mql"]),
        )
        for row in value["rows"]
    }
    assert sum(int(r["mqls"]) for r in shown.values()) == value["totals"]["mqls"] > 0

    funnel = cli["funnel"]
    steps = page_rows(browser, "funnel-steps", "step")
    assert {k: (r["entered"], r["converted"], r["rate"], r["median_hours"]) for k, r in steps.items()} == {
        f"{row['from_stage']} → {row['to_stage']}": (
            str(row["entered"]),
            str(row["converted"]),
            share(row["rate"]),
            hours(row["median_hours"]),
        )
        for row in funnel["rows"]
    }
    cards = browser.execute_script(READ_CARDS)
    totals = funnel["totals"]
    assert cards["opportunities"] == str(totals["opportunities"])
    assert cards["win_rate"] == share(totals["win_rate"])
    assert cards["average_deal_size"] == money(totals["average_deal_size"])
    assert cards["cycle_days"] == number(totals["cycle_days"])
    assert cards["velocity_per_day"] == money(totals["sales_velocity_per_day"])


def test_sla_by_owner_and_by_team_match_the_cli(
    browser: Any, server: SandboxServer, cli: dict[str, dict[str, Any]], artifacts: Path
) -> None:
    open_page(browser, server, "sla", hours="24")
    screenshot(browser, artifacts, "matches-cli-sla")
    by_owner = cli["sla owner"]
    totals = by_owner["totals"]
    cards = browser.execute_script(READ_CARDS)
    assert cards["mqls"] == str(totals["mqls"])
    assert cards["within_share"] == share(totals["within_share"])
    assert cards["median_hours"] == hours(totals["median_hours"])
    assert cards["p90_hours"] == hours(totals["p90_hours"])
    assert cards["uncontacted"] == str(totals["uncontacted"])
    assert cards["with_min_attempts_share"] == share(totals["with_min_attempts_share"])

    def groups(table_id: str, key: str, document: dict[str, Any], none: str) -> None:
        shown = page_rows(browser, table_id, key)
        assert {
            k: (r["mqls"], r["contacted"], r["within_share"], r["median_hours"]) for k, r in shown.items()
        } == {
            row[key] or none: (
                str(row["mqls"]),
                str(row["contacted"]),
                share(row["within_share"]),
                hours(row["median_hours"]),
            )
            for row in document["rows"]
        }

    groups("owners", "owner", by_owner, "(nobody yet)")
    by_team = cli["sla team"]
    groups("teams", "team", by_team, "(no team)")
    assert {row["team"] for row in by_team["rows"]} == {"inbound", "outbound", None}
    # The uncontacted MQLs, listed by person (the page's rows carry the store's person id).
    uncontacted = [row["row_key"] for row in browser.execute_script(READ_TABLE, "#uncontacted")]
    assert sorted(uncontacted) == sorted(totals["uncontacted_mqls"])


def test_pacing_matches_the_cli(
    browser: Any, server: SandboxServer, cli: dict[str, dict[str, Any]], artifacts: Path
) -> None:
    # Without dates the dashboard shows the current month and the CLI the current quarter: the
    # same goal period is asked of both (the quarter of the dashboard's clock).
    pacing = cli["pacing"]
    period = pacing["parameters"]
    assert (period["from"], period["to"]) == ("2026-04-01", "2026-06-30")
    browser.get(
        f"{server.base_url}/pacing?{urlencode({'from': period['from'], 'to': period['to'], 'goal': GOAL})}"
    )
    screenshot(browser, artifacts, "matches-cli-pacing")
    (row,) = pacing["rows"]
    cards = browser.execute_script(READ_CARDS)
    assert cards["actual"] == number(row["actual"])
    assert cards["goal"] == number(row["goal"])
    assert cards["target_to_date"] == number(row["target_to_date"])
    assert cards["pace"] == share(row["pace"])
    assert cards["projection"] == number(row["projection"])
    assert cards["required_per_remaining_day"] == number(row["required_per_remaining_day"])
    assert row["actual"] > 0
