"""The SVG charts: round ticks, every value written, negative bars, gaps in lines, and escaping."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from syncd.web.charts import Series, bar_chart, column_chart, line_chart, nice_ticks

SVG = "{http://www.w3.org/2000/svg}"


def texts(svg: str, cls: str) -> list[str]:
    root = ET.fromstring(svg)  # the chart is well-formed XML
    return [t.text or "" for t in root.iter(f"{SVG}text") if t.get("class") == cls]


@pytest.mark.parametrize(
    ("low", "high", "integer", "expected"),
    [
        (0, 6500, False, [0, 2000, 4000, 6000, 8000]),
        (0, 1, True, [0, 1]),
        (0, 2, True, [0, 1, 2]),
        (0, 0, False, [0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]),
        (-40, 110, False, [-50, 0, 50, 100, 150]),
        (0, 100, False, [0, 20, 40, 60, 80, 100]),
    ],
)
def test_ticks_are_round_and_cover_the_values_and_zero(
    low: float, high: float, integer: bool, expected: list[float]
) -> None:
    assert nice_ticks(low, high, integer=integer) == pytest.approx(expected)


def test_bar_chart_writes_title_axis_categories_and_every_value() -> None:
    svg = bar_chart(
        "Revenue by channel",
        ["paid_search", "email"],
        [Series("credit", [6500.0, 2000.0])],
        axis_title="attributed revenue",
        value_format=lambda v: f"{v:,.2f}",
    )
    assert texts(svg, "chart-title") == ["Revenue by channel"]
    assert texts(svg, "axis-title") == ["attributed revenue"]
    assert texts(svg, "category") == ["paid_search", "email"]
    assert texts(svg, "value") == ["6,500.00", "2,000.00"]
    assert "paid_search: 6,500.00" in ET.fromstring(svg).get("aria-label", "")


def test_negative_bars_extend_left_of_zero_with_their_value() -> None:
    svg = bar_chart("ROI", ["a", "b"], [Series("ROI", [-40.0, 110.0])], axis_title="%")
    bars = [r for r in ET.fromstring(svg).iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    negative, positive = (float(b.get("x", "0")) for b in bars)
    assert negative < positive
    assert texts(svg, "value") == ["-40", "110"]


def test_line_chart_breaks_at_missing_values_and_labels_the_last_point() -> None:
    svg = line_chart(
        "MQLs",
        ["03-01", "03-02", "03-03", "03-04"],
        [Series("actual", [1, 2, None, None]), Series("target", [1, 2, 3, 4], dashed=True)],
        x_title="day",
        y_title="MQLs",
    )
    root = ET.fromstring(svg)
    lines = list(root.iter(f"{SVG}polyline"))
    assert len(lines) == 2 and lines[1].get("stroke-dasharray") == "6 4"
    assert len(lines[0].get("points", "").split()) == 2
    assert texts(svg, "value") == ["2", "4"]
    assert texts(svg, "legend") == ["actual", "target"]


def test_histogram_columns_carry_their_counts_and_bins() -> None:
    svg = column_chart("Speed", ["< 1 h", "1–4 h", "never"], [3, 0, 1], x_title="time", y_title="MQLs")
    assert texts(svg, "value") == ["3", "0", "1"]
    assert [t for t in texts(svg, "tick") if not re.fullmatch(r"[\d.]+", t)] == ["< 1 h", "1–4 h", "never"]


def test_labels_from_the_store_are_escaped() -> None:
    svg = bar_chart('<img src=x onerror="alert(1)">', ["<b>&"], [Series("s", [1.0])], axis_title="x")
    assert "<img" not in svg and "<b>" not in svg
    assert texts(svg, "category") == ["<b>&"]  # shown as text, not markup


def test_an_empty_bar_chart_says_there_is_no_data() -> None:
    svg = bar_chart("Open issues by category", [], [Series("open issues", [])], axis_title="open issues")
    assert "no data" in texts(svg, "axis-title")
    assert texts(svg, "value") == []
