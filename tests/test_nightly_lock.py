"""The snapshot lock: one writer at a time, a clear message naming the holder, and --wait."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from snapshot.lock import LockBusy, SnapshotLock, is_locked, lock_path
from tests.lock_holder import hold_lock


def test_a_second_writer_is_refused_with_the_holders_pid_and_start(tmp_path: Path) -> None:
    db = tmp_path / "snapshot.db"
    holder = hold_lock(db, 30)
    try:
        with pytest.raises(LockBusy) as busy:
            SnapshotLock(db, command="run_audit.py sync").acquire()
        message = str(busy.value)
        assert f"pid {holder.pid}" in message
        assert "'run_audit.py nightly'" in message and "started 20" in message
        assert "--wait SECONDS" in message and "\n" not in message
        assert is_locked(db) is not None
    finally:
        holder.kill()
        holder.wait()


def test_the_kernel_frees_the_lock_of_a_killed_holder(tmp_path: Path) -> None:
    db = tmp_path / "snapshot.db"
    holder = hold_lock(db, 30)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    # The lock file still names the dead holder; it does not matter: flock is free.
    assert lock_path(db).exists()
    assert is_locked(db) is None
    with SnapshotLock(db, command="run_audit.py sync"):
        assert is_locked(db) is not None


def test_wait_polls_until_the_holder_finishes(tmp_path: Path) -> None:
    db = tmp_path / "snapshot.db"
    holder = hold_lock(db, 0.6)
    started = time.monotonic()
    with SnapshotLock(db, command="run_audit.py sync", wait_s=20):
        waited = time.monotonic() - started
    holder.wait()
    assert 0.2 < waited < 10


def test_wait_gives_up_after_the_time_given(tmp_path: Path) -> None:
    db = tmp_path / "snapshot.db"
    holder = hold_lock(db, 30)
    try:
        started = time.monotonic()
        with pytest.raises(LockBusy, match=r"after waiting 0\.5s"):
            SnapshotLock(db, command="run_audit.py sync", wait_s=0.5).acquire()
        assert 0.4 < time.monotonic() - started < 5
    finally:
        holder.kill()
        holder.wait()


def test_the_lock_file_is_owner_only_and_in_a_private_new_folder(tmp_path: Path) -> None:
    db = tmp_path / "new" / "folder" / "snapshot.db"
    with SnapshotLock(db, command="run_audit.py sync"):
        pass
    assert oct(lock_path(db).stat().st_mode & 0o777) == "0o600"
    assert oct(db.parent.stat().st_mode & 0o777) == "0o700"
    assert oct((tmp_path / "new").stat().st_mode & 0o777) == "0o700"
    assert not db.exists()  # the lock never creates the snapshot itself
