"""The CRM properties an SLA names, as the snapshot holds them (issue 15, item 4): which
ones each source has filled for every lead, and a lead's current value of one.

The stable interface the audit reads:

* ``lead_fields(lead_id, field, value)`` — the current value of each property the SLA
  names beyond the fixed columns (a custom segment, tier or reason), one row per lead;
* ``lead_history`` rows whose ``field`` is the property's name — where a rule reads a
  value *at an instant* (the recycle reason), exactly as it reads ``status``;
* the ``fields`` stream's cursor in ``sync_state``, listing what every lead of a source
  has (``name``, or ``name:history``): a property not listed there was never filled, and
  reading it would give a silent zero.
"""

from __future__ import annotations

import json
import sqlite3

FIELDS_STREAM = "fields"
HISTORY_MARK = ":history"

COLUMNS = {
    "segment": "segment",
    "lead_source": "lead_source",
    "source": "source",
    "stage": "stage",
    "status": "status",
    "owner": "owner_id",
    "company": "company",
    "email": "email",
}
"""The snapshot's own lead columns a field name may mean; any other name is a property."""


def filled_fields(conn: sqlite3.Connection, source: str) -> frozenset[str]:
    """What every lead of ``source`` has: ``name`` or ``name:history`` tokens."""
    row = conn.execute(
        "select cursor from sync_state where source = ? and stream = ?", [source, FIELDS_STREAM]
    ).fetchone()
    if row is None or not row[0]:
        return frozenset()
    try:
        tokens = json.loads(row[0]).get("fields") or []
    except (ValueError, AttributeError):
        return frozenset()
    return frozenset(str(t) for t in tokens)


def is_filled(conn: sqlite3.Connection, source: str, name: str, *, history: bool) -> bool:
    """Whether every lead of ``source`` has property ``name`` (with its history if asked)."""
    tokens = filled_fields(conn, source)
    return name + HISTORY_MARK in tokens or (not history and name in tokens)


def field_values_sql(field: str) -> tuple[str, list[str]]:
    """``select lead_id, value`` for every lead: one of the snapshot's own columns, or a
    property the SLA names (leads without a row hold no value). Set-based: join it."""
    column = COLUMNS.get(field)
    if column is not None:
        return f"select id as lead_id, {column} as value from leads", []
    return "select lead_id, value from lead_fields where field = ?", [field]


def field_values(conn: sqlite3.Connection, field: str) -> dict[str, str | None]:
    """Each lead's current value of ``field`` (see :func:`field_values_sql`)."""
    sql, params = field_values_sql(field)
    return {str(lead): value for lead, value in conn.execute(sql, params)}
