"""The HubSpot connector: `syncd.connector.Connector` over HubSpot's CRM v3 objects API.

Reads are raw JSON turned into `RemoteRecord`s at once; writes are batched, bisected and reported per
record; every call goes through `HubSpotTransport` (budget, retries, error translation). Raw HubSpot
JSON never leaves this package.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.hubspot import deals as deal_support
from connectors.hubspot.config import HubSpotConfig
from connectors.hubspot.events import EventFeedSettings, HubSpotEventReader
from connectors.hubspot.objects import ObjectSpec, spec_for
from connectors.hubspot.pulling import (
    BACKFILL_MARK,
    archived_pages,
    backfill_pages,
    is_backfill_cursor,
    search_pages,
)
from connectors.hubspot.records import epoch_ms, to_record
from connectors.hubspot.schema import object_schema
from connectors.hubspot.transport import HubSpotTransport, Reply
from connectors.hubspot.writing import map_reply, push_all, request_body
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
from syncd.deals import Association, Pipeline
from syncd.errors import AuthError
from syncd.events import EmailCampaignInfo, EventPage, TouchEvent

log = logging.getLogger(__name__)

BATCH_READ_MAX = 100


def _results(reply: Reply) -> list[Mapping[str, Any]]:
    body = reply.body if isinstance(reply.body, Mapping) else {}
    results = body.get("results")
    return [r for r in results if isinstance(r, Mapping)] if isinstance(results, list) else []


def _next_after(reply: Reply) -> str | None:
    body = reply.body if isinstance(reply.body, Mapping) else {}
    paging = body.get("paging")
    following = paging.get("next") if isinstance(paging, Mapping) else None
    after = following.get("after") if isinstance(following, Mapping) else None
    return str(after) if after not in (None, "") else None


class HubSpotConnector:
    """One HubSpot account. Thread-safe for concurrent calls on different pages or batches."""

    system = "hubspot"

    def __init__(
        self,
        config: HubSpotConfig,
        *,
        budget: ApiBudget | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        events: EventFeedSettings | None = None,
    ) -> None:
        self._config = config
        # `sleep` paces retries only; the budget keeps real time unless one is passed in.
        self._budget = budget or config.budget()
        self._now = now
        self._transport = HubSpotTransport(config, self._budget, sleep=sleep, rng=rng)
        self._events = HubSpotEventReader(
            config, self._budget, settings=events, now=now, sleep=sleep, rng=rng
        )

    # ------------------------------------------------------------------ protocol

    def check(self) -> None:
        """One cheap authenticated read (a one-contact page); 401 and missing scopes raise AuthError."""
        try:
            self._transport.list_page("contacts", limit=1, after=None, properties=())
        except AuthError as exc:
            raise AuthError(f"HubSpot credentials check failed: {exc.message}", hint=exc.hint) from exc

    def describe(self, object: str) -> ObjectSchema:
        spec = spec_for(object)
        reply = self._transport.properties(spec.name)
        return object_schema(spec, _results(reply))

    def pull(self, object: str, since: Cursor | None, fields: Sequence[str]) -> Iterator[Page]:
        """Records modified at or after `since`, oldest first; `since=None` backfills through the listing.

        Backfill pages come in id order; their cursors resume the backfill (see `pulling.backfill_pages`).
        """
        return self._pull(object, since, fields, None)

    def _pull(
        self, object: str, since: Cursor | None, fields: Sequence[str], run_started: datetime | None
    ) -> Iterator[Page]:
        spec = spec_for(object)
        properties = self._properties(spec, fields)
        if since is None or is_backfill_cursor(since):
            return self._backfill(spec, since, properties, run_started)
        return search_pages(
            spec,
            since,
            properties,
            lambda body: _results(self._transport.search(spec.name, body)),
            page_size=self._config.search_page_size,
        )

    def pull_many(self, pulls: Sequence[PullRequest]) -> list[Iterator[Page]]:
        """HubSpot has no way to bundle queries: each object's pull runs lazily in turn."""
        return [self._pull(p.object, p.since, p.fields, p.run_started) for p in pulls]

    def count(self, object: str, since: Cursor | None) -> int:
        spec = spec_for(object)
        body: dict[str, Any] = {"limit": 1, "properties": ["hs_object_id"]}
        if since is not None and not is_backfill_cursor(since):
            lower = int(since.modified_at.timestamp() * 1000)
            body["filterGroups"] = [
                {
                    "filters": [
                        {"propertyName": spec.modified_property, "operator": "GTE", "value": str(lower)}
                    ]
                }
            ]
        reply = self._transport.search(spec.name, body)
        total = reply.body.get("total") if isinstance(reply.body, Mapping) else None
        return int(total) if isinstance(total, int) else 0

    def owners(self) -> list[Owner]:
        """Active and archived owners (archived ones cannot be assigned; owner mapping skips them)."""
        found: list[Owner] = []
        for archived in (False, True):
            after: str | None = None
            while True:
                reply = self._transport.owners_page(after=after, archived=archived)
                for raw in _results(reply):
                    email = raw.get("email")
                    found.append(
                        Owner(
                            id=str(raw.get("id")),
                            email=str(email) if email else None,
                            active=not archived and not raw.get("archived", False),
                        )
                    )
                after = _next_after(reply)
                if after is None:
                    break
        return found

    def pull_deleted(self, object: str, since: datetime | None) -> Iterator[Page]:
        """Records archived at or after `since`, as `RemoteRecord(deleted=True)` (search never shows them)."""
        spec = spec_for(object)

        def list_archived(after: str | None) -> tuple[list[Mapping[str, Any]], str | None]:
            reply = self._transport.list_page(
                spec.name,
                limit=self._config.list_page_size,
                after=after,
                properties=spec.always_properties,
                archived=True,
            )
            return _results(reply), _next_after(reply)

        return archived_pages(spec, list_archived, since=since)

    def fetch(self, object: str, keys: Sequence[str], fields: Sequence[str]) -> list[RemoteRecord]:
        """Records by HubSpot id or, for keys with an `@`, by email; unknown keys are left out.

        A merged-away id returns the surviving record (its id differs from the key asked for).
        """
        spec = spec_for(object)
        properties = self._properties(spec, fields)
        ids = list(dict.fromkeys(k for k in keys if "@" not in k))
        emails = list(dict.fromkeys(k for k in keys if "@" in k))
        found: dict[str, RemoteRecord] = {}
        for id_property, group in ((None, ids), ("email", emails)):
            if id_property is not None and not spec.accepts_key(id_property):
                continue
            for start in range(0, len(group), BATCH_READ_MAX):
                chunk = group[start : start + BATCH_READ_MAX]
                body: dict[str, Any] = {"inputs": [{"id": k} for k in chunk], "properties": properties}
                if id_property is not None:
                    body["idProperty"] = id_property
                reply = self._transport.batch(spec.name, "read", body)
                for raw in _results(reply):
                    record = to_record(spec, raw)
                    found.setdefault(record.id, record)
                missing = len(chunk) - len(_results(reply))
                if missing > 0:
                    log.debug("hubspot fetch %s: %d keys not found", spec.name, missing)
        return list(found.values())

    def push(self, object: str, writes: Sequence[Write]) -> list[WriteResult]:
        spec = spec_for(object)

        def send(operation: str, batch: Sequence[Write]) -> list[WriteResult]:
            reply = self._transport.batch(spec.name, operation, request_body(operation, batch))
            return map_reply(spec, operation, batch, reply.body)

        results = push_all(spec, writes, send, batch_size=self._config.batch_size)
        failed = sum(1 for r in results if not r.ok)
        log.info("hubspot push %s: %d writes, %d rejected", spec.name, len(results), failed)
        return results

    def usage(self) -> ApiUsage:
        return self._budget.usage()

    def close(self) -> None:
        self._transport.close()
        self._events.close()

    # ------------------------------------------------------------------ deals

    def pipeline(self, object: str, pipeline_id: str) -> Pipeline:
        """A pipeline of `object` (deals) with its stages: ids, labels, closed and won flags."""
        return deal_support.pipeline_from(self._transport.pipeline(spec_for(object).name, pipeline_id).body)

    def associations(self, from_object: str, to_object: str, ids: Sequence[str]) -> list[Association]:
        """Every `to_object` record associated with each of `ids` (associations v4, batched)."""
        return deal_support.read_associations(self._association_sender(from_object, to_object), ids)

    def associate(
        self, from_object: str, to_object: str, pairs: Sequence[Association], type_id: int
    ) -> list[Association]:
        """Associate each pair with a HubSpot-defined type (deal→contact: 3); repeating it is harmless.
        Returns the pairs HubSpot refused because a record does not exist."""
        return deal_support.create_associations(
            self._association_sender(from_object, to_object), pairs, type_id
        )

    def dissociate(self, from_object: str, to_object: str, pairs: Sequence[Association]) -> None:
        """Remove the associations of each pair; repeating it is harmless."""
        deal_support.archive_associations(self._association_sender(from_object, to_object), pairs)

    def _association_sender(self, from_object: str, to_object: str) -> deal_support.Send:
        def send(operation: str, body: Mapping[str, Any]) -> Any:
            return self._transport.associations(from_object, to_object, operation, body).body

        return send

    # ------------------------------------------------------------------ marketing events

    def email_events(self, since: Cursor | None, until: datetime | None = None) -> Iterator[EventPage]:
        """Marketing email events (legacy endpoint) after `since`, oldest first, in resumable pages."""
        return self._events.email_events(since, until)

    def web_events(
        self, contact_id: str, since: datetime | None, event_types: Sequence[str] = ()
    ) -> list[TouchEvent]:
        """One contact's web analytics events after `since`, oldest first."""
        return self._events.web_events(contact_id, since, event_types)

    def email_campaign(self, campaign_id: str) -> EmailCampaignInfo | None:
        """A marketing email's name and subject, or None when HubSpot does not know it."""
        return self._events.email_campaign(campaign_id)

    # ------------------------------------------------------------------ helpers

    @staticmethod
    def _properties(spec: ObjectSpec, fields: Sequence[str]) -> list[str]:
        return list(dict.fromkeys([*spec.always_properties, *fields]))

    def _backfill(
        self,
        spec: ObjectSpec,
        since: Cursor | None,
        properties: Sequence[str],
        run_started: datetime | None,
    ) -> Iterator[Page]:
        skew = timedelta(seconds=self._config.clock_skew)
        if since is not None and since.last_id is not None:
            started, after = since.modified_at, since.last_id[len(BACKFILL_MARK) :]
        else:
            now = self._now()
            started, after = min(now, run_started or now) - skew, None
        # Compared with `started` itself, not the run's start: HubSpot's clock decides both this and
        # the next incremental pull, so what the listing leaves out that pull reads, whatever the skew.
        last_id = self._last_id_created_before(spec, started) if run_started is not None else None

        def list_live(position: str | None) -> tuple[list[Mapping[str, Any]], str | None]:
            reply = self._transport.list_page(
                spec.name, limit=self._config.list_page_size, after=position, properties=properties
            )
            return _results(reply), _next_after(reply)

        return backfill_pages(spec, list_live, started=started, after=after, last_id=last_id)

    def _last_id_created_before(self, spec: ObjectSpec, instant: datetime) -> str | None:
        """The highest id of a record created before `instant` (one search), or None if none is known.

        Ids are not promised to grow with creation time: this only bounds the listing. A record the
        search index does not show yet was created moments ago, after the backfill's start instant.
        """
        body = {
            "filterGroups": [
                {
                    "filters": [
                        {
                            "propertyName": spec.created_property,
                            "operator": "LT",
                            "value": str(epoch_ms(instant)),
                        }
                    ]
                }
            ],
            "sorts": [{"propertyName": "hs_object_id", "direction": "DESCENDING"}],
            "properties": ["hs_object_id"],
            "limit": 1,
        }
        results = _results(self._transport.search(spec.name, body))
        return str(results[0]["id"]) if results and results[0].get("id") is not None else None
