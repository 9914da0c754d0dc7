"""The dashboard over HTTP: the token gate, the loopback rule, escaping, errors, and the figures cache."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from connectors.sandbox_core.server import SandboxServer
from syncd.errors import ConfigError
from syncd.reports import BusinessHours
from syncd.reports.teams import TeamMember
from syncd.store import models as m
from syncd.store.db import make_engine
from syncd.store.migrate import upgrade
from syncd.web import DashboardSettings, build_server, check_bind, create_app, serve
from syncd.web.auth import COOKIE
from tests.reports_store.seed import NOW, Small, at, seed_small
from tests.web.support import MARCH, SETTINGS

TOKEN = "s3cret-dashboard-token"


@pytest.fixture(scope="module")
def guarded(small_store: tuple[Engine, Small]) -> Iterator[SandboxServer]:
    engine, _ = small_store
    app = create_app(engine, token=TOKEN, clock=lambda: NOW, settings=SETTINGS)
    with SandboxServer(app) as server:
        yield server


@pytest.mark.parametrize(
    "bind", ["0.0.0.0:8081", "[::]:8081", "192.0.2.10:8081", "dashboard.example.com:8081"]
)
def test_serving_off_loopback_without_a_token_is_refused_with_what_to_do(
    small_store: tuple[Engine, Small], bind: str
) -> None:
    engine, _ = small_store
    with pytest.raises(ConfigError) as refused:
        serve(engine, bind, None)
    assert f"refusing to serve the dashboard on {bind} without a token" in refused.value.message
    assert (
        refused.value.hint is not None and "token" in refused.value.hint and "127.0.0.1" in refused.value.hint
    )


@pytest.mark.parametrize("bind", ["127.0.0.1:8081", "[::1]:8081", "localhost:8081", "127.3.4.5:0"])
def test_loopback_may_be_served_without_a_token(small_store: tuple[Engine, Small], bind: str) -> None:
    engine, _ = small_store
    assert check_bind(bind, None)[1] == int(bind.rpartition(":")[2])
    assert build_server(engine, bind, None).config.host == bind.rpartition(":")[0].strip("[]")


def test_off_loopback_with_a_token_is_allowed_and_a_bad_bind_is_explained(
    small_store: tuple[Engine, Small],
) -> None:
    assert check_bind("0.0.0.0:8081", TOKEN) == ("0.0.0.0", 8081)
    with pytest.raises(ConfigError, match="not HOST:PORT"):
        check_bind("0.0.0.0", TOKEN)
    with pytest.raises(ConfigError, match="token is empty"):
        check_bind("0.0.0.0:8081", " ")


@pytest.mark.parametrize("path", ["/attribution", "/api/attribution", "/sync", "/api/sla"])
def test_without_the_token_every_page_and_api_answers_401(guarded: SandboxServer, path: str) -> None:
    response = httpx.get(guarded.base_url + path, params=MARCH)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "?token=" in response.text and "Authorization: Bearer" in response.text
    assert "6,500" not in response.text and "6500" not in response.text
    wrong = httpx.get(guarded.base_url + path, params=MARCH, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401


def test_a_bearer_token_opens_the_api(guarded: SandboxServer) -> None:
    response = httpx.get(
        guarded.base_url + "/api/attribution", params=MARCH, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert response.status_code == 200
    assert response.json()["attribution"]["total_value"] == "12500.00"


def test_token_in_the_query_once_sets_an_httponly_cookie_and_leaves_the_address(
    guarded: SandboxServer,
) -> None:
    with httpx.Client(base_url=guarded.base_url) as client:
        first = client.get("/sla", params={**MARCH, "token": TOKEN})
        assert first.status_code == 303
        assert first.headers["location"] == "/sla?from=2026-03-01&to=2026-03-31"
        cookie = first.headers["set-cookie"]
        assert cookie.startswith(f"{COOKIE}=") and "HttpOnly" in cookie and "SameSite=Strict" in cookie
        assert TOKEN not in cookie
        page = client.get(first.headers["location"])
        assert page.status_code == 200
        assert "Speed-to-lead distribution" in page.text
    assert httpx.get(guarded.base_url + "/sla", params={**MARCH, "token": "wrong"}).status_code == 401


def test_responses_carry_a_strict_content_security_policy(dashboard: SandboxServer) -> None:
    response = httpx.get(dashboard.base_url + "/attribution", params=MARCH)
    assert response.status_code == 200
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "<script" not in response.text and "http://" not in response.text.replace(
        "http://www.w3.org/2000/svg", ""
    )


def test_bad_query_parameters_are_explained(api: httpx.Client) -> None:
    response = api.get("/api/attribution", params={"from": "yesterday"})
    assert response.status_code == 400
    assert response.json() == {
        "error": "query parameter from='yesterday' is not a date",
        "hint": "use YYYY-MM-DD, e.g. from=2026-03-01",
    }
    assert api.get("/api/attribution", params={"model": "magic"}).status_code == 400
    page = api.get("/attribution", params={"model": "shapley", "by": "campaign"})
    assert page.status_code == 400
    assert "credits channels only" in page.text
    assert api.get("/api/nothing").status_code == 404


def test_default_period_is_the_last_30_days_and_pacing_the_current_month(api: httpx.Client) -> None:
    assert api.get("/api/funnel").json()["period"] == {"from": "2026-02-24", "to": "2026-03-25"}
    assert api.get("/api/pacing").json()["period"] == {"from": "2026-03-01", "to": "2026-03-31"}
    home = api.get("/", params={"from": "2026-03-01"})
    assert (home.status_code, home.headers["location"]) == (303, "/attribution?from=2026-03-01")


def test_store_values_are_escaped_in_pages_and_charts(tmp_path_factory: pytest.TempPathFactory) -> None:
    url = f"sqlite:///{tmp_path_factory.mktemp('hostile') / 'store.db'}"
    upgrade(url)
    engine = make_engine(url)
    small = seed_small(engine)
    with Session(engine) as s:
        s.add(
            m.Touch(
                person_id=small.people["bob"],
                source_system="hubspot",
                source_event_id="evil",
                occurred_at=at(3, 5),
                kind="page_view",
                channel='<script>alert("x")</script>',
                recorded_at=at(3, 5),
            )
        )
        s.commit()
    with SandboxServer(create_app(engine, token=None, clock=lambda: NOW)) as server:
        page = httpx.get(server.base_url + "/attribution", params=MARCH).text
    engine.dispose()
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page


def test_cached_figures_are_reused_until_the_store_records_something_new(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    url = f"sqlite:///{tmp_path_factory.mktemp('cache') / 'store.db'}"
    upgrade(url)
    engine = make_engine(url)
    small = seed_small(engine)
    app = create_app(engine, token=None, clock=lambda: NOW)
    cache = app.state.dashboard.cache
    with SandboxServer(app) as server, httpx.Client(base_url=server.base_url) as client:
        before = client.get("/api/attribution", params={**MARCH, "model": "last"}).json()
        assert client.get("/attribution", params={**MARCH, "model": "last"}).status_code == 200
        assert (cache.misses, cache.hits) == (1, 1)
        with Session(engine) as s:  # a new last touch for ann before D1 closed
            s.add(
                m.Touch(
                    person_id=small.people["ann"],
                    source_system="hubspot",
                    source_event_id="late",
                    occurred_at=at(3, 17),
                    kind="page_view",
                    channel="referral",
                    recorded_at=at(3, 17),
                )
            )
            s.commit()
        after = client.get("/api/attribution", params={**MARCH, "model": "last"}).json()
    engine.dispose()
    assert cache.misses == 2
    credits = {r["key"]: r["credit"] for r in after["attribution"]["rows"]}
    assert credits["referral"] == "10000.00"
    assert after != before


def test_the_api_gives_the_same_known_numbers_on_every_backend(engine: Engine) -> None:
    seed_small(engine)
    app = create_app(engine, token=None, clock=lambda: NOW, settings=SETTINGS)
    with SandboxServer(app) as server, httpx.Client(base_url=server.base_url) as client:
        attribution = client.get("/api/attribution", params={**MARCH, "model": "linear"}).json()
        sla = client.get("/api/sla", params=MARCH).json()
        sync = client.get("/api/sync").json()
    credits = {r["key"]: r["credit"] for r in attribution["attribution"]["rows"]}
    assert credits == {
        "paid_search": "6500.00",
        "email": "2000.00",
        "organic": "2000.00",
        "webinar": "2000.00",
    }
    costs = {r["key"]: r["cost"] for r in attribution["roi"]["rows"]}
    assert costs["paid_search"] == "3100.00" and costs["webinar"] == "1600.00"
    assert (sla["overall"]["mqls"], sla["overall"]["within_share"], sla["overall"]["p90_hours"]) == (
        4,
        0.5,
        51.0,
    )
    assert [u["email"] for u in sla["uncontacted"]] == ["cat@example.com"]
    assert sync["issues_by_category"] == [
        {"category": "validation", "count": 3},
        {"category": "duplicate", "count": 1},
    ]
    assert [a["last_24h_calls"] for a in sync["api"]] == [160, 50]  # the 30-hour-old run is left out
    assert [f["flow"] for f in sync["flows"]] == ["contacts", "deals"]
    assert sync["flows"][0]["runs"][0]["status"] == "failed"


@pytest.mark.parametrize("model", ["linear", "markov", "shapley"])
def test_revenue_without_any_touch_is_counted_in_the_total_but_not_credited(
    tmp_path_factory: pytest.TempPathFactory, model: str
) -> None:
    url = f"sqlite:///{tmp_path_factory.mktemp('untouched') / 'store.db'}"
    upgrade(url)
    engine = make_engine(url)
    small = seed_small(engine)
    with Session(engine) as s:  # fay has no touch at all
        deal = m.Deal(
            hubspot_id="hs-D6",
            name="D6",
            stage="closedwon",
            amount=1000,
            created_at=at(3, 13),
            closed_at=at(3, 20),
            is_closed=True,
            is_won=True,
            updated_at=at(3, 20),
        )
        s.add(deal)
        s.flush()
        s.add(m.DealContact(deal_id=deal.id, person_id=small.people["fay"], is_primary=True))
        s.commit()
    with SandboxServer(create_app(engine, token=None, clock=lambda: NOW)) as server:
        data = httpx.get(server.base_url + "/api/attribution", params={**MARCH, "model": model}).json()
    engine.dispose()
    att = data["attribution"]
    assert (att["conversions"], att["unattributed"]) == (3, 1)
    assert (att["total_value"], att["attributed_value"], att["unattributed_value"]) == (
        "13500.00",
        "12500.00",
        "1000.00",
    )
    assert data["roi"]["unattributed_revenue"] == "1000.00"


def test_sla_on_business_hours_when_they_are_configured(small_store: tuple[Engine, Small]) -> None:
    engine, _ = small_store
    settings = DashboardSettings(business_hours=BusinessHours())  # 9 to 17 UTC, Monday to Friday
    with SandboxServer(create_app(engine, token=None, clock=lambda: NOW, settings=settings)) as server:
        data = httpx.get(server.base_url + "/api/sla", params=MARCH).json()
        page = httpx.get(server.base_url + "/sla", params=MARCH).text
    overall = data["overall"]
    # ann: MQL Tue 08:00, called 10:00 → 1 h; bob: Wed 09:00 → Fri 12:00 → 19 h; eve: Sunday → 0 h.
    assert (overall["median_business_hours"], overall["p90_business_hours"]) == (1.0, 19.0)
    assert overall["within_business_share"] == 0.75
    assert "Within 24 h of business hours" in page and "75.0%" in page


def test_attribution_shows_sourced_and_influenced_pipeline_side_by_side(api: httpx.Client) -> None:
    # Deals created in March: D1 (10,000; ann's February ad click is the pooled first touch; bob's
    # organic visit and ann's webinar influenced it too), D3 (3,000, open; cat's social visit), D5
    # (2,500; dan's ad click). D4 is deleted.
    data = api.get("/api/attribution", params={**MARCH, "model": "linear"}).json()
    pipe = data["pipeline"]
    assert pipe["sourced"] == {"deals": 3, "amount": "15500.00"}
    assert pipe["influenced"] == {"deals": 3, "amount": "15500.00"}
    assert {
        r["key"]: (r["sourced_deals"], r["sourced_amount"], r["influenced_deals"], r["influenced_amount"])
        for r in pipe["rows"]
    } == {
        "organic": (0, "0.00", 1, "10000.00"),
        "paid_search": (2, "12500.00", 2, "12500.00"),
        "social": (1, "3000.00", 1, "3000.00"),
        "webinar": (0, "0.00", 1, "10000.00"),
    }
    page = api.get("/attribution", params={**MARCH, "model": "linear"}).text
    assert "Sourced vs influenced pipeline by channel" in page and 'id="pipeline"' in page


def test_sla_by_team_when_teams_are_configured(small_store: tuple[Engine, Small]) -> None:
    engine, _ = small_store
    settings = DashboardSettings(teams=(TeamMember("inbound", "Rita@Example.com"),))
    with SandboxServer(create_app(engine, token=None, clock=lambda: NOW, settings=settings)) as server:
        data = httpx.get(server.base_url + "/api/sla", params=MARCH).json()
        page = httpx.get(server.base_url + "/sla", params=MARCH).text
    # rita reached ann in 2 h and bob in 51 h; sam reached eve in 30 min (no team); cat: nobody.
    assert data["by_team"] == [
        {"team": "inbound", "mqls": 2, "contacted": 2, "within_share": 0.5, "median_hours": 26.5},
        {"team": None, "mqls": 2, "contacted": 1, "within_share": 0.5, "median_hours": 0.5},
    ]
    assert 'id="teams"' in page and "(no team)" in page


def test_sla_without_teams_says_how_to_configure_them(api: httpx.Client) -> None:
    assert api.get("/api/sla", params=MARCH).json()["by_team"] == []
    assert "add a teams: section" in api.get("/sla", params=MARCH).text
