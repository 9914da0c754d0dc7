"""What differs between HubSpot object types: property names the connector relies on, keys, labels.

Adding deals or engagements is one `ObjectSpec` here (and its tests): the connector code is generic
over the v3 objects API (`/crm/v3/objects/{object}`).
"""

from __future__ import annotations

from dataclasses import dataclass

from syncd.errors import ConfigError


@dataclass(frozen=True)
class ObjectSpec:
    """One HubSpot object type as the connector handles it."""

    name: str  # the v3 path segment: contacts, deals, calls, ...
    label: str  # singular, for messages: "contact"
    modified_property: str  # contacts: lastmodifieddate; every other object: hs_lastmodifieddate
    created_property: str = "createdate"
    # Unique properties batch read/upsert accept as `idProperty`, besides the record id.
    id_properties: tuple[str, ...] = ()
    # The property that names a record in messages (an email identifies a person; never other values).
    display_property: str | None = None

    @property
    def always_properties(self) -> tuple[str, ...]:
        """Requested on every read: timestamps for cursors, merge history, the display key."""
        extra = (self.display_property,) if self.display_property else ()
        return (*extra, self.created_property, self.modified_property, "hs_merged_object_ids")


CONTACTS = ObjectSpec(
    name="contacts",
    label="contact",
    modified_property="lastmodifieddate",
    id_properties=("email",),
    display_property="email",
)

OBJECTS: dict[str, ObjectSpec] = {spec.name: spec for spec in (CONTACTS,)}


def spec_for(object: str) -> ObjectSpec:
    try:
        return OBJECTS[object]
    except KeyError:
        raise ConfigError(
            [f"the HubSpot connector does not sync object {object!r}"],
            hint=f"use one of: {', '.join(sorted(OBJECTS))}",
        ) from None
