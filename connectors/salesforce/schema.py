"""A Salesforce describe() result turned into syncd's ObjectSchema."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from syncd.connector import FieldSpec, FieldType, ObjectSchema

SOAP_TYPES: Mapping[str, FieldType] = {
    "id": FieldType.ID,
    "reference": FieldType.REFERENCE,
    "string": FieldType.STRING,
    "textarea": FieldType.TEXT,
    "email": FieldType.EMAIL,
    "phone": FieldType.STRING,
    "url": FieldType.STRING,
    "combobox": FieldType.STRING,
    "encryptedstring": FieldType.STRING,
    "picklist": FieldType.ENUM,
    "multipicklist": FieldType.ENUM,
    "boolean": FieldType.BOOL,
    "double": FieldType.NUMBER,
    "currency": FieldType.NUMBER,
    "int": FieldType.NUMBER,
    "long": FieldType.NUMBER,
    "percent": FieldType.NUMBER,
    "date": FieldType.DATE,
    "datetime": FieldType.DATETIME,
}
# Compound fields are read and written through their components (Street, City, Latitude, ...).
COMPOUND_TYPES = frozenset({"address", "location"})
_LENGTHED = frozenset({FieldType.STRING, FieldType.TEXT, FieldType.EMAIL})


def field_spec(raw: Mapping[str, Any]) -> FieldSpec | None:
    """One describe field; None for compound fields. Unknown types read as strings."""
    sf_type = str(raw.get("type", "string"))
    if sf_type in COMPOUND_TYPES:
        return None
    kind = SOAP_TYPES.get(sf_type, FieldType.STRING)
    createable = bool(raw.get("createable", False))
    nillable = bool(raw.get("nillable", True))
    picklist: tuple[str, ...] | None = None
    if kind is FieldType.ENUM:
        picklist = tuple(
            str(v["value"]) for v in raw.get("picklistValues") or () if v.get("active", True) and "value" in v
        )
    length = raw.get("length")
    return FieldSpec(
        name=str(raw["name"]),
        type=kind,
        label=str(raw.get("label", "")),
        required_on_create=createable and not nillable and not raw.get("defaultedOnCreate", False),
        nillable=nillable,
        createable=createable,
        updateable=bool(raw.get("updateable", False)),
        picklist=picklist,
        restricted_picklist=bool(raw.get("restrictedPicklist", False)),
        length=int(length) if kind in _LENGTHED and isinstance(length, int) and length > 0 else None,
        # Upserts key on External ID fields; Unique makes the key match one record at most.
        unique=bool(raw.get("externalId", False)) and bool(raw.get("unique", False)),
    )


def object_schema(object: str, describe: Mapping[str, Any]) -> ObjectSchema:
    specs = (field_spec(f) for f in describe.get("fields") or ())
    return ObjectSchema(object=object, fields={s.name: s for s in specs if s is not None})
