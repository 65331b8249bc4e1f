"""Opening a snapshot for reading: refuse what this version cannot read, upgrade an older
file in place (through :class:`SnapshotStore`, which adds what the file lacks)."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from snapshot.errors import SnapshotError, describe_snapshot_error, not_a_snapshot
from snapshot.schema import check_version, missing_schema, table_names_of
from snapshot.store import SnapshotStore


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
        raise SnapshotError(not_a_snapshot(file, exc)) from None
    try:
        table_names = table_names_of(conn)
        if not table_names:
            raise SnapshotError(f"snapshot {file} is empty: run 'run_audit.py sync' first")
        if "meta" not in table_names and "leads" not in table_names:
            raise SnapshotError(
                f"snapshot {file} is not an sla-audit snapshot (an SQLite file with other "
                "tables): check --db"
            )
        check_version(file, conn, table_names)
        missing = missing_schema(conn, table_names)
    except sqlite3.Error as exc:
        raise SnapshotError(
            describe_snapshot_error(file, exc) or not_a_snapshot(file, exc)
        ) from None
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
