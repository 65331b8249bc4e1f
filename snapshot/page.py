"""What a connector hands the store: one API page's rows, and how records are named.

Kept apart from :mod:`snapshot.store` (the file and its verbs): connectors build pages
without touching SQLite, and the store writes them in one transaction with the cursor.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from snapshot.schema import Row


def canonical_id(source: str, crm_id: str | int) -> str:
    """The snapshot's id for a CRM record: ``"{source}:{crm_id}"``."""
    return f"{source}:{crm_id}"


def to_raw_json(record: Any) -> str:
    """A CRM record as compact JSON for the ``raw`` column (audit evidence)."""
    return json.dumps(record, separators=(",", ":"), sort_keys=True, default=str)


@dataclass
class Page:
    """The rows one API page produced, written atomically with the stream's new cursor.

    ``history_for`` / ``links_for`` name leads / activities whose history / links this
    page states completely: their old rows are replaced, so a value the CRM no longer
    reports does not linger.
    """

    owners: list[Row] = field(default_factory=list)
    leads: list[Row] = field(default_factory=list)
    history: list[Row] = field(default_factory=list)
    history_for: list[str] = field(default_factory=list)
    history_fields: tuple[str, ...] = ()
    """With ``history_for``: the fields whose history the page states (empty: all of them).
    HubSpot contacts state their own fields; Leads-object stages join them from elsewhere."""
    fields: list[Row] = field(default_factory=list)
    """``lead_fields`` rows: a lead's current value of a property the SLA names (a row
    with value None states the property is empty)."""
    activities: list[Row] = field(default_factory=list)
    links: list[Row] = field(default_factory=list)
    links_for: list[str] = field(default_factory=list)
    deleted_leads: list[tuple[str, str]] = field(default_factory=list)
    merged_leads: list[tuple[str, str | None]] = field(default_factory=list)
    """``(lead_id, merged_at)``: leads the CRM merged into another. Live ones are marked
    deleted from ``merged_at``; one already deleted keeps its own deletion time."""
    deleted_activities: list[str] = field(default_factory=list)
    issues: list[Row] = field(default_factory=list)
    """``data_issues`` rows for records of this page; they replace the records' old ones."""
    labels: list[Row] = field(default_factory=list)
    """``value_labels`` rows: the CRM's display labels of funnel values (not records)."""

    @property
    def records(self) -> int:
        return (
            len(self.owners)
            + len(self.leads)
            + len(self.activities)
            + len(self.deleted_leads)
            + len(self.deleted_activities)
        )
