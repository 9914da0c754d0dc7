"""`syncd check` and the CLI shell: exit codes, every problem listed, help and version everywhere."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from syncd.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config.example.yaml"

VALID = """\
hubspot:
  access_token: ${HUBSPOT_ACCESS_TOKEN}
salesforce:
  auth:
    flow: password
    client_id: 3MVG9abc
    client_secret: ${SF_CLIENT_SECRET}
    username: integration@example.com
    password: ${file:sf_password}
"""


def test_check_valid_config_prints_one_line_summary_and_exits_0(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text(VALID, encoding="utf-8")
    (tmp_path / "sf_password").write_text("hunter2\n", encoding="utf-8")
    result = CliRunner().invoke(
        main,
        ["check", "--config", str(tmp_path / "config.yaml")],
        env={"HUBSPOT_ACCESS_TOKEN": "pat-1", "SF_CLIENT_SECRET": "cs"},
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"{tmp_path / 'config.yaml'}: valid — "
        "store sqlite:///syncd.db; salesforce auth password; no flows enabled\n"
    )
    assert "hunter2" not in result.output and "pat-1" not in result.output


def test_check_invalid_config_lists_problems_on_stderr_and_exits_2(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(VALID + "  colour: blue\n", encoding="utf-8")
    result = CliRunner().invoke(
        main, ["check", "--config", str(config)], env={"HUBSPOT_ACCESS_TOKEN": None, "SF_CLIENT_SECRET": "cs"}
    )
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"{config}:2:3 hubspot.access_token: environment variable HUBSPOT_ACCESS_TOKEN is not set — "
        "export it before starting syncd (docker: -e or --env-file)",
        f"{config}:9:5 salesforce.auth.password: secret file {tmp_path / 'sf_password'} does not exist — "
        "mount the secret there or fix the path",
        f"{config}:10:3 salesforce.colour: unknown key — allowed here: "
        "login_url, api_version, auth, ca_file, limits",
        "3 problems in the configuration — fix the problems listed and run `syncd check` again",
    ]
    assert "Traceback" not in result.output


def test_check_missing_config_file_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["check", "--config", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert f"{tmp_path / 'nope.yaml'}: config file does not exist" in result.stderr


def test_check_lists_every_missing_reference_of_the_example_in_one_run() -> None:
    """Run as a real process with an environment holding none of the example's variables."""
    text = EXAMPLE.read_text(encoding="utf-8")
    active = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
    variables = sorted(set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)\}", active)))
    files = sorted(set(re.findall(r"\$\{file:([^}]+)\}", active)))
    assert variables and files
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    result = subprocess.run(
        [sys.executable, "-m", "syncd", "check", "--config", str(EXAMPLE)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    for name in variables:
        assert f"environment variable {name} is not set" in result.stderr
    for path in files:
        assert f"secret file {path} does not exist" in result.stderr
    assert result.stderr.count("config.example.yaml:") == len(variables) + len(files)


def test_the_example_is_valid_once_its_references_resolve(tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8").replace("/run/secrets/", f"{tmp_path}/")
    active = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
    for path in re.findall(r"\$\{file:([^}]+)\}", active):
        Path(path).write_text("secret\n", encoding="utf-8")
    env = {name: "value" for name in re.findall(r"\$\{([A-Z_][A-Z0-9_]*)\}", active)}
    (tmp_path / "config.yaml").write_text(text, encoding="utf-8")
    # --offline: the example points at the real HubSpot and Salesforce, which no test can reach.
    result = CliRunner().invoke(
        main, ["check", "--offline", "--config", str(tmp_path / "config.yaml")], env=env
    )
    assert result.exit_code == 0, result.stderr
    assert ": valid — " in result.stdout
    assert "flows: contacts every 60s" in result.stdout


def test_python_m_syncd_help_runs_as_a_real_process() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "syncd", "--help"], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: syncd [OPTIONS] COMMAND [ARGS]...")
    for command in ("check", "db", "status"):
        assert re.search(rf"^  {command}\s", result.stdout, re.MULTILINE)


def _all_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = [prefix]
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found.extend(_all_commands(command, (*prefix, name)))
        else:
            found.append((*prefix, name))
    return found


@pytest.mark.parametrize("command", _all_commands(main), ids=lambda c: " ".join(c) or "syncd")
def test_every_command_has_help(command: tuple[str, ...]) -> None:
    result = CliRunner().invoke(main, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"Usage: syncd {' '.join(command)}".rstrip())
    # A one-line description, not an empty help page.
    assert len(result.stdout.splitlines()) > 3


def test_version_is_the_package_version() -> None:
    from importlib.metadata import version

    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"syncd, version {version('syncd')}\n"


def test_check_summary_names_the_enabled_flows(tmp_path: Path) -> None:
    (tmp_path / "contacts.yaml").write_text("fields: []\n", encoding="utf-8")
    flows = (
        "flows:\n  contacts:\n    interval_seconds: 120\n    mapping: contacts.yaml\n"
        "  deals:\n    enabled: false\n    mapping: contacts.yaml\n"
        "store:\n  url: postgresql://syncd:pw@db/syncd\n"
    )
    (tmp_path / "config.yaml").write_text(VALID + flows, encoding="utf-8")
    (tmp_path / "sf_password").write_text("hunter2\n", encoding="utf-8")
    result = CliRunner().invoke(
        main,
        ["check", "--offline", "--config", str(tmp_path / "config.yaml")],
        env={"HUBSPOT_ACCESS_TOKEN": "pat-1", "SF_CLIENT_SECRET": "cs"},
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith(
        "store postgresql+psycopg://syncd:***@db/syncd; salesforce auth password; "
        "flows: contacts every 120s (1 disabled)\n"
    )
