"""HTML pages of the dashboard, rendered from the figures dicts (the same ones `/api/...` returns).

Numbers are shown as the figures hold them: money with two decimals and thousands separators,
shares as percentages with one decimal, durations in hours. Table cells carry `data-field` and rows
`data-key`, so a reader (or a test) can match a cell to its JSON value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from importlib import resources
from urllib.parse import urlencode

from syncd.web.charts import Series, bar_chart, column_chart, compact, line_chart, plain
from syncd.web.figures import RUNS_PER_FLOW, Figures
from syncd.web.markup import Markup, element, join, raw
from syncd.web.query import CONVERSIONS, GROUPS, MODELS, Query

PAGES: tuple[tuple[str, str], ...] = (
    ("attribution", "Attribution & ROI"),
    ("funnel", "MQL value & funnel"),
    ("sla", "Sales SLA"),
    ("pacing", "Lead pacing"),
    ("sync", "Sync health"),
)

MODEL_LABELS = {
    "first": "First touch",
    "last": "Last touch",
    "linear": "Linear",
    "u_shaped": "U-shaped",
    "w_shaped": "W-shaped",
    "full_path": "Full path",
    "time_decay": "Time decay",
    "j_shaped": "J-shaped",
    "inverse_j": "Inverse J",
    "markov": "Markov (data-driven)",
    "shapley": "Shapley (data-driven)",
}
CONVERSION_LABELS = {
    "revenue": "Revenue (won deals)",
    "deal_create": "Deals created",
    "contact_create": "Contacts created",
}

CSS = resources.files("syncd.web").joinpath("dashboard.css").read_text(encoding="utf-8")

UNCONTACTED_SHOWN = 100  # the page lists the longest waiting; the JSON lists every one


# --- number formats -------------------------------------------------------------------------


def fmt_money(value: str | None) -> str:
    return "—" if value is None else f"{Decimal(value):,.2f}"


def fmt_share(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def fmt_times(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}×"


def fmt_hours(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f} h"


def fmt_number(value: float | None) -> str:
    return "—" if value is None else plain(value)


def key_label(key: str | None, by: str) -> str:
    if key is None:
        return "(no campaign)" if by == "campaign" else "(no source touch)"
    return key or "(unknown channel)"


# --- building blocks ------------------------------------------------------------------------


def table(
    columns: Sequence[tuple[str, str, bool]], rows: Sequence[tuple[str, Sequence[str]]], table_id: str
) -> Markup:
    """columns: (field, heading, numeric); rows: (row key or None, cell texts in column order)."""
    head = element("tr", None, [element("th", {"class": "num" if num else None}, h) for _, h, num in columns])
    body = [
        element(
            "tr",
            {"data-key": key},
            [
                element("td", {"data-field": field, "class": "num" if num else None}, cell)
                for (field, _, num), cell in zip(columns, cells, strict=True)
            ],
        )
        for key, cells in rows
    ]
    return element("table", {"id": table_id}, element("thead", None, head), element("tbody", None, body))


def cards(items: Sequence[tuple[str, str, str]]) -> Markup:
    """(field, label, value text) cards for headline numbers."""
    return element(
        "div",
        {"class": "cards"},
        [
            element(
                "div",
                {"class": "card", "data-field": field},
                element("div", {"class": "label"}, label),
                element("div", {"class": "value"}, value),
            )
            for field, label, value in items
        ],
    )


def _select(name: str, label: str, current: str, options: Sequence[str], labels: Mapping[str, str]) -> Markup:
    return element(
        "label",
        None,
        label,
        element(
            "select",
            {"name": name, "id": f"pick-{name}"},
            [element("option", {"value": o, "selected": o == current}, labels.get(o, o)) for o in options],
        ),
    )


def filters(page: str, query: Query | None, fields: Sequence[str]) -> Markup:
    if query is None:
        return join([])
    if not fields:
        return element(
            "p", None, element("a", {"class": "json", "href": f"/api/{page}", "id": "json-link"}, "JSON")
        )
    params = query.as_params()
    parts: list[Markup] = [
        element(
            "label", None, "From", element("input", {"type": "date", "name": "from", "value": params["from"]})
        ),
        element("label", None, "To", element("input", {"type": "date", "name": "to", "value": params["to"]})),
    ]
    if "model" in fields:
        parts.append(_select("model", "Model", query.model, MODELS, MODEL_LABELS))
    if "conversion" in fields:
        parts.append(
            _select("conversion", "Conversion", query.conversion.value, CONVERSIONS, CONVERSION_LABELS)
        )
    if "by" in fields:
        parts.append(
            _select("by", "Group by", query.by.value, GROUPS, {"channel": "Channel", "campaign": "Campaign"})
        )
    if "hours" in fields:
        parts.append(
            element(
                "label",
                None,
                "SLA (hours)",
                element(
                    "input",
                    {"type": "number", "name": "hours", "min": 0, "step": "any", "value": params["hours"]},
                ),
            )
        )
    if "goal" in fields:
        parts.append(
            element(
                "label",
                None,
                "Goal",
                element(
                    "input", {"type": "number", "name": "goal", "min": 0, "value": params.get("goal", "")}
                ),
            )
        )
    parts.append(element("button", {"type": "submit", "id": "apply"}, "Apply"))
    wanted = {k: v for k, v in params.items() if k in ("from", "to", *fields)}
    parts.append(
        element("a", {"class": "json", "href": f"/api/{page}?{urlencode(wanted)}", "id": "json-link"}, "JSON")
    )
    return element("form", {"class": "filters", "method": "get", "action": f"/{page}"}, parts)


def layout(page: str, title: str, query: Query | None, fields: Sequence[str], content: Markup) -> str:
    nav = element(
        "nav",
        None,
        [
            element("a", {"href": f"/{name}", "class": "current" if name == page else None}, label)
            for name, label in PAGES
        ],
    )
    document = element(
        "html",
        {"lang": "en"},
        element(
            "head",
            None,
            element("meta", {"charset": "utf-8"}),
            element("meta", {"name": "viewport", "content": "width=device-width, initial-scale=1"}),
            element("title", None, f"{title} — syncd"),
            element("style", None, raw(CSS)),
        ),
        element(
            "body",
            {"data-page": page},
            element("header", None, element("span", {"class": "brand"}, "syncd"), nav),
            element("main", None, element("h1", None, title), filters(page, query, fields), content),
        ),
    )
    return "<!doctype html>\n" + document


def error_box(message: str, hint: str | None) -> Markup:
    return element(
        "div", {"class": "error", "id": "error"}, message, element("br", None) if hint else None, hint
    )


# --- pages ----------------------------------------------------------------------------------


def _f(value: str | None) -> float:
    return float(value) if value is not None else 0.0


def attribution_page(fig: Figures) -> Markup:
    by = fig["by"]
    att = fig["attribution"]
    revenue = fig["conversion"] == "revenue"
    what = CONVERSION_LABELS[fig["conversion"]]
    model = MODEL_LABELS[fig["model"]]
    rows = att["rows"]
    labels = [key_label(r["key"], by) for r in rows]
    credit_chart = bar_chart(
        f"{what} credited by {by} — {model}",
        labels,
        [Series("credit", [_f(r["credit"]) for r in rows])],
        axis_title="attributed revenue" if revenue else f"attributed {what.lower()}",
        value_format=(lambda v: f"{v:,.2f}"),
    )
    roi_rows = fig["roi"]["rows"]
    roi_labels = [key_label(r["key"], by) for r in roi_rows]
    money_chart = bar_chart(
        f"Attributed revenue vs cost by {by} — {model}",
        roi_labels,
        [
            Series("attributed revenue", [_f(r["attributed_revenue"]) for r in roi_rows]),
            Series("cost", [_f(r["cost"]) for r in roi_rows]),
        ],
        axis_title="amount",
        value_format=(lambda v: f"{v:,.2f}"),
    )
    with_roi = [r for r in roi_rows if r["roi"] is not None]
    roi_chart = bar_chart(
        f"ROI by {by} — {model}",
        [key_label(r["key"], by) for r in with_roi],
        [Series("ROI", [r["roi"] * 100 for r in with_roi])],
        axis_title="ROI = (attributed revenue − cost) / cost, %",
        value_format=lambda v: f"{v:.1f}%",
        tick_format=lambda v: f"{v:g}%",
    )
    headline = cards(
        [
            ("conversions", "Conversions", str(att["conversions"])),
            ("total_value", "Total value", fmt_money(att["total_value"])),
            ("attributed_value", "Attributed", fmt_money(att["attributed_value"])),
            ("unattributed_value", "Unattributed (no touch)", fmt_money(att["unattributed_value"])),
        ]
    )
    credit_table = table(
        [("key", by.capitalize(), False), ("credit", "Credit", True), ("share", "Share", True)],
        [(r["key"], [key_label(r["key"], by), fmt_money(r["credit"]), fmt_share(r["share"])]) for r in rows],
        "credits",
    )
    roi_table = table(
        [
            ("key", by.capitalize(), False),
            ("attributed_revenue", "Attributed revenue", True),
            ("cost", "Cost", True),
            ("roi", "ROI", True),
            ("roas", "ROAS", True),
            ("leads", "Leads", True),
            ("mqls", "MQLs", True),
            ("customers", "Customers", True),
            ("cost_per_lead", "Cost / lead", True),
            ("cost_per_mql", "Cost / MQL", True),
            ("cost_per_customer", "Cost / customer", True),
        ],
        [
            (
                r["key"],
                [
                    key_label(r["key"], by),
                    fmt_money(r["attributed_revenue"]),
                    fmt_money(r["cost"]),
                    fmt_share(r["roi"]),
                    fmt_times(r["roas"]),
                    str(r["leads"]),
                    str(r["mqls"]),
                    str(r["customers"]),
                    fmt_money(r["cost_per_lead"]),
                    fmt_money(r["cost_per_mql"]),
                    fmt_money(r["cost_per_customer"]),
                ],
            )
            for r in roi_rows
        ],
        "roi",
    )
    return join(
        [
            headline,
            element("div", {"class": "charts"}, credit_chart),
            credit_table,
            _pipeline_section(fig["pipeline"], by),
            element("h2", None, "ROI on won revenue"),
            element(
                "p",
                {"class": "note"},
                f"Revenue of deals won in the period credited under {model}; cost prorated by days. "
                f"Unattributed revenue: {fmt_money(fig['roi']['unattributed_revenue'])}.",
            ),
            element("div", {"class": "charts"}, money_chart, roi_chart),
            roi_table,
        ]
    )


def _pipeline_section(pipe: Figures, by: str) -> Markup:
    rows = pipe["rows"]
    chart = bar_chart(
        f"Sourced vs influenced pipeline by {by} (deals created in the period)",
        [key_label(r["key"], by) for r in rows],
        [
            Series("sourced", [_f(r["sourced_amount"]) for r in rows]),
            Series("influenced", [_f(r["influenced_amount"]) for r in rows]),
        ],
        axis_title="deal amount",
        value_format=lambda v: f"{v:,.2f}",
    )
    totals = cards(
        [
            (
                "sourced_pipeline",
                "Sourced pipeline",
                f"{fmt_money(pipe['sourced']['amount'])} ({pipe['sourced']['deals']} deals)",
            ),
            (
                "influenced_pipeline",
                "Influenced pipeline",
                f"{fmt_money(pipe['influenced']['amount'])} ({pipe['influenced']['deals']} deals)",
            ),
        ]
    )
    breakdown = table(
        [
            ("key", by.capitalize(), False),
            ("sourced_deals", "Sourced deals", True),
            ("sourced_amount", "Sourced amount", True),
            ("influenced_deals", "Influenced deals", True),
            ("influenced_amount", "Influenced amount", True),
        ],
        [
            (
                r["key"],
                [
                    key_label(r["key"], by),
                    str(r["sourced_deals"]),
                    fmt_money(r["sourced_amount"]),
                    str(r["influenced_deals"]),
                    fmt_money(r["influenced_amount"]),
                ],
            )
            for r in rows
        ],
        "pipeline",
    )
    return join(
        [
            element("h2", None, "Sourced and influenced pipeline"),
            element(
                "p",
                {"class": "note"},
                "Sourced: the deal's first touch is marketing. Influenced: any marketing touch before the "
                "deal was created. Every sourced deal is also influenced, so the two are never added; a "
                f"deal influenced by several {by}s counts in each row.",
            ),
            totals,
            element("div", {"class": "charts"}, chart),
            breakdown,
        ]
    )


def funnel_page(fig: Figures) -> Markup:
    by = fig["by"]
    value_rows = fig["mql_value"]["rows"]
    value_chart = bar_chart(
        f"Value per MQL by source {by}",
        [key_label(r["source"], by) for r in value_rows],
        [Series("value per MQL", [_f(r["value_per_mql"]) for r in value_rows])],
        axis_title="won revenue / MQLs",
        value_format=lambda v: f"{v:,.2f}",
    )
    value_table = table(
        [
            ("source", f"Source {by}", False),
            ("mqls", "MQLs", True),
            ("customers", "Customers", True),
            ("close_rate", "Close rate", True),
            ("won_revenue", "Won revenue", True),
            ("revenue_per_customer", "Revenue / customer", True),
            ("value_per_mql", "Value / MQL", True),
        ],
        [
            (
                r["source"],
                [
                    key_label(r["source"], by),
                    str(r["mqls"]),
                    str(r["customers"]),
                    fmt_share(r["close_rate"]),
                    fmt_money(r["won_revenue"]),
                    fmt_money(r["revenue_per_customer"]),
                    fmt_money(r["value_per_mql"]),
                ],
            )
            for r in value_rows
        ],
        "mql-value",
    )
    stages = fig["funnel"]["stages"]
    stage_chart = column_chart(
        "People entering each stage in the period",
        [s["stage"] for s in stages],
        [s["entered"] for s in stages],
        x_title="lifecycle stage",
        y_title="people",
    )
    steps = fig["funnel"]["steps"]
    rate_chart = bar_chart(
        "Stage conversion (cohort)",
        [f"{s['from']} → {s['to']}" for s in steps],
        [Series("conversion", [(s["rate"] or 0) * 100 for s in steps])],
        axis_title="% of the stage's cohort that reached the next stage",
        value_format=lambda v: f"{v:.1f}%",
        tick_format=lambda v: f"{v:g}%",
    )
    velocity_chart = bar_chart(
        "Velocity: median time between stages",
        [f"{s['from']} → {s['to']}" for s in steps],
        [
            Series(
                "median days",
                [s["median_hours"] / 24 if s["median_hours"] is not None else None for s in steps],
            )
        ],
        axis_title="median days",
        value_format=lambda v: f"{v:.1f} d",
    )
    steps_table = table(
        [
            ("step", "Step", False),
            ("entered", "Entered", True),
            ("converted", "Converted", True),
            ("rate", "Rate", True),
            ("median_hours", "Median time", True),
        ],
        [
            (
                f"{s['from']}-{s['to']}",
                [
                    f"{s['from']} → {s['to']}",
                    str(s["entered"]),
                    str(s["converted"]),
                    fmt_share(s["rate"]),
                    fmt_hours(s["median_hours"]),
                ],
            )
            for s in steps
        ],
        "funnel-steps",
    )
    v = fig["sales_velocity"]
    velocity = cards(
        [
            ("opportunities", "Opportunities created", str(v["opportunities"])),
            ("win_rate", "Win rate", fmt_share(v["win_rate"])),
            ("average_deal_size", "Average won deal", fmt_money(v["average_deal_size"])),
            ("cycle_days", "Sales cycle (days)", fmt_number(v["cycle_days"])),
            ("velocity_per_day", "Sales velocity / day", fmt_money(v["velocity_per_day"])),
        ]
    )
    return join(
        [
            element("h2", None, "MQL value"),
            element("div", {"class": "charts"}, value_chart),
            value_table,
            element("h2", None, "Funnel"),
            element("div", {"class": "charts"}, stage_chart, rate_chart, velocity_chart),
            steps_table,
            element("h2", None, "Sales velocity"),
            velocity,
        ]
    )


def sla_page(fig: Figures) -> Markup:
    o = fig["overall"]
    within = f"{fig['within_hours']:g} h"
    headline = cards(
        [
            ("mqls", "MQLs", str(o["mqls"])),
            ("within_share", f"Reached within {within}", fmt_share(o["within_share"])),
            ("median_hours", "Median speed-to-lead", fmt_hours(o["median_hours"])),
            ("p90_hours", "P90 speed-to-lead", fmt_hours(o["p90_hours"])),
            ("uncontacted", "Not contacted", str(o["uncontacted"])),
            (
                "with_min_attempts_share",
                f"≥ {fig['min_attempts']} attempts",
                fmt_share(o["with_min_attempts_share"]),
            ),
        ]
    )
    if o["within_business_share"] is not None:  # business hours are configured
        headline = join(
            [
                headline,
                cards(
                    [
                        (
                            "within_business_share",
                            f"Within {within} of business hours",
                            fmt_share(o["within_business_share"]),
                        ),
                        (
                            "median_business_hours",
                            "Median, business hours",
                            fmt_hours(o["median_business_hours"]),
                        ),
                        ("p90_business_hours", "P90, business hours", fmt_hours(o["p90_business_hours"])),
                    ]
                ),
            ]
        )
    hist = fig["speed_histogram"]
    histogram = column_chart(
        "Speed-to-lead distribution",
        [b["label"] for b in hist],
        [b["count"] for b in hist],
        x_title="time from MQL to first rep call, email or meeting",
        y_title="MQLs",
    )
    over = fig["within_over_time"]
    trend = line_chart(
        f"% of MQLs reached within {within}",
        [p["start"][5:] for p in over],
        [Series(f"within {within}", [p["share"] * 100 if p["share"] is not None else None for p in over])],
        x_title="MQL week (from Monday)" if fig["within_over_time_bucket"] == "week" else "MQL date",
        y_title="% within SLA",
        value_format=lambda v: f"{v:.1f}%",
        tick_format=lambda v: f"{v:g}%",
        y_max=100,
    )
    attempts = fig["attempts"]
    attempts_chart = column_chart(
        f"Follow-up attempts within {fig['followup_days']} days of MQL",
        [a["attempts"] for a in attempts],
        [a["mqls"] for a in attempts],
        x_title="rep attempts",
        y_title="MQLs",
    )
    owners = table(
        [
            ("owner", "Owner", False),
            ("mqls", "MQLs", True),
            ("contacted", "Contacted", True),
            ("within_share", f"Within {within}", True),
            ("median_hours", "Median speed", True),
        ],
        [
            (
                r["owner"] or "",
                [
                    r["owner"] or "(nobody yet)",
                    str(r["mqls"]),
                    str(r["contacted"]),
                    fmt_share(r["within_share"]),
                    fmt_hours(r["median_hours"]),
                ],
            )
            for r in fig["by_owner"]
        ],
        "owners",
    )
    if fig["by_team"]:
        teams = table(
            [
                ("team", "Team", False),
                ("mqls", "MQLs", True),
                ("contacted", "Contacted", True),
                ("within_share", f"Within {within}", True),
                ("median_hours", "Median speed", True),
            ],
            [
                (
                    r["team"] or "",
                    [
                        r["team"] or "(no team)",
                        str(r["mqls"]),
                        str(r["contacted"]),
                        fmt_share(r["within_share"]),
                        fmt_hours(r["median_hours"]),
                    ],
                )
                for r in fig["by_team"]
            ],
            "teams",
        )
    else:
        teams = element(
            "p",
            {"class": "note", "id": "no-teams"},
            "No sales teams configured: add a teams: section (team: [owner emails]) to the config.",
        )
    waiting = table(
        [("email", "MQL", False), ("mql_at", "MQL since (UTC)", False)],
        [
            (r["person_id"], [r["email"] or f"person {r['person_id']}", r["mql_at"][:16].replace("T", " ")])
            for r in fig["uncontacted"][:UNCONTACTED_SHOWN]
        ],
        "uncontacted",
    )
    more = len(fig["uncontacted"]) - UNCONTACTED_SHOWN
    return join(
        [
            headline,
            element("div", {"class": "charts"}, histogram, trend, attempts_chart),
            element("h2", None, "By team"),
            teams,
            element("h2", None, "By owner"),
            owners,
            element("h2", None, f"Uncontacted MQLs ({len(fig['uncontacted'])}), longest waiting first"),
            waiting,
            element("p", {"class": "note"}, f"and {more} more: see the JSON for all") if more > 0 else None,
        ]
    )


def pacing_page(fig: Figures) -> Markup:
    series = fig["series"]
    lines = [Series("actual", [p["actual"] for p in series])]
    if fig["goal"] is not None:
        lines.append(Series("target", [p["target"] for p in series], dashed=True))
    chart = line_chart(
        f"{fig['stage'].upper()}s: actual vs target, {fig['period']['from']} to {fig['period']['to']}",
        [p["date"][5:] for p in series],
        lines,
        x_title="day",
        y_title=f"cumulative {fig['stage'].upper()}s",
        value_format=lambda v: f"{v:,.1f}" if not float(v).is_integer() else f"{v:,.0f}",
    )
    if fig["goal"] is None:
        summary = join(
            [
                cards([("actual", f"{fig['stage'].upper()}s so far", fmt_number(fig["actual"]))]),
                element(
                    "p",
                    {"class": "note", "id": "no-goal"},
                    "No goal set: add ?goal=N to the address or set the dashboard's mql_goal.",
                ),
            ]
        )
    else:
        summary = cards(
            [
                ("actual", f"{fig['stage'].upper()}s so far", fmt_number(fig["actual"])),
                ("goal", "Goal", fmt_number(fig["goal"])),
                ("target_to_date", "Target to date", fmt_number(fig["target_to_date"])),
                ("pace", "Pace", fmt_share(fig["pace"])),
                ("projection", "Projected", fmt_number(fig["projection"])),
                (
                    "required_per_remaining_day",
                    "Needed per remaining day",
                    fmt_number(fig["required_per_remaining_day"]),
                ),
            ]
        )
    return join([summary, element("div", {"class": "charts"}, chart)])


def sync_page(fig: Figures) -> Markup:
    issues = fig["issues_by_category"]
    issue_chart = bar_chart(
        f"Open quarantined records by category ({fig['open_issues']})",
        [i["category"] for i in issues],
        [Series("open issues", [i["count"] for i in issues])],
        axis_title="open issues",
    )
    api = fig["api"]
    api_chart = bar_chart(
        "API calls per system, last 24 hours vs daily budget",
        [a["system"] for a in api],
        [
            Series("last 24 h", [a["last_24h_calls"] for a in api]),
            Series("daily budget", [a["daily_budget"] for a in api]),
        ],
        axis_title="API calls",
        tick_format=compact,
    )
    api_table = table(
        [
            ("system", "System", False),
            ("latest_run_calls", "Latest run", True),
            ("last_24h_calls", "Last 24 h", True),
            ("daily_budget", "Daily budget", True),
            ("budget_share", "Budget used", True),
        ],
        [
            (
                a["system"],
                [
                    a["system"],
                    fmt_number(a["latest_run_calls"]),
                    fmt_number(a["last_24h_calls"]),
                    fmt_number(a["daily_budget"]),
                    fmt_share(a["budget_share"]),
                ],
            )
            for a in api
        ],
        "api",
    )
    run_rows = []
    for flow in fig["flows"]:
        for r in flow["runs"]:
            counts = ", ".join(f"{k} {v}" for k, v in sorted(r["counts"].items()))
            calls = ", ".join(f"{k} {v}" for k, v in sorted(r["api_calls"].items()))
            run_rows.append(
                (
                    str(r["id"]),
                    [
                        flow["flow"],
                        str(r["id"]),
                        r["trigger"],
                        element("span", {"class": f"status-{r['status']}"}, r["status"]),
                        r["started_at"][:19].replace("T", " "),
                        "—" if r["duration_seconds"] is None else f"{r['duration_seconds']:.1f} s",
                        counts or "—",
                        calls or "—",
                        r["error"] or "",
                    ],
                )
            )
    runs = table(
        [
            ("flow", "Flow", False),
            ("id", "Run", True),
            ("trigger", "Trigger", False),
            ("status", "Status", False),
            ("started_at", "Started (UTC)", False),
            ("duration", "Duration", True),
            ("counts", "Counts", False),
            ("api_calls", "API calls", False),
            ("error", "Error", False),
        ],
        run_rows,
        "runs",
    )
    return join(
        [
            cards(
                [
                    ("open_issues", "Open issues", str(fig["open_issues"])),
                    ("flows", "Flows", str(len(fig["flows"]))),
                ]
            ),
            element("div", {"class": "charts"}, issue_chart, api_chart),
            api_table,
            element("h2", None, f"Last runs per flow (up to {RUNS_PER_FLOW})"),
            runs,
        ]
    )
