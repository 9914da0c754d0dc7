"""The store's row of a deal, built from the records a page read (and the values it just wrote).

The row follows the Salesforce Opportunity when there is one and the HubSpot deal otherwise (see
syncd.core.deal_status); stages are kept in Salesforce's vocabulary, a HubSpot stage translated through the
mapping's stage map. When syncd just wrote a stage into Salesforce, the won/lost flags Salesforce derives
from it are taken from the HubSpot pipeline's stage, which says the same.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from syncd.connector import RemoteRecord
from syncd.core.deal_status import DealStatus, from_hubspot, from_salesforce
from syncd.core.deal_status import stage_entries as hubspot_stage_entries
from syncd.core.normalize import Value
from syncd.deals import Pipeline
from syncd.engine.deal_store import DealRow


@dataclass(frozen=True)
class DealRead:
    """A deal record with canonical values, and the problems of fields that could not be read."""

    record: RemoteRecord
    values: Mapping[str, Value]
    problems: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return self.record.id


def with_outcome(status: DealStatus, other: DealStatus) -> DealStatus:
    """`status` closed and won as `other` says (Salesforce derives both from a stage syncd just wrote)."""
    return replace(status, is_closed=other.is_closed, is_won=other.is_won)


class DealRows:
    """Builds deal rows; knows the pipeline, the stage vocabulary and who owns what."""

    def __init__(
        self,
        *,
        pipeline: Pipeline,
        stage_name: Callable[[str], str],
        campaign_property: str | None,
        owner_emails: Mapping[tuple[str, str], str],
    ) -> None:
        self._pipeline = pipeline
        self._stage_name = stage_name
        self._campaign_property = campaign_property
        self._owner_emails = owner_emails

    def hubspot_status(self, values: Mapping[str, Any]) -> DealStatus:
        return from_hubspot(values, self._pipeline, self._stage_name, self._campaign_property)

    def from_salesforce(
        self,
        read: DealRead,
        target: DealRead | None,
        hubspot_id: str | None,
        *,
        deleted: bool = False,
        written: Mapping[str, Any] | None = None,
        pushed: Mapping[str, Any] | None = None,
    ) -> DealRow:
        """An Opportunity's row (`written`: what syncd just wrote into it; `pushed`: into its deal)."""
        status = from_salesforce({**read.values, **(written or {})})
        if written and "StageName" in written and target is not None:
            status = with_outcome(status, self.hubspot_status({**target.values, **(pushed or {})}))
        campaign = read.record.fields.get("Campaign")
        same_campaign = status.campaign_id == read.values.get("CampaignId")
        name = campaign.get("Name") if isinstance(campaign, Mapping) and same_campaign else None
        return self._row(
            f"salesforce:{read.id}",
            hubspot_id,
            read.id,
            status,
            _created(read, target),
            campaign_name=str(name) if name else None,
            deleted=deleted,
        )

    def from_hubspot(self, read: DealRead, salesforce_id: str | None) -> DealRow:
        """A HubSpot deal's row, for a deal Salesforce does not hold (yet)."""
        status = self.hubspot_status(read.values)
        closed = self.entered(read, status.stage) if status.is_closed else None
        return self._row(f"hubspot:{read.id}", read.id, salesforce_id, status, _created(read, None), closed)

    def from_pair(
        self,
        source: DealRead,
        target: DealRead | None,
        *,
        written: Mapping[str, Any],
        pushed: Mapping[str, Any],
        created_id: str | None,
    ) -> DealRow:
        """A HubSpot deal with its Opportunity (`target`, or `created_id` when syncd just created it):
        Salesforce's values as they now stand, HubSpot's where Salesforce has none."""
        hubspot = self.hubspot_status({**source.values, **written})
        status = from_salesforce({**(target.values if target else {}), **pushed})
        if target is None or "StageName" in pushed:
            status = with_outcome(status, hubspot)
        if not status.stage:
            status = hubspot
        salesforce_id = created_id or (target.id if target else None)
        ref = f"salesforce:{salesforce_id}" if salesforce_id else f"hubspot:{source.id}"
        closed = self.entered(source, hubspot.stage) if status.is_closed else None
        return self._row(ref, source.id, salesforce_id, status, _created(source, target), closed)

    def entered(self, read: DealRead, stage: str) -> datetime | None:
        """When a HubSpot deal last entered `stage` (store vocabulary), from its stage entry dates."""
        found = [
            at
            for name, at in hubspot_stage_entries(read.values, self._pipeline, self._stage_name)
            if name == stage
        ]
        return max(found) if found else None

    def _row(
        self,
        ref: str,
        hubspot_id: str | None,
        salesforce_id: str | None,
        status: DealStatus,
        created_at: datetime,
        closed_hint: datetime | None = None,
        *,
        campaign_name: str | None = None,
        deleted: bool = False,
    ) -> DealRow:
        return DealRow(
            ref=ref,
            hubspot_id=hubspot_id,
            salesforce_id=salesforce_id,
            name=status.name,
            stage=status.stage,
            amount=status.amount,
            close_date=status.close_date,
            is_closed=status.is_closed,
            is_won=status.is_won,
            created_at=created_at,
            owner_email=self._owner_emails.get(status.owner) if status.owner else None,
            campaign_id=status.campaign_id,
            campaign_name=campaign_name,
            closed_hint=closed_hint,
            deleted=deleted,
        )


def _created(read: DealRead, other: DealRead | None) -> datetime:
    """A deal is as old as its oldest record."""
    found = [d for d in (read.record.created_at, other.record.created_at if other else None) if d]
    return min(found) if found else read.record.modified_at
