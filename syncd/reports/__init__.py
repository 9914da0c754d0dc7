"""Closed-loop reports: attribution, ROI, MQL value, funnel, SLA and pacing, as pure functions.

Everything is passed in as plain frozen dataclasses (see `syncd.reports.types`); nothing here reads a
clock, a database or the network. `syncd.reports.csvdata` is the one I/O module (a `--data DIR` folder).
See README.md in this package for every definition and parameter.
"""

from syncd.reports.business_hours import BusinessClock, BusinessHours
from syncd.reports.costs import CostProration, costs_by_group
from syncd.reports.data_driven import DataDrivenReport
from syncd.reports.errors import CsvDataError, ModelNotApplicableError, ReportError, TooManyChannelsError
from syncd.reports.funnel import FunnelMethod, FunnelReport, FunnelStep, funnel
from syncd.reports.markov import markov, markov_from_journeys
from syncd.reports.mql_value import MqlValueReport, MqlValueRow, mql_value
from syncd.reports.pacing import Pacing, RequiredMqls, actual_to_date, pacing, required_mqls
from syncd.reports.paths import Conversion, Journey, KeyPoints, TouchIndex, build_conversions, build_journeys
from syncd.reports.periods import period_to_date, quarter_of, whole_quarter
from syncd.reports.pipeline import InfluencedUntil, PipelineReport, PipelineTotals, SourcedRule, pipeline
from syncd.reports.roi import RoiReport, RoiRow, attributed_revenue, roi
from syncd.reports.rule_models import (
    AttributionReport,
    Credit,
    RuleModel,
    attribute,
    attribute_conversions,
    credit_conversion,
    share_weights,
)
from syncd.reports.sales_velocity import SalesVelocity, sales_velocity
from syncd.reports.shapley import shapley, shapley_from_journeys
from syncd.reports.sla import MqlContact, SlaReport, SlaStats, sla
from syncd.reports.teams import OwnerTeams, TeamMember, team_members
from syncd.reports.types import (
    Activity,
    ConversionType,
    Cost,
    Deal,
    DealContact,
    GroupBy,
    LifecycleEvent,
    Period,
    Person,
    Touch,
)

__all__ = [
    "Activity",
    "AttributionReport",
    "BusinessClock",
    "BusinessHours",
    "Conversion",
    "ConversionType",
    "Cost",
    "CostProration",
    "Credit",
    "CsvDataError",
    "DataDrivenReport",
    "Deal",
    "DealContact",
    "FunnelMethod",
    "FunnelReport",
    "FunnelStep",
    "GroupBy",
    "InfluencedUntil",
    "Journey",
    "KeyPoints",
    "LifecycleEvent",
    "ModelNotApplicableError",
    "MqlContact",
    "MqlValueReport",
    "MqlValueRow",
    "OwnerTeams",
    "Pacing",
    "Period",
    "Person",
    "PipelineReport",
    "PipelineTotals",
    "ReportError",
    "RequiredMqls",
    "RoiReport",
    "RoiRow",
    "RuleModel",
    "SalesVelocity",
    "SlaReport",
    "SlaStats",
    "SourcedRule",
    "TeamMember",
    "TooManyChannelsError",
    "Touch",
    "TouchIndex",
    "actual_to_date",
    "attribute",
    "attribute_conversions",
    "attributed_revenue",
    "build_conversions",
    "build_journeys",
    "costs_by_group",
    "credit_conversion",
    "funnel",
    "markov",
    "markov_from_journeys",
    "mql_value",
    "pacing",
    "period_to_date",
    "pipeline",
    "quarter_of",
    "required_mqls",
    "roi",
    "sales_velocity",
    "shapley",
    "shapley_from_journeys",
    "share_weights",
    "sla",
    "team_members",
    "whole_quarter",
]
