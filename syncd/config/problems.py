"""Turn schema validation errors into problems an operator can act on.

Pydantic reports errors by location inside the data (with tags of tagged unions mixed in);
this module maps each back to the key path the operator wrote, words it as
`<what is wrong> — <what to do>`, and never echoes a secret's value.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, SecretStr
from pydantic_core import ErrorDetails

from syncd.config.source import KeyPath, Position


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the config, located by file, line/column and key path."""

    source: str
    position: Position | None
    path: KeyPath
    message: str

    def __str__(self) -> str:
        if self.position is None:
            where = f"{self.source}:"
        else:
            where = f"{self.source}:{self.position.line}:{self.position.column}"
        return f"{where} {dotted(self.path)}: {self.message}" if self.path else f"{where} {self.message}"

    def sort_key(self) -> tuple[int, int, str]:
        if self.position is None:
            return (0, 0, dotted(self.path))
        return (self.position.line, self.position.column, dotted(self.path))


def dotted(path: KeyPath) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


# --- walking the schema -------------------------------------------------------------------------------


def _members(annotation: Any) -> list[Any]:
    """The alternatives of a union (Optional included), or the annotation itself."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return [arg for arg in typing.get_args(annotation) if arg is not type(None)]
    return [annotation]


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _tag_of(model: type[BaseModel]) -> tuple[str, ...]:
    field = model.model_fields.get("flow")
    return typing.get_args(field.annotation) if field is not None else ()


def _child(annotation: Any, key: str | int) -> Any:
    """The annotation found under `key` inside a value of type `annotation`, or None when unknown."""
    for member in _members(annotation):
        if _is_model(member) and isinstance(key, str) and key in member.model_fields:
            return member.model_fields[key].annotation
        if typing.get_origin(member) in (dict, Mapping, typing.Mapping) or member is dict:
            args = typing.get_args(member)
            return args[1] if len(args) == 2 else None
    return None


def _tagged_union(annotation: Any) -> list[type[BaseModel]] | None:
    members = _members(annotation)
    if len(members) > 1 and all(_is_model(m) and _tag_of(m) for m in members):
        return members
    return None


def locate(root: type[BaseModel], loc: tuple[str | int, ...]) -> tuple[KeyPath, Any, bool]:
    """Map a pydantic error location to (key path, annotation there, whether the error is about a key).

    For an error about a key, the annotation returned is the enclosing mapping's.
    """
    path: list[str | int] = []
    annotation: Any = root
    previous: Any = None
    index = 0
    while index < len(loc):
        part = loc[index]
        if part == "[key]":
            # The annotation of the mapping whose key is wrong, so its allowed keys can be listed.
            return tuple(path), previous, True
        union = _tagged_union(annotation)
        if union is not None:
            # Pydantic inserts the tag of a tagged union into the location; it is not a key in the file.
            chosen = [m for m in union if part in _tag_of(m)]
            annotation = chosen[0] if chosen else None
            index += 1
            continue
        path.append(part)
        previous, annotation = annotation, _child(annotation, part)
        index += 1
    return tuple(path), annotation, False


def allowed_keys(annotation: Any) -> list[str]:
    """Keys a mapping of type `annotation` accepts (union members merged)."""
    keys: list[str] = []
    for member in _members(annotation):
        if _is_model(member):
            keys.extend(k for k in member.model_fields if k not in keys)
        elif typing.get_origin(member) in (dict, Mapping, typing.Mapping):
            key_type = typing.get_args(member)[0]
            keys.extend(str(k) for k in typing.get_args(key_type) if str(k) not in keys)
    return keys


def secret_paths(model: type[BaseModel], data: Any = None, prefix: KeyPath = ()) -> set[KeyPath]:
    """Every key path whose value is a secret (typed SecretStr).

    Inside a tagged union only the member named by `data`'s tag counts, so a key that belongs to
    another auth flow is reported as unknown rather than as a secret.
    """
    found: set[KeyPath] = set()
    for name, field in model.model_fields.items():
        value = data.get(name) if isinstance(data, dict) else None
        members = _members(field.annotation)
        if _tagged_union(field.annotation) is not None and isinstance(value, dict):
            chosen = [m for m in members if value.get("flow") in _tag_of(m)]
            members = chosen or members
        for member in members:
            if member is SecretStr:
                found.add((*prefix, name))
            elif _is_model(member):
                found |= secret_paths(member, value, (*prefix, name))
    return found


# --- wording -------------------------------------------------------------------------------------------


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _got(error: ErrorDetails, secret: bool) -> str:
    value = error.get("input")
    if secret or not isinstance(value, str | int | float | bool) or value is None:
        return ""
    return f", got {_shown(value)}"


def describe(
    error: ErrorDetails, *, parent_annotation: Any, key_error: bool, secret: bool
) -> tuple[str, str | None]:
    """Word one pydantic error; returns (message, extra key to append to the path for positioning)."""
    kind = error["type"]
    ctx = error.get("ctx") or {}
    got = _got(error, secret)
    if key_error:
        expected = ", ".join(allowed_keys(parent_annotation)) or "a known name"
        return f"unknown name — use one of: {expected}", None
    if kind == "missing":
        return "required key is missing — add it (see config.example.yaml)", None
    if kind == "extra_forbidden":
        allowed = allowed_keys(parent_annotation)
        bad = str(error["loc"][-1]) if error["loc"] else ""
        close = difflib.get_close_matches(bad, allowed, n=1)
        suggestion = f"did you mean {close[0]!r}? " if close else ""
        listing = ", ".join(allowed) if allowed else "none"
        return f"unknown key — {suggestion}allowed here: {listing}", None
    if kind == "union_tag_invalid":
        return f"unknown value {ctx.get('tag')!r} — use one of: {ctx.get('expected_tags')}", "flow"
    if kind == "union_tag_not_found":
        tags = [t for m in _tagged_union(parent_annotation) or [] for t in _tag_of(m)]
        return f"required key is missing — set it to one of: {', '.join(tags)}", "flow"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"expected a whole number{got} — write digits only, e.g. 60", None
    if kind in ("bool_type", "bool_parsing"):
        return f"expected true or false{got} — write true or false", None
    if kind == "string_type":
        return f"expected text{got} — quote the value", None
    if kind in ("model_type", "model_attributes_type", "dict_type", "mapping_type"):
        if error.get("input") is None:
            return "is empty — add its keys below it, indented (see config.example.yaml)", None
        return f"expected a mapping of keys{got} — write `key: value` lines indented below it", None
    if kind == "greater_than_equal":
        return f"must be at least {ctx.get('ge')}{got} — raise it", None
    if kind == "greater_than":
        return f"must be more than {ctx.get('gt')}{got} — raise it", None
    if kind == "less_than_equal":
        return f"must be at most {ctx.get('le')}{got} — lower it", None
    if kind == "string_too_short":
        return "must not be empty — fill it in", None
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected')}{got} — pick one of them", None
    return str(error["msg"]), None
