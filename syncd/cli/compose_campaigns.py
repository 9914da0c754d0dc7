"""Wiring the campaigns flow from its configuration and the `channels:` taxonomy."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from syncd.cli.compose import Runtime
from syncd.config.flows import CampaignsFlowConfig
from syncd.core.channels import ChannelTaxonomy
from syncd.engine.campaign_store import ResponseTouches
from syncd.engine.campaigns import CampaignFlow, CampaignSettings


def channel_taxonomy(runtime: Runtime) -> ChannelTaxonomy:
    """The configured channel taxonomy (syncd's built-in rules without a configuration)."""
    return runtime.config.channels.taxonomy() if runtime.config is not None else ChannelTaxonomy()


def campaign_settings(runtime: Runtime, flow: CampaignsFlowConfig, *, dry_run: bool) -> CampaignSettings:
    return CampaignSettings(
        channels=channel_taxonomy(runtime),
        responses=ResponseTouches() if flow.response_touches else None,
        cost_file=flow.cost_file,
        currency=flow.currency,
        dry_run=dry_run,
    )


def campaign_flow(
    runtime: Runtime,
    settings: CampaignSettings | None = None,
    *,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> CampaignFlow:
    """The campaigns flow; its runs count HubSpot calls too (an idle cycle makes none)."""
    return CampaignFlow(
        name="campaigns",
        salesforce=runtime.probe,  # reads through the cycle's shared change probe
        store=runtime.store,
        clock=clock,
        settings=settings or CampaignSettings(channels=channel_taxonomy(runtime)),
        metered=(runtime.hubspot,),
    )
