"""The snapshot: one SQLite file holding what the CRMs said, written with sqlite-utils.

Connectors write through :class:`SnapshotStore`; the audit reads the tables with SQL.
Raw CRM values are kept as they are (stage and status names, call dispositions); mapping
them to canonical funnel stages is the audit's job, so a changed SLA never needs a re-sync.

The one rule that keeps a killed sync from losing data: :meth:`SnapshotStore.write_page`
writes a page's rows *and* moves the stream's cursor in one transaction. A cursor can
therefore never point past rows that are not on disk.
"""

from __future__ import annotations

import errno
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from itertools import chain
from pathlib import Path
from typing import Any

import sqlite_utils
from sqlite_utils.db import PrimaryKeyRequired, jsonify_if_needed

from snapshot.derived import build_missing_derived, missing_derived
from snapshot.instants import format_instant

SCHEMA_VERSION = 2
"""1: the DESIGN tables; 2: adds the derived ``lead_touches`` table and its triggers."""

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
}

DATA_TABLES = ("owners", "leads", "lead_history", "activities", "activity_leads")
"""Tables holding CRM data (as opposed to sync bookkeeping)."""

FOLDER_MODE = 0o700
FILE_MODE = 0o600

INDEXES: dict[str, list[list[str]]] = {
    "leads": [["source", "crm_id"], ["owner_id"], ["created_at"]],
    # Both cover what the audit reads of a history row (no lookup of the row itself):
    # the month's stage entries by (field, changed_at), a cohort's history by lead.
    "lead_history": [
        ["field", "changed_at", "lead_id", "value"],
        ["lead_id", "field", "changed_at", "value"],
    ],
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


class SnapshotError(Exception):
    """The snapshot file is missing, unreadable or of an unknown schema."""


def _unreadable(path: Path, exc: Exception) -> str:
    return f"snapshot {path} is not an sla-audit snapshot ({exc}): check --db"


def describe_snapshot_error(path: str | os.PathLike[str], exc: BaseException) -> str | None:
    """One sentence (what, where, fix) for an error that is the file's fault, else None.

    SQLite reports a full disk, a read-only file and a damaged file through the same
    exception classes as a bug in our SQL; only the message tells them apart, and only
    the former three are the operator's to fix.
    """
    text = str(exc).lower()
    code = getattr(exc, "errno", None)
    if "disk is full" in text or code == errno.ENOSPC:
        return (
            f"the disk holding snapshot {path} is full ({exc}): free space there, or pass "
            "--db with a file on another disk, and run again"
        )
    denied = code in (errno.EACCES, errno.EPERM, errno.EROFS)
    if "readonly" in text or "read-only" in text or denied:
        return (
            f"snapshot {path} is read-only for this user ({exc}): make the file and its "
            "folder writable (chmod u+w), or pass --db with a writable path"
        )
    if "unable to open database file" in text:
        return (
            f"snapshot {path} cannot be opened ({exc}): check that its folder exists and "
            "is readable and writable by this user"
        )
    if "database is locked" in text or "database is busy" in text:
        return (
            f"snapshot {path} is locked by another program ({exc}): wait for it to finish "
            "and run again"
        )
    if "malformed" in text or "disk i/o error" in text:
        return (
            f"snapshot {path} is damaged ({exc}): restore it from a backup, or sync into a "
            "new file with --db PATH --full"
        )
    return None


def private_folder(folder: Path) -> None:
    """Create ``folder`` and any missing parents owner-only (0o700); existing ones are kept.

    The snapshot holds customer data: a folder created for it must not be listable by
    others. A folder that already exists is the user's choice and is left alone.
    """
    missing = [p for p in (folder, *folder.parents) if not p.exists()]
    for path in reversed(missing):
        path.mkdir(mode=FOLDER_MODE)
        os.chmod(path, FOLDER_MODE)  # mkdir's mode is filtered by the umask


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
    issues: list[Row] = field(default_factory=list)
    """``data_issues`` rows for records of this page; they replace the records' old ones."""

    @property
    def records(self) -> int:
        return (
            len(self.owners)
            + len(self.leads)
            + len(self.activities)
            + len(self.deleted_leads)
            + len(self.deleted_activities)
        )


_PLAIN_TYPES = frozenset({str, int, float, bytes, type(None)})
"""Values SQLite stores as they are; anything else goes through ``jsonify_if_needed``."""


ROWS_PER_STATEMENT = 256
"""Rows one INSERT carries (fewer when their values would pass SQLite's variable limit)."""


@lru_cache(maxsize=512)
def _upsert_statement(
    table: str, keys: tuple[str, ...], rows: int = 1
) -> tuple[str, tuple[int, ...]]:
    """``INSERT … VALUES (…), … ON CONFLICT(pk) DO UPDATE`` for ``rows`` rows with these
    keys, and where the pk is in each row's values.

    SQLite applies a multi-row VALUES list one row after the other, exactly as it would
    the same rows in one statement each (a key given twice: the second row updates the
    first).
    """
    pk = TABLES[table]["pk"]
    pk_columns = (pk,) if isinstance(pk, str) else tuple(pk)
    missing = [c for c in pk_columns if c not in keys]
    if missing:
        raise PrimaryKeyRequired(f"{table}: rows have no value for {', '.join(missing)}")
    updates = ", ".join(f"[{c}] = excluded.[{c}]" for c in keys if c not in pk_columns)
    one_row = f"({', '.join('?' * len(keys))})"
    sql = (
        f"INSERT INTO [{table}] ({', '.join(f'[{c}]' for c in keys)}) "
        f"VALUES {', '.join([one_row] * rows)} "
        f"ON CONFLICT({', '.join(f'[{c}]' for c in pk_columns)}) "
        + (f"DO UPDATE SET {updates}" if updates else "DO NOTHING")
    )
    return sql, tuple(keys.index(c) for c in pk_columns)


class SnapshotStore:
    """The snapshot file and the verbs connectors and the audit use on it."""

    def __init__(self, path: str | os.PathLike[str], *, create: bool = True) -> None:
        self.path = Path(path)
        if self.path.is_dir():
            raise SnapshotError(
                f"{self.path} is a folder, not a snapshot file: pass --db with a file path"
            )
        if not create and not self.path.exists():
            raise SnapshotError(
                f"snapshot {self.path} does not exist: run 'run_audit.py sync' first "
                "or pass --db with the right file"
            )
        try:
            if create and not self.path.exists():
                private_folder(self.path.parent)
                # Owner-only from the first byte: the snapshot holds customer data. SQLite
                # gives its -wal and -shm files the same mode.
                fd = os.open(self.path, os.O_CREAT | os.O_WRONLY, FILE_MODE)
                os.close(fd)
        except OSError as exc:
            raise SnapshotError(
                describe_snapshot_error(self.path, exc)
                or f"snapshot {self.path} cannot be created ({exc}): check --db"
            ) from None
        conn: sqlite3.Connection | None = None
        try:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            self.db = sqlite_utils.Database(conn)
            # Refuse a file that is not ours *before* switching it to WAL, which rewrites
            # its header: another program's database must come out untouched.
            names = set(self.db.table_names())
            self._refuse_foreign(names, create)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._check_or_create_schema(names)
        except sqlite3.Error as exc:
            if conn is not None:
                conn.close()
            message = describe_snapshot_error(self.path, exc) or _unreadable(self.path, exc)
            raise SnapshotError(message) from None
        except SnapshotError:
            if conn is not None:
                conn.close()
            raise

    # -- schema ---------------------------------------------------------------------

    def _refuse_foreign(self, names: set[str], create: bool) -> None:
        """A newer schema, another program's tables, or nothing to read: refused."""
        check_version(self.path, self.db.conn, names)
        if names and "meta" not in names and "leads" not in names:
            raise SnapshotError(
                f"{self.path} is an SQLite file but not an sla-audit snapshot (tables: "
                f"{', '.join(sorted(names)[:5])}): pass --db with a snapshot or a new file path"
            )
        if not names and not create:
            raise SnapshotError(f"snapshot {self.path} is empty: run 'run_audit.py sync' first")

    def _check_or_create_schema(self, names: set[str]) -> None:
        """Add what an older version lacked (or everything, to a new file).

        Nothing is written when the schema is complete, so a snapshot can be opened on a
        read-only disk for reading. A file of SQLite tables that are not ours has been
        refused before this point rather than extended: ``--db`` pointing at another
        program's database must not change it.
        """
        if not missing_schema(self.db.conn, names):
            return
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
            create_named_indexes(self.db.conn)
            for name in OBSOLETE_INDEXES:
                self.db.conn.execute(f"drop index if exists {name}")
            build_missing_derived(self.db.conn)
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
            # SQLite may already have rolled back (a full disk does): rolling back again
            # would raise and hide the error that matters.
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def close(self) -> None:
        self.db.conn.close()

    # -- writes -----------------------------------------------------------------------

    def _upsert(self, table: str, rows: Sequence[Row]) -> None:
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
            params = [tuple(row.values()) for row in rows[start:end]]
            if not _PLAIN_TYPES.issuperset(map(type, chain.from_iterable(params))):
                params = [tuple(map(jsonify_if_needed, values)) for values in params]
            _, pk_indexes = _upsert_statement(table, keys)
            for index in pk_indexes:
                if any(values[index] is None for values in params):
                    raise PrimaryKeyRequired(f"{table}: a row has no value for {keys[index]}")
            self._insert_rows(table, keys, params)
            start = end

    def _insert_rows(self, table: str, keys: tuple[str, ...], params: list[tuple]) -> None:
        """Run the upsert over ``params`` in statements of as many rows as SQLite allows."""
        limit = self.db.conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        per_statement = max(1, min(ROWS_PER_STATEMENT, limit // len(keys)))
        full = len(params) - len(params) % per_statement
        if full:
            sql, _ = _upsert_statement(table, keys, per_statement)
            self.db.conn.executemany(
                sql,
                (
                    tuple(chain.from_iterable(params[i : i + per_statement]))
                    for i in range(0, full, per_statement)
                ),
            )
        if full < len(params):
            sql, _ = _upsert_statement(table, keys, len(params) - full)
            self.db.conn.execute(sql, tuple(chain.from_iterable(params[full:])))

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
            self._replace_issues(page)
            if cursor is not None:
                self.set_cursor(source, stream, cursor)
        return page.records

    def _replace_issues(self, page: Page) -> None:
        """A rewritten record loses its old caveats: only the page's current ones remain."""
        for table, rows in (
            ("owners", page.owners),
            ("leads", page.leads),
            ("activities", page.activities),
        ):
            ids = [row["id"] for row in rows]
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ",".join("?" * len(chunk))
                self.db.execute(
                    f"delete from data_issues where record_table = ? and record_id in ({marks})",
                    [table, *chunk],
                )
        self._upsert("data_issues", page.issues)

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
        self._upsert(
            "sync_state",
            [{"source": source, "stream": stream, "cursor": cursor, "updated_at": utc_now()}],
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

    def mark_interrupted_runs(self) -> int:
        """Close the ``running`` rows a killed process left behind; returns how many.

        Only safe while holding the snapshot lock (:mod:`snapshot.lock`): without it a
        row could belong to a sync that is still running in another process.
        """
        with self.transaction():
            cursor = self.db.execute(
                "update sync_runs set status = 'interrupted', error = ? where status = 'running'",
                [
                    "the process stopped before finishing (killed, crashed or out of power); "
                    "the next run resumed from the last committed page"
                ],
            )
            return int(cursor.rowcount or 0)

    def last_run(self, source: str) -> dict[str, Any] | None:
        """The latest ``sync_runs`` row of ``source`` (for logs after a failure)."""
        rows = list(
            self.db["sync_runs"].rows_where("source = ?", [source], order_by="id desc", limit=1)
        )
        return rows[0] if rows else None

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


# ------------------------------------------------------------------------------ schema


def check_version(path: Path, conn: sqlite3.Connection, names: set[str]) -> int:
    """The file's schema version; a newer one than this code knows is refused."""
    if "meta" not in names:
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


def missing_schema(conn: sqlite3.Connection, names: set[str] | None = None) -> list[str]:
    """Tables (``"data_issues"``) and columns (``"leads.deleted_at"``) the file lacks."""
    if names is None:
        names = {r[0] for r in conn.execute("select name from sqlite_master where type = 'table'")}
    missing: list[str] = []
    for name, spec in TABLES.items():
        if name not in names:
            missing.append(name)
            continue
        existing = {r[1] for r in conn.execute(f"pragma table_info([{name}])")}
        missing += [f"{name}.{c}" for c in spec["columns"] if c not in existing]
    row = (
        conn.execute("select value from meta where key = 'schema_version'").fetchone()
        if "meta" in names
        else None
    )
    if row is None or str(row[0]) != str(SCHEMA_VERSION):
        missing.append("meta.schema_version")
    indexes = {r[0] for r in conn.execute("select name from sqlite_master where type = 'index'")}
    wanted = [index_name(t, c) for t, specs in INDEXES.items() for c in specs]
    missing += [name for name in (*wanted, *NAMED_INDEXES) if name not in indexes]
    missing += [f"drop {name}" for name in OBSOLETE_INDEXES if name in indexes]
    return missing + missing_derived(conn)


def prepare_for_reading(path: str | os.PathLike[str]) -> None:
    """Check that ``path`` is a snapshot this version can read; upgrade an older one.

    The audit opens snapshots read-only; a file written by an older sla-audit may lack
    tables or columns the audit queries. Such a file is upgraded in place (tables and
    columns are only added, never changed); a current file is not written at all.
    """
    file = Path(path)
    if file.is_dir():
        raise SnapshotError(f"{file} is a folder, not a snapshot file: pass --db with a file path")
    if not file.exists():
        raise SnapshotError(
            f"snapshot {file} does not exist: run 'run_audit.py sync' first or pass --db"
        )
    try:
        conn = sqlite3.connect(f"{file.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise SnapshotError(_unreadable(file, exc)) from None
    try:
        names = {r[0] for r in conn.execute("select name from sqlite_master where type = 'table'")}
        if not names:
            raise SnapshotError(f"snapshot {file} is empty: run 'run_audit.py sync' first")
        if "meta" not in names and "leads" not in names:
            raise SnapshotError(
                f"snapshot {file} is not an sla-audit snapshot (an SQLite file with other "
                "tables): check --db"
            )
        check_version(file, conn, names)
        missing = missing_schema(conn, names)
    except sqlite3.Error as exc:
        raise SnapshotError(describe_snapshot_error(file, exc) or _unreadable(file, exc)) from None
    finally:
        conn.close()
    if not missing:
        return
    try:
        SnapshotStore(file, create=False).close()
    except SnapshotError as exc:
        raise SnapshotError(
            f"snapshot {file} was written by an older sla-audit and lacks "
            f"{', '.join(missing[:4])}{' …' if len(missing) > 4 else ''}; upgrading it "
            f"failed: {exc}"
        ) from None
