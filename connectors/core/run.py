"""One sync run: every stream of a connector into the snapshot, recorded in ``sync_runs``.

The commit order is the run's to keep: every page goes through
:meth:`SnapshotStore.write_page`, which writes the rows and moves the cursor in one
transaction; nothing else moves a cursor, so a sync killed at any instant resumes from
the last committed page. A failure ends the run with one redacted line naming what
failed, where, and the fix.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from connectors.core.errors import SyncError
from connectors.core.http import Api
from connectors.core.prefetch import Prefetcher, ReadyPage, read_in_turn
from connectors.core.stats import StreamStats, SyncSummary
from connectors.core.stream import Connector, Cursor, Stream
from snapshot.errors import describe_snapshot_error
from snapshot.instants import format_instant
from snapshot.store import SnapshotStore

log = logging.getLogger(__name__)

ProgressCallback = Callable[[str, int, int | None], None]
"""``progress(stream, done, total)``: records committed so far; ``total`` None if unknown."""


@dataclass
class _RunRecord:
    """This run's ``sync_runs`` row: its id, the records committed so far, how it ended."""

    store: SnapshotStore
    api: Api
    source: str
    run_id: int
    records: int = 0

    def finish(self, status: str, error: str | None = None) -> None:
        try:
            self.store.finish_run(
                self.run_id,
                status=status,
                records=self.records,
                requests=self.api.requests,
                retries=self.api.retries,
                error=error,
            )
        except sqlite3.Error:
            # A full disk or a read-only file refuses this row too; the run's own error
            # says why, and the next run marks this one interrupted.
            if status == "ok":
                raise
            log.debug("could not record the end of sync run %s", self.run_id, exc_info=True)


def run_sync(
    connector: Connector,
    store: SnapshotStore,
    api: Api,
    *,
    full: bool = False,
    progress: ProgressCallback | None = None,
    prefetch: bool | None = None,
) -> SyncSummary:
    """Run every stream of ``connector`` into ``store``; one ``sync_runs`` row records it.

    Any failure ends the run with status ``error`` and a :class:`SyncError` whose text is
    one redacted line; committed pages stay committed, so the next run resumes.

    ``prefetch``: read the streams that allow it (:meth:`Stream.can_prefetch`) a page
    ahead (see :class:`Prefetcher`). By default only without a ``progress`` callback:
    the callback runs between a page's commit and the request for the next one, so a
    caller may stop the sync or change the CRM there and know the next request comes
    after it; a caller whose callback only displays progress may pass ``True``.
    """
    if prefetch is None:
        prefetch = progress is None
    source = connector.dialect.source
    redactor = api.redactor
    started = api.clock.monotonic()
    api.used_earlier = requests_in_last_day(store, source, api.clock.now())
    run = _RunRecord(store, api, source, store.start_run(source))
    try:
        api.stream = "setup"
        connector.prepare(api)
        for stream in connector.streams():
            _sync_stream(stream, run, full=full, progress=progress, prefetch=prefetch)
    except SyncError as exc:
        message = redactor(str(exc))
        run.finish("error", message)
        raise SyncError(message) from None
    except Exception as exc:
        message = _unexpected_error_line(run, exc)
        run.finish("error", message)
        log.debug("sync stopped by an unexpected error", exc_info=True)
        raise SyncError(message) from exc
    except BaseException:
        run.finish("error", f"{source} sync interrupted in {api.stream}; the next run resumes")
        raise
    run.finish("ok")
    return SyncSummary(
        source=source,
        run_id=run.run_id,
        records=run.records,
        requests=api.requests,
        retries=api.retries,
        duration_s=api.clock.monotonic() - started,
        streams=dict(api.stats),
    )


def _sync_stream(
    stream: Stream,
    run: _RunRecord,
    *,
    full: bool,
    progress: ProgressCallback | None,
    prefetch: bool,
) -> None:
    """One stream, from its stored cursor to the end of this run's pages, then logged."""
    api, store, source = run.api, run.store, run.source
    api.stream = stream.name
    stats = api.stats_for(stream.name)
    stored = Cursor.decode(store.cursor(source, stream.name))
    cursor = stream.open(stored, full=full, api=api, store=store)
    if progress:
        progress(stream.name, 0, None)
    stream_started = api.clock.monotonic()
    ahead = (
        Prefetcher(stream, api, cursor, stats) if prefetch and stream.can_prefetch(cursor) else None
    )
    pages = ahead if ahead is not None else read_in_turn(stream, api, cursor, stats)
    try:
        _write_pages(pages, stream.name, run, stats, progress)
    finally:
        if ahead is not None:
            ahead.close()
    stats.duration_s += api.clock.monotonic() - stream_started
    _note_shortfall(source, stream.name, stats)
    _log_stream(source, stream.name, stats)


def _write_pages(
    pages: Iterable[ReadyPage],
    stream: str,
    run: _RunRecord,
    stats: StreamStats,
    progress: ProgressCallback | None,
) -> None:
    """Write each page with the cursor after it, in order, counting as the pages commit."""
    for ready in pages:
        if ready.total is not None and stats.expected is None:
            stats.expected = ready.total
        step = ready.step
        written = run.store.write_page(run.source, stream, ready.page, step.cursor.encode())
        run.records += written
        stats.records += written
        stats.pages += 1
        if progress:
            progress(stream, stats.records, stats.expected)


def _unexpected_error_line(run: _RunRecord, exc: Exception) -> str:
    """The one redacted line for an error that is no :class:`SyncError` (storage, or a bug)."""
    described = describe_snapshot_error(run.store.path, exc) if _is_storage(exc) else None
    message = run.api.redactor(
        f"{run.source} sync stopped in {run.api.stream}: "
        f"{described or f'{type(exc).__name__}: {exc}'}; committed "
        "pages are kept and the next run resumes from them"
    )
    return " ".join(message.split())


def requests_in_last_day(store: SnapshotStore, source: str, now: datetime) -> int:
    """What this source's runs spent in the 24 hours before ``now``."""
    since = format_instant(now - timedelta(days=1))
    row = store.db.execute(
        "select coalesce(sum(requests), 0) from sync_runs where source = ? and started_at >= ?",
        [source, since],
    ).fetchone()
    return int(row[0])


def _is_storage(exc: BaseException) -> bool:
    """An error of the snapshot file rather than of the CRM or of our code."""
    return isinstance(exc, sqlite3.Error | OSError) and not isinstance(exc, ConnectionError)


def _log_stream(source: str, stream: str, stats: StreamStats) -> None:
    """One line per finished stream; ``--log-json`` turns ``event`` into JSON fields."""
    log.info(
        "%s %s: %d records in %d requests (%d retries) in %.1fs",
        source,
        stream,
        stats.records,
        stats.requests,
        stats.retries,
        stats.duration_s,
        extra={
            "event": {
                "event": "stream",
                "source": source,
                "stream": stream,
                "records": stats.records,
                "requests": stats.requests,
                "retries": stats.retries,
                "pages": stats.pages,
                "gaps": stats.gaps,
                "duration_s": round(stats.duration_s, 3),
            }
        },
    )


def _note_shortfall(source: str, stream: str, stats: StreamStats) -> None:
    """Say so when a change query delivered fewer records than the CRM announced, and
    when records were kept with a field left empty."""
    if stats.gaps:
        log.warning(
            "%s %s: %d records kept with an unusable value left empty (e.g. a duration that "
            "is not a number)",
            source,
            stream,
            stats.gaps,
        )
    if stats.expected is not None and stats.records < stats.expected:
        log.warning(
            "%s %s: the CRM announced %d changed records, %d arrived (records changed or "
            "were deleted during the sync; the next run re-reads from the same point)",
            source,
            stream,
            stats.expected,
            stats.records,
        )
