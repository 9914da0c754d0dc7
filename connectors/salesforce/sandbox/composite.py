"""sObject Collections (≤ 200 records, per-record results, allOrNone) and the Composite resource."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from starlette.routing import Match, Route

from connectors.salesforce.sandbox.api import ApiRequest, ApiResponse, ApiRoute
from connectors.salesforce.sandbox.errors import ApiError, FieldError
from connectors.salesforce.sandbox.ids import normalize_id
from connectors.salesforce.sandbox.rest import ctx, field_list, full_record, sobject
from connectors.salesforce.sandbox.writes import WriteResult, failed

if TYPE_CHECKING:
    from connectors.salesforce.sandbox.org import SalesforceOrg

_ROLLED_BACK = FieldError(
    "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "Record rolled back because not all records were valid and the request was using AllOrNone header",
)


def _limit_error(max_records: int) -> ApiError:
    return ApiError(
        400,
        "EXCEEDED_ID_LIMIT",
        f"record limit reached. cannot submit more than {max_records} records into this call",
    )


def _records(org: SalesforceOrg, body: dict[str, Any]) -> list[dict[str, Any]]:
    records = body.get("records")
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise ApiError(400, "JSON_PARSER_ERROR", "records must be an array of sObjects")
    if len(records) > org.settings.collection_max_records:
        raise _limit_error(org.settings.collection_max_records)
    return records


def _type_of(org: SalesforceOrg, record: dict[str, Any]) -> str:
    attributes = record.get("attributes")
    name = attributes.get("type") if isinstance(attributes, dict) else None
    if not isinstance(name, str):
        raise ApiError(400, "INVALID_TYPE", "No SObject Type defined in the JSON")
    obj = org.schema.object_named(name)
    if obj is None:
        raise ApiError(400, "INVALID_TYPE", f"sObject type '{name}' is not supported.")
    return obj.name


def _run_all(
    org: SalesforceOrg, all_or_none: bool, count: int, operation: Callable[[int], WriteResult]
) -> ApiResponse:
    """Run `operation` per index inside one transaction; allOrNone rolls back everything on any failure."""
    with org.store.transaction() as tx:
        try:
            results = [operation(i) for i in range(count)]
        except ApiError:
            tx.rollback()
            raise
        if all_or_none and not all(r.success for r in results):
            tx.rollback()
            results = [r if not r.success else WriteResult(None, False, (_ROLLED_BACK,)) for r in results]
    return ApiResponse(200, [r.as_collection() for r in results])


def collection_create(org: SalesforceOrg, req: ApiRequest) -> ApiResponse:
    body = req.json_object()
    records = _records(org, body)
    types = [_type_of(org, r) for r in records]
    write_ctx = ctx(req)
    return _run_all(
        org,
        bool(body.get("allOrNone")),
        len(records),
        lambda i: org.writer.create(types[i], records[i], write_ctx),
    )


def collection_update(org: SalesforceOrg, req: ApiRequest) -> ApiResponse:
    body = req.json_object()
    records = _records(org, body)
    types = [_type_of(org, r) for r in records]
    write_ctx = ctx(req)

    def one(i: int) -> WriteResult:
        raw = records[i].get("Id")
        if not isinstance(raw, str) or not raw:
            return failed(FieldError("MISSING_ARGUMENT", "Id not specified in an update call"))
        record_id = normalize_id(raw)
        if record_id is None or org.schema.object_for_id(record_id) is not org.schema.objects[types[i]]:
            return failed(FieldError("MALFORMED_ID", f"Id: id value of incorrect type: {raw}", ("Id",)))
        return org.writer.update(types[i], record_id, records[i], write_ctx)

    return _run_all(org, bool(body.get("allOrNone")), len(records), one)


def collection_delete(org: SalesforceOrg, req: ApiRequest) -> ApiResponse:
    ids = [i for i in (req.params.get("ids") or "").split(",") if i]
    if not ids:
        raise ApiError(400, "MISSING_ARGUMENT", "ids parameter is required")
    if len(ids) > org.settings.collection_max_records:
        raise _limit_error(org.settings.collection_max_records)
    all_or_none = (req.params.get("allOrNone") or "false").lower() == "true"
    write_ctx = ctx(req)

    def one(i: int) -> WriteResult:
        record_id = normalize_id(ids[i])
        if record_id is None:
            return WriteResult(ids[i], False, (FieldError("MALFORMED_ID", f"malformed id {ids[i]}"),))
        return org.writer.delete(record_id, write_ctx)

    return _run_all(org, all_or_none, len(ids), one)


def collection_retrieve(org: SalesforceOrg, req: ApiRequest) -> ApiResponse:
    obj = sobject(org, req.path_params["sobject"])
    raw_ids: Any
    raw_fields: Any
    if req.method == "GET":
        raw_ids = [i for i in (req.params.get("ids") or "").split(",") if i]
        raw_fields = req.params.get("fields")
    else:
        body = req.json_object()
        raw_ids, raw_fields = body.get("ids"), body.get("fields")
    if not isinstance(raw_ids, list) or not raw_ids:
        raise ApiError(400, "MISSING_ARGUMENT", "ids must be a non-empty array")
    if not raw_fields:
        raise ApiError(400, "MISSING_ARGUMENT", "fields must be specified")
    if len(raw_ids) > org.settings.retrieve_max_ids:
        raise _limit_error(org.settings.retrieve_max_ids)
    fields = field_list(obj, raw_fields)
    out: list[dict[str, Any] | None] = []
    with org.store.lock:
        for raw in raw_ids:
            record_id = normalize_id(str(raw))
            record = org.store.get(obj.name, record_id) if record_id else None
            out.append(
                full_record(obj, record, req.version, fields)
                if record is not None and not record.get("IsDeleted")
                else None
            )
    return ApiResponse(200, out)


def collection_upsert(org: SalesforceOrg, req: ApiRequest) -> ApiResponse:
    obj = sobject(org, req.path_params["sobject"])
    f = obj.field_named(req.path_params["field"])
    if f is None or not (f.external_id or f.name == "Id"):
        raise ApiError(
            400,
            "INVALID_FIELD",
            f"Field name provided, {req.path_params['field']} is not an External ID "
            f"or indexed field for {obj.name}",
        )
    body = req.json_object()
    records = _records(org, body)
    for r in records:
        if _type_of(org, r) != obj.name:
            raise ApiError(400, "INVALID_TYPE", f"all records must be of type {obj.name}")
    write_ctx = ctx(req)

    def one(i: int) -> WriteResult:
        values = records[i]
        key = next((k for k in values if k.lower() == f.name.lower()), None)
        ext_value = values.get(key) if key else None
        if f.name != "Id" and (ext_value is None or ext_value == ""):
            return failed(FieldError("MISSING_ARGUMENT", f"{f.name} not specified", (f.name,)))
        outcome = org.writer.upsert(obj.name, f.name, str(ext_value or ""), values, write_ctx)
        if isinstance(outcome, list):
            return failed(
                FieldError(
                    "DUPLICATE_EXTERNAL_ID",
                    f"{f.name}: more than one record found for external id field: {outcome}",
                    (f.name,),
                )
            )
        return outcome

    return _run_all(org, bool(body.get("allOrNone")), len(records), one)


# ---- Composite ----------------------------------------------------------------------------------

_REF_RE = re.compile(r"@\{([A-Za-z0-9_]+)((?:\.[A-Za-z0-9_]+|\[\d+\])*)\}")
_HALTED = [
    {
        "errorCode": "PROCESSING_HALTED",
        "message": "The transaction was rolled back since another operation in the same transaction failed.",
    }
]


def _unresolved_message(exc: _Unresolved) -> str:
    ref = exc.reference_id
    return (
        f"Invalid reference specified. No value for {exc.expression} found in {ref}. Provided referenceId "
        f"({ref}) doesn't exist or your subrequest caused the referenced request to fail."
    )


class _Unresolved(Exception):
    def __init__(self, expression: str, reference_id: str) -> None:
        super().__init__(expression)
        self.expression = expression
        self.reference_id = reference_id


def _resolve(expression: str, reference_id: str, path: str, results: dict[str, Any]) -> Any:
    if reference_id not in results:
        raise _Unresolved(expression, reference_id)
    value = results[reference_id]
    for name, index in re.findall(r"\.([A-Za-z0-9_]+)|\[(\d+)\]", path):
        try:
            value = value[int(index)] if index else value[name]
        except (KeyError, IndexError, TypeError):
            raise _Unresolved(expression, reference_id) from None
    return value


def _substitute(value: Any, results: dict[str, Any]) -> Any:
    if isinstance(value, str):
        whole = _REF_RE.fullmatch(value)
        if whole:
            return _resolve(value, whole.group(1), whole.group(2), results)
        return _REF_RE.sub(lambda m: str(_resolve(m.group(0), m.group(1), m.group(2), results)), value)
    if isinstance(value, list):
        return [_substitute(v, results) for v in value]
    if isinstance(value, dict):
        return {k: _substitute(v, results) for k, v in value.items()}
    return value


def make_composite(api_routes: Sequence[ApiRoute]) -> Callable[[SalesforceOrg, ApiRequest], ApiResponse]:
    """The Composite handler, dispatching subrequests to the same handlers the REST routes use."""
    table = [
        (
            r,
            Route(
                "/services/data/v{version}" + r.template, endpoint=lambda request: None, methods=[r.method]
            ),
        )
        for r in api_routes
    ]

    def find(method: str, path: str) -> tuple[ApiRoute, dict[str, str]] | None:
        scope = {"type": "http", "path": path.rstrip("/") or path, "method": method}
        for api_route, route in table:
            match, child = route.matches(scope)
            if match is Match.FULL:
                return api_route, dict(child["path_params"])
        return None

    def composite(org: SalesforceOrg, req: ApiRequest) -> ApiResponse:
        body = req.json_object()
        subrequests = body.get("compositeRequest")
        if not isinstance(subrequests, list) or not subrequests:
            raise ApiError(400, "INVALID_INPUT", "compositeRequest must be a non-empty array")
        if len(subrequests) > org.settings.composite_max_subrequests:
            raise ApiError(
                400,
                "LIMIT_EXCEEDED",
                f"Composite request cannot have more than "
                f"{org.settings.composite_max_subrequests} subrequests",
            )
        plans = []
        seen_refs: set[str] = set()
        heavy = 0
        for sub in subrequests:
            if not isinstance(sub, dict):
                raise ApiError(400, "INVALID_INPUT", "each subrequest must be an object")
            method, url, ref = sub.get("method"), sub.get("url"), sub.get("referenceId")
            if not isinstance(method, str) or not isinstance(url, str) or not isinstance(ref, str):
                raise ApiError(
                    400, "INVALID_INPUT", "method, url and referenceId are required in each subrequest"
                )
            if not re.fullmatch(r"[A-Za-z0-9_]+", ref) or ref in seen_refs:
                raise ApiError(400, "INVALID_INPUT", f"Duplicate or invalid referenceId: {ref}")
            seen_refs.add(ref)
            found = find(method.upper(), urlsplit(url).path)
            if found is not None and found[0].kind in ("query", "collection"):
                heavy += 1
            plans.append(sub)
        if heavy > org.settings.composite_max_queries:
            raise ApiError(
                400,
                "LIMIT_EXCEEDED",
                f"Composite request cannot have more than "
                f"{org.settings.composite_max_queries} query or collection "
                "subrequests",
            )
        all_or_none = bool(body.get("allOrNone"))
        results: dict[str, Any] = {}
        responses: list[dict[str, Any]] = []
        with org.store.transaction() as tx:
            for index, sub in enumerate(plans):
                ref = sub["referenceId"]
                try:
                    url = _substitute(sub["url"], results)
                    sub_body = _substitute(sub.get("body"), results)
                except _Unresolved as exc:
                    responses.append(
                        {
                            "body": [
                                {
                                    "errorCode": "PROCESSING_HALTED",
                                    "message": _unresolved_message(exc),
                                }
                            ],
                            "httpHeaders": {},
                            "httpStatusCode": 400,
                            "referenceId": ref,
                        }
                    )
                    if all_or_none:
                        tx.rollback()
                        responses = _halt(responses, index, plans)
                        break
                    continue
                response = _dispatch(
                    org, req, find, sub["method"].upper(), url, sub_body, sub.get("httpHeaders") or {}
                )
                entry = {
                    "body": response.body,
                    "httpHeaders": dict(response.headers),
                    "httpStatusCode": response.status,
                    "referenceId": ref,
                }
                responses.append(entry)
                if response.status < 400:
                    results[ref] = response.body
                elif all_or_none:
                    tx.rollback()
                    responses = _halt(responses, index, plans)
                    break
        return ApiResponse(200, {"compositeResponse": responses})

    return composite


def _halt(
    responses: list[dict[str, Any]], failed_index: int, plans: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    out = []
    for index, sub in enumerate(plans):
        if index == failed_index:
            out.append(responses[index])
        else:
            out.append(
                {"body": _HALTED, "httpHeaders": {}, "httpStatusCode": 400, "referenceId": sub["referenceId"]}
            )
    return out


def _dispatch(
    org: SalesforceOrg,
    outer: ApiRequest,
    find: Callable[[str, str], tuple[ApiRoute, dict[str, str]] | None],
    method: str,
    url: str,
    body: Any,
    headers: dict[str, Any],
) -> ApiResponse:
    parts = urlsplit(url)
    path = parts.path
    found = find(method, path)
    if found is None:
        return ApiResponse(
            404, [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}]
        )
    api_route, path_params = found
    if api_route.template == "/composite":
        return ApiResponse(
            400, [{"errorCode": "INVALID_INPUT", "message": "composite requests cannot be nested"}]
        )
    merged_headers = dict(outer.headers)
    merged_headers.update({str(k).lower(): str(v) for k, v in headers.items()})
    sub = ApiRequest(
        method=method,
        path=path,
        version=path_params.get("version", outer.version),
        path_params=path_params,
        params=dict(parse_qsl(parts.query, keep_blank_values=True)),
        headers=merged_headers,
        body=b"",
        instance_url=outer.instance_url,
        user_id=outer.user_id,
        parsed_body=body,
    )
    try:
        response = api_route.handler(org, sub)
    except ApiError as exc:
        return ApiResponse(exc.status, exc.body())
    if (
        response.status == 201
        and isinstance(response.body, dict)
        and "id" in response.body
        and "Location" not in response.headers
        and "/sobjects/" in path
    ):
        return ApiResponse(
            201, response.body, headers={"Location": f"{path.rstrip('/')}/{response.body['id']}"}
        )
    return response


def routes() -> list[ApiRoute]:
    return [
        ApiRoute("POST", "/composite/sobjects", collection_create, "collection"),
        ApiRoute("PATCH", "/composite/sobjects", collection_update, "collection"),
        ApiRoute("DELETE", "/composite/sobjects", collection_delete, "collection"),
        ApiRoute("GET", "/composite/sobjects/{sobject}", collection_retrieve, "collection"),
        ApiRoute("POST", "/composite/sobjects/{sobject}", collection_retrieve, "collection"),
        ApiRoute("PATCH", "/composite/sobjects/{sobject}/{field}", collection_upsert, "collection"),
    ]
