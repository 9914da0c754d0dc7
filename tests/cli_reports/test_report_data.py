"""`syncd report ...` over a --data folder: the numbers of the hand-worked March dataset (see conftest)."""

from __future__ import annotations

import csv
import gc
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from syncd.cli.report import report

MARCH = ["--from", "2026-03-01", "--to", "2026-03-31"]


def run(*args: str) -> Result:
    return CliRunner().invoke(report, list(args))


def ok_json(*args: str) -> dict[str, Any]:
    result = run(*args, "--format", "json")
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def rows_by_key(document: dict[str, Any], key: str) -> dict[Any, dict[str, Any]]:
    return {row[key]: row for row in document["rows"]}


def test_linear_revenue_splits_a_three_touch_path_in_thirds_and_lists_unattributed_revenue(
    data_dir: Path,
) -> None:
    # d1 900.00 over ads, email, organic: 300 each; d2 100.00 all ads; d3 250.00 has no touch.
    doc = ok_json("attribution", *MARCH, "--data", str(data_dir), "--model", "linear")
    assert doc["report"] == "attribution"
    assert doc["rows"] == [
        {"channel": "ads", "credit": "400.00", "share": "0.4000"},
        {"channel": "email", "credit": "300.00", "share": "0.3000"},
        {"channel": "organic", "credit": "300.00", "share": "0.3000"},
    ]
    assert doc["totals"] == {
        "conversions": 3,
        "total_value": "1250.00",
        "attributed_value": "1000.00",
        "unattributed": 1,
        "unattributed_value": "250.00",
    }
    assert doc["parameters"] == {
        "from": "2026-03-01",
        "to": "2026-03-31",
        "model": "linear",
        "conversion": "revenue",
        "by": "channel",
        "lookback_days": None,
        "count_email_opens": False,
        "count_sales_touches": False,
    }


def test_w_shaped_gives_ft_lc_oc_thirty_percent_each_and_the_middle_touch_ten(data_dir: Path) -> None:
    # d1: t1 is FT and LC (60% = 540), t3 is OC and CW (30% = 270), t2 is the middle (10% = 90); d2: 100 ads.
    doc = ok_json("attribution", *MARCH, "--data", str(data_dir), "--model", "w_shaped")
    assert {k: r["credit"] for k, r in rows_by_key(doc, "channel").items()} == {
        "ads": "640.00",
        "email": "90.00",
        "organic": "270.00",
    }


def test_email_opens_count_only_when_asked(data_dir: Path) -> None:
    default = ok_json("attribution", *MARCH, "--data", str(data_dir), "--by", "touch")
    opens = ok_json("attribution", *MARCH, "--data", str(data_dir), "--by", "touch", "--count-email-opens")
    assert "t4" not in rows_by_key(default, "touch")
    assert rows_by_key(default, "touch")["t5"]["credit"] == "100.00"
    # d2's path is now t4 (open) then t5: linear gives 50.00 each.
    assert rows_by_key(opens, "touch")["t4"]["credit"] == "50.00"
    assert rows_by_key(opens, "touch")["t5"]["credit"] == "50.00"


def test_attribution_by_campaign_reports_touches_without_campaign_under_null(data_dir: Path) -> None:
    doc = ok_json("attribution", *MARCH, "--data", str(data_dir), "--by", "campaign")
    assert {r["campaign"]: r["credit"] for r in doc["rows"]} == {
        "news": "300.00",
        "spring": "400.00",
        None: "300.00",
    }


def test_contact_create_credits_people_created_in_the_period(data_dir: Path) -> None:
    # p1's path ends at its creation (t1 only), p2's at t5; p3 and p4 have no touch.
    doc = ok_json("attribution", *MARCH, "--data", str(data_dir), "--conversion", "contact_create")
    assert doc["rows"] == [{"channel": "ads", "credit": "2.000000", "share": "1.0000"}]
    assert doc["totals"]["unattributed"] == 2


def test_markov_credits_channels_by_removal_effect(data_dir: Path) -> None:
    # Journeys: ads→email→organic→conv (900), ads→conv (100). Removing ads kills both (RE 1);
    # removing email or organic kills one of two (RE 1/2): credits 1000 × 1/2, 1/4, 1/4.
    doc = ok_json("attribution", *MARCH, "--data", str(data_dir), "--model", "markov")
    assert doc["rows"] == [
        {"channel": "ads", "credit": "500.00", "share": "0.5000", "removal_effect": "1.0000"},
        {"channel": "email", "credit": "250.00", "share": "0.2500", "removal_effect": "0.5000"},
        {"channel": "organic", "credit": "250.00", "share": "0.2500", "removal_effect": "0.5000"},
    ]


def test_table_output_aligns_columns_under_a_header_with_money_to_two_decimals(data_dir: Path) -> None:
    result = run("attribution", *MARCH, "--data", str(data_dir), "--conversion", "contact_create")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[:3] == ["channel  credit   share", "-------  ------  ------", "ads        2.00  1.0000"]
    assert "unattributed        2" in lines


def test_table_labels_the_group_without_a_source_and_prints_totals_below(data_dir: Path) -> None:
    result = run("roi", *MARCH, "--data", str(data_dir))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == [
        "channel",
        "attributed_revenue",
        "cost",
        "roi",
        "roas",
        "leads",
        "mqls",
        "customers",
        "cost_per_lead",
        "cost_per_mql",
        "cost_per_customer",
    ]
    assert lines[5].split() == ["(none)", "0.00", "0.00", "-", "-", "2", "3", "0", "0.00", "0.00", "-"]
    # Every cell of a numeric column ends where its header ends.
    assert {len(line) for line in lines[:6]} == {len(lines[0])}
    assert "attributed_revenue    1,000.00" in lines
    assert "unattributed_revenue  250.00" in lines


def test_csv_output_is_a_header_and_one_line_per_row(data_dir: Path) -> None:
    result = run("roi", *MARCH, "--data", str(data_dir), "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == [
        "channel",
        "attributed_revenue",
        "cost",
        "roi",
        "roas",
        "leads",
        "mqls",
        "customers",
        "cost_per_lead",
        "cost_per_mql",
        "cost_per_customer",
    ]
    assert rows[1] == [
        "ads",
        "400.00",
        "200.00",
        "1.0000",
        "2.0000",
        "2",
        "1",
        "2",
        "100.00",
        "200.00",
        "100.00",
    ]
    # email: 16 of the cost row's 30 days are in March → 160.00; ROI (300 − 160) / 160 = 0.875.
    assert rows[2] == ["email", "300.00", "160.00", "0.8750", "1.8750", "0", "0", "0", "", "", ""]
    assert rows[3] == ["organic", "300.00", "0.00", "", "", "0", "0", "0", "", "", ""]
    # People without a source touch: p3, p4 created; p2, p3, p4 MQLs (p2's only earlier touch is an open).
    assert rows[4] == ["", "0.00", "0.00", "", "", "2", "3", "0", "0.00", "0.00", ""]
    assert len(rows) == 5


def test_roi_cost_proration_alternatives(data_dir: Path) -> None:
    def email_cost(proration: str) -> str:
        doc = ok_json("roi", *MARCH, "--data", str(data_dir), "--cost-proration", proration)
        return str(rows_by_key(doc, "channel")["email"]["cost"])

    assert email_cost("days") == "160.00"
    assert email_cost("whole") == "300.00"
    assert email_cost("contained") == "0.00"


def test_mql_value_is_won_revenue_of_the_cohort_over_its_mqls(data_dir: Path) -> None:
    # ads: p1 (d1 900 + d4 1000 won any time); no source: p2 (d2 100), p3 (d3 250), p4.
    doc = ok_json("mql-value", *MARCH, "--data", str(data_dir))
    assert doc["rows"] == [
        {
            "source": "ads",
            "mqls": 1,
            "customers": 1,
            "won_revenue": "1900.00",
            "close_rate": "1.0000",
            "revenue_per_customer": "1900.00",
            "value_per_mql": "1900.00",
        },
        {
            "source": None,
            "mqls": 3,
            "customers": 2,
            "won_revenue": "350.00",
            "close_rate": "0.6667",
            "revenue_per_customer": "175.00",
            "value_per_mql": "116.67",
        },
    ]
    until = ok_json("mql-value", *MARCH, "--data", str(data_dir), "--won-until", "2026-03-31T23:59:59Z")
    assert rows_by_key(until, "source")["ads"]["won_revenue"] == "900.00"


def test_funnel_rates_and_median_hours_between_stages(data_dir: Path) -> None:
    doc = ok_json("funnel", *MARCH, "--data", str(data_dir), "--stages", "lead,mql,customer")
    # lead→mql: 33, 34, 40, 33 h → median 33.5; mql→customer: p1 183 h, p2 374 h → 278.5.
    assert doc["rows"] == [
        {
            "from_stage": "lead",
            "to_stage": "mql",
            "entered": 4,
            "converted": 4,
            "rate": "1.0000",
            "median_hours": "33.50",
        },
        {
            "from_stage": "mql",
            "to_stage": "customer",
            "entered": 4,
            "converted": 2,
            "rate": "0.5000",
            "median_hours": "278.50",
        },
    ]
    assert doc["totals"]["entered_customer"] == 2
    # Deals created in March: 5; closed 5, won 4 (d4 closes in April but was created in March).
    assert doc["totals"]["opportunities"] == 5
    assert doc["totals"]["win_rate"] == "0.8000"


def test_sla_share_within_hours_keeps_the_never_contacted_mql_in_the_denominator(data_dir: Path) -> None:
    doc = ok_json("sla", *MARCH, "--data", str(data_dir), "--within-hours", "24")
    totals = doc["totals"]
    # p1 2 h, p4 4 h within; p2 26 h late; p3 never contacted: 2 of 4.
    assert totals["mqls"] == 4
    assert totals["within"] == 2
    assert totals["within_share"] == "0.5000"
    assert totals["uncontacted_mqls"] == ["p3"]
    # Median over the contacted (2, 4, 26 h) and P90 by nearest rank (rank 3 of 3).
    assert totals["median_hours"] == "4.00"
    assert totals["p90_hours"] == "26.00"
    # Only p1 got five rep attempts (the automated email never counts).
    assert totals["with_min_attempts"] == 1
    assert totals["with_min_attempts_share"] == "0.2500"
    by_owner = rows_by_key(doc, "owner")
    assert by_owner["alice"]["within"] == 2
    assert by_owner["bob"]["within_share"] == "0.0000"
    assert by_owner[None]["uncontacted"] == 1


def test_sla_business_clock_counts_only_opening_hours(data_dir: Path) -> None:
    doc = ok_json(
        "sla",
        *MARCH,
        "--data",
        str(data_dir),
        "--within-hours",
        "24",
        "--business-hours",
        "Mon-Fri 09:00-17:00",
    )
    # p2: Wed 10:00 → Thu 12:00 is 7 + 3 = 10 business hours, inside 24.
    assert doc["totals"]["within_business"] == 3
    assert doc["totals"]["within_business_share"] == "0.7500"
    assert doc["parameters"]["timezone"] == "UTC"
    per_mql = ok_json(
        "sla",
        *MARCH,
        "--data",
        str(data_dir),
        "--within-hours",
        "24",
        "--business-hours",
        "Mon-Fri 09:00-17:00",
        "--by",
        "mql",
    )
    p2 = rows_by_key(per_mql, "person_id")["p2"]
    assert (p2["speed_hours"], p2["business_speed_hours"], p2["first_contact_at"]) == (
        "26.00",
        "10.00",
        "2026-03-05T12:00:00Z",
    )


def test_sla_attempt_window_and_threshold_are_parameters(data_dir: Path) -> None:
    def with_min_attempts(days: str, attempts: str) -> int:
        doc = ok_json(
            "sla",
            *MARCH,
            "--data",
            str(data_dir),
            "--within-hours",
            "1",
            "--attempt-days",
            days,
            "--attempts",
            attempts,
        )
        return int(doc["totals"]["with_min_attempts"])

    # p1's calls: 03-02 … 03-06 at 11:00; a 2-day window from the MQL (03-02 09:00) holds two of them.
    assert with_min_attempts("2", "3") == 0
    assert with_min_attempts("14", "3") == 1
    assert with_min_attempts("2", "2") == 1
    # p2 and p4 have one attempt each.
    assert with_min_attempts("2", "1") == 3


def test_pacing_against_a_goal(data_dir: Path) -> None:
    doc = ok_json("pacing", *MARCH, "--data", str(data_dir), "--goal", "10", "--as-of", "2026-03-10")
    # 4 MQLs by the end of 03-10; 10 of 31 days elapsed: target 100/31, pace 1.24, projection 12.4,
    # (10 − 4) / 21 per remaining day.
    assert doc["rows"] == [
        {
            "stage": "mql",
            "goal": 10,
            "actual": 4,
            "days_in_period": 31,
            "elapsed_days": 10,
            "remaining_days": 21,
            "target_to_date": "3.2258",
            "pace": "1.2400",
            "projection": "12.4000",
            "required_per_remaining_day": "0.2857",
        }
    ]
    early = ok_json("pacing", *MARCH, "--data", str(data_dir), "--goal", "10", "--as-of", "2026-03-04")
    # By the end of 03-04: p1 and p2.
    assert early["rows"][0]["actual"] == 2


def test_a_model_the_conversion_type_lacks_is_one_clear_error_with_exit_2(data_dir: Path) -> None:
    result = run(
        "attribution",
        *MARCH,
        "--data",
        str(data_dir),
        "--model",
        "w_shaped",
        "--conversion",
        "contact_create",
    )
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("syncd report: model w_shaped needs the deal creation (OC) touch")
    assert "Traceback" not in result.output


def test_data_driven_model_by_campaign_is_refused_with_exit_2(data_dir: Path) -> None:
    result = run("attribution", *MARCH, "--data", str(data_dir), "--model", "shapley", "--by", "campaign")
    assert result.exit_code == 2
    assert "credits channels only" in result.stderr


def test_bad_csv_rows_are_listed_with_exit_2(tmp_path: Path, data_dir: Path) -> None:
    touches = data_dir / "touches.csv"
    touches.write_text(touches.read_text().replace("2026-03-03T09:00:00Z", "yesterday"))
    result = run("attribution", *MARCH, "--data", str(data_dir))
    assert result.exit_code == 2
    assert "touches.csv line 3, column occurred_at: 'yesterday' is not an ISO 8601 timestamp" in result.stderr


def test_a_period_ending_before_it_starts_is_refused(data_dir: Path) -> None:
    result = run("funnel", "--from", "2026-03-31", "--to", "2026-03-01", "--data", str(data_dir))
    assert result.exit_code == 2
    assert "period ends (2026-03-01) before it starts (2026-03-31)" in result.stderr


def test_a_source_is_required_and_only_one(data_dir: Path) -> None:
    missing = run("funnel", *MARCH)
    assert missing.exit_code == 2
    assert "give --config FILE or --url URL to read the store, or --data DIR" in missing.stderr
    both = run("funnel", *MARCH, "--data", str(data_dir), "--url", "sqlite:///x.db")
    assert both.exit_code == 2
    assert "not both" in both.stderr


def test_bad_business_hours_are_a_usage_error(data_dir: Path) -> None:
    result = run(
        "sla", *MARCH, "--data", str(data_dir), "--within-hours", "4", "--business-hours", "weekdays"
    )
    assert result.exit_code == 2
    assert "'weekdays' is not working days and hours (e.g. 'Mon-Fri 09:00-17:00')" in result.stderr


def test_the_garbage_collector_is_back_on_after_a_report_even_a_failed_one(data_dir: Path) -> None:
    assert run("funnel", *MARCH, "--data", str(data_dir)).exit_code == 0
    assert gc.isenabled()
    assert run("attribution", *MARCH, "--data", str(data_dir), "--model", "nope").exit_code == 2
    assert (
        run(
            "attribution",
            *MARCH,
            "--data",
            str(data_dir),
            "--model",
            "w_shaped",
            "--conversion",
            "contact_create",
        ).exit_code
        == 2
    )
    assert gc.isenabled()


def _quarter_to_date() -> tuple[str, str]:
    today = datetime.now(UTC).date()
    return today.replace(month=3 * ((today.month - 1) // 3) + 1, day=1).isoformat(), today.isoformat()


def test_without_dates_a_report_covers_the_quarter_to_date(data_dir: Path) -> None:
    before = _quarter_to_date()
    doc = ok_json("attribution", "--data", str(data_dir))
    assert (doc["parameters"]["from"], doc["parameters"]["to"]) in {before, _quarter_to_date()}
    only_to = ok_json("funnel", "--to", "2026-03-15", "--data", str(data_dir))
    assert (only_to["parameters"]["from"], only_to["parameters"]["to"]) == ("2026-01-01", "2026-03-15")


def test_without_dates_pacing_measures_the_whole_quarter_of_the_as_of_day(data_dir: Path) -> None:
    doc = ok_json("pacing", "--goal", "90", "--as-of", "2026-03-09", "--data", str(data_dir))
    assert (doc["parameters"]["from"], doc["parameters"]["to"]) == ("2026-01-01", "2026-03-31")
    (row,) = doc["rows"]
    # 68 of the quarter's 90 days are elapsed on 9 March; MQLs p1, p2, p3 and p4 (9 March 09:00).
    assert (row["days_in_period"], row["elapsed_days"], row["actual"]) == (90, 68, 4)


def test_a_from_date_after_today_needs_a_to_date(data_dir: Path) -> None:
    result = run("sla", "--within-hours", "24", "--from", "2999-01-01", "--data", str(data_dir))
    assert result.exit_code == 2
    assert "give --to as well" in result.output
