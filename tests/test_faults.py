"""The fault suite: what a night can throw at the sync, and what must hold afterwards.

Every test names the fault and then checks what a RevOps lead relies on the next morning:
the snapshot converges to the one an undisturbed sync makes (or stops with one clear line
and resumes), nothing half-written is left behind, and the file is never damaged.

The sandbox runs in this process on 127.0.0.1; syncs run either in-process (with a clock
whose sleeps are capped, so backoffs take milliseconds) or as real ``run_audit.py``
processes, which the SIGKILL test kills at random points.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from config.settings import Settings
from connectors.core import SyncOptions, SystemClock, ThrottlePolicy
from connectors.sync import SyncError, sync_source
from sandbox.generator import CRM, generate_crm
from sandbox.hubspot_server import HubSpotSandbox, contact_id, engagement_id
from snapshot.store import SnapshotStore
from tests.cli_helpers import run
from tests.conftest import (
    FIXED_END,
    HUBSPOT_TOKEN,
    PORTAL_ID,
    expected_snapshot,
    snapshot_rows,
)

pytestmark = pytest.mark.faults

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_SLA = REPO / "config" / "sla.example.yaml"
COMPARED_TABLES = (
    "owners",
    "leads",
    "lead_history",
    "activities",
    "activity_leads",
    "data_issues",
    "meta",
)


# ------------------------------------------------------------------------------ helpers


def cli_env(sandbox: HubSpotSandbox, token: str | None = None) -> dict[str, str]:
    """The environment of a cron job pointed at the sandbox (no other CRM credentials)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUBSPOT_", "SALESFORCE_"))}
    env.update(
        {
            "HUBSPOT_ACCESS_TOKEN": token or sandbox.token,
            "HUBSPOT_BASE_URL": sandbox.base_url,
            "PYTHONPATH": str(REPO),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    env.pop("SLA_AUDIT_DB", None)
    return env


def dump(db: Path) -> dict[str, Any]:
    """Every table that must converge, row for row (``raw`` included), plus cursor modes.

    ``sync_runs`` and the instants inside ``sync_state`` cursors are when things happened,
    not what the snapshot holds, so they are left out.
    """
    conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        out: dict[str, Any] = {}
        for table in COMPARED_TABLES:
            rows = conn.execute(f"select * from [{table}]").fetchall()
            out[table] = sorted(rows, key=repr)
        state = conn.execute("select source, stream, cursor from sync_state").fetchall()
        out["sync_state"] = sorted(
            (source, stream, json.loads(cursor)["mode"], bool(json.loads(cursor).get("scanning")))
            for source, stream, cursor in state
        )
        return out
    finally:
        conn.close()


def integrity(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return str(conn.execute("pragma integrity_check").fetchone()[0])
    finally:
        conn.close()


def digest(db: Path) -> str:
    """The snapshot's bytes, main file and WAL: unchanged means untouched."""
    h = hashlib.sha256()
    for suffix in ("", "-wal"):
        part = Path(f"{db}{suffix}")
        if part.exists():
            h.update(part.read_bytes())
    return h.hexdigest()


def data_rows(db: Path) -> dict[str, int]:
    conn = sqlite3.connect(db)
    try:
        return {
            t: conn.execute(f"select count(*) from [{t}]").fetchone()[0]
            for t in ("owners", "leads", "lead_history", "activities", "activity_leads")
        } | {"sync_state": conn.execute("select count(*) from sync_state").fetchone()[0]}
    finally:
        conn.close()


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert lines[0].startswith("error: ")
    return lines[0]


# ------------------------------------------------------------------- SIGKILL, 20 points


def test_a_sync_killed_at_20_random_points_converges_to_the_uninterrupted_snapshot(
    tmp_path: Path,
) -> None:
    """SIGKILL a real ``run_audit.py sync`` twenty times, mid-request and mid-commit.

    The first ten kills land in the first (full) sync, the next ten in incremental runs
    after the CRM changed; each run resumes from what the killed one committed. After one
    undisturbed run the snapshot must equal a fresh sync of the same CRM, row for row.
    """
    rng = random.Random(20261125)
    crm = generate_crm(size=150, seed=11, end=FIXED_END)
    db = tmp_path / "killed.db"
    kills: list[tuple[int, float]] = []
    completed = 0
    with HubSpotSandbox(
        crm,
        token=HUBSPOT_TOKEN,
        portal_id=PORTAL_ID,
        ten_second_budget=None,
        search_per_second=None,
    ) as sandbox:
        env = cli_env(sandbox)
        command = [sys.executable, str(REPO / "run_audit.py"), "sync", "--db", str(db)]
        while len(kills) < 20:
            assert len(kills) + completed < 60, "the kills keep missing the sync"
            if len(kills) == 10 and completed >= 1 and not crm_changed(crm):
                change_crm(crm)
            before = sandbox.total_requests
            # Kill once the sandbox has seen the N-th request of this run, then after a
            # random few milliseconds: waiting for the answer, parsing, or inside a commit.
            target = rng.randint(1, 22)
            delay = rng.choice([0.0, rng.uniform(0.0, 0.012)])
            child = subprocess.Popen(
                command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
            while child.poll() is None and sandbox.total_requests - before < target:
                time.sleep(0.0005)
            if child.poll() is None:
                time.sleep(delay)
                child.send_signal(signal.SIGKILL)
            _out, err = child.communicate(timeout=60)
            if child.returncode == -signal.SIGKILL:
                kills.append((sandbox.total_requests - before, delay))
            else:
                assert child.returncode == 0, err.decode()
                completed += 1
            assert integrity(db) == "ok"
        assert crm_changed(crm), "the second half of the kills should meet a changed CRM"

        final = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, timeout=120)
        assert final.returncode == 0, final.stderr.decode()

        reference_db = tmp_path / "reference.db"
        reference = SnapshotStore(reference_db)
        sync_source("hubspot", reference, settings_for(sandbox), options=FAST)
        reference.close()

    assert len({requests for requests, _ in kills}) >= 8, kills  # spread over the run
    assert dump(db) == dump(reference_db)
    conn = sqlite3.connect(db)
    statuses = [r[0] for r in conn.execute("select status from sync_runs order by id")]
    conn.close()
    assert statuses[-1] == "ok"
    assert "running" not in statuses  # every killed run was marked interrupted
    assert statuses.count("interrupted") >= 15  # some kills land before a run row exists


FAST = SyncOptions(throttle=ThrottlePolicy(enabled=False))


class VirtualClock(SystemClock):
    """Time that jumps forward on every sleep, so backoffs and rate-limit windows cost
    nothing; ``now()`` is the real wall time plus the time slept (scan instants stay real)."""

    def __init__(self) -> None:
        self.slept = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return time.monotonic() + self.slept

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.slept += max(0.0, seconds)

    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.slept)


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


def settings_for(sandbox: HubSpotSandbox, token: str | None = None) -> Settings:
    return Settings.from_env(
        {"HUBSPOT_ACCESS_TOKEN": token or sandbox.token, "HUBSPOT_BASE_URL": sandbox.base_url},
        dotenv=None,
    )


def crm_changed(crm: CRM) -> bool:
    return any(lead.first_name == "Changed" for lead in crm.leads)


def change_crm(crm: CRM) -> None:
    """What a working day does to a CRM: stages, statuses, owners, new leads and calls."""
    now = datetime.now(UTC)
    tick = iter(timedelta(milliseconds=n) for n in range(1, 1000))
    live = [lead for lead in crm.leads if not lead.archived]
    for lead in live[:40]:
        crm.touch_lead(lead.key, now + next(tick), status="CONNECTED")
    for lead in live[40:50]:
        crm.touch_lead(lead.key, now + next(tick), owner_key=2)
    for n in range(20):
        new = crm.add_lead(now + next(tick), owner_key=3, status="NEW", first_name="Changed")
        crm.add_activity(
            "call", now + next(tick), [new.key], owner_key=3, direction="OUTBOUND", title=f"{n}"
        )


# --------------------------------------------------- 429 storms, 5xx, resets, bad JSON


@pytest.mark.parametrize(
    ("kind", "status", "paths"),
    [
        ("status", 429, ("/crm/v3/owners", "/objects/contacts", "/objects/calls", "/account")),
        ("status", 500, ("/crm/v3/owners", "/objects/contacts", "/objects/emails")),
        ("status", 502, ("/objects/contacts", "/objects/meetings", "/objects/notes")),
        ("status", 503, ("/objects/calls", "/objects/tasks", "/account-info")),
        ("status", 504, ("/objects/contacts", "/objects/emails")),
        ("reset", 0, ("/crm/v3/owners", "/objects/contacts", "/objects/calls")),
        ("malformed", 0, ("/objects/contacts", "/objects/emails", "/objects/tasks")),
    ],
    ids=["429-storm", "500-burst", "502-burst", "503-burst", "504-burst", "resets", "truncated"],
)
def test_bursts_within_the_retry_budget_converge_to_the_clean_snapshot(
    crm: CRM,
    store: SnapshotStore,
    hubspot_settings: Settings,
    hubspot_sandbox: HubSpotSandbox,
    clock: VirtualClock,
    kind: str,
    status: int,
    paths: tuple[str, ...],
) -> None:
    # Five in a row per endpoint: one short of the six attempts a call gets.
    for path in paths:
        hubspot_sandbox.inject(kind, count=5, path_contains=path, status=status or 503)  # type: ignore[arg-type]

    summary = sync_source("hubspot", store, hubspot_settings, clock=clock)

    assert snapshot_rows(store) == expected_snapshot(crm)
    assert hubspot_sandbox.pending_faults() == 0
    assert summary.retries == 5 * len(paths)
    run = store.last_run("hubspot")
    assert run is not None and (run["status"], run["retries"]) == ("ok", 5 * len(paths))


def test_answers_of_the_wrong_shape_are_retried_like_truncated_ones(
    crm: CRM,
    store: SnapshotStore,
    hubspot_settings: Settings,
    hubspot_sandbox: HubSpotSandbox,
    clock: VirtualClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A proxy answering 200 with its own page, an API answering a bare string or an
    # object without "results": valid JSON, wrong shape. Each is retried, not stored.
    from sandbox import hubspot_server

    wrong = iter([{"status": "ok"}, "<html>upstream timeout</html>", [1, 2, 3], None])
    original = hubspot_sandbox.handle

    def handle(method: str, path: str, headers: dict[str, str], body: bytes) -> Any:
        key, answer, fault = original(method, path, headers, body)
        if "/objects/" in path and answer is not None and answer.status == 200:
            shape = next(wrong, StopIteration)
            if shape is not StopIteration:
                return key, hubspot_server._Answer(200, shape), fault
        return key, answer, fault

    monkeypatch.setattr(hubspot_sandbox, "handle", handle)
    summary = sync_source("hubspot", store, hubspot_settings, clock=clock)

    assert snapshot_rows(store) == expected_snapshot(crm)
    assert summary.retries == 4


@pytest.mark.parametrize(
    ("kind", "status", "reason"),
    [
        ("status", 429, "HTTP 429 rate limited"),
        ("status", 503, "HTTP 503"),
        ("reset", 0, "connection problem"),
        ("malformed", 0, "malformed JSON"),
    ],
    ids=["429", "503", "reset", "truncated"],
)
def test_a_storm_longer_than_the_retry_budget_stops_cleanly_and_the_next_run_converges(
    crm: CRM,
    store: SnapshotStore,
    hubspot_settings: Settings,
    hubspot_sandbox: HubSpotSandbox,
    clock: VirtualClock,
    kind: str,
    status: int,
    reason: str,
) -> None:
    def storm_on_second_calls_page(stream: str, done: int, total: int | None) -> None:
        if stream == "calls" and done == 100:
            hubspot_sandbox.inject(kind, count=6, path_contains="/objects/calls", status=status)  # type: ignore[arg-type]

    with pytest.raises(SyncError) as stopped:
        sync_source(
            "hubspot",
            store,
            hubspot_settings,
            clock=clock,
            progress=storm_on_second_calls_page,
        )
    message = str(stopped.value)
    assert "\n" not in message and reason in message and "gave up after 6 attempts" in message
    assert "run the sync again later" in message and HUBSPOT_TOKEN not in message
    assert store.count("activities") == 100  # the first calls page is committed, nothing more
    assert store.last_run("hubspot")["status"] == "error"  # type: ignore[index]

    sync_source("hubspot", store, hubspot_settings, clock=clock)
    assert snapshot_rows(store) == expected_snapshot(crm)


# ----------------------------------------------------------- expired or invalid token


def test_an_invalid_token_is_one_line_exit_2_and_writes_no_data(
    cli: HubSpotSandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cli.set_token("pat-na1-the-token-hubspot-now-expects-0000")
    db = tmp_path / "fresh.db"

    code, out, err = run(capsys, "sync", "--db", str(db))

    assert code == 2 and out == ""
    line = one_error_line(err)
    assert "HTTP 401" in line and "HUBSPOT_ACCESS_TOKEN" in line
    assert HUBSPOT_TOKEN not in err
    # The failure is on record for `status`; no row of data and no cursor was written.
    assert data_rows(db) == dict.fromkeys(
        ("owners", "leads", "lead_history", "activities", "activity_leads", "sync_state"), 0
    )
    conn = sqlite3.connect(db)
    runs = conn.execute("select status, error from sync_runs").fetchall()
    conn.close()
    assert runs == [("error", line.removeprefix("error: "))]


def test_an_expired_token_leaves_an_existing_snapshot_as_it_was(
    cli: HubSpotSandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "snapshot.db"
    assert run(capsys, "sync", "--db", str(db))[0] == 0
    before = dump(db)
    cli.set_token("pat-na1-rotated-by-an-admin-1111")

    code, out, err = run(capsys, "sync", "--db", str(db))

    assert code == 2 and out == ""
    assert "HTTP 401" in one_error_line(err)
    assert dump(db) == before


def test_nightly_with_an_expired_token_still_reports_yesterdays_figures_and_exits_2(
    cli: HubSpotSandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "snapshot.db"
    assert run(capsys, "sync", "--db", str(db))[0] == 0
    conn = sqlite3.connect(db)
    last_ok = conn.execute("select max(finished_at) from sync_runs").fetchone()[0]
    conn.close()
    cli.set_token("pat-na1-rotated-by-an-admin-1111")

    code, out, err = run(
        capsys, "nightly", "--sla", str(EXAMPLE_SLA), "--db", str(db),
        "--out-root", str(tmp_path / "reports"),
    )  # fmt: skip

    assert code == 2
    assert "HTTP 401" in one_error_line(err)
    assert "hubspot FAILED" in out and len(out.strip().splitlines()) == 1
    (report_file,) = (tmp_path / "reports").glob("*/report.json")
    report = json.loads(report_file.read_text(encoding="utf-8"))
    assert report["as_of"] == last_ok  # as of the last sync that did complete
    assert any("hubspot sync failed tonight" in n and "HTTP 401" in n for n in report["data_notes"])


def test_nightly_with_an_invalid_token_on_a_new_snapshot_writes_no_report(
    cli: HubSpotSandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cli.set_token("pat-na1-the-token-hubspot-now-expects-0000")
    code, out, err = run(
        capsys, "nightly", "--sla", str(EXAMPLE_SLA), "--db", str(tmp_path / "new.db"),
        "--out-root", str(tmp_path / "reports"),
    )  # fmt: skip
    assert code == 2
    assert "HTTP 401" in one_error_line(err)
    assert "no audit" in out
    assert not (tmp_path / "reports").exists()


# --------------------------------------------------------------- disk full, read-only


def test_a_full_disk_stops_the_sync_with_the_fix_and_the_snapshot_stays_whole(
    crm: CRM, tmp_path: Path, hubspot_settings: Settings, hubspot_sandbox: HubSpotSandbox
) -> None:
    db = tmp_path / "snapshot.db"
    store = SnapshotStore(db)
    pages = store.db.execute("pragma page_count").fetchone()[0]
    # A disk with room for a few pages more than the empty snapshot: full mid-sync.
    store.db.execute(f"pragma max_page_count = {pages + 75}")

    with pytest.raises(SyncError) as full:
        sync_source("hubspot", store, hubspot_settings)

    message = str(full.value)
    assert "\n" not in message
    assert "is full" in message and "free space" in message and str(db) in message
    assert "committed pages are kept" in message
    store.db.execute("pragma max_page_count = 1073741823")  # space freed
    assert store.db.execute("pragma integrity_check").fetchone()[0] == "ok"
    kept = store.count("leads")
    assert 0 < kept < 120  # whole pages only

    sync_source("hubspot", store, hubspot_settings)
    assert snapshot_rows(store) == expected_snapshot(crm)
    store.close()


def test_a_full_disk_at_the_command_line_is_one_line_exit_2_nothing_half_written(
    cli: HubSpotSandbox,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db = tmp_path / "snapshot.db"
    written: list[int] = []
    original = SnapshotStore.write_page

    def write_page(self: SnapshotStore, source: str, stream: str, page: Any, cursor: Any) -> int:
        if len(written) == 3:
            # As SQLite reports ENOSPC: the page's transaction is rolled back.
            with self.transaction():
                self.upsert_leads([{"id": "hubspot:half", "source": "hubspot"}])
                raise sqlite3.OperationalError("database or disk is full")
        written.append(1)
        return original(self, source, stream, page, cursor)

    monkeypatch.setattr(SnapshotStore, "write_page", write_page)
    code, out, err = run(capsys, "sync", "--db", str(db))

    assert code == 2 and out == ""
    line = one_error_line(err)
    assert "the disk holding snapshot" in line and "is full" in line and "free space" in line
    assert integrity(db) == "ok"
    conn = sqlite3.connect(db)
    assert conn.execute("select count(*) from leads where id = 'hubspot:half'").fetchone()[0] == 0
    conn.close()


def readonly_connect(db: Path) -> Any:
    """``sqlite3.connect`` as SQLite behaves on a read-only file (what chmod 0o400 does
    for any user but root, who is exempt from file permissions)."""
    real = sqlite3.connect

    def connect(target: Any, *args: Any, **kwargs: Any) -> sqlite3.Connection:
        if Path(str(target)) == db:
            kwargs.pop("uri", None)
            return real(f"{db.resolve().as_uri()}?mode=ro", *args, uri=True, **kwargs)
        return real(target, *args, **kwargs)

    return connect


@pytest.mark.parametrize("command", ["sync", "nightly"])
def test_a_read_only_snapshot_is_one_line_exit_2_and_stays_intact(
    cli: HubSpotSandbox,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    command: str,
) -> None:
    db = tmp_path / "snapshot.db"
    assert run(capsys, "sync", "--db", str(db))[0] == 0
    before = digest(db)
    monkeypatch.setattr("snapshot.store.sqlite3.connect", readonly_connect(db))

    extra = ["--sla", str(EXAMPLE_SLA), "--out-root", str(tmp_path / "r")]
    code, out, err = run(capsys, command, "--db", str(db), *(extra if command == "nightly" else []))

    assert code == 2 and out == ""
    line = one_error_line(err)
    assert "read-only" in line and "writable" in line and str(db) in line
    monkeypatch.undo()
    assert digest(db) == before and integrity(db) == "ok"


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
@pytest.mark.parametrize("where", ["file", "folder"])
def test_a_chmod_read_only_snapshot_or_folder_is_one_line_exit_2(
    cli: HubSpotSandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    folder = tmp_path / "data"
    db = folder / "snapshot.db"
    assert run(capsys, "sync", "--db", str(db))[0] == 0
    before = digest(db)
    target = db if where == "file" else folder
    target.chmod(0o400 if where == "file" else 0o500)
    try:
        code, out, err = run(capsys, "sync", "--db", str(db))
        assert code == 2 and out == ""
        line = one_error_line(err)
        assert "writable" in line or "read-only" in line
    finally:
        target.chmod(0o600 if where == "file" else 0o700)
    assert digest(db) == before


# ---------------------------------------------------- doubtful records: kept and noted


def october_leads(crm: CRM, count: int) -> list[int]:
    """Live leads with a funnel change in October 2026 (the audited month)."""
    start, end = datetime(2026, 10, 1, 3, tzinfo=UTC), datetime(2026, 11, 1, 3, tzinfo=UTC)
    keys = [
        lead.key
        for lead in crm.leads
        if not lead.archived and any(start <= h.at < end for h in lead.history)
    ]
    assert len(keys) >= count
    return keys[:count]


def test_naive_future_ownerless_duplicate_and_merged_records_are_kept_and_noted(
    crm: CRM, cli: HubSpotSandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "snapshot.db"
    naive, future, unknown_owner, original, absorbed, survivor = october_leads(crm, 6)
    # A lead handed off in October that nobody owns.
    crm.add_lead(datetime(2026, 10, 15, 13, tzinfo=UTC), stage="marketingqualifiedlead")
    assert run(capsys, "sync", "--db", str(db))[0] == 0  # the merged lead is synced first

    now = datetime.now(UTC)
    # A date-time without a zone; a creation date in 2099; an owner the CRM does not
    # list; a second live lead with an existing email; a merge after the first sync.
    cli.tamper("contacts", contact_id(naive), "createdate", "2026-10-05T10:00:00")
    cli.tamper("contacts", contact_id(future), "createdate", "2099-01-01T00:00:00.000Z")
    call = next(a for a in crm.activities if a.kind == "call" and not a.archived)
    cli.tamper("calls", engagement_id(call), "hs_timestamp", "2099-02-02T00:00:00.000Z")
    crm.touch_lead(naive, now)
    crm.touch_lead(future, now + timedelta(milliseconds=1))
    crm.edit_activity(call.key, now + timedelta(milliseconds=2), title="tampered")
    crm.touch_lead(unknown_owner, now + timedelta(milliseconds=3), owner_key=99)
    twin = crm.add_lead(
        now + timedelta(milliseconds=5),
        email=crm.lead(original).email.upper(),
        stage="marketingqualifiedlead",
    )
    crm.merge_leads(survivor, absorbed, now + timedelta(milliseconds=4))

    code, _, err = run(capsys, "sync", "--db", str(db))
    assert code == 0, err

    conn = sqlite3.connect(db)
    created = dict(conn.execute("select crm_id, created_at from leads").fetchall())
    issues = set(conn.execute("select record_id, field, issue from data_issues").fetchall())
    conn.close()
    assert created[contact_id(naive)] == "2026-10-05T10:00:00.000Z"  # read as UTC, kept
    assert created[contact_id(future)] == "2099-01-01T00:00:00.000Z"  # kept as sent
    assert created[contact_id(absorbed)] is not None  # merged away in HubSpot, kept here
    assert created[contact_id(twin.key)] is not None
    assert issues == {
        (f"hubspot:{contact_id(naive)}", "createdate", "naive_instant"),
        (f"hubspot:{contact_id(future)}", "created_at", "future_instant"),
        (f"hubspot:{engagement_id(call)}", "occurred_at", "future_instant"),
    }

    out_file = tmp_path / "october.json"
    code, _, err = run(
        capsys, "audit", "--sla", str(EXAMPLE_SLA), "--period", "2026-10", "--db", str(db),
        "--as-of", "2026-11-01T03:00:00Z", "--format", "json", "--out", str(out_file),
    )  # fmt: skip
    assert code in (0, 1), err
    notes = json.loads(out_file.read_text(encoding="utf-8"))["data_notes"]
    text = "\n".join(notes)
    assert "read as UTC" in text and f"hubspot:{contact_id(naive)} createdate" in text
    assert "after the sync that read" in text and "2099-01-01" in text
    assert "owner the CRM no" in text and "hubspot:200099" in text
    assert "1 handoff had no owner (reported as 'unassigned')" in text
    assert "merged into another in the CRM" in text
    assert f"hubspot:{contact_id(absorbed)} (into hubspot:{contact_id(survivor)})" in text
    assert "more than one live lead" not in text  # as of 1 November the twin did not exist

    # The twin arrived today: November's report, as of the last sync, names both leads.
    month = now.astimezone(ZoneInfo("America/Sao_Paulo")).strftime("%Y-%m")  # the SLA's zone
    code, out, err = run(
        capsys, "audit", "--sla", str(EXAMPLE_SLA), "--period", month,
        "--db", str(db), "--format", "json",
    )  # fmt: skip
    assert code in (0, 1), err
    notes = "\n".join(json.loads(out)["data_notes"])
    email = crm.lead(original).email.lower()
    pair = ", ".join(sorted([f"hubspot:{contact_id(original)}", f"hubspot:{contact_id(twin.key)}"]))
    assert "more than one live lead" in notes and f"{email} ({pair})" in notes


def test_a_timestamp_that_is_no_instant_at_all_still_stops_with_one_line(
    crm: CRM, cli: HubSpotSandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A naive instant is read as UTC; "last tuesday" is not an instant in any zone.
    lead = october_leads(crm, 1)[0]
    cli.tamper("contacts", contact_id(lead), "createdate", "last tuesday")
    code, _, err = run(capsys, "sync", "--db", str(tmp_path / "s.db"))
    assert code == 2
    line = one_error_line(err)
    assert f"contacts record {contact_id(lead)} has createdate='last tuesday'" in line
