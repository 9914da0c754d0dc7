"""The dashboard over a seeded store, served by uvicorn on loopback, and a headless Chromium.

Chromium and its driver come from the OS (Debian: `apt-get install chromium chromium-driver`);
Selenium drives them with the driver path given, so nothing is ever downloaded. In CI (CI=true) a
missing browser fails the run with what to install; elsewhere the browser tests skip with the reason.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from connectors.sandbox_core.server import SandboxServer
from syncd.store.db import make_engine
from syncd.store.migrate import upgrade
from syncd.web import create_app
from tests.reports_store.seed import NOW, Small, seed_small
from tests.web.support import SETTINGS

CHROMIUM = os.environ.get("SYNCD_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("SYNCD_TEST_CHROMEDRIVER", "/usr/bin/chromedriver")


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    """A migrated, empty store on each backend (SQLite and PostgreSQL)."""
    upgrade(store_url)
    engine = make_engine(store_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def small_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, Small]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('store') / 'store.db'}"
    upgrade(url)
    engine = make_engine(url)
    small = seed_small(engine)
    yield engine, small
    engine.dispose()


@pytest.fixture(scope="module")
def dashboard(small_store: tuple[Engine, Small]) -> Iterator[SandboxServer]:
    """The dashboard without a token, on 127.0.0.1 (what `serve()` allows on loopback)."""
    engine, _ = small_store
    app = create_app(engine, token=None, clock=lambda: NOW, settings=SETTINGS)
    with SandboxServer(app) as server:
        yield server


@pytest.fixture
def api(dashboard: SandboxServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=dashboard.base_url, timeout=30) as client:
        yield client


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go: $SYNCD_TEST_ARTIFACTS, else a pytest temporary directory."""
    configured = os.environ.get("SYNCD_TEST_ARTIFACTS")
    directory = (
        Path(configured) / "dashboard" if configured else tmp_path_factory.mktemp("dashboard-screenshots")
    )
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def _missing_browser() -> str | None:
    problems = []
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not (Path(path).is_file() and os.access(path, os.X_OK)) and shutil.which(Path(path).name) is None:
            problems.append(f"{path} (Debian package {package})")
    try:
        import selenium  # noqa: F401
    except ImportError:
        problems.append("the Python package selenium (pip install selenium)")
    if not problems:
        return None
    return (
        "the dashboard browser tests need " + ", ".join(problems) + ": run "
        "`apt-get install -y chromium chromium-driver` and install syncd's dev extras"
    )


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    problem = _missing_browser()
    if problem is not None:
        if os.environ.get("CI"):
            pytest.fail(f"{problem} (CI must run the browser tests)", pytrace=False)
        pytest.skip(problem)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
        "--window-size=1400,1000",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
