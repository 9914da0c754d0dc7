"""`syncd db upgrade` and `syncd status` against real stores (SQLite and PostgreSQL)."""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import create_engine, inspect, text

from syncd.cli import main
from syncd.store.db import make_engine, session_factory
from syncd.store.models import Issue, Run

CONFIG = """\
store:
  url: {url}
hubspot:
  access_token: ${{HUBSPOT_ACCESS_TOKEN}}
salesforce:
  auth:
    flow: password
    client_id: 3MVG9abc
    client_secret: ${{SF_CLIENT_SECRET}}
    username: integration@example.com
    password: ${{SF_PASSWORD}}
"""
ENV = {"HUBSPOT_ACCESS_TOKEN": "pat-1", "SF_CLIENT_SECRET": "cs", "SF_PASSWORD": "pw"}


def write_config(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG.format(url=url), encoding="utf-8")
    return path


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, 2, hour, minute, tzinfo=UTC)


def test_upgrade_then_status_on_an_empty_store(store_url: str, tmp_path: Path) -> None:
    config = write_config(tmp_path, store_url)
    runner = CliRunner()
    upgraded = runner.invoke(main, ["db", "upgrade", "--config", str(config)], env=ENV)
    assert upgraded.exit_code == 0, upgraded.output
    assert "is at the latest schema (revision " in upgraded.stdout

    # Upgrading again is a no-op, not an error.
    assert runner.invoke(main, ["db", "upgrade", "--url", store_url]).exit_code == 0

    status = runner.invoke(main, ["status", "--config", str(config)], env=ENV)
    assert status.exit_code == 0, status.output
    assert status.stdout.splitlines()[1:] == [
        "last runs: none yet",
        "API budget: not seen yet",
        "open issues: none",
    ]


def test_status_shows_last_run_per_flow_and_open_issues_by_category(store_url: str) -> None:
    assert CliRunner().invoke(main, ["db", "upgrade", "--url", store_url]).exit_code == 0
    engine = make_engine(store_url)
    with session_factory(engine)() as session, session.begin():
        session.add_all(
            [
                Run(
                    flow="contacts",
                    trigger="schedule",
                    started_at=at(9),
                    finished_at=at(9, 1),
                    status="failed",
                    counts={},
                ),
                Run(
                    flow="contacts",
                    trigger="schedule",
                    started_at=at(10),
                    finished_at=at(10, 2),
                    status="succeeded",
                    counts={"hubspot": {"updated": 3}, "salesforce": {"created": 2}},
                ),
                Run(
                    flow="deals",
                    trigger="once",
                    started_at=at(11),
                    finished_at=None,
                    status="running",
                    counts={},
                ),
            ]
        )
        issue = {
            "flow": "contacts",
            "system": "salesforce",
            "object": "Lead",
            "message": "rejected",
            "first_seen_at": at(10),
            "last_seen_at": at(10),
        }
        session.add_all(
            [
                Issue(record_key="a@x.com", category="validation", **issue),
                Issue(record_key="b@x.com", category="validation", **issue),
                Issue(record_key="c@x.com", category="duplicate", **issue),
                Issue(record_key="d@x.com", category="picklist", status="resolved", **issue),
            ]
        )
    engine.dispose()

    result = CliRunner().invoke(main, ["status", "--url", store_url])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1:] == [
        "last run per flow:",
        "  flow      started               finished              status     counts",
        "  contacts  2026-03-02 10:00:00Z  2026-03-02 10:02:00Z  succeeded  "
        "hubspot: updated=3; salesforce: created=2",
        "  deals     2026-03-02 11:00:00Z  -                     running    -",
        "API budget: not seen yet",
        "open issues: 3",
        "  category    open",
        "  validation  2",
        "  duplicate   1",
    ]


def test_status_refuses_an_unmigrated_store_and_names_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE unrelated (id INTEGER)"))
    engine.dispose()

    result = CliRunner().invoke(main, ["status", "--url", f"sqlite:///{path}"])
    assert result.exit_code == 1
    assert result.stderr == (
        f"syncd: the store at sqlite:///{path} has no syncd schema — "
        "run `syncd db upgrade --config FILE` to migrate it\n"
    )
    check = create_engine(f"sqlite:///{path}")
    assert inspect(check).get_table_names() == ["unrelated"]
    check.dispose()


def test_status_on_a_missing_sqlite_file_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "absent.db"
    result = CliRunner().invoke(main, ["status", "--url", f"sqlite:///{path}"])
    assert result.exit_code == 1
    assert "run `syncd db upgrade" in result.stderr
    assert not path.exists()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_unreachable_database_is_one_message_with_the_password_masked() -> None:
    url = f"postgresql+psycopg://syncd:s3cr3t@127.0.0.1:{_closed_port()}/syncd"
    for command in (["db", "upgrade", "--url", url], ["status", "--url", url]):
        result = CliRunner().invoke(main, command)
        assert result.exit_code == 1, result.output
        [line] = result.stderr.splitlines()
        assert "postgresql+psycopg://syncd:***@127.0.0.1:" in line
        assert "s3cr3t" not in result.output
        assert "Traceback" not in result.output


def test_upgrade_into_a_missing_directory_fails_and_writes_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'no' / 'such' / 'dir' / 'syncd.db'}"
    result = CliRunner().invoke(main, ["db", "upgrade", "--url", url])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"syncd: cannot migrate the store at {url}: ")
    assert not (tmp_path / "no").exists()


def test_upgrade_with_an_invalid_config_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "syncd.db"
    config = write_config(tmp_path, f"sqlite:///{db}")
    result = CliRunner().invoke(
        main,
        ["db", "upgrade", "--config", str(config)],
        env={**ENV, "SF_PASSWORD": None, "HUBSPOT_ACCESS_TOKEN": "x"},
    )
    assert result.exit_code == 2
    assert "salesforce.auth.password: environment variable SF_PASSWORD is not set" in result.stderr
    assert not db.exists()


def test_upgrade_needs_exactly_one_of_config_and_url(tmp_path: Path) -> None:
    neither = CliRunner().invoke(main, ["db", "upgrade"])
    assert neither.exit_code == 2
    assert "give either --config FILE or --url URL" in neither.stderr
    both = CliRunner().invoke(
        main, ["db", "upgrade", "--url", "sqlite://", "--config", str(tmp_path / "c.yaml")]
    )
    assert both.exit_code == 2


def test_upgrade_rejects_an_unsupported_url() -> None:
    result = CliRunner().invoke(main, ["db", "upgrade", "--url", "mysql://db/syncd"])
    assert result.exit_code == 2
    assert "unsupported database 'mysql'" in result.stderr


def test_errors_list_on_a_missing_sqlite_file_refuses_and_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "typo.db"
    result = CliRunner().invoke(main, ["errors", "list", "--url", f"sqlite:///{path}"])
    assert result.exit_code == 1
    assert "there is no store at" in result.stderr
    assert "syncd db upgrade" in result.stderr
    assert not path.exists()
