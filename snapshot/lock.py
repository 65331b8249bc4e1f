"""One writer per snapshot: an advisory ``flock`` on ``<snapshot>.lock``.

Cron does not know whether last night's job is still running. Two syncs writing one
snapshot would not corrupt it (SQLite serialises the transactions), but they would fetch
the same pages twice, interleave their cursors and double the API usage, and an audit
taken between them would see half of each. So ``sync`` and ``nightly`` hold this lock for
their whole run; ``audit`` and ``status`` only read and never wait for it.

Why ``flock`` on a separate file rather than a pid file: the kernel releases the lock when
the holder dies, even by SIGKILL or a power cut, so a stale lock can never block the
next night. The file is never deleted (deleting it would let a waiter lock an unlinked
inode while a newcomer locks a fresh one); it only carries the holder's pid, command and
start time, so that the second run can say who is in the way.

The lock is advisory and local: it protects against other sla-audit processes on the same
machine, not against a snapshot on a network file system shared by several machines.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from snapshot.errors import SnapshotError, describe_snapshot_error
from snapshot.store import FILE_MODE, private_folder

POLL_S = 0.2
GRACE_S = 0.25
"""Even without ``--wait``, a writer retries this long: ``status`` probes the lock with a
shared ``flock`` for microseconds, and a cron job must not give up on that."""


class LockBusy(SnapshotError):
    """Another process holds the snapshot; the message names it and the way out."""


@dataclass(frozen=True)
class Holder:
    """Who holds a lock, as written into the lock file by the holder."""

    pid: int | None
    command: str
    started_at: str
    host: str = ""

    def describe(self) -> str:
        pid = f"pid {self.pid}" if self.pid else "an unknown process"
        where = f" on {self.host}" if self.host and self.host != socket.gethostname() else ""
        return f"'{self.command}' ({pid}{where}, started {self.started_at})"


def lock_path(snapshot: str | os.PathLike[str]) -> Path:
    """The lock file of a snapshot: the snapshot's path plus ``.lock``."""
    return Path(f"{os.fspath(snapshot)}.lock")


def read_holder(path: Path) -> Holder:
    """The holder noted in a lock file (best effort: it may be mid-write or empty)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        data = {}
    if not isinstance(data, dict):
        data = {}
    pid = data.get("pid")
    return Holder(
        pid=pid if isinstance(pid, int) else None,
        command=str(data.get("command") or "sla-audit"),
        started_at=str(data.get("started_at") or "at an unknown time"),
        host=str(data.get("host") or ""),
    )


def is_locked(snapshot: str | os.PathLike[str]) -> Holder | None:
    """The holder if some process holds the snapshot's lock now, else None.

    Opens an existing lock file read-only and never creates one: ``status`` uses this and
    must not write anything.
    """
    path = lock_path(snapshot)
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return read_holder(path)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


class SnapshotLock:
    """``with SnapshotLock(db, command="nightly", wait_s=600):`` — exclusive for the block.

    ``wait_s=0`` fails at once (after :data:`GRACE_S`) with :class:`LockBusy` when another
    process holds the lock; a positive value polls until then, and fails with the same
    message if time runs out.
    """

    def __init__(
        self,
        snapshot: str | os.PathLike[str],
        *,
        command: str,
        wait_s: float = 0.0,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.snapshot = Path(snapshot)
        self.path = lock_path(snapshot)
        self.command = command
        self.wait_s = max(0.0, wait_s)
        self.monotonic = monotonic
        self.sleep = sleep
        self.fd: int | None = None

    def acquire(self) -> None:
        fd = self._open()
        deadline = self.monotonic() + max(self.wait_s, GRACE_S)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if self.monotonic() >= deadline:
                    os.close(fd)
                    raise LockBusy(self._busy_message()) from None
                poll = POLL_S if self.wait_s else POLL_S / 4
                self.sleep(min(poll, max(0.0, deadline - self.monotonic())))
        self.fd = fd
        self._note_holder(fd)

    def release(self) -> None:
        fd, self.fd = self.fd, None
        if fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)

    def __enter__(self) -> SnapshotLock:
        self.acquire()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    # -- internals ------------------------------------------------------------------------

    def _open(self) -> int:
        try:
            private_folder(self.path.parent)
            return os.open(self.path, os.O_RDWR | os.O_CREAT, FILE_MODE)
        except OSError as exc:
            reason = describe_snapshot_error(self.snapshot, exc)
            raise SnapshotError(
                f"cannot create the lock file {self.path} next to the snapshot ({exc}): "
                + ("make its folder writable" if reason else "check --db")
            ) from None

    def _busy_message(self) -> str:
        holder = read_holder(self.path)
        waited = f" after waiting {self.wait_s:g}s" if self.wait_s else ""
        return (
            f"snapshot {self.snapshot} is in use by {holder.describe()}{waited}: let it "
            "finish, or pass --wait SECONDS to wait for it"
        )

    def _note_holder(self, fd: int) -> None:
        note = {
            "pid": os.getpid(),
            "command": self.command,
            "started_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "host": socket.gethostname(),
        }
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(note).encode("utf-8"), 0)
