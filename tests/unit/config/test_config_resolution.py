"""A good config resolves its secret references from the environment and from files, and applies defaults."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from syncd.config import DEFAULT_STORE_URL, STORE_URL_ENV, load_config
from syncd.errors import ConfigError

PEM = "-----BEGIN PRIVATE KEY-----\nMIIEvQ\n-----END PRIVATE KEY-----"


def write_config(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(body, encoding="utf-8")
    return path


def jwt_config(private_key_ref: str, extra: str = "") -> str:
    return f"""\
hubspot:
  access_token: ${{HUBSPOT_ACCESS_TOKEN}}
salesforce:
  auth:
    flow: jwt
    client_id: ${{SF_CLIENT_ID}}
    username: integration@example.com
    private_key: {private_key_ref}
{extra}"""


ENV = {"HUBSPOT_ACCESS_TOKEN": "pat-na1-abc", "SF_CLIENT_ID": "3MVG9xyz"}


def test_secrets_resolve_from_environment_and_file(tmp_path: Path) -> None:
    key_file = tmp_path / "sf_key.pem"
    key_file.write_text(PEM + "\n", encoding="utf-8")
    config = load_config(write_config(tmp_path, jwt_config(f"${{file:{key_file}}}")), env=ENV)

    assert config.hubspot.access_token.get_secret_value() == "pat-na1-abc"
    assert config.salesforce.auth.flow == "jwt"
    assert config.salesforce.auth.client_id == "3MVG9xyz"
    # The trailing newline of the file is not part of the secret; inner newlines are.
    assert config.salesforce.auth.private_key.get_secret_value() == PEM


def test_file_reference_relative_to_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "key.pem").write_text(PEM, encoding="utf-8")
    config = load_config(write_config(tmp_path, jwt_config("${file:secrets/key.pem}")), env=ENV)
    assert config.salesforce.auth.private_key.get_secret_value() == PEM


def test_resolved_secrets_never_print(tmp_path: Path) -> None:
    key_file = tmp_path / "key.pem"
    key_file.write_text(PEM, encoding="utf-8")
    extra = "store:\n  url: postgresql+psycopg://syncd:${DB_PASSWORD}@db.internal/syncd\n"
    config = load_config(
        write_config(tmp_path, jwt_config(f"${{file:{key_file}}}", extra)),
        env={**ENV, "DB_PASSWORD": "hunter2"},
    )
    printed = repr(config) + str(config) + config.model_dump_json()
    for secret in ("pat-na1-abc", "MIIEvQ", "hunter2"):
        assert secret not in printed
    assert config.store.url == "postgresql+psycopg://syncd:hunter2@db.internal/syncd"
    assert config.store.display_url == "postgresql+psycopg://syncd:***@db.internal/syncd"


def test_defaults_apply_when_keys_are_left_out(tmp_path: Path) -> None:
    (tmp_path / "k").write_text(PEM, encoding="utf-8")
    config = load_config(write_config(tmp_path, jwt_config("${file:k}")), env=ENV)
    assert config.store.url == DEFAULT_STORE_URL == "sqlite:///syncd.db"
    assert config.hubspot.base_url == "https://api.hubapi.com"
    assert (config.hubspot.limits.burst_per_10s, config.hubspot.limits.daily) == (100, 250_000)
    assert config.hubspot.limits.search_per_second == 5
    assert config.salesforce.login_url == "https://login.salesforce.com"
    assert config.salesforce.api_version == "62.0"
    assert config.salesforce.limits.daily_allocation == 5000
    assert config.flows.configured() == {}
    assert (config.daemon.health_host, config.daemon.health_port) == ("127.0.0.1", 8080)
    assert config.daemon.log_level == "INFO"


def test_store_url_default_comes_from_the_environment_when_the_file_has_none(tmp_path: Path) -> None:
    (tmp_path / "k").write_text(PEM, encoding="utf-8")
    path = write_config(tmp_path, jwt_config("${file:k}"))
    config = load_config(path, env={**ENV, STORE_URL_ENV: "sqlite:////var/lib/syncd/syncd.db"})
    assert config.store.url == "sqlite:////var/lib/syncd/syncd.db"
    explicit = write_config(tmp_path, jwt_config("${file:k}", "store:\n  url: sqlite:///mine.db\n"))
    assert (
        load_config(explicit, env={**ENV, STORE_URL_ENV: "sqlite:///other.db"}).store.url
        == "sqlite:///mine.db"
    )


def test_plain_postgresql_urls_use_the_psycopg_driver(tmp_path: Path) -> None:
    (tmp_path / "k").write_text(PEM, encoding="utf-8")
    extra = "store:\n  url: postgresql://syncd@db.internal:5432/syncd\n"
    config = load_config(write_config(tmp_path, jwt_config("${file:k}", extra)), env=ENV)
    assert config.store.url == "postgresql+psycopg://syncd@db.internal:5432/syncd"


def test_flows_resolve_mapping_paths_against_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "k").write_text(PEM, encoding="utf-8")
    (tmp_path / "mappings").mkdir()
    (tmp_path / "mappings" / "contacts.yaml").write_text("fields: []\n", encoding="utf-8")
    (tmp_path / "mappings" / "deals.yaml").write_text("fields: []\n", encoding="utf-8")
    extra = """\
flows:
  contacts:
    mapping: mappings/contacts.yaml
  deals:
    enabled: false
    interval_seconds: 300
    mapping: mappings/deals.yaml
daemon:
  log_level: debug
  health_bind: 0.0.0.0:9000
"""
    config = load_config(write_config(tmp_path, jwt_config("${file:k}", extra)), env=ENV)
    assert list(config.flows.configured()) == ["contacts", "deals"]
    assert config.flows.configured()["contacts"].mapping == tmp_path / "mappings" / "contacts.yaml"
    assert config.flows.configured()["contacts"].interval_seconds == 60
    assert list(config.enabled_flows()) == ["contacts"]
    assert config.daemon.log_level == "DEBUG"
    assert config.daemon.health_port == 9000


def test_unquoted_api_version_is_read_as_text(tmp_path: Path) -> None:
    (tmp_path / "k").write_text(PEM, encoding="utf-8")
    body = jwt_config("${file:k}").replace("salesforce:\n", "salesforce:\n  api_version: 61.0\n")
    assert load_config(write_config(tmp_path, body), env=ENV).salesforce.api_version == "61.0"


def test_the_resolved_config_is_frozen(tmp_path: Path) -> None:
    (tmp_path / "k").write_text(PEM, encoding="utf-8")
    config = load_config(write_config(tmp_path, jwt_config("${file:k}")), env=ENV)
    with pytest.raises(ValidationError):
        config.daemon.log_level = "DEBUG"  # type: ignore[misc]


def problems_for(tmp_path: Path, private_key_ref: str, env: dict[str, str] = ENV) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(write_config(tmp_path, jwt_config(private_key_ref)), env=env)
    return caught.value.problems


def test_missing_secret_file_names_key_and_path(tmp_path: Path) -> None:
    assert problems_for(tmp_path, "${file:/run/secrets/nope}") == [
        f"{tmp_path / 'config.yaml'}:8:5 salesforce.auth.private_key: secret file /run/secrets/nope does not "
        "exist — mount the secret there or fix the path"
    ]


def test_secret_file_that_is_a_directory(tmp_path: Path) -> None:
    (tmp_path / "secrets").mkdir()
    [problem] = problems_for(tmp_path, "${file:secrets}")
    assert problem.endswith(
        f"salesforce.auth.private_key: secret file {tmp_path / 'secrets'} is a directory — "
        "point the reference at the file inside it"
    )


def test_unreadable_secret_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = tmp_path / "key.pem"
    secret.write_text(PEM, encoding="utf-8")
    secret.chmod(0)
    # Root reads any file whatever its mode, so stand in for the kernel's refusal when running as root.
    original = Path.read_text

    def refuse(self: Path, *args: object, **kwargs: object) -> str:
        if self == secret:
            raise PermissionError(13, "Permission denied", str(self))
        return original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "read_text", refuse)
    [problem] = problems_for(tmp_path, f"${{file:{secret}}}")
    assert f"salesforce.auth.private_key: secret file {secret} is not readable by this user — " in problem


def test_empty_and_binary_secret_files(tmp_path: Path) -> None:
    (tmp_path / "empty").write_text("\n", encoding="utf-8")
    [problem] = problems_for(tmp_path, "${file:empty}")
    assert problem.endswith(f"secret file {tmp_path / 'empty'} is empty — write the secret into it")
    (tmp_path / "binary").write_bytes(b"\xff\xfe\x00key")
    [problem] = problems_for(tmp_path, "${file:binary}")
    assert "is not UTF-8 text" in problem


def test_every_missing_environment_variable_is_listed(tmp_path: Path) -> None:
    found = problems_for(tmp_path, "${file:/run/secrets/none}", env={})
    assert [p.split(" ", 1)[1].split(" — ")[0] for p in found] == [
        "hubspot.access_token: environment variable HUBSPOT_ACCESS_TOKEN is not set",
        "salesforce.auth.client_id: environment variable SF_CLIENT_ID is not set",
        "salesforce.auth.private_key: secret file /run/secrets/none does not exist",
    ]


def test_empty_environment_variable_is_a_problem(tmp_path: Path) -> None:
    found = problems_for(tmp_path, "${file:/run/secrets/none}", env={**ENV, "HUBSPOT_ACCESS_TOKEN": ""})
    assert any("environment variable HUBSPOT_ACCESS_TOKEN is empty" in p for p in found)


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda d: d / "absent.yaml", "config file does not exist — check the path"),
        (lambda d: d, "is a directory — pass the config file itself"),
    ],
    ids=["missing-config-file", "config-path-is-a-directory"],
)
def test_unusable_config_file_path(tmp_path: Path, make, expected: str) -> None:  # type: ignore[no-untyped-def]
    path = make(tmp_path)
    with pytest.raises(ConfigError) as caught:
        load_config(path, env=ENV)
    assert caught.value.problems == [f"{path}: {expected}" + caught.value.problems[0].split(expected, 1)[1]]


def test_plain_http_is_accepted_only_for_a_server_on_this_machine(tmp_path: Path) -> None:
    (tmp_path / "k").write_text(PEM, encoding="utf-8")
    for url in ("http://127.0.0.1:8443", "http://localhost:9000/", "http://[::1]:8080"):
        body = jwt_config("${file:k}").replace("hubspot:\n", f"hubspot:\n  base_url: {url}\n")
        assert load_config(write_config(tmp_path, body), env=ENV).hubspot.base_url == url.rstrip("/")
    body = jwt_config("${file:k}").replace("hubspot:\n", "hubspot:\n  base_url: http://api.hubapi.com\n")
    with pytest.raises(ConfigError) as caught:
        load_config(write_config(tmp_path, body), env=ENV)
    assert (
        "hubspot.base_url: expected an https:// URL, got 'http://api.hubapi.com'" in caught.value.problems[0]
    )
