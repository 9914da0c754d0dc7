"""Record references and the issues the pure core raises about single records."""

from __future__ import annotations

from dataclasses import dataclass

from syncd.errors import IssueCategory


@dataclass(frozen=True, order=True)
class RecordRef:
    """One record in one system: `salesforce/Lead/00Q...`, `hubspot/contacts/123`."""

    system: str
    object: str
    id: str

    def __str__(self) -> str:
        return f"{self.system}/{self.object}/{self.id}"


@dataclass(frozen=True)
class Issue:
    """Why one record (or one field of it) was set aside; the engine stores it as a dead letter.

    `reason` names the record and says what is wrong; `hint` says what to do. Neither carries field
    values other than the email that identifies the person.
    """

    category: IssueCategory
    record: RecordRef
    reason: str
    hint: str | None = None
    field: str | None = None

    def __str__(self) -> str:
        return f"{self.reason} — {self.hint}" if self.hint else self.reason
