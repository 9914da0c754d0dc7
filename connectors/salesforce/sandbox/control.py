"""Salesforce-specific control plane under /__sandbox/: conversions, merges, edits, sessions, settings.

Beside the common routes (health, clock, faults, counters, reset, snapshot, latency):

    POST /__sandbox/leads/{lead_id}/convert   {"create_opportunity": bool, "opportunity_name", "account_id",
                                               "contact_id", "converted_status", "user_id"}  (all optional)
                                              → {"leadId", "accountId", "contactId", "opportunityId"}
    POST /__sandbox/merge                     {"sobject": Lead|Contact|Account, "master_id", "loser_ids"}
    POST /__sandbox/records/{sobject}/{id}/edit  {"fields": {...}, "user_id"}: a person edits in the UI
    POST /__sandbox/records/{sobject}/touch   {"ids": [...]}: a system process bumps SystemModstamp only
    POST /__sandbox/records/lock              {"ids": [...], "times": n}: next n writes → UNABLE_TO_LOCK_ROW
    POST /__sandbox/activity                  {"edits": n, "new_leads": n, "conversions": n, "deletes": n,
                                               "touches": n} → ids per kind: reps and the platform at work
    POST /__sandbox/sessions/expire           every session → 401 INVALID_SESSION_ID
    GET|POST /__sandbox/settings              SalesforceSettings fields (api_daily_limit, duplicate_rules...)
    POST /__sandbox/jwt-keys                  {"client_id", "certificate_pem"}: trust a JWT bearer signing key
    POST|DELETE /__sandbox/api-usage          {"calls": n}: calls made by other integrations; DELETE resets
    POST /__sandbox/deleted-log/purge         the deletion log restarts now (earlier getDeleted starts fail)
    POST /__sandbox/reset                     {"seed", "people", "settings"}
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connectors.salesforce.sandbox import actions
from connectors.salesforce.sandbox.errors import ApiError
from connectors.salesforce.sandbox.ids import normalize_id

if TYPE_CHECKING:
    from connectors.salesforce.sandbox.org import SalesforceOrg

Action = Callable[[Request, dict[str, Any]], Any]


def _json(body: Any, status: int = 200) -> Response:
    return Response(
        json.dumps(body, separators=(",", ":")), status_code=status, media_type="application/json"
    )


def _action(org: SalesforceOrg, fn: Action) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        raw = await request.body()
        try:
            body = json.loads(raw) if raw.strip() else {}
        except json.JSONDecodeError as exc:
            return _json({"error": f"body is not valid JSON: {exc}"}, 400)
        if not isinstance(body, dict):
            return _json({"error": "expected a JSON object body"}, 400)
        try:
            with org.store.lock:
                return _json(fn(request, body))
        except ApiError as exc:
            return _json({"error": exc.message, "errorCode": exc.code}, exc.status)
        except (KeyError, TypeError, ValueError) as exc:
            return _json({"error": f"bad control request: {exc}"}, 400)

    return endpoint


def sandbox_routes(org: SalesforceOrg) -> list[Route]:
    def convert(request: Request, body: dict[str, Any]) -> Any:
        result = actions.convert_lead(org, request.path_params["lead_id"], body)
        return {
            "leadId": result.lead_id,
            "accountId": result.account_id,
            "contactId": result.contact_id,
            "opportunityId": result.opportunity_id,
        }

    def merge(request: Request, body: dict[str, Any]) -> Any:
        return actions.merge(
            org,
            str(body["sobject"]),
            str(body["master_id"]),
            [str(i) for i in body["loser_ids"]],
            body.get("user_id"),
        )

    def edit(request: Request, body: dict[str, Any]) -> Any:
        return actions.edit_as_user(
            org,
            request.path_params["sobject"],
            request.path_params["record_id"],
            dict(body.get("fields") or {}),
            body.get("user_id"),
        )

    def move_opportunity(request: Request, body: dict[str, Any]) -> Any:
        # A rep moves the deal in the UI; the platform derives IsClosed/IsWon and writes its history.
        stage = body.get("stage")
        if not isinstance(stage, str) or not stage:
            raise ApiError(400, "INVALID_OPTION", "stage (a StageName value) is required")
        return actions.edit_as_user(
            org, "Opportunity", request.path_params["record_id"], {"StageName": stage}, body.get("user_id")
        )

    def touch(request: Request, body: dict[str, Any]) -> Any:
        return actions.system_touch(
            org, request.path_params["sobject"], [str(i) for i in body.get("ids") or []]
        )

    def lock(request: Request, body: dict[str, Any]) -> Any:
        ids = [str(i) for i in body.get("ids") or []]
        times = body.get("times", 1)
        if isinstance(times, bool) or not isinstance(times, int) or times < 1:
            raise ApiError(400, "INVALID_OPTION", "times must be a positive integer")
        org.writer.lock([normalize_id(i) or i for i in ids], times)
        return {"locked": ids, "times": times}

    def activity(request: Request, body: dict[str, Any]) -> Any:
        return actions.simulate_activity(org, body)

    def expire(request: Request, body: dict[str, Any]) -> Any:
        return {"expired": org.auth.expire_all()}

    def settings(request: Request, body: dict[str, Any]) -> Any:
        if request.method == "POST":
            org.settings = org.settings.updated(body)
        return asdict(org.settings)

    def jwt_key(request: Request, body: dict[str, Any]) -> Any:
        org.auth.register_jwt_key(str(body["client_id"]), str(body["certificate_pem"]))
        return {"client_id": body["client_id"], "registered": True}

    def spend(request: Request, body: dict[str, Any]) -> Any:
        if request.method == "DELETE":
            org.api_budget.reset()
        else:
            count = body.get("calls")
            if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                raise ApiError(400, "INVALID_OPTION", "calls must be a non-negative integer")
            org.api_budget.spend(count)
        return org.budget()

    def purge(request: Request, body: dict[str, Any]) -> Any:
        org.deleted_log_start = org.clock.now()
        org.store.deletions.clear()
        return {"earliestDateAvailable": org.deleted_log_start.isoformat()}

    def route(path: str, fn: Action, *methods: str) -> Route:
        return Route("/__sandbox" + path, _action(org, fn), methods=list(methods or ("POST",)))

    return [
        route("/leads/{lead_id}/convert", convert),
        route("/merge", merge),
        route("/records/{sobject}/{record_id}/edit", edit),
        route("/records/{sobject}/touch", touch),
        route("/opportunities/{record_id}/stage", move_opportunity),
        route("/records/lock", lock),
        route("/activity", activity),
        route("/sessions/expire", expire),
        route("/settings", settings, "GET", "POST"),
        route("/jwt-keys", jwt_key),
        route("/api-usage", spend, "POST", "DELETE"),
        route("/deleted-log/purge", purge),
    ]
