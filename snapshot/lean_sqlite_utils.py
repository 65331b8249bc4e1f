"""sqlite-utils, imported without pandas and numpy when nothing has loaded them yet.

sqlite-utils imports pandas and numpy whenever they are installed, only to recognise their
types among inserted values; the snapshot writes plain Python values. Those two imports
were most of a sync's start-up (0.83 → 0.55 s CPU and 93 → 49 MB, benchmarks/RESULTS.md),
so every module of this package takes sqlite-utils from here. When the audit or the
sandbox loaded pandas or numpy first, nothing changes.
"""

from __future__ import annotations

import sys
from types import ModuleType


def _import_without_frames() -> ModuleType:
    heavy = [name for name in ("pandas", "numpy") if name not in sys.modules]
    if "sqlite_utils" in sys.modules or len(heavy) < 2:
        import sqlite_utils.db

        return sys.modules["sqlite_utils"]
    for name in heavy:
        sys.modules[name] = None  # type: ignore[assignment]  # makes "import name" fail
    try:
        import sqlite_utils.db  # noqa: F401
    finally:
        for name in heavy:
            del sys.modules[name]
    return sys.modules["sqlite_utils"]


sqlite_utils = _import_without_frames()
