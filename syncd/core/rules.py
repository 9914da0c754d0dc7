"""The vocabulary of field mapping: sides, merge rules, directions and null policies."""

from __future__ import annotations

from enum import StrEnum


class Side(StrEnum):
    """The two ends of a record flow: the CRM (Salesforce) and the marketing platform (HubSpot)."""

    CRM = "crm"
    MARKETING = "marketing"

    @property
    def other(self) -> Side:
        return Side.MARKETING if self is Side.CRM else Side.CRM


class Rule(StrEnum):
    """How a field's value is chosen when both sides changed, or on the first sync."""

    TWO_WAY = "two_way"
    PREFER_CRM_UNLESS_BLANK = "prefer_crm_unless_blank"
    CRM_WINS = "crm_wins"
    MARKETING_WINS = "marketing_wins"
    WRITE_ONCE = "write_once"
    MOST_RESTRICTIVE = "most_restrictive"
    NONE = "none"


class Direction(StrEnum):
    """Which way values of a field may flow."""

    BOTH = "both"
    TO_CRM = "to_crm"
    TO_MARKETING = "to_marketing"

    def allows(self, to: Side) -> bool:
        """Whether a value may be written into side `to`."""
        if self is Direction.BOTH:
            return True
        return (self is Direction.TO_CRM) == (to is Side.CRM)


class NullPolicy(StrEnum):
    """Whether a blank value may overwrite a value on the other side."""

    IGNORE_NULLS = "ignore_nulls"
    PROPAGATE_NULLS = "propagate_nulls"


class SurvivorRule(StrEnum):
    """Which record survives when several in one system share an email."""

    MOST_RECENTLY_MODIFIED = "most_recently_modified"
    OLDEST = "oldest"
