"""``run_audit.py demo``: the whole pipeline on a generated CRM, no credentials needed.

Generates a CRM, serves it from the sandbox on 127.0.0.1 (a fake HubSpot over HTTP, a
fake Salesforce over HTTPS with a throwaway CA, or both: :mod:`app.sandbox_serving`),
syncs it through the real connectors into a fresh snapshot, audits the latest closed month
with the example SLA plus the sandbox's routing rule and time off (``demo-sla.yaml``,
:mod:`app.demo_sla`), prints the table, writes the reports and names the commands to try
next. Nothing leaves the machine.

**The same output every run.** The demo's world stands still at :data:`DEMO_NOW`: the
generated CRM ends there and the audit is as of then (passed explicitly, not read from
the snapshot's sync time, which is the real clock). So ``report.json`` and the CSVs are
byte-identical from one run to the next; ``--seed`` gives another CRM, ``--now`` one that
ends at the current hour.
"""

from __future__ import annotations

import sqlite3
import sys
from datetime import UTC, datetime
from pathlib import Path

from app.cli_errors import UserError
from app.demo_sla import write_demo_sla
from app.next_steps import command, example_sla_path
from app.progress import sync_with_progress
from app.sandbox_serving import serve_crms
from audit.engine import open_snapshot, run_audit, run_trend
from audit.period import Period, parse_period
from audit.reports import write_report
from audit.result import AuditResult
from config.exit_codes import EXIT_OK
from config.sla import SLA, load_sla
from sandbox.generator import CRM
from snapshot.store import SnapshotStore

TREND_MONTHS = 2
DEMO_NOW = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
"""The demo's "now": Monday 16 November 2026, 06:00 in São Paulo (the example SLA's zone).

Two weeks after October closed, so October's handoffs have had their windows and the
report judges nearly all of them; four months of history before it (the generator's
default) cover October and the two trend months in full.
"""
DEMO_DOMAIN = "@acme.example"
"""Every generated rep's email ends so; a snapshot with other owners is someone's real one."""


def current_hour() -> datetime:
    """``--now``: the demo's world ends at the start of the current hour (UTC)."""
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


def latest_closed_month(as_of: datetime, sla: SLA) -> Period:
    local = as_of.astimezone(sla.tz)
    return parse_period(f"{local.year:04d}-{local.month:02d}", sla.tz).previous()


def is_demo_snapshot(path: Path) -> bool:
    """Whether ``path`` is absent, empty of owners, or holds only the sandbox's reps."""
    if not path.exists():
        return True
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            row = conn.execute(
                "select count(*) from owners where coalesce(email, '') not like ?",
                [f"%{DEMO_DOMAIN}"],
            ).fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return False
    return row[0] == 0


def fresh_snapshot(path: Path) -> SnapshotStore:
    """A new, empty snapshot at ``path`` (the demo never mixes runs).

    A snapshot the demo did not write is never replaced: its owners are not the sandbox's.
    """
    if not is_demo_snapshot(path):
        raise UserError(
            f"{path} is not a demo snapshot (it holds owners other than the sandbox's reps): "
            "the demo will not replace it; pass another folder with --out"
        )
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return SnapshotStore(path)


def sync_demo_crm(db: Path, source: str, size: int, seed: int, end: datetime) -> list[CRM]:
    """Generate, serve and fully sync the sandbox CRM(s) into a fresh snapshot at ``db``."""
    say = sys.stderr.write
    store = fresh_snapshot(db)
    try:
        with serve_crms(source, size, seed, end) as served:
            for crm in served:
                say(
                    f"demo: {crm.source} holds {len(crm.crm.leads)} leads and "
                    f"{len(crm.crm.activities)} activities\n"
                )
                summary = sync_with_progress(
                    crm.source, store, crm.settings, full=True, options=crm.options
                )
                say(f"demo: synced {summary.line()}\n")
    finally:
        store.close()
    return [crm.crm for crm in served]


def audit_demo(db: Path, as_of: datetime, sla_file: Path) -> AuditResult:
    """The latest closed month before ``as_of``, as of ``as_of``, with its trend."""
    sla = load_sla(sla_file)
    period = latest_closed_month(as_of, sla)
    conn = open_snapshot(db)
    try:
        result = run_audit(conn, sla, period, as_of)
        result.trend = run_trend(conn, sla, period, TREND_MONTHS, as_of)
    finally:
        conn.close()
    return result


def as_of_argument(moment: datetime) -> str:
    """``2026-11-16T09:00:00Z``: an instant as ``--as-of`` takes it."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def next_commands(db: Path, period: str, as_of: datetime, sla_file: Path) -> list[str]:
    """What to try after the demo, each true as printed (the same as-of: the same numbers)."""
    sla = str(sla_file)
    return [
        command(
            "audit",
            "--sla",
            sla,
            "--db",
            str(db),
            "--period",
            period,
            "--as-of",
            as_of_argument(as_of),
        ),
        command("plan", "--sla", sla, "--db", str(db)),
        command("status", "--db", str(db)),
        command("sandbox") + "   # a fake CRM to try sync, status and nightly on (see README)",
    ]


def run_demo(
    out: Path,
    *,
    size: int = 4500,
    seed: int = 7,
    source: str = "hubspot",
    now: datetime = DEMO_NOW,
) -> int:
    """Sync the sandbox CRM ending at ``now`` into ``out/snapshot.db``, audit, report."""
    say = sys.stderr.write
    out.mkdir(parents=True, exist_ok=True)
    db = out / "snapshot.db"
    crms = sync_demo_crm(db, source, size, seed, now)
    sla_file = write_demo_sla(out / "demo-sla.yaml", example_sla_path(), crms)
    result = audit_demo(db, now, sla_file)
    write_report(result, "table", None)
    written = write_report(result, "json", out / "report.json")
    written += write_report(result, "csv", out / "csv")
    written += write_report(result, "xlsx", out / "report.xlsx")
    written += write_report(result, "html", out / "report.html")
    say("demo: wrote " + ", ".join(str(p) for p in [*written, sla_file]) + "\n")
    say(f"demo: audited {result.period} as of {as_of_argument(now)}; next, try:\n")
    say("".join(f"  {line}\n" for line in next_commands(db, result.period, now, sla_file)))
    return EXIT_OK
