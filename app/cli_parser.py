"""The command line's grammar: subcommands, flags, help texts and the one-line usage error.

Scripts and cron jobs depend on every name here (docs/CONTRACTS.md's command line is a contract),
so each subcommand's flags are declared in one small function, and the choices that come
from a registry — report formats, CRM sources — are read from that registry, never
copied: a new format or source appears here without an edit.
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
from collections.abc import Callable
from typing import NoReturn

from audit.report_formats import FORMATS
from config.exit_codes import EXIT_ERROR
from config.settings import DEFAULT_DB
from config.sources import source_names

PROG = "run_audit.py"

EXAMPLES = """examples:
  python run_audit.py demo                          # sandbox CRM -> sync -> audit -> reports
  python run_audit.py sandbox                       # serve a fake CRM; prints what to export
  python run_audit.py sync --source hubspot                 # needs HubSpot credentials
  python run_audit.py audit --sla config/sla.example.yaml --period 2026-10
  python run_audit.py audit --sla my_sla.yaml --period this-month       # provisional, to date
  python run_audit.py audit --sla my_sla.yaml --period 2026-10 --as-of 2026-11-01T03:00:00Z \\
                            --format csv --out reports/2026-10
  python run_audit.py plan --sla my_sla.yaml --from-history 3
  python run_audit.py inspect --source hubspot --write-sla my_sla.yaml  # the portal's values
  python run_audit.py check --sla my_sla.yaml --db snapshot.db    # values the CRM never uses
  python run_audit.py nightly --sla my_sla.yaml --db /srv/sla/snapshot.db --out-root reports
  python run_audit.py status --db /srv/sla/snapshot.db         # exit 1 if a sync is stale
  python run_audit.py watch --sla my_sla.yaml --db /srv/sla/snapshot.db  # cron, every 15 min
"""

TABLE_OR_JSON = ("table", "json")
"""``plan`` and ``status``: a text table for people or JSON for scripts (not audit reports)."""

DEMO_BOTH = "both"
"""The sandbox's extra ``--source``: marketing in the HubSpot sandbox, sales in Salesforce."""
SANDBOX_SOURCES = ("hubspot", "salesforce", DEMO_BOTH)
"""The CRMs the sandbox imitates (not every registered source has a fake)."""
SANDBOX_PORT = 8765
"""``sandbox``'s HubSpot port (Salesforce: the next one); fixed so the exports stay true."""


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (what, and where to read more), exit 2.

    The default prints the whole usage block first; in a cron mail that buries the line
    that says what was wrong.
    """

    def error(self, message: str) -> NoReturn:
        text = " ".join(message.split()) + did_you_mean(message)
        self.exit(EXIT_ERROR, f"{self.prog}: error: {text} (see {self.prog} --help)\n")


_INVALID_CHOICE = re.compile(r"invalid choice: '(?P<given>[^']*)' \(choose from (?P<choices>.*)\)")


def did_you_mean(message: str) -> str:
    """``; did you mean 'audit'?`` for a mistyped command or choice close to a real one."""
    found = _INVALID_CHOICE.search(" ".join(message.split()))
    if found is None:
        return ""
    choices = re.findall(r"'([^']*)'", found["choices"])
    close = difflib.get_close_matches(found["given"], choices, n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def default_db() -> str:
    """``--db`` when not given: env ``SLA_AUDIT_DB``, else ``snapshot.db``."""
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


def _sla_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sla", required=True, help="SLA file (YAML)")


def _wait_flag(parser: argparse.ArgumentParser, help_text: str) -> None:
    parser.add_argument("--wait", type=_seconds, default=0.0, metavar="SECONDS", help=help_text)


def _port(text: str) -> int:
    """``--port``: a TCP port with room for the next one (Salesforce listens there)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 1 <= value <= 65534:
        raise argparse.ArgumentTypeError(f"{text!r} must be between 1 and 65534")
    return value


def _generated_crm_flags(parser: argparse.ArgumentParser, what: str) -> None:
    """``--source``, ``--size`` and ``--seed``: which fake CRM, how big, which draw."""
    parser.add_argument("--size", type=int, default=4500, help="number of generated leads")
    parser.add_argument("--seed", type=int, default=7, help="seed of the generated CRM")
    parser.add_argument(
        "--source",
        default="hubspot",
        choices=SANDBOX_SOURCES,
        help=f"which sandbox CRM to {what} (both: marketing in HubSpot, sales in Salesforce)",
    )


def _demo_flags(demo: argparse.ArgumentParser) -> None:
    demo.add_argument("--out", default="sla-report", help="report folder (default ./sla-report)")
    _generated_crm_flags(demo, "sync")
    demo.add_argument(
        "--now",
        action="store_true",
        help="data up to the current hour, audited as of then (default: the fixed demo "
        "instant 2026-11-16T09:00:00Z, so every run gives the same reports)",
    )


def _sandbox_flags(sandbox: argparse.ArgumentParser) -> None:
    _generated_crm_flags(sandbox, "serve")
    sandbox.add_argument(
        "--port",
        type=_port,
        default=SANDBOX_PORT,
        help=f"HubSpot's port, Salesforce on the next one (default {SANDBOX_PORT})",
    )


def _sync_flags(sync: argparse.ArgumentParser) -> None:
    sync.add_argument(
        "--source", choices=source_names(), help="default: every source with credentials"
    )
    sync.add_argument(
        "--db", default=None, help=f"snapshot file (default {DEFAULT_DB}, env SLA_AUDIT_DB)"
    )
    sync.add_argument("--full", action="store_true", help="re-read everything, not just changes")
    sync.add_argument(
        "--sla",
        default=None,
        help="SLA file: also sync the CRM properties it names (reason, segment, tier fields)",
    )
    _wait_flag(
        sync, "if another sync holds the snapshot, wait up to this long (default: fail at once)"
    )


def _audit_flags(audit: argparse.ArgumentParser) -> None:
    _sla_flag(audit)
    audit.add_argument(
        "--period",
        required=True,
        help="month to audit: YYYY-MM, last-month or this-month (the month of --as-of)",
    )
    audit.add_argument("--db", default=None, help=f"snapshot file (default {DEFAULT_DB})")
    audit.add_argument(
        "--as-of",
        default=None,
        help="the audit's 'now' (default: a closed month's end, else the last good sync)",
    )
    audit.add_argument("--format", choices=FORMATS, default="table")
    audit.add_argument("--out", default=None, help="file (table/json/html/xlsx) or folder (csv)")
    audit.add_argument(
        "--trend",
        type=_whole,
        default=0,
        metavar="N",
        help="also audit the N months before the period (each as of its end)",
    )


def _plan_flags(plan: argparse.ArgumentParser) -> None:
    _sla_flag(plan)
    plan.add_argument("--db", default=None, help="snapshot for rep counts and measured rates")
    plan.add_argument(
        "--from-history",
        type=_whole,
        default=0,
        metavar="N",
        help="measure each rate over the last N closed months of the snapshot",
    )
    plan.add_argument("--format", choices=TABLE_OR_JSON, default="table")


def _check_flags(check: argparse.ArgumentParser) -> None:
    _sla_flag(check)
    check.add_argument(
        "--db",
        default=None,
        help="also check the SLA's funnel values against this snapshot's data",
    )


def _inspect_flags(inspect: argparse.ArgumentParser) -> None:
    inspect.add_argument("--source", choices=source_names(), required=True)
    inspect.add_argument(
        "--db",
        default=None,
        help=f"count values in this snapshot (default {DEFAULT_DB} when it exists)",
    )
    inspect.add_argument("--format", choices=TABLE_OR_JSON, default="table")
    inspect.add_argument(
        "--write-sla",
        metavar="FILE",
        default=None,
        help="also write a starter SLA file with this portal's funnel values (never overwrites)",
    )
    inspect.add_argument(
        "--properties",
        action="store_true",
        help="list every lead property (default: custom ones and those found filled)",
    )


def _nightly_flags(nightly: argparse.ArgumentParser) -> None:
    _sla_flag(nightly)
    nightly.add_argument("--db", default=None, help=f"snapshot file (default {DEFAULT_DB})")
    nightly.add_argument(
        "--out-root",
        default="reports",
        help="reports go to OUT_ROOT/YYYY-MM-DD/ (default ./reports)",
    )
    _wait_flag(
        nightly,
        "if another run holds the snapshot, wait up to this long (default: exit 2 at once)",
    )


def _watch_flags(watch: argparse.ArgumentParser) -> None:
    _sla_flag(watch)
    watch.add_argument("--db", default=None, help=f"snapshot file (default {DEFAULT_DB})")
    watch.add_argument(
        "--no-sync", action="store_true", help="watch the snapshot as it is, without syncing"
    )
    watch.add_argument(
        "--dry-run",
        action="store_true",
        help="print the alerts that would be sent; send and record nothing",
    )
    watch.add_argument(
        "--as-of", default=None, help="judge as of this instant (default: the last good sync)"
    )
    watch.add_argument(
        "--digest",
        action="store_true",
        help="send today's digest now, if not sent yet (default: first run after opening)",
    )
    _wait_flag(
        watch, "if another run holds the snapshot, wait up to this long (default: exit 2 at once)"
    )


def _status_flags(status: argparse.ArgumentParser) -> None:
    status.add_argument("--db", default=None, help=f"snapshot file (default {DEFAULT_DB})")
    status.add_argument("--format", choices=TABLE_OR_JSON, default="table")


SUBCOMMANDS: tuple[tuple[str, str, Callable[[argparse.ArgumentParser], None]], ...] = (
    ("demo", "run the whole pipeline on the built-in sandbox CRM", _demo_flags),
    (
        "sandbox",
        "serve a fake HubSpot/Salesforce on 127.0.0.1 to try sync, status and nightly on",
        _sandbox_flags,
    ),
    ("sync", "pull what changed in a CRM into the snapshot", _sync_flags),
    ("audit", "audit one month of the snapshot against an SLA file", _audit_flags),
    ("plan", "print the SLA arithmetic: customers and MQLs needed", _plan_flags),
    ("check", "validate an SLA file and say what it promises", _check_flags),
    (
        "inspect",
        "list a CRM's stages, statuses, call outcomes and owners; write a starter SLA",
        _inspect_flags,
    ),
    (
        "nightly",
        "sync every source with credentials, then audit the month so far",
        _nightly_flags,
    ),
    ("status", "show the snapshot's syncs, cursors, size; exit 1 if stale", _status_flags),
    (
        "watch",
        "sync, then alert each team of new breaches and leads about to breach (cron)",
        _watch_flags,
    ),
)
"""(name, help, flags) in the order ``--help`` lists them."""


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog=PROG,
        description="Audit the marketing–sales SLA against what really happened in the CRM.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _global_flags(parser, default=False)
    common = argparse.ArgumentParser(add_help=False)
    _global_flags(common, default=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, help_text, add_flags in SUBCOMMANDS:
        add_flags(sub.add_parser(name, help=help_text, parents=[common]))
    return parser
