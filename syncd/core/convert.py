"""Conversions of one field's value from one system's vocabulary into the other's."""

from __future__ import annotations

from collections.abc import Callable

from syncd.core.normalize import Value

Convert = Callable[[Value], Value]
"""A pure function from a canonical value on one side to the canonical value for the other side."""


class TransformError(ValueError):
    """A value the field's transforms cannot convert (e.g. missing from a value map).

    The message names the problem; it may quote a picklist value (a value-map miss) but never free text.
    """


def identity(value: Value) -> Value:
    return value


class UnmappedValue(TransformError):
    """A picklist value missing from a value map (quarantined as a picklist issue)."""
