"""The snapshot: one SQLite file holding what the CRMs said, written with sqlite-utils.

Connectors write through :class:`SnapshotStore`; the audit reads the tables with SQL.
Raw CRM values are kept as they are (stage and status names, call dispositions); mapping
them to canonical funnel stages is the audit's job, so a changed SLA never needs a re-sync.

The one rule that keeps a killed sync from losing data: :meth:`SnapshotStore.write_page`
writes a page's rows *and* moves the stream's cursor in one transaction. A cursor can
therefore never point past rows that are not on disk.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from connectors.instants import format_instant

SCHEMA_VERSION = 1

Row = Mapping[str, Any]

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
            "raw": str,
        },
        "pk": "id",
    },
    "activity_leads": {
        "columns": {"activity_id": str, "lead_id": str},
        "pk": ("activity_id", "lead_id"),
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
    "meta": {"columns": {"key": str, "value": str}, "pk": "key"},
}

INDEXES: dict[str, list[list[str]]] = {
    "leads": [["source", "crm_id"], ["owner_id"], ["created_at"]],
    "lead_history": [["field", "changed_at"], ["lead_id", "changed_at"]],
    "activities": [["occurred_at"], ["source", "crm_id"], ["updated_at"]],
    "activity_leads": [["lead_id", "activity_id"]],
    "sync_runs": [["source", "started_at"]],
}


class SnapshotError(Exception):
    """The snapshot file is missing, unreadable or of an unknown schema."""


def _unreadable(path: Path, exc: Exception) -> str:
    return f"snapshot {path} is not a readable SQLite file ({exc}): check --db"


def canonical_id(source: str, crm_id: str | int) -> str:
    """The snapshot's id for a CRM record: ``"{source}:{crm_id}"``."""
    return f"{source}:{crm_id}"


def utc_now() -> str:
    return format_instant(datetime.now(UTC))


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
    activities: list[Row] = field(default_factory=list)
    links: list[Row] = field(default_factory=list)
    links_for: list[str] = field(default_factory=list)
    deleted_leads: list[tuple[str, str]] = field(default_factory=list)
    deleted_activities: list[str] = field(default_factory=list)

    @property
    def records(self) -> int:
        return (
            len(self.owners)
            + len(self.leads)
            + len(self.activities)
            + len(self.deleted_leads)
            + len(self.deleted_activities)
        )


class SnapshotStore:
    """The snapshot file and the verbs connectors and the audit use on it."""

    def __init__(self, path: str | os.PathLike[str], *, create: bool = True) -> None:
        self.path = Path(path)
        if not create and not self.path.exists():
            raise SnapshotError(
                f"snapshot {self.path} does not exist: run 'run_audit.py sync' first "
                "or pass --db with the right file"
            )
        if create and not self.path.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Owner-only from the first byte: the snapshot holds customer data.
            fd = os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600)
            os.close(fd)
        try:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.DatabaseError as exc:
            raise SnapshotError(_unreadable(self.path, exc)) from exc
        self.db = sqlite_utils.Database(conn)
        self._check_or_create_schema(create)

    # -- schema ---------------------------------------------------------------------

    def _check_or_create_schema(self, create: bool) -> None:
        try:
            names = set(self.db.table_names())
        except sqlite3.DatabaseError as exc:
            raise SnapshotError(_unreadable(self.path, exc)) from exc
        if "meta" in names:
            row = self.db.execute("select value from meta where key = 'schema_version'").fetchone()
            version = int(row[0]) if row else 0
            if version > SCHEMA_VERSION:
                raise SnapshotError(
                    f"snapshot {self.path} has schema version {version}, newer than this "
                    f"sla-audit understands ({SCHEMA_VERSION}): upgrade sla-audit"
                )
        elif names and not create:
            raise SnapshotError(f"snapshot {self.path} is not an sla-audit snapshot")
        elif not names and not create:
            raise SnapshotError(f"snapshot {self.path} is empty: run 'run_audit.py sync' first")
        with self.transaction():
            for name, spec in TABLES.items():
                self.db[name].create(spec["columns"], pk=spec["pk"], if_not_exists=True)
                # Columns added by later versions appear in older files without a re-sync.
                existing = {c.name for c in self.db[name].columns}
                for column, kind in spec["columns"].items():
                    if column not in existing:
                        self.db[name].add_column(column, kind)
            for name, indexes in INDEXES.items():
                for columns in indexes:
                    self.db[name].create_index(columns, if_not_exists=True)
            version_row = {"key": "schema_version", "value": str(SCHEMA_VERSION)}
            self.db["meta"].upsert(version_row, pk="key")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes inside commit together or not at all."""
        conn = self.db.conn
        if conn.in_transaction:
            yield
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def close(self) -> None:
        self.db.conn.close()

    # -- writes -----------------------------------------------------------------------

    def _upsert(self, table: str, rows: Sequence[Row]) -> None:
        if rows:
            self.db[table].upsert_all(rows, pk=TABLES[table]["pk"], batch_size=1000)

    def upsert_owners(self, rows: Sequence[Row]) -> None:
        self._upsert("owners", rows)

    def upsert_leads(self, rows: Sequence[Row]) -> None:
        self._upsert("leads", rows)

    def upsert_history(self, rows: Sequence[Row]) -> None:
        self._upsert("lead_history", rows)

    def replace_history(self, lead_ids: Iterable[str], rows: Sequence[Row]) -> None:
        """Replace the whole history of these leads with ``rows``."""
        self._delete_where_in("lead_history", "lead_id", lead_ids)
        self.upsert_history(rows)

    def upsert_activities(self, rows: Sequence[Row]) -> None:
        self._upsert("activities", rows)

    def upsert_links(self, rows: Sequence[Row]) -> None:
        self._upsert("activity_leads", rows)

    def replace_links(self, activity_ids: Iterable[str], rows: Sequence[Row]) -> None:
        """Replace every lead link of these activities with ``rows``."""
        self._delete_where_in("activity_leads", "activity_id", activity_ids)
        self.upsert_links(rows)

    def mark_leads_deleted(self, deleted: Iterable[tuple[str, str]]) -> None:
        """Mark leads deleted (``(lead_id, deleted_at)``); rows are kept as evidence."""
        self.db.conn.executemany(
            "update leads set is_deleted = 1, deleted_at = ? where id = ?",
            [(deleted_at, lead_id) for lead_id, deleted_at in deleted],
        )

    def mark_activities_deleted(self, activity_ids: Iterable[str]) -> None:
        self.db.conn.executemany(
            "update activities set is_deleted = 1 where id = ?", [(i,) for i in activity_ids]
        )

    def _delete_where_in(self, table: str, column: str, values: Iterable[str]) -> None:
        ids = list(values)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            self.db.execute(f"delete from [{table}] where [{column}] in ({marks})", chunk)

    def write_page(self, source: str, stream: str, page: Page, cursor: str | None) -> int:
        """Write one page's rows and advance the stream's cursor, atomically.

        This is the only way connectors move a cursor, so the cursor can never run
        ahead of committed rows. Returns the number of records written.
        """
        with self.transaction():
            self.upsert_owners(page.owners)
            self.upsert_leads(page.leads)
            if page.history_for:
                self.replace_history(page.history_for, page.history)
            else:
                self.upsert_history(page.history)
            self.upsert_activities(page.activities)
            if page.links_for:
                self.replace_links(page.links_for, page.links)
            else:
                self.upsert_links(page.links)
            self.mark_leads_deleted(page.deleted_leads)
            self.mark_activities_deleted(page.deleted_activities)
            if cursor is not None:
                self.set_cursor(source, stream, cursor)
        return page.records

    # -- sync state ----------------------------------------------------------------------

    def cursor(self, source: str, stream: str) -> str | None:
        row = self.db.execute(
            "select cursor from sync_state where source = ? and stream = ?", [source, stream]
        ).fetchone()
        return row[0] if row else None

    def cursors(self, source: str | None = None) -> dict[tuple[str, str], str]:
        sql = "select source, stream, cursor from sync_state"
        args: list[str] = []
        if source:
            sql += " where source = ?"
            args.append(source)
        return {(s, st): c for s, st, c in self.db.execute(sql, args).fetchall()}

    def set_cursor(self, source: str, stream: str, cursor: str) -> None:
        self.db["sync_state"].upsert(
            {"source": source, "stream": stream, "cursor": cursor, "updated_at": utc_now()},
            pk=("source", "stream"),
        )

    def clear_cursors(self, source: str) -> None:
        with self.transaction():
            self.db.execute("delete from sync_state where source = ?", [source])

    def start_run(self, source: str) -> int:
        with self.transaction():
            table = self.db["sync_runs"]
            table.insert({"source": source, "started_at": utc_now(), "status": "running"})
            return int(table.last_pk)

    def finish_run(
        self,
        run_id: int,
        *,
        status: str,
        records: int,
        requests: int,
        retries: int,
        error: str | None = None,
    ) -> None:
        with self.transaction():
            self.db["sync_runs"].update(
                run_id,
                {
                    "finished_at": utc_now(),
                    "status": status,
                    "records": records,
                    "requests": requests,
                    "retries": retries,
                    "error": error,
                },
            )

    def last_successful_sync(self) -> str | None:
        """When the last successful sync finished: the audit's default as-of."""
        row = self.db.execute(
            "select max(finished_at) from sync_runs where status = 'ok'"
        ).fetchone()
        return row[0] if row and row[0] else None

    def sources(self) -> list[str]:
        return [r[0] for r in self.db.execute("select distinct source from leads order by 1")]

    def count(self, table: str) -> int:
        return int(self.db.execute(f"select count(*) from [{table}]").fetchone()[0])
