"""HubSpot's marketing event feeds over httpx: legacy email events and web analytics events.

Neither feed is in the official SDK. Every request takes a slot of the connector's budget, runs under
`syncd.retry` and has its failures classed by the connector's one status→class table, like the SDK
path. Raw event JSON becomes `syncd.events.TouchEvent` here and never leaves the package.
"""

from __future__ import annotations

import logging
import random
import ssl
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from connectors.hubspot.config import HubSpotConfig
from connectors.hubspot.errors import classify_response, parse_error
from connectors.hubspot.records import epoch_ms, parse_timestamp
from syncd.budget import ApiBudget
from syncd.connector import Cursor
from syncd.errors import BudgetExhaustedError, ConfigError, RetryableError
from syncd.events import EmailCampaignInfo, EventPage, TouchEvent
from syncd.retry import call_with_retry

log = logging.getLogger(__name__)

EMAIL_EVENTS_PATH = "/email/public/v1/events"
WEB_EVENTS_PATH = "/events/v3/events"
EMAIL_CAMPAIGN_PATH = "/email/public/v1/campaigns/{id}"

# Email event fields a touch's detail may keep; the rest (SMTP replies, user agents) are noise.
_EMAIL_DETAIL_FIELDS = ("url", "category", "status", "portalSubscriptionStatus", "source", "deviceType")


@dataclass(frozen=True)
class EventFeedSettings:
    """How the event feeds are read. The legacy email endpoint pages newest first inside a time range,
    so the range is cut into windows of `email_window` that are read whole and handed on oldest first."""

    email_window: timedelta = timedelta(days=30)
    email_page_size: int = 1000
    web_page_size: int = 100
    # Where a first run starts when the store has no cursor yet.
    history: timedelta = timedelta(days=365)

    def __post_init__(self) -> None:
        if not 1 <= self.email_page_size <= 1000:
            raise ValueError("email_page_size must be between 1 and 1000")
        if not 1 <= self.web_page_size <= 100:
            raise ValueError("web_page_size must be between 1 and 100")
        if self.email_window <= timedelta(0):
            raise ValueError("email_window must be positive")


def _verify(config: HubSpotConfig) -> ssl.SSLContext | bool:
    if not config.ssl_ca_cert:
        return True
    try:
        return ssl.create_default_context(cafile=config.ssl_ca_cert)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(
            [f"cannot read the HubSpot CA bundle (ssl_ca_cert): {type(exc).__name__}"],
            hint="point ssl_ca_cert at a readable PEM file of the CA that signed HubSpot's certificate",
        ) from exc


def _int_header(headers: httpx.Headers, name: str) -> int | None:
    value = headers.get(name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def email_touch(raw: Mapping[str, Any]) -> TouchEvent | None:
    """One legacy email event as a `TouchEvent`; None when it lacks an id, a time or a recipient."""
    event_id, created, recipient = raw.get("id"), raw.get("created"), raw.get("recipient")
    occurred = parse_timestamp(created)
    if not event_id or occurred is None or not isinstance(recipient, str) or not recipient:
        return None
    properties: dict[str, Any] = {k: raw[k] for k in _EMAIL_DETAIL_FIELDS if raw.get(k) is not None}
    subscriptions = raw.get("subscriptions")
    if isinstance(subscriptions, list):
        properties["subscription_statuses"] = sorted(
            {str(s.get("status")) for s in subscriptions if isinstance(s, Mapping) and s.get("status")}
        )
    campaign = raw.get("emailCampaignId")
    return TouchEvent(
        source_system="hubspot",
        feed="email",
        id=str(event_id),
        type=str(raw.get("type") or ""),
        occurred_at=occurred,
        email=recipient,
        campaign_id=str(campaign) if campaign not in (None, "") else None,
        properties=properties,
    )


def web_touch(raw: Mapping[str, Any]) -> TouchEvent | None:
    """One web analytics event as a `TouchEvent`; None when it lacks an id, a time or a contact."""
    event_id, object_id = raw.get("id"), raw.get("objectId")
    occurred = parse_timestamp(raw.get("occurredAt"))
    if not event_id or occurred is None or object_id in (None, ""):
        return None
    properties = raw.get("properties")
    return TouchEvent(
        source_system="hubspot",
        feed="web",
        id=str(event_id),
        type=str(raw.get("eventType") or ""),
        occurred_at=occurred,
        contact_id=str(object_id),
        properties=dict(properties) if isinstance(properties, Mapping) else {},
    )


def _order(event: TouchEvent) -> tuple[datetime, str]:
    return event.occurred_at, event.id


class _NotFound(Exception):
    """A 404 on a lookup that may legitimately find nothing."""


class HubSpotEventReader:
    """Reads the event feeds of one HubSpot account. Thread-safe (httpx clients are)."""

    def __init__(
        self,
        config: HubSpotConfig,
        budget: ApiBudget,
        *,
        settings: EventFeedSettings | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._config = config
        self._budget = budget
        self.settings = settings or EventFeedSettings()
        self._now = now
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._client = httpx.Client(
            base_url=config.base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {config.access_token}", "Accept": "application/json"},
            verify=_verify(config),
            timeout=httpx.Timeout(config.read_timeout, connect=config.connect_timeout),
            follow_redirects=False,
            transport=transport,
        )

    # ------------------------------------------------------------------ feeds

    def email_events(self, since: Cursor | None, until: datetime | None = None) -> Iterator[EventPage]:
        """Email events after `since` up to `until` (default: now), oldest first.

        Events at `since.modified_at` are included unless `since.last_id` says they were seen (by
        (time, id) order). Each window ends with a page whose cursor is the window's end, even when
        it held no events, so a quiet range is not read again.
        """
        end = until or self._now()
        start = since.modified_at if since is not None else end - self.settings.history
        while start <= end:
            window_end = min(start + self.settings.email_window, end)
            events = sorted(self._email_window(start, window_end), key=_order)
            if since is not None and since.last_id is not None:
                seen = (since.modified_at, since.last_id)
                events = [e for e in events if _order(e) > seen]
            size = self.settings.email_page_size
            for first in range(0, len(events), size):
                chunk = tuple(events[first : first + size])
                last = chunk[-1]
                cursor = Cursor(last.occurred_at, last.id)
                if first + size >= len(events):
                    cursor = Cursor(window_end, None)
                yield EventPage(chunk, cursor)
            if not events:
                yield EventPage((), Cursor(window_end, None))
            if window_end >= end:
                return
            start = window_end

    def web_events(
        self, contact_id: str, since: datetime | None, event_types: Sequence[str] = ()
    ) -> list[TouchEvent]:
        """One contact's web analytics events after `since` (exclusive), oldest first; only
        `event_types` when given. The feed is per contact: HubSpot has no portal-wide listing."""
        params: dict[str, Any] = {
            "objectType": "contact",
            "objectId": contact_id,
            "limit": self.settings.web_page_size,
        }
        if since is not None:
            params["occurredAfter"] = epoch_ms(since)
        if len(event_types) == 1:
            params["eventType"] = event_types[0]
        wanted = set(event_types)
        found: list[TouchEvent] = []
        after: str | None = None
        while True:
            page = dict(params, after=after) if after is not None else params
            try:
                body = self._get(f"GET {WEB_EVENTS_PATH}", WEB_EVENTS_PATH, page, missing_ok=True)
            except _NotFound:
                return []  # the contact was archived since it was linked: it has no events to read
            results = body.get("results") if isinstance(body, Mapping) else None
            for raw in results if isinstance(results, list) else ():
                event = web_touch(raw) if isinstance(raw, Mapping) else None
                if event is not None and (not wanted or event.type in wanted):
                    found.append(event)
            paging = body.get("paging") if isinstance(body, Mapping) else None
            following = paging.get("next") if isinstance(paging, Mapping) else None
            after = (
                str(following["after"]) if isinstance(following, Mapping) and following.get("after") else None
            )
            if after is None:
                return sorted(found, key=_order)

    def email_campaign(self, campaign_id: str) -> EmailCampaignInfo | None:
        """A marketing email's name and subject; None when HubSpot does not know the id."""
        path = EMAIL_CAMPAIGN_PATH.format(id=campaign_id)
        try:
            body = self._get("GET /email/public/v1/campaigns/{id}", path, {}, missing_ok=True)
        except _NotFound:
            return None
        if not isinstance(body, Mapping):
            return None
        name = body.get("name") or body.get("subject") or f"email {campaign_id}"
        subject = body.get("subject")
        return EmailCampaignInfo(str(campaign_id), str(name), str(subject) if subject else None)

    def close(self) -> None:
        self._client.close()

    # ------------------------------------------------------------------ plumbing

    def _email_window(self, start: datetime, end: datetime) -> list[TouchEvent]:
        """Every email event in [start, end], following the newest-first offset pages to the end."""
        params: dict[str, Any] = {
            "startTimestamp": epoch_ms(start),
            "endTimestamp": epoch_ms(end),
            "limit": self.settings.email_page_size,
        }
        found: dict[str, TouchEvent] = {}
        offset: str | None = None
        while True:
            page = dict(params, offset=offset) if offset is not None else params
            body = self._get(f"GET {EMAIL_EVENTS_PATH}", EMAIL_EVENTS_PATH, page)
            raw_events = body.get("events") if isinstance(body, Mapping) else None
            for raw in raw_events if isinstance(raw_events, list) else ():
                event = email_touch(raw) if isinstance(raw, Mapping) else None
                if event is not None:
                    found.setdefault(event.id, event)
            more = isinstance(body, Mapping) and bool(body.get("hasMore")) and body.get("offset")
            if not more:
                return list(found.values())
            offset = str(body["offset"])

    def _get(self, operation: str, path: str, params: Mapping[str, Any], *, missing_ok: bool = False) -> Any:
        """One GET under the budget and the retry policy; returns the parsed JSON body."""
        attempts = 0

        def attempt() -> Any:
            nonlocal attempts
            attempts += 1
            with self._budget.slot("default"):
                try:
                    response = self._client.get(path, params=dict(params))
                except httpx.TransportError as exc:
                    if "CERTIFICATE" in str(exc).upper() or "SSL" in str(exc).upper():
                        raise ConfigError(
                            [f"TLS to HubSpot failed on {operation}"],
                            hint="check base_url and the CA bundle (ssl_ca_cert) in the HubSpot config",
                        ) from exc
                    raise RetryableError(
                        f"HubSpot transport failure on {operation}: {type(exc).__name__}"
                    ) from exc
                self._observe(response.headers)
            if response.status_code == 404 and missing_ok:
                raise _NotFound(operation)
            if response.status_code >= 400:
                error = classify_response(
                    parse_error(response.status_code, response.content, dict(response.headers)),
                    operation=operation,
                    writing=False,
                    attempt=attempts,
                    waits=self._config.waits,
                )
                self._after_error(response.status_code, error)
                raise error
            try:
                return response.json() if response.content else None
            except ValueError as exc:
                raise RetryableError(f"HubSpot sent a body that is not JSON on {operation}") from exc

        return call_with_retry(
            attempt,
            policy=self._config.retry,
            operation=f"hubspot {operation}",
            sleep=self._sleep,
            rng=self._rng,
        )

    def _observe(self, headers: httpx.Headers) -> None:
        """Feed HubSpot's own counts to the shared budget, as the SDK path does."""
        remaining = _int_header(headers, "x-hubspot-ratelimit-remaining")
        if remaining is not None:
            for window in self._budget.window("default"):
                window.observe_remaining(remaining)
        daily = _int_header(headers, "x-hubspot-ratelimit-daily")
        daily_remaining = _int_header(headers, "x-hubspot-ratelimit-daily-remaining")
        if daily is not None and daily_remaining is not None:
            self._budget.daily.observe_server(used=daily - daily_remaining, limit=daily)

    def _after_error(self, status: int, error: Exception) -> None:
        if isinstance(error, RetryableError) and status == 429:
            # Other threads should stop too: the window is full whatever our own count says.
            for window in self._budget.window("default"):
                window.observe_remaining(0)
        if isinstance(error, BudgetExhaustedError):
            limit = self._budget.daily.usage().limit
            if limit is not None:
                self._budget.daily.observe_server(used=limit, limit=limit)
