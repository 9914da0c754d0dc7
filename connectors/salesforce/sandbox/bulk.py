"""Bulk API 2.0: CSV ingest jobs (insert/update/upsert/delete) and query jobs with locator paging."""

from __future__ import annotations

import base64
import binascii
import csv
import io
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from connectors.salesforce.sandbox.api import ApiRequest, ApiResponse, ApiRoute
from connectors.salesforce.sandbox.errors import ApiError, FieldError
from connectors.salesforce.sandbox.ids import normalize_id
from connectors.salesforce.sandbox.query import QueryPlan
from connectors.salesforce.sandbox.rest import ctx
from connectors.salesforce.sandbox.store import Record, sf_datetime
from connectors.salesforce.sandbox.writes import WriteResult, failed

if TYPE_CHECKING:
    from connectors.salesforce.sandbox.org import SalesforceOrg

_DELIMITERS = {"COMMA": ",", "TAB": "\t", "PIPE": "|", "SEMICOLON": ";", "CARET": "^", "BACKQUOTE": "`"}
_LINE_ENDINGS = {"LF": "\n", "CRLF": "\r\n"}
_INGEST_OPERATIONS = ("insert", "update", "upsert", "delete", "hardDelete")
CSV_TYPE = "text/csv"


@dataclass
class BulkJob:
    """One Bulk API 2.0 job and its results."""

    id: str
    operation: str
    sobject: str
    created: str
    created_by: str
    version: str
    line_ending: str
    column_delimiter: str
    external_id_field: str | None = None
    state: str = "Open"
    modified: str = ""
    is_query: bool = False
    upload: bytes | None = None
    columns: list[str] = field(default_factory=list)
    successes: list[tuple[str, bool, list[str]]] = field(default_factory=list)
    failures: list[tuple[str, str, list[str]]] = field(default_factory=list)
    unprocessed: list[list[str]] = field(default_factory=list)
    plan: QueryPlan | None = None
    rows: list[Record] = field(default_factory=list)
    polls_left: int = 0
    error_message: str | None = None

    def info(self, detailed: bool) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "operation": self.operation,
            "object": self.sobject,
            "createdById": self.created_by,
            "createdDate": self.created,
            "systemModstamp": self.modified or self.created,
            "state": self.state,
        }
        if self.external_id_field:
            out["externalIdFieldName"] = self.external_id_field
        out.update({"concurrencyMode": "Parallel", "contentType": "CSV", "apiVersion": float(self.version)})
        if not self.is_query:
            out["contentUrl"] = f"services/data/v{self.version}/jobs/ingest/{self.id}/batches"
        out.update({"lineEnding": self.line_ending, "columnDelimiter": self.column_delimiter})
        if detailed:
            out["jobType"] = "V2Query" if self.is_query else "V2Ingest"
            processed = len(self.rows) if self.is_query else len(self.successes) + len(self.failures)
            out["numberRecordsProcessed"] = (
                processed if self.state == "JobComplete" or not self.is_query else 0
            )
            if not self.is_query:
                out["numberRecordsFailed"] = len(self.failures)
            out.update(
                {
                    "retries": 0,
                    "totalProcessingTime": 0,
                    "apiActiveProcessingTime": 0,
                    "apexProcessingTime": 0,
                }
            )
            if self.is_query:
                out["isPkChunkingSupported"] = False
            if self.error_message:
                out["errorMessage"] = self.error_message
        return out


def _job(org: SalesforceOrg, req: ApiRequest, query: bool) -> BulkJob:
    job = org.bulk_jobs.get(req.path_params["job_id"])
    if not isinstance(job, BulkJob) or job.is_query != query:
        raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
    return job


def _format(body: dict[str, Any]) -> tuple[str, str]:
    delimiter = str(body.get("columnDelimiter") or "COMMA")
    line_ending = str(body.get("lineEnding") or "LF")
    if delimiter not in _DELIMITERS or line_ending not in _LINE_ENDINGS:
        raise ApiError(
            400,
            "INVALIDJOB",
            f"InvalidJob : unsupported columnDelimiter {delimiter} or lineEnding {line_ending}",
        )
    return delimiter, line_ending


def _csv_text(job: BulkJob, header: list[str], rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(
        buffer,
        delimiter=_DELIMITERS[job.column_delimiter],
        lineterminator=_LINE_ENDINGS[job.line_ending],
        quoting=csv.QUOTE_ALL,
    )
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode()


# ---- ingest -------------------------------------------------------------------------------------


def create_ingest(org: SalesforceOrg, req: ApiRequest) -> ApiResponse:
    body = req.json_object()
    operation = body.get("operation")
    if operation not in _INGEST_OPERATIONS:
        raise ApiError(400, "INVALIDJOB", f"InvalidJob : Invalid operation: {operation}")
    obj = org.schema.object_named(str(body.get("object") or ""))
    if obj is None:
        raise ApiError(400, "INVALIDJOB", f"InvalidJob : Unable to find object: {body.get('object')}")
    if body.get("contentType", "CSV") != "CSV":
        raise ApiError(400, "INVALIDJOB", "InvalidJob : contentType must be CSV")
    delimiter, line_ending = _format(body)
    ext = body.get("externalIdFieldName")
    if operation == "upsert":
        f = obj.field_named(str(ext or ""))
        if f is None or not (f.external_id or f.name == "Id"):
            raise ApiError(
                400,
                "INVALIDJOB",
                f"InvalidJob : External ID was blank for {obj.name}. An External ID "
                "must be specified for upsert.",
            )
        ext = f.name
    now = sf_datetime(org.clock.now())
    job = BulkJob(
        id=org.ids.new("750"),
        operation=operation,
        sobject=obj.name,
        created=now,
        created_by=req.user_id,
        version=req.version,
        line_ending=line_ending,
        column_delimiter=delimiter,
        external_id_field=ext if operation == "upsert" else None,
    )
    org.bulk_jobs[job.id] = job
    return ApiResponse(200, job.info(False))


def upload(org: SalesforceOrg, req: ApiRequest) -> ApiResponse:
    job = _job(org, req, query=False)
    if job.state != "Open" or job.upload is not None:
        raise ApiError(409, "INVALIDJOBSTATE", f"Job {job.id} is not in the Open state or already has data")
    job.upload = req.body
    return ApiResponse(201, raw=b"", content_type="text/plain")


def _process(org: SalesforceOrg, job: BulkJob, req: ApiRequest) -> None:
    text = (job.upload or b"").decode("utf-8-sig")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_DELIMITERS[job.column_delimiter])
    rows = [row for row in reader if row]
    if not rows:
        job.state, job.error_message = "Failed", "InvalidBatch : Empty CSV file"
        return
    header = rows[0]
    obj = org.schema.objects[job.sobject]
    for name in header:
        if obj.field_named(name) is None:
            job.state, job.error_message = "Failed", f"InvalidBatch : Field name not found : {name}"
            job.unprocessed = rows[1:]
            job.columns = header
            return
    job.columns = header
    write_ctx = ctx(req)
    for row in rows[1:]:
        values: dict[str, Any] = {}
        for name, cell in zip(header, row, strict=False):
            if cell == "":
                continue
            values[name] = None if cell == "#N/A" else cell
        result = _apply(org, job, values, write_ctx)
        if result.success:
            job.successes.append((result.id or "", bool(result.created), row))
        else:
            error = result.errors[0] if result.errors else FieldError("UNKNOWN_EXCEPTION", "failed")
            job.failures.append(
                (result.id or "", f"{error.code}:{error.message}:{','.join(error.fields)} --", row)
            )
    job.state = "InProgress" if org.settings.bulk_in_progress_polls > 0 else "JobComplete"
    job.polls_left = org.settings.bulk_in_progress_polls


def _apply(org: SalesforceOrg, job: BulkJob, values: dict[str, Any], write_ctx: Any) -> WriteResult:
    try:
        if job.operation == "insert":
            return org.writer.create(job.sobject, values, write_ctx)
        if job.operation == "upsert":
            assert job.external_id_field is not None
            key = next((k for k in values if k.lower() == job.external_id_field.lower()), None)
            ext_value = values.get(key) if key else None
            if ext_value is None:
                return failed(FieldError("MISSING_ARGUMENT", f"{job.external_id_field} not specified"))
            outcome = org.writer.upsert(job.sobject, job.external_id_field, str(ext_value), values, write_ctx)
            if isinstance(outcome, list):
                return failed(
                    FieldError(
                        "DUPLICATE_EXTERNAL_ID",
                        f"more than one record found for external id field: {outcome}",
                    )
                )
            return outcome
        raw_id = next((v for k, v in values.items() if k.lower() == "id"), None)
        record_id = normalize_id(str(raw_id)) if raw_id else None
        if record_id is None:
            return failed(FieldError("MISSING_ARGUMENT", "Id not specified"))
        if job.operation == "update":
            return org.writer.update(job.sobject, record_id, values, write_ctx)
        result = org.writer.delete(record_id, write_ctx)
        if result.success and job.operation == "hardDelete":
            org.store.remove(job.sobject, record_id)
        return result
    except ApiError as exc:
        return failed(FieldError(exc.code, exc.message))


def set_state(org: SalesforceOrg, req: ApiRequest, query: bool) -> ApiResponse:
    job = _job(org, req, query)
    state = req.json_object().get("state")
    if state == "Aborted":
        if job.state in ("JobComplete", "Failed", "Aborted"):
            raise ApiError(400, "INVALIDJOBSTATE", f"Job {job.id} is already {job.state}")
        job.state = "Aborted"
        if not query and job.upload is not None and not job.successes and not job.failures:
            text = job.upload.decode("utf-8-sig")
            rows = [
                r
                for r in csv.reader(
                    io.StringIO(text, newline=""), delimiter=_DELIMITERS[job.column_delimiter]
                )
                if r
            ]
            job.columns, job.unprocessed = (rows[0], rows[1:]) if rows else ([], [])
    elif state == "UploadComplete" and not query:
        if job.state != "Open":
            raise ApiError(400, "INVALIDJOBSTATE", f"Job {job.id} is not Open")
        job.modified = sf_datetime(org.clock.now())
        with org.store.lock:
            _process(org, job, req)
        info = job.info(False)
        info["state"] = "UploadComplete"
        return ApiResponse(200, info)
    else:
        raise ApiError(400, "INVALIDJOBSTATE", f"Cannot change job state to {state}")
    job.modified = sf_datetime(org.clock.now())
    return ApiResponse(200, job.info(False))


def get_job(org: SalesforceOrg, req: ApiRequest, query: bool) -> ApiResponse:
    job = _job(org, req, query)
    if job.state == "InProgress":
        if job.polls_left > 0:
            job.polls_left -= 1
        else:
            job.state = "JobComplete"
    return ApiResponse(200, job.info(True))


def delete_job(org: SalesforceOrg, req: ApiRequest, query: bool) -> ApiResponse:
    job = _job(org, req, query)
    if job.state in ("Open", "InProgress"):
        raise ApiError(
            400, "INVALIDJOBSTATE", f"Job {job.id} must be completed or aborted before it is deleted"
        )
    del org.bulk_jobs[job.id]
    return ApiResponse(204)


def ingest_results(kind: str) -> Callable[[SalesforceOrg, ApiRequest], ApiResponse]:
    def handler(org: SalesforceOrg, req: ApiRequest) -> ApiResponse:
        job = _job(org, req, query=False)
        if kind == "successfulResults":
            header = ["sf__Id", "sf__Created", *job.columns]
            rows = [[i, "true" if created else "false", *row] for i, created, row in job.successes]
        elif kind == "failedResults":
            header = ["sf__Id", "sf__Error", *job.columns]
            rows = [[i, error, *row] for i, error, row in job.failures]
        else:
            header, rows = list(job.columns), job.unprocessed
        return ApiResponse(200, raw=_csv_text(job, header, rows), content_type=CSV_TYPE)

    return handler


# ---- query --------------------------------------------------------------------------------------


def create_query(org: SalesforceOrg, req: ApiRequest) -> ApiResponse:
    body = req.json_object()
    operation = body.get("operation", "query")
    if operation not in ("query", "queryAll"):
        raise ApiError(400, "INVALIDJOB", f"InvalidJob : Invalid operation: {operation}")
    text = body.get("query")
    if not isinstance(text, str) or not text.strip():
        raise ApiError(400, "INVALIDJOB", "InvalidJob : query is required")
    delimiter, line_ending = _format(body)
    with org.store.lock:
        plan = org.compiler.compile(text, org.clock.now().date())
        if plan.count_only or plan.grouped or plan.offset or plan.has_subqueries:
            raise ApiError(
                400,
                "INVALIDJOB",
                "InvalidJob : aggregates, OFFSET and subqueries are not supported by Bulk API 2.0 query jobs",
            )
        rows = org.compiler.execute(plan, include_deleted=operation == "queryAll")
    now = sf_datetime(org.clock.now())
    job_id = org.ids.new("750")
    if not plan.sort_keys and org.settings.bulk_query_shuffle:
        rows = _unordered(rows, job_id)
    job = BulkJob(
        id=job_id,
        operation=operation,
        sobject=plan.sobject.name,
        created=now,
        created_by=req.user_id,
        version=req.version,
        line_ending=line_ending,
        column_delimiter=delimiter,
        is_query=True,
        plan=plan,
        rows=rows,
        # Accepted (the create answer says UploadComplete), then InProgress for the configured polls.
        state="InProgress",
        polls_left=org.settings.bulk_in_progress_polls,
    )
    if job.polls_left == 0:
        job.state = "JobComplete"
    org.bulk_jobs[job.id] = job
    info = job.info(False)
    info["state"] = "UploadComplete"
    return ApiResponse(200, info)


def _unordered(rows: list[Record], job_id: str, chunk: int = 100) -> list[Record]:
    """Bulk query results come from parallel chunks in no set order; shuffle chunks deterministically."""
    chunks = [rows[i : i + chunk] for i in range(0, len(rows), chunk)]
    random.Random(job_id).shuffle(chunks)
    return [row for part in chunks for row in part]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def query_results(org: SalesforceOrg, req: ApiRequest) -> ApiResponse:
    job = _job(org, req, query=True)
    if job.state != "JobComplete":
        raise ApiError(400, "INVALIDJOBSTATE", f"Job {job.id} is not complete yet")
    assert job.plan is not None
    start = 0
    locator = req.params.get("locator")
    if locator:
        try:
            start = int(base64.b64decode(locator + "=" * (-len(locator) % 4)).decode())
        except (ValueError, binascii.Error):
            raise ApiError(400, "INVALIDLOCATOR", f"Invalid locator: {locator}") from None
    raw_max = req.params.get("maxRecords")
    page = (
        int(raw_max)
        if raw_max and raw_max.isdigit() and int(raw_max) > 0
        else org.settings.bulk_query_page_default
    )
    end = min(start + page, len(job.rows))
    getters = [get for _, get in job.plan.columns]
    rows = [[_cell(get(r)) for get in getters] for r in job.rows[start:end]]
    next_locator = base64.b64encode(str(end).encode()).decode().rstrip("=") if end < len(job.rows) else "null"
    return ApiResponse(
        200,
        raw=_csv_text(job, [name for name, _ in job.plan.columns], rows),
        content_type=CSV_TYPE,
        headers={"Sforce-Locator": next_locator, "Sforce-NumberOfRecords": str(end - start)},
    )


def list_jobs(query: bool) -> Callable[[SalesforceOrg, ApiRequest], ApiResponse]:
    def handler(org: SalesforceOrg, req: ApiRequest) -> ApiResponse:
        jobs = [
            j.info(False) for j in org.bulk_jobs.values() if isinstance(j, BulkJob) and j.is_query == query
        ]
        return ApiResponse(200, {"done": True, "records": jobs, "nextRecordsUrl": None})

    return handler


def routes() -> list[ApiRoute]:
    return [
        ApiRoute("GET", "/jobs/ingest", list_jobs(False)),
        ApiRoute("GET", "/jobs/query", list_jobs(True)),
        ApiRoute("POST", "/jobs/ingest", create_ingest),
        ApiRoute("PUT", "/jobs/ingest/{job_id}/batches", upload),
        ApiRoute("GET", "/jobs/ingest/{job_id}", lambda org, req: get_job(org, req, False)),
        ApiRoute("PATCH", "/jobs/ingest/{job_id}", lambda org, req: set_state(org, req, False)),
        ApiRoute("DELETE", "/jobs/ingest/{job_id}", lambda org, req: delete_job(org, req, False)),
        ApiRoute("GET", "/jobs/ingest/{job_id}/successfulResults", ingest_results("successfulResults")),
        ApiRoute("GET", "/jobs/ingest/{job_id}/failedResults", ingest_results("failedResults")),
        ApiRoute("GET", "/jobs/ingest/{job_id}/unprocessedrecords", ingest_results("unprocessedrecords")),
        ApiRoute("POST", "/jobs/query", create_query),
        ApiRoute("GET", "/jobs/query/{job_id}", lambda org, req: get_job(org, req, True)),
        ApiRoute("PATCH", "/jobs/query/{job_id}", lambda org, req: set_state(org, req, True)),
        ApiRoute("DELETE", "/jobs/query/{job_id}", lambda org, req: delete_job(org, req, True)),
        ApiRoute("GET", "/jobs/query/{job_id}/results", query_results),
    ]
