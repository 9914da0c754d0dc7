"""Building blocks shared by every configuration section: strict frozen sections and file paths."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationInfo
from pydantic_core import PydanticCustomError


class Section(BaseModel):
    """A configuration section: unknown keys are errors, values never change after loading."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def existing_file(value: Path | None, info: ValidationInfo) -> Path | None:
    """A path relative to the config file's folder, which must name an existing file."""
    if value is None:
        return None
    base = (info.context or {}).get("base_dir")
    path = value if value.is_absolute() or base is None else Path(base) / value
    if not path.is_file():
        raise PydanticCustomError(
            "file_missing",
            "file {path} does not exist — fix the path (relative paths are relative to the config file)",
            {"path": str(path)},
        )
    return path
