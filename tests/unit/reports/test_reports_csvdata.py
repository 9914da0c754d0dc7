"""Loading and writing a `--data DIR` folder of CSV files."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from report_builders import activity, at, deal, link, person, stage, touch

from syncd.reports import Cost, CsvDataError
from syncd.reports.csvdata import Dataset, load_data, write_data


def sample() -> Dataset:
    return Dataset(
        people=(person("p1", at(0)), person("p2", at(1, 3, 7))),
        touches=(
            touch("t1", "p1", at(0), "ads", 'spring, "early"', source="salesforce"),
            touch("t2", "p2", at(0, 1), "email", None, kind=""),
            touch("t3", "p2", at(0, 2), "", None),  # unknown channel
        ),
        lifecycle=(stage("p1", "mql", at(2)),),
        activities=(
            activity("a1", "p1", at(3), kind="meeting", by="automation", owner=""),
            activity("a2", "p1", at(4), kind="email", by="syncd"),
        ),
        deals=(
            deal("d1", at(1), closed=at(5), amount="1234.50", won=True, campaign="spring"),
            deal("d2", at(2)),
        ),
        deal_contacts=(link("d1", "p1", primary=True), link("d2", "p2")),
        costs=(Cost("ads", None, date(2026, 3, 1), date(2026, 3, 31), Decimal("3100.00")),),
    )


def test_write_then_load_gives_the_same_data(tmp_path: Path) -> None:
    data = sample()
    write_data(tmp_path / "out", data)
    assert load_data(tmp_path / "out") == data


def write(folder: Path, name: str, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")


def test_timestamps_without_offset_are_utc_and_offsets_are_converted(tmp_path: Path) -> None:
    write(
        tmp_path,
        "people.csv",
        "person_id,email,created_at\n"
        "p1,a@x.com,2026-03-01T10:00:00\n"
        "p2,b@x.com,2026-03-01T10:00:00+02:00\n"
        "p3,c@x.com,2026-03-01T10:00:00Z\n",
    )
    people = load_data(tmp_path).people
    assert [p.created_at for p in people] == [
        datetime(2026, 3, 1, 10, tzinfo=UTC),
        datetime(2026, 3, 1, 8, tzinfo=UTC),
        datetime(2026, 3, 1, 10, tzinfo=UTC),
    ]
    assert all(p.created_at.tzinfo is UTC for p in people)


def test_missing_files_load_as_empty(tmp_path: Path) -> None:
    write(tmp_path, "people.csv", "person_id,email,created_at\n")
    assert load_data(tmp_path) == Dataset()


def test_bad_rows_are_all_reported_with_file_line_and_column(tmp_path: Path) -> None:
    write(
        tmp_path,
        "touches.csv",
        "touch_id,person_id,occurred_at,channel,campaign,kind\n"
        "t1,p1,2026-03-01T10:00:00Z,ads,,page_view\n"
        "t2,p1,yesterday,ads,,page_view\n"
        "t1,p1,2026-03-02T10:00:00Z,ads,,page_view\n",
    )
    write(
        tmp_path,
        "deals.csv",
        "deal_id,created_at,closed_at,amount,is_won,primary_campaign\nd1,2026-03-01,,12,00,maybe,\n",
    )
    with pytest.raises(CsvDataError) as err:
        load_data(tmp_path)
    problems = err.value.problems
    assert "touches.csv line 3, column occurred_at: 'yesterday' is not an ISO 8601 timestamp" in problems[0]
    assert problems[1] == "touches.csv line 4, column touch_id: 't1' repeats line 2"
    assert any(p.startswith("deals.csv line 2, column is_won: '00' is not a boolean") for p in problems)


def test_bad_amount_and_initiator_are_named(tmp_path: Path) -> None:
    write(
        tmp_path,
        "costs.csv",
        "channel,campaign,period_start,period_end,amount\nads,,2026-03-01,2026-03-31,lots\n",
    )
    write(
        tmp_path,
        "activities.csv",
        "activity_id,person_id,occurred_at,kind,initiated_by,owner\na1,p1,2026-03-01T09:00:00Z,call,bot,ann\n",
    )
    with pytest.raises(CsvDataError) as err:
        load_data(tmp_path)
    text = str(err.value)
    assert "costs.csv line 2, column amount: 'lots' is not a decimal amount" in text
    assert "activities.csv line 2, column initiated_by: 'bot' is not rep, automation or syncd" in text


def test_missing_columns_are_reported(tmp_path: Path) -> None:
    write(tmp_path, "lifecycle.csv", "person_id,stage\np1,mql\n")
    with pytest.raises(CsvDataError) as err:
        load_data(tmp_path)
    assert err.value.problems == ["lifecycle.csv line 1: missing column(s) entered_at"]


def test_not_a_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CsvDataError) as err:
        load_data(tmp_path / "nope")
    assert "is not a directory" in str(err.value)
