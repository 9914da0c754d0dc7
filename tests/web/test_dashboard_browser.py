"""The dashboard in a real headless Chromium: every page shows labelled charts, the numbers on the
page are the JSON API's, and the model picker changes them."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from connectors.sandbox_core.server import SandboxServer
from tests.web.support import MARCH

# page → charts it must show (by words of their titles)
CHARTS = {
    "attribution": ["credited by channel", "Attributed revenue vs cost", "ROI by channel"],
    "funnel": ["Value per MQL", "People entering each stage", "Stage conversion", "Velocity"],
    "sla": ["Speed-to-lead distribution", "reached within 24 h", "Follow-up attempts"],
    "pacing": ["actual vs target"],
    "sync": ["Open quarantined records", "API calls per system"],
}

READ_TABLE = """
return Array.from(document.querySelectorAll(arguments[0] + ' tbody tr')).map(tr => {
  const row = {row_key: tr.dataset.key ?? null};
  tr.querySelectorAll('td').forEach(td => { row[td.dataset.field] = td.textContent; });
  return row;
});
"""
READ_CARDS = """
const cards = {};
document.querySelectorAll('.card').forEach(c => {
  cards[c.dataset.field] = c.querySelector('.value').textContent;
});
return cards;
"""
READ_CHARTS = """
return Array.from(document.querySelectorAll('svg.chart')).map(svg => ({
  title: svg.querySelector('title').textContent,
  texts: Array.from(svg.querySelectorAll('text')).map(t => [t.getAttribute('class'), t.textContent]),
  marks: svg.querySelectorAll('rect[fill]:not([fill="#ffffff"]), polyline, circle').length,
  width: svg.getBoundingClientRect().width,
}));
"""


def open_page(browser: Any, server: SandboxServer, page: str, **params: str) -> None:
    browser.get(f"{server.base_url}/{page}?{urlencode({**MARCH, **params})}")
    assert browser.execute_script("return document.body.dataset.page") == page


def submitted(browser: Any, expected_in_url: str) -> None:
    """Wait until the form's GET has loaded the new page completely."""
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 30).until(
        lambda b: (
            expected_in_url in b.current_url and b.execute_script("return document.readyState") == "complete"
        )
    )


def screenshot(browser: Any, directory: Path, name: str) -> Path:
    """A full-page PNG: the window is stretched to the page height for the shot."""
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(1400, max(height, 600) + 40)
    path = directory / f"{name}.png"
    assert browser.save_screenshot(str(path)), f"could not save {path}"
    browser.set_window_size(1400, 1000)
    return path


def money(text: str) -> Decimal | None:
    return None if text == "—" else Decimal(text.replace(",", ""))


def percent(text: str) -> float | None:
    return None if text == "—" else float(text.rstrip("%"))


def as_percent(share: float | None) -> float | None:
    return None if share is None else round(share * 100, 1)


def as_money(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value).quantize(Decimal("0.01"))


@pytest.mark.parametrize("page", list(CHARTS))
def test_every_page_renders_its_labelled_charts(
    browser: Any, dashboard: SandboxServer, artifacts: Path, page: str
) -> None:
    open_page(browser, dashboard, page)
    charts = browser.execute_script(READ_CHARTS)
    titles = [c["title"] for c in charts]
    for words in CHARTS[page]:
        assert any(words in title for title in titles), f"{page}: no chart titled like {words!r} in {titles}"
    for chart in charts:
        classes = {cls for cls, _ in chart["texts"]}
        assert {"chart-title", "tick", "axis-title", "value"} <= classes, (chart["title"], classes)
        assert chart["marks"] > 0, f"{chart['title']} draws nothing"
        assert chart["width"] >= 600, f"{chart['title']} is squeezed to {chart['width']} px"
    assert not browser.find_elements("css selector", "#error")
    assert screenshot(browser, artifacts, page).stat().st_size > 10_000


def test_attribution_tables_and_charts_show_the_json_numbers(
    browser: Any, dashboard: SandboxServer, api: httpx.Client
) -> None:
    open_page(browser, dashboard, "attribution", model="linear")
    data = api.get("/api/attribution", params={**MARCH, "model": "linear"}).json()
    credits = browser.execute_script(READ_TABLE, "#credits")
    assert [(r["row_key"], money(r["credit"]), percent(r["share"])) for r in credits] == [
        (row["key"], as_money(row["credit"]), as_percent(row["share"])) for row in data["attribution"]["rows"]
    ]
    assert {r["row_key"]: money(r["credit"]) for r in credits}["paid_search"] == Decimal("6500.00")
    roi = browser.execute_script(READ_TABLE, "#roi")
    assert [
        (r["row_key"], money(r["attributed_revenue"]), money(r["cost"]), percent(r["roi"]), int(r["mqls"]))
        for r in roi
    ] == [
        (
            row["key"],
            as_money(row["attributed_revenue"]),
            as_money(row["cost"]),
            as_percent(row["roi"]),
            row["mqls"],
        )
        for row in data["roi"]["rows"]
    ]
    cards = browser.execute_script(READ_CARDS)
    assert money(cards["total_value"]) == as_money(data["attribution"]["total_value"])
    chart_values = [text for cls, text in browser.execute_script(READ_CHARTS)[0]["texts"] if cls == "value"]
    assert chart_values == [f"{Decimal(r['credit']):,.2f}" for r in data["attribution"]["rows"]]


def test_model_picker_changes_the_numbers(browser: Any, dashboard: SandboxServer, api: httpx.Client) -> None:
    from selenium.webdriver.support.ui import Select

    open_page(browser, dashboard, "attribution", model="linear")
    linear = {r["row_key"]: money(r["credit"]) for r in browser.execute_script(READ_TABLE, "#credits")}
    Select(browser.find_element("id", "pick-model")).select_by_value("first")
    browser.find_element("id", "apply").click()
    submitted(browser, "model=first")
    first = {r["row_key"]: money(r["credit"]) for r in browser.execute_script(READ_TABLE, "#credits")}
    assert first != linear
    # First touch: D1's first touch is ann's February ad click, D5's is dan's ad click.
    assert {k: v for k, v in first.items() if v} == {"paid_search": Decimal("12500.00")}
    data = api.get("/api/attribution", params={**MARCH, "model": "first"}).json()
    assert {r["key"]: as_money(r["credit"]) for r in data["attribution"]["rows"]} == first
    Select(browser.find_element("id", "pick-model")).select_by_value("markov")
    browser.find_element("id", "apply").click()
    submitted(browser, "model=markov")
    markov = {r["row_key"]: money(r["credit"]) for r in browser.execute_script(READ_TABLE, "#credits")}
    assert sum(v for v in markov.values() if v is not None) == Decimal("12500.00")
    assert markov != linear and markov != first


def test_a_model_the_conversion_cannot_use_shows_the_reason(browser: Any, dashboard: SandboxServer) -> None:
    open_page(browser, dashboard, "attribution", model="w_shaped", conversion="contact_create")
    error = browser.find_element("id", "error").text
    assert "w_shaped" in error and "contact_create" in error
    assert "u_shaped" in error  # the hint: what to pick instead


def test_sla_page_shows_the_json_numbers_and_the_uncontacted(
    browser: Any, dashboard: SandboxServer, api: httpx.Client
) -> None:
    open_page(browser, dashboard, "sla")
    data = api.get("/api/sla", params=MARCH).json()
    cards = browser.execute_script(READ_CARDS)
    assert percent(cards["within_share"]) == as_percent(data["overall"]["within_share"]) == 50.0
    assert cards["median_hours"] == f"{data['overall']['median_hours']:.2f} h" == "2.00 h"
    assert cards["p90_hours"] == "51.00 h"
    uncontacted = browser.execute_script(READ_TABLE, "#uncontacted")
    assert (
        [r["email"] for r in uncontacted] == [u["email"] for u in data["uncontacted"]] == ["cat@example.com"]
    )
    histogram = browser.execute_script(READ_CHARTS)[0]
    values = [int(text) for cls, text in histogram["texts"] if cls == "value"]
    assert values == [b["count"] for b in data["speed_histogram"]]


def test_funnel_and_pacing_pages_show_the_json_numbers(
    browser: Any, dashboard: SandboxServer, api: httpx.Client
) -> None:
    open_page(browser, dashboard, "funnel")
    data = api.get("/api/funnel", params=MARCH).json()
    rows = browser.execute_script(READ_TABLE, "#mql-value")
    assert [(r["row_key"], int(r["mqls"]), money(r["value_per_mql"])) for r in rows] == [
        (row["source"], row["mqls"], as_money(row["value_per_mql"])) for row in data["mql_value"]["rows"]
    ]
    steps = browser.execute_script(READ_TABLE, "#funnel-steps")
    assert [percent(s["rate"]) for s in steps] == [as_percent(s["rate"]) for s in data["funnel"]["steps"]]

    open_page(browser, dashboard, "pacing", goal="20")
    pacing = api.get("/api/pacing", params={**MARCH, "goal": "20"}).json()
    cards = browser.execute_script(READ_CARDS)
    assert int(cards["actual"].replace(",", "")) == pacing["actual"] == 4  # ann, bob, cat and eve by 25 March
    assert int(cards["goal"].replace(",", "")) == 20
    assert percent(cards["pace"]) == as_percent(pacing["pace"])
    chart = browser.execute_script(READ_CHARTS)[0]
    assert [text for cls, text in chart["texts"] if cls == "value"] == [
        "4",
        "20",
    ]  # line ends: actual, target


def test_sync_health_page_shows_the_json_numbers(
    browser: Any, dashboard: SandboxServer, api: httpx.Client
) -> None:
    open_page(browser, dashboard, "sync")
    data = api.get("/api/sync").json()
    cards = browser.execute_script(READ_CARDS)
    assert int(cards["open_issues"]) == data["open_issues"] == 4
    issues = browser.execute_script(READ_CHARTS)[0]
    assert [t for cls, t in issues["texts"] if cls == "category"] == ["validation", "duplicate"]
    assert [t for cls, t in issues["texts"] if cls == "value"] == ["3", "1"]
    api_rows = browser.execute_script(READ_TABLE, "#api")
    assert [(r["row_key"], int(r["last_24h_calls"].replace(",", ""))) for r in api_rows] == [
        (a["system"], a["last_24h_calls"]) for a in data["api"]
    ]
    runs = browser.execute_script(READ_TABLE, "#runs")
    assert [(r["flow"], r["status"]) for r in runs] == [
        (flow["flow"], run["status"]) for flow in data["flows"] for run in flow["runs"]
    ]
