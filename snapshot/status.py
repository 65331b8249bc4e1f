"""``run_audit.py status``: what the snapshot holds and how its syncs have been going.

What an operator checks when the morning report looks odd: per source the last sync
(when, how it ended, how much it moved, the error), the last *successful* one, each
stream's cursor, and the file's size and row counts. A source whose last successful sync
is more than a day old — or that never had one — is a warning, and the command's exit
code is 1 so a monitoring check can alert on it without parsing text.

Read-only: the file is opened with ``mode=ro`` and the lock file is only probed, never
created, so ``status`` can run while a sync holds the snapshot. (A file written by an
older sla-audit is first upgraded in place, as for ``audit``: columns are only added.)
"""

from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from config.exit_codes import EXIT_FAIL, EXIT_OK
from snapshot.derived import DERIVED_TABLES
from snapshot.errors import SnapshotError
from snapshot.instants import InstantError, format_instant, parse_instant
from snapshot.lock import is_locked
from snapshot.upgrade import prepare_for_reading

STALE_AFTER = timedelta(days=1)


@dataclass
class RunInfo:
    """One ``sync_runs`` row, with its duration worked out."""

    id: int
    started_at: str | None
    finished_at: str | None
    status: str
    records: int | None
    requests: int | None
    retries: int | None
    error: str | None
    duration_s: float | None = None


@dataclass
class StreamCursor:
    """A stream's stored cursor, decoded into words as well as kept raw."""

    stream: str
    position: str
    cursor: dict[str, Any]
    updated_at: str | None


@dataclass
class SourceStatus:
    source: str
    runs: int
    last_run: RunInfo | None
    last_success: RunInfo | None
    streams: list[StreamCursor] = field(default_factory=list)
    hours_since_success: float | None = None
    stale: bool = True


@dataclass
class SnapshotStatus:
    path: str
    size_bytes: int
    schema_version: int
    checked_at: str
    tables: dict[str, int]
    sources: list[SourceStatus]
    warnings: list[str]
    running: str | None = None

    def exit_code(self) -> int:
        """1 when any source is stale (or none ever synced), else 0."""
        if not self.sources:
            return EXIT_FAIL
        return EXIT_FAIL if any(s.stale for s in self.sources) else EXIT_OK

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"exit_code": self.exit_code()}


def read_status(
    path: str | os.PathLike[str],
    *,
    now: datetime | None = None,
    expected_sources: list[str] | None = None,
    stale_after: timedelta = STALE_AFTER,
) -> SnapshotStatus:
    """The status of the snapshot at ``path``; ``expected_sources`` are those with
    credentials, reported as stale when the snapshot has never synced them."""
    file = Path(path)
    prepare_for_reading(file)
    when = now or datetime.now(UTC)
    try:
        conn = sqlite3.connect(f"{file.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise SnapshotError(f"snapshot {file} cannot be read ({exc}): check --db") from None
    try:
        return _read(conn, file, when, expected_sources or [], stale_after)
    finally:
        conn.close()


def _read(
    conn: sqlite3.Connection,
    file: Path,
    now: datetime,
    expected: list[str],
    stale_after: timedelta,
) -> SnapshotStatus:
    conn.row_factory = sqlite3.Row
    names = [
        r[0]
        for r in conn.execute(
            "select name from sqlite_master where type = 'table' and name not like 'sqlite_%' "
            "order by name"
        )
    ]
    # Derived tables restate the CRM tables (connectors/derived): not data of their own.
    derived = {table.name for table in DERIVED_TABLES}
    tables = {name: _count(conn, name) for name in names if name not in derived}
    version_row = conn.execute("select value from meta where key = 'schema_version'").fetchone()
    runs = [_run(r) for r in conn.execute("select * from sync_runs order by id")]
    cursors = conn.execute(
        "select source, stream, cursor, updated_at from sync_state order by source, rowid"
    ).fetchall()
    sources = sorted({r.source for r in runs} | {c["source"] for c in cursors} | set(expected))
    by_source = {name: [r for r in runs if r.source == name] for name in sources}
    statuses = []
    warnings = []
    for name in sources:
        status = _source(name, by_source[name], cursors, now, stale_after)
        statuses.append(status)
        warnings += _warnings(status)
    holder = is_locked(file)
    size = sum(
        Path(f"{file}{suffix}").stat().st_size
        for suffix in ("", "-wal")
        if Path(f"{file}{suffix}").exists()
    )
    if not sources:
        warnings.append("warning: the snapshot has never been synced: run 'run_audit.py sync'")
    return SnapshotStatus(
        path=str(file),
        size_bytes=size,
        schema_version=int(version_row[0]) if version_row else 0,
        checked_at=format_instant(now),
        tables=tables,
        sources=statuses,
        warnings=warnings,
        running=holder.describe() if holder else None,
    )


def _count(conn: sqlite3.Connection, table: str) -> int:
    return int(conn.execute(f"select count(*) from [{table}]").fetchone()[0])


@dataclass
class _RunRow:
    """A run and the source it belongs to (``RunInfo`` itself is per-source already)."""

    source: str
    info: RunInfo


def _run(row: sqlite3.Row) -> _RunRow:
    started, finished = row["started_at"], row["finished_at"]
    duration = None
    if started and finished:
        try:
            duration = round((parse_instant(finished) - parse_instant(started)).total_seconds(), 3)
        except InstantError:
            duration = None
    return _RunRow(
        row["source"],
        RunInfo(
            id=int(row["id"]),
            started_at=started,
            finished_at=finished,
            status=row["status"] or "unknown",
            records=row["records"],
            requests=row["requests"],
            retries=row["retries"],
            error=row["error"],
            duration_s=duration,
        ),
    )


def _source(
    name: str,
    runs: list[_RunRow],
    cursors: list[sqlite3.Row],
    now: datetime,
    stale_after: timedelta,
) -> SourceStatus:
    infos = [r.info for r in runs]
    last = infos[-1] if infos else None
    success = next((r for r in reversed(infos) if r.status == "ok"), None)
    hours = None
    if success and success.finished_at:
        hours = round((now - parse_instant(success.finished_at)).total_seconds() / 3600, 2)
    stale = hours is None or hours > stale_after.total_seconds() / 3600
    streams = [
        StreamCursor(c["stream"], describe_cursor(c["cursor"]), _json(c["cursor"]), c["updated_at"])
        for c in cursors
        if c["source"] == name
    ]
    return SourceStatus(name, len(infos), last, success, streams, hours, stale)


def _json(text: str | None) -> dict[str, Any]:
    try:
        data = json.loads(text or "{}")
    except ValueError:
        return {"raw": text}
    return data if isinstance(data, dict) else {"raw": text}


def describe_cursor(text: str | None) -> str:
    """A stored cursor in words: where the next run of this stream starts."""
    data = _json(text)
    mode = data.get("mode")
    if mode == "incremental" and not data.get("scanning"):
        return f"changes since {data.get('since')}"
    if mode == "incremental":
        return f"reading changes since {data.get('since')} (interrupted; resumes there)"
    if mode == "full" and data.get("scanning"):
        after = f" after {data['after']}" if data.get("after") else ""
        return f"full scan in progress{after} (interrupted; resumes there)"
    if mode == "scan" and data.get("scanning"):
        after = f" after {data['after']}" if data.get("after") else ""
        return f"deletion scan in progress{after}"
    if mode == "complete":
        return "complete (re-read in full each run)"
    return str(text)


def _warnings(status: SourceStatus) -> list[str]:
    out = []
    if status.last_success is None:
        out.append(
            f"warning: {status.source} has never synced successfully: run "
            f"'run_audit.py sync --source {status.source}' and read its error"
        )
    elif status.stale:
        out.append(
            f"warning: {status.source} last synced successfully {status.hours_since_success:.1f} "
            f"hours ago ({status.last_success.finished_at}): check the nightly job and its log"
        )
    last = status.last_run
    if last is not None and last.status not in ("ok", "running"):
        out.append(
            f"warning: {status.source}'s last sync (run {last.id}) ended '{last.status}': "
            f"{last.error or 'no error recorded'}"
        )
    return out


def render_status(status: SnapshotStatus) -> str:
    """The status as plain text for a terminal or a cron mail."""
    mib = status.size_bytes / (1024 * 1024)
    lines = [
        f"snapshot {status.path}: {mib:.1f} MiB, schema version {status.schema_version}, "
        f"checked {status.checked_at}",
    ]
    if status.running:
        lines.append(f"in use now by {status.running}")
    for source in status.sources:
        lines.append("")
        lines.append(f"{source.source}: {source.runs} sync runs")
        lines.append(f"  last run:        {_run_line(source.last_run)}")
        lines.append(f"  last successful: {_run_line(source.last_success)}")
        if source.last_run and source.last_run.error and source.last_run.status != "ok":
            lines.append(f"  error:           {source.last_run.error}")
        for cursor in source.streams:
            lines.append(f"  {cursor.stream:<20} {cursor.position}")
    lines.append("")
    lines.append("rows: " + ", ".join(f"{name} {count:,}" for name, count in status.tables.items()))
    lines += status.warnings
    return "\n".join(lines)


def _run_line(run: RunInfo | None) -> str:
    if run is None:
        return "never"
    took = f" in {run.duration_s:.1f}s" if run.duration_s is not None else ""
    if run.status == "running":
        return f"started {run.started_at}, not finished (running now, or killed)"
    return (
        f"{run.status} at {run.finished_at or run.started_at}{took}: {run.records or 0} records, "
        f"{run.requests or 0} requests, {run.retries or 0} retries"
    )
