"""Every HubSpot request: a budget slot, the official SDK with raw JSON, error translation, one retry policy.

The SDK (`hubspot-api-client`, urllib3 underneath) is built with urllib3 retries off, so a request is
tried exactly once per attempt here and retried only by `syncd.retry`. Responses are read with
`_preload_content=False` and parsed with `json.loads`: the SDK's typed models cost ~10× more.
"""

from __future__ import annotations

import http.client
import json
import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import urllib3.exceptions
from hubspot import HubSpot

from connectors.hubspot.config import HubSpotConfig
from connectors.hubspot.errors import classify_exception, sdk_error_fields
from syncd.budget import ApiBudget
from syncd.errors import BudgetExhaustedError, FatalError, RetryableError
from syncd.retry import call_with_retry

log = logging.getLogger(__name__)

BATCH_OPERATIONS = ("read", "create", "update", "upsert", "archive")
ASSOCIATION_OPERATIONS = ("read", "create", "archive")


class _NotRetried(Exception):
    """Carries a RetryableError past the retry policy when repeating the request could do harm."""

    def __init__(self, error: RetryableError) -> None:
        super().__init__(error.message)
        self.error = error


# Failures after which HubSpot may already have acted on the request (it was sent, the answer was lost).
_MAYBE_PROCESSED_STATUS = {500, 502, 504}
_MAYBE_PROCESSED_ERRORS: tuple[type[BaseException], ...] = (
    urllib3.exceptions.ReadTimeoutError,
    urllib3.exceptions.ProtocolError,
    http.client.HTTPException,
    ConnectionResetError,
)


def _maybe_processed(exc: BaseException) -> bool:
    fields = sdk_error_fields(exc)
    if fields is not None:
        return fields[0] in _MAYBE_PROCESSED_STATUS
    return isinstance(exc, _MAYBE_PROCESSED_ERRORS)


def _unsure(error: RetryableError, operation: str) -> RetryableError:
    return RetryableError(
        f"{error.message}; not repeated: HubSpot may have carried out {operation} already",
        retry_after=error.retry_after,
        hint="the flow replays this page; records that were created come back as duplicates of existing ones",
    )


@dataclass(frozen=True)
class Reply:
    """One successful HubSpot response: status, parsed JSON (None when empty), lower-cased headers."""

    status: int
    body: Any
    headers: Mapping[str, str]


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


class HubSpotTransport:
    """The connector's only way to talk to HubSpot. Thread-safe (urllib3 pools are)."""

    def __init__(
        self,
        config: HubSpotConfig,
        budget: ApiBudget,
        *,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self._config = config
        self._budget = budget
        self._sleep = sleep
        self._rng = rng or random.Random()
        options: dict[str, Any] = {"host": config.base_url.rstrip("/")}
        if config.ssl_ca_cert:
            options["ssl_ca_cert"] = config.ssl_ca_cert
        # retry=False reaches Configuration.retries and the urllib3 pool: no hidden retries, no redirects.
        client = HubSpot(access_token=config.access_token, retry=False, **options)
        # Each discovery property builds a new ApiClient (and connection pool): take each API once.
        self._basic = client.crm.objects.basic_api
        self._batch = client.crm.objects.batch_api
        self._search = client.crm.objects.search_api
        self._properties = client.crm.properties.core_api
        self._owners = client.crm.owners.owners_api
        self._associations = client.crm.associations.v4.batch_api
        self._pipelines = client.crm.pipelines.pipelines_api
        self._apis = (
            self._basic,
            self._batch,
            self._search,
            self._properties,
            self._owners,
            self._associations,
            self._pipelines,
        )
        self._timeout = (config.connect_timeout, config.read_timeout)

    # ------------------------------------------------------------------ endpoints

    def list_page(
        self, object: str, *, limit: int, after: str | None, properties: Sequence[str], archived: bool = False
    ) -> Reply:
        kwargs: dict[str, Any] = {"limit": limit, "properties": list(properties), "archived": archived}
        if after is not None:
            kwargs["after"] = after
        return self._call(
            f"GET /crm/v3/objects/{object}",
            lambda: self._basic.get_page(object, **kwargs, **self._raw()),
        )

    def search(self, object: str, body: Mapping[str, Any]) -> Reply:
        return self._call(
            f"POST /crm/v3/objects/{object}/search",
            lambda: self._search.do_search(object, dict(body), **self._raw()),
            bucket="search",
        )

    def batch(self, object: str, operation: str, body: Mapping[str, Any], *, archived: bool = False) -> Reply:
        if operation not in BATCH_OPERATIONS:
            raise FatalError(f"unknown HubSpot batch operation {operation!r}")
        api = self._batch
        invoke: dict[str, Callable[[], Any]] = {
            "read": lambda: api.read(object, dict(body), archived=archived, **self._raw()),
            "create": lambda: api.create(object, dict(body), **self._raw()),
            "update": lambda: api.update(object, dict(body), **self._raw()),
            "upsert": lambda: api.upsert(object, dict(body), **self._raw()),
            "archive": lambda: api.archive(object, dict(body), **self._raw()),
        }
        return self._call(
            f"POST /crm/v3/objects/{object}/batch/{operation}",
            invoke[operation],
            writing=operation != "read",
            idempotent=operation != "create",
        )

    def properties(self, object: str) -> Reply:
        return self._call(
            f"GET /crm/v3/properties/{object}",
            lambda: self._properties.get_all(object, **self._raw()),
        )

    def owners_page(self, *, after: str | None, archived: bool) -> Reply:
        kwargs: dict[str, Any] = {"limit": 100, "archived": archived}
        if after is not None:
            kwargs["after"] = after
        return self._call("GET /crm/v3/owners", lambda: self._owners.get_page(**kwargs, **self._raw()))

    def associations(
        self, from_object: str, to_object: str, operation: str, body: Mapping[str, Any]
    ) -> Reply:
        """Associations v4 in batch: read (<= 1,000 inputs), create (<= 2,000) or archive."""
        if operation not in ASSOCIATION_OPERATIONS:
            raise FatalError(f"unknown HubSpot association operation {operation!r}")
        api = self._associations
        invoke: dict[str, Callable[[], Any]] = {
            "read": lambda: api.get_page(from_object, to_object, dict(body), **self._raw()),
            "create": lambda: api.create(from_object, to_object, dict(body), **self._raw()),
            "archive": lambda: api.archive(from_object, to_object, dict(body), **self._raw()),
        }
        # Creating an association that exists, or archiving one that does not, changes nothing:
        # every operation is safe to repeat.
        return self._call(
            f"POST /crm/v4/associations/{from_object}/{to_object}/batch/{operation}",
            invoke[operation],
            writing=operation != "read",
        )

    def pipeline(self, object: str, pipeline_id: str) -> Reply:
        return self._call(
            f"GET /crm/v3/pipelines/{object}/{pipeline_id}",
            lambda: self._pipelines.get_by_id(object, pipeline_id, **self._raw()),
        )

    def close(self) -> None:
        for api in self._apis:
            api_client = api.api_client
            api_client.rest_client.pool_manager.clear()
            api_client.close()

    # ------------------------------------------------------------------ plumbing

    def _raw(self) -> dict[str, Any]:
        return {"_preload_content": False, "_request_timeout": self._timeout}

    def _call(
        self,
        operation: str,
        invoke: Callable[[], Any],
        *,
        bucket: str = "default",
        writing: bool = False,
        idempotent: bool = True,
    ) -> Reply:
        """One request under the retry policy. A non-idempotent one (a create) is not repeated after a
        failure that may have happened after HubSpot acted on it: that would create the records twice."""
        attempts = 0

        def attempt() -> Reply:
            nonlocal attempts
            attempts += 1
            with self._budget.slot(bucket):
                try:
                    raw = invoke()
                    data: bytes = raw.data
                    raw.release_conn()
                except Exception as exc:
                    error = classify_exception(
                        exc, operation=operation, writing=writing, attempt=attempts, waits=self._config.waits
                    )
                    self._after_error(exc, error, bucket)
                    if not idempotent and isinstance(error, RetryableError) and _maybe_processed(exc):
                        raise _NotRetried(_unsure(error, operation)) from exc
                    raise error from exc
                headers = {str(k).lower(): str(v) for k, v in raw.headers.items()}
                self._observe(headers)
            try:
                body = json.loads(data) if data else None
            except ValueError as exc:
                error = RetryableError(f"HubSpot sent a body that is not JSON on {operation}")
                if not idempotent:
                    raise _NotRetried(_unsure(error, operation)) from exc
                raise error from exc
            return Reply(status=int(raw.status), body=body, headers=headers)

        started = time.monotonic()
        try:
            reply = call_with_retry(
                attempt,
                policy=self._config.retry,
                operation=f"hubspot {operation}",
                sleep=self._sleep,
                rng=self._rng,
            )
        except _NotRetried as not_retried:
            raise not_retried.error from not_retried.__cause__
        log.debug(
            "hubspot %s -> %d in %.3fs (%d attempts)",
            operation,
            reply.status,
            time.monotonic() - started,
            attempts,
        )
        return reply

    def _observe(self, headers: Mapping[str, str]) -> None:
        """Feed HubSpot's own counts to the budget (search replies have none; OAuth apps no daily pair)."""
        remaining = _int_header(headers, "x-hubspot-ratelimit-remaining")
        if remaining is not None:
            for window in self._budget.window("default"):
                window.observe_remaining(remaining)
        daily = _int_header(headers, "x-hubspot-ratelimit-daily")
        daily_remaining = _int_header(headers, "x-hubspot-ratelimit-daily-remaining")
        if daily is not None and daily_remaining is not None:
            self._budget.daily.observe_server(used=daily - daily_remaining, limit=daily)

    def _after_error(self, exc: BaseException, error: Exception, bucket: str) -> None:
        raw_headers = getattr(exc, "headers", None)
        if raw_headers:
            self._observe({str(k).lower(): str(v) for k, v in dict(raw_headers).items()})
        if isinstance(error, RetryableError) and getattr(exc, "status", None) == 429:
            # Other threads should stop too: the window is full whatever our own count says.
            for window in self._budget.window(bucket):
                window.observe_remaining(0)
        if isinstance(error, BudgetExhaustedError):
            limit = self._budget.daily.usage().limit
            if limit is not None:
                self._budget.daily.observe_server(used=limit, limit=limit)
