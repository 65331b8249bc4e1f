"""The snapshot: one SQLite file holding what the CRMs said, written with sqlite-utils.

Connectors write through :class:`SnapshotStore`; the audit reads the tables with SQL.
Raw CRM values are kept as they are (stage and status names, call dispositions); mapping
them to canonical funnel stages is the audit's job, so a changed SLA never needs a re-sync.

The one rule that keeps a killed sync from losing data: :meth:`SnapshotStore.write_page`
writes a page's rows *and* moves the stream's cursor in one transaction. A cursor can
therefore never point past rows that are not on disk.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from snapshot.errors import SnapshotError, describe_snapshot_error, not_a_snapshot
from snapshot.instants import format_instant
from snapshot.lean_sqlite_utils import sqlite_utils
from snapshot.page import Page as Page  # re-exported: connectors build pages from here
from snapshot.page import canonical_id as canonical_id
from snapshot.page import to_raw_json as to_raw_json
from snapshot.schema import Row, add_missing_schema, check_version, missing_schema
from snapshot.upsert import upsert_rows

FOLDER_MODE = 0o700
FILE_MODE = 0o600


def private_folder(folder: Path) -> None:
    """Create ``folder`` and any missing parents owner-only (0o700); existing ones are kept.

    The snapshot holds customer data: a folder created for it must not be listable by
    others. A folder that already exists is the user's choice and is left alone.
    """
    missing = [path for path in (folder, *folder.parents) if not path.exists()]
    for path in reversed(missing):
        path.mkdir(mode=FOLDER_MODE)
        os.chmod(path, FOLDER_MODE)  # mkdir's mode is filtered by the umask


def utc_now() -> str:
    return format_instant(datetime.now(UTC))


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
                descriptor = os.open(self.path, os.O_CREAT | os.O_WRONLY, FILE_MODE)
                os.close(descriptor)
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
            table_names = set(self.db.table_names())
            self._refuse_foreign(table_names, create)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._check_or_create_schema(table_names)
        except sqlite3.Error as exc:
            if conn is not None:
                conn.close()
            message = describe_snapshot_error(self.path, exc) or not_a_snapshot(self.path, exc)
            raise SnapshotError(message) from None
        except SnapshotError:
            if conn is not None:
                conn.close()
            raise

    # -- schema ---------------------------------------------------------------------

    def _refuse_foreign(self, table_names: set[str], create: bool) -> None:
        """A newer schema, another program's tables, or nothing to read: refused."""
        check_version(self.path, self.db.conn, table_names)
        if table_names and "meta" not in table_names and "leads" not in table_names:
            raise SnapshotError(
                f"{self.path} is an SQLite file but not an sla-audit snapshot (tables: "
                f"{', '.join(sorted(table_names)[:5])}): pass --db with a snapshot or a new "
                "file path"
            )
        if not table_names and not create:
            raise SnapshotError(f"snapshot {self.path} is empty: run 'run_audit.py sync' first")

    def _check_or_create_schema(self, table_names: set[str]) -> None:
        """Add what an older version lacked (or everything, to a new file).

        Nothing is written when the schema is complete, so a snapshot can be opened on a
        read-only disk for reading. A file of SQLite tables that are not ours has been
        refused before this point rather than extended: ``--db`` pointing at another
        program's database must not change it.
        """
        if not missing_schema(self.db.conn, table_names):
            return
        with self.transaction():
            add_missing_schema(self.db)

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
        """Insert ``rows``, or update the columns each row gives where its key exists
        (sqlite-utils' ``upsert_all`` semantics, many rows per statement; see
        :func:`snapshot.upsert.upsert_rows`)."""
        upsert_rows(self.db.conn, table, rows)

    def upsert_owners(self, rows: Sequence[Row]) -> None:
        self._upsert("owners", rows)

    def upsert_leads(self, rows: Sequence[Row]) -> None:
        self._upsert("leads", rows)

    def upsert_history(self, rows: Sequence[Row]) -> None:
        self._upsert("lead_history", rows)

    def replace_history(
        self, lead_ids: Iterable[str], rows: Sequence[Row], fields: Sequence[str] = ()
    ) -> None:
        """Replace the history of these leads with ``rows``: all of it, or only ``fields``."""
        if fields:
            ids = list(lead_ids)
            marks = ",".join("?" * len(fields))
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                self.db.execute(
                    f"delete from lead_history where field in ({marks}) and lead_id in "
                    f"({','.join('?' * len(chunk))})",
                    [*fields, *chunk],
                )
        else:
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

    def mark_leads_merged(self, merged: Iterable[tuple[str, str | None]]) -> None:
        """Mark live leads deleted as merged away (``(lead_id, merged_at)``)."""
        self.db.conn.executemany(
            "update leads set is_deleted = 1, deleted_at = ? where id = ? "
            "and coalesce(is_deleted, 0) = 0",
            [(merged_at, lead_id) for lead_id, merged_at in merged],
        )

    def mark_activities_deleted(self, activity_ids: Iterable[str]) -> None:
        self.db.conn.executemany(
            "update activities set is_deleted = 1 where id = ?",
            [(activity_id,) for activity_id in activity_ids],
        )

    def _delete_where_in(self, table: str, column: str, values: Iterable[str]) -> None:
        ids = list(values)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            placeholders = ",".join("?" * len(chunk))
            self.db.execute(f"delete from [{table}] where [{column}] in ({placeholders})", chunk)

    def write_page(self, source: str, stream: str, page: Page, cursor: str | None) -> int:
        """Write one page's rows and advance the stream's cursor, atomically.

        This is the only way connectors move a cursor, so the cursor can never run
        ahead of committed rows. Returns the number of records written.
        """
        with self.transaction():
            self.upsert_owners(page.owners)
            self.upsert_leads(page.leads)
            if page.history_for:
                self.replace_history(page.history_for, page.history, page.history_fields)
            else:
                self.upsert_history(page.history)
            self._upsert("lead_fields", page.fields)
            self.upsert_activities(page.activities)
            if page.links_for:
                self.replace_links(page.links_for, page.links)
            else:
                self.upsert_links(page.links)
            self.mark_leads_deleted(page.deleted_leads)
            self.mark_leads_merged(page.merged_leads)
            self.mark_activities_deleted(page.deleted_activities)
            self._replace_issues(page)
            self._upsert("value_labels", page.labels)
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
                placeholders = ",".join("?" * len(chunk))
                self.db.execute(
                    "delete from data_issues where record_table = ? and record_id in "
                    f"({placeholders})",
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
        return {
            (row_source, stream): cursor
            for row_source, stream, cursor in self.db.execute(sql, args).fetchall()
        }

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
            closed = self.db.execute(
                "update sync_runs set status = 'interrupted', error = ? where status = 'running'",
                [
                    "the process stopped before finishing (killed, crashed or out of power); "
                    "the next run resumed from the last committed page"
                ],
            )
            return int(closed.rowcount or 0)

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
        return [row[0] for row in self.db.execute("select distinct source from leads order by 1")]

    def count(self, table: str) -> int:
        return int(self.db.execute(f"select count(*) from [{table}]").fetchone()[0])
