"""``run_audit.py nightly``: sync every source with credentials, then audit the month so far.

The job cron runs at night, unattended for months. Its choices, each one for the person
reading the report the next morning:

* **One writer.** The snapshot's lock (:mod:`snapshot.lock`) is held from the first sync
  to the last report, so an overlapping run exits 2 naming the holder (or waits, with
  ``--wait``), and the audit reads a snapshot no sync is changing.
* **A failed source does not cost the report.** Each source syncs on its own; if one
  fails, the others still sync and the audit still runs, with the failure in the data
  notes — and the exit code is 2, so cron still mails the error line.
* **As-of is what every source has confirmed.** When all syncs succeed, as-of is the end
  of the last one. When a source fails, as-of falls back to the end of that source's last
  successful sync, so no rep is judged on activities a failed sync could not fetch; the
  notes say so. (A source that never synced holds nothing back: it has no data yet.)
  Only when no source has ever synced is there nothing to audit.
* **Month to date in the SLA's time zone**: the period is the month that contains as-of
  there, and the dated folder (``reports/2026-11-22/``) is the run's local date, so a
  re-run the same day replaces that day's reports rather than adding a second set.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from app.sync_command import log_sync_failure, log_sync_success
from audit.engine import open_snapshot, run_audit
from audit.period import parse_period
from audit.reports import write_report
from audit.result import AuditResult
from audit.wording import local_instant
from config.exit_codes import EXIT_ERROR
from config.logging_setup import event
from config.settings import Settings
from config.sla import SLA, load_sla
from config.sources import NO_CREDENTIALS
from connectors.core import SyncError, SyncSummary
from snapshot.instants import format_instant, parse_instant
from snapshot.lock import SnapshotLock
from snapshot.store import SnapshotStore
from snapshot.upgrade import prepare_for_reading

log = logging.getLogger(__name__)

SyncFn = Callable[[str, SnapshotStore, Settings], SyncSummary]


class NightlyError(Exception):
    """The nightly job cannot start (no credentials): one line, exit 2."""


@dataclass
class SourceOutcome:
    """How one source's sync ended tonight."""

    source: str
    summary: SyncSummary | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def words(self) -> str:
        if self.summary is not None:
            s = self.summary
            return (
                f"{self.source} ok ({s.records} records, {s.requests} requests, "
                f"{s.retries} retries, {s.duration_s:.1f}s)"
            )
        return f"{self.source} FAILED"


@dataclass
class NightlyResult:
    """What the night produced: the syncs, the audit (if any) and the files written."""

    day: str
    folder: Path
    syncs: list[SourceOutcome]
    audit: AuditResult | None = None
    written: list[Path] = field(default_factory=list)

    @property
    def sync_failed(self) -> bool:
        return any(not s.ok for s in self.syncs)

    def exit_code(self) -> int:
        """2 when a sync could not finish (report or not), else the audit's (docs/CONTRACTS.md)."""
        if self.sync_failed or self.audit is None:
            return EXIT_ERROR
        return self.audit.exit_code()

    def line(self) -> str:
        """The one line a cron mail shows on stdout."""
        syncs = ", ".join(s.words() for s in self.syncs)
        if self.audit is None:
            return f"nightly {self.day}: synced {syncs}; no audit (nothing synced yet)"
        failing = [r.id for r in self.audit.rules if r.status == "fail"]
        verdict = self.audit.status.upper() + (f" ({', '.join(failing)})" if failing else "")
        to_date = " (month to date, provisional)" if self.audit.provisional else ""
        as_of = local_instant(self.audit.as_of, self.audit.timezone)
        return (
            f"nightly {self.day}: synced {syncs}; audit {self.audit.period}{to_date} as of "
            f"{as_of}: {verdict}; reports in {self.folder}"
        )


def run_nightly(
    sla_path: str | Path,
    db: str | Path,
    out_root: str | Path,
    settings: Settings,
    *,
    wait_s: float = 0.0,
    sync: SyncFn,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> NightlyResult:
    """Sync, audit, write the reports; raises only for what stops the job before it starts.

    ``sync(source, store, settings)`` performs one source's sync (the CLI passes one with
    a progress bar on a terminal); it raises :class:`SyncError` with one redacted line.
    """
    sla = load_sla(sla_path)  # a bad SLA file stops the night before any API call
    sources = settings.configured_sources()
    if not sources:
        raise NightlyError(NO_CREDENTIALS)
    day = now().astimezone(sla.tz).date().isoformat()
    folder = Path(out_root) / day
    with SnapshotLock(db, command="run_audit.py nightly", wait_s=wait_s):
        store = SnapshotStore(db)
        try:
            store.mark_interrupted_runs()
            outcomes = [sync_one(source, store, settings, sync) for source in sources]
            as_of, fallback = as_of_after_syncs(store, sources, outcomes)
        finally:
            store.close()
        result = NightlyResult(day=day, folder=folder, syncs=outcomes)
        if as_of is None:
            log.info("nothing to audit: no source has ever synced successfully")
            return result
        result.audit = _audit(db, sla, as_of, outcomes, fallback)
        result.written = _write(result.audit, folder)
    log.info(
        result.line(),
        extra=event(
            "nightly",
            day=day,
            exit_code=result.exit_code(),
            status=result.audit.status if result.audit else None,
            as_of=result.audit.as_of if result.audit else None,
            folder=str(folder),
        ),
    )
    return result


def sync_one(source: str, store: SnapshotStore, settings: Settings, sync: SyncFn) -> SourceOutcome:
    try:
        summary = sync(source, store, settings)
    except SyncError as exc:
        log_sync_failure(source, store, str(exc))
        return SourceOutcome(source, error=str(exc))
    log_sync_success(summary)
    return SourceOutcome(source, summary=summary)


def as_of_after_syncs(
    store: SnapshotStore, sources: list[str], outcomes: list[SourceOutcome]
) -> tuple[datetime | None, bool]:
    """As-of for tonight's audit and whether it fell back (see the module docstring).

    A failed source that never synced has nothing in the snapshot to protect, so it does
    not hold as-of back; one that synced before holds it at that sync's end.
    """
    last_ok: dict[str, str] = {}
    for source in sources:
        row = store.db.execute(
            "select max(finished_at) from sync_runs where source = ? and status = 'ok'", [source]
        ).fetchone()
        if row and row[0]:
            last_ok[source] = row[0]
    if not last_ok:
        return None, False
    newest = max(last_ok.values())
    held = [last_ok[o.source] for o in outcomes if not o.ok and o.source in last_ok]
    as_of = min([newest, *held])
    return parse_instant(as_of), as_of < newest


def _audit(
    db: str | Path, sla: SLA, as_of: datetime, outcomes: list[SourceOutcome], fallback: bool
) -> AuditResult:
    prepare_for_reading(db)
    conn = open_snapshot(db)
    try:
        local = as_of.astimezone(sla.tz)
        period = parse_period(f"{local.year:04d}-{local.month:02d}", sla.tz)
        result = run_audit(conn, sla, period, as_of)
    finally:
        conn.close()
    for outcome in outcomes:
        if not outcome.ok:
            result.data_notes.append(f"{outcome.source} sync failed tonight: {outcome.error}")
    if fallback:
        result.data_notes.append(
            f"figures are as of {local_instant(format_instant(as_of), sla.timezone)}, the end of "
            "the failed source's last "
            "successful sync, so nobody is judged on activities a failed sync could not fetch"
        )
    return result


def _write(result: AuditResult, folder: Path) -> list[Path]:
    written = write_report(result, "json", folder / "report.json")
    written += write_report(result, "csv", folder / "csv")
    written += write_report(result, "xlsx", folder / "report.xlsx")
    written += write_report(result, "html", folder / "report.html")
    return written
