"""Lifecycle stage entries: which funnel stage a person's record says they entered, and when.

Pure: records as a pull saw them go in, stage entries come out. The funnel stages are the reports'
(subscriber, lead, mql, sql, opportunity, customer). Sources of an instant, best first:

- HubSpot keeps one "Became a <stage> date" per lifecycle stage (`hs_lifecyclestage_<stage>_date`),
  set when the contact first enters it: the entry instant itself.
- Salesforce Lead conversion: `ConvertedDate` (a date; the Lead's own modification instant when it
  falls on that date, since a converted Lead cannot be edited any more).
- A Lead's creation (`CreatedDate`) is the instant it became a lead.
- Everything else (a Lead Status, a HubSpot score reaching a threshold, a Salesforce field condition,
  a lifecycle stage without its date) is known only from when it was first observed: the record's
  last modification instant at that observation. A later observation never moves it later, because
  the store keeps the earliest instant per person, stage and source.

The MQL is defined once (`MqlDefinition`): a HubSpot lifecycle stage, OR a HubSpot score threshold,
OR a condition on a Salesforce field. No other mapping may produce `mql`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from syncd.connector import RemoteRecord
from syncd.core.instants import day, instant, instant_on

STAGES: tuple[str, ...] = ("subscriber", "lead", "mql", "sql", "opportunity", "customer")
MQL = "mql"
HUBSPOT, SALESFORCE = "hubspot", "salesforce"

DEFAULT_HUBSPOT_STAGES: Mapping[str, str] = {
    "subscriber": "subscriber",
    "lead": "lead",
    "salesqualifiedlead": "sql",
    "opportunity": "opportunity",
    "customer": "customer",
}
DEFAULT_LEAD_STATUS_STAGES: Mapping[str, str] = {"Working - Contacted": "sql"}
HUBSPOT_DATE_PROPERTY = "hs_lifecyclestage_{stage}_date"


@dataclass(frozen=True)
class HubSpotScore:
    """MQL when the contact's score property first reaches `at_least`."""

    at_least: float
    property: str = "hubspotscore"


@dataclass(frozen=True)
class SalesforceCondition:
    """MQL when a Salesforce field first holds one of `values` (or a number >= `at_least`)."""

    object: str
    field: str
    values: tuple[str, ...] = ()
    at_least: float | None = None

    def holds(self, value: Any) -> bool:
        if value is None or value == "":
            return False
        if self.at_least is not None:
            number = _number(value)
            return number is not None and number >= self.at_least
        return _fold(value) in {_fold(v) for v in self.values}


@dataclass(frozen=True)
class MqlDefinition:
    """Exactly one of: a HubSpot lifecycle stage value, a HubSpot score, a Salesforce condition."""

    stage: str | None = "marketingqualifiedlead"
    score: HubSpotScore | None = None
    condition: SalesforceCondition | None = None

    def __post_init__(self) -> None:
        given = sum(x is not None for x in (self.stage, self.score, self.condition))
        if given != 1:
            raise ValueError("an MQL definition is exactly one of a stage, a score or a Salesforce condition")


@dataclass(frozen=True)
class LifecycleSettings:
    """Where each funnel stage comes from. A stage of None switches that source off."""

    mql: MqlDefinition = field(default_factory=MqlDefinition)
    # HubSpot lifecyclestage value -> funnel stage (the MQL stage is added from `mql`).
    hubspot_stages: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_HUBSPOT_STAGES))
    # A Salesforce Lead's creation.
    lead_created: str | None = "lead"
    # Lead Status value -> funnel stage, at the first observation of that status.
    lead_status_stages: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_LEAD_STATUS_STAGES))
    # Lead conversion (ConvertedDate), and conversion that created an Opportunity.
    converted: str | None = "sql"
    converted_with_opportunity: str | None = "opportunity"

    def hubspot_map(self) -> dict[str, str]:
        stages = dict(self.hubspot_stages)
        if self.mql.stage is not None:
            stages[self.mql.stage] = MQL
        return stages


@dataclass(frozen=True)
class Observation:
    """A person's record as one pull saw it: everything lifecycle needs from it."""

    system: str
    object: str
    record_id: str
    modified_at: datetime
    fields: Mapping[str, Any]
    created_at: datetime | None = None
    deleted: bool = False
    merged_into: str | None = None
    merged_from: tuple[str, ...] = ()


@dataclass(frozen=True)
class StageEntry:
    """The record `record_id` of `system` says its person entered `stage` at `entered_at`."""

    system: str
    record_id: str
    stage: str
    entered_at: datetime


@dataclass(frozen=True)
class Succession:
    """Record `retired` of `system` now lives on as `survivor` (a merge, a conversion)."""

    system: str
    retired: str
    survivor: str


def observe(system: str, records: Iterable[RemoteRecord]) -> tuple[Observation, ...]:
    """Observations of records exactly as a connector handed them over."""
    return tuple(
        Observation(
            system=system,
            object=r.object,
            record_id=r.id,
            modified_at=r.modified_at,
            fields=r.fields,
            created_at=r.created_at,
            deleted=r.deleted,
            merged_into=r.merged_into,
            merged_from=r.merged_from,
        )
        for r in records
    )


def lifecycle_fields(settings: LifecycleSettings, system: str, object: str) -> tuple[str, ...]:
    """The fields a pull of `object` in `system` must read for `stage_entries` (beyond its own)."""
    if system == HUBSPOT:
        names = ["lifecyclestage", "lastmodifieddate", "createdate"]
        names += [HUBSPOT_DATE_PROPERTY.format(stage=s) for s in settings.hubspot_map()]
        if settings.mql.score is not None:
            names.append(settings.mql.score.property)
        return tuple(dict.fromkeys(names))
    names = ["LastModifiedDate", "CreatedDate"]
    if object == "Lead":
        names += ["Status", "IsConverted", "ConvertedDate", "ConvertedOpportunityId"]
    condition = settings.mql.condition
    if condition is not None and condition.object == object:
        names.append(condition.field)
    return tuple(dict.fromkeys(names))


def stage_entries(observations: Iterable[Observation], settings: LifecycleSettings) -> list[StageEntry]:
    """Every stage entry the observed records state, the earliest per (system, record, stage)."""
    found: dict[tuple[str, str, str], StageEntry] = {}
    for obs in observations:
        if obs.deleted:
            continue  # a tombstone states nothing new; its survivor is observed on its own
        entries = _hubspot(obs, settings) if obs.system == HUBSPOT else _salesforce(obs, settings)
        for entry in entries:
            key = (entry.system, entry.record_id, entry.stage)
            if key not in found or entry.entered_at < found[key].entered_at:
                found[key] = entry
    return sorted(found.values(), key=lambda e: (e.entered_at, e.system, e.record_id, e.stage))


def successions(observations: Iterable[Observation]) -> list[Succession]:
    """Records that now live on as another: Salesforce merge losers and converted Leads
    (`merged_into`), HubSpot merge survivors (`merged_from`)."""
    found: dict[tuple[str, str], Succession] = {}
    for obs in observations:
        if obs.merged_into and obs.merged_into != obs.record_id:
            found[(obs.system, obs.record_id)] = Succession(obs.system, obs.record_id, obs.merged_into)
        for old in obs.merged_from:
            if old != obs.record_id:
                found[(obs.system, old)] = Succession(obs.system, old, obs.record_id)
    return list(found.values())


# --- per system ---------------------------------------------------------------------------


def _hubspot(obs: Observation, settings: LifecycleSettings) -> list[StageEntry]:
    entries: list[StageEntry] = []
    observed = instant(obs.fields.get("lastmodifieddate")) or obs.modified_at
    current = obs.fields.get("lifecyclestage")
    for value, stage in settings.hubspot_map().items():
        when = instant(obs.fields.get(HUBSPOT_DATE_PROPERTY.format(stage=value)))
        if when is None and current == value:
            when = observed  # the stage without its date: known since this observation
        if when is not None:
            entries.append(StageEntry(obs.system, obs.record_id, stage, when))
    score = settings.mql.score
    if score is not None:
        number = _number(obs.fields.get(score.property))
        if number is not None and number >= score.at_least:
            entries.append(StageEntry(obs.system, obs.record_id, MQL, observed))
    return entries


def _salesforce(obs: Observation, settings: LifecycleSettings) -> list[StageEntry]:
    entries: list[StageEntry] = []
    fields = obs.fields
    observed = instant(fields.get("LastModifiedDate")) or obs.modified_at

    def add(stage: str | None, when: datetime | None) -> None:
        if stage is not None and when is not None:
            entries.append(StageEntry(obs.system, obs.record_id, stage, when))

    if obs.object == "Lead":
        add(settings.lead_created, instant(fields.get("CreatedDate")) or obs.created_at)
        status = fields.get("Status")
        if isinstance(status, str):
            add(settings.lead_status_stages.get(status), observed)
        converted_on = day(fields.get("ConvertedDate"))
        if fields.get("IsConverted") and converted_on is not None:
            when = instant_on(converted_on, observed)
            add(settings.converted, when)
            if fields.get("ConvertedOpportunityId"):
                add(settings.converted_with_opportunity, when)
    condition = settings.mql.condition
    if (
        condition is not None
        and condition.object == obs.object
        and condition.holds(fields.get(condition.field))
    ):
        add(MQL, observed)
    return entries


# --- values -------------------------------------------------------------------------------


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _fold(value: Any) -> str:
    return str(value).strip().casefold()
