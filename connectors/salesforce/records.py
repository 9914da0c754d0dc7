"""Raw Salesforce record JSON turned into RemoteRecord: tombstones, merges and conversions made explicit."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.salesforce.objects import ObjectSpec
from connectors.salesforce.soql import parse_datetime
from syncd.connector import RemoteRecord
from syncd.errors import FatalError


def to_remote(spec: ObjectSpec, raw: Mapping[str, Any]) -> RemoteRecord:
    """One record; `merged_into` is MasterRecordId (merge loser) or ConvertedContactId (converted Lead)."""
    record_id = raw.get("Id")
    stamp = raw.get("SystemModstamp")
    if not isinstance(record_id, str) or not isinstance(stamp, str):
        raise FatalError(f"Salesforce returned a {spec.name} without Id or SystemModstamp")
    created = raw.get("CreatedDate")
    merged_into: str | None = None
    if spec.mergeable and raw.get("MasterRecordId"):
        merged_into = str(raw["MasterRecordId"])
    elif spec.convertible and raw.get("IsConverted") and raw.get("ConvertedContactId"):
        merged_into = str(raw["ConvertedContactId"])
    return RemoteRecord(
        object=spec.name,
        id=record_id,
        modified_at=parse_datetime(stamp),
        created_at=parse_datetime(created) if isinstance(created, str) else None,
        fields={k: v for k, v in raw.items() if k != "attributes"},
        deleted=bool(raw.get("IsDeleted")),
        merged_into=merged_into,
    )
