"""The parsed field mapping of one record flow, with the file line of everything an error may point at."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from syncd.core.normalize import Value
from syncd.core.rules import Direction, NullPolicy, Rule, SurvivorRule
from syncd.mapping.filters import InclusionFilter
from syncd.mapping.transforms import Transform


@dataclass(frozen=True)
class FieldMapping:
    """One mapped field: its HubSpot property, its Salesforce field per object, and how it syncs.

    `salesforce` maps a Salesforce object to its field; an object missing from it does not sync the
    field. `lines` holds the line of each key written in the entry (`rule`, `to_crm`, ...).
    """

    name: str
    line: int
    hubspot: str
    salesforce: Mapping[str, str]
    direction: Direction = Direction.BOTH
    rule: Rule = Rule.TWO_WAY
    null_policy: NullPolicy = NullPolicy.IGNORE_NULLS
    to_crm: tuple[Transform, ...] = ()
    to_marketing: tuple[Transform, ...] = ()
    lines: Mapping[str, int] = field(default_factory=dict)

    def salesforce_field(self, obj: str) -> str | None:
        return self.salesforce.get(obj)

    def line_of(self, key: str) -> int:
        return self.lines.get(key, self.line)


@dataclass(frozen=True)
class MatchSettings:
    """How people are matched and created (see syncd.core.match).

    - `duplicates`: the survivor rule for several records with one email inside one system.
    - `target_candidates`: the survivor rule among several target candidates; None → ambiguous issue.
    - `create_lead_as`: the Salesforce object new people become (`Lead` by default, or `Contact`).
    - `contact_when_account_domain`: create a Contact instead when an Account matches the email domain.
    - `object_preference`: Salesforce objects, best first (an existing Contact wins over a Lead).
    """

    duplicates: SurvivorRule = SurvivorRule.MOST_RECENTLY_MODIFIED
    target_candidates: SurvivorRule | None = None
    create_as: str = "Lead"
    contact_when_account_domain: bool = False
    object_preference: tuple[str, ...] = ("Contact", "Lead")


@dataclass(frozen=True)
class RecordLink:
    """How two records that are not people know each other (deals and Opportunities): each system keeps
    the other's record id in a unique field, so a create is an upsert by it and a replay never creates a
    record twice. `line` is where `link:` is written."""

    hubspot: str
    salesforce: str
    line: int = 0


@dataclass(frozen=True)
class OnCreate:
    """Constant values written only when a record is created in a system (`on_create:`), e.g. the
    HubSpot pipeline new deals go into; `lines` holds each value's line, keyed (system, field)."""

    hubspot: Mapping[str, Value] = field(default_factory=dict)
    salesforce: Mapping[str, Value] = field(default_factory=dict)
    lines: Mapping[tuple[str, str], int] = field(default_factory=dict)

    def for_system(self, system: str) -> Mapping[str, Value]:
        return self.hubspot if system == "hubspot" else self.salesforce


@dataclass(frozen=True)
class FlowMapping:
    """A whole mapping file: objects, identity field (or record link), matching, filters and fields.

    A flow of people has an `identity` (the email field); a flow of other records has a `link`
    instead and an empty `identity`.
    """

    source: str
    flow: str
    hubspot_object: str
    salesforce_objects: tuple[str, ...]
    identity: str
    fields: tuple[FieldMapping, ...]
    matching: MatchSettings = field(default_factory=MatchSettings)
    include: InclusionFilter = field(default_factory=InclusionFilter)
    lines: Mapping[str, int] = field(default_factory=dict)
    link: RecordLink | None = None
    on_create: OnCreate = field(default_factory=OnCreate)

    def entry(self, name: str) -> FieldMapping:
        for entry in self.fields:
            if entry.name == name:
                return entry
        raise KeyError(name)

    def identity_field(self) -> FieldMapping:
        return self.entry(self.identity)

    def where(self, line: int) -> str:
        """`path:line` for messages."""
        return f"{self.source}:{line}"
