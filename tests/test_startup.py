"""A sync starts light (issue 14, item 10): the sync path never imports pandas or numpy.

sqlite-utils would import both whenever installed; ``snapshot/lean_sqlite_utils.py`` imports it with
them hidden. Checked in a fresh interpreter, since this test process has both loaded.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SYNC_PATH = (
    "import sys, app.commands, app.sync_command, connectors.sync, connectors.hubspot, "
    "connectors.salesforce, snapshot.store; "
    "print(sorted(m for m in ('pandas', 'numpy') if m in sys.modules))"
)


def test_the_sync_path_imports_neither_pandas_nor_numpy() -> None:
    out = subprocess.run(
        [sys.executable, "-c", SYNC_PATH], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_sqlite_utils_still_knows_numpy_when_numpy_came_first() -> None:
    """The audit and the sandbox load numpy first: sqlite-utils then sees it as usual."""
    code = "import numpy, snapshot.store, sqlite_utils.db as d; print(d.np is numpy)"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "True"
