"""Read and write a `--data DIR` folder: the closed-loop data as eight CSV files.

people.csv, touches.csv, lifecycle.csv, activities.csv, deals.csv, deal_contacts.csv, costs.csv,
and teams.csv (which sales team each owner belongs to, for SLA reports by team).
Timestamps are ISO 8601 (UTC when no offset is given, converted to UTC otherwise); dates ISO;
money plain decimals; booleans true/false (also 1/0, yes/no). A missing file reads as empty;
extra columns are ignored. Every bad row is reported at once, with file, line and column.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TypeVar

from syncd.reports.errors import CsvDataError
from syncd.reports.teams import TeamMember, owner_key
from syncd.reports.types import Activity, Cost, Deal, DealContact, LifecycleEvent, Person, Touch

T = TypeVar("T")
MAX_REPORTED_PROBLEMS = 50


@dataclass(frozen=True, slots=True)
class Dataset:
    """Everything the reports read, as loaded from (or written to) a `--data DIR` folder."""

    people: tuple[Person, ...] = ()
    touches: tuple[Touch, ...] = ()
    lifecycle: tuple[LifecycleEvent, ...] = ()
    activities: tuple[Activity, ...] = ()
    deals: tuple[Deal, ...] = ()
    deal_contacts: tuple[DealContact, ...] = ()
    costs: tuple[Cost, ...] = ()
    teams: tuple[TeamMember, ...] = ()


class _BadValue(ValueError):
    pass


def _text(value: str) -> str:
    if not value.strip():
        raise _BadValue("is empty")
    return value.strip()


def _optional_text(value: str) -> str | None:
    return value.strip() or None


def _timestamp(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise _BadValue(f"{value!r} is not an ISO 8601 timestamp (e.g. 2026-03-01T09:30:00Z)") from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _optional_timestamp(value: str) -> datetime | None:
    return _timestamp(value) if value.strip() else None


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise _BadValue(f"{value!r} is not an ISO 8601 date (e.g. 2026-03-01)") from None


def _money(value: str) -> Decimal:
    try:
        amount = Decimal(value.strip())
    except InvalidOperation:
        raise _BadValue(f"{value!r} is not a decimal amount (e.g. 1250.00)") from None
    if not amount.is_finite():
        raise _BadValue(f"{value!r} is not a finite amount")
    return amount


def _optional_money(value: str) -> Decimal | None:
    return _money(value) if value.strip() else None


_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f", ""}


def _bool(value: str) -> bool:
    v = value.strip().casefold()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise _BadValue(f"{value!r} is not a boolean (true/false)")


def _initiator(value: str) -> str:
    v = value.strip().casefold()
    if v not in ("rep", "automation", "syncd"):
        raise _BadValue(f"{value!r} is not rep, automation or syncd")
    return v


# file name → (dataclass, [(column, parser, required column?)], id column for duplicate checks)
Column = tuple[str, Callable[[str], Any], bool]
_SCHEMAS: dict[str, tuple[type[Any], list[Column], str | None]] = {
    "people.csv": (
        Person,
        [("person_id", _text, True), ("email", _optional_text, True), ("created_at", _timestamp, True)],
        "person_id",
    ),
    "touches.csv": (
        Touch,
        [
            ("touch_id", _text, True),
            ("person_id", _text, True),
            ("occurred_at", _timestamp, True),
            ("channel", _optional_text, True),
            ("campaign", _optional_text, True),
            ("kind", _optional_text, True),
            ("source_system", _optional_text, False),
        ],
        "touch_id",
    ),
    "lifecycle.csv": (
        LifecycleEvent,
        [("person_id", _text, True), ("stage", _text, True), ("entered_at", _timestamp, True)],
        None,
    ),
    "activities.csv": (
        Activity,
        [
            ("activity_id", _text, True),
            ("person_id", _text, True),
            ("occurred_at", _timestamp, True),
            ("kind", _text, True),
            ("initiated_by", _initiator, True),
            ("owner", _optional_text, True),
        ],
        "activity_id",
    ),
    "deals.csv": (
        Deal,
        [
            ("deal_id", _text, True),
            ("created_at", _timestamp, True),
            ("closed_at", _optional_timestamp, True),
            ("amount", _optional_money, True),
            ("is_won", _bool, True),
            ("primary_campaign", _optional_text, True),
        ],
        "deal_id",
    ),
    "deal_contacts.csv": (
        DealContact,
        [("deal_id", _text, True), ("person_id", _text, True), ("is_primary", _bool, True)],
        None,
    ),
    "costs.csv": (
        Cost,
        [
            ("channel", _text, True),
            ("campaign", _optional_text, True),
            ("period_start", _date, True),
            ("period_end", _date, True),
            ("amount", _money, True),
        ],
        None,
    ),
    "teams.csv": (TeamMember, [("team", _text, True), ("owner", _text, True)], None),
}
# Optional text columns that the dataclass types as plain str get "" rather than None.
_EMPTY_AS_BLANK = {("people.csv", "email"), ("touches.csv", "kind"), ("touches.csv", "source_system")}
_EMPTY_AS_BLANK |= {("touches.csv", "channel")}  # the unknown channel: reported under ""
_EMPTY_AS_BLANK |= {("activities.csv", "owner")}
_FIELD_OF = {"people.csv": "people", "touches.csv": "touches", "lifecycle.csv": "lifecycle"}
_FIELD_OF |= {"activities.csv": "activities", "deals.csv": "deals", "deal_contacts.csv": "deal_contacts"}
_FIELD_OF |= {"costs.csv": "costs", "teams.csv": "teams"}


def _read_file(path: Path, problems: list[str]) -> list[Any]:
    name = path.name
    cls, columns, id_column = _SCHEMAS[name]
    rows: list[Any] = []
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = [h.strip() for h in reader.fieldnames or []]
        reader.fieldnames = header
        missing = [c for c, _, required in columns if required and c not in header]
        if missing:
            problems.append(f"{name} line 1: missing column(s) {', '.join(missing)}")
            return rows
        seen_ids: dict[str, int] = {}
        teams_of: dict[str, tuple[str, int]] = {}  # teams.csv: owner → (team, line)
        for record in reader:
            line = reader.line_num
            values: dict[str, Any] = {}
            ok = True
            for column, parse, _ in columns:
                raw = record.get(column)
                if raw is None:
                    raw = ""
                try:
                    value = parse(raw)
                except _BadValue as exc:
                    problems.append(f"{name} line {line}, column {column}: {exc}")
                    ok = False
                    continue
                if value is None and (name, column) in _EMPTY_AS_BLANK:
                    value = ""
                values[column] = value
            if not ok:
                continue
            if id_column is not None:
                key = values[id_column]
                if key in seen_ids:
                    problems.append(
                        f"{name} line {line}, column {id_column}: {key!r} repeats line {seen_ids[key]}"
                    )
                    continue
                seen_ids[key] = line
            if cls is Cost and values["period_end"] < values["period_start"]:
                problems.append(f"{name} line {line}, column period_end: ends before period_start")
                continue
            if cls is TeamMember:
                team, first = teams_of.setdefault(owner_key(values["owner"]), (values["team"], line))
                if team != values["team"]:
                    problems.append(
                        f"{name} line {line}, column team: {values['owner']} is already in team "
                        f"{team} (line {first}); an owner belongs to one team"
                    )
                    continue
            rows.append(cls(**values))
    return rows


def load_data(directory: str | Path) -> Dataset:
    """Load every known CSV file of the folder; raises CsvDataError listing every bad row."""
    folder = Path(directory)
    if not folder.is_dir():
        raise CsvDataError([f"{folder} is not a directory"], hint="pass the folder holding people.csv etc.")
    problems: list[str] = []
    loaded: dict[str, tuple[Any, ...]] = {}
    for name in _SCHEMAS:
        path = folder / name
        loaded[_FIELD_OF[name]] = tuple(_read_file(path, problems)) if path.exists() else ()
    if problems:
        shown = problems[:MAX_REPORTED_PROBLEMS]
        if len(problems) > len(shown):
            shown.append(f"... and {len(problems) - len(shown)} more")
        raise CsvDataError(shown, hint="fix or remove these rows and load again")
    return Dataset(**loaded)


def _format(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date | Decimal):
        return str(value)
    return str(value)


def _write_file(path: Path, columns: Sequence[str], records: Iterable[Any]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for record in records:
            writer.writerow([_format(getattr(record, c)) for c in columns])


def write_data(directory: str | Path, data: Dataset) -> None:
    """Write all eight CSV files (headers included, even when empty) into the folder, creating it."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    for name, (_, columns, _) in _SCHEMAS.items():
        _write_file(folder / name, [c for c, _, _ in columns], getattr(data, _FIELD_OF[name]))
