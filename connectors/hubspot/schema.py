"""HubSpot property definitions → `ObjectSchema`: types, picklists and writability (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from connectors.hubspot.objects import ObjectSpec
from syncd.connector import FieldSpec, FieldType, ObjectSchema

# HubSpot `type` → FieldType; `fieldType` refines a few (checkbox enumerations are booleans, textareas text).
_TYPES: dict[str, FieldType] = {
    "string": FieldType.STRING,
    "number": FieldType.NUMBER,
    "date": FieldType.DATE,
    "datetime": FieldType.DATETIME,
    "enumeration": FieldType.ENUM,
    "bool": FieldType.BOOL,
    "phone_number": FieldType.STRING,
    "json": FieldType.TEXT,
    "object_coordinates": FieldType.STRING,
}
_ID_PROPERTIES = {"hs_object_id"}
_EMAIL_PROPERTIES = {"email"}


def field_type(definition: Mapping[str, Any]) -> FieldType:
    name = str(definition.get("name") or "")
    kind = str(definition.get("type") or "string")
    widget = str(definition.get("fieldType") or "")
    if name in _ID_PROPERTIES:
        return FieldType.ID
    if name in _EMAIL_PROPERTIES:
        return FieldType.EMAIL
    if kind == "enumeration" and widget == "booleancheckbox":
        return FieldType.BOOL
    if kind == "string" and widget in ("textarea", "html"):
        return FieldType.TEXT
    return _TYPES.get(kind, FieldType.STRING)


def _read_only(definition: Mapping[str, Any]) -> bool:
    metadata = definition.get("modificationMetadata")
    read_only = isinstance(metadata, Mapping) and bool(metadata.get("readOnlyValue"))
    return read_only or bool(definition.get("calculated"))


def _options(definition: Mapping[str, Any]) -> tuple[str, ...]:
    options = definition.get("options")
    if not isinstance(options, list):
        return ()
    return tuple(
        str(option["value"])
        for option in options
        if isinstance(option, Mapping) and option.get("value") is not None and not option.get("hidden")
    )


def field_spec(definition: Mapping[str, Any], *, required: bool = False) -> FieldSpec:
    kind = field_type(definition)
    writable = not _read_only(definition)
    is_picklist = str(definition.get("type")) == "enumeration"
    return FieldSpec(
        name=str(definition["name"]),
        type=kind,
        label=str(definition.get("label") or ""),
        createable=writable,
        updateable=writable,
        picklist=_options(definition) if is_picklist else None,
        # HubSpot rejects values outside an enumeration's options (INVALID_OPTION).
        restricted_picklist=is_picklist,
        required_on_create=required and writable,
        nillable=not required,
        unique=bool(definition.get("hasUniqueValue")),
    )


def object_schema(spec: ObjectSpec, definitions: Iterable[Mapping[str, Any]]) -> ObjectSchema:
    """The schema of `spec` from `GET /crm/v3/properties/{object}` results (archived ones skipped)."""
    fields = {
        str(d["name"]): field_spec(d, required=str(d["name"]) in spec.required_properties)
        for d in definitions
        if isinstance(d, Mapping) and d.get("name") and not d.get("archived")
    }
    return ObjectSchema(object=spec.name, fields=fields)
