"""SOQL for the sandbox Salesforce: parse a query, bind it to a table, evaluate it with numpy.

The sandbox must answer the SOQL a connector really sends, and refuse what Salesforce
refuses, with Salesforce's error codes — so this is a small parser, not a list of canned
strings. Supported (the subset a sync needs):

* ``SELECT f1, f2 … | COUNT() | COUNT(f1), COUNT(f2) … FROM Object`` — ``COUNT(field)``
  counts the rows where the field is not null, answered as one ``AggregateResult`` record
  with ``expr0``, ``expr1`` … (no aliases, no GROUP BY)
* ``WHERE`` comparisons ``= != <> < <= > >=``, ``[NOT] IN (…)``, ``LIKE``, ``NOT``,
  parentheses, ``AND`` / ``OR`` — mixing AND and OR at one level without parentheses is
  a ``MALFORMED_QUERY``, as in Salesforce;
* literals: ``'strings'`` with backslash escapes, numbers, ``true``/``false``/``null``,
  dates ``2026-10-01`` and unquoted datetimes ``2026-10-01T00:00:00Z`` (also with
  fractional seconds and ``+hh:mm`` / ``+hhmm`` offsets);
* ``ORDER BY f [ASC|DESC] [NULLS FIRST|LAST], …``, ``LIMIT n``, ``OFFSET n`` (≤ 2000).

Semantics worth knowing (each as Salesforce documents or behaves): string comparisons
and LIKE ignore case; ``!=`` and ``NOT IN`` also match nulls; ``ASC`` puts nulls first and
``DESC`` last unless told otherwise; a datetime field compared with a date or a quoted
string, a date field with a datetime, a boolean with a string… is ``INVALID_FIELD``
("value of filter criterion for field … must be of type …"); ``OldValue``/``NewValue``
of history objects cannot be filtered or sorted; an unknown object is ``INVALID_TYPE``,
an unknown field ``INVALID_FIELD``. Ties in ``ORDER BY`` and queries without it come back
in Id order.

Not implemented (answered ``MALFORMED_QUERY`` naming the missing feature, so nobody mistakes
it for Salesforce's answer): relationship paths (``Owner.Name``), aggregates other than
``COUNT()`` and ``COUNT(field)``, ``GROUP BY``, subqueries, ``TYPEOF``, ``WITH``, ``FOR``,
date literals such as ``TODAY`` / ``LAST_N_DAYS:n``, ``INCLUDES`` / ``EXCLUDES``.

Tables are columnar (:class:`Table`): numbers, dates and datetimes as float64 arrays with
NaN for null, booleans as bool arrays, text as Python lists plus a lazily built
case-folded dictionary encoding. A WHERE clause compiles to numpy masks; the full sort
order of a column is cached, so an incremental ``WHERE SystemModstamp >= … ORDER BY
SystemModstamp`` over a million rows only touches the rows in the window.
"""

from __future__ import annotations

import operator
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final, Literal, Union

import numpy as np

FieldType = Literal[
    "id",
    "reference",
    "string",
    "picklist",
    "email",
    "textarea",
    "boolean",
    "datetime",
    "date",
    "int",
    "double",
    "anyType",
]
TEXT_TYPES: Final = frozenset({"id", "reference", "string", "picklist", "email", "textarea"})
NUMERIC_TYPES: Final = frozenset({"datetime", "date", "int", "double"})
MAX_OFFSET: Final = 2000

_EPOCH_DATE: Final = date(1970, 1, 1)
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_DAY_MS: Final = 86_400_000


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field of an sObject: its API name, SOQL type and what SOQL may do with it."""

    name: str
    type: FieldType
    filterable: bool = True
    sortable: bool = True


class SoqlError(Exception):
    """A query Salesforce would refuse: ``code`` is its errorCode, ``message`` its text."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def body(self) -> list[dict[str, str]]:
        """Salesforce's REST error body: a JSON list with one error."""
        return [{"message": self.message, "errorCode": self.code}]


def _located(text: str, pos: int, detail: str) -> str:
    """Salesforce's error layout: the query line, a caret, ``ERROR at Row:r:Column:c``."""
    pos = max(0, min(pos, len(text)))
    row = text.count("\n", 0, pos) + 1
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", pos)
    line = text[start : end if end >= 0 else len(text)]
    col = pos - start + 1
    return f"\n{line}\n{' ' * (col - 1)}^\nERROR at Row:{row}:Column:{col}\n{detail}"


# --------------------------------------------------------------------------- tokens

_TOKEN_RE: Final = re.compile(
    r"""
     (?P<ws>\s+)
    |(?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2}))
    |(?P<date>\d{4}-\d{2}-\d{2}(?![\dT:]))
    |(?P<number>[+-]?\d+(?:\.\d+)?(?![\w.]))
    |(?P<string>'(?:[^'\\]|\\.)*')
    |(?P<op><=|>=|!=|<>|=|<|>)
    |(?P<punct>[(),:])
    |(?P<ident>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
    """,
    re.VERBOSE,
)
_RESERVED: Final = frozenset(
    {
        "AND",
        "ASC",
        "BY",
        "DESC",
        "EXCLUDES",
        "FALSE",
        "FOR",
        "FROM",
        "GROUP",
        "HAVING",
        "IN",
        "INCLUDES",
        "LIKE",
        "LIMIT",
        "NOT",
        "NULL",
        "NULLS",
        "OFFSET",
        "OR",
        "ORDER",
        "SELECT",
        "TRUE",
        "USING",
        "WHERE",
        "WITH",
    }
)
_ESCAPES: Final = {
    "n": "\n",
    "N": "\n",
    "t": "\t",
    "T": "\t",
    "r": "\r",
    "R": "\r",
    "b": "\b",
    "B": "\b",
    "f": "\f",
    "F": "\f",
    '"': '"',
    "'": "'",
    "\\": "\\",
}


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    text: str
    pos: int

    @property
    def upper(self) -> str:
        return self.text.upper() if self.kind == "ident" else ""


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens; an unknown character is a MALFORMED_QUERY."""
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN_RE.match(text, pos)
        if match is None or match.end() == pos:
            raise SoqlError(
                "MALFORMED_QUERY", _located(text, pos, f"unexpected token: '{text[pos]}'")
            )
        kind = match.lastgroup or ""
        if kind != "ws":
            tokens.append(Token(kind, match.group(), pos))
        pos = match.end()
    tokens.append(Token("eof", "", len(text)))
    return tokens


# --------------------------------------------------------------------------- syntax tree


@dataclass(frozen=True, slots=True)
class FieldRef:
    name: str
    pos: int


@dataclass(frozen=True, slots=True)
class Literal_:
    """A literal as written. ``kind``: string, number, boolean, null, date, datetime."""

    kind: str
    value: Any
    pos: int
    raw: str


@dataclass(frozen=True, slots=True)
class Compare:
    field: FieldRef
    op: str
    value: Literal_


@dataclass(frozen=True, slots=True)
class InList:
    field: FieldRef
    values: tuple[Literal_, ...]
    negate: bool


@dataclass(frozen=True, slots=True)
class Like:
    field: FieldRef
    pattern: Literal_


@dataclass(frozen=True, slots=True)
class BoolOp:
    op: Literal["AND", "OR"]
    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Not:
    item: Expr


Expr = Union[Compare, InList, Like, BoolOp, Not]  # noqa: UP007 (a runtime alias)


@dataclass(frozen=True, slots=True)
class OrderItem:
    field: FieldRef
    descending: bool
    nulls_last: bool


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed query, names as written (see :func:`bind` for the checked version)."""

    text: str
    fields: tuple[FieldRef, ...]
    count: bool
    object: FieldRef
    where: Expr | None
    order: tuple[OrderItem, ...]
    limit: int | None
    offset: int | None
    aggregates: tuple[FieldRef, ...] = ()
    """``COUNT(field)`` items, in order: answered as ``expr0``, ``expr1`` …"""


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

    # ----------------------------------------------------------------- helpers
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def advance(self) -> Token:
        tok = self.tokens[self.i]
        if tok.kind != "eof":
            self.i += 1
        return tok

    def unexpected(self, tok: Token | None = None) -> SoqlError:
        tok = tok or self.tok
        shown = "<EOF>" if tok.kind == "eof" else tok.text
        return SoqlError(
            "MALFORMED_QUERY", _located(self.text, tok.pos, f"unexpected token: '{shown}'")
        )

    def unsupported(self, tok: Token, feature: str) -> SoqlError:
        return SoqlError(
            "MALFORMED_QUERY",
            _located(self.text, tok.pos, f"{feature} is not supported by the sandbox Salesforce"),
        )

    def keyword(self, *words: str) -> bool:
        return self.tok.upper in words

    def expect_keyword(self, word: str) -> Token:
        if self.tok.upper != word:
            raise self.unexpected()
        return self.advance()

    def expect_punct(self, char: str) -> Token:
        if self.tok.kind != "punct" or self.tok.text != char:
            raise self.unexpected()
        return self.advance()

    def is_punct(self, char: str) -> bool:
        return self.tok.kind == "punct" and self.tok.text == char

    def field_ref(self) -> FieldRef:
        tok = self.tok
        if tok.kind != "ident" or tok.upper in _RESERVED:
            raise self.unexpected()
        self.advance()
        return FieldRef(tok.text, tok.pos)

    def integer(self) -> int:
        tok = self.tok
        if tok.kind != "number" or not re.fullmatch(r"\d+", tok.text):
            raise self.unexpected()
        self.advance()
        return int(tok.text)

    # ----------------------------------------------------------------- grammar
    def query(self) -> Query:
        self.expect_keyword("SELECT")
        fields: list[FieldRef] = []
        count = False
        aggregates: list[FieldRef] = []
        if self.tok.upper == "COUNT" and self.tokens[self.i + 1].text == "(":
            if self.tokens[self.i + 2].text == ")":
                self.advance()
                self.advance()
                self.advance()
                count = True
            else:
                aggregates = self.counted_fields()
        else:
            while True:
                tok = self.tok
                if self.is_punct("("):
                    raise self.unsupported(tok, "a subquery")
                if tok.upper == "TYPEOF":
                    raise self.unsupported(tok, "TYPEOF")
                if tok.kind == "ident" and self.tokens[self.i + 1].text == "(":
                    raise self.unsupported(tok, f"the function {tok.text}()")
                fields.append(self.field_ref())
                if not self.is_punct(","):
                    break
                self.advance()
        self.expect_keyword("FROM")
        obj = self.field_ref()
        where: Expr | None = None
        if self.keyword("WHERE"):
            self.advance()
            where = self.condition()
        if self.keyword("WITH", "GROUP", "HAVING", "USING"):
            raise self.unsupported(self.tok, self.tok.text.upper())
        order: list[OrderItem] = []
        if self.keyword("ORDER"):
            self.advance()
            self.expect_keyword("BY")
            while True:
                ref = self.field_ref()
                descending = False
                if self.keyword("ASC", "DESC"):
                    descending = self.advance().upper == "DESC"
                nulls_last = descending
                if self.keyword("NULLS"):
                    self.advance()
                    if not self.keyword("FIRST", "LAST"):
                        raise self.unexpected()
                    nulls_last = self.advance().upper == "LAST"
                order.append(OrderItem(ref, descending, nulls_last))
                if not self.is_punct(","):
                    break
                self.advance()
        limit: int | None = None
        offset: int | None = None
        if self.keyword("LIMIT"):
            self.advance()
            limit = self.integer()
        if self.keyword("OFFSET"):
            tok = self.advance()
            offset = self.integer()
            if offset > MAX_OFFSET:
                raise SoqlError(
                    "NUMBER_OUTSIDE_VALID_RANGE",
                    _located(self.text, tok.pos, f"Maximum SOQL offset allowed is {MAX_OFFSET}"),
                )
        if self.keyword("FOR"):
            raise self.unsupported(self.tok, "FOR VIEW / FOR UPDATE")
        if self.tok.kind != "eof":
            raise self.unexpected()
        return Query(
            self.text,
            tuple(fields),
            count,
            obj,
            where,
            tuple(order),
            limit,
            offset,
            tuple(aggregates),
        )

    def counted_fields(self) -> list[FieldRef]:
        """``COUNT(f1), COUNT(f2) …``: the rows where each field is not null."""
        out: list[FieldRef] = []
        while True:
            tok = self.tok
            if tok.upper != "COUNT" or self.tokens[self.i + 1].text != "(":
                raise self.unsupported(tok, "mixing COUNT(field) with other fields")
            self.advance()
            self.advance()
            out.append(self.field_ref())
            if not self.is_punct(")"):
                raise self.unexpected()
            self.advance()
            if not self.is_punct(","):
                return out
            self.advance()

    def condition(self) -> Expr:
        items = [self.unary()]
        op: str | None = None
        while self.keyword("AND", "OR"):
            word = self.tok.upper
            if op is None:
                op = word
            elif word != op:
                # Salesforce refuses a AND b OR c: the grouping must be spelled out.
                raise self.unexpected()
            self.advance()
            items.append(self.unary())
        if op is None:
            return items[0]
        return BoolOp(op, tuple(items))  # type: ignore[arg-type]

    def unary(self) -> Expr:
        if self.keyword("NOT"):
            self.advance()
            return Not(self.unary())
        if self.is_punct("("):
            self.advance()
            inner = self.condition()
            self.expect_punct(")")
            return inner
        return self.comparison()

    def comparison(self) -> Expr:
        ref = self.field_ref()
        tok = self.tok
        if tok.kind == "op":
            self.advance()
            op = "!=" if tok.text == "<>" else tok.text
            return Compare(ref, op, self.literal())
        word = tok.upper
        if word == "NOT":
            self.advance()
            self.expect_keyword("IN")
            return InList(ref, self.literal_list(), negate=True)
        if word == "IN":
            self.advance()
            return InList(ref, self.literal_list(), negate=False)
        if word == "LIKE":
            self.advance()
            pattern = self.literal()
            if pattern.kind != "string":
                raise self.unexpected(self.tokens[self.i - 1])
            return Like(ref, pattern)
        if word in ("INCLUDES", "EXCLUDES"):
            raise self.unsupported(tok, word)
        raise self.unexpected()

    def literal_list(self) -> tuple[Literal_, ...]:
        if self.is_punct("(") and self.tokens[self.i + 1].upper == "SELECT":
            raise self.unsupported(self.tokens[self.i + 1], "a semi-join subquery")
        self.expect_punct("(")
        values = [self.literal()]
        while self.is_punct(","):
            self.advance()
            values.append(self.literal())
        self.expect_punct(")")
        return tuple(values)

    def literal(self) -> Literal_:
        tok = self.tok
        kind = tok.kind
        if kind == "string":
            self.advance()
            raw = tok.text[1:-1]
            return Literal_("string", _unescape(raw), tok.pos, raw)
        if kind == "number":
            self.advance()
            return Literal_("number", float(tok.text), tok.pos, tok.text)
        if kind == "date":
            self.advance()
            try:
                value = date.fromisoformat(tok.text)
            except ValueError:
                raise self.unexpected(tok) from None
            return Literal_("date", value, tok.pos, tok.text)
        if kind == "datetime":
            self.advance()
            try:
                value = parse_datetime_literal(tok.text)
            except ValueError:
                raise self.unexpected(tok) from None
            return Literal_("datetime", value, tok.pos, tok.text)
        if kind == "ident":
            word = tok.upper
            if word in ("TRUE", "FALSE"):
                self.advance()
                return Literal_("boolean", word == "TRUE", tok.pos, tok.text)
            if word == "NULL":
                self.advance()
                return Literal_("null", None, tok.pos, tok.text)
            if re.fullmatch(r"[A-Z_]+(?:_N_[A-Z_]+)?", word):
                raise self.unsupported(tok, f"the date literal {tok.text}")
        raise self.unexpected()


def _scan_escapes(raw: str) -> Iterator[tuple[str, bool]]:
    """The characters of a string literal's text, each with whether it was escaped
    (``\\n`` → newline, ``\\x`` → ``x``; a backslash at the very end stands for itself)."""
    i = 0
    while i < len(raw):
        ch = raw[i]
        if ch == "\\" and i + 1 < len(raw):
            nxt = raw[i + 1]
            yield _ESCAPES.get(nxt, nxt), True
            i += 2
            continue
        yield ch, False
        i += 1


def _unescape(raw: str) -> str:
    return "".join(ch for ch, _ in _scan_escapes(raw))


def parse_datetime_literal(text: str) -> datetime:
    """An unquoted SOQL datetime (``Z``, ``±hh:mm`` or ``±hhmm``, optional fraction) in UTC."""
    normalized = text.replace("Z", "+00:00")
    match = re.fullmatch(r"(.*)([+-])(\d{2}):?(\d{2})", normalized)
    if match is None:
        raise ValueError(text)
    body, sign, hh, mm = match.groups()
    if "." in body:
        head, frac = body.split(".", 1)
        body = f"{head}.{(frac + '000000')[:6]}"
    parsed = datetime.fromisoformat(f"{body}{sign}{hh}:{mm}")
    return parsed.astimezone(UTC)


def parse(text: str) -> Query:
    """Parse SOQL text; raise :class:`SoqlError` (MALFORMED_QUERY…) as Salesforce would."""
    if not text or not text.strip():
        raise SoqlError("MALFORMED_QUERY", "A query string has to be specified")
    return _Parser(text).query()


# --------------------------------------------------------------------------- tables


def epoch_ms(at: datetime) -> int:
    """Epoch milliseconds of an aware datetime."""
    delta = at - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def epoch_days(day: date) -> int:
    return (day - _EPOCH_DATE).days


@dataclass(slots=True)
class _TextColumn:
    codes: np.ndarray
    """int32 per row: index into ``categories``, -1 for null."""
    categories: list[str]
    """Distinct case-folded values, in first-seen order."""
    lookup: dict[str, int]


class Table:
    """One sObject's rows, column by column, in Id order (position order is Id order).

    ``columns`` maps every field to one value per row: datetimes as aware ``datetime`` or
    epoch-ms ``int``, dates as ``date``, numbers, booleans, strings, or None.
    """

    def __init__(
        self,
        name: str,
        specs: Sequence[FieldSpec],
        columns: Mapping[str, Sequence[Any]],
    ) -> None:
        self.name = name
        self.specs: dict[str, FieldSpec] = {spec.name: spec for spec in specs}
        self._by_lower = {spec.name.lower(): spec for spec in specs}
        ids = columns["Id"]
        self.size = len(ids)
        self._numeric: dict[str, np.ndarray] = {}
        self._bool: dict[str, np.ndarray] = {}
        self._text: dict[str, list[Any]] = {}
        for spec in specs:
            values = columns[spec.name]
            if len(values) != self.size:
                raise ValueError(f"{name}.{spec.name}: {len(values)} values for {self.size} rows")
            if spec.type in NUMERIC_TYPES:
                self._numeric[spec.name] = _numeric_array(spec.type, values)
            elif spec.type == "boolean":
                self._bool[spec.name] = np.fromiter(
                    (bool(v) for v in values), dtype=bool, count=self.size
                )
            else:
                self._text[spec.name] = list(values)
        self._lock = threading.Lock()
        self._codes: dict[str, _TextColumn] = {}
        self._sort_keys: dict[str, np.ndarray] = {}
        self._orders: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    # ----------------------------------------------------------------- schema
    def spec(self, name: str) -> FieldSpec | None:
        return self._by_lower.get(name.lower())

    @property
    def ids(self) -> list[str]:
        return self._text["Id"]

    @property
    def has_is_deleted(self) -> bool:
        return "IsDeleted" in self.specs

    # ----------------------------------------------------------------- columns
    def numeric(self, name: str) -> np.ndarray:
        """float64 per row (epoch ms, epoch days or the number), NaN for null."""
        return self._numeric[name]

    def boolean(self, name: str) -> np.ndarray:
        return self._bool[name]

    def raw_text(self, name: str) -> list[Any]:
        return self._text[name]

    def text(self, name: str) -> _TextColumn:
        """The case-folded dictionary encoding of a text column (built on first use)."""
        column = self._codes.get(name)
        if column is not None:
            return column
        with self._lock:
            column = self._codes.get(name)
            if column is None:
                folded = [v.lower() if isinstance(v, str) else None for v in self._text[name]]
                lookup: dict[str, int] = {}
                for value in folded:
                    if value is not None and value not in lookup:
                        lookup[value] = len(lookup)
                codes = np.fromiter(
                    (lookup[v] if v is not None else -1 for v in folded),
                    dtype=np.int32,
                    count=self.size,
                )
                column = _TextColumn(codes, list(lookup), lookup)
                self._codes[name] = column
        return column

    def sort_key(self, name: str) -> np.ndarray:
        """float64 per row that sorts like SOQL's ORDER BY (text case-insensitively)."""
        key = self._sort_keys.get(name)
        if key is not None:
            return key
        spec = self.specs[name]
        if spec.type in NUMERIC_TYPES:
            key = self._numeric[name]
        elif spec.type == "boolean":
            key = self._bool[name].astype(np.float64)
        else:
            column = self.text(name)
            ranks = np.empty(len(column.categories) + 1, dtype=np.float64)
            order = sorted(range(len(column.categories)), key=column.categories.__getitem__)
            ranks[np.asarray(order, dtype=np.int64)] = np.arange(len(order), dtype=np.float64)
            ranks[-1] = np.nan  # code -1 indexes the last slot: null
            key = ranks[column.codes]
        with self._lock:
            self._sort_keys[name] = key
        return key

    def ascending_order(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Positions sorted by ``name`` ascending, nulls first, ties by Id; and the sorted
        keys (nulls as -inf) for bisecting a range."""
        cached = self._orders.get(name)
        if cached is not None:
            return cached
        key = self.sort_key(name)
        searchable = np.where(np.isnan(key), -np.inf, key)
        order = np.lexsort((np.arange(self.size), searchable))
        cached = (order, searchable[order])
        with self._lock:
            self._orders[name] = cached
        return cached

    # ----------------------------------------------------------------- rendering
    def render(self, name: str, positions: np.ndarray) -> list[Any]:
        """JSON values of ``name`` at ``positions``, in the REST API's formats."""
        spec = self.specs[name]
        kind = spec.type
        if kind == "datetime":
            return _format_datetimes(self._numeric[name][positions], "+0000")
        if kind == "date":
            return _format_dates(self._numeric[name][positions])
        if kind in ("int", "double"):
            values = self._numeric[name][positions]
            if kind == "int":
                return [None if v != v else int(v) for v in values.tolist()]
            return [None if v != v else v for v in values.tolist()]
        if kind == "boolean":
            return self._bool[name][positions].tolist()
        column = self._text[name]
        return [column[p] for p in positions.tolist()]

    def render_csv(self, name: str, positions: np.ndarray, datetime_suffix: str) -> list[str]:
        """Values for a Bulk API CSV: text, ``true``/``false``, empty for null."""
        spec = self.specs[name]
        if spec.type == "datetime":
            values = _format_datetimes(self._numeric[name][positions], datetime_suffix)
        else:
            values = self.render(name, positions)
        out: list[str] = []
        for value in values:
            if value is None:
                out.append("")
            elif value is True:
                out.append("true")
            elif value is False:
                out.append("false")
            else:
                out.append(str(value))
        return out


def _numeric_array(kind: str, values: Sequence[Any]) -> np.ndarray:
    out = np.empty(len(values), dtype=np.float64)
    for i, value in enumerate(values):
        if value is None:
            out[i] = np.nan
        elif kind == "datetime":
            out[i] = epoch_ms(value) if isinstance(value, datetime) else value
        elif kind == "date":
            out[i] = epoch_days(value) if isinstance(value, date) else value
        else:
            out[i] = value
    return out


def _format_datetimes(values: np.ndarray, suffix: str) -> list[str | None]:
    nulls = np.isnan(values)
    stamps = np.where(nulls, 0, values).astype(np.int64).astype("datetime64[ms]")
    texts = np.datetime_as_string(stamps, unit="ms").tolist()
    return [
        None if null else f"{text}{suffix}"
        for text, null in zip(texts, nulls.tolist(), strict=True)
    ]


def _format_dates(values: np.ndarray) -> list[str | None]:
    nulls = np.isnan(values)
    days = np.where(nulls, 0, values).astype(np.int64).astype("datetime64[D]")
    texts = np.datetime_as_string(days, unit="D").tolist()
    return [None if null else text for text, null in zip(texts, nulls.tolist(), strict=True)]


# --------------------------------------------------------------------------- binding


@dataclass(frozen=True, slots=True)
class _BCompare:
    spec: FieldSpec
    op: str
    value: Any  # ms, days, float, bool, folded str, or None


@dataclass(frozen=True, slots=True)
class _BIn:
    spec: FieldSpec
    values: tuple[Any, ...]
    negate: bool


@dataclass(frozen=True, slots=True)
class _BLike:
    spec: FieldSpec
    regex: re.Pattern[str]


@dataclass(frozen=True, slots=True)
class _BBool:
    op: Literal["AND", "OR"]
    items: tuple[_BExpr, ...]


@dataclass(frozen=True, slots=True)
class _BNot:
    item: _BExpr


_BExpr = Union[_BCompare, _BIn, _BLike, _BBool, _BNot]  # noqa: UP007


@dataclass(frozen=True, slots=True)
class BoundQuery:
    """A query checked against a table: canonical field names, typed literal values."""

    query: Query
    table: Table
    fields: tuple[FieldSpec, ...]
    count: bool
    where: _BExpr | None
    order: tuple[tuple[FieldSpec, bool, bool], ...]
    limit: int | None
    offset: int | None
    aggregates: tuple[FieldSpec, ...] = ()

    @property
    def object_name(self) -> str:
        return self.table.name


_TYPE_WORD: Final = {
    "datetime": "dateTime",
    "date": "date",
    "boolean": "boolean",
    "int": "double",
    "double": "double",
}


def _no_such_column(query: Query, ref: FieldRef, table: Table) -> SoqlError:
    if "." in ref.name:
        head = ref.name.split(".", 1)[0]
        return SoqlError(
            "INVALID_FIELD",
            _located(
                query.text,
                ref.pos,
                f"Didn't understand relationship '{head}' in field path. If you are "
                "attempting to use a custom relationship, be sure to append the '__r' after "
                "the custom relationship name. Please reference your WSDL or the describe "
                "call for the appropriate names. (The sandbox Salesforce does not implement "
                "relationship paths.)",
            ),
        )
    return SoqlError(
        "INVALID_FIELD",
        _located(
            query.text,
            ref.pos,
            f"No such column '{ref.name}' on entity '{table.name}'. If you are attempting to "
            "use a custom field, be sure to append the '__c' after the custom field name. "
            "Please reference your WSDL or the describe call for the appropriate names.",
        ),
    )


def bind(query: Query, tables: Mapping[str, Table]) -> BoundQuery:
    """Resolve ``query`` against ``tables`` (keyed by lower-case object name)."""
    table = tables.get(query.object.name.lower())
    if table is None:
        raise SoqlError(
            "INVALID_TYPE",
            _located(
                query.text,
                query.object.pos,
                f"sObject type '{query.object.name}' is not supported. If you are attempting "
                "to use a custom object, be sure to append the '__c' after the entity name. "
                "Please reference your WSDL or the describe call for the appropriate names.",
            ),
        )

    def resolve(ref: FieldRef) -> FieldSpec:
        spec = table.spec(ref.name)
        if spec is None:
            raise _no_such_column(query, ref, table)
        return spec

    fields: list[FieldSpec] = []
    for ref in query.fields:
        spec = resolve(ref)
        if spec in fields:
            raise SoqlError(
                "MALFORMED_QUERY",
                _located(query.text, ref.pos, f"duplicate field selected: {spec.name}"),
            )
        fields.append(spec)

    def typed(spec: FieldSpec, ref: FieldRef, lit: Literal_) -> Any:
        if lit.kind == "null":
            return None
        kind = spec.type
        ok = (
            (kind == "datetime" and lit.kind == "datetime")
            or (kind == "date" and lit.kind == "date")
            or (kind == "boolean" and lit.kind == "boolean")
            or (kind in ("int", "double") and lit.kind == "number")
            or (kind in TEXT_TYPES and lit.kind == "string")
        )
        if not ok:
            if kind in TEXT_TYPES:
                detail = (
                    f"value of filter criterion for field '{spec.name}' must be of type "
                    "string and should be enclosed in quotes"
                )
            else:
                detail = (
                    f"value of filter criterion for field '{spec.name}' must be of type "
                    f"{_TYPE_WORD[kind]} and should not be enclosed in quotes"
                )
            raise SoqlError("INVALID_FIELD", _located(query.text, lit.pos, detail))
        if kind == "datetime":
            return float(epoch_ms(lit.value))
        if kind == "date":
            return float(epoch_days(lit.value))
        if kind in TEXT_TYPES:
            text = lit.value
            if kind in ("id", "reference") and len(text) == 15:
                text = text + id_suffix(text)
            return text.lower()
        return lit.value

    def filterable(ref: FieldRef) -> FieldSpec:
        spec = resolve(ref)
        if not spec.filterable or spec.type == "anyType":
            raise SoqlError(
                "INVALID_FIELD",
                _located(
                    query.text, ref.pos, f"field '{spec.name}' can not be filtered in query call"
                ),
            )
        return spec

    def walk(expr: Expr) -> _BExpr:
        if isinstance(expr, Compare):
            spec = filterable(expr.field)
            value = typed(spec, expr.field, expr.value)
            if spec.type == "boolean" and expr.op not in ("=", "!="):
                raise SoqlError(
                    "INVALID_FIELD",
                    _located(
                        query.text,
                        expr.value.pos,
                        f"invalid operator on boolean field: {expr.op}",
                    ),
                )
            return _BCompare(spec, expr.op, value)
        if isinstance(expr, InList):
            spec = filterable(expr.field)
            return _BIn(spec, tuple(typed(spec, expr.field, v) for v in expr.values), expr.negate)
        if isinstance(expr, Like):
            spec = filterable(expr.field)
            if spec.type not in TEXT_TYPES:
                raise SoqlError(
                    "INVALID_FIELD",
                    _located(
                        query.text,
                        expr.field.pos,
                        f"Invalid operator on field type {spec.type}: LIKE on '{spec.name}'",
                    ),
                )
            return _BLike(spec, _like_regex(expr.pattern.raw))
        if isinstance(expr, Not):
            return _BNot(walk(expr.item))
        return _BBool(expr.op, tuple(walk(item) for item in expr.items))

    where = walk(query.where) if query.where is not None else None
    order: list[tuple[FieldSpec, bool, bool]] = []
    for item in query.order:
        spec = resolve(item.field)
        if not spec.sortable or spec.type == "anyType":
            raise SoqlError(
                "INVALID_FIELD",
                _located(
                    query.text,
                    item.field.pos,
                    f"field '{spec.name}' can not be sorted in a query call",
                ),
            )
        order.append((spec, item.descending, item.nulls_last))
    aggregates = tuple(resolve(ref) for ref in query.aggregates)
    return BoundQuery(
        query,
        table,
        tuple(fields),
        query.count,
        where,
        tuple(order),
        query.limit,
        query.offset,
        aggregates,
    )


def _like_regex(raw: str) -> re.Pattern[str]:
    """SOQL LIKE: ``%`` any run, ``_`` one character, ``\\%``/``\\_`` literal, no case."""
    out: list[str] = []
    for ch, escaped in _scan_escapes(raw):
        if escaped:
            out.append(re.escape(ch))
        elif ch == "%":
            out.append(".*")
        elif ch == "_":
            out.append(".")
        else:
            out.append(re.escape(ch))
    return re.compile("".join(out), re.IGNORECASE | re.DOTALL)


# --------------------------------------------------------------------------- ids


_SUFFIX_CHARS: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


_CASE_BITS: Final = str.maketrans(
    {chr(c): "1" if 65 <= c <= 90 else "0" for c in range(48, 123) if chr(c).isalnum()}
)


def id_suffix(id15: str) -> str:
    """The 3-character case-safe suffix that turns a 15-character Id into 18: per chunk of
    five characters, a bit per upper-case letter (first character = lowest bit)."""
    bits = id15.translate(_CASE_BITS)
    return (
        _SUFFIX_CHARS[int(bits[4::-1], 2)]
        + _SUFFIX_CHARS[int(bits[9:4:-1], 2)]
        + _SUFFIX_CHARS[int(bits[14:9:-1], 2)]
    )


# --------------------------------------------------------------------------- evaluation


#: The WHERE operators that compare a field with one value (the parser reads ``<>`` as ``!=``).
_COMPARISONS: Final[dict[str, Callable[[Any, Any], Any]]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _compare_numeric(column: np.ndarray, op: str, value: float | None) -> np.ndarray:
    if value is None:
        nulls = np.isnan(column)
        if op == "=":
            return nulls
        if op == "!=":
            return ~nulls
        return np.zeros(len(column), dtype=bool)
    with np.errstate(invalid="ignore"):
        return _COMPARISONS[op](column, value)  # NaN != v: nulls match, as in SOQL


def _codes_where(column: _TextColumn, keep: Iterable[bool]) -> np.ndarray:
    allowed = np.fromiter(keep, dtype=bool, count=len(column.categories))
    lookup = np.append(allowed, False)  # code -1 → last slot → never matches
    return lookup


def _mask(expr: _BExpr, table: Table, rows: np.ndarray) -> np.ndarray:
    if isinstance(expr, _BBool):
        result = _mask(expr.items[0], table, rows)
        for item in expr.items[1:]:
            if expr.op == "AND":
                if not result.any():
                    return result
                result &= _mask(item, table, rows)
            else:
                result |= _mask(item, table, rows)
        return result
    if isinstance(expr, _BNot):
        return ~_mask(expr.item, table, rows)
    spec = expr.spec
    kind = spec.type
    if isinstance(expr, _BLike):
        column = table.text(spec.name)
        regex = expr.regex
        lookup = _codes_where(column, (regex.fullmatch(c) is not None for c in column.categories))
        return lookup[column.codes[rows]]
    if kind in NUMERIC_TYPES:
        values = table.numeric(spec.name)[rows]
        if isinstance(expr, _BIn):
            wanted = [v for v in expr.values if v is not None]
            hit = np.isin(values, np.asarray(wanted, dtype=np.float64))
            if any(v is None for v in expr.values):
                hit |= np.isnan(values)
            return ~hit if expr.negate else hit
        return _compare_numeric(values, expr.op, expr.value)
    if kind == "boolean":
        values = table.boolean(spec.name)[rows]
        if isinstance(expr, _BIn):
            hit = np.zeros(len(values), dtype=bool)
            for v in expr.values:
                if v is not None:
                    hit |= values == v
            return ~hit if expr.negate else hit
        if expr.value is None:
            return np.full(len(values), expr.op == "!=", dtype=bool)
        return values == expr.value if expr.op == "=" else values != expr.value
    column = table.text(spec.name)
    codes = column.codes[rows]
    if isinstance(expr, _BIn):
        wanted = [column.lookup[v] for v in expr.values if v is not None and v in column.lookup]
        if any(v is None for v in expr.values):
            wanted.append(-1)
        hit = np.isin(codes, np.asarray(wanted, dtype=np.int32))
        return ~hit if expr.negate else hit
    value = expr.value
    op = expr.op
    if op in ("=", "!="):
        code = -1 if value is None else column.lookup.get(value, -2)
        hit = codes == code
        return hit if op == "=" else ~hit
    if value is None:
        return np.zeros(len(codes), dtype=bool)
    compare = _COMPARISONS[op]
    lookup = _codes_where(column, (compare(c, value) for c in column.categories))
    return lookup[codes]


def _conjuncts(expr: _BExpr | None) -> list[_BExpr]:
    if expr is None:
        return []
    if isinstance(expr, _BBool) and expr.op == "AND":
        return list(expr.items)
    return [expr]


def field_bounds(bound: BoundQuery, name: str) -> tuple[float | None, bool, float | None, bool]:
    """(low, low inclusive, high, high inclusive) that every row must satisfy on ``name``,
    from the top-level AND of the WHERE clause; None where unbounded."""
    low: float | None = None
    high: float | None = None
    low_inc = high_inc = True
    for item in _conjuncts(bound.where):
        if not isinstance(item, _BCompare) or item.spec.name != name or item.value is None:
            continue
        value = float(item.value)
        op = item.op
        if op in (">", ">=", "="):
            inclusive = op != ">"
            if low is None or value > low or (value == low and not inclusive):
                low, low_inc = value, inclusive
        if op in ("<", "<=", "="):
            inclusive = op != "<"
            if high is None or value < high or (value == high and not inclusive):
                high, high_inc = value, inclusive
    return low, low_inc, high, high_inc


def time_window_ms(bound: BoundQuery) -> tuple[float | None, float | None]:
    """The narrowest [low, high] in epoch ms that the WHERE clause puts on any datetime or
    date field (dates widen to whole UTC days); None where unbounded."""
    low: float | None = None
    high: float | None = None
    for spec in bound.table.specs.values():
        if spec.type not in ("datetime", "date"):
            continue
        lo, _, hi, _ = field_bounds(bound, spec.name)
        scale = _DAY_MS if spec.type == "date" else 1
        if lo is not None:
            lo *= scale
            low = lo if low is None else max(low, lo)
        if hi is not None:
            hi = hi * scale + (scale - 1)
            high = hi if high is None else min(high, hi)
    return low, high


def execute(bound: BoundQuery, include_deleted: bool) -> np.ndarray:
    """Positions of the matching rows in result order, after OFFSET and LIMIT.

    ``include_deleted=False`` is the ``query`` resource (rows with IsDeleted = true never
    match); True is ``queryAll``.
    """
    table = bound.table
    order = bound.order
    first = order[0] if order else None
    ranged = (
        first is not None
        and not first[1]
        and not first[2]
        and (len(order) == 1 or (len(order) == 2 and order[1][0].name == "Id" and not order[1][1]))
    )
    if ranged and first is not None:
        spec = first[0]
        full_order, keys = table.ascending_order(spec.name)
        start, stop = 0, table.size
        if spec.type in NUMERIC_TYPES:
            low, low_inc, high, high_inc = field_bounds(bound, spec.name)
            if low is not None:
                start = int(np.searchsorted(keys, low, side="left" if low_inc else "right"))
            if high is not None:
                stop = int(np.searchsorted(keys, high, side="right" if high_inc else "left"))
        rows = full_order[start:stop] if start < stop else full_order[:0]
    else:
        rows = np.arange(table.size)
    mask = np.ones(len(rows), dtype=bool)
    if not include_deleted and table.has_is_deleted:
        mask &= ~table.boolean("IsDeleted")[rows]
    if bound.where is not None and mask.any():
        mask &= _mask(bound.where, table, rows)
    selected = rows[mask]
    if order and not ranged:
        selected = _sorted(table, selected, order)
    offset = bound.offset or 0
    if offset:
        selected = selected[offset:]
    if bound.limit is not None:
        selected = selected[: bound.limit]
    return selected


def _sorted(
    table: Table, rows: np.ndarray, order: Sequence[tuple[FieldSpec, bool, bool]]
) -> np.ndarray:
    keys: list[np.ndarray] = [rows]
    for spec, descending, nulls_last in reversed(order):
        key = table.sort_key(spec.name)[rows]
        nulls = np.isnan(key)
        value = np.where(nulls, 0.0, key)
        keys.append(-value if descending else value)
        keys.append(nulls if nulls_last else ~nulls)
    return rows[np.lexsort(tuple(keys))]


def render_records(
    table: Table, fields: Sequence[FieldSpec], positions: np.ndarray, version: str
) -> list[dict[str, Any]]:
    """REST API records: ``attributes`` (type, url) then the selected fields in order."""
    ids = table.ids
    columns = [(spec.name, table.render(spec.name, positions)) for spec in fields]
    prefix = f"/services/data/v{version}/sobjects/{table.name}/"
    records: list[dict[str, Any]] = []
    for i, pos in enumerate(positions.tolist()):
        record: dict[str, Any] = {"attributes": {"type": table.name, "url": prefix + ids[pos]}}
        for name, values in columns:
            record[name] = values[i]
        records.append(record)
    return records


def day_start_ms(day: date) -> int:
    """Epoch ms of 00:00 UTC on ``day`` (helps tests build windows)."""
    return epoch_ms(datetime(day.year, day.month, day.day, tzinfo=UTC))


def ms_to_datetime(ms: float) -> datetime:
    return _EPOCH + timedelta(milliseconds=ms)


def aggregate_record(bound: BoundQuery, positions: np.ndarray, version: str) -> dict[str, Any]:
    """The one ``AggregateResult`` record of a ``COUNT(field)`` query: non-null counts."""
    record: dict[str, Any] = {"attributes": {"type": "AggregateResult"}}
    for n, spec in enumerate(bound.aggregates):
        values = bound.table.render(spec.name, positions)
        record[f"expr{n}"] = sum(value is not None for value in values)
    return record
