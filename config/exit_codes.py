"""The process's exit codes: the one part of the command line every cron job reads.

docs/CONTRACTS.md's contract: "Exit codes: 0 every rule passes or warns; 1 a rule fails; 2 bad
input, bad config or a sync that could not finish." ``status`` reuses 1 for a stale
snapshot (a source's last successful sync more than a day old, or none), so a monitoring
check alerts on the same code as a breached SLA.

They live in ``config``, the lowest layer, so the audit's verdict, the snapshot's status,
the nightly job and the command line all return these names rather than bare numbers.
"""

from __future__ import annotations

from typing import Final

EXIT_OK: Final = 0
"""Every rule passes or warns; the snapshot's syncs are fresh."""

EXIT_FAIL: Final = 1
"""A rule fails; or ``status`` finds a stale (or never synced) source."""

EXIT_ERROR: Final = 2
"""Bad input, bad config, or a sync that could not finish: one line on stderr says which."""

EXIT_CLOSED_PIPE: Final = 141
"""Whoever read standard output stopped reading (``status | head``): a shell's code for a
program stopped by SIGPIPE (128 + 13). The command ends quietly, without an error line."""
