"""What the store keeps about a deal, read from either system's record (pure).

The deals row the reports read (amount, stage, won/lost, owner, campaign) follows the Salesforce
Opportunity when there is one — it is where sales close deals — and the HubSpot deal otherwise. Stages
are kept in Salesforce's vocabulary (StageName); a HubSpot stage is translated through the mapping's stage
map. Won and lost come from each system's own flags: Salesforce's IsClosed/IsWon (derived there from
the stage), HubSpot's pipeline stage metadata (closed; probability 1.0 means won).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from syncd.core.normalize import Value, canonical_date, canonical_datetime
from syncd.deals import Pipeline

# The standard fields every read of a deal asks for, whatever the mapping syncs.
SALESFORCE_FIELDS = ("Name", "StageName", "Amount", "CloseDate", "OwnerId", "CampaignId", "IsClosed", "IsWon")
HUBSPOT_FIELDS = ("dealname", "dealstage", "pipeline", "amount", "closedate", "hubspot_owner_id")
UNNAMED = "(no name)"


@dataclass(frozen=True)
class DealStatus:
    """One side's view of a deal, in the store's terms. `owner` is (system, owner or user id)."""

    name: str
    stage: str
    amount: Decimal | None
    close_date: date | None
    is_closed: bool
    is_won: bool
    owner: tuple[str, str] | None
    campaign_id: str | None


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _money(value: object) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return None
    return amount.quantize(Decimal("0.01")) if amount.is_finite() else None


def _day(value: object) -> date | None:
    if value is None:
        return None
    try:
        return canonical_date(value)
    except ValueError:
        return None


def _flag(value: object) -> bool:
    return value is True or str(value).strip().lower() == "true"


def from_salesforce(values: Mapping[str, Value | object]) -> DealStatus:
    """An Opportunity's status (IsClosed and IsWon as Salesforce derived them from the stage)."""
    owner = _text(values.get("OwnerId"))
    return DealStatus(
        name=_text(values.get("Name")) or UNNAMED,
        stage=_text(values.get("StageName")) or "",
        amount=_money(values.get("Amount")),
        close_date=_day(values.get("CloseDate")),
        is_closed=_flag(values.get("IsClosed")),
        is_won=_flag(values.get("IsWon")),
        owner=("salesforce", owner) if owner else None,
        campaign_id=_text(values.get("CampaignId")),
    )


def from_hubspot(
    values: Mapping[str, Value | object],
    pipeline: Pipeline,
    to_stage: Callable[[str], str],
    campaign_property: str | None = None,
) -> DealStatus:
    """A HubSpot deal's status: its stage translated by `to_stage`, won/lost from the pipeline's stage."""
    stage_id = _text(values.get("dealstage")) or ""
    stage = pipeline.stage(stage_id)
    owner = _text(values.get("hubspot_owner_id"))
    return DealStatus(
        name=_text(values.get("dealname")) or UNNAMED,
        stage=to_stage(stage_id) if stage_id else "",
        amount=_money(values.get("amount")),
        close_date=_day(values.get("closedate")),
        is_closed=stage.is_closed if stage else False,
        is_won=stage.is_won if stage else False,
        owner=("hubspot", owner) if owner else None,
        campaign_id=_text(values.get(campaign_property)) if campaign_property else None,
    )


def stage_entries(
    values: Mapping[str, Value | object], pipeline: Pipeline, to_stage: Callable[[str], str]
) -> list[tuple[str, datetime]]:
    """(stage, entered at) from a HubSpot deal's `hs_date_entered_<stage id>` properties, oldest first."""
    found: list[tuple[str, datetime]] = []
    for stage in pipeline.stages:
        raw = values.get(f"hs_date_entered_{stage.id}")
        if raw is None or raw == "":
            continue
        try:
            found.append((to_stage(stage.id), canonical_datetime(raw)))
        except ValueError:
            continue
    return sorted(found, key=lambda item: item[1])
