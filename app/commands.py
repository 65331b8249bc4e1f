"""One function per subcommand: read the flags, call the library, print, return the exit code.

Each imports what it uses inside itself, so ``check`` never loads the sync engine and a
command's library calls are looked up when it runs (tests and ``benchmarks/probe.py``
replace them on their modules).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from app.cli_errors import UserError, print_error
from app.cli_parser import default_db
from config.exit_codes import EXIT_ERROR, EXIT_OK
from config.logging_setup import event
from config.settings import DEFAULT_DB

if TYPE_CHECKING:
    from config.sla import SLA

log = logging.getLogger("sla_audit")

Command = Callable[[argparse.Namespace], int]


def cmd_check(args: argparse.Namespace) -> int:
    from datetime import datetime

    from config.sla import holiday_list, load_sla, summarize

    sla = load_sla(args.sla)
    warnings = _funnel_warnings(sla, args.db) if args.db else []
    print(f"{args.sla}: {'OK' if not warnings else f'{len(warnings)} warning(s)'}")
    print(summarize(sla))
    holidays = holiday_list(sla, datetime.now(sla.tz).year)
    if holidays:
        print(holidays)
    for warning in warnings:
        print(f"warning: {warning}")
    return EXIT_OK


def _funnel_warnings(sla: SLA, db: str) -> list[str]:
    """The SLA's funnel values that no lead of the snapshot at ``db`` has ever taken. A
    property the SLA names that the snapshot was never synced with, a funnel value that is
    the label of several, and a tier whose values no lead holds are errors (exit 2)."""
    from audit.context import require_synced_fields
    from audit.engine import open_snapshot
    from audit.funnel_values import funnel_value_notes
    from audit.tier_values import tier_value_notes
    from snapshot.upgrade import prepare_for_reading

    prepare_for_reading(db)
    conn = open_snapshot(db)
    try:
        require_synced_fields(conn, sla, sorted(sla.funnel))
        unmatched = tier_value_notes(conn, sla, None)
        if unmatched:
            # A tier that can match no lead of the CRM is a mistake in the file (a label,
            # a typo): check refuses it; an audit still runs, with the data note.
            raise UserError(unmatched[0])
        return funnel_value_notes(conn, sla, None)
    finally:
        conn.close()


def cmd_audit(args: argparse.Namespace) -> int:
    from audit.engine import default_as_of, open_snapshot, run_audit, run_trend
    from audit.period import RELATIVE_PERIODS, parse_as_of, parse_period, resolve_period
    from audit.reports import check_destination, write_report
    from config.sla import load_sla
    from snapshot.upgrade import prepare_for_reading

    check_destination(args.format, Path(args.out) if args.out else None)
    sla = load_sla(args.sla)
    as_of = parse_as_of(args.as_of, sla.tz) if args.as_of else None
    if args.period.strip().lower() not in RELATIVE_PERIODS:
        parse_period(args.period, sla.tz)  # a mistyped month is named before the snapshot
    db = args.db or default_db()
    prepare_for_reading(db)
    conn = open_snapshot(db)
    try:
        period = resolve_period(args.period, sla.tz, as_of or default_as_of(conn))
        result = run_audit(conn, sla, period, as_of)
        if args.trend:
            result.trend = run_trend(conn, sla, period, args.trend, as_of)
    finally:
        conn.close()
    written = write_report(result, args.format, Path(args.out) if args.out else None)
    if written and not args.log_json:  # a person at a terminal learns where it went
        print(f"audit: wrote {', '.join(map(str, written))}", file=sys.stderr)
    log.info(
        f"audit {result.period} as of {result.as_of}: {result.status}",
        extra=event(
            "audit",
            period=result.period,
            as_of=result.as_of,
            status=result.status,
            written=[str(path) for path in written],
        ),
    )
    return result.exit_code()


def cmd_plan(args: argparse.Namespace) -> int:
    from audit.engine import default_as_of, open_snapshot
    from audit.plan import make_plan
    from audit.plan_text import render_plan
    from config.sla import load_sla
    from snapshot.upgrade import prepare_for_reading

    sla = load_sla(args.sla)
    conn = None
    db = args.db or (default_db() if args.from_history else None)
    if db:
        prepare_for_reading(db)
        conn = open_snapshot(db)
    if args.from_history and conn is None:
        raise UserError("--from-history needs a snapshot: pass --db PATH")
    as_of = default_as_of(conn) if conn is not None and args.from_history else None
    plan = make_plan(sla, conn, history_months=args.from_history, as_of=as_of)
    if args.format == "json":
        print(json.dumps(plan.to_dict(), indent=2, default=str))
    else:
        print(render_plan(plan))
    return EXIT_OK


def _no_credentials() -> UserError:
    from config.sources import NO_CREDENTIALS

    return UserError(NO_CREDENTIALS)


def cmd_sync(args: argparse.Namespace) -> int:
    """Sync each source in turn under the snapshot's lock; one failing does not stop the rest."""
    from app.sync_command import sync_sources
    from config.settings import Settings
    from config.sla import load_sla

    sla = load_sla(args.sla) if args.sla else None  # a bad SLA stops before any request
    settings = Settings.from_env()
    sources = [args.source] if args.source else settings.configured_sources()
    if not sources:
        raise _no_credentials()
    db = args.db or str(settings.db_path or DEFAULT_DB)
    failed = sync_sources(
        sources,
        db,
        settings,
        full=args.full,
        wait_s=args.wait,
        report_error=lambda message: print_error(message, args),
        sla=sla,
    )
    return EXIT_ERROR if failed else EXIT_OK


def cmd_nightly(args: argparse.Namespace) -> int:
    from app.nightly import run_nightly
    from app.sync_command import sla_sync
    from config.settings import Settings
    from config.sla import load_sla

    settings = Settings.from_env()
    db = args.db or str(settings.db_path or DEFAULT_DB)
    result = run_nightly(
        args.sla,
        db,
        args.out_root,
        settings,
        wait_s=args.wait,
        sync=sla_sync(load_sla(args.sla)),
    )
    for outcome in result.syncs:
        if outcome.error:
            print_error(outcome.error, args)
    print(result.line())
    return result.exit_code()


def cmd_watch(args: argparse.Namespace) -> int:
    import os

    from app.alerts_delivery import apprise_send
    from app.sync_command import sla_sync
    from app.watch import WatchOptions, dry_run_lines, run_watch
    from audit.period import parse_as_of
    from config.settings import Settings
    from config.sla import load_sla

    settings = Settings.from_env()
    db = args.db or str(settings.db_path or DEFAULT_DB)
    sla = load_sla(args.sla)
    as_of = parse_as_of(args.as_of, sla.tz) if args.as_of else None
    options = WatchOptions(
        sync=not args.no_sync,
        dry_run=args.dry_run,
        as_of=as_of,
        digest=args.digest,
        wait_s=args.wait,
    )
    result = run_watch(
        args.sla,
        db,
        settings,
        options,
        sync=sla_sync(sla),
        send=apprise_send,
        environ=os.environ,
    )
    for outcome in result.syncs:
        if outcome.error:
            print_error(outcome.error, args)
    for line in result.failure_lines():
        print_error(line, args)
    for line in dry_run_lines(result) if result.dry_run else []:
        print(line)
    print(result.line())
    return result.exit_code()


def cmd_status(args: argparse.Namespace) -> int:
    from snapshot.status import read_status, render_status

    status = read_status(args.db or default_db(), expected_sources=_configured_sources())
    if args.format == "json":
        print(json.dumps(status.to_dict(), indent=2, default=str))
    else:
        print(render_status(status))
    return status.exit_code()


def _configured_sources() -> list[str]:
    """Sources with credentials, for ``status`` (unreadable settings simply mean none)."""
    try:
        from config.settings import Settings

        return Settings.from_env().configured_sources()
    except Exception:
        return []


def cmd_demo(args: argparse.Namespace) -> int:
    from app.demo import DEMO_NOW, current_hour, run_demo
    from app.sandbox_serving import check_size
    from audit.reports.files import ensure_private_folder

    check_size(args.source, args.size)
    ensure_private_folder(Path(args.out))  # reports and the demo's snapshot: owner-only
    now = current_hour() if args.now else DEMO_NOW
    return run_demo(Path(args.out), size=args.size, seed=args.seed, source=args.source, now=now)


def cmd_inspect(args: argparse.Namespace) -> int:
    from app.inspect_command import cmd_inspect as inspect_portal

    return inspect_portal(args)


def cmd_sandbox(args: argparse.Namespace) -> int:
    from app.sandbox_command import run_sandbox

    return run_sandbox(args.source, port=args.port, size=args.size, seed=args.seed)


COMMANDS: dict[str, Command] = {
    "check": cmd_check,
    "inspect": cmd_inspect,
    "audit": cmd_audit,
    "plan": cmd_plan,
    "sync": cmd_sync,
    "demo": cmd_demo,
    "sandbox": cmd_sandbox,
    "nightly": cmd_nightly,
    "status": cmd_status,
    "watch": cmd_watch,
}
