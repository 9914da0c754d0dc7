"""Schema migrations: bring a store to head, and refuse to run against one that is not."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

import migrations
from syncd.errors import StoreNotReadyError
from syncd.store.db import display_url, make_engine


def alembic_config(url: str) -> Config:
    """An Alembic config for `url` that finds the migrations wherever syncd is installed."""
    config = Config()
    config.set_main_option("script_location", str(Path(migrations.__file__).parent))
    # ConfigParser interpolation would read a %-encoded password as a format directive.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    if head is None:
        raise RuntimeError("the migrations directory has no revisions")
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(url: str) -> None:
    """Migrate the store at `url` to head (creating its tables on first use)."""
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            config = alembic_config(url)
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except SQLAlchemyError as exc:
        raise StoreNotReadyError(
            f"cannot migrate the store at {display_url(url)}: {_reason(exc)}",
            hint="check store.url in the configuration and that the database server is reachable",
        ) from exc
    finally:
        engine.dispose()


def _reason(exc: SQLAlchemyError) -> str:
    """The driver's own first line (e.g. "connection refused"), without SQLAlchemy's boilerplate."""
    original = getattr(exc, "orig", None) or exc
    first_line = str(original).strip().splitlines()[0] if str(original).strip() else ""
    return f"{original.__class__.__name__}: {first_line}"


def require_head(engine: Engine) -> None:
    """Raise StoreNotReadyError unless the store's schema is at the latest migration."""
    url = display_url(engine.url.render_as_string(hide_password=False))
    try:
        current = current_revision(engine)
    except SQLAlchemyError as exc:
        raise StoreNotReadyError(
            f"cannot reach the store at {url}: {_reason(exc)}",
            hint="check store.url in the configuration and that the database server is reachable",
        ) from exc
    head = head_revision()
    if current != head:
        state = "has no syncd schema" if current is None else f"is at revision {current}, not {head}"
        raise StoreNotReadyError(
            f"the store at {url} {state}",
            hint="run `syncd db upgrade --config FILE` to migrate it",
        )
