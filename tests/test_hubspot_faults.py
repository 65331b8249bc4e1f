"""HubSpot sync under faults: rate limits, 5xx, resets, bad JSON, slow answers, revoked tokens.

Each test ends where a RevOps lead would look: the snapshot equals the generated CRM (or
the run stopped with one clear line and resumes), and the token is nowhere to be found.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from config.settings import Settings
from connectors.core import RetryPolicy, SyncOptions, ThrottlePolicy
from connectors.sync import SyncError, sync_source
from sandbox.generator import CRM
from sandbox.hubspot_server import HubSpotSandbox
from snapshot.store import SnapshotStore
from tests.conftest import (
    HUBSPOT_TOKEN,
    PORTAL_ID,
    FastClock,
    expected_snapshot,
    hubspot_settings_for,
    snapshot_rows,
)

pytestmark = pytest.mark.faults


def test_gateway_errors_resets_and_malformed_json_converge_to_the_clean_snapshot(
    crm: CRM,
    store: SnapshotStore,
    hubspot_settings: Settings,
    hubspot_sandbox: HubSpotSandbox,
    fast_clock: FastClock,
) -> None:
    hubspot_sandbox.inject("status", count=2, path_contains="/crm/v3/owners", status=502)
    hubspot_sandbox.inject("reset", count=2, path_contains="/crm/v3/objects/contacts")
    hubspot_sandbox.inject("malformed", count=2, path_contains="/crm/v3/objects/calls")
    hubspot_sandbox.inject("status", count=1, path_contains="/crm/v3/objects/emails", status=524)
    hubspot_sandbox.inject("status", count=1, path_contains="/crm/v3/objects/tasks", status=423)
    hubspot_sandbox.inject("status", count=1, path_contains="/account-info", status=500)

    summary = sync_source("hubspot", store, hubspot_settings, clock=fast_clock)

    assert snapshot_rows(store) == expected_snapshot(crm)
    # 9 faults, each costing one retry; 24 requests a clean full sync needs (2 for the
    # labels, issue 15 item 7), plus those 9
    assert summary.retries == 9 and summary.requests == 24 + 9
    assert hubspot_sandbox.pending_faults() == 0
    assert min(fast_clock.requested) >= 0.25  # backoffs start at half a second, jittered
    assert any(s >= 2.0 for s in fast_clock.requested)  # the 423 waits at least 2 s
    run = next(iter(store.db["sync_runs"].rows))
    assert (run["status"], run["retries"], run["requests"]) == ("ok", 9, 33)


def test_faults_during_an_incremental_sync_converge_too(
    crm: CRM,
    store: SnapshotStore,
    hubspot_settings: Settings,
    hubspot_sandbox: HubSpotSandbox,
    fast_clock: FastClock,
) -> None:
    sync_source("hubspot", store, hubspot_settings)
    lead = next(lead for lead in crm.leads if not lead.archived)
    crm.touch_lead(lead.key, datetime.now(UTC), status="BAD_TIMING")
    hubspot_sandbox.inject("status", count=2, path_contains="/contacts/search", status=503)
    hubspot_sandbox.inject("malformed", count=1, path_contains="/contacts/batch/read")
    hubspot_sandbox.inject("reset", count=1, path_contains="/crm/v4/associations")

    summary = sync_source("hubspot", store, hubspot_settings, clock=fast_clock)

    assert snapshot_rows(store) == expected_snapshot(crm)
    assert summary.retries == 3 and summary.streams["contacts"].records == 1


def test_a_slow_answer_past_the_read_timeout_is_retried(
    crm: CRM,
    store: SnapshotStore,
    hubspot_settings: Settings,
    hubspot_sandbox: HubSpotSandbox,
    fast_clock: FastClock,
) -> None:
    hubspot_sandbox.inject("slow", count=1, path_contains="/crm/v3/objects/meetings", delay_s=1.0)
    options = SyncOptions(read_timeout_s=0.3)

    summary = sync_source("hubspot", store, hubspot_settings, clock=fast_clock, options=options)

    assert snapshot_rows(store) == expected_snapshot(crm)
    assert summary.streams["meetings"].retries == 1


def test_a_429_storm_converges_to_the_clean_snapshot(crm: CRM, tmp_path: Path) -> None:
    # With the throttle off and a budget of 10 requests per 10 s, the 21 requests of a full
    # sync must meet 429s; the engine waits for the window each time and finishes.
    options = SyncOptions(throttle=ThrottlePolicy(enabled=False))
    with HubSpotSandbox(crm, token=HUBSPOT_TOKEN, portal_id=PORTAL_ID, ten_second_budget=10) as sb:
        store = SnapshotStore(tmp_path / "storm.db")
        summary = sync_source(
            "hubspot", store, hubspot_settings_for(sb), clock=FastClock(), options=options
        )

        assert sb.count_429 > 0
        assert summary.retries == sb.count_429
        assert summary.requests == 24 + sb.count_429
    assert snapshot_rows(store) == expected_snapshot(crm)


def test_the_throttle_keeps_a_long_sync_under_a_small_budget_without_a_429(
    crm: CRM, tmp_path: Path
) -> None:
    # Budget 14 per 10 s, less a reserve of 2: 12 requests, a wait for the window, then 10.
    with HubSpotSandbox(crm, token=HUBSPOT_TOKEN, portal_id=PORTAL_ID, ten_second_budget=14) as sb:
        store = SnapshotStore(tmp_path / "paced.db")
        summary = sync_source("hubspot", store, hubspot_settings_for(sb))

        assert sb.count_429 == 0
        assert (summary.requests, summary.retries) == (24, 0)
        assert summary.duration_s >= 9.5
    assert snapshot_rows(store) == expected_snapshot(crm)


def test_a_rejected_token_ends_the_sync_with_one_clear_line(
    store: SnapshotStore, hubspot_sandbox: HubSpotSandbox
) -> None:
    wrong = "pat-na1-ffffffff-0000-1111-2222-333333333333"
    with pytest.raises(SyncError) as failed:
        sync_source("hubspot", store, hubspot_settings_for(hubspot_sandbox, wrong))

    message = str(failed.value)
    assert "\n" not in message
    assert message.startswith("hubspot sync failed in account: GET /account-info/v3/details")
    assert "HTTP 401" in message and "HUBSPOT_ACCESS_TOKEN" in message
    assert wrong not in message
    assert hubspot_sandbox.total_requests == 1  # never retried
    run = next(iter(store.db["sync_runs"].rows))
    assert (run["status"], run["error"], run["requests"]) == ("error", message, 1)


def test_a_token_revoked_mid_sync_keeps_what_was_committed(
    crm: CRM, store: SnapshotStore, hubspot_settings: Settings, hubspot_sandbox: HubSpotSandbox
) -> None:
    hubspot_sandbox.inject("unauthorized", count=1, path_contains="/crm/v3/objects/emails")
    with pytest.raises(SyncError, match=r"in emails: GET /crm/v3/objects/emails answered HTTP 401"):
        sync_source("hubspot", store, hubspot_settings)
    assert store.count("leads") == 120
    assert store.cursor("hubspot", "emails") is None

    sync_source("hubspot", store, hubspot_settings)
    assert snapshot_rows(store) == expected_snapshot(crm)


def test_retries_exhausted_at_page_k_resume_to_the_same_snapshot(
    crm: CRM,
    store: SnapshotStore,
    hubspot_settings: Settings,
    hubspot_sandbox: HubSpotSandbox,
    fast_clock: FastClock,
) -> None:
    def break_second_emails_page(stream: str, done: int, total: int | None) -> None:
        if stream == "emails" and done == 100:
            hubspot_sandbox.inject("status", count=6, path_contains="/objects/emails", status=503)

    with pytest.raises(SyncError) as failed:
        sync_source(
            "hubspot", store, hubspot_settings, clock=fast_clock, progress=break_second_emails_page
        )
    assert "GET /crm/v3/objects/emails kept failing (HTTP 503); gave up after 6 attempts" in str(
        failed.value
    )
    assert store.count("activities") == 164 + 100  # calls, then the first page of emails
    hubspot_sandbox.reset_counters()

    sync_source("hubspot", store, hubspot_settings, clock=fast_clock)

    assert snapshot_rows(store) == expected_snapshot(crm)
    assert hubspot_sandbox.requests["GET /crm/v3/objects/emails"] == 2  # page 2 + archived


def test_the_token_never_reaches_logs_errors_or_the_snapshot(
    store: SnapshotStore,
    hubspot_settings: Settings,
    hubspot_sandbox: HubSpotSandbox,
    fast_clock: FastClock,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    caplog.set_level(logging.DEBUG)
    errors: list[str] = []
    hubspot_sandbox.inject("status", count=2, status=502)
    hubspot_sandbox.inject("reset", count=1, path_contains="/calls")
    sync_source("hubspot", store, hubspot_settings, clock=fast_clock)
    hubspot_sandbox.inject("unauthorized", count=1, path_contains="/crm/v3/owners")
    try:
        sync_source("hubspot", store, hubspot_settings, clock=fast_clock)
    except SyncError as exc:
        errors.append(str(exc))
    hubspot_sandbox.set_token("rotated-token-000000")
    try:
        sync_source("hubspot", store, hubspot_settings, clock=fast_clock)
    except SyncError as exc:
        errors.append(str(exc))

    assert len(errors) == 2 and all("HTTP 401" in e for e in errors)
    assert caplog.records, "the sync logged nothing at all: the check below would be empty"
    assert any("retry" in r.getMessage() for r in caplog.records)
    assert HUBSPOT_TOKEN not in caplog.text
    assert all(HUBSPOT_TOKEN not in e for e in errors)
    for table in store.db.table_names():
        for row in store.db.execute(f"select * from [{table}]"):
            assert HUBSPOT_TOKEN not in repr(row), table
    store.db.conn.execute("PRAGMA wal_checkpoint(FULL)")
    for path in tmp_path.glob("snapshot.db*"):
        assert HUBSPOT_TOKEN.encode() not in path.read_bytes()
    assert HUBSPOT_TOKEN not in repr(hubspot_settings)


@pytest.mark.parametrize(
    ("source", "environ", "fix"),
    [
        ("hubspot", {}, "HUBSPOT_ACCESS_TOKEN"),
        ("salesforce", {}, "SALESFORCE_INSTANCE_URL"),
        ("pipedrive", {"HUBSPOT_ACCESS_TOKEN": "x" * 10}, "use one of hubspot"),
    ],
)
def test_missing_credentials_or_unknown_source_name_the_fix(
    source: str, environ: dict[str, str], fix: str, store: SnapshotStore
) -> None:
    with pytest.raises(SyncError, match=fix):
        sync_source(source, store, Settings.from_env(environ, dotenv=None))
    assert store.count("sync_runs") == 0


def test_retry_budget_is_bounded_in_time(
    store: SnapshotStore,
    hubspot_settings: Settings,
    hubspot_sandbox: HubSpotSandbox,
    fast_clock: FastClock,
) -> None:
    hubspot_sandbox.inject("status", count=50, path_contains="/crm/v3/owners", status=503)
    options = SyncOptions(retry=RetryPolicy(attempts=50, max_total_wait_s=5.0))
    with pytest.raises(SyncError, match="GET /crm/v3/owners/ kept failing"):
        sync_source("hubspot", store, hubspot_settings, clock=fast_clock, options=options)
    # Waits 0.25–0.5, 0.5–1, 1–2, 2–4 s …: the next would pass 5 s in total, so it stops.
    assert sum(fast_clock.requested) <= 5.0
    assert 3 <= hubspot_sandbox.requests["GET /crm/v3/owners/"] <= 5


class LaterClock(FastClock):
    """A day later, as far as the daily allowance is concerned."""

    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(hours=25)


def test_the_sync_spends_at_most_its_share_of_the_daily_allowance(crm: CRM, tmp_path: Path) -> None:
    # Allowance 50 a day, share 0.5: 25 requests in any 24 hours. A full sync needs 24, so
    # the next run may make one request only, then stops with a line saying what to change.
    with HubSpotSandbox(crm, token=HUBSPOT_TOKEN, portal_id=PORTAL_ID, daily_budget=50) as sb:
        settings = hubspot_settings_for(sb, SLA_AUDIT_MAX_DAILY_SHARE="0.5")
        store = SnapshotStore(tmp_path / "share.db")
        assert sync_source("hubspot", store, settings).requests == 24
        sb.reset_counters()

        with pytest.raises(SyncError) as stopped:
            sync_source("hubspot", store, settings)
        assert sb.total_requests == 1
        assert "25 in 24 hours" in str(stopped.value)
        assert "SLA_AUDIT_MAX_DAILY_SHARE=0.5 of 50" in str(stopped.value)

        sb.reset_rate_limits()  # the CRM's new day
        summary = sync_source("hubspot", store, settings, clock=LaterClock())
        assert summary.retries == 0 and sb.count_429 == 0
    assert snapshot_rows(store) == expected_snapshot(crm)
