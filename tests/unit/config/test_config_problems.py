"""Every kind of bad configuration gets one clear problem naming the file, line, column and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from syncd.config import parse_config
from syncd.errors import ConfigError

ENV = {"HUBSPOT_ACCESS_TOKEN": "pat-test", "SF_CLIENT_SECRET": "s3cret"}

# A valid config whose lines the cases below edit; line numbers in expectations refer to the edited text.
GOOD = """\
hubspot:
  access_token: ${HUBSPOT_ACCESS_TOKEN}
salesforce:
  login_url: https://acme.my.salesforce.com
  auth:
    flow: client_credentials
    client_id: 3MVG9abc
    client_secret: ${SF_CLIENT_SECRET}
"""


def problems(text: str, env: dict[str, str] | None = None, base_dir: Path | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(
            text,
            source="config.yaml",
            base_dir=base_dir or Path("/nonexistent"),
            env=ENV if env is None else env,
        )
    return caught.value.problems


def test_the_base_config_of_these_cases_is_valid() -> None:
    config = parse_config(GOOD, source="config.yaml", base_dir=Path("/nonexistent"), env=ENV)
    assert config.salesforce.auth.flow == "client_credentials"


CASES = [
    pytest.param(
        "hubspot:\n  access_token: [unclosed\nsalesforce: {}\n",
        "config.yaml:3:11 YAML syntax error: expected ',' or ']', but got ':'",
        id="malformed-yaml-flow-sequence",
    ),
    pytest.param(
        "hubspot:\n\taccess_token: x\n",
        "config.yaml:2:1 YAML syntax error: found character '\\t' that cannot start any token",
        id="malformed-yaml-tab-indent",
    ),
    pytest.param(
        GOOD + "---\nsecond: document\n",
        "config.yaml:9:1 YAML syntax error: but found another document",
        id="several-yaml-documents",
    ),
    pytest.param(
        GOOD.replace("${HUBSPOT_ACCESS_TOKEN}", "!vault hubspot/token"),
        "config.yaml:2:17 hubspot.access_token: cannot read this value: could not determine a constructor "
        "for the tag '!vault' — write a plain value without a YAML tag",
        id="unknown-yaml-tag",
    ),
    pytest.param(
        "? [a, b]\n: 1\n" + GOOD,
        "config.yaml:1:3 keys must be plain names, not lists or mappings — write `name: value`",
        id="non-scalar-key",
    ),
    pytest.param(
        "", "config.yaml: the config file is empty — start from config.example.yaml", id="empty-file"
    ),
    pytest.param(
        "- hubspot\n- salesforce\n",
        "config.yaml:1:1 the top level must be a mapping of sections",
        id="top-level-list",
    ),
    pytest.param(
        GOOD + "colour: blue\n",
        "config.yaml:9:1 colour: unknown key — allowed here: store, hubspot, salesforce, flows, daemon",
        id="unknown-key-top-level",
    ),
    pytest.param(
        GOOD.replace("  access_token:", "  acess_token:"),
        "config.yaml:2:3 hubspot.acess_token: unknown key — did you mean 'access_token'?",
        id="unknown-key-depth-2-with-suggestion",
    ),
    pytest.param(
        GOOD + "  limits:\n    dayly: 1000\n",
        "config.yaml:10:5 salesforce.limits.dayly: unknown key — allowed here: daily_allocation",
        id="unknown-key-depth-3",
    ),
    pytest.param(
        GOOD + "    security_token: x\n",
        "config.yaml:9:5 salesforce.auth.security_token: unknown key — "
        "allowed here: flow, client_id, client_secret",
        id="unknown-key-in-the-chosen-auth-flow",
    ),
    pytest.param(
        GOOD + "flows:\n  leads:\n    mapping: leads.yaml\n",
        "config.yaml:10:3 flows.leads: unknown key — did you mean 'deals'? allowed here: "
        "contacts, deals, campaigns, "
        "engagements, activities, alerts",
        id="unknown-flow-name",
    ),
    pytest.param(
        GOOD.replace("hubspot:\n", "hubspot:\n  limits:\n    burst_per_10s: lots\n"),
        "config.yaml:3:5 hubspot.limits.burst_per_10s: expected a whole number, got 'lots'",
        id="wrong-type-number",
    ),
    pytest.param(
        GOOD + "daemon:\n  log_level: chatty\n",
        "config.yaml:10:3 daemon.log_level: must be one of 'DEBUG', 'INFO', 'WARNING' or 'ERROR', "
        "got 'CHATTY'",
        id="wrong-value-log-level",
    ),
    pytest.param(
        GOOD + "daemon:\n  health_bind: 8080\n",
        "config.yaml:10:3 daemon.health_bind: expected host:port, got '8080' — write it like 127.0.0.1:8080",
        id="wrong-value-health-bind",
    ),
    pytest.param(
        "hubspot: the-token\n" + GOOD.split("\n", 2)[2],
        "config.yaml:1:1 hubspot: expected a mapping of keys, got 'the-token'",
        id="wrong-type-section-is-text",
    ),
    pytest.param(
        "hubspot:\n" + GOOD.split("\n", 2)[2],
        "config.yaml:1:1 hubspot: is empty — add its keys below it",
        id="empty-section",
    ),
    pytest.param(
        GOOD.replace("  access_token: ${HUBSPOT_ACCESS_TOKEN}\n", "  base_url: https://api.hubapi.com\n"),
        "config.yaml:1:1 hubspot.access_token: required key is missing — add it",
        id="missing-required-key",
    ),
    pytest.param(
        GOOD.replace("    flow: client_credentials\n", ""),
        "config.yaml:5:3 salesforce.auth.flow: required key is missing — set it to one of: password, "
        "client_credentials, jwt",
        id="missing-auth-flow",
    ),
    pytest.param(
        GOOD.replace("flow: client_credentials", "flow: oauth"),
        "config.yaml:6:5 salesforce.auth.flow: unknown value 'oauth' — use one of: 'password', "
        "'client_credentials', 'jwt'",
        id="unknown-auth-flow",
    ),
    pytest.param(
        GOOD + "flows:\n  contacts:\n    interval_seconds: 5\n    mapping: /etc/hostname\n",
        "config.yaml:11:5 flows.contacts.interval_seconds: must be at least 10, got 5",
        id="interval-below-minimum",
    ),
    pytest.param(
        GOOD + "flows:\n  contacts:\n    enabled: maybe\n    mapping: /etc/hostname\n",
        "config.yaml:11:5 flows.contacts.enabled: expected true or false, got 'maybe'",
        id="wrong-type-bool",
    ),
    pytest.param(
        GOOD + "flows:\n  deals:\n    mapping: mappings/deals.yaml\n",
        "config.yaml:11:5 flows.deals.mapping: file /nonexistent/mappings/deals.yaml does not exist",
        id="mapping-file-missing",
    ),
    pytest.param(
        GOOD.replace("hubspot:\n", "hubspot:\n  ca_file: certs/proxy-ca.pem\n", 1),
        "config.yaml:2:3 hubspot.ca_file: file /nonexistent/certs/proxy-ca.pem does not exist",
        id="ca-file-missing",
    ),
    pytest.param(
        GOOD.replace("${HUBSPOT_ACCESS_TOKEN}", "pat-na1-inline"),
        "config.yaml:2:3 hubspot.access_token: secrets must not be written inline — use ${ENV_VAR}",
        id="inline-secret",
    ),
    pytest.param(
        GOOD.replace("${HUBSPOT_ACCESS_TOKEN}", "${hubspot token}"),
        "config.yaml:2:3 hubspot.access_token: invalid reference ${hubspot token} — use ${ENV_VAR}",
        id="malformed-reference",
    ),
    pytest.param(
        GOOD + "store:\n  url: mysql://db/syncd\n",
        "config.yaml:10:3 store.url: unsupported database 'mysql' — use sqlite:///path/to/syncd.db or "
        "postgresql+psycopg://user@host/db",
        id="unsupported-store",
    ),
    pytest.param(
        GOOD.replace("https://acme.my.salesforce.com", "https://login.salesforce.com"),
        "config.yaml:3:1 salesforce: the client_credentials flow cannot log in through "
        "login.salesforce.com — set salesforce.login_url to your org's My Domain URL",
        id="client-credentials-without-my-domain",
    ),
    pytest.param(
        GOOD.replace("https://acme.my.salesforce.com", "http://acme.my.salesforce.com"),
        "config.yaml:4:3 salesforce.login_url: expected an https:// URL, got 'http://acme.my.salesforce.com'",
        id="plain-http-login-url",
    ),
    pytest.param(
        GOOD.replace("salesforce:\n", "salesforce:\n  api_version: v62\n"),
        "config.yaml:4:3 salesforce.api_version: expected a Salesforce API version, got 'v62'",
        id="bad-api-version",
    ),
    pytest.param(
        GOOD.replace("salesforce:\n", "salesforce:\n  login_url: login.salesforce.com\n  login_url: x\n"),
        "config.yaml:5:3 salesforce.login_url: duplicate key — keep only one of them",
        id="duplicate-key",
    ),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_bad_config_is_reported_with_position_key_and_fix(text: str, expected: str) -> None:
    found = problems(text)
    assert any(p.startswith(expected) for p in found), "\n".join(found)
    # Every message says what to do, after a dash.
    assert all(" — " in p for p in found), "\n".join(found)


def test_every_problem_is_reported_in_one_run() -> None:
    text = """\
hubspot:
  access_token: ${HUBSPOT_TOKEN}
  limits:
    daily: many
salesforce:
  auth:
    flow: password
    client_id: 3MVG9abc
    client_secret: ${SF_CLIENT_SECRET}
    username: ${SF_USER}
    password: ${SF_PASSWORD}
    pasword: x
daemon:
  log_levl: INFO
"""
    found = problems(text, env={})
    assert found == [
        "config.yaml:2:3 hubspot.access_token: environment variable HUBSPOT_TOKEN is not set — "
        "export it before starting syncd (docker: -e or --env-file)",
        "config.yaml:4:5 hubspot.limits.daily: expected a whole number, got 'many' — "
        "write digits only, e.g. 60",
        "config.yaml:9:5 salesforce.auth.client_secret: environment variable SF_CLIENT_SECRET is not set — "
        "export it before starting syncd (docker: -e or --env-file)",
        "config.yaml:10:5 salesforce.auth.username: environment variable SF_USER is not set — "
        "export it before starting syncd (docker: -e or --env-file)",
        "config.yaml:11:5 salesforce.auth.password: environment variable SF_PASSWORD is not set — "
        "export it before starting syncd (docker: -e or --env-file)",
        "config.yaml:12:5 salesforce.auth.pasword: unknown key — did you mean 'password'? "
        "allowed here: flow, client_id, client_secret, username, password, security_token",
        "config.yaml:14:3 daemon.log_levl: unknown key — did you mean 'log_level'? "
        "allowed here: health_bind, dashboard_token, log_level",
    ]


def test_an_unknown_flow_is_one_problem_not_one_per_key_inside_it() -> None:
    found = problems(GOOD + "flows:\n  leads:\n    interval_seconds: 1\n    mapping: nowhere.yaml\n")
    assert [p for p in found if "flows" in p] == [
        "config.yaml:10:3 flows.leads: unknown key — did you mean 'deals'? allowed here: "
        "contacts, deals, campaigns, "
        "engagements, activities, alerts"
    ]


def test_messages_never_echo_an_inline_secret() -> None:
    found = problems(GOOD.replace("${HUBSPOT_ACCESS_TOKEN}", "pat-na1-VERYSECRET"))
    assert found and not any("VERYSECRET" in p for p in found)
    found = problems(GOOD.replace("${SF_CLIENT_SECRET}", "123456789"))
    assert found and not any("123456789" in p for p in found)
