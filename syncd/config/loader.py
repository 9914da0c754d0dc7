"""Load a config file: read YAML, resolve secret references, validate, and report every problem at once."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from syncd.config.model import Config
from syncd.config.problems import Problem, describe, locate, secret_paths
from syncd.config.references import REFERENCE_HINT, is_single_reference, resolve_references
from syncd.config.source import KeyPath, parse_yaml
from syncd.errors import ConfigError

STORE_URL_ENV = "SYNCD_STORE_URL"
"""When set, the store URL used if the config file has no store.url (the container image sets it)."""


def load_config(path: Path, *, env: Mapping[str, str]) -> Config:
    """Read and validate the config at `path`; raise ConfigError listing every problem."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise _error(
            [f"{source}: config file does not exist — check the path, or start from config.example.yaml"]
        ) from None
    except IsADirectoryError:
        raise _error([f"{source}: is a directory — pass the config file itself"]) from None
    except PermissionError:
        raise _error(
            [f"{source}: config file is not readable by this user — fix its owner or mode"]
        ) from None
    except UnicodeDecodeError:
        raise _error([f"{source}: config file is not UTF-8 text — save it as UTF-8"]) from None
    except OSError as exc:
        raise _error([f"{source}: config file cannot be read ({exc.strerror}) — check the path"]) from None
    return parse_config(text, source=source, base_dir=path.resolve().parent, env=env)


def parse_config(text: str, *, source: str, base_dir: Path, env: Mapping[str, str]) -> Config:
    """Validate config text; `source` names it in problems, relative paths resolve against `base_dir`."""
    doc = parse_yaml(text)
    problems = [Problem(source, p.position, p.path, p.message) for p in doc.problems]
    if doc.data is None and not problems:
        problems.append(
            Problem(source, None, (), "the config file is empty — start from config.example.yaml")
        )
    if doc.data is not None and not isinstance(doc.data, dict):
        problems.append(
            Problem(
                source,
                doc.position(()),
                (),
                "the top level must be a mapping of sections (store, hubspot, salesforce, flows, daemon) — "
                "start from config.example.yaml",
            )
        )
    if problems:
        raise _error([str(p) for p in sorted(problems, key=Problem.sort_key)])

    raw: dict[str, Any] = doc.data
    for secret in sorted(secret_paths(Config, raw), key=str):
        value = _lookup(raw, secret)
        if value is not None and not is_single_reference(value):
            problems.append(
                Problem(
                    source,
                    doc.position(secret),
                    secret,
                    f"secrets must not be written inline — {REFERENCE_HINT}",
                )
            )

    resolved, reference_problems = resolve_references(raw, env=env, base_dir=base_dir)
    problems.extend(Problem(source, doc.position(p.path), p.path, p.message) for p in reference_problems)

    store = resolved.get("store")
    default_url = env.get(STORE_URL_ENV)
    if default_url and (store is None or (isinstance(store, dict) and "url" not in store)):
        resolved["store"] = {**(store or {}), "url": default_url}

    config: Config | None = None
    try:
        config = Config.model_validate(resolved, context={"base_dir": base_dir})
    except ValidationError as exc:
        secrets = secret_paths(Config, raw)
        for error in exc.errors(include_url=False):
            loc = tuple(error["loc"])
            path, annotation, key_error = locate(Config, loc)
            if error["type"] == "extra_forbidden":
                annotation = locate(Config, loc[:-1])[1]
            message, extra_key = describe(
                error, parent_annotation=annotation, key_error=key_error, secret=path in secrets
            )
            if extra_key is not None:
                path = (*path, extra_key)
            problems.append(Problem(source, doc.position(path), path, message))
    if problems or config is None:
        raise _error([str(p) for p in _one_per_key(problems)])
    return config


def _one_per_key(problems: list[Problem]) -> list[Problem]:
    """Sorted problems, dropping any about a key already explained by a problem at it or above it.

    An unresolved reference explains why the value then fails validation; an unknown flow name
    explains everything inside it.
    """
    kept: list[Problem] = []
    for problem in sorted(problems, key=lambda p: len(p.path)):
        covered = any(problem.path[: len(done.path)] == done.path for done in kept if done.path)
        if not covered:
            kept.append(problem)
    return sorted(kept, key=Problem.sort_key)


def _lookup(data: Any, path: KeyPath) -> Any:
    for part in path:
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data


def _error(problems: list[str]) -> ConfigError:
    return ConfigError(problems, hint="fix the problems listed and run `syncd check` again")
