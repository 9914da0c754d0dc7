"""`syncd db`: manage the store's schema (`syncd db upgrade` migrates it to the latest revision)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click
from pydantic import ValidationError
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from syncd.config import load_config, mask_url
from syncd.config.model import StoreConfig
from syncd.errors import StoreNotReadyError
from syncd.store.db import make_engine
from syncd.store.migrate import head_revision, require_head, upgrade


@click.group()
def db() -> None:
    """Manage the store's database schema."""


def store_url(config_path: Path | None, url: str | None) -> str:
    """The store URL from exactly one of --config and --url."""
    if config_path is not None and url is None:
        return load_config(config_path, env=os.environ).store.url
    if url is not None and config_path is None:
        try:
            return StoreConfig(url=url).url
        except ValidationError as exc:
            raise click.BadParameter(exc.errors()[0]["msg"], param_hint="--url") from None
    raise click.UsageError("give either --config FILE or --url URL")


@db.command("upgrade")
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="The syncd YAML configuration file (its store.url is migrated).",
)
@click.option("--url", help="A store URL instead of --config, e.g. sqlite:///syncd.db.")
def upgrade_command(config_path: Path | None, url: str | None) -> None:
    """Migrate the store to the latest schema, creating its tables on first use."""
    target = store_url(config_path, url)
    upgrade(target)
    click.echo(f"store at {mask_url(target)} is at the latest schema (revision {head_revision()})")


T = TypeVar("T")


def read_store(url: str, read: Callable[[Engine], T]) -> T:
    """Run `read` against a migrated store; an unreachable, missing or old store is a clear error."""
    _refuse_missing_sqlite_file(url)
    engine = make_engine(url)
    try:
        require_head(engine)
        return read(engine)
    except SQLAlchemyError as exc:
        raise StoreNotReadyError(
            f"cannot read the store at {mask_url(url)}: {exc.__class__.__name__}",
            hint="check store.url and that the database server is reachable",
        ) from exc
    finally:
        engine.dispose()


def _refuse_missing_sqlite_file(url: str) -> None:
    # Connecting would create an empty SQLite file; reading a store must write nothing.
    parsed = make_url(url)
    database = parsed.database or ""
    if (
        parsed.get_backend_name() == "sqlite"
        and database not in ("", ":memory:")
        and not Path(database).exists()
    ):
        raise StoreNotReadyError(
            f"there is no store at {mask_url(url)} (no file {database})",
            hint="run `syncd db upgrade --config FILE` to create it, or fix store.url",
        )
