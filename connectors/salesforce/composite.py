"""Composite API bodies: several SOQL queries in one request, counted by Salesforce as ONE API call.

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
class SubResponse:
    status: int
    body: Any


def composite_body(api_version: str, subrequests: Sequence[QuerySubrequest]) -> dict[str, Any]:
    """Independent GET subrequests; allOrNone false so one failing query does not void the others."""
    return {
        "allOrNone": False,
        "compositeRequest": [
            {
                "method": "GET",
                "url": f"/services/data/v{api_version}/{'queryAll' if s.include_deleted else 'query'}/"
                f"?q={quote_plus(s.soql)}",
                "referenceId": s.reference,
                "httpHeaders": {"Sforce-Query-Options": f"batchSize={s.page_size}"},
            }
            for s in subrequests
        ],
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
