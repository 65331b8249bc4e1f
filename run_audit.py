"""sla-audit command line: sync CRMs into a snapshot and audit the marketing–sales SLA.

Thin by design: each subcommand parses, calls the library, prints. Exit codes (DESIGN.md):
0 every rule passes or warns; 1 a rule fails; 2 bad input, bad config or a sync that
could not finish. Errors are one line on stderr, never a traceback, never a credential
(argparse's own usage errors included: :class:`OneLineParser`). ``status`` exits 1 when a
source's last successful sync is more than a day old.

Files written are the paths given on the command line (``--db``, ``--out``,
``--out-root``) and the snapshot's own sidecars next to it: ``-wal``/``-shm`` (SQLite)
and ``.lock`` (the writers' lock). Nothing else, in the working folder or elsewhere.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sqlite3
import sys
import traceback
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn

EXIT_OK, EXIT_FAIL, EXIT_ERROR = 0, 1, 2
DEFAULT_DB = "snapshot.db"

EXAMPLES = """examples:
  python run_audit.py demo                          # sandbox CRM -> sync -> audit -> reports
  python run_audit.py sync --source hubspot                 # needs HUBSPOT_ACCESS_TOKEN
  python run_audit.py audit --sla config/sla.example.yaml --period 2026-10
  python run_audit.py audit --sla my_sla.yaml --period 2026-10 --as-of 2026-11-01T03:00:00Z \\
                            --format csv --out reports/2026-10
  python run_audit.py plan --sla my_sla.yaml --from-history 3
  python run_audit.py check --sla my_sla.yaml
  python run_audit.py nightly --sla my_sla.yaml --db /srv/sla/snapshot.db --out-root reports
  python run_audit.py status --db /srv/sla/snapshot.db         # exit 1 if a sync is stale
"""

log = logging.getLogger("sla_audit")


class UserError(Exception):
    """A mistake the user can fix; printed as one line, exit 2."""


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (what, and where to read more), exit 2.

    The default prints the whole usage block first; in a cron mail that buries the line
    that says what was wrong.
    """

    def error(self, message: str) -> NoReturn:
        text = " ".join(message.split())
        self.exit(EXIT_ERROR, f"{self.prog}: error: {text} (see {self.prog} --help)\n")


def default_db() -> str:
    return os.environ.get("SLA_AUDIT_DB") or DEFAULT_DB


def _seconds(text: str) -> float:
    """``--wait``: a number of seconds, zero or more."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} must be zero or more seconds")
    return value


def _whole(text: str) -> int:
    """A count of months: a whole number, zero or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be zero or more")
    return value


def _global_flags(parser: argparse.ArgumentParser, *, default: object) -> None:
    """``--verbose`` and ``--log-json``, accepted before or after the subcommand."""
    parser.add_argument(
        "--verbose", action="store_true", default=default, help="log details to stderr"
    )
    parser.add_argument(
        "--log-json",
        action="store_true",
        default=default,
        help="logs on stderr as JSON lines (per stream, per retry, per run)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="run_audit.py",
        description="Audit the marketing–sales SLA against what really happened in the CRM.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _global_flags(parser, default=False)
    common = argparse.ArgumentParser(add_help=False)
    _global_flags(common, default=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help_text, parents=[common])

    demo = command("demo", "run the whole pipeline on the built-in sandbox CRM")
    demo.add_argument("--out", default="sla-report", help="report folder (default ./sla-report)")
    demo.add_argument("--size", type=int, default=4500, help="number of generated leads")
    demo.add_argument("--seed", type=int, default=7, help="seed of the generated CRM")
    demo.add_argument(
        "--source",
        choices=["hubspot", "salesforce", "both"],
        default="hubspot",
        help="which sandbox CRM to sync (both: marketing in HubSpot, sales in Salesforce)",
    )

    sync = command("sync", "pull what changed in a CRM into the snapshot")
    sync.add_argument(
        "--source", choices=["hubspot", "salesforce"], help="default: every source with credentials"
    )
    sync.add_argument(
        "--db", default=None, help=f"snapshot file (default {DEFAULT_DB}, env SLA_AUDIT_DB)"
    )
    sync.add_argument("--full", action="store_true", help="re-read everything, not just changes")
    sync.add_argument(
        "--wait",
        type=_seconds,
        default=0.0,
        metavar="SECONDS",
        help="if another sync holds the snapshot, wait up to this long (default: fail at once)",
    )

    audit = command("audit", "audit one month of the snapshot against an SLA file")
    audit.add_argument("--sla", required=True, help="SLA file (YAML)")
    audit.add_argument("--period", required=True, help="month to audit, YYYY-MM")
    audit.add_argument("--db", default=None, help=f"snapshot file (default {DEFAULT_DB})")
    audit.add_argument("--as-of", default=None, help="the audit's 'now' (default: last good sync)")
    audit.add_argument("--format", choices=["table", "json", "csv", "html"], default="table")
    audit.add_argument("--out", default=None, help="file (table/json/html) or folder (csv)")
    audit.add_argument(
        "--trend",
        type=_whole,
        default=0,
        metavar="N",
        help="also audit the N months before the period (each as of its end)",
    )

    plan = command("plan", "print the SLA arithmetic: customers and MQLs needed")
    plan.add_argument("--sla", required=True, help="SLA file (YAML)")
    plan.add_argument("--db", default=None, help="snapshot for rep counts and measured rates")
    plan.add_argument(
        "--from-history",
        type=_whole,
        default=0,
        metavar="N",
        help="measure each rate over the last N closed months of the snapshot",
    )
    plan.add_argument("--format", choices=["table", "json"], default="table")

    check = command("check", "validate an SLA file and say what it promises")
    check.add_argument("--sla", required=True, help="SLA file (YAML)")

    nightly = command("nightly", "sync every source with credentials, then audit the month so far")
    nightly.add_argument("--sla", required=True, help="SLA file (YAML)")
    nightly.add_argument("--db", default=None, help=f"snapshot file (default {DEFAULT_DB})")
    nightly.add_argument(
        "--out-root",
        default="reports",
        help="reports go to OUT_ROOT/YYYY-MM-DD/ (default ./reports)",
    )
    nightly.add_argument(
        "--wait",
        type=_seconds,
        default=0.0,
        metavar="SECONDS",
        help="if another run holds the snapshot, wait up to this long (default: exit 2 at once)",
    )

    status = command("status", "show the snapshot's syncs, cursors, size; exit 1 if stale")
    status.add_argument("--db", default=None, help=f"snapshot file (default {DEFAULT_DB})")
    status.add_argument("--format", choices=["table", "json"], default="table")
    return parser


# -- subcommands ----------------------------------------------------------------------


def cmd_check(args: argparse.Namespace) -> int:
    from config.sla import load_sla, summarize

    sla = load_sla(args.sla)
    print(f"{args.sla}: OK")
    print(summarize(sla))
    return EXIT_OK


def cmd_audit(args: argparse.Namespace) -> int:
    from audit.engine import open_snapshot, run_audit, run_trend
    from audit.period import parse_as_of, parse_period
    from audit.reports import write_report
    from config.sla import load_sla
    from snapshot.upgrade import prepare_for_reading

    sla = load_sla(args.sla)
    period = parse_period(args.period, sla.tz)
    as_of = parse_as_of(args.as_of, sla.tz) if args.as_of else None
    db = args.db or default_db()
    prepare_for_reading(db)
    conn = open_snapshot(db)
    try:
        result = run_audit(conn, sla, period, as_of)
        if args.trend:
            result.trend = run_trend(conn, sla, period, args.trend, as_of)
    finally:
        conn.close()
    write_report(result, args.format, Path(args.out) if args.out else None)
    log.info(
        f"audit {result.period} as of {result.as_of}: {result.status}",
        extra=_event("audit", period=result.period, as_of=result.as_of, status=result.status),
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
    return UserError(
        "no CRM credentials found: set HUBSPOT_ACCESS_TOKEN, or SALESFORCE_INSTANCE_URL "
        "with SALESFORCE_ACCESS_TOKEN (or SALESFORCE_USERNAME/PASSWORD/SECURITY_TOKEN)"
    )


def cmd_sync(args: argparse.Namespace) -> int:
    """Sync each source in turn under the snapshot's lock; one failing does not stop the rest."""
    from app.nightly import log_sync_failure, log_sync_success
    from app.progress import sync_with_progress
    from config.settings import Settings
    from connectors.sync import SyncError
    from snapshot.lock import SnapshotLock
    from snapshot.store import SnapshotStore

    settings = Settings.from_env()
    sources = [args.source] if args.source else settings.configured_sources()
    if not sources:
        raise _no_credentials()
    db = args.db or str(settings.db_path or DEFAULT_DB)
    failed = False
    with SnapshotLock(db, command="run_audit.py sync", wait_s=args.wait):
        store = SnapshotStore(db)
        try:
            store.mark_interrupted_runs()
            for source in sources:
                try:
                    summary = sync_with_progress(source, store, settings, full=args.full)
                except SyncError as exc:
                    failed = True
                    log_sync_failure(source, store, str(exc))
                    _print_error(str(exc), args)
                    continue
                log_sync_success(summary)
                print(summary.line())
        finally:
            store.close()
    return EXIT_ERROR if failed else EXIT_OK


def cmd_nightly(args: argparse.Namespace) -> int:
    from app.nightly import run_nightly
    from app.progress import sync_with_progress
    from config.settings import Settings

    settings = Settings.from_env()
    db = args.db or str(settings.db_path or DEFAULT_DB)
    result = run_nightly(
        args.sla,
        db,
        args.out_root,
        settings,
        wait_s=args.wait,
        sync=lambda source, store, s: sync_with_progress(source, store, s),
    )
    for outcome in result.syncs:
        if outcome.error:
            _print_error(outcome.error, args)
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
    from app.demo import run_demo
    from audit.reports.files import ensure_private_folder

    ensure_private_folder(Path(args.out))  # reports and the demo's snapshot: owner-only
    return run_demo(Path(args.out), size=args.size, seed=args.seed, source=args.source)


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "check": cmd_check,
    "audit": cmd_audit,
    "plan": cmd_plan,
    "sync": cmd_sync,
    "demo": cmd_demo,
    "nightly": cmd_nightly,
    "status": cmd_status,
}


# -- errors ---------------------------------------------------------------------------


def user_error_types() -> tuple[type[BaseException], ...]:
    """Exceptions that are the user's to fix: one line, exit 2."""
    from app.nightly import NightlyError
    from audit.period import AuditInputError
    from audit.reports import ReportError
    from config.settings import SettingsError
    from config.sla import SLAError
    from snapshot.store import SnapshotError

    types: list[type[BaseException]] = [
        UserError,
        NightlyError,
        AuditInputError,
        ReportError,
        SLAError,
        SnapshotError,
        SettingsError,
    ]
    try:
        from connectors.sync import SyncError

        types.append(SyncError)
    except ImportError:
        pass
    return tuple(types)


def _secrets() -> list[str]:
    """Every credential in the environment, for the redactor (none if unreadable)."""
    try:
        from config.settings import Settings

        return Settings.from_env().secrets()
    except Exception:
        return []


def redact(text: str) -> str:
    try:
        from config.redact import redact as redact_text

        return redact_text(text, _secrets())
    except Exception:
        return text


def _event(name: str, **fields: object) -> dict[str, object]:
    from config.logging_setup import event

    return event(name, **fields)


def _print_error(message: str, args: argparse.Namespace) -> None:
    """One error line on stderr: text, or a JSON line under ``--log-json``."""
    line = " ".join(redact(message).split())
    if getattr(args, "log_json", False):
        log.error(line, extra=_event("error"))
    else:
        print(f"error: {line}", file=sys.stderr)


def _db_of(args: argparse.Namespace) -> str:
    return str(getattr(args, "db", None) or default_db())


def main(argv: Sequence[str] | None = None) -> int:
    from config.logging_setup import configure_logging

    parser = build_parser()
    args = parser.parse_args(argv)
    handler = configure_logging(verbose=args.verbose, json_lines=args.log_json, secrets=_secrets())
    try:
        return COMMANDS[args.command](args)
    except KeyboardInterrupt:
        _print_error("interrupted", args)
        return EXIT_ERROR
    except Exception as exc:
        if isinstance(exc, user_error_types()):
            text = redact(str(exc))
            # An SLA file with several problems states them one per line; all else is one.
            if getattr(args, "log_json", False):
                log.error(text, extra=_event("error"))
            else:
                print(f"error: {text}", file=sys.stderr)
        elif isinstance(exc, sqlite3.Error):
            from snapshot.store import describe_snapshot_error

            db = _db_of(args)
            _print_error(
                describe_snapshot_error(db, exc)
                or f"snapshot {db} could not be read or written ({exc}): check --db",
                args,
            )
        else:
            if args.verbose:
                print(redact(traceback.format_exc()), file=sys.stderr, end="")
            stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            _print_error(
                f"unexpected {type(exc).__name__}: {exc} "
                f"(at {stamp}; rerun with --verbose for details and report it)",
                args,
            )
        return EXIT_ERROR
    finally:
        logging.getLogger().removeHandler(handler)


if __name__ == "__main__":
    sys.exit(main())
