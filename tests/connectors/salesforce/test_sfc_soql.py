"""SOQL building: literals escaped, cursor predicates resume exactly after a page, IN lists fit a URL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import quote_plus

import pytest

from connectors.salesforce.soql import (
    cursor_predicate,
    format_datetime,
    in_predicates,
    is_record_id,
    parse_datetime,
    pull_query,
    quote,
    select,
)
from syncd.connector import Cursor
from syncd.errors import FatalError

T = datetime(2026, 3, 1, 12, 30, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "literal"),
    [
        ("jane@x.com", "'jane@x.com'"),
        ("o'brien@x.com", r"'o\'brien@x.com'"),
        ("back\\slash", r"'back\\slash'"),
        ("a\nb", r"'a\nb'"),
        ("50%_off", "'50%_off'"),  # wildcards only matter to LIKE, which is never built here
        ("' OR Id != '", r"'\' OR Id != \''"),
    ],
)
def test_string_literals_are_escaped_so_values_cannot_break_out(raw: str, literal: str) -> None:
    assert quote(raw) == literal


def test_datetimes_are_utc_literals_with_milliseconds_only_when_present() -> None:
    assert format_datetime(T) == "2026-03-01T12:30:05Z"
    assert format_datetime(T.replace(microsecond=123456)) == "2026-03-01T12:30:05.123Z"
    plus_two = timezone(timedelta(hours=2))
    assert format_datetime(datetime(2026, 3, 1, 14, 30, 5, tzinfo=plus_two)) == "2026-03-01T12:30:05Z"


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(FatalError):
        format_datetime(datetime(2026, 3, 1))


@pytest.mark.parametrize(
    "text",
    [
        "2026-03-01T12:30:05.000+0000",
        "2026-03-01T14:30:05.000+02:00",
        "2026-03-01T12:30:05Z",
        "2026-03-01T12:30:05.000000001Z",
    ],
)
def test_salesforce_datetimes_parse_to_aware_utc(text: str) -> None:
    assert parse_datetime(text) == T


@pytest.mark.parametrize("text", ["2026-03-01T12:30:05", "yesterday"])
def test_datetimes_without_a_zone_or_unreadable_are_refused(text: str) -> None:
    with pytest.raises(FatalError):
        parse_datetime(text)


def test_a_cursor_without_id_is_inclusive_of_its_timestamp() -> None:
    assert cursor_predicate(Cursor(T)) == "SystemModstamp >= 2026-03-01T12:30:05Z"


def test_a_cursor_with_id_resumes_strictly_after_that_record() -> None:
    assert cursor_predicate(Cursor(T, "00Q000000000001AAA")) == (
        "(SystemModstamp > 2026-03-01T12:30:05Z OR "
        "(SystemModstamp = 2026-03-01T12:30:05Z AND Id > '00Q000000000001AAA'))"
    )


def test_no_cursor_pulls_everything_oldest_first_with_id_tie_break() -> None:
    assert cursor_predicate(None) is None
    assert pull_query("Lead", ["Id", "SystemModstamp", "Email"], None) == (
        "SELECT Id, SystemModstamp, Email FROM Lead ORDER BY SystemModstamp ASC, Id ASC"
    )


def test_a_cursor_id_that_is_not_a_record_id_is_refused() -> None:
    with pytest.raises(FatalError, match="reset the flow's cursor"):
        cursor_predicate(Cursor(T, "x' OR Id != '"))


def test_field_names_are_checked_before_being_spliced_in() -> None:
    assert select("Lead", ["Id", "Owner.Email"]) == "SELECT Id, Owner.Email FROM Lead"
    with pytest.raises(FatalError):
        select("Lead", ["Id FROM Contact --"])


def test_record_ids_are_15_or_18_alphanumerics() -> None:
    assert is_record_id("00Q000000000001")
    assert is_record_id("00Q000000000001AAA")
    assert not is_record_id("jane@x.com")
    assert not is_record_id("00Q00000000001")


def test_in_lists_are_chunked_to_the_encoded_size_budget_keeping_every_value_once() -> None:
    emails = [f"person{i:04d}@example.com" for i in range(500)] + ["person0001@example.com"]
    chunks = in_predicates("Email", emails, max_encoded_chars=2_000)
    assert len(chunks) > 1
    assert all(len(quote_plus(c)) <= 2_000 for c in chunks)
    listed = [
        v.strip(" '") for c in chunks for v in c.removeprefix("Email IN (").removesuffix(")").split(",")
    ]
    assert listed == list(dict.fromkeys(emails))


def test_in_lists_escape_each_value() -> None:
    assert in_predicates("Email", ["o'neil@x.com", "a@b.c"], max_encoded_chars=10_000) == [
        r"Email IN ('o\'neil@x.com', 'a@b.c')"
    ]


def test_a_value_too_long_for_any_query_is_refused_rather_than_sent() -> None:
    with pytest.raises(FatalError):
        in_predicates("Email", ["x" * 500 + "@x.com"], max_encoded_chars=100)
