"""The store's upsert: many rows per ``INSERT … VALUES … ON CONFLICT`` statement, with the
semantics of sqlite-utils' ``upsert_all``."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from functools import lru_cache
from itertools import chain

from snapshot.lean_sqlite_utils import sqlite_utils
from snapshot.schema import TABLES, Row

PrimaryKeyRequired = sqlite_utils.db.PrimaryKeyRequired
jsonify_if_needed = sqlite_utils.db.jsonify_if_needed

_PLAIN_TYPES = frozenset({str, int, float, bytes, type(None)})
"""Values SQLite stores as they are; anything else goes through ``jsonify_if_needed``."""

ROWS_PER_STATEMENT = 256
"""Rows one INSERT carries (fewer when their values would pass SQLite's variable limit)."""


@lru_cache(maxsize=512)
def _upsert_statement(
    table: str, keys: tuple[str, ...], row_count: int = 1
) -> tuple[str, tuple[int, ...]]:
    """``INSERT … VALUES (…), … ON CONFLICT(pk) DO UPDATE`` for ``row_count`` rows with these
    keys, and where the pk is in each row's values.

    SQLite applies a multi-row VALUES list one row after the other, exactly as it would
    the same rows in one statement each (a key given twice: the second row updates the
    first).
    """
    pk = TABLES[table]["pk"]
    pk_columns = (pk,) if isinstance(pk, str) else tuple(pk)
    missing = [column for column in pk_columns if column not in keys]
    if missing:
        raise PrimaryKeyRequired(f"{table}: rows have no value for {', '.join(missing)}")
    updates = ", ".join(
        f"[{column}] = excluded.[{column}]" for column in keys if column not in pk_columns
    )
    one_row = f"({', '.join('?' * len(keys))})"
    sql = (
        f"INSERT INTO [{table}] ({', '.join(f'[{column}]' for column in keys)}) "
        f"VALUES {', '.join([one_row] * row_count)} "
        f"ON CONFLICT({', '.join(f'[{column}]' for column in pk_columns)}) "
        + (f"DO UPDATE SET {updates}" if updates else "DO NOTHING")
    )
    return sql, tuple(keys.index(column) for column in pk_columns)


def upsert_rows(conn: sqlite3.Connection, table: str, rows: Sequence[Row]) -> None:
    """Insert ``rows``, or update the columns each row gives where its key exists.

    The semantics of sqlite-utils' ``upsert_all`` (columns a row does not give keep
    their value; dicts, lists and dates are stored as sqlite-utils stores them) at a
    fraction of its cost: prepared statements per table and set of keys, each
    carrying up to :data:`ROWS_PER_STATEMENT` rows, instead of SQL rebuilt per chunk
    and every value passed through Python. Many rows per statement matter when the
    sync maps the next page in another thread: Python's sqlite3 lets go of the
    interpreter lock for every statement it steps, and waits its turn to take it
    back, so a statement per row made the writes crawl behind the mapping.
    """
    start = 0
    while start < len(rows):
        keys = tuple(rows[start])
        end = start + 1
        while end < len(rows) and tuple(rows[end]) == keys:
            end += 1
        row_values = [tuple(row.values()) for row in rows[start:end]]
        if not _PLAIN_TYPES.issuperset(map(type, chain.from_iterable(row_values))):
            row_values = [tuple(map(jsonify_if_needed, values)) for values in row_values]
        _, pk_indexes = _upsert_statement(table, keys)
        for index in pk_indexes:
            if any(values[index] is None for values in row_values):
                raise PrimaryKeyRequired(f"{table}: a row has no value for {keys[index]}")
        _insert_rows(conn, table, keys, row_values)
        start = end


def _insert_rows(
    conn: sqlite3.Connection, table: str, keys: tuple[str, ...], row_values: list[tuple]
) -> None:
    """Run the upsert over ``row_values`` in statements of as many rows as SQLite allows."""
    limit = conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    per_statement = max(1, min(ROWS_PER_STATEMENT, limit // len(keys)))
    in_full_statements = len(row_values) - len(row_values) % per_statement
    if in_full_statements:
        sql, _ = _upsert_statement(table, keys, per_statement)
        conn.executemany(
            sql,
            (
                tuple(chain.from_iterable(row_values[first : first + per_statement]))
                for first in range(0, in_full_statements, per_statement)
            ),
        )
    if in_full_statements < len(row_values):
        sql, _ = _upsert_statement(table, keys, len(row_values) - in_full_statements)
        conn.execute(sql, tuple(chain.from_iterable(row_values[in_full_statements:])))
