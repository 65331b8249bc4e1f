"""``run_audit.py sync``: each source in turn under the snapshot's lock, and the per-run logs.

One failing source does not stop the rest: its error line goes out at once and the loop
moves on, so a broken Salesforce login never costs the HubSpot sync (the caller turns "one
failed" into exit 2). The per-run log records (:func:`log_sync_success`,
:func:`log_sync_failure`) are shared with the nightly job, which syncs the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

from app.progress import sync_with_progress
from config.logging_setup import event
from config.settings import Settings
from config.sla import SLA
from config.sla_fields import crm_fields
from connectors.core import SyncError, SyncOptions, SyncSummary
from snapshot.lock import SnapshotLock
from snapshot.store import SnapshotStore

# The logger these records have carried under ``--log-json`` since the nightly job first
# wrote them (a log shipper may filter on it): kept when the functions moved here.
log = logging.getLogger("app.nightly")


def sync_sources(
    sources: Sequence[str],
    db: str | Path,
    settings: Settings,
    *,
    full: bool,
    wait_s: float,
    report_error: Callable[[str], None],
    sla: SLA | None = None,
) -> bool:
    """Sync ``sources`` one after another; print each summary line; True if any failed.

    ``report_error`` prints a failed source's one line (the CLI's stderr format) before the
    next source starts, so the lines come out in the order things happened. With ``sla``
    (``sync --sla F``) each source also syncs the properties the SLA names.
    """
    failed = False
    with SnapshotLock(db, command="run_audit.py sync", wait_s=wait_s):
        store = SnapshotStore(db)
        try:
            store.mark_interrupted_runs()
            for source in sources:
                try:
                    summary = sync_with_progress(
                        source, store, settings, full=full, options=sla_options(sla, source)
                    )
                except SyncError as exc:
                    failed = True
                    log_sync_failure(source, store, str(exc))
                    report_error(str(exc))
                    continue
                log_sync_success(summary)
                print(summary.line())
        finally:
            store.close()
    return failed


def sla_options(sla: SLA | None, source: str) -> SyncOptions | None:
    """The sync options that make ``source`` read what ``sla`` names (None: no SLA given,
    the snapshot's record of filled properties is left alone)."""
    if sla is None:
        return None
    return SyncOptions(fields=crm_fields(sla, source))


def sla_sync(sla: SLA) -> Callable[[str, SnapshotStore, Settings], SyncSummary]:
    """The one-source sync ``nightly`` and ``watch`` run: with the SLA's properties."""

    def sync(source: str, store: SnapshotStore, settings: Settings) -> SyncSummary:
        return sync_with_progress(source, store, settings, options=sla_options(sla, source))

    return sync


def log_sync_success(summary: SyncSummary) -> None:
    """The per-run log record (``--log-json``: one JSON line with the run's totals)."""
    log.info(
        summary.line(),
        extra=event(
            "sync",
            source=summary.source,
            status="ok",
            run_id=summary.run_id,
            records=summary.records,
            requests=summary.requests,
            retries=summary.retries,
            duration_s=round(summary.duration_s, 3),
        ),
    )


def log_sync_failure(source: str, store: SnapshotStore | None, message: str) -> None:
    """The per-run log record of a failed sync, with what the run did before it failed."""
    run = None
    if store is not None:
        try:
            run = store.last_run(source)
        except Exception:  # a full or read-only disk must not hide the sync's own error
            run = None
    counts = {k: run.get(k) for k in ("records", "requests", "retries")} if run else {}
    log.info(
        f"{source} sync failed",
        extra=event("sync", source=source, status="error", error=message, **counts),
    )
