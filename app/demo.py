"""``run_audit.py demo``: the whole pipeline on a generated CRM, no credentials needed.

Generates a CRM, serves it from the sandbox on 127.0.0.1 (a fake HubSpot over HTTP, a
fake Salesforce over HTTPS with a throwaway CA, or both), syncs it through the real
connectors into a fresh snapshot, audits the latest closed month with the example SLA,
prints the table and writes the reports. Nothing leaves the machine.

With ``both``, marketing's CRM (HubSpot) and sales' CRM (Salesforce) each hold half of
the leads, generated with different seeds; the reps are the same people (same emails), so
the report shows one row per rep across both CRMs.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from app.progress import sync_with_progress
from audit.engine import default_as_of, open_snapshot, run_audit, run_trend
from audit.period import Period, parse_period
from audit.reports import write_report
from config.exit_codes import EXIT_OK
from config.settings import Secret, Settings
from config.sla import SLA, load_sla
from connectors.core import SyncOptions
from connectors.salesforce import SalesforceOptions
from sandbox.generator import generate_crm
from sandbox.hubspot_server import HubSpotSandbox
from sandbox.salesforce_server import SalesforceSandbox
from snapshot.store import SnapshotStore

TREND_MONTHS = 2
SOURCES = ("hubspot", "salesforce", "both")


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


@contextmanager
def sandboxes(
    source: str, size: int, seed: int, end: datetime
) -> Iterator[list[tuple[str, Settings, SyncOptions | None]]]:
    """Start the sandbox(es) for ``source``; yield (source, settings, options) to sync."""
    say = sys.stderr.write
    names = ["hubspot", "salesforce"] if source == "both" else [source]
    share = size // len(names)
    with ExitStack() as stack:
        targets: list[tuple[str, Settings, SyncOptions | None]] = []
        for offset, name in enumerate(names):
            crm = generate_crm(size=share, seed=seed + offset, end=end)
            say(f"demo: {name} holds {share} leads and {len(crm.activities)} activities\n")
            if name == "hubspot":
                hub = stack.enter_context(HubSpotSandbox(crm))
                settings = Settings(
                    hubspot_access_token=Secret(hub.token), hubspot_base_url=hub.base_url
                )
                targets.append((name, settings, None))
            else:
                sf = stack.enter_context(SalesforceSandbox(crm))
                settings = Settings(
                    salesforce_instance_url=sf.instance_url,
                    salesforce_access_token=Secret(sf.session_id),
                )
                targets.append((name, settings, SalesforceOptions(ca_bundle=sf.ca_path)))
        yield targets


def run_demo(out: Path, *, size: int = 4500, seed: int = 7, source: str = "hubspot") -> int:
    say = sys.stderr.write
    out.mkdir(parents=True, exist_ok=True)
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    db = out / "snapshot.db"
    store = fresh_snapshot(db)
    try:
        with sandboxes(source, size, seed, end) as targets:
            for name, settings, options in targets:
                summary = sync_with_progress(name, store, settings, full=True, options=options)
                say(f"demo: synced {summary.line()}\n")
    finally:
        store.close()

    sla = load_sla(example_sla_path())
    conn = open_snapshot(db)
    try:
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
    return EXIT_OK
