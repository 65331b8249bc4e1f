"""Read the snapshot on a second connection while the audit goes on with the first.

The data notes are SQL alone: their queries do their work inside SQLite and return a
handful of rows. SQLite releases Python's interpreter lock while it steps through a
query, so the notes started on another connection in a thread run beside the rest of the
audit on a second core. Reads that return many rows gain nothing this way: turning each
row into Python objects needs the lock, and the two threads then mostly take turns
(measured at 1,000,000 leads: the handoffs' activities and the cohort's history read
aside made the audit slower, the notes alone faster; benchmarks/RESULTS.md).

Each background read opens its own read-only connection to the same file (a connection
must not be shared between threads mid-query, and temp tables are per connection). A
snapshot without a file (an in-memory database in a test) is read in line on the
caller's connection, with the same result.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def snapshot_file(conn: sqlite3.Connection) -> Path | None:
    """The file behind ``conn``'s main database, or None for an in-memory one."""
    for _seq, name, file in conn.execute("pragma database_list").fetchall():
        if name == "main":
            return Path(file) if file else None
    return None


def read_aside(conn: sqlite3.Connection, work: Callable[[sqlite3.Connection], T]) -> Future[T]:
    """Start ``work(connection)`` on a new read-only connection to ``conn``'s file.

    The returned future's ``result()`` gives what ``work`` returned or raises what it
    raised. The connection is closed when ``work`` ends.
    """
    future: Future[T] = Future()
    file = snapshot_file(conn)
    if file is None:
        _settle(future, work, conn)
        return future

    def run() -> None:
        try:
            aside = sqlite3.connect(f"{file.resolve().as_uri()}?mode=ro", uri=True)
        except sqlite3.Error as exc:
            future.set_exception(exc)
            return
        try:
            _settle(future, work, aside)
        finally:
            aside.close()

    threading.Thread(target=run, name="sla-audit-read-aside", daemon=True).start()
    return future


def _settle(
    future: Future[T], work: Callable[[sqlite3.Connection], T], conn: sqlite3.Connection
) -> None:
    try:
        future.set_result(work(conn))
    except BaseException as exc:  # handed to whoever waits on the future
        future.set_exception(exc)
