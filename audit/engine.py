"""Run an audit: snapshot + SLA + period + as-of → AuditResult.

The snapshot is opened read-only: an audit never changes what it audits.
"""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from pathlib import Path

from audit.aside import read_aside, snapshot_file
from audit.business_time import BusinessCalendar
from audit.context import AuditContext, build_context
from audit.data_quality import quality_notes
from audit.funnel_values import funnel_value_notes
from audit.names import name_evidence
from audit.period import AuditInputError, Period, parse_period
from audit.preflight import email_note, history_notes, unserved_note
from audit.rep_judging import judge_reps
from audit.result import AuditResult, TrendPoint
from audit.rules import rules_for
from audit.speed_outcome import outcome_table
from audit.teams import team_notes, team_rows
from audit.tier_values import tier_value_notes
from audit.wording import local_instant
from config.sla import SLA
from snapshot.errors import SnapshotError
from snapshot.instants import format_instant, parse_instant
from snapshot.schema import SCHEMA_VERSION


def open_snapshot(path: str | Path) -> sqlite3.Connection:
    """Open a snapshot read-only, with a clear error when it is missing or not one."""
    file = Path(path)
    if not file.exists():
        raise SnapshotError(
            f"snapshot {file} does not exist: run 'run_audit.py sync' first or pass --db"
        )
    try:
        conn = sqlite3.connect(f"{file.resolve().as_uri()}?mode=ro", uri=True)
        row = conn.execute("select value from meta where key = 'schema_version'").fetchone()
    except sqlite3.DatabaseError as exc:
        raise SnapshotError(
            f"snapshot {file} is not an sla-audit snapshot ({exc}): check --db"
        ) from exc
    version = int(row[0]) if row else 0
    if version > SCHEMA_VERSION:
        raise SnapshotError(
            f"snapshot {file} has schema version {version}, newer than this sla-audit "
            f"understands ({SCHEMA_VERSION}): upgrade sla-audit"
        )
    return conn


def default_as_of(conn: sqlite3.Connection) -> datetime:
    """When the snapshot's last successful sync finished (docs/SEMANTICS.md §1)."""
    row = conn.execute("select max(finished_at) from sync_runs where status = 'ok'").fetchone()
    if not row or not row[0]:
        raise AuditInputError(
            "the snapshot has no successful sync to take as-of from: pass --as-of "
            "(e.g. --as-of 2026-11-01T03:00:00Z)"
        )
    return parse_instant(row[0])


def period_as_of(conn: sqlite3.Connection, period: Period) -> datetime:
    """The default as-of of an audit of ``period``: its close, or the last sync if earlier.

    A closed month is audited as it stood when it closed, so ``audit --period 2026-10`` gives
    the same figures in November, in December and as a point of a later ``--trend``
    (docs/SEMANTICS.md, "Month to date and closed months"). A month still open at the last
    good sync is audited as of that sync: month to date, provisional.
    """
    return min(default_as_of(conn), period.end)


def calendar_for(sla: SLA, first: datetime, last: datetime) -> BusinessCalendar:
    """The SLA's business calendar for an audit that looks at instants in [first, last].

    A country's holidays are resolved for those years and one either side (a deadline near
    New Year, a time zone's date line); the listed dates are always all in.
    """
    years = range(first.year - 1, last.year + 2)
    return BusinessCalendar(sla.tz, sla.opening_hours(), sla.holidays.dates_in(years))


def run_audit(
    conn: sqlite3.Connection,
    sla: SLA,
    period: str | Period,
    as_of: datetime | None = None,
) -> AuditResult:
    """Audit one period of the snapshot as of ``as_of`` (default: :func:`period_as_of`)."""
    span = period if isinstance(period, Period) else parse_period(period, sla.tz)
    when = as_of if as_of is not None else period_as_of(conn, span)
    if when < span.start:
        raise AuditInputError(
            f"--as-of {format_instant(when)} is before the period {span.label} starts "
            f"({format_instant(span.start)}): nothing of it could be seen yet"
        )
    # The data notes are SQL alone: they run on a second connection meanwhile (aside.py).
    quality = read_aside(conn, lambda aside: quality_notes(aside, span, when))
    ctx = build_context(conn, sla, span, when, calendar_for(sla, span.start, when))
    rules = [rule.evaluate(ctx) for rule in rules_for(sla)]
    name_evidence(conn, rules)
    judge_reps(rules, sla.sales.compare_reps.min_judged)
    return AuditResult(
        sla=sla.name,
        period=span.label,
        as_of=format_instant(when),
        timezone=sla.timezone,
        rules=rules,
        data_notes=data_notes(ctx, conn, quality.result()) + team_notes(rules, sla),
        sources={source: source for source in ctx.sources},
        provisional=not ctx.period_complete,
        coverage=ctx.coverage,
        data_start=_partial_start(ctx),
        teams=team_rows(rules, sla),
        speed_outcome=outcome_table(ctx),
        rep_min_judged=sla.sales.compare_reps.min_judged,
    )


def _partial_start(ctx: AuditContext) -> str | None:
    """The data's first instant when the period is only partly covered (else None)."""
    if ctx.coverage != "partial" or ctx.data_start is None:
        return None
    return format_instant(ctx.data_start)


def run_trend(
    conn: sqlite3.Connection,
    sla: SLA,
    period: str | Period,
    months: int,
    as_of: datetime | None = None,
) -> list[TrendPoint]:
    """The same rules for each of the ``months`` months before ``period`` (oldest first).

    Each month is audited as of its own end (or the audit's as-of, if earlier), so a
    trend point shows the month as it stood when it closed. The months are independent,
    so they are audited side by side in worker processes, one per core (up to
    :data:`TREND_WORKERS`), each on its own read-only connection; a snapshot without a
    file, or a one-core machine, audits them one after the other here.
    """
    span = period if isinstance(period, Period) else parse_period(period, sla.tz)
    when = as_of if as_of is not None else default_as_of(conn)
    todo = []
    for back in range(months, 0, -1):
        month = span.previous(back)
        month_as_of = min(when, month.end)
        if month_as_of >= month.start:
            todo.append((month, month_as_of))
    file = snapshot_file(conn)
    workers = min(len(todo), TREND_WORKERS, len(os.sched_getaffinity(0)))
    if file is None or workers < 2:
        calendar = calendar_for(sla, span.previous(months).start, when)
        return [trend_point(conn, sla, month, month_as_of, calendar) for month, month_as_of in todo]
    # forkserver: workers start from a clean interpreter, not a copy of this process
    # with its open SQLite connections (which must never cross a fork).
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        jobs = [
            pool.submit(_trend_point_of_file, str(file), sla, month, month_as_of)
            for month, month_as_of in todo
        ]
        return [job.result() for job in jobs]


TREND_WORKERS = 4
"""At most this many trend months at once: each holds its month's frames in memory."""


def _trend_point_of_file(file: str, sla: SLA, month: Period, as_of: datetime) -> TrendPoint:
    """:func:`trend_point` in a worker process, on its own connection to ``file``."""
    conn = open_snapshot(file)
    try:
        return trend_point(conn, sla, month, as_of, calendar_for(sla, month.start, as_of))
    finally:
        conn.close()


def trend_point(
    conn: sqlite3.Connection,
    sla: SLA,
    month: Period,
    as_of: datetime,
    calendar: BusinessCalendar,
) -> TrendPoint:
    """One month's figures as of ``as_of``, without evidence lists."""
    ctx = build_context(conn, sla, month, as_of, calendar, evidence=False)
    rules = [rule.evaluate(ctx) for rule in rules_for(sla)]
    result = AuditResult(sla.name, month.label, format_instant(as_of), sla.timezone, rules)
    return TrendPoint(
        period=month.label,
        as_of=result.as_of,
        status=result.status,
        provisional=not ctx.period_complete,
        coverage=ctx.coverage,
        speed_outcome=outcome_table(ctx),
        rules={
            rule.id: {
                "status": rule.status,
                "measured": rule.measured,
                "target": rule.target,
                "judged": rule.judged,
                "pending": rule.pending,
            }
            for rule in rules
        },
    )


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def data_notes(ctx: AuditContext, conn: sqlite3.Connection, quality: list[str]) -> list[str]:
    """What a reader must know to trust the figures: what was left out, what is open.

    ``quality`` is :func:`~audit.data_quality.quality_notes` of the same period and as-of.
    """
    notes: list[str] = []
    if ctx.deleted_left_out:
        notes.append(f"{plural(ctx.deleted_left_out, 'deleted lead')} left out")
    unassigned = int((ctx.facts["rep"] == "unassigned").sum())
    if unassigned:
        notes.append(f"{plural(unassigned, 'handoff')} had no owner (reported as 'unassigned')")
    notes += coverage_notes(ctx)
    notes += funnel_value_notes(conn, ctx.sla, ctx.as_of_text)
    notes += tier_value_notes(conn, ctx.sla, ctx.as_of_text)
    notes += email_note(ctx.kinds_seen, ctx.sla.sales.attempts.channels)
    notes += history_notes(conn, ctx.as_of_text)
    notes += unserved_note(conn)
    if not ctx.period_complete:
        notes.append(
            f"provisional: period {ctx.period.label} is still open as of "
            f"{local_instant(ctx.as_of_text, ctx.sla.timezone)}; volume targets are pro-rated "
            f"to {ctx.elapsed_share:.1%} of the month and handoffs still inside their window "
            "are pending"
        )
    notes += quality
    return notes + sync_notes(conn, ctx.as_of_text, ctx.sla.timezone)


def coverage_notes(ctx: AuditContext) -> list[str]:
    """Say when the period has no data, or only part of it, or no handoff at all."""
    label = ctx.period.label
    if ctx.coverage == "none":
        if ctx.data_start is None:
            return [
                f"no data: the snapshot holds no lead as of the audit, so {label} is not judged"
            ]
        start = local_instant(format_instant(ctx.data_start), ctx.sla.timezone)
        return [f"no data: the snapshot's data starts {start}, after {label}; it is not judged"]
    notes = []
    if ctx.coverage == "partial" and ctx.data_start is not None:
        start = local_instant(format_instant(ctx.data_start), ctx.sla.timezone)
        notes.append(f"partly covered: the snapshot's data starts {start}, inside {label}")
    if ctx.facts.empty:
        notes.append(
            f"no handoffs in {label}: rules other than the volume ones have nothing to judge; "
            "if MQLs were expected, check the SLA's funnel values and the last sync"
        )
    return notes


def sync_notes(conn: sqlite3.Connection, as_of: str, timezone: str = "UTC") -> list[str]:
    """Sync health as it stood at as-of (later runs must not change an old report)."""
    notes = []
    row = conn.execute(
        "select max(finished_at) from sync_runs where status = 'ok' and finished_at <= ?",
        [as_of],
    ).fetchone()
    last_ok = row[0] if row and row[0] else None
    if last_ok:
        notes.append(f"snapshot last synced successfully at {local_instant(last_ok, timezone)}")
    failed = conn.execute(
        "select count(*) from sync_runs where status = 'error' and finished_at <= ? "
        "and started_at > ?",
        [as_of, last_ok or ""],
    ).fetchone()[0]
    if failed:
        plural = "s" if failed != 1 else ""
        notes.append(f"{failed} sync run{plural} failed after the last successful one")
    return notes
