"""Composite API bodies: several queries and collection retrieves in one request, counted as ONE API call.

Salesforce allows 25 subrequests per composite request, at most 5 of them queries or collections.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus

from syncd.errors import FatalError


@dataclass(frozen=True)
class QuerySubrequest:
    reference: str
    soql: str
    include_deleted: bool
    page_size: int


@dataclass(frozen=True)
class RetrieveSubrequest:
    """sObject Collections retrieve: up to 2,000 records of one object by id."""

    reference: str
    object: str
    ids: tuple[str, ...]
    fields: tuple[str, ...]


Subrequest = QuerySubrequest | RetrieveSubrequest


@dataclass(frozen=True)
class SubResponse:
    status: int
    body: Any


def composite_body(api_version: str, subrequests: Sequence[Subrequest]) -> dict[str, Any]:
    """Independent read subrequests; allOrNone false so one failing read does not void the others."""
    return {"allOrNone": False, "compositeRequest": [_subrequest(api_version, s) for s in subrequests]}


def _subrequest(api_version: str, sub: Subrequest) -> dict[str, Any]:
    if isinstance(sub, RetrieveSubrequest):
        return {
            "method": "POST",
            "url": f"/services/data/v{api_version}/composite/sobjects/{sub.object}",
            "referenceId": sub.reference,
            "body": {"ids": list(sub.ids), "fields": list(sub.fields)},
        }
    return {
        "method": "GET",
        "url": f"/services/data/v{api_version}/{'queryAll' if sub.include_deleted else 'query'}/"
        f"?q={quote_plus(sub.soql)}",
        "referenceId": sub.reference,
        "httpHeaders": {"Sforce-Query-Options": f"batchSize={sub.page_size}"},
    }


def subresponses(body: Any) -> dict[str, SubResponse]:
    """Each subrequest's status and body by its referenceId."""
    items = body.get("compositeResponse") if isinstance(body, Mapping) else None
    if not isinstance(items, list):
        raise FatalError("Salesforce answered a composite request without compositeResponse")
    out: dict[str, SubResponse] = {}
    for item in items:
        if isinstance(item, Mapping) and "referenceId" in item:
            out[str(item["referenceId"])] = SubResponse(int(item.get("httpStatusCode", 0)), item.get("body"))
    return out
