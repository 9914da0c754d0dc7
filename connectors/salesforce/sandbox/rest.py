"""REST resources: describe, sObject CRUD and upsert, SOQL query paging, limits and replication."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from connectors.salesforce.sandbox.api import ApiRequest, ApiResponse, ApiRoute
from connectors.salesforce.sandbox.errors import ApiError, not_found
from connectors.salesforce.sandbox.ids import normalize_id
from connectors.salesforce.sandbox.query import aggregate
from connectors.salesforce.sandbox.schema import ObjectDef, describe_global_entry, describe_object
from connectors.salesforce.sandbox.store import Record, sf_datetime
from connectors.salesforce.sandbox.writes import WriteContext, WriteResult

if TYPE_CHECKING:
    from connectors.salesforce.sandbox.org import SalesforceOrg

_SEASONS = ("Winter", "Spring", "Summer")


def release_label(version: str) -> str:
    """Release name of an API version (59.0 was Winter '24; three releases a year)."""
    k = int(float(version)) - 59
    return f"{_SEASONS[k % 3]} '{24 + k // 3:02d}"


def supported_versions(org: SalesforceOrg) -> list[str]:
    low = int(float(org.settings.oldest_api_version))
    high = int(float(org.settings.latest_api_version))
    return [f"{v}.0" for v in range(low, high + 1)]


def versions_list(org: SalesforceOrg) -> list[dict[str, str]]:
    return [
        {"label": release_label(v), "url": f"/services/data/v{v}", "version": v}
        for v in supported_versions(org)
    ]


def sobject(org: SalesforceOrg, name: str) -> ObjectDef:
    obj = org.schema.object_named(name)
    if obj is None:
        raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
    return obj


def ctx(req: ApiRequest) -> WriteContext:
    return WriteContext(user_id=req.user_id, allow_duplicates=req.allow_duplicates)


def record_url(version: str, sobject_name: str, record_id: str) -> str:
    return f"/services/data/v{version}/sobjects/{sobject_name}/{record_id}"


def full_record(
    obj: ObjectDef, record: Record, version: str, fields: list[str] | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "attributes": {"type": obj.name, "url": record_url(version, obj.name, record["Id"])}
    }
    for name in fields if fields is not None else obj.fields:
        out[name] = record.get(name)
    return out


def field_list(obj: ObjectDef, raw: str | list[Any] | None) -> list[str] | None:
    if raw is None:
        return None
    names = [n.strip() for n in raw.split(",")] if isinstance(raw, str) else [str(n) for n in raw]
    out = []
    for name in names:
        if not name:
            continue
        f = obj.field_named(name)
        if f is None:
            raise ApiError(
                400,
                "INVALID_FIELD",
                f"No such column '{name}' on entity '{obj.name}'. If you are "
                "attempting to use a custom field, be sure to append the '__c' after the custom field "
                "name. Please reference your WSDL or the describe call for the appropriate names.",
            )
        out.append(f.name)
    return out


def write_failure(result: WriteResult) -> ApiResponse:
    return ApiResponse(400, [e.as_rest() for e in result.errors])


# ---- resources ----------------------------------------------------------------------------------


def resources(org: SalesforceOrg, req: ApiRequest) -> ApiResponse:
    base = f"/services/data/v{req.version}"
    names = ("sobjects", "query", "queryAll", "limits", "composite", "jobs/ingest", "jobs/query", "search")
    return ApiResponse(200, {name: f"{base}/{name}" for name in names})


def describe_global(org: SalesforceOrg, req: ApiRequest) -> ApiResponse:
    return ApiResponse(
        200,
        {
            "encoding": "UTF-8",
            "maxBatchSize": 200,
            "sobjects": [describe_global_entry(o, req.version) for o in org.schema.objects.values()],
        },
    )


def sobject_basic(org: SalesforceOrg, req: ApiRequest) -> ApiResponse:
    obj = sobject(org, req.path_params["sobject"])
    rows = [r for r in org.store.tables[obj.name].values() if not r.get("IsDeleted")]
    recent = sorted(rows, key=lambda r: r.get("LastModifiedDate") or "", reverse=True)[:10]
    items = []
    for r in recent:
        item: dict[str, Any] = {
            "attributes": {"type": obj.name, "url": record_url(req.version, obj.name, r["Id"])},
            "Id": r["Id"],
        }
        if "Name" in obj.fields:
            item["Name"] = r.get("Name")
        items.append(item)
    return ApiResponse(200, {"objectDescribe": describe_global_entry(obj, req.version), "recentItems": items})


def describe(org: SalesforceOrg, req: ApiRequest) -> ApiResponse:
    obj = sobject(org, req.path_params["sobject"])
    return ApiResponse(200, describe_object(org.schema, obj, req.version))


def create(org: SalesforceOrg, req: ApiRequest) -> ApiResponse:
    obj = sobject(org, req.path_params["sobject"])
    body = req.json_object()
    if not obj.createable:
        raise ApiError(
            400, "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY", f"entity type {obj.name} does not support insert"
        )
    with org.store.lock:
        result = org.writer.create(obj.name, body, ctx(req))
    if not result.success:
        return write_failure(result)
    return ApiResponse(
        201,
        {"id": result.id, "success": True, "errors": []},
        headers={"Location": record_url(req.version, obj.name, result.id or "")},
    )


def _live_record(org: SalesforceOrg, obj: ObjectDef, raw_id: str) -> Record:
    record_id = normalize_id(raw_id)
    if record_id is None:
        raise ApiError(
            404, "NOT_FOUND", f"Provided external ID field does not exist or is not accessible: {raw_id}"
        )
    record = org.store.get(obj.name, record_id)
    if record is None:
        raise not_found()
    if record.get("IsDeleted"):
        raise ApiError(404, "ENTITY_IS_DELETED", "entity is deleted")
    return record


def retrieve(org: SalesforceOrg, req: ApiRequest) -> ApiResponse:
    obj = sobject(org, req.path_params["sobject"])
    fields = field_list(obj, req.params.get("fields"))
    record = _live_record(org, obj, req.path_params["record_id"])
    return ApiResponse(200, full_record(obj, record, req.version, fields))


def update(org: SalesforceOrg, req: ApiRequest) -> ApiResponse:
    obj = sobject(org, req.path_params["sobject"])
    body = req.json_object()
    with org.store.lock:
        record = _live_record(org, obj, req.path_params["record_id"])
        result = org.writer.update(obj.name, record["Id"], body, ctx(req))
    if not result.success:
        return write_failure(result)
    return ApiResponse(204)


def delete(org: SalesforceOrg, req: ApiRequest) -> ApiResponse:
    obj = sobject(org, req.path_params["sobject"])
    with org.store.lock:
        record = _live_record(org, obj, req.path_params["record_id"])
        result = org.writer.delete(record["Id"], ctx(req))
    if not result.success:
        return write_failure(result)
    return ApiResponse(204)


def _external_field(obj: ObjectDef, name: str) -> str:
    f = obj.field_named(name)
    if f is None or not (f.external_id or f.name == "Id"):
        raise ApiError(
            404, "NOT_FOUND", f"Provided external ID field does not exist or is not accessible: {name}"
        )
    return f.name


def _matches(org: SalesforceOrg, obj: ObjectDef, field: str, value: str) -> list[str]:
    if field == "Id":
        record_id = normalize_id(value)
        record = org.store.get(obj.name, record_id) if record_id else None
        return [record_id] if record_id and record is not None and not record.get("IsDeleted") else []
    return [
        i
        for i in org.store.find_by(obj.name, field, value)
        if not org.store.tables[obj.name][i].get("IsDeleted")
    ]


def by_external_id(org: SalesforceOrg, req: ApiRequest) -> ApiResponse:
    obj = sobject(org, req.path_params["sobject"])
    field = _external_field(obj, req.path_params["field"])
    matches = _matches(org, obj, field, req.path_params["value"])
    if not matches:
        raise not_found()
    if len(matches) > 1:
        return ApiResponse(300, [record_url(req.version, obj.name, i) for i in matches])
    return ApiResponse(
        200,
        full_record(
            obj,
            org.store.tables[obj.name][matches[0]],
            req.version,
            field_list(obj, req.params.get("fields")),
        ),
    )


def upsert(org: SalesforceOrg, req: ApiRequest) -> ApiResponse:
    obj = sobject(org, req.path_params["sobject"])
    field = _external_field(obj, req.path_params["field"])
    body = req.json_object()
    with org.store.lock:
        outcome = org.writer.upsert(obj.name, field, req.path_params["value"], body, ctx(req))
    if isinstance(outcome, list):
        return ApiResponse(300, [record_url(req.version, obj.name, i) for i in outcome])
    if not outcome.success:
        if outcome.errors and outcome.errors[0].code == "NOT_FOUND":
            raise ApiError(404, "NOT_FOUND", outcome.errors[0].message)
        return write_failure(outcome)
    if not outcome.created and float(req.version) < 46:
        return ApiResponse(204)  # before API 46.0 an upsert that updated answered with no body
    body_out: dict[str, Any] = {
        "id": outcome.id,
        "success": True,
        "errors": [],
        "created": bool(outcome.created),
    }
    return ApiResponse(201 if outcome.created else 200, body_out)


def delete_by_external_id(org: SalesforceOrg, req: ApiRequest) -> ApiResponse:
    obj = sobject(org, req.path_params["sobject"])
    field = _external_field(obj, req.path_params["field"])
    with org.store.lock:
        matches = _matches(org, obj, field, req.path_params["value"])
        if not matches:
            raise not_found()
        if len(matches) > 1:
            return ApiResponse(300, [record_url(req.version, obj.name, i) for i in matches])
        result = org.writer.delete(matches[0], ctx(req))
    return ApiResponse(204) if result.success else write_failure(result)


# ---- SOQL ---------------------------------------------------------------------------------------


def _batch_size(org: SalesforceOrg, req: ApiRequest) -> int:
    size = org.settings.query_batch_size
    options = req.header("Sforce-Query-Options") or ""
    for part in options.split(","):
        key, _, value = part.strip().partition("=")
        if key.strip().lower() == "batchsize" and value.strip().isdigit():
            size = min(max(int(value), 200), 2000)
    return size


def run_query(org: SalesforceOrg, req: ApiRequest, text: str, include_deleted: bool) -> dict[str, Any]:
    with org.store.lock:
        plan = org.compiler.compile(text, org.clock.now().date())
        rows = org.compiler.execute(plan, include_deleted)
    if plan.count_only:
        return {"totalSize": len(rows), "done": True, "records": []}
    if plan.grouped:
        records = aggregate(plan, rows)
        return {"totalSize": len(records), "done": True, "records": records}
    return org.cursors.first_page(plan, rows, req.version, _batch_size(org, req), org.clock.now())


def query(org: SalesforceOrg, req: ApiRequest) -> ApiResponse:
    text = req.params.get("q")
    if not text:
        raise ApiError(400, "MALFORMED_QUERY", "A query string has to be specified")
    return ApiResponse(
        200, run_query(org, req, text, include_deleted=req.path.rstrip("/").endswith("queryAll"))
    )


def query_more(org: SalesforceOrg, req: ApiRequest) -> ApiResponse:
    locator, _, position = req.path_params["locator"].rpartition("-")
    if not locator or not position.isdigit():
        raise ApiError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
    return ApiResponse(200, org.cursors.next_page(locator, int(position), req.version, org.clock.now()))


# ---- limits -------------------------------------------------------------------------------------


def limits(org: SalesforceOrg, req: ApiRequest) -> ApiResponse:
    limit = org.api_budget.limit
    used = org.api_budget.used()
    rows = sum(len(t) for t in org.store.tables.values())
    return ApiResponse(
        200,
        {
            "DailyApiRequests": {"Max": limit, "Remaining": max(limit - used, 0)},
            "DailyAsyncApexExecutions": {"Max": 250000, "Remaining": 250000},
            "DailyBulkApiBatches": {"Max": 15000, "Remaining": 15000},
            "DailyBulkV2QueryFileStorageMB": {"Max": 976562, "Remaining": 976562},
            "DailyBulkV2QueryJobs": {
                "Max": 10000,
                "Remaining": 10000 - sum(1 for j in org.bulk_jobs.values() if getattr(j, "is_query", False)),
            },
            "DataStorageMB": {
                "Max": 5,
                "Remaining": 5 - rows * 2 // 1024,
            },  # ~2 KB per record, as Salesforce counts
            "HourlyPublishedPlatformEvents": {"Max": 50000, "Remaining": 50000},
            "MassEmail": {"Max": 10, "Remaining": 10},
            "SingleEmail": {"Max": 15, "Remaining": 15},
        },
    )


# ---- replication --------------------------------------------------------------------------------


def _replication_time(req: ApiRequest, name: str) -> datetime:
    raw = req.params.get(name)
    if not raw:
        raise ApiError(400, "MISSING_ARGUMENT", f"{name} parameter is required")
    text = raw.strip().replace(" ", "+").replace("Z", "+00:00")
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ApiError(400, "INVALID_REPLICATION_DATE", f"{name} is not a valid dateTime: {raw}") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    # The replication API ignores seconds.
    return when.astimezone(UTC).replace(second=0, microsecond=0)


def _window(org: SalesforceOrg, req: ApiRequest, days: int) -> tuple[datetime, datetime, datetime]:
    start = _replication_time(req, "start")
    end = _replication_time(req, "end")
    now = org.clock.now().astimezone(UTC)
    if end <= start:
        raise ApiError(
            400,
            "INVALID_REPLICATION_DATE",
            "startDate must chronologically precede endDate by more than one minute",
        )
    if start < now - timedelta(days=days):
        raise ApiError(400, "INVALID_REPLICATION_DATE", f"startDate cannot be more than {days} days ago")
    latest = min(end, now.replace(second=0, microsecond=0))
    return start, end, latest


def updated(org: SalesforceOrg, req: ApiRequest) -> ApiResponse:
    obj = sobject(org, req.path_params["sobject"])
    start, _, latest = _window(org, req, org.settings.updated_window_days)
    lo, hi = sf_datetime(start), sf_datetime(latest)
    with org.store.lock:
        ids = [
            r["Id"]
            for r in org.store.tables[obj.name].values()
            if not r.get("IsDeleted") and lo <= (r.get("SystemModstamp") or "") < hi
        ]
    if len(ids) > org.settings.updated_max_ids:
        raise ApiError(
            400,
            "EXCEEDED_ID_LIMIT",
            f"more than {org.settings.updated_max_ids} ids found; choose start "
            "and end dates that are closer together",
        )
    return ApiResponse(200, {"ids": ids, "latestDateCovered": hi})


def deleted(org: SalesforceOrg, req: ApiRequest) -> ApiResponse:
    obj = sobject(org, req.path_params["sobject"])
    start, _, latest = _window(org, req, org.settings.deleted_window_days)
    now = org.clock.now().astimezone(UTC)
    earliest = now - timedelta(days=org.settings.deleted_window_days)
    if org.deleted_log_start is not None and org.deleted_log_start > earliest:
        earliest = org.deleted_log_start
    earliest = earliest.replace(second=0, microsecond=0)
    if start < earliest:
        raise ApiError(
            400,
            "INVALID_REPLICATION_DATE",
            f"startDate is before the earliestDateAvailable {sf_datetime(earliest)}",
        )
    lo, hi = sf_datetime(start), sf_datetime(latest)
    with org.store.lock:
        rows = [
            {"id": d.record_id, "deletedDate": d.deleted_at}
            for d in org.store.deletions
            if d.sobject == obj.name
            and lo <= d.deleted_at < hi
            and (org.store.tables[obj.name].get(d.record_id) or {}).get("IsDeleted")
        ]
    return ApiResponse(
        200, {"deletedRecords": rows, "earliestDateAvailable": sf_datetime(earliest), "latestDateCovered": hi}
    )


def routes() -> list[ApiRoute]:
    return [
        ApiRoute("GET", "", resources),
        ApiRoute("GET", "/sobjects", describe_global),
        ApiRoute("GET", "/sobjects/{sobject}", sobject_basic),
        ApiRoute("POST", "/sobjects/{sobject}", create),
        ApiRoute("GET", "/sobjects/{sobject}/describe", describe),
        ApiRoute("GET", "/sobjects/{sobject}/updated", updated),
        ApiRoute("GET", "/sobjects/{sobject}/deleted", deleted),
        ApiRoute("GET", "/sobjects/{sobject}/{record_id}", retrieve),
        ApiRoute("PATCH", "/sobjects/{sobject}/{record_id}", update),
        ApiRoute("DELETE", "/sobjects/{sobject}/{record_id}", delete),
        ApiRoute("GET", "/sobjects/{sobject}/{field}/{value}", by_external_id),
        ApiRoute("PATCH", "/sobjects/{sobject}/{field}/{value}", upsert),
        ApiRoute("DELETE", "/sobjects/{sobject}/{field}/{value}", delete_by_external_id),
        ApiRoute("GET", "/query", query, "query"),
        ApiRoute("GET", "/queryAll", query, "query"),
        ApiRoute("GET", "/query/{locator}", query_more, "query"),
        ApiRoute("GET", "/queryAll/{locator}", query_more, "query"),
        ApiRoute("GET", "/limits", limits),
    ]
