"""sla-audit command line: sync CRMs into a snapshot and audit the marketing–sales SLA.

Thin by design: each subcommand parses, calls the library, prints. Exit codes (DESIGN.md):
0 every rule passes or warns; 1 a rule fails; 2 bad input, bad config or a sync that
could not finish. Errors are one line on stderr, never a traceback, never a credential.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

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
"""


class UserError(Exception):
    """A mistake the user can fix; printed as one line, exit 2."""


def default_db() -> str:
    return os.environ.get("SLA_AUDIT_DB") or DEFAULT_DB


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="run_audit.py",
        description="Audit the marketing–sales SLA against what really happened in the CRM.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--verbose", action="store_true", help="log details to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    demo = sub.add_parser("demo", help="run the whole pipeline on the built-in sandbox CRM")
    demo.add_argument("--out", default="sla-report", help="report folder (default ./sla-report)")
    demo.add_argument("--size", type=int, default=4500, help="number of generated leads")
    demo.add_argument("--seed", type=int, default=7, help="seed of the generated CRM")
    demo.add_argument(
        "--source", choices=["hubspot"], default="hubspot", help="which sandbox CRM to sync"
    )

    sync = sub.add_parser("sync", help="pull what changed in a CRM into the snapshot")
    sync.add_argument(
        "--source", choices=["hubspot", "salesforce"], help="default: every source with credentials"
    )
    sync.add_argument(
        "--db", default=None, help=f"snapshot file (default {DEFAULT_DB}, env SLA_AUDIT_DB)"
    )
    sync.add_argument("--full", action="store_true", help="re-read everything, not just changes")

    audit = sub.add_parser("audit", help="audit one month of the snapshot against an SLA file")
    audit.add_argument("--sla", required=True, help="SLA file (YAML)")
    audit.add_argument("--period", required=True, help="month to audit, YYYY-MM")
    audit.add_argument("--db", default=None, help=f"snapshot file (default {DEFAULT_DB})")
    audit.add_argument("--as-of", default=None, help="the audit's 'now' (default: last good sync)")
    audit.add_argument("--format", choices=["table", "json", "csv", "html"], default="table")
    audit.add_argument("--out", default=None, help="file (table/json/html) or folder (csv)")
    audit.add_argument(
        "--trend",
        type=int,
        default=0,
        metavar="N",
        help="also audit the N months before the period (each as of its end)",
    )

    plan = sub.add_parser("plan", help="print the SLA arithmetic: customers and MQLs needed")
    plan.add_argument("--sla", required=True, help="SLA file (YAML)")
    plan.add_argument("--db", default=None, help="snapshot for rep counts and measured rates")
    plan.add_argument(
        "--from-history",
        type=int,
        default=0,
        metavar="N",
        help="measure each rate over the last N closed months of the snapshot",
    )
    plan.add_argument("--format", choices=["table", "json"], default="table")

    check = sub.add_parser("check", help="validate an SLA file and say what it promises")
    check.add_argument("--sla", required=True, help="SLA file (YAML)")
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
    from audit.period import parse_as_of
    from audit.reports import write_report
    from config.sla import load_sla

    sla = load_sla(args.sla)
    conn = open_snapshot(args.db or default_db())
    as_of = parse_as_of(args.as_of, sla.tz) if args.as_of else None
    result = run_audit(conn, sla, args.period, as_of)
    if args.trend:
        result.trend = run_trend(conn, sla, args.period, args.trend, as_of)
    write_report(result, args.format, Path(args.out) if args.out else None)
    return result.exit_code()


def cmd_plan(args: argparse.Namespace) -> int:
    from audit.engine import default_as_of, open_snapshot
    from audit.plan import make_plan
    from audit.plan_text import render_plan
    from config.sla import load_sla

    sla = load_sla(args.sla)
    conn = None
    db = args.db or (default_db() if args.from_history else None)
    if db:
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


def cmd_sync(args: argparse.Namespace) -> int:
    from config.settings import Settings
    from connectors.progress import sync_with_progress
    from connectors.store import SnapshotStore

    settings = Settings.from_env()
    sources = [args.source] if args.source else settings.configured_sources()
    if not sources:
        raise UserError(
            "no CRM credentials found: set HUBSPOT_ACCESS_TOKEN, or SALESFORCE_INSTANCE_URL "
            "with SALESFORCE_ACCESS_TOKEN (or SALESFORCE_USERNAME/PASSWORD/SECURITY_TOKEN)"
        )
    store = SnapshotStore(args.db or settings.db_path or default_db())
    try:
        for source in sources:
            summary = sync_with_progress(source, store, settings, full=args.full)
            print(summary.line())
    finally:
        store.close()
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from connectors.sandbox.demo import run_demo

    return run_demo(Path(args.out), size=args.size, seed=args.seed, source=args.source)


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "check": cmd_check,
    "audit": cmd_audit,
    "plan": cmd_plan,
    "sync": cmd_sync,
    "demo": cmd_demo,
}


# -- errors ---------------------------------------------------------------------------


def user_error_types() -> tuple[type[BaseException], ...]:
    """Exceptions that are the user's to fix: one line, exit 2."""
    from audit.period import AuditInputError
    from audit.reports import ReportError
    from config.settings import SettingsError
    from config.sla import SLAError
    from connectors.store import SnapshotError

    types: list[type[BaseException]] = [
        UserError,
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


def redact(text: str) -> str:
    try:
        from config.settings import Settings
        from connectors.redact import redact as redact_text

        return redact_text(text, Settings.from_env().secrets())
    except Exception:
        return text


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_ERROR
    except Exception as exc:
        if isinstance(exc, user_error_types()):
            print(f"error: {redact(str(exc))}", file=sys.stderr)
        else:
            if args.verbose:
                print(redact(traceback.format_exc()), file=sys.stderr, end="")
            stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            print(
                f"error: unexpected {type(exc).__name__}: {redact(str(exc))} "
                f"(at {stamp}; rerun with --verbose for details and report it)",
                file=sys.stderr,
            )
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
