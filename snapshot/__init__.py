"""The SQLite snapshot: schema and upgrades, the store, derived tables, instants, the lock.

sqlite-utils imports pandas and numpy whenever they are installed, only to recognise their
types among inserted values; the snapshot writes plain Python values. Those two imports
were most of a sync's start-up (benchmarks/RESULTS.md, issue 14), so sqlite-utils is first
imported here, with both hidden, unless something already loaded them (the audit, the
sandbox): then nothing changes. What this buys is measured in benchmarks/RESULTS.md.
"""

from __future__ import annotations

import sys


def _import_sqlite_utils_without_frames() -> None:
    heavy = ("pandas", "numpy")
    if any(name in sys.modules for name in heavy) or "sqlite_utils" in sys.modules:
        return
    for name in heavy:
        sys.modules[name] = None  # type: ignore[assignment]  # makes "import name" fail
    try:
        import sqlite_utils.db  # noqa: F401
    finally:
        for name in heavy:
            del sys.modules[name]


_import_sqlite_utils_without_frames()
