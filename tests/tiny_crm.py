"""Arrange a tiny CRM in a snapshot through the store API, the way the connectors write it.

Tests read as specifications: instants are written in the SLA's local time
(``"2026-10-02 17:58"``) and converted here, so the arithmetic in each test's comment is
the arithmetic a RevOps lead would do with a wall clock.
"""

from __future__ import annotations

import copy
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from audit.engine import open_snapshot, run_audit
from audit.period import parse_as_of
from audit.result import AuditResult
from config.sla import SLA
from snapshot.instants import format_instant
from snapshot.store import Page, SnapshotStore

BASE_SLA: dict[str, Any] = {
    "name": "Test SLA",
    "timezone": "America/Sao_Paulo",
    "business_hours": {"mon-fri": "09:00-12:00,13:00-18:00"},
    "holidays": ["2026-10-12", "2026-11-02"],
    "funnel": {
        "hubspot": {
            "mql": {"stage": ["marketingqualifiedlead"]},
            "sql": {"stage": ["salesqualifiedlead"]},
            "opportunity": {"stage": ["opportunity"]},
            "customer": {"stage": ["customer"]},
            "recycled": {"status": ["UNQUALIFIED", "BAD_TIMING"]},
        },
        "salesforce": {
            "mql": {"status": ["Marketing Qualified"]},
            "sql": {"status": ["Sales Qualified"], "converted": True},
            "recycled": {"status": ["Recycled", "Closed - Not Converted"]},
        },
    },
    "goals": {
        "revenue_per_month": 1000000,
        "marketing_share": 0.6,
        "average_deal_size": 20000,
        "mql_to_customer": 0.05,
    },
    "marketing": {
        "mqls_per_month": 3,
        "per_rep": {"min": 1, "max": 2},
        "mql_to_sql": 0.3,
        "warn_margin": 0.1,
    },
    "sales": {
        "first_touch": {"within": "5m", "target": 0.9},
        "attempts": {
            "min": 3,
            "window": "14d",
            "min_gap": "4h",
            "channels": ["call", "email", "meeting"],
            "target": 0.9,
        },
        "coverage": {"target": 0.9},
        "recycle": {
            "grace": "3d",
            "reason_field": "status",
            "reasons": ["UNQUALIFIED", "BAD_TIMING"],
            "target": 0.9,
        },
    },
}


def make_sla(**changes: Any) -> SLA:
    """The base test SLA with dotted-path changes: ``make_sla(**{"sales.attempts.min": 5})``.

    A value of ``None`` removes the key.
    """
    data = copy.deepcopy(BASE_SLA)
    for path, value in changes.items():
        node = data
        keys = path.split(".")
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        if value is None:
            node.pop(keys[-1], None)
        else:
            node[keys[-1]] = value
    return SLA.model_validate(data)


#: 2026-12-01 00:00 in São Paulo: every October deadline, window and grace has passed.
AS_OF = "2026-12-01T03:00:00Z"


def audit_snapshot(
    path: Path, sla: SLA | None = None, as_of: str | None = AS_OF, period: str = "2026-10"
) -> AuditResult:
    """Audit ``period`` of the snapshot at ``path`` as of ``as_of`` (None: the last good
    sync) under ``sla`` (default: the base test SLA)."""
    sla = sla or make_sla()
    conn = open_snapshot(path)
    try:
        return run_audit(conn, sla, period, None if as_of is None else parse_as_of(as_of, sla.tz))
    finally:
        conn.close()


def audit(
    crm: TinyCRM, sla: SLA | None = None, as_of: str | None = AS_OF, period: str = "2026-10"
) -> AuditResult:
    """Save ``crm`` and audit its snapshot (see :func:`audit_snapshot`)."""
    crm.save()
    return audit_snapshot(crm.path, sla, as_of, period)


class TinyCRM:
    """A handful of owners, leads, history events and activities for one test."""

    def __init__(self, path: Path, tz: str = "America/Sao_Paulo", source: str = "hubspot"):
        self.path = path
        self.tz = ZoneInfo(tz)
        self.source = source
        self.page = Page()
        self._activity = 0

    def at(self, local: str) -> str:
        """Local wall time ``YYYY-MM-DD HH:MM[:SS]`` → snapshot UTC text."""
        return format_instant(datetime.fromisoformat(local).replace(tzinfo=self.tz))

    def owner(
        self,
        crm_id: str,
        email: str | None = None,
        active: bool = True,
        *,
        created: str | None = None,
        updated: str | None = None,
    ) -> str:
        """An owner; ``created``/``updated`` are local times (the CRM's record instants)."""
        owner_id = f"{self.source}:{crm_id}"
        self.page.owners.append(
            {
                "id": owner_id,
                "source": self.source,
                "crm_id": crm_id,
                "email": email,
                "name": email or crm_id,
                "active": int(active),
                "created_at": self.at(created) if created else None,
                "updated_at": self.at(updated) if updated else None,
            }
        )
        return owner_id

    def lead(
        self,
        crm_id: str,
        *,
        created: str = "2026-09-01 08:00",
        owner: str | None = None,
        deleted: str | None = None,
        segment: str | None = "Software",
        lead_source: str | None = "ORGANIC_SEARCH",
    ) -> str:
        lead_id = f"{self.source}:{crm_id}"
        self.page.leads.append(
            {
                "id": lead_id,
                "source": self.source,
                "crm_id": crm_id,
                "email": f"{crm_id}@lead.example",
                "company": f"Company {crm_id}",
                "owner_id": owner,
                "segment": segment,
                "lead_source": lead_source,
                "created_at": self.at(created),
                "is_deleted": int(deleted is not None),
                "deleted_at": self.at(deleted) if deleted else None,
                "url": f"https://app.hubspot.com/contacts/1/record/0-1/{crm_id}",
            }
        )
        return lead_id

    def event(self, lead_id: str, field: str, value: str | None, local: str) -> None:
        self.page.history.append(
            {"lead_id": lead_id, "field": field, "value": value, "changed_at": self.at(local)}
        )

    def mql(self, lead_id: str, local: str) -> None:
        self.event(lead_id, "stage", "marketingqualifiedlead", local)

    def activity(
        self,
        lead_id: str,
        kind: str,
        local: str,
        *,
        direction: str | None = "outbound",
        outcome: str | None = None,
        recorded: str | None = None,
        owner: str | None = None,
        deleted: str | None = None,
    ) -> str:
        self._activity += 1
        activity_id = f"{self.source}:a{self._activity}"
        self.page.activities.append(
            {
                "id": activity_id,
                "source": self.source,
                "crm_id": f"a{self._activity}",
                "kind": kind,
                "direction": direction,
                "outcome": outcome,
                "occurred_at": self.at(local),
                "created_at": self.at(recorded or local),
                "owner_id": owner,
                "is_deleted": int(deleted is not None),
                "deleted_at": self.at(deleted) if deleted else None,
            }
        )
        self.page.links.append({"activity_id": activity_id, "lead_id": lead_id})
        return activity_id

    def save(self) -> Path:
        store = SnapshotStore(self.path)
        store.write_page(self.source, "test", self.page, cursor=None)
        store.close()
        return self.path
