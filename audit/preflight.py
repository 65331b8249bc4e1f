"""What the CRM may be hiding, said in the data notes (issue 14: never silently wrong).

Three habits of real portals make rules wrong without any record looking odd:

* **E-mail not logged.** Activity capture that leaves e-mail out (no e-mail activity at
  all in the handoffs' windows while calls are there) makes attempts and coverage count
  calls only.
* **Field history not tracked.** Salesforce keeps a lead's Status and Owner history only
  when field history tracking is on for them; without it the snapshot knows each lead's
  value at creation and its current one, nothing between: handoffs, recycling and the
  responsible rep are then read from those alone.
* **History missing.** A HubSpot snapshot whose contacts carry no lifecycle-stage change
  after creation was synced without property history.
* **Dangling links.** Activities linked to contacts the CRM never served (merged away,
  purged, or hidden from the integration user): kept, but they count for no lead.

Each check looks only at the period's cohort (the leads with a handoff), so it costs a
range read per cohort lead, and it speaks only when the cohort is large enough for the
absence to mean something.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence

MIN_LEADS = 20
"""Fewer cohort leads of a source than this, and an absence proves nothing: no note."""

HISTORY_FIELDS: Mapping[str, Sequence[tuple[str, str]]] = {
    "salesforce": (("status", "Status"), ("owner", "Owner")),
    "hubspot": (("stage", "lifecycle stage"),),
}
"""Per source, the history fields whose absence after creation is worth a note."""


def email_note(kinds_seen: Mapping[str, int], channels: Sequence[str]) -> list[str]:
    """A note when e-mail counts as an attempt but no handoff window holds any e-mail."""
    calls = int(kinds_seen.get("call", 0))
    if "email" not in channels or kinds_seen.get("email") or calls < MIN_LEADS:
        return []
    return [
        f"no e-mail activity in any handoff's window while {calls} calls are there: if the "
        "CRM does not log e-mails (activity capture off), attempts and coverage count calls "
        "only"
    ]


def unserved_note(conn: sqlite3.Connection) -> list[str]:
    """A note when activities link to leads the CRM never served (``unserved_leads``).

    Owners the snapshot does not know are said by :mod:`audit.data_quality`.
    """
    leads, links = conn.execute(
        "select count(*), coalesce(sum(links), 0) from unserved_leads"
    ).fetchone()
    if not leads:
        return []
    return [
        f"{links} activity link{'' if links == 1 else 's'} point to {leads} "
        f"contact{'' if leads == 1 else 's'} or lead{'' if leads == 1 else 's'} the CRM never "
        "served (merged away, purged, or hidden from the integration user): those activities "
        "count for no lead; a 'sync --full' reads them again"
    ]


def history_notes(conn: sqlite3.Connection, as_of: str) -> list[str]:
    """A note per source and field whose cohort leads never changed it after creation.

    Reads the audit's cohort table (``temp.cohort_leads``), on the audit's own connection.
    Each check stops at the first lead that did change it, so a healthy snapshot pays one
    or two index lookups per field; only the case worth a note reads the whole cohort.
    """
    notes = []
    for source, fields in HISTORY_FIELDS.items():
        (leads,) = conn.execute(
            "select count(*) from temp.cohort_leads where source = ?", [source]
        ).fetchone()
        if leads < MIN_LEADS:
            continue
        for field, label in fields:
            changed = conn.execute(
                "select 1 from temp.cohort_leads l where l.source = ? and exists (select 1 "
                "from lead_history h where h.lead_id = l.lead_id and h.field = ? and "
                "h.changed_at > l.created_at and h.changed_at <= ?) limit 1",
                [source, field, as_of],
            ).fetchone()
            if changed is None:
                notes.append(_history_words(source, label, leads))
    return notes


def _history_words(source: str, label: str, leads: int) -> str:
    if source == "salesforce":
        return (
            f"no Salesforce lead of the {leads} handed off had its {label} changed after "
            f"creation: field history tracking for Lead {label} is probably off (Setup → "
            "Object Manager → Lead → Set History Tracking), so only values at creation and "
            "now are known"
        )
    return (
        f"no {source} lead of the {leads} handed off had its {label} changed after "
        "creation: the snapshot may lack property history; run 'sync --full'"
    )
