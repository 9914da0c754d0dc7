"""Shared fixtures: store URLs for every backend the suite covers.

PostgreSQL-backed tests run against SYNCD_TEST_PG_URL (default: the local server, database
`test`). Each test gets a database of its own so parallel workers and CI runs never collide.
In CI (CI=true) an unreachable server fails the run loudly; elsewhere those tests skip with
the reason.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

PG_ADMIN_URL = os.environ.get("SYNCD_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def pg_admin_url() -> str:
    engine = create_engine(PG_ADMIN_URL)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as exc:
        message = f"PostgreSQL at {make_url(PG_ADMIN_URL).render_as_string()} is unreachable: {exc.orig}"
        if os.environ.get("CI"):
            pytest.fail(f"{message} (CI must run the PostgreSQL tests)", pytrace=False)
        pytest.skip(f"{message}; set SYNCD_TEST_PG_URL to run the PostgreSQL tests")
    finally:
        engine.dispose()
    return PG_ADMIN_URL


@pytest.fixture
def pg_url(pg_admin_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database, dropped afterwards."""
    name = f"syncd_t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(pg_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(pg_admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest) -> str:
    """An empty store URL, once per backend."""
    fixture = "sqlite_url" if request.param == "sqlite" else "pg_url"
    url: str = request.getfixturevalue(fixture)
    return url
