"""Names for leads stored before ``leads.name`` existed, from the record the CRM sent.

Both connectors have always read the person's name (HubSpot ``firstname``/``lastname``,
Salesforce ``FirstName``/``LastName``) and kept it in ``raw``; only the column is new. A
file upgraded to it gets each stored lead's name from there at once, so reports name leads
without waiting for a sync to touch them again. The expression is the mappings' rule —
first and last name joined by a space, empty parts left out, no name when both are empty.
"""

from __future__ import annotations

import sqlite3

_PARTS = {
    "hubspot": ("$.properties.firstname", "$.properties.lastname"),
    "salesforce": ("$.FirstName", "$.LastName"),
}


def _name_sql(first: str, last: str) -> str:
    """SQL for ``first last`` from ``raw``, trimmed; NULL when both parts are empty."""
    part = "trim(coalesce(json_extract(raw, '{}'), ''))"
    return f"nullif(trim({part.format(first)} || ' ' || {part.format(last)}), '')"


def backfill_lead_names(conn: sqlite3.Connection) -> None:
    """Fill ``leads.name`` from ``raw`` where it is empty (one statement per source)."""
    for source, (first, last) in _PARTS.items():
        conn.execute(
            f"update leads set name = {_name_sql(first, last)} where source = ? and name is "
            "null and raw is not null and json_valid(raw)",
            [source],
        )


def person_name(first: object, last: object) -> str | None:
    """The mappings' rule, as :func:`backfill_lead_names` applies it to ``raw``."""
    parts = [str(part).strip() for part in (first, last) if part is not None]
    return " ".join(part for part in parts if part) or None
