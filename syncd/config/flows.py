"""The `flows:` section: which flows run, how often, and each flow's own settings.

One class per flow, so a key that belongs to another flow is reported as unknown instead of being
silently accepted. Flows run in the order of FLOW_NAMES: the contacts flow links the people every
other flow attaches its records to.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator

from syncd.config.base import Section, existing_file


class FlowConfig(Section):
    """What every flow has: whether it runs and how often."""

    enabled: bool = True
    interval_seconds: int = Field(default=60, ge=10)


class MappedFlowConfig(FlowConfig):
    """A record flow: fields merged per a YAML mapping."""

    # The field mapping; None means the mapping shipped with syncd for this flow.
    mapping: Path | None = None

    _mapping_file_exists = field_validator("mapping")(existing_file)


class ContactsFlowConfig(MappedFlowConfig):
    """HubSpot contacts <-> Salesforce Leads and Contacts."""


class DealsFlowConfig(MappedFlowConfig):
    """HubSpot deals <-> Salesforce Opportunities."""


class CampaignsFlowConfig(FlowConfig):
    """Salesforce Campaigns and members, HubSpot campaigns and the cost file into the store."""


class EngagementsFlowConfig(FlowConfig):
    """HubSpot marketing touches into the store and onto Salesforce as Tasks."""


class ActivitiesFlowConfig(FlowConfig):
    """Salesforce sales activities into the store and onto HubSpot as engagements."""


class AlertsFlowConfig(FlowConfig):
    """Alert rules evaluated over the store: Salesforce Tasks for owners and/or webhook posts."""


class FlowsConfig(Section):
    """Every configurable flow; a flow left out of the file is not configured (and does not run)."""

    contacts: ContactsFlowConfig | None = None
    deals: DealsFlowConfig | None = None
    campaigns: CampaignsFlowConfig | None = None
    engagements: EngagementsFlowConfig | None = None
    activities: ActivitiesFlowConfig | None = None
    alerts: AlertsFlowConfig | None = None

    def configured(self) -> dict[str, FlowConfig]:
        """The flows present in the file, enabled or not, in the order they run in."""
        found = {name: getattr(self, name) for name in FLOW_NAMES}
        return {name: flow for name, flow in found.items() if flow is not None}


FLOW_NAMES: tuple[str, ...] = tuple(FlowsConfig.model_fields)
