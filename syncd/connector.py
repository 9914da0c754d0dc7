"""The connector protocol: the engine's only view of an external system.

Everything that crosses this boundary is a frozen dataclass; SDK models and raw HTTP
objects stay inside the connector packages.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal, Protocol

from syncd.errors import RecordError


class FieldType(StrEnum):
    STRING = "string"
    TEXT = "text"
    EMAIL = "email"
    NUMBER = "number"
    BOOL = "bool"
    DATE = "date"
    DATETIME = "datetime"
    ENUM = "enum"
    REFERENCE = "reference"
    ID = "id"


@dataclass(frozen=True)
class FieldSpec:
    """One field as the remote system describes it."""

    name: str
    type: FieldType
    label: str = ""
    required_on_create: bool = False
    nillable: bool = True
    createable: bool = True
    updateable: bool = True
    picklist: tuple[str, ...] | None = None
    restricted_picklist: bool = False
    length: int | None = None
    # Values are unique across the object's records (a Salesforce External ID / Unique field, a HubSpot
    # property with hasUniqueValue): creates can be upserts keyed by it.
    unique: bool = False


@dataclass(frozen=True)
class ObjectSchema:
    """What `describe(object)` returns: the fields of one object type."""

    object: str
    fields: Mapping[str, FieldSpec]


@dataclass(frozen=True)
class Cursor:
    """A resume point: everything at or before (modified_at, last_id) has been seen."""

    modified_at: datetime
    last_id: str | None = None


@dataclass(frozen=True)
class RemoteRecord:
    """One record read from a system, with its values as plain Python data."""

    object: str
    id: str
    modified_at: datetime
    fields: Mapping[str, Any]
    created_at: datetime | None = None
    deleted: bool = False
    # Salesforce MasterRecordId / ConvertedContactId, HubSpot's new id after a merge.
    merged_into: str | None = None
    merged_from: tuple[str, ...] = ()


@dataclass(frozen=True)
class PullRequest:
    """One object's pull inside `Connector.pull_many`.

    `run_started`: when the run reading this pull started, before it wrote anything. A backfill may
    leave out records created after its own start instant, which is at or before this one (less a
    clock-skew margin): they are the run's own creates coming back, or real ones that the next
    incremental pull reads, since the backfill's cursor ends at that instant. None: read everything.
    Connectors that cannot tell creation order ignore it.
    """

    object: str
    since: Cursor | None
    fields: Sequence[str] = ()
    run_started: datetime | None = None


@dataclass(frozen=True)
class Page:
    """One page of a pull; `cursor` is where to resume after it is committed."""

    records: tuple[RemoteRecord, ...]
    cursor: Cursor


@dataclass(frozen=True)
class Write:
    """One intended change. `ref` is the caller's correlation key, echoed in the result."""

    op: Literal["create", "update", "upsert", "delete"]
    ref: str
    fields: Mapping[str, Any] = field(default_factory=dict)
    id: str | None = None  # for update/delete
    id_property: str | None = None  # for upsert: e.g. "email"


@dataclass(frozen=True)
class WriteResult:
    """The outcome of one `Write`, in input order; a rejection is data, not an exception."""

    ref: str
    ok: bool
    id: str | None = None
    created: bool = False
    error: RecordError | None = None


@dataclass(frozen=True)
class Owner:
    """Someone records can be assigned to: a HubSpot owner or a Salesforce user."""

    id: str
    email: str | None
    active: bool = True


@dataclass(frozen=True)
class ApiUsage:
    """API budget as last seen: what the remote says was used, and what syncd may use."""

    system: str
    used: int
    limit: int | None
    allocated: int | None = None


class Connector(Protocol):
    """Implemented once per external system."""

    system: str

    def check(self) -> None:
        """Verify credentials and scopes; raise AuthError or ConfigError."""

    def describe(self, object: str) -> ObjectSchema: ...

    def pull(self, object: str, since: Cursor | None, fields: Sequence[str]) -> Iterator[Page]:
        """Records modified at or after `since`, oldest first, one resumable page at a time."""
        ...

    def pull_many(self, pulls: Sequence[PullRequest]) -> list[Iterator[Page]]:
        """Several objects' pulls, as cheaply as the system allows (Salesforce: one composite call
        for the first pages of up to five objects), one page iterator per request in order."""
        ...

    def fetch(self, object: str, keys: Sequence[str], fields: Sequence[str]) -> list[RemoteRecord]:
        """Records by id, or by email for keys containing "@"; keys not found are left out."""
        ...

    def count(self, object: str, since: Cursor | None) -> int:
        """How many records a pull from `since` would read (one cheap call): progress, not control."""
        ...

    def push(self, object: str, writes: Sequence[Write]) -> list[WriteResult]:
        """One result per write, in order."""
        ...

    def owners(self) -> list[Owner]:
        """Every owner/user records can be assigned to, active or not (owner mapping pairs them by email)."""
        ...

    def usage(self) -> ApiUsage: ...

    def close(self) -> None: ...
