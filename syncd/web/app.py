"""The dashboard's ASGI app: one HTML page and one `/api/...` JSON twin per report, read-only.

Figures are computed in a worker thread (reports are CPU-bound) and cached per (page, query,
store version, day); the store version is a handful of primary-key maxima read on every request,
so a page changes as soon as a run records something new.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route

from syncd.reports.errors import ReportError
from syncd.reports.store import store_version
from syncd.web import figures, views
from syncd.web.auth import SecurityHeaders, TokenGate
from syncd.web.cache import LruCache
from syncd.web.health import health_endpoint
from syncd.web.markup import Markup
from syncd.web.query import DashboardSettings, Query, parse_query

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class Page:
    name: str
    title: str
    fields: tuple[str, ...]  # the query parameters the page's form offers
    whole_month: bool  # default period: the current month instead of the last N days
    cached: bool
    compute: Callable[[Engine, Query, DashboardSettings, datetime], figures.Figures]
    render: Callable[[figures.Figures], Markup]


PAGES: dict[str, Page] = {
    page.name: page
    for page in (
        Page(
            "attribution",
            "Attribution & ROI",
            ("model", "conversion", "by"),
            False,
            True,
            lambda e, q, s, now: figures.attribution_figures(e, q, s),
            views.attribution_page,
        ),
        Page("funnel", "MQL value & funnel", ("by",), False, True, figures.funnel_figures, views.funnel_page),
        Page(
            "sla",
            "Sales SLA: speed-to-lead",
            ("hours",),
            False,
            True,
            lambda e, q, s, now: figures.sla_figures(e, q, s),
            views.sla_page,
        ),
        Page("pacing", "Lead pacing", ("goal",), True, True, figures.pacing_figures, views.pacing_page),
        Page(
            "sync",
            "Sync health",
            (),
            False,
            False,
            lambda e, q, s, now: figures.sync_figures(e, s, now),
            views.sync_page,
        ),
    )
}


class Dashboard:
    """The request handlers, holding the engine, clock, settings and the figures cache."""

    def __init__(self, engine: Engine, clock: Clock, settings: DashboardSettings) -> None:
        self.engine = engine
        self.clock = clock
        self.settings = settings
        self.cache: LruCache[figures.Figures] = LruCache(settings.cache_size)

    def figures_for(self, page: Page, params: dict[str, str]) -> tuple[Query, figures.Figures]:
        now = self.clock()
        query = parse_query(params, today=now.date(), settings=self.settings, whole_month=page.whole_month)
        if not page.cached:
            return query, page.compute(self.engine, query, self.settings, now)
        key = (page.name, query, store_version(self.engine), now.date())
        return query, self.cache.get_or_compute(
            key, lambda: page.compute(self.engine, query, self.settings, now)
        )

    async def html(self, request: Request) -> Response:
        page = PAGES[request.url.path.strip("/")]
        params = dict(request.query_params)
        try:
            query, fig = await run_in_threadpool(self.figures_for, page, params)
        except ReportError as exc:
            body = views.layout(
                page.name, page.title, None, page.fields, views.error_box(exc.message, exc.hint)
            )
            return HTMLResponse(body, status_code=400)
        return HTMLResponse(views.layout(page.name, page.title, query, page.fields, page.render(fig)))

    async def api(self, request: Request) -> Response:
        page = PAGES.get(request.path_params["page"])
        if page is None:
            return JSONResponse({"error": "no such report", "hint": f"use one of {', '.join(PAGES)}"}, 404)
        try:
            _, fig = await run_in_threadpool(self.figures_for, page, dict(request.query_params))
        except ReportError as exc:
            return JSONResponse({"error": exc.message, "hint": exc.hint}, status_code=400)
        return JSONResponse(fig)

    async def home(self, request: Request) -> Response:
        query = request.url.query
        return RedirectResponse("/attribution" + (f"?{query}" if query else ""), status_code=303)


def create_app(
    engine: Engine,
    *,
    token: str | None,
    clock: Clock,
    settings: DashboardSettings | None = None,
) -> Starlette:
    """The dashboard app over the store behind `engine`.

    `token=None` serves without authentication: only `serve()` on a loopback address may do that
    (it refuses otherwise). `clock` returns the current UTC instant (default periods, pacing).
    """
    dashboard = Dashboard(engine, clock, settings or DashboardSettings())
    routes = [Route("/", dashboard.home, methods=["GET"])]
    routes += [Route(f"/{name}", dashboard.html, methods=["GET"]) for name in PAGES]
    routes.append(Route("/api/{page}", dashboard.api, methods=["GET"]))
    gated = Starlette(
        routes=routes, middleware=[Middleware(TokenGate, token=token)] if token is not None else []
    )
    # /healthz stays outside the token gate: container probes carry no token, and it shows no data.
    app = Starlette(
        routes=[Route("/healthz", health_endpoint(engine), methods=["GET"]), Mount("/", app=gated)],
        middleware=[Middleware(SecurityHeaders)],
    )
    app.state.dashboard = dashboard
    return app
