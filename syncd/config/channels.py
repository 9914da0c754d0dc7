"""The `channels:` section: the taxonomy that names the marketing channel of touches and campaigns."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from syncd.config.base import Section
from syncd.core.channels import DEFAULT_RULES, SIGNALS, ChannelRule, ChannelTaxonomy, Signal, rule

Values = str | list[str]


class ChannelRuleConfig(Section):
    """One rule: `channel` when every given condition holds (a value, a list of values, or "*")."""

    channel: str = Field(min_length=1)
    utm_source: Values | None = None
    utm_medium: Values | None = None
    utm_campaign: Values | None = None
    hubspot_source: Values | None = None
    campaign_type: Values | None = None

    @field_validator("utm_source", "utm_medium", "utm_campaign", "hubspot_source", "campaign_type")
    @classmethod
    def _not_blank(cls, value: Values | None) -> Values | None:
        values = [value] if isinstance(value, str) else value
        if values is not None and (not values or any(not v.strip() for v in values)):
            raise PydanticCustomError(
                "blank_condition", 'a condition needs a value — write the value, a list of values, or "*"'
            )
        return value

    @model_validator(mode="after")
    def _some_condition(self) -> ChannelRuleConfig:
        if not any(getattr(self, name) is not None for name in SIGNALS):
            raise PydanticCustomError(
                "no_condition",
                "a channel rule needs at least one of {signals}",
                {"signals": ", ".join(SIGNALS)},
            )
        return self

    def to_rule(self) -> ChannelRule:
        when: dict[str, Any] = {}
        for name in SIGNALS:
            value = getattr(self, name)
            if value is not None:
                when[name] = value if isinstance(value, str) else tuple(value)
        return rule(self.channel, **when)


class ChannelsConfig(Section):
    """Ordered rules (first match wins), then syncd's built-in ones unless `defaults: false`."""

    rules: list[ChannelRuleConfig] = Field(default_factory=list)
    # Keep the built-in rules (UTM medium, HubSpot original source, Campaign Type) after yours.
    defaults: bool = True
    # The channel of HubSpot marketing email events.
    email: str = Field(default="email", min_length=1)
    # When no rule matches.
    default: str = Field(default="direct", min_length=1)

    def taxonomy(self) -> ChannelTaxonomy:
        rules = tuple(r.to_rule() for r in self.rules) + (DEFAULT_RULES if self.defaults else ())
        return ChannelTaxonomy(rules=rules, email=self.email, default=self.default)


__all__ = ["ChannelRuleConfig", "ChannelsConfig", "Signal"]
