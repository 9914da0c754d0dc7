"""Campaigns, members and costs as the store keeps them, read from Salesforce records and a cost file.

Pure: raw Salesforce values (dates as text, money as numbers) and CSV text go in, frozen values and
problems naming the record or file line come out. Money is `Decimal` from the decimal text of the
value, never through binary floating point arithmetic.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from syncd.connector import RemoteRecord
from syncd.core.instants import day, instant, instant_on

CAMPAIGN_FIELDS: tuple[str, ...] = (
    "Name",
    "Type",
    "Status",
    "StartDate",
    "EndDate",
    "BudgetedCost",
    "ActualCost",
    "ParentId",
)
MEMBER_FIELDS: tuple[str, ...] = (
    "CampaignId",
    "LeadId",
    "ContactId",
    "Status",
    "HasResponded",
    "FirstRespondedDate",
    "LastModifiedDate",
)
COST_FILE_COLUMNS: tuple[str, ...] = (
    "channel",
    "campaign",
    "period_start",
    "period_end",
    "amount",
    "currency",
)
SALESFORCE_CAMPAIGN, COST_FILE = "salesforce_campaign", "cost_file"


@dataclass(frozen=True)
class CampaignRow:
    """A Salesforce Campaign as the store keeps it."""

    external_id: str
    name: str
    type: str | None
    status: str | None
    parent_external_id: str | None
    start_date: date | None
    end_date: date | None
    budgeted_cost: Decimal | None
    actual_cost: Decimal | None
    created_on: date | None
    deleted: bool = False


@dataclass(frozen=True)
class MemberRow:
    """A Salesforce CampaignMember: which Lead and/or Contact, and whether (and when) they responded."""

    external_id: str
    campaign_external_id: str
    lead_id: str | None
    contact_id: str | None
    status: str | None
    has_responded: bool
    first_responded_at: datetime | None
    added_at: datetime
    deleted: bool = False


@dataclass(frozen=True)
class CostLine:
    """Money spent on a channel or a campaign over a period; `source_key` identifies it across imports."""

    source: str
    source_key: str
    period_start: date
    period_end: date
    amount: Decimal
    currency: str | None
    channel: str | None = None
    campaign: str | None = None  # a campaign's Salesforce Id or name (cost file), or Salesforce Id
    line: int = 0  # the cost file's line


@dataclass(frozen=True)
class LineProblem:
    """A line of the cost file that was not imported, and why."""

    line: int
    message: str


def campaign_row(record: RemoteRecord) -> CampaignRow:
    f = record.fields
    return CampaignRow(
        external_id=record.id,
        name=_text(f.get("Name")) or f"Salesforce campaign {record.id}",
        type=_text(f.get("Type")),
        status=_text(f.get("Status")),
        parent_external_id=_text(f.get("ParentId")),
        start_date=day(f.get("StartDate")),
        end_date=day(f.get("EndDate")),
        budgeted_cost=_money(f.get("BudgetedCost")),
        actual_cost=_money(f.get("ActualCost")),
        created_on=record.created_at.date() if record.created_at else None,
        deleted=record.deleted,
    )


def member_row(record: RemoteRecord) -> MemberRow:
    f = record.fields
    modified = instant(f.get("LastModifiedDate")) or record.modified_at
    responded_on = day(f.get("FirstRespondedDate"))
    return MemberRow(
        external_id=record.id,
        campaign_external_id=_text(f.get("CampaignId")) or "",
        lead_id=_text(f.get("LeadId")),
        contact_id=_text(f.get("ContactId")),
        status=_text(f.get("Status")),
        has_responded=bool(f.get("HasResponded")),
        first_responded_at=instant_on(responded_on, modified) if responded_on else None,
        added_at=record.created_at or modified,
        deleted=record.deleted,
    )


def campaign_cost(row: CampaignRow, currency: str | None) -> CostLine | str | None:
    """The cost line of a campaign's ActualCost over its dates; None without an ActualCost; a problem
    text when its dates cannot make a period."""
    if row.actual_cost is None or row.deleted:
        return None
    start = row.start_date or row.end_date or row.created_on
    end = row.end_date or start
    if start is None or end is None:
        return (
            f"Salesforce Campaign {row.external_id} has an ActualCost but no StartDate, EndDate "
            "or CreatedDate"
        )
    if end < start:
        return (
            f"Salesforce Campaign {row.external_id} ends ({end}) before it starts ({start}): its ActualCost "
            "is not recorded — fix StartDate/EndDate in Salesforce"
        )
    return CostLine(
        source=SALESFORCE_CAMPAIGN,
        source_key=row.external_id,
        period_start=start,
        period_end=end,
        amount=row.actual_cost,
        currency=currency,
        campaign=row.external_id,
    )


# --- the cost file ------------------------------------------------------------------------


def parse_cost_file(text: str) -> tuple[list[CostLine], list[LineProblem]]:
    """Every good line of a cost file and a problem for each bad one (the rest still count).

    Columns (a header row names them, any order): channel or campaign (exactly one per line),
    period_start, period_end (ISO dates, inclusive), amount (a decimal number, not negative), currency
    (optional, three letters). A line is identified by its target and period: a later line with the
    same target and period is a problem, and importing the file again updates the amount."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header_line, header = 0, None
    for row in reader:
        header_line = reader.line_num
        if any(cell.strip() for cell in row):
            header = [cell.strip().lower() for cell in row]
            break
    if header is None:
        return [], []
    missing = [c for c in ("period_start", "period_end", "amount") if c not in header]
    unknown = [c for c in header if c and c not in COST_FILE_COLUMNS]
    if missing or unknown or ("channel" not in header and "campaign" not in header):
        what = []
        if missing:
            what.append(f"missing column(s) {', '.join(missing)}")
        if "channel" not in header and "campaign" not in header:
            what.append("a channel or campaign column is needed")
        if unknown:
            what.append(f"unknown column(s) {', '.join(unknown)}")
        return [], [
            LineProblem(
                header_line, "header: " + "; ".join(what) + f" — columns: {', '.join(COST_FILE_COLUMNS)}"
            )
        ]
    lines: list[CostLine] = []
    problems: list[LineProblem] = []
    seen: dict[str, int] = {}
    for row in reader:
        number = reader.line_num
        if not any(cell.strip() for cell in row) or row[0].lstrip().startswith("#"):
            continue
        values = {name: (row[i].strip() if i < len(row) else "") for i, name in enumerate(header)}
        parsed = _cost_line(values, number)
        if isinstance(parsed, str):
            problems.append(LineProblem(number, parsed))
            continue
        if parsed.source_key in seen:
            problems.append(
                LineProblem(
                    number, f"the same target and period as line {seen[parsed.source_key]} — keep one"
                )
            )
            continue
        seen[parsed.source_key] = number
        lines.append(parsed)
    return lines, problems


def _cost_line(values: Mapping[str, str], number: int) -> CostLine | str:
    channel, campaign = values.get("channel", ""), values.get("campaign", "")
    if bool(channel) == bool(campaign):
        return "give exactly one of channel and campaign"
    start, end = _iso_day(values.get("period_start", "")), _iso_day(values.get("period_end", ""))
    if start is None or end is None:
        bad = "period_start" if start is None else "period_end"
        return f"{bad} {values.get(bad, '')!r} is not a date — write it as YYYY-MM-DD"
    if end < start:
        return f"period_end {end} is before period_start {start}"
    try:
        amount = Decimal(values.get("amount", "").replace(",", ""))
    except InvalidOperation:
        return f"amount {values.get('amount', '')!r} is not a number — write it like 1250.00"
    if not amount.is_finite() or amount < 0:
        return f"amount {values.get('amount', '')!r} must be zero or more"
    currency = values.get("currency", "").upper() or None
    if currency is not None and not (len(currency) == 3 and currency.isalpha()):
        return f"currency {values.get('currency')!r} is not a three-letter code such as EUR"
    target = f"channel:{channel.casefold()}" if channel else f"campaign:{campaign.casefold()}"
    key = f"{target}|{start.isoformat()}|{end.isoformat()}"
    if len(key) > 255:
        key = f"{key[:190]}|{hashlib.sha256(key.encode()).hexdigest()}"
    return CostLine(
        source=COST_FILE,
        source_key=key,
        period_start=start,
        period_end=end,
        amount=amount.quantize(Decimal("0.01")),
        currency=currency,
        channel=channel or None,
        campaign=campaign or None,
        line=number,
    )


# --- values -------------------------------------------------------------------------------


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _iso_day(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _money(value: Any) -> Decimal | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return None
    return amount.quantize(Decimal("0.01")) if amount.is_finite() else None


def name_key(name: str | None) -> str:
    """How campaign names compare when a UTM value or another system's campaign names one."""
    return " ".join(str(name or "").split()).casefold()


def member_payload(row: MemberRow) -> dict[str, Any]:
    """A member as an issue payload, for a retry once its person is linked."""
    return {
        "external_id": row.external_id,
        "campaign_external_id": row.campaign_external_id,
        "lead_id": row.lead_id,
        "contact_id": row.contact_id,
        "status": row.status,
        "has_responded": row.has_responded,
        "first_responded_at": row.first_responded_at.isoformat() if row.first_responded_at else None,
        "added_at": row.added_at.isoformat(),
    }


def member_from_payload(payload: Mapping[str, Any]) -> MemberRow:
    return MemberRow(
        external_id=str(payload["external_id"]),
        campaign_external_id=str(payload["campaign_external_id"]),
        lead_id=payload.get("lead_id"),
        contact_id=payload.get("contact_id"),
        status=payload.get("status"),
        has_responded=bool(payload.get("has_responded")),
        first_responded_at=instant(payload.get("first_responded_at")),
        added_at=instant(payload.get("added_at")) or datetime.fromisoformat(str(payload["added_at"])),
    )
