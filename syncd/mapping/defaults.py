"""Where the shipped default mappings are, wherever syncd is installed."""

from __future__ import annotations

from pathlib import Path

import mappings


def default_mapping(flow: str) -> Path:
    """The shipped mapping file of `flow`, e.g. mappings/contacts.yaml."""
    path = Path(mappings.__file__).parent / f"{flow}.yaml"
    if not path.is_file():
        raise FileNotFoundError(f"syncd ships no default mapping for flow {flow!r}")
    return path
