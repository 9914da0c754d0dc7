"""The Salesforce connector: syncd's Connector protocol over simple-salesforce and the REST API.

Every HTTP request goes through `_call`: one budget slot per request (retries and re-logins included),
one re-login on an expired session, translation at the boundary (errors.py), and the one retry policy
(syncd.retry). Reads page through SOQL in (SystemModstamp, Id) order; writes use sObject Collections;
lookups by id and email share Composite calls. Login is ours, not simple-salesforce's (see auth.py):
its login hosts are hard-coded.

A pull that finds more than `bulk_threshold` records beyond its first page reads the rest through a
Bulk API 2.0 query job (Salesforce's path for more than 2,000 records): one call per results page of
`bulk_page_size` records plus the job's creation and polls, where SOQL takes one call per 2,000. Its
results are unordered, so only its last page moves the cursor past the first page.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import requests
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import SalesforceError, SalesforceExpiredSession, SalesforceMalformedRequest
from simple_salesforce.util import exception_handler

from connectors.salesforce import bulk
from connectors.salesforce.auth import OrgSession, login
from connectors.salesforce.composite import (
    QuerySubrequest,
    RetrieveSubrequest,
    Subrequest,
    SubResponse,
    composite_body,
    subresponses,
)
from connectors.salesforce.errors import (
    first_error,
    from_exception,
    is_transient,
    record_error,
    request_error,
    summary,
)
from connectors.salesforce.objects import ObjectSpec, object_spec, select_fields
from connectors.salesforce.records import to_remote
from connectors.salesforce.schema import object_schema
from connectors.salesforce.settings import SalesforceSettings
from connectors.salesforce.soql import (
    cursor_predicate,
    in_predicates,
    is_record_id,
    pull_query,
    quote,
    select,
)
from connectors.salesforce.transport import make_session
from syncd.budget import ApiBudget
from syncd.connector import (
    ApiUsage,
    Cursor,
    ObjectSchema,
    Owner,
    Page,
    PullRequest,
    RemoteRecord,
    Write,
    WriteResult,
)
from syncd.errors import AuthError, ConfigError, FatalError, RetryableError, SyncdError
from syncd.retry import RetryPolicy, call_with_retry

log = logging.getLogger(__name__)

T = TypeVar("T")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
RawRecord = Mapping[str, Any]


class _Escape(Exception):
    """Carries a syncd error out of a retry loop that must not retry it (again).

    Used for a non-idempotent request cut off in transit (it may have been applied) and for
    failures of calls that already ran under their own retries (login, a whole collection call).
    """

    def __init__(self, error: SyncdError) -> None:
        super().__init__(str(error))
        self.error = error


def _utcnow() -> datetime:
    return datetime.now(UTC)


class SalesforceConnector:
    """Lead, Contact, Opportunity, Task and Campaign (objects.py) on one Salesforce org."""

    system = "salesforce"

    def __init__(
        self,
        settings: SalesforceSettings,
        *,
        budget: ApiBudget | None = None,
        retry_policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], datetime] = _utcnow,
    ) -> None:
        self._settings = settings
        # Injected by the composition root (shared with other flows on the same org) or built here.
        self._budget = budget if budget is not None else settings.budget()
        self._policy = retry_policy or RetryPolicy()
        self._sleep = sleep
        self._now = now
        self._http = make_session(
            ca_file=settings.ca_file,
            on_usage=lambda used, limit: self._budget.daily.observe_server(used=used, limit=limit),
        )
        self._sf: Salesforce | None = None
        self._types: dict[str, dict[str, str]] = {}
        self._query_headers = {"Sforce-Query-Options": f"batchSize={settings.page_size}"}

    # ---- session ----------------------------------------------------------------------------

    def _login(self) -> Salesforce:
        settings = self._settings
        org: OrgSession = call_with_retry(
            lambda: login(
                self._http,
                settings.credentials,
                login_url=settings.login_url,
                timeout=settings.timeout_seconds,
                now=self._now,
            ),
            policy=self._policy,
            operation="salesforce login",
            sleep=self._sleep,
        )
        log.info("logged in to Salesforce instance %s", org.instance_url)
        self._sf = Salesforce(
            instance_url=org.instance_url,
            session_id=org.access_token,
            session=self._http,
            version=settings.api_version,
            object_pairs_hook=dict,
        )
        return self._sf

    def _client(self) -> Salesforce:
        return self._sf if self._sf is not None else self._login()

    @property
    def instance_url(self) -> str:
        """The org's instance URL (logging in if needed): a record opens at <instance_url>/<id>."""
        return f"https://{self._client().sf_instance}"

    def _once(self, fn: Callable[[Salesforce], T]) -> T:
        """One request, plus one more after a re-login when the session had expired."""
        sf = self._client()
        self._budget.acquire()
        try:
            return fn(sf)
        except SalesforceExpiredSession:
            log.info("Salesforce session expired; logging in again")
            try:
                sf = self._login()
            except SyncdError as error:
                raise _Escape(error) from None
            self._budget.acquire()
            return fn(sf)

    def _rest(self, path: str, method: str = "GET", **kwargs: Any) -> Callable[[Salesforce], Any]:
        """A REST request against /services/data/vXX.X/`path`, to hand to `_call`."""
        timeout = self._settings.timeout_seconds

        def request(sf: Salesforce) -> Any:
            return sf.restful(path, method=method, timeout=timeout, **kwargs)

        return request

    def _call(self, operation: str, fn: Callable[[Salesforce], T], *, idempotent: bool = True) -> T:
        """`fn` under the retry policy, with every failure translated into a syncd error."""

        def attempt() -> T:
            try:
                return self._once(fn)
            except (SalesforceError, requests.RequestException) as exc:
                error = from_exception(
                    exc, operation=operation, limit_recheck_seconds=self._settings.limit_recheck_seconds
                )
                if isinstance(exc, SalesforceExpiredSession):
                    error = AuthError(
                        f"Salesforce refused {operation} with INVALID_SESSION_ID right after a fresh login",
                        hint="check the integration user's session policies (IP ranges, API access)",
                    )
                ambiguous = isinstance(exc, requests.RequestException) and not isinstance(
                    exc, requests.exceptions.ConnectTimeout
                )
                if not idempotent and ambiguous and isinstance(error, RetryableError):
                    raise _Escape(error) from None
                raise error from None

        self._client()  # the first login runs under its own retries, not nested in these
        try:
            return call_with_retry(
                attempt, policy=self._policy, operation=f"salesforce {operation}", sleep=self._sleep
            )
        except _Escape as escape:
            raise escape.error from None

    # ---- protocol ---------------------------------------------------------------------------

    def check(self) -> None:
        """Log in and confirm the configured objects are visible and queryable to the integration user."""
        listing = self._call(
            "describe global", lambda sf: sf.describe(timeout=self._settings.timeout_seconds)
        )
        visible = {
            str(o.get("name")): o for o in (listing or {}).get("sobjects", ()) if isinstance(o, Mapping)
        }
        wanted = [object_spec(name).name for name in self._settings.objects]
        missing = [name for name in wanted if not visible.get(name, {}).get("queryable", False)]
        if missing:
            raise AuthError(
                f"the Salesforce integration user cannot query {', '.join(missing)}",
                hint="grant the user read/edit access to these objects in its profile or a permission set",
            )

    def describe(self, object: str) -> ObjectSchema:
        spec = object_spec(object)
        raw = self._call(
            f"describe {spec.name}",
            self._rest(f"sobjects/{spec.name}/describe"),
        )
        self._remember_types(spec, raw or {})
        return object_schema(spec.name, raw or {})

    def pull(self, object: str, since: Cursor | None, fields: Sequence[str]) -> Iterator[Page]:
        """Pages oldest change first; each page's cursor is its last (SystemModstamp, Id)."""
        spec = object_spec(object)
        columns = select_fields(spec, list(fields))
        first = self._query(
            spec, pull_query(spec.name, columns, since), include_deleted=self._settings.include_deleted
        )
        return self._pull_pages(spec, columns, first)

    def pull_many(self, pulls: Sequence[PullRequest]) -> list[Iterator[Page]]:
        """Pulls of several objects whose first pages arrive in ONE composite call per 5 objects.

        An idle cycle over Lead, Contact, Opportunity, Task and Campaign costs one API call. Later
        pages of a busy object follow lazily through its own `nextRecordsUrl`; a failed subquery
        raises when its own pull is read, not for the others.
        """
        specs = [object_spec(r.object) for r in pulls]
        columns = [select_fields(spec, list(r.fields)) for spec, r in zip(specs, pulls, strict=True)]
        firsts: list[RawRecord | SyncdError] = []
        size = self._settings.composite_queries
        for start in range(0, len(pulls), size):
            subrequests = [
                QuerySubrequest(
                    reference=f"q{i}",
                    soql=pull_query(specs[i].name, columns[i], pulls[i].since),
                    include_deleted=self._settings.include_deleted,
                    page_size=self._settings.page_size,
                )
                for i in range(start, min(start + size, len(pulls)))
            ]
            body = composite_body(self._settings.api_version, subrequests)
            answer = self._call(
                f"composite probe of {len(subrequests)} objects",
                self._rest("composite", "POST", json=body),
            )
            by_ref = subresponses(answer)
            for i, sub in enumerate(subrequests, start):
                part = by_ref.get(sub.reference)
                if part is not None and part.status == 200 and isinstance(part.body, Mapping):
                    firsts.append(part.body)
                else:
                    status, error_body = (part.status, part.body) if part is not None else (500, None)
                    firsts.append(
                        request_error(
                            status,
                            error_body,
                            operation=f"query {specs[i].name}",
                            limit_recheck_seconds=self._settings.limit_recheck_seconds,
                        )
                    )
        return [
            self._pull_pages(spec, cols, first) if isinstance(first, Mapping) else _Failed(first)
            for spec, cols, first in zip(specs, columns, firsts, strict=True)
        ]

    def backfill(self, object: str, since: Cursor | None, fields: Sequence[str]) -> Iterator[Page]:
        """Everything modified at or after `since`, read through a Bulk API 2.0 queryAll job.

        Bulk results come unordered, so every page but the last carries `since` itself as its cursor
        (a crash replays the backfill from the start) and the last carries the newest (SystemModstamp,
        Id) seen. Relationship fields (Owner.Email) are not supported here; use `pull` for them.
        """
        spec = object_spec(object)
        columns = select_fields(spec, list(fields))
        dotted = [c for c in columns if "." in c]
        if dotted:
            raise ConfigError(
                [f"backfill of {spec.name} cannot read relationship fields {', '.join(dotted)}"],
                hint="pull them incrementally instead, or drop them from the backfill",
            )
        return self._bulk_read(spec, columns, since)

    def _bulk_read(self, spec: ObjectSpec, columns: Sequence[str], since: Cursor | None) -> Iterator[Page]:
        """Create the query job and wait for it now; its result pages are read lazily."""
        sf_types = self._sf_types(spec)
        job = self._call(
            f"bulk query job for {spec.name}",
            self._rest(
                "jobs/query",
                "POST",
                json={
                    "operation": "queryAll" if self._settings.include_deleted else "query",
                    "query": select(spec.name, columns, cursor_predicate(since)),
                },
            ),
        )
        job_id = str(job["id"])
        self._await_job(spec, job_id)
        return self._bulk_pages(spec, job_id, since or Cursor(EPOCH), sf_types)

    def fetch(self, object: str, keys: Sequence[str], fields: Sequence[str]) -> list[RemoteRecord]:
        """Records by id (sObject Collections retrieve, 2,000 per request) or by email (SOQL `IN` lists
        as long as a query may be); missing keys are absent. Several such requests travel in one
        Composite call (up to five: Salesforce counts it as one API call)."""
        spec = object_spec(object)
        columns = select_fields(spec, list(fields))
        emails = list(dict.fromkeys(k for k in keys if "@" in k))
        # Anything else is an id; malformed ones cannot exist, and would make Salesforce refuse the batch.
        ids = list(dict.fromkeys(k for k in keys if "@" not in k and is_record_id(k)))
        size = self._settings.retrieve_size
        requests: list[Subrequest] = [
            RetrieveSubrequest(f"r{n}", spec.name, tuple(ids[start : start + size]), tuple(columns))
            for n, start in enumerate(range(0, len(ids), size))
        ]
        predicates: dict[str, str] = {}
        if emails:
            if spec.email_field is None:
                raise FatalError(f"{spec.name} has no email field to fetch by")
            for n, predicate in enumerate(
                in_predicates(spec.email_field, emails, max_encoded_chars=self._settings.max_query_chars)
            ):
                predicates[f"e{n}"] = predicate
                requests.append(
                    QuerySubrequest(
                        f"e{n}",
                        select(spec.name, columns, predicate, "Id ASC"),
                        include_deleted=False,
                        page_size=self._settings.page_size,
                    )
                )
        found: dict[str, RemoteRecord] = {}
        for sub, answer in self._read_all(spec, requests):
            if isinstance(sub, RetrieveSubrequest):
                rows = answer if isinstance(answer, list) else ()
                records = [to_remote(spec, row) for row in rows if isinstance(row, Mapping)]
            else:
                resume = self._email_resume(spec, columns, predicates[sub.reference])
                records = [r for page in self._pages(spec, answer, resume) for r in page.records]
            for record in records:
                found.setdefault(record.id, record)
        return list(found.values())

    def fetch_by(
        self, object: str, field: str, values: Sequence[str], fields: Sequence[str]
    ) -> list[RemoteRecord]:
        """Live records whose `field` is one of `values` (e.g. the contact roles of some Opportunities),
        by SOQL `IN` lists, several in one Composite call; one call for a handful of values."""
        spec = object_spec(object)
        columns = select_fields(spec, list(fields))
        predicates = {
            f"k{n}": predicate
            for n, predicate in enumerate(
                in_predicates(field, list(values), max_encoded_chars=self._settings.max_query_chars)
            )
        }
        requests: list[Subrequest] = [
            QuerySubrequest(
                reference,
                select(spec.name, columns, predicate, "Id ASC"),
                include_deleted=False,
                page_size=self._settings.page_size,
            )
            for reference, predicate in predicates.items()
        ]
        found: dict[str, RemoteRecord] = {}
        for sub, answer in self._read_all(spec, requests) if requests else ():
            resume = self._email_resume(spec, columns, predicates[sub.reference])
            for page in self._pages(spec, answer, resume):
                for record in page.records:
                    found.setdefault(record.id, record)
        return list(found.values())

    def _read_all(self, spec: ObjectSpec, requests: Sequence[Subrequest]) -> Iterator[tuple[Subrequest, Any]]:
        """Each read request with its answer: a lone one as a plain request, more in Composite calls."""
        if len(requests) == 1:
            (sub,) = requests
            if isinstance(sub, RetrieveSubrequest):
                answer = self._call(
                    f"retrieve {len(sub.ids)} {spec.name}",
                    self._rest(
                        f"composite/sobjects/{spec.name}",
                        "POST",
                        json={"ids": list(sub.ids), "fields": list(sub.fields)},
                    ),
                )
            else:
                answer = self._query(spec, sub.soql, include_deleted=sub.include_deleted)
            yield sub, answer
            return
        size = self._settings.composite_queries
        for start in range(0, len(requests), size):
            batch = requests[start : start + size]
            body = composite_body(self._settings.api_version, batch)
            parts = subresponses(
                self._call(
                    f"composite read of {len(batch)} {spec.name} lookups",
                    self._rest("composite", "POST", json=body),
                )
            )
            for sub in batch:
                yield sub, self._answer(spec, parts.get(sub.reference))

    def _answer(self, spec: ObjectSpec, part: SubResponse | None) -> Any:
        """A subrequest's body, or its failure raised as the syncd error it stands for."""
        if part is not None and part.status < 300:
            return part.body
        status, body = (part.status, part.body) if part is not None else (500, None)
        raise request_error(
            status,
            body,
            operation=f"lookup of {spec.name}",
            limit_recheck_seconds=self._settings.limit_recheck_seconds,
        )

    def push(self, object: str, writes: Sequence[Write]) -> list[WriteResult]:
        """sObject Collections in batches of up to 200 per operation; one result per write, in input order."""
        spec = object_spec(object)
        results: list[WriteResult | None] = [None] * len(writes)
        groups: dict[tuple[str, str | None], list[int]] = {}
        for index, write in enumerate(writes):
            key_field = write.id_property if write.op == "upsert" else None
            groups.setdefault((write.op, key_field), []).append(index)
        size = self._settings.collection_size
        for (op, key_field), indexes in groups.items():
            for start in range(0, len(indexes), size):
                chunk = [(i, writes[i]) for i in indexes[start : start + size]]
                for i, result in self._write_chunk(spec, op, key_field, chunk).items():
                    results[i] = result
        done = [r for r in results if r is not None]
        if len(done) != len(writes):
            raise FatalError(f"{len(writes) - len(done)} {spec.name} writes got no result")
        return done

    def count(self, object: str, since: Cursor | None) -> int:
        spec = object_spec(object)
        predicate = cursor_predicate(since)
        soql = f"SELECT COUNT() FROM {spec.name}" + (f" WHERE {predicate}" if predicate else "")
        answer = self._query(spec, soql, include_deleted=self._settings.include_deleted)
        return int(answer.get("totalSize") or 0)

    def owners(self) -> list[Owner]:
        """Every User (the only records an OwnerId may name); inactive ones cannot be assigned."""

        def query(sf: Salesforce) -> list[Mapping[str, Any]]:
            answer = sf.query_all(
                "SELECT Id, Email, IsActive FROM User ORDER BY Id", timeout=self._settings.timeout_seconds
            )
            return [row for row in answer.get("records") or () if isinstance(row, Mapping)]

        return [
            Owner(id=str(row["Id"]), email=row.get("Email") or None, active=bool(row.get("IsActive", True)))
            for row in self._call("query User", query)
        ]

    def usage(self) -> ApiUsage:
        return self._budget.usage()

    def close(self) -> None:
        self._http.close()

    # ---- reads ------------------------------------------------------------------------------

    def _query(self, spec: ObjectSpec, soql: str, *, include_deleted: bool) -> RawRecord:
        result: RawRecord = self._call(
            f"query {spec.name}",
            lambda sf: sf.query(
                soql,
                include_deleted=include_deleted,
                headers=self._query_headers,
                timeout=self._settings.timeout_seconds,
            ),
        )
        return result

    def _more(self, spec: ObjectSpec, next_url: str) -> RawRecord | None:
        """The next page, or None when Salesforce dropped the query cursor (it lives ~15 idle minutes)."""

        def fetch_more(sf: Salesforce) -> RawRecord | None:
            try:
                page: RawRecord = sf.query_more(
                    next_url,
                    identifier_is_url=True,
                    headers=self._query_headers,
                    timeout=self._settings.timeout_seconds,
                )
            except SalesforceMalformedRequest as exc:
                if first_error(exc.content)[0] == "INVALID_QUERY_LOCATOR":
                    return None
                raise
            return page

        return self._call(f"query {spec.name} (next page)", fetch_more)

    def _pages(
        self, spec: ObjectSpec, result: RawRecord, resume: Callable[[RemoteRecord], RawRecord]
    ) -> Iterator[Page]:
        """Pages through `nextRecordsUrl`; `resume` re-queries after a record if the cursor expires."""
        while True:
            records = tuple(to_remote(spec, raw) for raw in result.get("records") or ())
            if records:
                yield Page(records=records, cursor=Cursor(records[-1].modified_at, records[-1].id))
            next_url = result.get("nextRecordsUrl")
            if result.get("done", True) or not isinstance(next_url, str) or not records:
                return
            more = self._more(spec, next_url)
            if more is None:
                log.info("Salesforce query cursor for %s expired; resuming after the last page", spec.name)
                more = resume(records[-1])
            result = more

    def _pull_resume(self, spec: ObjectSpec, columns: Sequence[str]) -> Callable[[RemoteRecord], RawRecord]:
        def resume(last: RemoteRecord) -> RawRecord:
            soql = pull_query(spec.name, columns, Cursor(last.modified_at, last.id))
            return self._query(spec, soql, include_deleted=self._settings.include_deleted)

        return resume

    def _email_resume(
        self, spec: ObjectSpec, columns: Sequence[str], predicate: str
    ) -> Callable[[RemoteRecord], RawRecord]:
        def resume(last: RemoteRecord) -> RawRecord:
            soql = select(spec.name, columns, f"{predicate} AND Id > {quote(last.id)}", "Id ASC")
            return self._query(spec, soql, include_deleted=False)

        return resume

    def _sf_types(self, spec: ObjectSpec) -> dict[str, str]:
        """describe() types by lower-cased field name, fetched once per object per connector."""
        if spec.name not in self._types:
            raw = self._call(f"describe {spec.name}", self._rest(f"sobjects/{spec.name}/describe")) or {}
            self._remember_types(spec, raw)
        return self._types[spec.name]

    def _remember_types(self, spec: ObjectSpec, raw: Mapping[str, Any]) -> None:
        self._types[spec.name] = {
            str(f["name"]).lower(): str(f.get("type", "string"))
            for f in raw.get("fields") or ()
            if isinstance(f, Mapping) and "name" in f
        }

    def _pull_pages(self, spec: ObjectSpec, columns: Sequence[str], first: RawRecord) -> Iterator[Page]:
        """A pull's pages from its first SOQL answer: the rest by SOQL paging, or through a Bulk API 2.0
        job when more than `bulk_threshold` records remain (relationship columns need SOQL)."""
        records = first.get("records") or ()
        remaining = int(first.get("totalSize") or 0) - len(records)
        bulk = (
            not first.get("done", True)
            and records
            and remaining > self._settings.bulk_threshold
            and not any("." in c for c in columns)
        )
        if not bulk:
            return self._pages(spec, first, self._pull_resume(spec, columns))
        return self._first_then_bulk(spec, columns, first)

    def _first_then_bulk(self, spec: ObjectSpec, columns: Sequence[str], first: RawRecord) -> Iterator[Page]:
        records = tuple(to_remote(spec, raw) for raw in first.get("records") or ())
        cursor = Cursor(records[-1].modified_at, records[-1].id)
        yield Page(records=records, cursor=cursor)
        log.info("reading the rest of %s through a Bulk API 2.0 query job", spec.name)
        # Created only now: the job reads everything after the first page as it stands at this point.
        yield from self._bulk_read(spec, columns, cursor)

    def _await_job(self, spec: ObjectSpec, job_id: str) -> None:
        """Poll the query job until it completes, backing off between polls (each poll is an API call)."""
        interval, waited = self._settings.bulk_poll_seconds, 0.0
        while True:
            info = (
                self._call(f"bulk query job status for {spec.name}", self._rest(f"jobs/query/{job_id}")) or {}
            )
            state = str(info.get("state", ""))
            if state == bulk.COMPLETE:
                return
            if state not in bulk.RUNNING:
                raise FatalError(
                    f"Salesforce Bulk API 2.0 query job {job_id} for {spec.name} ended {state or 'unknown'}: "
                    f"{summary(str(info.get('errorMessage') or ''))}",
                    hint="check the job in Setup → Bulk Data Load Jobs; rerun the backfill once fixed",
                )
            if waited >= self._settings.bulk_timeout_seconds:
                raise RetryableError(
                    f"Salesforce Bulk API 2.0 query job {job_id} for {spec.name} is still {state} "
                    f"after {waited:.0f}s",
                    hint="the backfill starts over on the next run; raise salesforce.bulk_timeout_seconds",
                )
            self._sleep(interval)
            waited += interval
            interval = min(interval * 2, self._settings.bulk_poll_max_seconds)

    def _bulk_results(self, job_id: str, locator: str | None) -> Callable[[Salesforce], bulk.ResultPage]:
        """One CSV results page. Read over the session directly: restful() can only parse JSON."""
        params = {"maxRecords": str(self._settings.bulk_page_size)}
        if locator:
            params["locator"] = locator
        timeout = self._settings.timeout_seconds

        def request(sf: Salesforce) -> bulk.ResultPage:
            response = sf.session.get(
                f"{sf.base_url}jobs/query/{job_id}/results",
                headers={**sf.headers, "Accept": "text/csv"},
                params=params,
                timeout=timeout,
            )
            if response.status_code >= 300:
                exception_handler(response, name="bulk query results")
            response.encoding = "utf-8"
            return bulk.ResultPage(response.text, bulk.next_locator(response.headers.get("Sforce-Locator")))

        return request

    def _bulk_pages(
        self, spec: ObjectSpec, job_id: str, since: Cursor, sf_types: Mapping[str, str]
    ) -> Iterator[Page]:
        locator: str | None = None
        newest: RemoteRecord | None = None
        while True:
            page = self._call(f"bulk query results for {spec.name}", self._bulk_results(job_id, locator))
            records = tuple(to_remote(spec, raw) for raw in bulk.rows(page.csv_text, sf_types))
            for record in records:
                if newest is None or (record.modified_at, record.id) > (newest.modified_at, newest.id):
                    newest = record
            locator = page.next_locator
            if locator is None:
                final = Cursor(newest.modified_at, newest.id) if newest is not None else since
                if records or newest is not None:
                    yield Page(records=records, cursor=final)
                return
            if records:
                yield Page(records=records, cursor=since)

    # ---- writes -----------------------------------------------------------------------------

    def _write_chunk(
        self, spec: ObjectSpec, op: str, key_field: str | None, chunk: list[tuple[int, Write]]
    ) -> dict[int, WriteResult]:
        """One collections call per attempt; records Salesforce reports as locked are sent again."""
        results: dict[int, WriteResult] = {}
        if op == "upsert" and not key_field:
            for i, write in chunk:
                results[i] = self._rejected(
                    spec,
                    write,
                    [{"statusCode": "MISSING_ARGUMENT", "message": "upsert needs an id_property"}],
                )
            return results
        pending = chunk
        last_answers: dict[int, Mapping[str, Any]] = {}

        def send_pending() -> None:
            nonlocal pending
            try:
                answers = self._send(spec, op, key_field, [w for _, w in pending])
            except SyncdError as error:
                raise _Escape(error) from None
            locked: list[tuple[int, Write]] = []
            for (i, write), answer in zip(pending, answers, strict=True):
                errors = answer.get("errors") or []
                if answer.get("success"):
                    created = op == "create" or bool(answer.get("created"))
                    results[i] = WriteResult(
                        ref=write.ref, ok=True, id=answer.get("id") or write.id, created=created
                    )
                elif is_transient(errors):
                    locked.append((i, write))
                    last_answers[i] = answer
                else:
                    results[i] = self._rejected(spec, write, errors)
            pending = locked
            if pending:
                raise RetryableError(f"{len(pending)} {spec.name} record(s) were locked by another process")

        try:
            call_with_retry(
                send_pending,
                policy=self._policy,
                operation=f"salesforce {op} {spec.name} (locked rows)",
                sleep=self._sleep,
            )
        except _Escape as escape:
            raise escape.error from None
        except RetryableError:
            for i, write in pending:
                results[i] = self._rejected(spec, write, last_answers[i].get("errors") or [])
        return results

    def _send(
        self, spec: ObjectSpec, op: str, key_field: str | None, writes: Sequence[Write]
    ) -> list[Mapping[str, Any]]:
        operation = f"{op} of {len(writes)} {spec.name}"
        if op == "delete":
            ids = ",".join(str(w.id) for w in writes)
            answer = self._call(
                operation,
                self._rest("composite/sobjects", "DELETE", params={"ids": ids, "allOrNone": "false"}),
            )
        else:
            records = []
            for write in writes:
                record: dict[str, Any] = {"attributes": {"type": spec.name}, **write.fields}
                if op == "update":
                    record["Id"] = write.id
                records.append(record)
            body = {"allOrNone": False, "records": records}
            path = f"composite/sobjects/{spec.name}/{key_field}" if op == "upsert" else "composite/sobjects"
            method = "POST" if op == "create" else "PATCH"
            answer = self._call(
                operation,
                self._rest(path, method, json=body),
                idempotent=op != "create",
            )
        if not isinstance(answer, list) or len(answer) != len(writes):
            raise FatalError(f"Salesforce answered {operation} with a result list of the wrong length")
        return [a if isinstance(a, Mapping) else {} for a in answer]

    def _rejected(self, spec: ObjectSpec, write: Write, errors: Sequence[Mapping[str, Any]]) -> WriteResult:
        error = record_error(
            spec.name,
            self._record_key(spec, write),
            errors,
            mapping_file=self._settings.mapping_file(spec.name),
        )
        return WriteResult(ref=write.ref, ok=False, id=write.id, error=error)

    @staticmethod
    def _record_key(spec: ObjectSpec, write: Write) -> str:
        """How an operator recognises the record: its email when we have one, else its id, else our ref."""
        if spec.email_field:
            for name, value in write.fields.items():
                if name.lower() == spec.email_field.lower() and isinstance(value, str) and value:
                    return value
        return write.id or write.ref


class _Failed(Iterator[Page]):
    """A pull that raises `error` when read: one failed object does not fail the others' pulls."""

    def __init__(self, error: SyncdError) -> None:
        self._error = error

    def __next__(self) -> Page:
        raise self._error
