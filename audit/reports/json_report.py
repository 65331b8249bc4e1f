"""The JSON report: :meth:`AuditResult.to_dict`, the contract of docs/CONTRACTS.md, as it is.

Floats are written as Python's shortest round-tripping repr, never rounded, so a figure in
the JSON is exactly the figure the audit computed and a later run can be compared to it.
Non-ASCII names stay readable (UTF-8, not ``\\u`` escapes).

Layout: the report's outer two levels are indented; each element below them (a rule, a
violation, a trend month) is one line, exactly as ``json.dumps(element,
ensure_ascii=False)`` writes it. ``json.dumps(indent=2)`` of the whole report would fall
back to the pure-Python encoder, 3× slower on a large month (110k violations); one line per
element goes through the C encoder and reads (and greps) as well.

The evidence lists (violations, pending handoffs) are the bulk of a large month, so their
lines are built column by column instead of one ``json.dumps`` of a dict per row: each
column is encoded by a single call of the C encoder, and each line is a fixed template
(the member names, pre-encoded) filled with its row's encoded values. See
:func:`encode_column` for why the result is character for character what ``json.dumps``
writes for the row.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import chain, islice, repeat
from operator import itemgetter
from typing import Any, TextIO

from audit.result import PENDING_KEYS, VIOLATION_KEYS, AuditResult, evidence_columns

#: Containers this deep (the document is 0) are expanded one element per line.
EXPANDED_LEVELS = 2

#: A text column with at most one distinct value per this many rows is encoded per value.
FEW_DISTINCT = 4

#: One value alone, as the report writes it.
_ONE = json.JSONEncoder(ensure_ascii=False)
#: A list whose items are separated by a bare newline and nothing else (see encode_column).
_BY_LINE = json.JSONEncoder(ensure_ascii=False, separators=("\n", ": "))


@dataclass(frozen=True)
class EncodedList:
    """A list member of the document whose elements are already JSON text, one per line."""

    lines: list[str]


def render_json(result: AuditResult) -> str:
    """The report as text, ending in a newline."""
    document = result.document(
        violations=EncodedList(
            _evidence_lines((r.violations, VIOLATION_KEYS) for r in result.rules)
        ),
        pending=EncodedList(
            _evidence_lines((r.pending_handoffs, PENDING_KEYS) for r in result.rules)
        ),
    )
    pieces: list[str] = []
    _write(document, 0, pieces)
    pieces.append("\n")
    return "".join(pieces)


def write_json(result: AuditResult, stream: TextIO) -> None:
    """Write the report to an open text stream."""
    stream.write(render_json(result))


def _evidence_lines(rules: Iterable[tuple[Sequence[Any], tuple[str, ...]]]) -> list[str]:
    """The evidence rows' lines, rule after rule (each rule's rows share their instants'
    names, so each rule is encoded as one table)."""
    lines: list[str] = []
    for rows, keys in rules:
        if rows:
            lines += encode_records(keys, evidence_columns(rows, keys))
    return lines


def _write(value: Any, level: int, out: list[str]) -> None:
    """Append ``value``'s text at ``level`` to ``out``, in pieces joined once at the end
    (a month's evidence is tens of megabytes: every intermediate join would copy it)."""
    if isinstance(value, EncodedList):
        _write_lines(value.lines, level, out)
    elif level >= EXPANDED_LEVELS or not isinstance(value, dict | list) or not value:
        out.append(_ONE.encode(value))
    elif isinstance(value, dict):
        members = [(_key(key) + ": ", item) for key, item in value.items()]
        _write_container("{", members, "}", level, out)
    else:
        _write_container("[", [("", item) for item in value], "]", level, out)


def _write_container(
    opening: str, members: list[tuple[str, Any]], closing: str, level: int, out: list[str]
) -> None:
    """A container at ``level``, one member (name prefix, value) per line, indented two
    spaces a level."""
    inner = "\n" + "  " * (level + 1)
    out.append(opening)
    for position, (prefix, item) in enumerate(members):
        out.append(("," if position else "") + inner + prefix)
        _write(item, level + 1, out)
    out.append("\n" + "  " * level + closing)


def _write_lines(lines: list[str], level: int, out: list[str]) -> None:
    """A list of encoded elements at ``level``, one per line."""
    if not lines:
        out.append("[]")
        return
    inner = "\n" + "  " * (level + 1)
    out += ["[", inner, lines[0]]
    out += chain.from_iterable(zip(repeat("," + inner), islice(lines, 1, None)))
    out.append("\n" + "  " * level + "]")


def _key(key: Any) -> str:
    """A member name as ``json.dumps`` writes it (a number or ``None`` key included)."""
    if isinstance(key, str):
        return _ONE.encode(key)
    return _ONE.encode({key: None})[1 : -len(": null}")]


def encode_records(keys: Sequence[Any], columns: Sequence[Sequence[Any]]) -> list[str]:
    """Rows given as columns (the values of ``keys``, in order) as ``json.dumps`` writes
    each row's dict: ``{`` + ``"key": value`` pairs joined by ``", "`` + ``}``.

    The member names and punctuation are the same on every line; each line is joined
    from them and the row's encoded values in one C-level ``str.join``. ``keys`` is not
    empty (rows without members have no columns to count them by).
    """
    if not keys:
        raise ValueError("records need at least one member")
    count = len(columns[0])
    names = [_key(key) + ": " for key in keys]
    glue = ["{" + names[0], *(", " + name for name in names[1:])]
    parts = chain.from_iterable(
        (repeat(text, count), encode_column(column))
        for text, column in zip(glue, columns, strict=True)
    )
    return list(map("".join, zip(*parts, repeat("}", count), strict=False)))


def encode_column(values: Sequence[Any]) -> list[str]:
    """Each value's JSON text, exactly as ``json.dumps(value, ensure_ascii=False)``.

    Three ways, by what the column holds:

    * flat maps that all have the same members in the same order (a rule's instants) are
      encoded as records of their own;
    * text (or None) with few distinct values (a rule id, a rep, a kind) is encoded once
      per distinct value; text and None never compare equal to a value of another type,
      so a value is never given another one's text (``1``, ``1.0`` and ``True`` would be);
    * anything else, by :func:`encode_flat`.
    """
    values = list(values)
    types = set(map(type, values))
    if types == {dict}:
        members = tuple(values[0])
        if members and all(tuple(value) == members for value in values):
            return encode_records(members, [list(map(itemgetter(k), values)) for k in members])
    elif types <= {str, type(None)}:
        distinct = list(dict.fromkeys(values))
        if len(distinct) * FEW_DISTINCT <= len(values):
            texts = dict(zip(distinct, encode_flat(distinct), strict=True))
            return list(map(texts.__getitem__, values))
    return encode_flat(values)


def encode_flat(values: list[Any]) -> list[str]:
    """Each value's JSON text, from one encoder call for the whole list.

    The list is encoded with a bare newline as the only item separator, then split at the
    newlines. The split is exact: JSON text never holds a raw newline inside a value
    (strings escape it), so every newline is a separator unless a value is itself a
    container of several items. That is the one case in which there are more pieces than
    values, and then each value is encoded alone instead. A piece without a newline was
    written with no item separator at all, so it is the value's ordinary encoding.
    """
    if not values:
        return []
    pieces = _BY_LINE.encode(values)[1:-1].split("\n")
    if len(pieces) != len(values):
        return [_ONE.encode(value) for value in values]
    return pieces
