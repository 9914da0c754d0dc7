"""`syncd db`: manage the store's schema (`syncd db upgrade` migrates it to the latest revision)."""

from __future__ import annotations

import os
from pathlib import Path

import click
from pydantic import ValidationError

from syncd.config import load_config, mask_url
from syncd.config.model import StoreConfig
from syncd.store.migrate import head_revision, upgrade


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
