"""Constants shared by the dashboard tests: the reporting period and the dashboard settings."""

from __future__ import annotations

from syncd.web import DashboardSettings

MARCH = {"from": "2026-03-01", "to": "2026-03-31"}
SETTINGS = DashboardSettings(mql_goal=10, api_daily_budgets={"hubspot": 250_000, "salesforce": 5_000})
