"""Caveats about records that are kept as the CRM sent them: ``data_issues`` rows.

A sync never refuses a record for a doubtful value (a crash at 03:00 loses the whole
night), and never silently "fixes" one either: it stores the record and notes the doubt,
and the audit repeats the note in the report's data notes.

Connectors note what only they can see while parsing (an instant without a time zone,
read as UTC). The engine adds what holds for every source, here: an instant later than
the sync that read it cannot be true, whatever the CRM says.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from snapshot.instants import format_instant
from snapshot.schema import FUTURE_INSTANT, NAIVE_INSTANT, Row
from snapshot.store import Page

FUTURE_TOLERANCE = timedelta(minutes=15)
"""Clock skew between the CRM's servers and this machine that is not worth a note."""

SCHEDULED_KINDS = frozenset({"meeting", "task"})
"""Activities whose time is legitimately in the future: a meeting booked, a task due."""

LEAD_INSTANTS = ("created_at", "updated_at")
ACTIVITY_INSTANTS = ("created_at", "updated_at", "occurred_at")


def issue(
    table: str, record_id: str, source: str, field: str, kind: str, value: object
) -> dict[str, str]:
    """One ``data_issues`` row (``value`` is cut to 80 characters: it is evidence, not data)."""
    return {
        "record_table": table,
        "record_id": record_id,
        "source": source,
        "field": field,
        "issue": kind,
        "value": str(value)[:80],
    }


def naive_instant(table: str, record_id: str, source: str, field: str, value: object) -> Row:
    return issue(table, record_id, source, field, NAIVE_INSTANT, value)


def future_issues(page: Page, now: datetime) -> list[Row]:
    """Rows for instants of ``page`` later than ``now`` (plus the tolerance).

    Snapshot instants share one fixed-width UTC format, so text comparison is time
    comparison. History entries are noted against their lead.
    """
    horizon = format_instant(now + FUTURE_TOLERANCE)
    found: list[Row] = []

    def check(table: str, row: Row, fields: Iterable[str]) -> None:
        for name in fields:
            value = row.get(name)
            if isinstance(value, str) and value > horizon:
                source = str(row.get("source"))
                found.append(issue(table, str(row["id"]), source, name, FUTURE_INSTANT, value))

    for lead in page.leads:
        check("leads", lead, LEAD_INSTANTS)
    sources = {str(lead["id"]): str(lead.get("source")) for lead in page.leads}
    for entry in page.history:
        changed = entry.get("changed_at")
        if isinstance(changed, str) and changed > horizon:
            lead_id = str(entry["lead_id"])
            found.append(
                issue(
                    "leads",
                    lead_id,
                    sources.get(lead_id, lead_id.split(":", 1)[0]),
                    f"history.{entry.get('field')}",
                    FUTURE_INSTANT,
                    changed,
                )
            )
    for activity in page.activities:
        fields = ACTIVITY_INSTANTS
        if activity.get("kind") in SCHEDULED_KINDS:
            fields = ("created_at", "updated_at")
        check("activities", activity, fields)
    return _unique(found)


def _unique(rows: list[Row]) -> list[Row]:
    """One row per key (record, field, issue): the table's primary key."""
    seen: dict[tuple[str, ...], Row] = {}
    for row in rows:
        key = (row["record_table"], row["record_id"], row["field"], row["issue"])
        seen.setdefault(key, row)
    return list(seen.values())
