"""Errors on the command line: one line on stderr, never a traceback, never a credential.

docs/CONTRACTS.md: an error says what, where and how to fix it, on one line (a JSON line under
``--log-json``), and exits 2. Which exceptions are the user's to fix is listed once,
in :func:`user_error_types`; a SQLite error names the snapshot file; anything else is a
bug, reported with a time stamp and, under ``--verbose``, the redacted traceback.

The imports stay inside the functions, each guarded where a failure must not hide the
error being reported: reading the settings (for the redactor's secrets) can itself fail.
"""

from __future__ import annotations

import argparse
import logging
import os
import select
import sqlite3
import sys
import traceback
from datetime import UTC, datetime

from app.cli_parser import default_db
from config.exit_codes import EXIT_CLOSED_PIPE

log = logging.getLogger("sla_audit")


class UserError(Exception):
    """A mistake the user can fix; printed as one line, exit 2."""


def user_error_types() -> tuple[type[BaseException], ...]:
    """Exceptions that are the user's to fix: one line, exit 2."""
    from app.nightly import NightlyError
    from audit.period import AuditInputError
    from audit.reports import ReportError
    from config.settings import SettingsError
    from config.sla import SLAError
    from snapshot.errors import SnapshotError

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


def secrets() -> list[str]:
    """Every credential in the environment, for the redactor (none if unreadable)."""
    try:
        from config.settings import Settings

        return Settings.from_env().secrets()
    except Exception:
        return []


def redact(text: str) -> str:
    try:
        from config.redact import redact as redact_text

        return redact_text(text, secrets())
    except Exception:
        return text


def _event(name: str, **fields: object) -> dict[str, object]:
    from config.logging_setup import event

    return event(name, **fields)


def print_error(message: str, args: argparse.Namespace) -> None:
    """One error line on stderr: text, or a JSON line under ``--log-json``."""
    line = " ".join(redact(message).split())
    if getattr(args, "log_json", False):
        log.error(line, extra=_event("error"))
    else:
        print(f"error: {line}", file=sys.stderr)


def _db_of(args: argparse.Namespace) -> str:
    return str(getattr(args, "db", None) or default_db())


def stdout_closed() -> int:
    """End quietly when the reader of our output went away (``status | head``).

    Nothing went wrong that the user needs to hear about, so no error line. Standard output
    is pointed at /dev/null first, or Python would complain once more while flushing it at
    exit. The exit code is a shell's for a program stopped by SIGPIPE.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (AttributeError, OSError, ValueError):
        pass  # stdout is not a real file (captured in a test): nothing to flush there
    return EXIT_CLOSED_PIPE


def stdout_reader_gone() -> bool:
    """Whether standard output is a pipe whose reader has closed it.

    A ``BrokenPipeError`` can also come from a socket (a CRM connection): only when stdout
    itself reports the error (``POLLERR`` on its descriptor) is it the reader going away.
    """
    try:
        descriptor = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return False
    poller = select.poll()
    poller.register(descriptor, select.POLLOUT)
    return any(events & select.POLLERR for _, events in poller.poll(0))


def finish_stdout() -> int | None:
    """Flush standard output now: None, or :func:`stdout_closed`'s code if its reader left."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        return stdout_closed()
    return None


def report_failure(exc: Exception, args: argparse.Namespace) -> None:
    """Say why a command stopped: the user's mistake, the snapshot file, or a bug."""
    if isinstance(exc, user_error_types()):
        text = redact(str(exc))
        # An SLA file with several problems states them one per line; all else is one.
        if getattr(args, "log_json", False):
            log.error(text, extra=_event("error"))
        else:
            print(f"error: {text}", file=sys.stderr)
    elif isinstance(exc, sqlite3.Error):
        from snapshot.errors import describe_snapshot_error

        db = _db_of(args)
        print_error(
            describe_snapshot_error(db, exc)
            or f"snapshot {db} could not be read or written ({exc}): check --db",
            args,
        )
    else:
        if args.verbose:
            print(redact(traceback.format_exc()), file=sys.stderr, end="")
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        print_error(
            f"unexpected {type(exc).__name__}: {exc} "
            f"(at {stamp}; rerun with --verbose for details and report it)",
            args,
        )
