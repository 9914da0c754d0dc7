"""The dependency rule: `syncd` imports no concrete connector outside the CLI (its composition root)."""

from __future__ import annotations

import ast
from pathlib import Path

import syncd

SYNCD = Path(syncd.__file__).parent
COMPOSITION_ROOT = SYNCD / "cli"


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_only_the_cli_imports_connectors() -> None:
    offenders = {
        str(path.relative_to(SYNCD.parent)): sorted(
            m for m in _imported_modules(path) if m.split(".")[0] == "connectors"
        )
        for path in SYNCD.rglob("*.py")
        if COMPOSITION_ROOT not in path.parents
    }
    assert {path: mods for path, mods in offenders.items() if mods} == {}


def test_the_rule_sees_an_offending_import(tmp_path: Path) -> None:
    module = tmp_path / "bad.py"
    module.write_text("from connectors.hubspot import HubSpotConnector\nimport connectors.salesforce\n")
    assert _imported_modules(module) == {"connectors.hubspot", "connectors.salesforce"}
