"""Per-object knowledge: which system fields every read needs and how identity changes show up.

Adding an object is one `ObjectSpec` entry in `OBJECTS`.
"""

from __future__ import annotations

from dataclasses import dataclass

from syncd.errors import ConfigError


@dataclass(frozen=True)
class ObjectSpec:
    """What the connector must know about one Salesforce object beyond its describe()."""

    name: str
    # Merge losers get IsDeleted=true and MasterRecordId (Lead, Contact, Account).
    mergeable: bool = False
    # Lead conversion sets IsConverted and ConvertedContactId.
    convertible: bool = False
    email_field: str | None = None

    @property
    def system_fields(self) -> tuple[str, ...]:
        """Fields selected on every read, whatever the mapping asks for."""
        names = ["Id", "SystemModstamp", "CreatedDate", "IsDeleted"]
        if self.mergeable:
            names.append("MasterRecordId")
        if self.convertible:
            names += ["IsConverted", "ConvertedContactId"]
        return tuple(names)


OBJECTS: dict[str, ObjectSpec] = {
    spec.name: spec
    for spec in (
        ObjectSpec("Lead", mergeable=True, convertible=True, email_field="Email"),
        ObjectSpec("Contact", mergeable=True, email_field="Email"),
        ObjectSpec("Opportunity"),
        ObjectSpec("OpportunityContactRole"),
        ObjectSpec("OpportunityHistory"),
        ObjectSpec("Task"),
        ObjectSpec("Event"),
        ObjectSpec("Campaign"),
        ObjectSpec("CampaignMember"),
    )
}


def object_spec(name: str) -> ObjectSpec:
    """The spec of a supported object, or a ConfigError naming the supported ones."""
    spec = OBJECTS.get(name)
    if spec is None:
        raise ConfigError(
            [f"the Salesforce connector does not sync {name!r}"],
            hint=f"use one of: {', '.join(sorted(OBJECTS))}",
        )
    return spec


def select_fields(spec: ObjectSpec, fields: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """System fields first, then the requested ones, each once (SOQL rejects duplicate columns)."""
    seen: dict[str, str] = {}
    for name in (*spec.system_fields, *fields):
        seen.setdefault(name.lower(), name)
    return tuple(seen.values())
