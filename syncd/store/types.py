"""Column types that keep the store's promises: UTC instants and exact money on every backend."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, Dialect, Numeric
from sqlalchemy.types import TypeDecorator, TypeEngine

MONEY_SCALE = 4
_MONEY_FACTOR = Decimal(10) ** MONEY_SCALE


class UTCDateTime(TypeDecorator[datetime]):
    """A tz-aware UTC instant. Naive datetimes are refused: an instant without a zone is a bug."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r} given to the store; pass a tz-aware UTC instant")
        value = value.astimezone(UTC)
        # SQLite has no zone type: store naive UTC and re-attach UTC on the way out.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Money(TypeDecorator[Decimal]):
    """An exact decimal amount (4 places).

    PostgreSQL stores NUMERIC; SQLite has no exact decimal type (it would round-trip through a
    float), so there the amount is an integer count of 1/10,000 units.
    """

    impl = Numeric(20, MONEY_SCALE)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(20, MONEY_SCALE, asdecimal=True))

    def process_bind_param(self, value: Decimal | int | str | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        amount = Decimal(value)
        scaled = amount * _MONEY_FACTOR
        if scaled != scaled.to_integral_value():
            raise ValueError(f"amount {amount} has more than {MONEY_SCALE} decimal places")
        return int(scaled) if dialect.name == "sqlite" else amount

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return (Decimal(int(value)) / _MONEY_FACTOR).quantize(Decimal(1).scaleb(-MONEY_SCALE))
        return Decimal(value)
