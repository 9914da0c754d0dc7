"""The migrations are the schema: they build exactly the models, on every backend."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from syncd.errors import StoreNotReadyError
from syncd.store.db import make_engine
from syncd.store.migrate import current_revision, head_revision, require_head, upgrade
from syncd.store.models import Base


def test_upgrade_builds_exactly_the_models(store_url: str) -> None:
    upgrade(store_url)
    engine = make_engine(store_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        drift = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert drift == []


def test_upgrade_creates_every_store_table(store_url: str) -> None:
    upgrade(store_url)
    engine = make_engine(store_url)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables


def test_upgrade_twice_is_harmless(store_url: str) -> None:
    upgrade(store_url)
    upgrade(store_url)
    engine = make_engine(store_url)
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_unmigrated_store_is_refused_with_the_command_to_run(store_url: str) -> None:
    engine = make_engine(store_url)
    with pytest.raises(StoreNotReadyError) as refused:
        require_head(engine)
    engine.dispose()
    assert "has no syncd schema" in str(refused.value)
    assert "syncd db upgrade" in str(refused.value)


def test_migrated_store_is_accepted(store_url: str) -> None:
    upgrade(store_url)
    engine = make_engine(store_url)
    require_head(engine)
    engine.dispose()


def test_unreachable_database_is_named_with_password_masked() -> None:
    url = "postgresql+psycopg://syncd:hunter2@127.0.0.1:1/nowhere"
    with pytest.raises(StoreNotReadyError) as refused:
        upgrade(url)
    message = str(refused.value)
    assert "127.0.0.1:1/nowhere" in message
    assert "hunter2" not in message
    assert "store.url" in message
