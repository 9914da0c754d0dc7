"""HubSpot record JSON → `RemoteRecord`: timestamps, merge history, archived flags (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from connectors.hubspot.objects import ObjectSpec
from syncd.connector import RemoteRecord
from syncd.errors import FatalError


def parse_timestamp(value: object) -> datetime | None:
    """HubSpot writes ISO 8601 (`2026-01-02T03:04:05.678Z`) in v3 JSON and epoch ms in some properties."""
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    if text.isdigit():
        return datetime.fromtimestamp(int(text) / 1000, tz=UTC)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def epoch_ms(when: datetime) -> int:
    """Epoch milliseconds, the unit of HubSpot's search filters (naive datetimes are taken as UTC)."""
    aware = when if when.tzinfo is not None else when.replace(tzinfo=UTC)
    return int(aware.timestamp() * 1000)


def id_key(record_id: str) -> tuple[int, str]:
    """Sort key for HubSpot ids: numeric order, with anything non-numeric after and by text."""
    return (int(record_id), "") if record_id.isdigit() else (2**63, record_id)


def to_record(spec: ObjectSpec, raw: Mapping[str, Any], *, deleted: bool = False) -> RemoteRecord:
    """One `SimplePublicObject` as a RemoteRecord; property values stay exactly as HubSpot holds them."""
    record_id = str(raw.get("id") or "")
    if not record_id:
        raise FatalError(f"HubSpot returned a {spec.label} without an id")
    properties = raw.get("properties")
    fields: dict[str, Any] = dict(properties) if isinstance(properties, Mapping) else {}
    archived = bool(raw.get("archived")) or deleted
    modified = (
        (parse_timestamp(raw.get("archivedAt")) if archived else None)
        or parse_timestamp(fields.get(spec.modified_property))
        or parse_timestamp(raw.get("updatedAt"))
    )
    if modified is None:
        raise FatalError(f"HubSpot returned {spec.label} {record_id} without a modification time")
    created = parse_timestamp(fields.get(spec.created_property)) or parse_timestamp(raw.get("createdAt"))
    merged = fields.get("hs_merged_object_ids")
    merged_from = tuple(part for part in str(merged).split(";") if part.strip()) if merged else ()
    return RemoteRecord(
        object=spec.name,
        id=record_id,
        modified_at=modified,
        fields=fields,
        created_at=created,
        deleted=archived,
        merged_from=merged_from,
    )
