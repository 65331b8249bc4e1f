"""Another process holding a snapshot's writer lock, as an overlapping nightly run would."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

HOLD = textwrap.dedent(
    """
    import sys, time
    from snapshot.lock import SnapshotLock
    with SnapshotLock(sys.argv[1], command="run_audit.py nightly"):
        print("locked", flush=True)
        time.sleep(float(sys.argv[2]))
    """
)


def hold_lock(db: Path, seconds: float) -> subprocess.Popen[str]:
    """Another process holding the snapshot's lock for ``seconds``; returns once it holds it."""
    child = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(db), str(seconds)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None and child.stdout.readline().strip() == "locked"
    return child
