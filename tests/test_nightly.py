"""``run_audit.py nightly`` as cron runs it: sync, audit the month so far, dated reports.

Against the HubSpot sandbox (the generated CRM ends 1 November 2026). What a RevOps lead
checks the next morning: one summary line, the reports in ``reports/<day>/``, the exit
code of docs/CONTRACTS.md, and that an overlapping run never wrote the same snapshot.
"""

from __future__ import annotations

import json
import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from app.nightly import run_nightly
from audit.wording import local_instant
from config.settings import Settings
from connectors.core import SyncError, SyncSummary
from connectors.sync import sync_source
from sandbox.hubspot_server import HubSpotSandbox
from snapshot.store import SnapshotStore
from tests.cli_helpers import run
from tests.lock_holder import hold_lock

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_SLA = REPO / "config" / "sla.example.yaml"
SLA_ZONE = ZoneInfo("America/Sao_Paulo")  # the example SLA's time zone


def nightly(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, *extra: str
) -> tuple[int, str, str]:
    return run(
        capsys, "nightly", "--sla", str(EXAMPLE_SLA), "--db", str(tmp_path / "snapshot.db"),
        "--out-root", str(tmp_path / "reports"), *extra,
    )  # fmt: skip


def today() -> set[str]:
    """The run's local date in the SLA's zone (either side of midnight, if it strikes)."""
    return {datetime.now(SLA_ZONE).date().isoformat()}


# ---------------------------------------------------------------------------- the night


def test_nightly_syncs_audits_the_month_so_far_and_writes_dated_reports(
    cli: HubSpotSandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = today()
    code, out, err = nightly(capsys, tmp_path)
    days = before | today()

    assert code in (0, 1), err
    assert err == ""  # nothing on stderr when all goes well (cron mails only problems)
    (line,) = out.strip().splitlines()
    (folder,) = (tmp_path / "reports").iterdir()
    assert folder.name in days
    assert line.startswith(f"nightly {folder.name}: synced hubspot ok (586 records, 24 requests")
    assert line.endswith(f"reports in {folder}")
    names = {p.relative_to(folder).as_posix() for p in folder.rglob("*")}
    assert {
        "report.json",
        "report.html",
        "report.xlsx",
        "csv",
        "csv/summary.csv",
        "csv/violations.csv",
    } <= names

    report = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    conn = sqlite3.connect(tmp_path / "snapshot.db")
    finished = conn.execute("select finished_at from sync_runs where status = 'ok'").fetchone()
    conn.close()
    # As-of is the end of tonight's sync; the period is the month containing it, locally.
    assert report["as_of"] == finished[0]
    as_of = datetime.fromisoformat(finished[0].replace("Z", "+00:00"))
    assert report["period"] == as_of.astimezone(SLA_ZONE).strftime("%Y-%m")
    assert code == (1 if report["status"] == "fail" else 0)
    # The month that contains as-of is still open: provisional, as-of in the SLA's zone.
    assert report["provisional"] is True
    local = local_instant(report["as_of"], report["timezone"])
    assert f"audit {report['period']} (month to date, provisional) as of {local}: " in line
    assert f"{report['status'].upper()}" in line


def test_a_second_nightly_run_syncs_incrementally_and_replaces_the_days_reports(
    cli: HubSpotSandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert nightly(capsys, tmp_path)[0] in (0, 1)
    cli.reset_counters()
    code, out, _ = nightly(capsys, tmp_path)
    assert code in (0, 1)
    assert "synced hubspot ok (8 records" in out  # only the owners, re-read every run
    assert len(list((tmp_path / "reports").iterdir())) == 1
    assert len(list((tmp_path / "reports").rglob("report.json"))) == 1


def test_an_overlapping_run_exits_2_naming_the_holder_and_writes_nothing(
    cli: HubSpotSandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    holder = hold_lock(tmp_path / "snapshot.db", 1.0)
    try:
        code, out, err = nightly(capsys, tmp_path)
        sync_code, sync_out, sync_err = run(capsys, "sync", "--db", str(tmp_path / "snapshot.db"))
    finally:
        holder.kill()
        holder.wait()

    assert (code, out) == (2, "")
    (line,) = err.strip().splitlines()
    assert f"is in use by 'run_audit.py nightly' (pid {holder.pid}" in line
    assert "--wait SECONDS" in line
    # `sync` takes the same lock.
    assert (sync_code, sync_out) == (2, "")
    assert f"(pid {holder.pid}" in sync_err and len(sync_err.strip().splitlines()) == 1
    assert cli.total_requests == 0
    assert not (tmp_path / "snapshot.db").exists()
    assert not (tmp_path / "reports").exists()


def test_wait_lets_an_overlapping_run_start_once_the_first_finishes(
    cli: HubSpotSandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    holder = hold_lock(tmp_path / "snapshot.db", 1.0)  # lets go after a second
    code, out, err = nightly(capsys, tmp_path, "--wait", "30")
    holder.wait()
    assert code in (0, 1), err
    assert "synced hubspot ok" in out


def test_rows_left_running_by_a_killed_run_are_marked_interrupted(
    cli: HubSpotSandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = SnapshotStore(tmp_path / "snapshot.db")
    store.start_run("hubspot")  # a run that was SIGKILLed: never finished
    store.close()

    assert nightly(capsys, tmp_path)[0] in (0, 1)

    conn = sqlite3.connect(tmp_path / "snapshot.db")
    runs = conn.execute("select status from sync_runs order by id").fetchall()
    conn.close()
    assert runs == [("interrupted",), ("ok",)]


def test_without_credentials_nightly_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in list(os.environ):
        if name.startswith(("HUBSPOT_", "SALESFORCE_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    code, out, err = nightly(capsys, tmp_path)
    assert (code, out) == (2, "")
    (line,) = err.strip().splitlines()
    assert "no CRM credentials" in line and "HUBSPOT_ACCESS_TOKEN" in line


def test_a_bad_sla_file_stops_the_night_before_any_api_call(
    cli: HubSpotSandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "sla.yaml"
    bad.write_text(EXAMPLE_SLA.read_text(encoding="utf-8").replace("timezone:", "tmezone:"))
    code, out, err = run(
        capsys, "nightly", "--sla", str(bad), "--db", str(tmp_path / "s.db"),
        "--out-root", str(tmp_path / "reports"),
    )  # fmt: skip
    assert (code, out) == (2, "")
    assert "tmezone" in err and "Traceback" not in err
    assert cli.total_requests == 0 and not (tmp_path / "s.db").exists()


# --------------------------------------------------------------- several sources


def _second_source(behaviour: list[str]) -> object:
    """A stand-in Salesforce sync: ``ok`` records a good run, ``fail`` raises."""

    def sync(source: str, store: SnapshotStore, settings: Settings) -> SyncSummary:
        if source == "hubspot":
            return sync_source(source, store, settings)
        what = behaviour.pop(0)
        run_id = store.start_run(source)
        if what == "fail":
            message = "salesforce sync failed in Lead: the session expired"
            store.finish_run(
                run_id, status="error", records=0, requests=1, retries=0, error=message
            )
            raise SyncError(message)
        store.finish_run(run_id, status="ok", records=0, requests=1, retries=0)
        return SyncSummary(source, run_id, 0, 1, 0, 0.01)

    return sync


def _settings(sandbox: HubSpotSandbox) -> Settings:
    return Settings.from_env(
        {
            "HUBSPOT_ACCESS_TOKEN": sandbox.token,
            "HUBSPOT_BASE_URL": sandbox.base_url,
            "SALESFORCE_INSTANCE_URL": "https://example.my.salesforce.com",
            "SALESFORCE_ACCESS_TOKEN": "00Dxx0000000000!AQ4AQFakeSessionId",
        },
        dotenv=None,
    )


def test_every_source_with_credentials_syncs_and_one_failing_still_gets_a_report(
    hubspot_sandbox: HubSpotSandbox, tmp_path: Path
) -> None:
    settings = _settings(hubspot_sandbox)
    assert settings.configured_sources() == ["hubspot", "salesforce"]

    result = run_nightly(
        EXAMPLE_SLA, tmp_path / "s.db", tmp_path / "reports", settings,
        sync=_second_source(["fail"]),  # type: ignore[arg-type]
    )  # fmt: skip

    assert result.exit_code() == 2
    assert [(s.source, s.ok) for s in result.syncs] == [("hubspot", True), ("salesforce", False)]
    assert "hubspot ok" in result.line() and "salesforce FAILED" in result.line()
    assert result.audit is not None
    notes = result.audit.data_notes
    failure = "salesforce sync failed in Lead: the session expired"
    assert f"salesforce sync failed tonight: {failure}" in notes
    # Salesforce never synced, so it has nothing to hold back: as of tonight's HubSpot sync.
    assert not any(n.startswith("figures are as of") for n in notes)
    assert (result.folder / "report.json").exists()


def test_a_source_that_fails_tonight_holds_as_of_at_its_last_good_sync(
    hubspot_sandbox: HubSpotSandbox, tmp_path: Path
) -> None:
    settings = _settings(hubspot_sandbox)
    sync = _second_source(["ok", "fail"])
    first = run_nightly(EXAMPLE_SLA, tmp_path / "s.db", tmp_path / "r", settings, sync=sync)  # type: ignore[arg-type]
    assert first.exit_code() in (0, 1)
    conn = sqlite3.connect(tmp_path / "s.db")
    salesforce_ok = conn.execute(
        "select finished_at from sync_runs where source = 'salesforce' and status = 'ok'"
    ).fetchone()[0]
    conn.close()

    second = run_nightly(EXAMPLE_SLA, tmp_path / "s.db", tmp_path / "r", settings, sync=sync)  # type: ignore[arg-type]

    assert second.exit_code() == 2
    assert second.audit is not None and second.audit.as_of == salesforce_ok
    held = local_instant(salesforce_ok, second.audit.timezone)
    assert f"figures are as of {held}" in "\n".join(second.audit.data_notes)


# ------------------------------------------------------------------------- --log-json


def test_log_json_gives_one_json_object_per_stream_per_run_and_per_night(
    cli: HubSpotSandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cli.inject("status", count=1, path_contains="/objects/notes", status=502)
    code, out, err = nightly(capsys, tmp_path, "--log-json")

    assert code in (0, 1)
    assert len(out.strip().splitlines()) == 1  # stdout stays the summary line
    records = [json.loads(line) for line in err.strip().splitlines()]
    streams = {r["stream"]: r for r in records if r.get("event") == "stream"}
    assert set(streams) >= {"owners", "contacts", "calls", "emails", "notes", "notes_archived"}
    assert streams["contacts"]["records"] == 116 and streams["contacts"]["requests"] == 3
    assert streams["notes"]["retries"] == 1
    assert all(isinstance(s["duration_s"], float) for s in streams.values())
    (retry,) = [r for r in records if r.get("event") == "retry"]
    assert (retry["stream"], retry["reason"], retry["level"]) == ("notes", "HTTP 502", "warning")
    (sync,) = [r for r in records if r.get("event") == "sync"]
    assert (sync["status"], sync["records"], sync["retries"]) == ("ok", 586, 1)
    assert sum(s["requests"] for s in streams.values()) + 1 == sync["requests"]  # + account
    (night,) = [r for r in records if r.get("event") == "nightly"]
    assert night["exit_code"] == code and night["folder"].startswith(str(tmp_path))


def test_log_json_errors_are_json_lines_too(
    cli: HubSpotSandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cli.set_token("pat-na1-rotated-by-an-admin-1111")
    code, _, err = run(capsys, "sync", "--db", str(tmp_path / "s.db"), "--log-json")
    assert code == 2
    records = [json.loads(line) for line in err.strip().splitlines()]
    assert records[-1]["level"] == "error" and "HTTP 401" in records[-1]["message"]
    failed = [r for r in records if r.get("event") == "sync"]
    assert failed and failed[0]["status"] == "error" and failed[0]["requests"] == 1


def test_a_run_is_dated_in_the_sla_time_zone(
    cli: HubSpotSandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # At 01:30 UTC it is still the previous evening in São Paulo (UTC-3).
    late = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)
    settings = Settings.from_env(dotenv=None)
    result = run_nightly(
        EXAMPLE_SLA, tmp_path / "s.db", tmp_path / "reports", settings,
        sync=lambda source, store, s: sync_source(source, store, s), now=lambda: late,
    )  # fmt: skip
    assert result.day == "2026-11-22" and result.folder == tmp_path / "reports" / "2026-11-22"
