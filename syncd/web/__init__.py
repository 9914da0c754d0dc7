"""The read-only web dashboard: attribution/ROI, MQL value and funnel, SLA, pacing and sync health."""

from syncd.web.app import create_app
from syncd.web.query import DashboardSettings
from syncd.web.serve import build_server, check_bind, serve

__all__ = ["DashboardSettings", "build_server", "check_bind", "create_app", "serve"]
