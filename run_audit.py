"""sla-audit command line: sync CRMs into a snapshot and audit the marketing–sales SLA.

Thin by design: each subcommand parses, calls the library, prints. Exit codes (docs/CONTRACTS.md,
:mod:`config.exit_codes`): 0 no rule fails; 1 a rule fails; 2 bad input, bad
config or a sync that could not finish. Errors are one line on stderr, never a traceback,
never a credential (argparse's own usage errors included:
:class:`~app.cli_parser.OneLineParser`). ``status`` exits 1 when a source's last successful
sync is more than a day old.

Files written are the paths given on the command line (``--db``, ``--out``,
``--out-root``) and the snapshot's own sidecars next to it: ``-wal``/``-shm`` (SQLite)
and ``.lock`` (the writers' lock), and two trial folders: ``demo``'s ``--out`` (default
``sla-report/``) and ``sandbox``'s ``sla-sandbox/`` (its CA file, snapshot and nightly reports).
Nothing else, in the working folder or elsewhere.

The grammar is :mod:`app.cli_parser`, the subcommands :mod:`app.commands`, the error
lines :mod:`app.cli_errors`.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from app.cli_errors import (
    finish_stdout,
    print_error,
    report_failure,
    secrets,
    stdout_closed,
    stdout_reader_gone,
)
from app.cli_parser import build_parser
from app.commands import COMMANDS
from config.exit_codes import EXIT_ERROR


def main(argv: Sequence[str] | None = None) -> int:
    from config.logging_setup import configure_logging

    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit:  # --help, or a usage error: argparse has printed and exits
        finish_stdout()
        raise
    handler = configure_logging(verbose=args.verbose, json_lines=args.log_json, secrets=secrets())
    try:
        code = COMMANDS[args.command](args)
        closed = finish_stdout()  # a reader that went away shows here, not as noise at exit
        return code if closed is None else closed
    except BrokenPipeError as exc:
        if stdout_reader_gone():
            return stdout_closed()
        report_failure(exc, args)  # a socket's broken pipe is a real failure
        return EXIT_ERROR
    except KeyboardInterrupt:
        print_error("interrupted", args)
        return EXIT_ERROR
    except Exception as exc:
        report_failure(exc, args)
        return EXIT_ERROR
    finally:
        logging.getLogger().removeHandler(handler)


if __name__ == "__main__":
    sys.exit(main())
