"""The channel taxonomy: ordered rules over UTM values, HubSpot source and Campaign Type (pure)."""

from __future__ import annotations

from typing import Any

import pytest

from syncd.config.channels import ChannelsConfig
from syncd.core.channels import ChannelTaxonomy, campaign_channel, rule, web_channel

DEFAULT = ChannelTaxonomy()


@pytest.mark.parametrize(
    ("properties", "channel"),
    [
        ({"hs_utm_medium": "cpc"}, "paid_search"),
        ({"hs_utm_medium": " Email "}, "email"),
        ({"utm_medium": "paid_social"}, "paid_social"),
        # A medium no rule names is `other`, even when HubSpot knows the source.
        ({"hs_utm_medium": "carrier-pigeon", "hs_analytics_source": "PAID_SEARCH"}, "other"),
        ({"hs_analytics_source": "ORGANIC_SEARCH"}, "organic_search"),
        ({"hs_analytics_source": "organic_search"}, "organic_search"),
        ({"hs_analytics_source": "SOMETHING_NEW"}, "other"),
        ({"hs_utm_source": "newsletter"}, "direct"),
        ({"hs_utm_campaign": "Spring"}, "direct"),
        ({}, "direct"),
    ],
)
def test_default_rules_give_the_channels_touches_always_had(properties: dict[str, Any], channel: str) -> None:
    assert web_channel(properties, DEFAULT) == channel


@pytest.mark.parametrize(
    ("campaign_type", "channel"),
    [
        ("Email", "email"),
        ("Webinar", "webinar"),
        ("Paid Search", "paid_search"),
        ("Trade Show", "event"),
        ("Partners", "referral"),
        ("Something custom", "other"),
        (None, None),
        ("", None),
    ],
)
def test_salesforce_campaign_types_map_to_channels(campaign_type: str | None, channel: str | None) -> None:
    assert campaign_channel(campaign_type, DEFAULT) == channel


def test_rules_are_tried_in_order_and_every_condition_must_hold() -> None:
    taxonomy = ChannelTaxonomy(
        rules=(
            rule("linkedin_ads", utm_source="linkedin", utm_medium=("cpc", "paid_social")),
            rule("paid", utm_medium="*"),
        ),
        default="unknown",
    )
    assert web_channel({"hs_utm_source": "LinkedIn", "hs_utm_medium": "CPC"}, taxonomy) == "linkedin_ads"
    assert web_channel({"hs_utm_source": "google", "hs_utm_medium": "cpc"}, taxonomy) == "paid"
    assert web_channel({"hs_utm_source": "linkedin"}, taxonomy) == "unknown"


def test_configured_rules_come_before_the_built_in_ones_unless_switched_off() -> None:
    config = ChannelsConfig.model_validate(
        {"rules": [{"channel": "linkedin", "utm_source": ["linkedin", "lnkd.in"]}], "default": "none"}
    )
    taxonomy = config.taxonomy()
    assert web_channel({"hs_utm_source": "lnkd.in", "hs_utm_medium": "cpc"}, taxonomy) == "linkedin"
    assert web_channel({"hs_utm_medium": "cpc"}, taxonomy) == "paid_search"
    assert web_channel({}, taxonomy) == "none"

    only = ChannelsConfig.model_validate(
        {"rules": [{"channel": "events", "campaign_type": "*"}], "defaults": False}
    ).taxonomy()
    assert campaign_channel("Email", only) == "events"
    assert web_channel({"hs_utm_medium": "cpc"}, only) == "direct"


def test_an_unknown_signal_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown channel signal 'utm_content'"):
        rule("x", utm_content="a")
