"""Whatever YAML an operator writes, loading it ends in a Config or a ConfigError — never a crash."""

from __future__ import annotations

import copy
from pathlib import Path

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from syncd.config import Config, parse_config
from syncd.errors import ConfigError

KEYS = [
    "store", "url", "hubspot", "access_token", "base_url", "limits", "burst_per_10s", "daily",
    "search_per_second", "salesforce", "login_url", "api_version", "auth", "flow", "password",
    "client_credentials", "jwt", "username", "security_token", "client_id", "client_secret", "private_key",
    "daily_allocation", "flows", "contacts", "deals", "enabled", "interval_seconds", "mapping", "daemon",
    "health_bind", "log_level", "other",
]  # fmt: skip

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 10**6),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(
        ["${HUBSPOT_ACCESS_TOKEN}", "${file:/nonexistent}", "${bad ref}", "https://x.example", "62.0"]
    ),
    st.text(max_size=12),
)
documents = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.sampled_from(KEYS), children, max_size=5)
    ),
    max_leaves=25,
)


@settings(max_examples=150, deadline=None)
@given(documents)
def test_any_document_yields_a_config_or_a_config_error(document: object) -> None:
    text = yaml.safe_dump(document)
    try:
        config = parse_config(
            text, source="c.yaml", base_dir=Path("/nonexistent"), env={"HUBSPOT_ACCESS_TOKEN": "t"}
        )
    except ConfigError as exc:
        assert exc.problems
        assert all(p.startswith("c.yaml") for p in exc.problems)
    else:
        assert isinstance(config, Config)


VALID = {
    "store": {"url": "sqlite:///syncd.db"},
    "hubspot": {"access_token": "${HUBSPOT_ACCESS_TOKEN}", "limits": {"daily": 1000}},
    "salesforce": {
        "login_url": "https://acme.my.salesforce.com",
        "auth": {"flow": "client_credentials", "client_id": "id", "client_secret": "${HUBSPOT_ACCESS_TOKEN}"},
        "limits": {"daily_allocation": 10},
    },
    "flows": {"contacts": {"enabled": True, "interval_seconds": 60, "mapping": "/etc/hostname"}},
    "daemon": {"health_bind": "127.0.0.1:8080", "log_level": "INFO"},
}


def _paths(node: object, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found.extend(_paths(value, (*prefix, key)))
    return found


PATHS = _paths(VALID)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(PATHS), documents)
def test_replacing_any_value_of_a_valid_config_is_reported_at_that_key(
    path: tuple[str, ...], value: object
) -> None:
    document = copy.deepcopy(VALID)
    node = document
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    try:
        parse_config(
            yaml.safe_dump(document), source="c.yaml", base_dir=Path("/"), env={"HUBSPOT_ACCESS_TOKEN": "t"}
        )
    except ConfigError as exc:
        # The problems are about the replaced key (or something inside it), except for the cross-field
        # rule that client_credentials needs a My Domain login URL, which lives on the salesforce section.
        dotted = ".".join(path)
        for problem in exc.problems:
            where = problem.split(" ", 2)[1].rstrip(":")
            assert where.startswith(dotted) or dotted.startswith(where), (problem, dotted)
