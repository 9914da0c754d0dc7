"""The `syncd` command line: the main group, its error handling, and the commands registered on it.

This is the composition root: commands that need a concrete connector import it here, nowhere else.
"""

from __future__ import annotations

import logging
from typing import Any

import click

from syncd.errors import ConfigError, SyncdError

log = logging.getLogger(__name__)

EXIT_FAILURE = 1
EXIT_CONFIG = 2


class SyncdGroup(click.Group):
    """A click group that turns syncd's errors into one clean message and an exit status."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except ConfigError as exc:
            report_config_error(exc)
            ctx.exit(EXIT_CONFIG)
        except SyncdError as exc:
            click.echo(f"syncd: {exc}", err=True)
            ctx.exit(EXIT_FAILURE)
        except KeyboardInterrupt:
            click.echo("syncd: interrupted", err=True)
            ctx.exit(130)
        except Exception as exc:
            # A bug, not an operator mistake: keep the message short, the traceback one -v away.
            log.debug("unexpected error", exc_info=True)
            click.echo(
                f"syncd: unexpected error: {exc.__class__.__name__}: {exc} (run with -v for details)",
                err=True,
            )
            ctx.exit(EXIT_FAILURE)


def report_config_error(exc: ConfigError) -> None:
    """Print every problem on its own line, then a count and what to do."""
    for problem in exc.problems:
        click.echo(problem, err=True)
    count = len(exc.problems)
    click.echo(
        f"{count} problem{'s' if count != 1 else ''} in the configuration — {exc.hint or 'fix them'}",
        err=True,
    )


def _configure_logging(verbose: int) -> None:
    if verbose == 0:
        # Python's last-resort handler already prints warnings and errors to stderr.
        return
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger().setLevel(logging.INFO if verbose == 1 else logging.DEBUG)


@click.group(name="syncd", cls=SyncdGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="syncd", prog_name="syncd")
@click.option("-v", "--verbose", count=True, help="More log output on stderr (-v info, -vv debug).")
def main(verbose: int) -> None:
    """Two-way sync between HubSpot and Salesforce with a closed-loop attribution store."""
    _configure_logging(verbose)


def _register() -> None:
    from syncd.cli.backfill import backfill
    from syncd.cli.check import check
    from syncd.cli.db import db
    from syncd.cli.demo import demo
    from syncd.cli.errors import errors
    from syncd.cli.export import export
    from syncd.cli.report import report
    from syncd.cli.resync import resync
    from syncd.cli.run import run
    from syncd.cli.sandbox import sandbox
    from syncd.cli.status import status
    from syncd.cli.sync import sync

    for command in (backfill, check, db, demo, errors, export, report, resync, run, sandbox, status, sync):
        main.add_command(command)


_register()
