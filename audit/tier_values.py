"""Does any lead hold the values a tier names? (issue 15: a tier matching nothing)

A tier whose ``when`` names values no lead has — a label for a value, a typo, a segment
the CRM does not use — judges no handoff: every lead silently keeps the base promise.
``check --db`` refuses it (exit 2) and every audit says it in the data notes, naming the
tier, its key, and the values the field does hold.

One ``select distinct`` per tier key over the ``leads`` table (set-based; the column is
one of :data:`config.sla.LEAD_FIELDS`, never a name from the file as written).
"""

from __future__ import annotations

import sqlite3

from config.sla import LEAD_FIELDS, SLA

LISTED = 6
"""Values the field holds that a note lists (the most frequent first)."""


def tier_value_notes(conn: sqlite3.Connection, sla: SLA, as_of: str | None) -> list[str]:
    """One warning per tier key none of whose values any lead (created by as-of) holds."""
    if not sla.tiers or not _has_leads(conn, as_of):
        return []
    notes = []
    for index, tier in enumerate(sla.tiers):
        for key, values in tier.when.keys().items():
            column = sla.segments.field_for(key)
            if column is None or column not in LEAD_FIELDS:
                continue
            if not _held(conn, column, sorted(values), as_of):
                notes.append(_nothing_matches(conn, index, tier.name, key, column, values, as_of))
    return notes


def _visible(as_of: str | None) -> tuple[str, list[str]]:
    if as_of is None:
        return "1", []
    return "(created_at is null or created_at <= ?)", [as_of]


def _has_leads(conn: sqlite3.Connection, as_of: str | None) -> bool:
    where, args = _visible(as_of)
    return conn.execute(f"select 1 from leads where {where} limit 1", args).fetchone() is not None


def _held(conn: sqlite3.Connection, column: str, values: list[str], as_of: str | None) -> bool:
    where, args = _visible(as_of)
    marks = ", ".join("?" * len(values))
    row = conn.execute(
        f"select 1 from leads where {column} in ({marks}) and {where} limit 1", [*values, *args]
    ).fetchone()
    return row is not None


def _nothing_matches(
    conn: sqlite3.Connection,
    index: int,
    name: str,
    key: str,
    column: str,
    values: set[str],
    as_of: str | None,
) -> str:
    where, args = _visible(as_of)
    held = [
        value
        for (value,) in conn.execute(
            f"select {column} from leads where {column} is not null and {where} "
            f"group by {column} order by count(*) desc, {column} limit {LISTED}",
            args,
        )
    ]
    named = ", ".join(repr(value) for value in sorted(values))
    text = (
        f'tiers[{index}].when.{key}: no lead holds {named} in {column}, so tier "{name}" '
        "judges no handoff"
    )
    if held:
        return f"{text}; the values there include {', '.join(repr(v) for v in held)}"
    return f"{text}; no lead has a value there"
