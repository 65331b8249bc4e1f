"""The snapshot's schema as data: tables, indexes, the schema version, and the checks and
additions that bring a file written by an older sla-audit up to this one.

A file is only ever extended (tables, columns and indexes added, obsolete indexes
dropped), never changed otherwise, so an older snapshot keeps every row it holds.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from snapshot.derived import build_missing_derived, missing_derived
from snapshot.errors import SnapshotError
from snapshot.lead_names import backfill_lead_names
from snapshot.lean_sqlite_utils import sqlite_utils

SCHEMA_VERSION = 2
"""1: the DESIGN tables; 2: adds the derived ``lead_touches`` table and its triggers."""

Row = Mapping[str, Any]
"""One row of a snapshot table, by column name."""

TABLES: dict[str, dict[str, Any]] = {
    "owners": {
        "columns": {
            "id": str,
            "source": str,
            "crm_id": str,
            "email": str,
            "name": str,
            "team": str,
            "active": int,
            "created_at": str,
            "updated_at": str,
            "raw": str,
        },
        "pk": "id",
    },
    "leads": {
        "columns": {
            "id": str,
            "source": str,
            "crm_id": str,
            "email": str,
            "company": str,
            "owner_id": str,
            "segment": str,
            "lead_source": str,
            "created_at": str,
            "stage": str,
            "status": str,
            "is_deleted": int,
            "deleted_at": str,
            "updated_at": str,
            "url": str,
            "raw": str,
            # The person's name (issue 15, item 7): reports name a lead by it.
            "name": str,
        },
        "pk": "id",
    },
    "lead_history": {
        "columns": {
            "lead_id": str,
            "field": str,
            "value": str,
            "changed_at": str,
            "source_type": str,
        },
        "pk": ("lead_id", "field", "changed_at"),
    },
    # Current values of the CRM properties an SLA names beyond the fixed columns (issue
    # 15, item 4): a custom segment, tier or reason property, one row per lead and field.
    "lead_fields": {
        "columns": {"lead_id": str, "field": str, "value": str},
        "pk": ("lead_id", "field"),
    },
    "activities": {
        "columns": {
            "id": str,
            "source": str,
            "crm_id": str,
            "kind": str,
            "direction": str,
            "outcome": str,
            "outcome_label": str,
            "status": str,
            "subject": str,
            "occurred_at": str,
            "created_at": str,
            "updated_at": str,
            "owner_id": str,
            "duration_s": float,
            "is_deleted": int,
            "deleted_at": str,
            "raw": str,
        },
        "pk": "id",
    },
    "activity_leads": {
        "columns": {"activity_id": str, "lead_id": str},
        "pk": ("activity_id", "lead_id"),
    },
    # The CRM's display label of each value of a funnel field (issue 15, item 7): reports
    # show "Marketing Qualified Lead (marketingqualifiedlead)". ``field`` is the snapshot's
    # (stage, status), ``property`` the CRM's name for it; ``read_at`` when it was read.
    "value_labels": {
        "columns": {
            "source": str,
            "field": str,
            "value": str,
            "label": str,
            "property": str,
            "read_at": str,
        },
        "pk": ("source", "field", "value"),
    },
    "sync_state": {
        "columns": {"source": str, "stream": str, "cursor": str, "updated_at": str},
        "pk": ("source", "stream"),
    },
    "sync_runs": {
        "columns": {
            "id": int,
            "source": str,
            "started_at": str,
            "finished_at": str,
            "status": str,
            "records": int,
            "requests": int,
            "retries": int,
            "error": str,
        },
        "pk": "id",
    },
    "data_issues": {
        "columns": {
            "record_table": str,
            "record_id": str,
            "source": str,
            "field": str,
            "issue": str,
            "value": str,
        },
        "pk": ("record_table", "record_id", "field", "issue"),
    },
    "meta": {"columns": {"key": str, "value": str}, "pk": "key"},
    # ``watch``'s outbox (issue 17): one row per alert and channel, written before the
    # delivery is tried and updated after, so an alert is sent at most once and a failed
    # one is retried (snapshot/alerts_log.py).
    "alerts_sent": {
        "columns": {
            "kind": str,
            "rule": str,
            "subject": str,
            "channel": str,
            "team": str,
            "rep": str,
            "queued_at": str,
            "expires_at": str,
            "status": str,
            "sent_at": str,
            "delivered": int,
            "attempts": int,
            "error": str,
            "title": str,
            "text": str,
            "html": str,
        },
        "pk": ("kind", "rule", "subject", "channel"),
    },
    # One row per ``watch`` run that finished: its as-of starts the next run's window.
    "watch_runs": {
        "columns": {
            "id": int,
            "started_at": str,
            "as_of": str,
            "finished_at": str,
            "breaches": int,
            "at_risk": int,
            "delivered": int,
            "failed": int,
        },
        "pk": "id",
    },
}

DATA_TABLES = (
    "owners",
    "leads",
    "lead_history",
    "lead_fields",
    "activities",
    "activity_leads",
)
"""Tables holding CRM data (as opposed to sync bookkeeping)."""

INDEXES: dict[str, list[list[str]]] = {
    "alerts_sent": [["status"]],
    "leads": [["source", "crm_id"], ["owner_id"], ["created_at"]],
    # Both cover what the audit reads of a history row (no lookup of the row itself):
    # the month's stage entries by (field, changed_at), a cohort's history by lead.
    "lead_history": [
        ["field", "changed_at", "lead_id", "value"],
        ["lead_id", "field", "changed_at", "value"],
    ],
    "lead_fields": [["field", "lead_id", "value"]],
    "activities": [["source", "crm_id"], ["updated_at"], ["owner_id"]],
    "sync_runs": [["source", "started_at"]],
    "data_issues": [["issue"]],
}

OBSOLETE_INDEXES = (
    # Read by nothing since the audit reads windows from lead_touches: kept, they would
    # only cost every activity and link written.
    "idx_activities_occurred_at",
    "idx_activity_leads_lead_id_activity_id",
    "idx_lead_history_field_changed_at",
    "idx_lead_history_lead_id_changed_at",
    "idx_leads_id_source_created_at_is_deleted_deleted_at_crm_id_email_company_owner_id_segment_"
    "lead_source_url",
)
"""Indexes of earlier versions that a wider one now covers: dropped on upgrade."""


def index_name(table: str, columns: Sequence[str]) -> str:
    """The name sqlite-utils gives an index of ``columns`` on ``table``."""
    return f"idx_{table}_{'_'.join(columns)}"


#: Indexes the audit names in its queries (``INDEXED BY``, or a partial index's WHERE):
#: created by their SQL, by name. The WHERE clauses must stay word for word those of the
#: data notes' queries (SQLite uses a partial index only when the query's WHERE contains
#: the index's).
NAMED_INDEXES: dict[str, str] = {
    # What the audit reads of a lead (all but raw and the current stage), answered from
    # the index instead of the lead's wide row (``raw`` is about a kilobyte).
    "idx_leads_audit": (
        "create index if not exists idx_leads_audit on leads(id, source, created_at, "
        "is_deleted, deleted_at, crm_id, email, company, owner_id, segment, lead_source, url)"
    ),
    # Live leads sharing an email address: the normalised email, without blank ones.
    "idx_leads_email_key": (
        "create index if not exists idx_leads_email_key on leads(lower(trim(email))) "
        "where email is not null and trim(email) != ''"
    ),
    # Contacts that absorbed others in a HubSpot merge: a handful of rows among millions.
    "idx_leads_merged": (
        "create index if not exists idx_leads_merged on leads(id) where raw is not null "
        "and json_valid(raw) and coalesce(json_extract(raw, "
        "'$.properties.hs_merged_object_ids'), '') != ''"
    ),
}


def create_named_indexes(conn: sqlite3.Connection) -> None:
    """Create the :data:`NAMED_INDEXES` a file lacks (tables must exist)."""
    for sql in NAMED_INDEXES.values():
        conn.execute(sql)


#: ``data_issues.issue`` values: a record kept as the CRM sent it, with a caveat.
NAIVE_INSTANT = "naive_instant"
"""An instant without a time zone, read as UTC (both CRMs store instants in UTC)."""
FUTURE_INSTANT = "future_instant"
"""An instant later than the sync that read it: a clock or import error in the CRM."""


def check_version(path: Path, conn: sqlite3.Connection, table_names: set[str]) -> int:
    """The file's schema version; a newer one than this code knows is refused."""
    if "meta" not in table_names:
        return 0
    row = conn.execute("select value from meta where key = 'schema_version'").fetchone()
    try:
        version = int(row[0]) if row else 0
    except (TypeError, ValueError):
        raise SnapshotError(
            f"snapshot {path} has an unreadable schema version ({row[0]!r}): check --db"
        ) from None
    if version > SCHEMA_VERSION:
        raise SnapshotError(
            f"snapshot {path} has schema version {version}, newer than this sla-audit "
            f"understands ({SCHEMA_VERSION}): upgrade sla-audit"
        )
    return version


def table_names_of(conn: sqlite3.Connection) -> set[str]:
    """The names of the file's tables."""
    return {row[0] for row in conn.execute("select name from sqlite_master where type = 'table'")}


def missing_schema(conn: sqlite3.Connection, table_names: set[str] | None = None) -> list[str]:
    """Tables (``"data_issues"``) and columns (``"leads.deleted_at"``) the file lacks."""
    if table_names is None:
        table_names = table_names_of(conn)
    missing: list[str] = []
    for table, spec in TABLES.items():
        if table not in table_names:
            missing.append(table)
            continue
        existing = {row[1] for row in conn.execute(f"pragma table_info([{table}])")}
        missing += [f"{table}.{column}" for column in spec["columns"] if column not in existing]
    version_row = (
        conn.execute("select value from meta where key = 'schema_version'").fetchone()
        if "meta" in table_names
        else None
    )
    if version_row is None or str(version_row[0]) != str(SCHEMA_VERSION):
        missing.append("meta.schema_version")
    index_names = {
        row[0] for row in conn.execute("select name from sqlite_master where type = 'index'")
    }
    wanted = [index_name(table, columns) for table, specs in INDEXES.items() for columns in specs]
    missing += [name for name in (*wanted, *NAMED_INDEXES) if name not in index_names]
    missing += [f"drop {name}" for name in OBSOLETE_INDEXES if name in index_names]
    return missing + missing_derived(conn)


def add_missing_schema(db: sqlite_utils.Database) -> None:
    """Add what an older version lacked (or everything, to a new file), in the caller's
    transaction: tables, columns, indexes, derived tables, the schema version."""
    for table, spec in TABLES.items():
        db[table].create(spec["columns"], pk=spec["pk"], if_not_exists=True)
        # Columns added by later versions appear in older files without a re-sync.
        existing = {column.name for column in db[table].columns}
        for column, kind in spec["columns"].items():
            if column not in existing:
                db[table].add_column(column, kind)
                if (table, column) == ("leads", "name"):
                    backfill_lead_names(db.conn)
    for table, indexes in INDEXES.items():
        for columns in indexes:
            db[table].create_index(columns, if_not_exists=True)
    create_named_indexes(db.conn)
    for name in OBSOLETE_INDEXES:
        db.conn.execute(f"drop index if exists {name}")
    build_missing_derived(db.conn)
    version_row = {"key": "schema_version", "value": str(SCHEMA_VERSION)}
    db["meta"].upsert(version_row, pk="key")
