"""HubSpot-only control-plane actions under /__sandbox/: things users and visitors do in a portal that the
API cannot (merge from the UI, form submissions, page views, email engagement, manual property edits)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connectors.hubspot.sandbox.api import json_response
from connectors.hubspot.sandbox.errors import HubSpotError, not_found, validation
from connectors.hubspot.sandbox.events import EMAIL_EVENT_TYPES
from connectors.hubspot.sandbox.state import HubSpotState
from connectors.hubspot.sandbox.store import Record
from connectors.hubspot.sandbox.values import datetime_value_ms, from_epoch_ms, is_valid_email, iso_ms

Action = Callable[[Request], Awaitable[tuple[int, Any]]]


class HubSpotActions:
    """Control-plane actions over one portal state (no auth, no rate limits, not counted)."""

    def __init__(self, state: HubSpotState) -> None:
        self.state = state

    @staticmethod
    async def _body(request: Request) -> dict[str, Any]:
        raw = await request.body()
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError as exc:
            raise validation(f"body is not valid JSON: {exc}") from None
        if not isinstance(body, dict):
            raise validation("expected a JSON object body")
        return body

    def _when(self, body: dict[str, Any], name: str = "occurredAt") -> datetime:
        raw = body.get(name)
        if raw is None:
            return self.state.clock.now()
        ms = datetime_value_ms(str(raw))
        if ms is None:
            raise validation(f"{name} must be ISO 8601 or epoch milliseconds, got {raw!r}")
        return from_epoch_ms(ms)

    def _contact(self, body: dict[str, Any]) -> Record:
        store = self.state.store
        if body.get("contactId") is not None:
            record = store.find("contacts", str(body["contactId"]))
            if record is None:
                raise not_found("contact", str(body["contactId"]))
            return record
        email = body.get("email")
        if not isinstance(email, str):
            raise validation("give contactId or email")
        record = store.find("contacts", email, id_property="email")
        if record is None:
            raise not_found("contact", email)
        return record

    async def merge(self, request: Request) -> tuple[int, Any]:
        body = await self._body(request)
        primary, other = body.get("primaryObjectId"), body.get("objectIdToMerge")
        if primary is None or other is None:
            raise validation("primaryObjectId and objectIdToMerge are required")
        with self.state.lock:
            record = self.state.store.merge_contacts(str(primary), str(other))
            for old in (primary, other):
                self.state.events.move_object(int(old), record.id)
            return 200, self.state.store.render("contacts", record, all_properties=True)

    async def submit_form(self, request: Request) -> tuple[int, Any]:
        """A visitor submits a form: creates or updates the contact by email and records the conversion."""
        body = await self._body(request)
        email = body.get("email")
        if not isinstance(email, str) or not is_valid_email(email):
            raise validation(f"a form submission needs a valid email, got {email!r}")
        props = body.get("properties") or {}
        if not isinstance(props, dict):
            raise validation("properties must be an object")
        title = str(body.get("formTitle") or "Contact us")
        when = self._when(body)
        campaign = body.get("campaign")
        source = body.get("source")
        with self.state.lock:
            store = self.state.store
            values, problems = store.normalise("contacts", props, internal=True)
            store.raise_if_invalid("contacts", problems)
            record = store.find("contacts", email, id_property="email")
            created = record is None
            conversion: dict[str, str | None] = {
                "recent_conversion_event_name": title,
                "recent_conversion_date": iso_ms(when),
            }
            if record is None:
                values = {
                    "email": email,
                    "lifecyclestage": "lead",
                    "hs_analytics_source": str(
                        source or ("OTHER_CAMPAIGNS" if campaign else "DIRECT_TRAFFIC")
                    ),
                    "hs_analytics_source_data_1": str(campaign) if campaign else None,
                    "hs_analytics_first_timestamp": iso_ms(when),
                    "num_conversion_events": "1",
                    **conversion,
                    **values,
                }
                record = store.insert("contacts", values, source="FORM")
            else:
                count = int(float(record.properties.get("num_conversion_events") or "0")) + 1
                store.apply(
                    "contacts",
                    record,
                    {**values, **conversion, "num_conversion_events": str(count)},
                    source="FORM",
                )
            event_props = {
                "hs_form_title": title,
                "hs_form_id": str(body.get("formId") or "sandbox-form"),
                "hs_url": str(body.get("pageUrl") or "https://www.example.com/contact"),
            }
            if campaign:
                event_props["hs_utm_campaign"] = str(campaign)
            event = self.state.events.add_web(
                self.state.settings.form_submission_event_type, record.id, when, event_props
            )
            return 200, {"contactId": str(record.id), "new": created, "event": event.to_json()}

    async def web_event(self, request: Request) -> tuple[int, Any]:
        body = await self._body(request)
        props = body.get("properties") or {}
        if not isinstance(props, dict):
            raise validation("properties must be an object")
        when = self._when(body)
        with self.state.lock:
            record = self._contact(body)
            event_type = str(body.get("eventType") or self.state.settings.page_view_event_type)
            event = self.state.events.add_web(
                event_type, record.id, when, {k: str(v) for k, v in props.items()}
            )
            if event_type == self.state.settings.page_view_event_type:
                self.state.store.record_touch(record, "PAGE_VIEW", when)
            return 200, event.to_json()

    async def email_event(self, request: Request) -> tuple[int, Any]:
        body = await self._body(request)
        type_ = body.get("type")
        if type_ not in EMAIL_EVENT_TYPES:
            raise validation(f"type must be one of {sorted(EMAIL_EVENT_TYPES)}, got {type_!r}")
        recipient = body.get("recipient")
        campaign_id = body.get("emailCampaignId")
        if not isinstance(recipient, str) or not isinstance(campaign_id, int):
            raise validation("recipient (string) and emailCampaignId (integer) are required")
        details = body.get("details") or {}
        if not isinstance(details, dict):
            raise validation("details must be an object")
        when = self._when(body)
        with self.state.lock:
            event = self.state.events.add_email(str(type_), when, recipient, campaign_id, details)
            unsubscribed = (
                type_ == "STATUSCHANGE" and details.get("portalSubscriptionStatus") == "UNSUBSCRIBED"
            )
            record = self.state.store.find("contacts", recipient, id_property="email")
            if unsubscribed and record is not None:
                self.state.store.apply(
                    "contacts", record, {"hs_email_optout": "true"}, user_edit=True, source="EMAIL"
                )
            elif record is not None:
                self.state.store.record_touch(record, str(type_), when)
            return 200, event.to_json()

    async def edit_properties(self, request: Request) -> tuple[int, Any]:
        """A user edits a record in the UI: validated like the API, but lifecycle may move backward."""
        body = await self._body(request)
        object_name = request.path_params["object"]
        if object_name not in self.state.types:
            raise validation(f"unknown object type {object_name}")
        props = body.get("properties")
        if not isinstance(props, dict):
            raise validation("properties must be an object")
        with self.state.lock:
            store = self.state.store
            record = store.find(object_name, request.path_params["object_id"])
            if record is None:
                raise not_found(store.types[object_name].singular, request.path_params["object_id"])
            values, problems = store.normalise(object_name, props, internal=bool(body.get("internal")))
            store.raise_if_invalid(object_name, problems)
            if object_name == "contacts" and "email" in values:
                store.check_email_free(values["email"], self_id=record.id)
            store.apply(object_name, record, values, user_edit=True, source="CRM_UI")
            return 200, store.render(object_name, record, all_properties=True)

    async def move_deal(self, request: Request) -> tuple[int, Any]:
        """A rep drags a deal to another stage in the UI (`{"stage": "closedwon"}`): HubSpot sets the
        stage's entry date, the closed/won flags and, when it closes, a blank close date."""
        body = await self._body(request)
        stage = body.get("stage")
        if not isinstance(stage, str) or not stage:
            raise validation("stage (a stage id of the deal's pipeline) is required")
        with self.state.lock:
            store = self.state.store
            record = store.find("deals", request.path_params["deal_id"])
            if record is None:
                raise not_found("deal", request.path_params["deal_id"])
            values, problems = store.normalise("deals", {"dealstage": stage})
            store.raise_if_invalid("deals", problems)
            store.apply("deals", record, values, user_edit=True, source="CRM_UI")
            return 200, store.render("deals", record, all_properties=True)

    async def settings(self, request: Request) -> tuple[int, Any]:
        if request.method == "POST":
            body = await self._body(request)
            try:
                self.state.update_settings(body)
            except ValueError as exc:
                raise validation(str(exc)) from None
        return 200, {k: v for k, v in vars(self.state.settings).items()}

    def routes(self) -> list[Route]:
        def wrap(action: Action) -> Callable[[Request], Awaitable[Response]]:
            async def endpoint(request: Request) -> Response:
                try:
                    status, body = await action(request)
                except HubSpotError as exc:
                    return json_response(exc.body(), exc.status)
                return json_response(body, status)

            return endpoint

        return [
            Route("/__sandbox/merge", wrap(self.merge), methods=["POST"]),
            Route("/__sandbox/forms/submit", wrap(self.submit_form), methods=["POST"]),
            Route("/__sandbox/web-events", wrap(self.web_event), methods=["POST"]),
            Route("/__sandbox/email-events", wrap(self.email_event), methods=["POST"]),
            Route(
                "/__sandbox/objects/{object}/{object_id}/properties",
                wrap(self.edit_properties),
                methods=["POST"],
            ),
            Route("/__sandbox/deals/{deal_id}/stage", wrap(self.move_deal), methods=["POST"]),
            Route("/__sandbox/settings", wrap(self.settings), methods=["GET", "POST"]),
        ]
