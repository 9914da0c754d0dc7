"""The Starlette app: logins, the REST API behind session and budget checks, and the control plane."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from connectors.salesforce.sandbox import bulk, composite, rest
from connectors.salesforce.sandbox.api import JSON_TYPE, ApiRequest, ApiResponse, ApiRoute
from connectors.salesforce.sandbox.auth import OAuthFailure, soap_fault, soap_login_response
from connectors.salesforce.sandbox.control import sandbox_routes
from connectors.salesforce.sandbox.errors import ApiError, default_error_body
from connectors.salesforce.sandbox.org import SalesforceOrg
from connectors.sandbox_core.control import control_routes
from connectors.sandbox_core.middleware import sandbox_middleware

logger = logging.getLogger(__name__)

_SESSION_EXPIRED = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
_LIMIT_EXCEEDED = [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]


def _dumps(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def _instance_url(request: Request) -> str:
    host = request.headers.get("host") or f"{request.url.hostname}:{request.url.port}"
    return f"{request.url.scheme}://{host}"


def _to_starlette(response: ApiResponse, extra: dict[str, str] | None = None) -> Response:
    headers = dict(response.headers)
    if extra:
        headers.update(extra)
    if response.status == 204:
        return Response(status_code=204, headers=headers)
    body = response.raw if response.raw is not None else _dumps(response.body)
    return Response(body, status_code=response.status, headers=headers, media_type=response.content_type)


def api_routes() -> list[ApiRoute]:
    table = rest.routes() + composite.routes() + bulk.routes()
    table.append(ApiRoute("POST", "/composite", composite.make_composite(table)))
    return table


def _rest_endpoint(
    org: SalesforceOrg, template: str, handlers: dict[str, ApiRoute]
) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        version = request.path_params.get("version", "")
        if version not in rest.supported_versions(org):
            return _to_starlette(
                ApiResponse(
                    404, [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}]
                )
            )
        route = handlers.get(request.method)
        if route is None:
            allowed = ",".join(sorted(handlers))
            return _to_starlette(
                ApiResponse(
                    405,
                    [
                        {
                            "errorCode": "METHOD_NOT_ALLOWED",
                            "message": (f"HTTP Method '{request.method}' not allowed. Allowed are {allowed}"),
                        }
                    ],
                )
            )
        session = org.auth.check(request.headers.get("authorization"))
        if session is None:
            return _to_starlette(ApiResponse(401, _SESSION_EXPIRED))
        if not org.api_budget.consume():
            return _to_starlette(
                ApiResponse(403, _LIMIT_EXCEEDED), {"Sforce-Limit-Info": org.api_budget.header()}
            )
        body = await request.body()
        api_request = ApiRequest(
            method=request.method,
            path=request.url.path,
            version=version,
            path_params={k: str(v) for k, v in request.path_params.items()},
            params=dict(parse_qsl(request.url.query, keep_blank_values=True)),
            headers={k.lower(): v for k, v in request.headers.items()},
            body=body,
            instance_url=_instance_url(request),
            user_id=session.user_id,
        )
        try:
            with org.store.lock:
                response = route.handler(org, api_request)
        except ApiError as exc:
            response = ApiResponse(exc.status, exc.body())
        except Exception as exc:
            # Type and route only: exception messages may carry record values.
            logger.error("unexpected %s serving %s %s", type(exc).__name__, request.method, template)
            response = ApiResponse(500, default_error_body(500))
        return _to_starlette(response, {"Sforce-Limit-Info": org.api_budget.header()})

    return endpoint


def _login_routes(org: SalesforceOrg) -> list[BaseRoute]:
    async def versions(request: Request) -> Response:
        return Response(_dumps(rest.versions_list(org)), media_type=JSON_TYPE)

    async def token(request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True))
        try:
            grant = org.auth.token(form, request.headers.get("authorization"))
        except OAuthFailure as exc:
            return Response(
                _dumps({"error": exc.error, "error_description": exc.description}),
                status_code=exc.status,
                media_type=JSON_TYPE,
            )
        return Response(_dumps(org.auth.token_response(grant, _instance_url(request))), media_type=JSON_TYPE)

    async def soap(request: Request) -> Response:
        version = request.path_params["version"]
        try:
            session = org.auth.soap_login((await request.body()).decode("utf-8", "replace"))
        except OAuthFailure as exc:
            return Response(soap_fault(exc.error, exc.description), status_code=500, media_type="text/xml")
        return Response(
            soap_login_response(
                session,
                _instance_url(request),
                version,
                org.org_id,
                org.settings.username,
                org.settings.session_timeout_seconds,
            ),
            media_type="text/xml",
        )

    return [
        Route("/services/data", versions, methods=["GET"]),
        Route("/services/data/", versions, methods=["GET"]),
        Route("/services/oauth2/token", token, methods=["POST"]),
        Route("/services/Soap/u/{version}", soap, methods=["POST"]),
    ]


class _TrailingSlash:
    """Salesforce accepts `.../updated/?start=` and `.../query/?q=`: route them without a redirect."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            if path.startswith("/services/data/v") and path.endswith("/"):
                scope = dict(scope, path=path.rstrip("/"))
        await self.app(scope, receive, send)


def build_app(org: SalesforceOrg) -> ASGIApp:
    grouped: dict[str, dict[str, ApiRoute]] = {}
    for api_route in api_routes():
        grouped.setdefault(api_route.template, {})[api_route.method] = api_route
    routes: list[BaseRoute] = _login_routes(org)
    for template, handlers in grouped.items():
        routes.append(
            Route(
                "/services/data/v{version}" + template,
                _rest_endpoint(org, template, handlers),
                methods=["GET", "POST", "PATCH", "PUT", "DELETE", "HEAD"],
            )
        )
    routes += control_routes(org) + sandbox_routes(org)

    async def unknown(request: Request) -> Response:
        return _to_starlette(
            ApiResponse(404, [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}])
        )

    routes.append(Route("/{path:path}", unknown, methods=["GET", "POST", "PATCH", "PUT", "DELETE"]))
    app = Starlette(routes=routes)
    wrapped = sandbox_middleware(
        app,
        injector=org.injector,
        counters=org.counters,
        latency_ms=lambda: org.latency_ms,
        default_error_body=default_error_body,
        routes=routes[:-1],
    )
    return _TrailingSlash(wrapped)
