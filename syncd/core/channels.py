"""The channel taxonomy: which marketing channel a touch, a contact or a campaign belongs to.

Pure: a source's signals (UTM source/medium/campaign, HubSpot's `hs_analytics_source`, a Salesforce
Campaign Type) go in, a channel name comes out. Rules are tried in order and the first whose every
condition holds decides; when none does, `default`. A condition is one value or several (any of
them), compared trimmed and case-insensitively, or "*" for any non-empty value (how "a medium no
rule names" is caught before a later rule looks at another signal).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

Signal = Literal["utm_source", "utm_medium", "utm_campaign", "hubspot_source", "campaign_type"]
SIGNALS: tuple[Signal, ...] = ("utm_source", "utm_medium", "utm_campaign", "hubspot_source", "campaign_type")
ANY = "*"


@dataclass(frozen=True)
class ChannelRule:
    """`channel` when every condition holds; `when` maps a signal to the values it may take."""

    channel: str
    when: Mapping[Signal, tuple[str, ...]]

    def matches(self, signals: Mapping[Signal, str]) -> bool:
        for signal, values in self.when.items():
            seen = signals.get(signal, "")
            if not seen:
                return False
            if ANY not in values and seen not in values:
                return False
        return True


def rule(channel: str, **when: str | tuple[str, ...]) -> ChannelRule:
    """A rule from keyword conditions (`rule("paid_search", utm_medium=("cpc", "ppc"))`), folded."""
    conditions: dict[Signal, tuple[str, ...]] = {}
    for name, value in when.items():
        signal = next((s for s in SIGNALS if s == name), None)
        if signal is None:
            raise ValueError(f"unknown channel signal {name!r}; use one of {', '.join(SIGNALS)}")
        values = (value,) if isinstance(value, str) else value
        conditions[signal] = tuple(fold(v) for v in values)
    return ChannelRule(channel, conditions)


def fold(value: Any) -> str:
    """How signal values compare: trimmed and case-folded ("*" stays itself)."""
    return str(value or "").strip().casefold()


# Today's channels, as ordered rules: a UTM medium decides first (an unknown medium is `other`,
# whatever else the touch says), then HubSpot's original source, then the Salesforce Campaign Type.
DEFAULT_RULES: tuple[ChannelRule, ...] = (
    rule("email", utm_medium="email"),
    rule("paid_search", utm_medium=("cpc", "ppc", "paid_search")),
    rule("paid_social", utm_medium="paid_social"),
    rule("organic_social", utm_medium="social"),
    rule("organic_search", utm_medium="organic"),
    rule("referral", utm_medium="referral"),
    rule("webinar", utm_medium="webinar"),
    rule("event", utm_medium="event"),
    rule("display", utm_medium="display"),
    rule("direct", utm_medium="direct"),
    rule("other", utm_medium=ANY),
    rule("email", hubspot_source="EMAIL_MARKETING"),
    rule("paid_search", hubspot_source="PAID_SEARCH"),
    rule("paid_social", hubspot_source="PAID_SOCIAL"),
    rule("organic_social", hubspot_source="SOCIAL_MEDIA"),
    rule("organic_search", hubspot_source="ORGANIC_SEARCH"),
    rule("referral", hubspot_source="REFERRALS"),
    rule("other_campaigns", hubspot_source="OTHER_CAMPAIGNS"),
    rule("offline", hubspot_source="OFFLINE"),
    rule("direct", hubspot_source="DIRECT_TRAFFIC"),
    rule("other", hubspot_source=ANY),
    rule("email", campaign_type="Email"),
    rule("webinar", campaign_type="Webinar"),
    rule("paid_search", campaign_type="Paid Search"),
    rule("paid_social", campaign_type=("Social", "Paid Social")),
    rule("content", campaign_type="Content"),
    rule("event", campaign_type=("Trade Show", "Conference", "Event")),
    rule("referral", campaign_type=("Referral", "Partners")),
    rule("display", campaign_type=("Advertisement", "Banner Ads")),
    rule("direct_mail", campaign_type="Direct Mail"),
    rule("other", campaign_type=ANY),
)


@dataclass(frozen=True)
class ChannelTaxonomy:
    """Ordered rules, the channel of marketing email events, and the fallback."""

    rules: tuple[ChannelRule, ...] = DEFAULT_RULES
    email: str = "email"
    # When no rule matches (by default: a visit without a UTM medium or a HubSpot source).
    default: str = "direct"

    def channel(self, signals: Mapping[Signal, Any]) -> str:
        """The channel of one thing described by `signals` (absent or blank signals are ignored)."""
        folded: dict[Signal, str] = {name: fold(signals.get(name)) for name in SIGNALS}
        for candidate in self.rules:
            if candidate.matches(folded):
                return candidate.channel
        return self.default


# Where HubSpot web-analytics events and contacts keep each signal.
_WEB_PROPERTIES: Mapping[Signal, tuple[str, ...]] = {
    "utm_source": ("hs_utm_source", "utm_source"),
    "utm_medium": ("hs_utm_medium", "utm_medium"),
    "utm_campaign": ("hs_utm_campaign", "utm_campaign"),
    "hubspot_source": ("hs_analytics_source",),
}


def web_signals(properties: Mapping[str, Any]) -> dict[Signal, str]:
    """The channel signals of a HubSpot web event's (or contact's) properties."""
    found: dict[Signal, str] = {}
    for signal, names in _WEB_PROPERTIES.items():
        for name in names:
            value = properties.get(name)
            if value not in (None, ""):
                found[signal] = str(value)
                break
    return found


def web_channel(properties: Mapping[str, Any], taxonomy: ChannelTaxonomy) -> str:
    """The channel of a web event: its UTM values, else its HubSpot source, else the default."""
    return taxonomy.channel(web_signals(properties))


def campaign_channel(campaign_type: str | None, taxonomy: ChannelTaxonomy) -> str | None:
    """The channel of a Salesforce Campaign by its Type; None for a campaign without a type."""
    if not fold(campaign_type):
        return None
    return taxonomy.channel({"campaign_type": campaign_type})
