"""``run_audit.py status``: the last syncs, the cursors, the file; exit 1 when a sync is stale."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from config.settings import Settings
from connectors.sync import sync_source
from sandbox.hubspot_server import HubSpotSandbox
from snapshot.instants import parse_instant
from snapshot.lock import SnapshotLock, lock_path
from snapshot.schema import SCHEMA_VERSION
from snapshot.status import read_status
from snapshot.store import SnapshotStore
from tests.cli_helpers import run


@pytest.fixture
def synced(
    tmp_path: Path,
    hubspot_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    hubspot_sandbox: HubSpotSandbox,
) -> Iterator[Path]:
    """A snapshot after one good HubSpot sync, with the sandbox's token in the env."""
    for name in list(os.environ):
        if name.startswith(("HUBSPOT_", "SALESFORCE_", "SLA_AUDIT_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", hubspot_sandbox.token)
    monkeypatch.chdir(tmp_path)
    db = tmp_path / "snapshot.db"
    store = SnapshotStore(db)
    sync_source("hubspot", store, hubspot_settings)
    store.close()
    yield db


def sql(db: Path, statement: str, *params: object) -> None:
    conn = sqlite3.connect(db)
    conn.execute(statement, params)
    conn.commit()
    conn.close()


def test_status_after_a_good_sync_shows_the_run_the_cursors_and_the_rows(
    synced: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "status", "--db", str(synced))

    assert (code, err) == (0, "")
    assert out.startswith(f"snapshot {synced}: ") and f"MiB, schema version {SCHEMA_VERSION}" in out
    assert "hubspot: 1 sync runs" in out
    assert "last run:        ok at 20" in out and "586 records, 24 requests, 0 retries" in out
    assert "contacts             changes since 20" in out
    assert "owners               complete (re-read in full each run)" in out
    assert "leads 120" in out and "activities 458" in out and "owners 8" in out
    assert "warning" not in out


def test_status_json_carries_the_same_facts_for_monitoring(
    synced: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "status", "--db", str(synced), "--format", "json")
    status = json.loads(out)

    assert code == 0 and status["exit_code"] == 0
    assert status["size_bytes"] > 0 and status["schema_version"] == SCHEMA_VERSION
    assert status["tables"]["leads"] == 120 and status["tables"]["sync_runs"] == 1
    (hubspot,) = status["sources"]
    run_info = hubspot["last_run"]
    assert (run_info["status"], run_info["records"], run_info["requests"]) == ("ok", 586, 24)
    assert run_info["duration_s"] >= 0 and hubspot["last_success"] == run_info
    assert hubspot["stale"] is False and hubspot["hours_since_success"] < 1
    cursors = {c["stream"]: c for c in hubspot["streams"]}
    # owners; contacts and six engagement types with their deletions; six link re-reads;
    # the Leads object; the funnel values' labels (issue 15, item 7)
    assert len(cursors) == 1 + 7 * 2 + 6 + 1 + 1
    assert cursors["contacts"]["cursor"]["mode"] == "incremental"
    assert cursors["calls_links"]["position"].startswith("changes since ")
    assert status["warnings"] == [] and status["running"] is None


def test_a_sync_older_than_a_day_is_a_warning_and_exit_1(
    synced: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sql(synced, "update sync_runs set finished_at = '2026-01-01T03:00:00.000Z'")
    code, out, _ = run(capsys, "status", "--db", str(synced))
    assert code == 1
    warning = out.strip().splitlines()[-1]
    assert warning.startswith("warning: hubspot last synced successfully ")
    assert "(2026-01-01T03:00:00.000Z): check the nightly job" in warning


def test_stale_means_more_than_a_day_after_the_last_success(synced: Path) -> None:
    finished = read_status(synced).sources[0].last_success.finished_at  # type: ignore[union-attr]
    at = parse_instant(finished)  # type: ignore[arg-type]
    assert read_status(synced, now=at + timedelta(hours=23, minutes=59)).exit_code() == 0
    assert read_status(synced, now=at + timedelta(hours=24, minutes=1)).exit_code() == 1


def test_a_failed_last_run_is_named_but_a_recent_success_keeps_exit_0(
    synced: Path, hubspot_sandbox: HubSpotSandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    hubspot_sandbox.set_token("pat-na1-rotated-by-an-admin-1111")
    assert run(capsys, "sync", "--db", str(synced))[0] == 2

    code, out, _ = run(capsys, "status", "--db", str(synced))

    assert code == 0
    assert "last run:        error at" in out and "error:           hubspot sync failed" in out
    assert "warning: hubspot's last sync (run 2) ended 'error': hubspot sync failed" in out
    assert hubspot_sandbox.token not in out


def test_a_snapshot_never_synced_successfully_is_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith(("HUBSPOT_", "SALESFORCE_")):
            monkeypatch.delenv(name)
    store = SnapshotStore(tmp_path / "s.db")
    run_id = store.start_run("hubspot")
    store.finish_run(run_id, status="error", records=0, requests=1, retries=0, error="HTTP 401")
    store.start_run("hubspot")  # killed: never finished
    store.close()

    code, out, _ = run(capsys, "status", "--db", str(tmp_path / "s.db"))

    assert code == 1
    assert "not finished (running now, or killed)" in out
    assert "warning: hubspot has never synced successfully" in out


def test_a_source_with_credentials_but_no_sync_yet_is_stale(
    synced: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SALESFORCE_INSTANCE_URL", "https://example.my.salesforce.com")
    monkeypatch.setenv("SALESFORCE_ACCESS_TOKEN", "00Dxx0000000000!AQ4AQFakeSessionId")
    code, out, _ = run(capsys, "status", "--db", str(synced))
    assert code == 1
    assert "salesforce: 0 sync runs" in out
    assert "warning: salesforce has never synced successfully" in out


def test_status_says_when_a_sync_holds_the_snapshot_and_never_writes(
    synced: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def digest() -> str:
        parts = [Path(f"{synced}{suffix}") for suffix in ("", "-wal")]
        return hashlib.sha256(b"".join(p.read_bytes() for p in parts if p.exists())).hexdigest()

    before = digest()
    assert not lock_path(synced).exists()
    run(capsys, "status", "--db", str(synced))
    assert not lock_path(synced).exists()  # status probes the lock, never creates it

    with SnapshotLock(synced, command="run_audit.py nightly"):
        code, out, _ = run(capsys, "status", "--db", str(synced))
    assert code == 0
    assert f"in use now by 'run_audit.py nightly' (pid {os.getpid()}" in out
    assert digest() == before


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        ("missing", "does not exist"),
        ("junk", "not an sla-audit snapshot"),
        ("folder", "is a folder"),
    ],
)
def test_status_of_no_snapshot_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], setup: str, expected: str
) -> None:
    db = tmp_path / "s.db"
    if setup == "junk":
        db.write_bytes(b"not sqlite at all" * 64)
    elif setup == "folder":
        db.mkdir()
    code, out, err = run(capsys, "status", "--db", str(db))
    assert (code, out) == (2, "")
    (line,) = err.strip().splitlines()
    assert expected in line
