"""Migrations upgrade a store that already holds data, not only an empty one."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import command
from sqlalchemy.orm import Session

from syncd.store.db import make_engine
from syncd.store.migrate import alembic_config, upgrade
from syncd.store.models import Run
from syncd.store.types import UTCDateTime

# The runs table as revision 0002 knew it.
RUNS_AT_0002 = sa.table(
    "runs",
    sa.column("flow", sa.String),
    sa.column("trigger", sa.String),
    sa.column("dry_run", sa.Boolean),
    sa.column("started_at", UTCDateTime()),
    sa.column("status", sa.String),
    sa.column("counts", sa.JSON),
    sa.column("api_calls", sa.JSON),
)


def test_runs_recorded_before_api_usage_existed_survive_the_upgrade(store_url: str) -> None:
    command.upgrade(alembic_config(store_url), "0002")
    engine = make_engine(store_url)
    with engine.begin() as connection:
        connection.execute(
            sa.insert(RUNS_AT_0002).values(
                flow="contacts",
                trigger="once",
                dry_run=False,
                started_at=datetime(2026, 1, 1, tzinfo=UTC),
                status="succeeded",
                counts={},
                api_calls={},
            )
        )
    upgrade(store_url)
    with Session(engine) as session:
        run = session.scalars(sa.select(Run)).one()
    engine.dispose()
    assert (run.flow, run.api_usage) == ("contacts", {})
