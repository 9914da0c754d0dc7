"""The request/response types REST handlers share, so composite requests can call handlers directly."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from connectors.salesforce.sandbox.errors import ApiError

if TYPE_CHECKING:
    from connectors.salesforce.sandbox.org import SalesforceOrg

JSON_TYPE = "application/json;charset=UTF-8"


def _reject_constant(name: str) -> Any:
    # Python's json accepts NaN and Infinity; Salesforce's parser does not.
    raise ApiError(400, "JSON_PARSER_ERROR", f"Unexpected token ({name}): not valid JSON")


@dataclass(frozen=True)
class ApiRequest:
    """One authenticated REST call (or composite subrequest) under /services/data/vXX.X."""

    method: str
    path: str
    version: str
    path_params: Mapping[str, str]
    params: Mapping[str, str]
    headers: Mapping[str, str]  # lower-case names
    body: bytes
    instance_url: str
    user_id: str
    parsed_body: Any = None  # composite subrequests pass their JSON body already parsed

    def json(self) -> Any:
        if self.parsed_body is not None:
            return self.parsed_body
        if not self.body.strip():
            raise ApiError(
                400, "JSON_PARSER_ERROR", "No content to map due to end-of-input at [line:1, column:0]"
            )
        try:
            return json.loads(self.body, parse_constant=_reject_constant)
        except json.JSONDecodeError as exc:
            raise ApiError(
                400,
                "JSON_PARSER_ERROR",
                f"Unexpected character: {exc.msg} at [line:{exc.lineno}, column:{exc.colno}]",
            ) from None
        except UnicodeDecodeError:
            raise ApiError(400, "JSON_PARSER_ERROR", "Invalid UTF-8 in the request body") from None

    def json_object(self) -> dict[str, Any]:
        body = self.json()
        if not isinstance(body, dict):
            raise ApiError(
                400, "JSON_PARSER_ERROR", "Cannot deserialize instance of object from START_ARRAY value"
            )
        return body

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def allow_duplicates(self) -> bool:
        value = (self.header("Sforce-Duplicate-Rule-Header") or "").replace(" ", "").lower()
        return "allowsave=true" in value


@dataclass(frozen=True)
class ApiResponse:
    status: int
    body: Any = None
    raw: bytes | None = None
    content_type: str = JSON_TYPE
    headers: Mapping[str, str] = field(default_factory=dict)


Handler = Callable[["SalesforceOrg", ApiRequest], ApiResponse]
RouteKind = Literal["query", "collection", "other"]


@dataclass(frozen=True)
class ApiRoute:
    """A REST resource below /services/data/v{version}; `kind` feeds the composite per-type limits."""

    method: str
    template: str
    handler: Handler
    kind: RouteKind = "other"
