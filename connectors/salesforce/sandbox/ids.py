"""Salesforce record ids: key prefixes, 15/18-character forms and deterministic generation."""

from __future__ import annotations

import threading

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_CHECKSUM_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_ID_CHARS = frozenset(_BASE62)

# The two characters after the key prefix name the pod; "0" is reserved; nine base-62 digits follow.
_POD = "5g"


def checksum_suffix(id15: str) -> str:
    """The three characters Salesforce appends to make an id case-insensitive.

    Each 5-character chunk gives a 5-bit number (bit i set when character i is an upper-case letter)."""
    return "".join(_CHECKSUM_CHARS[_chunk_bits(id15[start : start + 5])] for start in (0, 5, 10))


def _chunk_bits(chunk: str) -> int:
    bits = 0
    for position, char in enumerate(chunk):
        if "A" <= char <= "Z":
            bits |= 1 << position
    return bits


def to_18(id15: str) -> str:
    return id15 + checksum_suffix(id15)


def normalize_id(value: str) -> str | None:
    """The 18-character form of a 15- or 18-character id; None when it is not an id at all.

    An 18-character id whose suffix does not match its case is rejected, like Salesforce does
    (a case-mangled id would otherwise point at a different record)."""
    if len(value) == 15 and all(c in _ID_CHARS for c in value):
        return to_18(value)
    if len(value) == 18 and all(c in _ID_CHARS for c in value):
        body = value[:15]
        if checksum_suffix(body) == value[15:]:
            return value
        # Callers may upper/lower-case the suffix; the body decides.
        if checksum_suffix(body).upper() == value[15:].upper():
            return to_18(body)
        return None
    return None


class IdGenerator:
    """Hands out 18-character ids per key prefix, deterministic for a given seed."""

    def __init__(self, seed: int) -> None:
        self._lock = threading.Lock()
        # Start each org somewhere different so ids from two seeds rarely collide in a test log.
        self._next = 1_000_000 + (seed % 9973) * 1_000_000
        self._counters: dict[str, int] = {}

    def new(self, key_prefix: str) -> str:
        with self._lock:
            number = self._counters.get(key_prefix, self._next)
            self._counters[key_prefix] = number + 1
        digits = []
        for _ in range(9):
            number, rem = divmod(number, 62)
            digits.append(_BASE62[rem])
        body = key_prefix + _POD + "0" + "".join(reversed(digits))
        return to_18(body)
