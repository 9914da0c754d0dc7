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
    # Properties HubSpot requires on create (its properties API does not say which).
    required_properties: tuple[str, ...] = ()
    # Batch read/upsert may also key on any property the portal defines with unique values (HubSpot
    # checks that it is unique; validation checks it at start-up).
    custom_unique_keys: bool = False

    def accepts_key(self, id_property: str | None) -> bool:
        return id_property is not None and (id_property in self.id_properties or self.custom_unique_keys)

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

DEALS = ObjectSpec(
    name="deals",
    label="deal",
    modified_property="hs_lastmodifieddate",
    required_properties=("dealname", "dealstage", "pipeline"),
    custom_unique_keys=True,
)


def _engagement(name: str, label: str) -> ObjectSpec:
    """An engagement object (call, email, meeting, note): HubSpot requires its activity time."""
    return ObjectSpec(
        name=name,
        label=label,
        modified_property="hs_lastmodifieddate",
        created_property="hs_createdate",
        required_properties=("hs_timestamp",),
        custom_unique_keys=True,
    )


ENGAGEMENTS: tuple[ObjectSpec, ...] = tuple(
    _engagement(name, label)
    for name, label in (("calls", "call"), ("emails", "email"), ("meetings", "meeting"), ("notes", "note"))
)

OBJECTS: dict[str, ObjectSpec] = {spec.name: spec for spec in (CONTACTS, DEALS, *ENGAGEMENTS)}


def spec_for(object: str) -> ObjectSpec:
    try:
        return OBJECTS[object]
    except KeyError:
        raise ConfigError(
            [f"the HubSpot connector does not sync object {object!r}"],
            hint=f"use one of: {', '.join(sorted(OBJECTS))}",
        ) from None
