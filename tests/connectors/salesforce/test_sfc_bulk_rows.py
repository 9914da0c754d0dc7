"""Bulk API 2.0 CSV cells re-typed to what the REST API returns for the same field."""

from __future__ import annotations

import pytest

from connectors.salesforce.bulk import next_locator, rows, typed_value


@pytest.mark.parametrize(
    ("sf_type", "text", "value"),
    [
        ("boolean", "true", True),
        ("boolean", "false", False),
        ("int", "42", 42),
        ("double", "42", 42.0),
        ("currency", "1250.5", 1250.5),
        ("percent", "10", 10.0),
        ("datetime", "2026-03-01T12:00:00.000Z", "2026-03-01T12:00:00.000+0000"),
        ("datetime", "2026-03-01T12:00:00.000+0000", "2026-03-01T12:00:00.000+0000"),
        ("date", "2026-03-01", "2026-03-01"),
        ("string", "Acme, Inc.", "Acme, Inc."),
        ("string", "", None),
        ("boolean", "", None),
        (None, "unknown column", "unknown column"),
    ],
)
def test_cells_are_typed_like_rest_json(sf_type: str | None, text: str, value: object) -> None:
    assert typed_value(sf_type, text) == value


def test_rows_keep_quoted_commas_and_newlines_and_type_each_column() -> None:
    csv_text = (
        '"Id","IsDeleted","Company","Title"\n'
        '"00Q1","false","Acme, Inc.","Line one\nline two"\n'
        '"00Q2","true","",""\n'
    )
    types = {"id": "id", "isdeleted": "boolean", "company": "string", "title": "string"}
    assert list(rows(csv_text, types)) == [
        {"Id": "00Q1", "IsDeleted": False, "Company": "Acme, Inc.", "Title": "Line one\nline two"},
        {"Id": "00Q2", "IsDeleted": True, "Company": None, "Title": None},
    ]


def test_the_literal_null_locator_ends_the_results() -> None:
    assert next_locator("null") is None
    assert next_locator(None) is None
    assert next_locator("MTAwMDA") == "MTAwMDA"
