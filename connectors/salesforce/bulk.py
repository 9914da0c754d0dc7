"""Bulk API 2.0 query results: CSV rows re-typed into the same raw shapes the REST API returns.

Bulk CSV carries every value as text and null as an empty cell (Salesforce stores no empty strings);
describe() says what each column really is, so a backfilled record equals the one SOQL would return.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from connectors.salesforce.soql import parse_datetime
from syncd.errors import FatalError

# Job states (Bulk API 2.0): still running, done, or failed for good.
RUNNING = frozenset({"UploadComplete", "InProgress", "Open"})
COMPLETE = "JobComplete"


@dataclass(frozen=True)
class ResultPage:
    """One page of a query job's results and the locator of the next one (None at the end)."""

    csv_text: str
    next_locator: str | None


def next_locator(header: str | None) -> str | None:
    """Sforce-Locator is the literal string "null" on the last page."""
    return None if header in (None, "", "null") else header


def rest_datetime(text: str) -> str:
    """The REST API's datetime form (2026-01-31T12:00:00.000+0000); Bulk CSV may use ...Z instead."""
    when = parse_datetime(text)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}+0000"


def typed_value(sf_type: str | None, text: str) -> Any:
    """One CSV cell typed as the REST API's JSON would have it, from the column's describe() type."""
    if text == "":
        return None
    if sf_type == "boolean":
        return text.lower() == "true"
    if sf_type in ("int", "long"):
        return int(float(text))
    if sf_type in ("double", "currency", "percent"):
        return float(text)
    if sf_type == "datetime":
        return rest_datetime(text)
    return text


def rows(csv_text: str, sf_types: Mapping[str, str]) -> Iterator[dict[str, Any]]:
    """Raw records from one results page; `sf_types` maps lower-cased field names to describe() types."""
    reader = csv.DictReader(io.StringIO(csv_text, newline=""))
    for row in reader:
        if None in row:
            raise FatalError("a Bulk API 2.0 result row has more cells than its header")
        yield {
            column: typed_value(sf_types.get(column.lower()), value or "") for column, value in row.items()
        }
