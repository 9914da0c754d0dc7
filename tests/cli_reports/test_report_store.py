"""`syncd report` on the store (SQLite and PostgreSQL) and `syncd export` → `report --data` round trips."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from syncd.cli.export import export
from syncd.cli.report import report
from syncd.errors import StoreNotReadyError

MARCH = ["--from", "2026-03-01", "--to", "2026-03-31"]
# Every report with the parameters that change what it reads.
REPORTS = [
    ["attribution", "--model", "linear"],
    ["attribution", "--model", "w_shaped", "--by", "campaign"],
    ["attribution", "--model", "time_decay", "--conversion", "deal_create", "--by", "touch"],
    ["attribution", "--model", "u_shaped", "--conversion", "contact_create", "--count-email-opens"],
    ["attribution", "--model", "markov"],
    ["attribution", "--model", "shapley", "--conversion", "deal_create", "--lookback-days", "3"],
    ["roi", "--model", "j_shaped", "--by", "campaign"],
    ["roi", "--model", "markov", "--cost-proration", "whole"],
    ["pipeline"],
    ["pipeline", "--by", "campaign", "--influenced-until", "closed", "--sourced-rule", "primary_campaign"],
    ["mql-value"],
    ["funnel"],
    ["funnel", "--method", "period", "--stages", "lead,mql,customer"],
    ["sla", "--within-hours", "24", "--business-hours", "Mon-Fri 09:00-17:00", "--timezone", "Europe/Berlin"],
    ["sla", "--within-hours", "3", "--by", "mql"],
    ["pacing", "--goal", "10", "--as-of", "2026-03-10"],
]


def run(*args: str) -> Result:
    return CliRunner().invoke(report, list(args))


def as_json(*args: str) -> dict[str, Any]:
    result = run(*args, "--format", "json")
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def test_reports_on_the_store_match_the_hand_worked_numbers(seeded_store: str) -> None:
    linear = as_json("attribution", *MARCH, "--url", seeded_store)
    assert [(r["channel"], r["credit"]) for r in linear["rows"]] == [
        ("ads", "400.00"),
        ("email", "300.00"),
        ("organic", "300.00"),
    ]
    assert linear["totals"]["unattributed_value"] == "250.00"

    roi = as_json("roi", *MARCH, "--url", seeded_store)
    email = next(r for r in roi["rows"] if r["channel"] == "email")
    assert (email["cost"], email["roi"]) == ("160.00", "0.8750")

    sla = as_json("sla", *MARCH, "--url", seeded_store, "--within-hours", "24")
    # Store ids: p3 is person 3.
    assert (sla["totals"]["within_share"], sla["totals"]["uncontacted_mqls"]) == ("0.5000", ["3"])

    pacing = as_json("pacing", *MARCH, "--url", seeded_store, "--goal", "10", "--as-of", "2026-03-10")
    assert pacing["rows"][0]["actual"] == 4


def test_reports_on_the_store_equal_reports_on_the_csv_folder_by_channel(
    seeded_store: str, data_dir: Path
) -> None:
    # Channel-level reports do not show ids, so the store and the original folder agree exactly.
    for args in (["attribution", "--model", "w_shaped"], ["roi"], ["mql-value"], ["funnel"]):
        assert as_json(*args, *MARCH, "--url", seeded_store) == as_json(
            *args, *MARCH, "--data", str(data_dir)
        )


@pytest.mark.parametrize("period", [[], MARCH], ids=["whole-store", "march-only"])
def test_export_then_report_on_the_folder_equals_report_on_the_store(
    seeded_store: str, tmp_path: Path, period: list[str]
) -> None:
    folder = tmp_path / "export"
    exported = CliRunner().invoke(export, ["--url", seeded_store, "--data", str(folder), *period])
    assert exported.exit_code == 0, exported.output
    assert "exported" in exported.stdout and "5 touches" in exported.stdout
    assert sorted(p.name for p in folder.iterdir()) == [
        "activities.csv",
        "costs.csv",
        "deal_contacts.csv",
        "deals.csv",
        "lifecycle.csv",
        "people.csv",
        "teams.csv",
        "touches.csv",
    ]
    for args in REPORTS:
        on_store = as_json(args[0], *MARCH, "--url", seeded_store, *args[1:])
        on_folder = as_json(args[0], *MARCH, "--data", str(folder), *args[1:])
        assert on_folder == on_store, args
        assert on_store["rows"], args


def test_a_period_outside_the_data_exports_only_what_it_reads(seeded_store: str, tmp_path: Path) -> None:
    folder = tmp_path / "may"
    result = CliRunner().invoke(
        export, ["--url", seeded_store, "--data", str(folder), "--from", "2026-05-01", "--to", "2026-05-31"]
    )
    assert result.exit_code == 0, result.output
    assert (folder / "touches.csv").read_text().splitlines() == [
        "touch_id,person_id,occurred_at,channel,campaign,kind,source_system"
    ]


def test_export_needs_both_ends_of_a_period(seeded_store: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        export, ["--url", seeded_store, "--data", str(tmp_path), "--from", "2026-03-01"]
    )
    assert result.exit_code == 2
    assert "give both --from and --to" in result.stderr


def test_a_missing_sqlite_store_is_refused_without_creating_it(tmp_path: Path) -> None:
    path = tmp_path / "absent.db"
    result = run("funnel", *MARCH, "--url", f"sqlite:///{path}")
    assert isinstance(result.exception, StoreNotReadyError)
    assert "there is no store at" in str(result.exception)
    assert not path.exists()


REPORT_COMMAND = [sys.executable, "-m", "syncd", "report"]


def syncd_report(*args: str) -> subprocess.CompletedProcess[str]:
    root = Path(__file__).resolve().parents[2]
    return subprocess.run(
        [*REPORT_COMMAND, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
    )


def test_the_report_command_in_a_real_process_prints_the_table_and_exits_2_on_a_report_error(
    data_dir: Path,
) -> None:
    completed = syncd_report("attribution", *MARCH, "--data", str(data_dir))
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.splitlines()[:3] == [
        "channel  credit   share",
        "-------  ------  ------",
        "ads      400.00  0.4000",
    ]
    failed = syncd_report(
        "attribution", *MARCH, "--data", str(data_dir), "--model", "full_path", "--conversion", "deal_create"
    )
    assert failed.returncode == 2
    assert failed.stdout == ""
    assert failed.stderr.startswith("syncd report: model full_path needs the closed-won (CW) touch")
