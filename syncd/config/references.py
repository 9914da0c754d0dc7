"""Resolve secret references: `${ENV_VAR}` from the environment, `${file:/path}` from a mounted file.

References may appear inside any text value. Secret keys must be nothing but one reference,
so a secret is never written inline in the config file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from syncd.config.source import KeyPath

_REFERENCE = re.compile(r"\$\{([^}]*)\}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

REFERENCE_HINT = "use ${ENV_VAR} for an environment variable or ${file:/run/secrets/name} for a mounted file"


@dataclass(frozen=True)
class ReferenceProblem:
    path: KeyPath
    message: str


def is_single_reference(value: Any) -> bool:
    return isinstance(value, str) and _REFERENCE.fullmatch(value.strip()) is not None


def resolve_references(
    data: Any, *, env: Mapping[str, str], base_dir: Path, path: KeyPath = ()
) -> tuple[Any, list[ReferenceProblem]]:
    """Return `data` with every reference replaced, plus every reference that could not be resolved."""
    problems: list[ReferenceProblem] = []
    if isinstance(data, dict):
        resolved_dict: dict[str, Any] = {}
        for key, value in data.items():
            resolved_dict[key], found = resolve_references(
                value, env=env, base_dir=base_dir, path=(*path, key)
            )
            problems.extend(found)
        return resolved_dict, problems
    if isinstance(data, list):
        resolved_list: list[Any] = []
        for index, item in enumerate(data):
            resolved, found = resolve_references(item, env=env, base_dir=base_dir, path=(*path, index))
            resolved_list.append(resolved)
            problems.extend(found)
        return resolved_list, problems
    if not isinstance(data, str) or "${" not in data:
        return data, problems

    def substitute(match: re.Match[str]) -> str:
        value, problem = _resolve_one(match.group(1).strip(), env=env, base_dir=base_dir)
        if problem is not None:
            problems.append(ReferenceProblem(path, problem))
            return ""
        return value

    return _REFERENCE.sub(substitute, data), problems


def _resolve_one(reference: str, *, env: Mapping[str, str], base_dir: Path) -> tuple[str, str | None]:
    if reference.startswith("file:"):
        return _read_secret_file(reference.removeprefix("file:").strip(), base_dir)
    if not _ENV_NAME.fullmatch(reference):
        return "", f"invalid reference ${{{reference}}} — {REFERENCE_HINT}"
    value = env.get(reference)
    if value is None:
        return (
            "",
            f"environment variable {reference} is not set — "
            "export it before starting syncd (docker: -e or --env-file)",
        )
    if value == "":
        return "", f"environment variable {reference} is empty — give it the value this key needs"
    return value, None


def _read_secret_file(name: str, base_dir: Path) -> tuple[str, str | None]:
    if not name:
        return "", f"file reference without a path — {REFERENCE_HINT}"
    path = Path(name) if Path(name).is_absolute() else base_dir / name
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return "", f"secret file {path} does not exist — mount the secret there or fix the path"
    except IsADirectoryError:
        return "", f"secret file {path} is a directory — point the reference at the file inside it"
    except PermissionError:
        return (
            "",
            f"secret file {path} is not readable by this user — fix its owner or mode (e.g. chmod 0440)",
        )
    except UnicodeDecodeError:
        return "", f"secret file {path} is not UTF-8 text — store the secret as text (PEM keys are)"
    except OSError as exc:
        return "", f"secret file {path} cannot be read ({exc.strerror}) — check the mount"
    # Secret files written with `echo` end in a newline that is not part of the secret.
    text = text.rstrip("\r\n")
    if not text:
        return "", f"secret file {path} is empty — write the secret into it"
    return text, None
