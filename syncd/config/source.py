"""Read a YAML document into plain data while remembering where every key and value sits.

PyYAML's composed node tree keeps line and column for each node; the constructed Python
data does not. `parse_yaml` builds the data from the nodes itself so each problem found
later can point at `file:line:column`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

KeyPath = tuple[str | int, ...]

_SYNTAX_HINT = "fix the YAML here (indentation, quotes, brackets, a missing colon)"


@dataclass(frozen=True)
class Position:
    """1-based line and column in the source file."""

    line: int
    column: int

    @classmethod
    def of(cls, mark: yaml.Mark) -> Position:
        return cls(mark.line + 1, mark.column + 1)


@dataclass(frozen=True)
class SourceProblem:
    """A problem found while reading the YAML itself, before any schema check."""

    position: Position | None
    path: KeyPath
    message: str


@dataclass
class Document:
    """The data of one YAML document plus the position of each key and value in it."""

    data: Any
    value_positions: dict[KeyPath, Position] = field(default_factory=dict)
    key_positions: dict[KeyPath, Position] = field(default_factory=dict)
    problems: list[SourceProblem] = field(default_factory=list)

    def position(self, path: KeyPath) -> Position | None:
        """Where `path` is written: its key if it has one, else its value, else the nearest parent."""
        for depth in range(len(path), -1, -1):
            prefix = path[:depth]
            found = self.key_positions.get(prefix) or self.value_positions.get(prefix)
            if found is not None:
                return found
        return None


def parse_yaml(text: str) -> Document:
    """Parse one YAML document; syntax errors become problems with their position."""
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        position = Position.of(mark) if mark is not None else None
        reason = exc.problem or exc.context or "invalid YAML"
        return Document(
            data=None, problems=[SourceProblem(position, (), f"YAML syntax error: {reason} — {_SYNTAX_HINT}")]
        )
    except yaml.YAMLError as exc:
        return Document(
            data=None, problems=[SourceProblem(None, (), f"YAML syntax error: {exc} — {_SYNTAX_HINT}")]
        )
    doc = Document(data=None)
    if root is None:
        return doc
    try:
        doc.data = _build(loader, root, (), doc)
    finally:
        loader.dispose()
    return doc


def _build(loader: yaml.SafeLoader, node: yaml.Node, path: KeyPath, doc: Document) -> Any:
    doc.value_positions[path] = Position.of(node.start_mark)
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                doc.problems.append(
                    SourceProblem(
                        Position.of(key_node.start_mark),
                        path,
                        "keys must be plain names, not lists or mappings — write `name: value`",
                    )
                )
                continue
            key = str(key_node.value)
            child = (*path, key)
            if key in result:
                doc.problems.append(
                    SourceProblem(
                        Position.of(key_node.start_mark), child, "duplicate key — keep only one of them"
                    )
                )
                continue
            doc.key_positions[child] = Position.of(key_node.start_mark)
            result[key] = _build(loader, value_node, child, doc)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_build(loader, item, (*path, index), doc) for index, item in enumerate(node.value)]
    try:
        return loader.construct_object(node, deep=True)
    except yaml.constructor.ConstructorError as exc:
        doc.problems.append(
            SourceProblem(
                Position.of(node.start_mark),
                path,
                f"cannot read this value: {exc.problem} — write a plain value without a YAML tag",
            )
        )
        return None
