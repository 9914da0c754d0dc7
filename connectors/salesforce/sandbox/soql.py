"""SOQL tokenizer and recursive-descent parser: query text → a small frozen syntax tree."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Literal as TypingLiteral

# ---- syntax tree ------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldPath:
    """A field reference as written: ("Owner", "Email"); `position` is its 1-based column."""

    parts: tuple[str, ...]
    position: int


@dataclass(frozen=True)
class AggregateItem:
    """COUNT() (field None), or COUNT/COUNT_DISTINCT/SUM/MIN/MAX/AVG(field), with an optional alias."""

    function: str
    field: FieldPath | None
    alias: str | None
    position: int


AGGREGATE_FUNCTIONS = frozenset({"COUNT", "COUNT_DISTINCT", "SUM", "MIN", "MAX", "AVG"})


@dataclass(frozen=True)
class SubQuery:
    """A child relationship subquery in the select list: (SELECT ... FROM Contacts ...)."""

    query: Query
    position: int


SelectItem = FieldPath | AggregateItem | SubQuery


@dataclass(frozen=True)
class Literal:
    kind: TypingLiteral["string", "number", "boolean", "null", "date", "datetime"]
    value: str | float | bool | date | datetime | None
    position: int


@dataclass(frozen=True)
class DateRange:
    """A relative date literal such as TODAY or LAST_N_DAYS:7."""

    name: str
    n: int | None
    position: int


Value = Literal | DateRange


@dataclass(frozen=True)
class Comparison:
    field: FieldPath
    op: str  # = != < <= > >= LIKE IN NOT IN
    value: Value | tuple[Value, ...] | SemiJoin


@dataclass(frozen=True)
class SemiJoin:
    """IN (SELECT ContactId FROM OpportunityContactRole ...): ids from another object."""

    query: Query
    position: int


@dataclass(frozen=True)
class And:
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    item: Condition


Condition = Comparison | And | Or | Not


@dataclass(frozen=True)
class OrderItem:
    field: FieldPath
    descending: bool
    nulls_first: bool


@dataclass(frozen=True)
class Query:
    select: tuple[SelectItem, ...]
    sobject: str
    sobject_position: int
    where: Condition | None
    order_by: tuple[OrderItem, ...]
    limit: int | None
    offset: int | None
    group_by: tuple[FieldPath, ...] = ()


class SoqlSyntaxError(Exception):
    """MALFORMED_QUERY: the text is not valid SOQL."""

    def __init__(self, message: str, position: int, text: str) -> None:
        super().__init__(message)
        self.position = position
        self.text = text
        self.detail = message

    def salesforce_message(self) -> str:
        return format_error(self.text, self.position, self.detail)


def format_error(text: str, position: int, detail: str) -> str:
    """The message layout Salesforce uses for query errors (snippet, caret, row/column, reason)."""
    one_line = " ".join(text.split("\n"))
    caret = " " * max(position - 1, 0) + "^"
    return f"\n{one_line}\n{caret}\nERROR at Row:1:Column:{position}\n{detail}"


# ---- tokenizer --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Token:
    kind: str  # ident, string, number, date, datetime, op, punct, eof
    text: str
    position: int  # 1-based column
    value: str | float | date | datetime | None = None


_DATETIME_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,3})?(Z|[+-]\d{2}:?\d{2})")
_DATETIME_PREFIX_RE = re.compile(r"\d{4}-\d{2}-\d{2}T[^\s,)]*")
_DATE_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?![\dT])")
_NUMBER_RE = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_IDENT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
_OPS = ("!=", "<>", "<=", ">=", "=", "<", ">")
_ESCAPES = {
    "n": "\n",
    "t": "\t",
    "r": "\r",
    "b": "\b",
    "f": "\f",
    "'": "'",
    '"': '"',
    "\\": "\\",
    "_": "\\_",
    "%": "\\%",
}


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        pos = i + 1
        if ch == "'":
            j = i + 1
            out = []
            while True:
                if j >= n:
                    raise SoqlSyntaxError("unexpected token: <EOF>", pos, text)
                c = text[j]
                if c == "\\":
                    if j + 1 >= n or text[j + 1] not in _ESCAPES:
                        raise SoqlSyntaxError("Invalid string literal: bad escape sequence", pos, text)
                    out.append(_ESCAPES[text[j + 1]])
                    j += 2
                    continue
                if c == "'":
                    break
                out.append(c)
                j += 1
            tokens.append(Token("string", text[i : j + 1], pos, "".join(out)))
            i = j + 1
            continue
        m = _DATETIME_RE.match(text, i)
        if m:
            tokens.append(Token("datetime", m.group(0), pos, _parse_datetime(m, text, pos)))
            i = m.end()
            continue
        bad = _DATETIME_PREFIX_RE.match(text, i)
        if bad:
            raise SoqlSyntaxError(f"invalid dateTime literal: {bad.group(0)}", pos, text)
        m = _DATE_RE.match(text, i)
        if m:
            try:
                value = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                raise SoqlSyntaxError(
                    f"line 1:{pos} no viable alternative at character ' '", pos, text
                ) from None
            tokens.append(Token("date", m.group(0), pos, value))
            i = m.end()
            continue
        if ch.isdigit() or (ch in "+-." and i + 1 < n and (text[i + 1].isdigit() or text[i + 1] == ".")):
            m = _NUMBER_RE.match(text, i)
            if m:
                tokens.append(Token("number", m.group(0), pos, float(m.group(0))))
                i = m.end()
                continue
        m = _IDENT_RE.match(text, i)
        if m:
            tokens.append(Token("ident", m.group(0), pos))
            i = m.end()
            continue
        for op in _OPS:
            if text.startswith(op, i):
                tokens.append(Token("op", "!=" if op == "<>" else op, pos))
                i += len(op)
                break
        else:
            if ch in "(),:":
                tokens.append(Token("punct", ch, pos))
                i += 1
                continue
            raise SoqlSyntaxError(f"line 1:{pos - 1} no viable alternative at character '{ch}'", pos, text)
    tokens.append(Token("eof", "<EOF>", n + 1))
    return tokens


def _parse_datetime(m: re.Match[str], text: str, pos: int) -> datetime:
    try:
        frac = m.group(7)
        micro = int(float(frac) * 1_000_000) if frac else 0
        dt = datetime(
            int(m.group(1)),
            int(m.group(2)),
            int(m.group(3)),
            int(m.group(4)),
            int(m.group(5)),
            int(m.group(6)),
            micro,
        )
    except ValueError:
        raise SoqlSyntaxError(
            f"value of filter criterion is not a valid dateTime: {m.group(0)}", pos, text
        ) from None
    zone = m.group(8)
    if zone == "Z":
        return dt.replace(tzinfo=UTC)
    sign = 1 if zone[0] == "+" else -1
    digits = zone[1:].replace(":", "")
    offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return dt.replace(tzinfo=timezone(sign * offset)).astimezone(UTC)


# ---- parser -----------------------------------------------------------------------------------

_DATE_RANGE_FIXED = frozenset(
    {
        "TODAY",
        "YESTERDAY",
        "TOMORROW",
        "THIS_WEEK",
        "LAST_WEEK",
        "NEXT_WEEK",
        "THIS_MONTH",
        "LAST_MONTH",
        "NEXT_MONTH",
        "THIS_YEAR",
        "LAST_YEAR",
        "NEXT_YEAR",
        "LAST_90_DAYS",
        "NEXT_90_DAYS",
    }
)
_DATE_RANGE_N = frozenset(
    {
        "LAST_N_DAYS",
        "NEXT_N_DAYS",
        "N_DAYS_AGO",
        "LAST_N_WEEKS",
        "NEXT_N_WEEKS",
        "LAST_N_MONTHS",
        "NEXT_N_MONTHS",
        "N_WEEKS_AGO",
        "N_MONTHS_AGO",
    }
)
_RESERVED = frozenset(
    {
        "SELECT",
        "FROM",
        "WHERE",
        "AND",
        "OR",
        "NOT",
        "ORDER",
        "BY",
        "LIMIT",
        "OFFSET",
        "ASC",
        "DESC",
        "NULLS",
        "FIRST",
        "LAST",
        "IN",
        "LIKE",
        "NULL",
        "TRUE",
        "FALSE",
        "GROUP",
        "HAVING",
        "WITH",
        "FOR",
        "USING",
        "INCLUDES",
        "EXCLUDES",
        "TYPEOF",
    }
)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0
        self.in_subquery = False

    # token helpers
    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.i + ahead, len(self.tokens) - 1)]

    def next(self) -> Token:
        tok = self.tokens[self.i]
        if tok.kind != "eof":
            self.i += 1
        return tok

    def is_kw(self, word: str, ahead: int = 0) -> bool:
        tok = self.peek(ahead)
        return tok.kind == "ident" and tok.text.upper() == word

    def unexpected(self, tok: Token | None = None) -> SoqlSyntaxError:
        tok = tok or self.peek()
        return SoqlSyntaxError(f"unexpected token: {tok.text}", tok.position, self.text)

    def expect_kw(self, word: str) -> Token:
        if not self.is_kw(word):
            raise self.unexpected()
        return self.next()

    def expect_punct(self, ch: str) -> Token:
        tok = self.peek()
        if tok.kind != "punct" or tok.text != ch:
            raise self.unexpected()
        return self.next()

    # grammar
    def query(self, nested: bool = False) -> Query:
        self.in_subquery = nested
        self.expect_kw("SELECT")
        select = self.select_list(nested)
        self.expect_kw("FROM")
        obj = self.peek()
        if obj.kind != "ident" or "." in obj.text or obj.text.upper() in _RESERVED:
            raise self.unexpected()
        self.next()
        if self.peek().kind == "ident" and self.peek().text.upper() not in _RESERVED:
            self.next()  # an alias for the object: accepted and ignored, like Salesforce
        where = None
        if self.is_kw("WHERE"):
            self.next()
            where = self.condition()
        group_by: list[FieldPath] = []
        if self.is_kw("GROUP"):
            self.next()
            self.expect_kw("BY")
            while True:
                f = self.peek()
                if f.kind != "ident" or f.text.upper() in _RESERVED:
                    raise self.unexpected()
                self.next()
                group_by.append(FieldPath(tuple(f.text.split(".")), f.position))
                if not (self.peek().kind == "punct" and self.peek().text == ","):
                    break
                self.next()
        if self.is_kw("HAVING"):
            raise SoqlSyntaxError(
                "unexpected token: HAVING (not supported by this org)", self.peek().position, self.text
            )
        order: tuple[OrderItem, ...] = ()
        if self.is_kw("ORDER"):
            self.next()
            self.expect_kw("BY")
            order = self.order_list()
        limit = offset = None
        if self.is_kw("LIMIT"):
            self.next()
            limit = self.integer()
        if self.is_kw("OFFSET"):
            self.next()
            offset = self.integer()
        if not nested and self.peek().kind != "eof":
            raise self.unexpected()
        self.in_subquery = False
        return Query(tuple(select), obj.text, obj.position, where, order, limit, offset, tuple(group_by))

    def integer(self) -> int:
        tok = self.peek()
        if tok.kind != "number" or not tok.text.isdigit():
            raise self.unexpected()
        self.next()
        return int(tok.text)

    def select_list(self, nested: bool) -> list[SelectItem]:
        items: list[SelectItem] = [self.select_item(nested)]
        while self.peek().kind == "punct" and self.peek().text == ",":
            self.next()
            items.append(self.select_item(nested))
        return items

    def select_item(self, nested: bool) -> SelectItem:
        tok = self.peek()
        if tok.kind == "punct" and tok.text == "(":
            if nested:
                raise SoqlSyntaxError(
                    "unexpected token: '(' (subqueries cannot be nested)", tok.position, self.text
                )
            self.next()
            subquery = self.query(nested=True)
            self.expect_punct(")")
            return SubQuery(subquery, tok.position)
        if tok.kind != "ident" or tok.text.upper() in _RESERVED - {"FIRST", "LAST"}:
            raise self.unexpected()
        self.next()
        function = tok.text.upper()
        if function in AGGREGATE_FUNCTIONS and self.peek().kind == "punct" and self.peek().text == "(":
            self.next()
            inner: FieldPath | None = None
            if self.peek().kind == "ident":
                f = self.next()
                inner = FieldPath(tuple(f.text.split(".")), f.position)
            elif function != "COUNT":
                raise self.unexpected()
            self.expect_punct(")")
            alias = None
            nxt = self.peek()
            if nxt.kind == "ident" and nxt.text.upper() not in _RESERVED:
                alias = self.next().text
            return AggregateItem(function, inner, alias, tok.position)
        if self.peek().kind == "punct" and self.peek().text == "(":
            raise SoqlSyntaxError(
                f"unexpected token: '(' (function {tok.text} is not supported by this org)",
                self.peek().position,
                self.text,
            )
        return FieldPath(tuple(tok.text.split(".")), tok.position)

    def order_list(self) -> tuple[OrderItem, ...]:
        items = []
        while True:
            tok = self.peek()
            if tok.kind != "ident" or tok.text.upper() in _RESERVED:
                raise self.unexpected()
            self.next()
            desc = False
            if self.is_kw("ASC"):
                self.next()
            elif self.is_kw("DESC"):
                self.next()
                desc = True
            nulls_first = not desc
            if self.is_kw("NULLS"):
                self.next()
                if self.is_kw("FIRST"):
                    nulls_first = True
                elif self.is_kw("LAST"):
                    nulls_first = False
                else:
                    raise self.unexpected()
                self.next()
            items.append(OrderItem(FieldPath(tuple(tok.text.split(".")), tok.position), desc, nulls_first))
            if self.peek().kind == "punct" and self.peek().text == ",":
                self.next()
                continue
            return tuple(items)

    def condition(self) -> Condition:
        left = self.and_condition()
        if not self.is_kw("OR"):
            return left
        items = [left]
        while self.is_kw("OR"):
            self.next()
            items.append(self.and_condition())
        return Or(tuple(items))

    def and_condition(self) -> Condition:
        left = self.unary()
        if not self.is_kw("AND"):
            return left
        items = [left]
        while self.is_kw("AND"):
            self.next()
            items.append(self.unary())
        return And(tuple(items))

    def unary(self) -> Condition:
        if self.is_kw("NOT"):
            self.next()
            return Not(self.unary())
        tok = self.peek()
        if tok.kind == "punct" and tok.text == "(":
            self.next()
            inner = self.condition()
            self.expect_punct(")")
            return inner
        return self.comparison()

    def comparison(self) -> Comparison:
        tok = self.peek()
        if tok.kind != "ident" or tok.text.upper() in _RESERVED:
            raise self.unexpected()
        self.next()
        path = FieldPath(tuple(tok.text.split(".")), tok.position)
        op_tok = self.peek()
        if op_tok.kind == "op":
            self.next()
            return Comparison(path, op_tok.text, self.value())
        if self.is_kw("LIKE"):
            self.next()
            value = self.value()
            if not isinstance(value, Literal) or value.kind != "string":
                raise self.unexpected(self.tokens[self.i - 1])
            return Comparison(path, "LIKE", value)
        if self.is_kw("IN"):
            self.next()
            return Comparison(path, "IN", self.value_list(not self.in_subquery))
        if self.is_kw("NOT") and self.is_kw("IN", 1):
            self.next()
            self.next()
            return Comparison(path, "NOT IN", self.value_list(not self.in_subquery))
        raise self.unexpected()

    def value_list(self, allow_semi_join: bool) -> tuple[Value, ...] | SemiJoin:
        self.expect_punct("(")
        if self.is_kw("SELECT"):
            position = self.peek().position
            if not allow_semi_join:
                raise SoqlSyntaxError(
                    "unexpected token: SELECT (semi-joins cannot be nested)", position, self.text
                )
            inner = self.query(nested=True)
            self.expect_punct(")")
            return SemiJoin(inner, position)
        values = [self.value()]
        while self.peek().kind == "punct" and self.peek().text == ",":
            self.next()
            values.append(self.value())
        self.expect_punct(")")
        return tuple(values)

    def value(self) -> Value:
        tok = self.next()
        if tok.kind == "string":
            return Literal("string", tok.value, tok.position)
        if tok.kind == "number":
            assert isinstance(tok.value, float)
            return Literal("number", tok.value, tok.position)
        if tok.kind == "date":
            return Literal("date", tok.value, tok.position)
        if tok.kind == "datetime":
            return Literal("datetime", tok.value, tok.position)
        if tok.kind == "ident":
            word = tok.text.upper()
            if word == "NULL":
                return Literal("null", None, tok.position)
            if word in ("TRUE", "FALSE"):
                return Literal("boolean", word == "TRUE", tok.position)
            if word in _DATE_RANGE_FIXED:
                return DateRange(word, None, tok.position)
            if word in _DATE_RANGE_N:
                if not (self.peek().kind == "punct" and self.peek().text == ":"):
                    raise self.unexpected()
                self.next()
                n_tok = self.peek()
                if n_tok.kind != "number" or not n_tok.text.isdigit():
                    raise self.unexpected()
                self.next()
                return DateRange(word, int(n_tok.text), tok.position)
        raise self.unexpected(tok)


def parse(text: str) -> Query:
    """Parse SOQL text; raises SoqlSyntaxError with Salesforce's position and wording."""
    return _Parser(text).query()
