"""What goes wrong with a snapshot file, said as one sentence an operator can act on."""

from __future__ import annotations

import errno
import os
from pathlib import Path


class SnapshotError(Exception):
    """The snapshot file is missing, unreadable or of an unknown schema."""


def not_a_snapshot(path: Path, exc: Exception) -> str:
    """The sentence for a file SQLite cannot read as a snapshot."""
    return f"snapshot {path} is not an sla-audit snapshot ({exc}): check --db"


def describe_snapshot_error(path: str | os.PathLike[str], exc: BaseException) -> str | None:
    """One sentence (what, where, fix) for an error that is the file's fault, else None.

    SQLite reports a full disk, a read-only file and a damaged file through the same
    exception classes as a bug in our SQL; only the message tells them apart, and only
    the former three are the operator's to fix.
    """
    text = str(exc).lower()
    code = getattr(exc, "errno", None)
    if "disk is full" in text or code == errno.ENOSPC:
        return (
            f"the disk holding snapshot {path} is full ({exc}): free space there, or pass "
            "--db with a file on another disk, and run again"
        )
    denied = code in (errno.EACCES, errno.EPERM, errno.EROFS)
    if "readonly" in text or "read-only" in text or denied:
        return (
            f"snapshot {path} is read-only for this user ({exc}): make the file and its "
            "folder writable (chmod u+w), or pass --db with a writable path"
        )
    if "unable to open database file" in text:
        return (
            f"snapshot {path} cannot be opened ({exc}): check that its folder exists and "
            "is readable and writable by this user"
        )
    if "database is locked" in text or "database is busy" in text:
        return (
            f"snapshot {path} is locked by another program ({exc}): wait for it to finish "
            "and run again"
        )
    if "malformed" in text or "disk i/o error" in text:
        return (
            f"snapshot {path} is damaged ({exc}): restore it from a backup, or sync into a "
            "new file with --db PATH --full"
        )
    return None
