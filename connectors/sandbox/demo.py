"""``run_audit.py demo``: the whole pipeline on a generated CRM, no credentials needed.

Generates a CRM, serves it from the sandbox on 127.0.0.1, syncs it through the real
connector into a fresh snapshot, audits the latest closed month with the example SLA,
prints the table and writes the reports. Nothing leaves the machine.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from audit.engine import open_snapshot, run_audit, run_trend
from audit.period import Period, parse_period
from audit.reports import write_report
from config.settings import Secret, Settings
from config.sla import SLA, load_sla
from connectors.progress import sync_with_progress
from connectors.sandbox.generator import generate_crm
from connectors.sandbox.hubspot_server import HubSpotSandbox
from connectors.store import SnapshotStore

TREND_MONTHS = 2


def example_sla_path() -> Path:
    return Path(str(resources.files("config") / "sla.example.yaml"))


def latest_closed_month(as_of: datetime, sla: SLA) -> Period:
    local = as_of.astimezone(sla.tz)
    return parse_period(f"{local.year:04d}-{local.month:02d}", sla.tz).previous()


def fresh_snapshot(path: Path) -> SnapshotStore:
    """A new, empty snapshot at ``path`` (the demo never mixes runs)."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return SnapshotStore(path)


def run_demo(out: Path, *, size: int = 4500, seed: int = 7, source: str = "hubspot") -> int:
    say = sys.stderr.write
    out.mkdir(parents=True, exist_ok=True)
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    crm = generate_crm(size=size, seed=seed, end=end)
    activities = len(crm.activities)
    say(f"demo: generated a CRM of {size} leads and {activities} activities (seed {seed})\n")
    db = out / "snapshot.db"
    store = fresh_snapshot(db)
    try:
        with HubSpotSandbox(crm) as sandbox:
            settings = Settings(
                hubspot_access_token=Secret(sandbox.token),
                hubspot_base_url=sandbox.base_url,
                db_path=db,
            )
            summary = sync_with_progress(source, store, settings, full=True)
        say(f"demo: synced {summary.line()}\n")
    finally:
        store.close()

    sla = load_sla(example_sla_path())
    conn = open_snapshot(db)
    try:
        from audit.engine import default_as_of

        period = latest_closed_month(default_as_of(conn), sla)
        result = run_audit(conn, sla, period)
        result.trend = run_trend(conn, sla, period, TREND_MONTHS)
    finally:
        conn.close()
    write_report(result, "table", None)
    written = write_report(result, "json", out / "report.json")
    written += write_report(result, "csv", out / "csv")
    written += write_report(result, "html", out / "report.html")
    say("demo: wrote " + ", ".join(str(p) for p in written) + "\n")
    return 0
