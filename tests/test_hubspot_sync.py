"""HubSpot sync against the sandbox over real HTTP: full, incremental, resume, time zones.

The CRM is ``generate_crm(size=120, seed=3)``: 120 contacts (4 archived), 458 engagements
(1 archived task), 8 owners (1 deactivated). Expected rows come from
``tests.conftest.expected_snapshot``, which reads the generated CRM directly.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import textwrap
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from config.settings import Settings
from connectors.sync import SyncError, sync_source
from sandbox.generator import CRM
from sandbox.hubspot_server import ENGAGEMENT_TYPES, HubSpotSandbox, contact_id
from snapshot.store import SnapshotStore
from tests.conftest import (
    HUBSPOT_TOKEN,
    add_connected_call,
    expected_snapshot,
    full_dump,
    hubspot_settings_for,
    snapshot_rows,
)

REPO = Path(__file__).resolve().parent.parent


def _pages(count: int, cap: int) -> int:
    """Requests to list ``count`` records at ``cap`` a page: an empty list still costs one."""
    return max(1, math.ceil(count / cap))


def minimum_full_sync_requests(crm: CRM) -> Counter[str]:
    """The fewest requests a full sync can make, endpoint by endpoint, from HubSpot's caps:
    owners 500 a page, contacts 50 (with property history), engagements 100, Leads-object
    records 50 (with their stage history; live only), plus one account-details call for
    the portal id that record URLs need, and one property definition per funnel field for
    the values' labels (issue 15, item 7)."""
    active_reps = sum(r.active for r in crm.reps)
    live = Counter(("contacts" if not lead.archived else "contacts_archived") for lead in crm.leads)
    for act in crm.activities:
        otype = next(t for t, kind in ENGAGEMENT_TYPES.items() if kind == act.kind)
        live[f"{otype}_archived" if act.archived else otype] += 1
    need: Counter[str] = Counter()
    need["GET /account-info/v3/details"] = 1
    need["GET /crm/v3/owners/"] = _pages(active_reps, 500) + _pages(
        len(crm.reps) - active_reps, 500
    )
    need["GET /crm/v3/objects/contacts"] = _pages(live["contacts"], 50) + _pages(
        live["contacts_archived"], 50
    )
    for otype in ENGAGEMENT_TYPES:
        need[f"GET /crm/v3/objects/{otype}"] = _pages(live[otype], 100) + _pages(
            live[f"{otype}_archived"], 100
        )
    need["GET /crm/v3/objects/leads"] = _pages(sum(not o.archived for o in crm.lead_objects), 50)
    need["GET /crm/v3/properties/contacts/{propertyName}"] = 2
    return need


def test_full_sync_equals_the_generated_crm(
    crm: CRM, store: SnapshotStore, hubspot_settings: Settings
) -> None:
    summary = sync_source("hubspot", store, hubspot_settings)

    assert snapshot_rows(store) == expected_snapshot(crm)
    # 120 leads + 458 activities + 8 owners, each written once
    assert summary.records == 120 + 458 + 8
    deleted = {r[0] for r in store.db.execute("select crm_id from leads where is_deleted = 1")}
    assert deleted == {contact_id(lead.key) for lead in crm.leads if lead.archived}
    # Archived engagements keep when they were archived (archivedAt), for audits as of before.
    gone = store.db.execute(
        "select count(*), count(deleted_at) from activities where is_deleted = 1"
    ).fetchone()
    assert gone[0] == sum(1 for a in crm.activities if a.archived) > 0 and gone[0] == gone[1]
    assert all(
        row[0].startswith('{"archived":')
        for row in store.db.execute("select raw from leads union all select raw from activities")
    )
    run = next(iter(store.db["sync_runs"].rows))
    assert (run["status"], run["records"], run["requests"], run["retries"], run["error"]) == (
        "ok",
        summary.records,
        summary.requests,
        0,
        None,
    )


def test_full_sync_makes_exactly_the_minimum_number_of_requests(
    crm: CRM, store: SnapshotStore, hubspot_settings: Settings, hubspot_sandbox: HubSpotSandbox
) -> None:
    summary = sync_source("hubspot", store, hubspot_settings)

    need = minimum_full_sync_requests(crm)
    # owners 1+1, contacts ⌈116/50⌉ + ⌈4/50⌉ = 3+1, calls ⌈164/100⌉+1 = 3, emails 2+1,
    # meetings 1+1, tasks 1+1, notes 1+1, communications 1+1, leads 1, account 1, the labels of
    # lifecyclestage and hs_lead_status 2 (issue 15, item 7) → 24
    assert sum(need.values()) == 24
    assert Counter(hubspot_sandbox.requests) == need
    assert summary.requests == hubspot_sandbox.total_requests == 24


def test_incremental_sync_picks_up_exactly_the_changes_in_few_requests(
    crm: CRM, store: SnapshotStore, hubspot_settings: Settings, hubspot_sandbox: HubSpotSandbox
) -> None:
    sync_source("hubspot", store, hubspot_settings)
    before = snapshot_rows(store)
    hubspot_sandbox.reset_counters()

    now = datetime.now(UTC)
    tick = iter(timedelta(milliseconds=n) for n in range(1, 100))
    live = [lead for lead in crm.leads if not lead.archived]
    crm.touch_lead(live[0].key, now + next(tick), stage="marketingqualifiedlead")
    crm.touch_lead(live[1].key, now + next(tick), status="CONNECTED")
    crm.touch_lead(live[2].key, now + next(tick), owner_key=2)
    new_lead = crm.add_lead(now + next(tick), owner_key=3, status="NEW")
    gone = live[3]
    crm.archive_lead(gone.key, now + next(tick))
    call = add_connected_call(crm, now + next(tick), live[4].key, owner_key=3)
    task = next(a for a in crm.activities if a.kind == "task" and not a.archived)
    crm.edit_activity(task.key, now + next(tick), status="COMPLETED")
    email = next(a for a in crm.activities if a.kind == "email" and not a.archived)
    crm.edit_activity(email.key, now + next(tick), archived=True)

    summary = sync_source("hubspot", store, hubspot_settings)

    expected = expected_snapshot(crm)
    got = snapshot_rows(store)
    # HubSpot stops reporting links to a deleted contact; the snapshot keeps the old ones
    # as evidence of what was done to the lead before it was deleted.
    kept = {
        link for link in before["activity_leads"] if link[1] == f"hubspot:{contact_id(gone.key)}"
    }
    assert got == {**expected, "activity_leads": expected["activity_leads"] | kept}

    # Changed: contacts 0, 1, 2, the new one and #4 (its new call moved lastmodifieddate);
    # deleted: #3; one new call, one completed task, one archived email.
    streams = {name: s.records for name, s in summary.streams.items() if s.records}
    assert streams == {
        "owners": 8,
        "contacts": 5,
        "contacts_archived": 1,
        "calls": 1,
        "tasks": 1,
        "emails_archived": 1,
    }
    assert {r[0] for r in got["leads"] - before["leads"]} == {
        f"hubspot:{contact_id(k)}"
        for k in (live[0].key, live[1].key, live[2].key, live[4].key, new_lead.key, gone.key)
    }
    assert call.key and task.key
    need = Counter(
        {
            "GET /account-info/v3/details": 1,
            "GET /crm/v3/owners/": 2,
            "POST /crm/v3/objects/contacts/batch/read": 2,  # 5 changed, 1 newly deleted
            "POST /crm/v4/associations/calls/contacts/batch/read": 1,
            "POST /crm/v4/associations/tasks/contacts/batch/read": 1,
        }
    )
    for otype in ("contacts", *ENGAGEMENT_TYPES):
        need[f"POST /crm/v3/objects/{otype}/search"] += 1  # one page of changes each
        need[f"GET /crm/v3/objects/{otype}"] += 1  # the archived list
    need["POST /crm/v3/objects/leads/search"] += 1  # no archived list for leads
    assert Counter(hubspot_sandbox.requests) == need
    # 1 + 2 + 2 + 1 + 1 + 8 searches + 7 archived lists = 22, whatever the CRM's size
    assert summary.requests == sum(need.values()) == 22


def test_a_sync_killed_mid_stream_resumes_to_the_same_snapshot(
    crm: CRM, store: SnapshotStore, hubspot_settings: Settings, hubspot_sandbox: HubSpotSandbox
) -> None:
    def kill_after_first_calls_page(stream: str, done: int, total: int | None) -> None:
        if stream == "calls" and done >= 100:
            raise KeyboardInterruptLike("operator pressed Ctrl-C")

    with pytest.raises(SyncError, match="KeyboardInterruptLike") as stopped:
        sync_source("hubspot", store, hubspot_settings, progress=kill_after_first_calls_page)
    assert "\n" not in str(stopped.value)
    assert store.count("activities") == 100  # the first page of calls, committed
    first_run = hubspot_sandbox.total_requests
    hubspot_sandbox.reset_counters()

    summary = sync_source("hubspot", store, hubspot_settings)

    assert snapshot_rows(store) == expected_snapshot(crm)
    # The resumed run reads calls from page 2 on (⌈164/100⌉ - 1 = 1 page, + 1 archived),
    # and every stream after calls in full; contacts, already complete, only search.
    assert hubspot_sandbox.requests["GET /crm/v3/objects/calls"] == 2
    assert hubspot_sandbox.requests["GET /crm/v3/objects/contacts"] == 1  # archived ids
    assert hubspot_sandbox.requests["POST /crm/v3/objects/contacts/search"] == 1
    assert summary.streams["calls"].records == 64
    assert first_run + summary.requests > 19
    runs = [(r["status"], r["error"] is None) for r in store.db["sync_runs"].rows]
    assert runs == [("error", False), ("ok", True)]


class KeyboardInterruptLike(Exception):
    """What a killed process looks like from inside the progress callback."""


def test_full_resync_rewrites_the_same_snapshot(
    crm: CRM, store: SnapshotStore, hubspot_settings: Settings, hubspot_sandbox: HubSpotSandbox
) -> None:
    sync_source("hubspot", store, hubspot_settings)
    first = full_dump(store)
    hubspot_sandbox.reset_counters()

    summary = sync_source("hubspot", store, hubspot_settings, full=True)

    assert full_dump(store) == first
    assert summary.requests == sum(minimum_full_sync_requests(crm).values())


def test_the_snapshot_does_not_depend_on_the_machines_time_zone(
    crm: CRM, tmp_path: Path, hubspot_settings: Settings, hubspot_sandbox: HubSpotSandbox
) -> None:
    script = textwrap.dedent(
        """
        import sys, time
        from config.settings import Settings
        from snapshot.store import SnapshotStore
        from connectors.sync import sync_source

        store = SnapshotStore(sys.argv[1])
        summary = sync_source("hubspot", store, Settings.from_env(dotenv=None))
        print(time.strftime("%z"), summary.records)
        """
    )
    env = {
        **os.environ,
        "TZ": "America/New_York",
        "HUBSPOT_ACCESS_TOKEN": HUBSPOT_TOKEN,
        "HUBSPOT_BASE_URL": hubspot_sandbox.base_url,
        "PYTHONPATH": str(REPO),
    }
    new_york = tmp_path / "new_york.db"
    done = subprocess.run(
        [sys.executable, "-c", script, str(new_york)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    offset, records = done.stdout.split()
    assert offset in ("-0500", "-0400") and int(records) == 586

    here = SnapshotStore(tmp_path / "here.db")
    sync_source("hubspot", here, hubspot_settings)
    there = SnapshotStore(new_york)
    assert full_dump(there) == full_dump(here)
    assert snapshot_rows(there) == expected_snapshot(crm)


def test_a_change_hidden_by_search_lag_arrives_with_the_next_run(crm: CRM, tmp_path: Path) -> None:
    # HubSpot's search index trails writes; here by 30 s of sandbox time.
    sandbox_now = [datetime.now(UTC)]
    with HubSpotSandbox(
        crm,
        token=HUBSPOT_TOKEN,
        search_lag_s=30,
        search_per_second=None,
        clock=lambda: sandbox_now[0],
    ) as sandbox:
        settings = hubspot_settings_for(sandbox)
        store = SnapshotStore(tmp_path / "lag.db")
        sync_source("hubspot", store, settings)
        lead = next(lead for lead in crm.leads if not lead.archived)
        changed_at = datetime.now(UTC)
        crm.touch_lead(lead.key, changed_at, stage="salesqualifiedlead")

        sandbox_now[0] = changed_at + timedelta(seconds=5)  # written, not yet searchable
        assert sync_source("hubspot", store, settings).streams["contacts"].records == 0

        sandbox_now[0] = changed_at + timedelta(seconds=60)
        assert sync_source("hubspot", store, settings).streams["contacts"].records == 1
    stage = store.db.execute("select stage from leads where crm_id = ?", [contact_id(lead.key)])
    assert stage.fetchone()[0] == "salesqualifiedlead"


def test_a_process_killed_outright_resumes_to_the_same_snapshot(
    crm: CRM, tmp_path: Path, hubspot_settings: Settings, hubspot_sandbox: HubSpotSandbox
) -> None:
    # SIGKILL: no exception handler, no finally, no 'error' row; only committed pages stay.
    script = textwrap.dedent(
        """
        import os, signal, sys
        from config.settings import Settings
        from snapshot.store import SnapshotStore
        from connectors.sync import sync_source

        def progress(stream, done, total):
            if stream == "emails" and done >= 100:
                os.kill(os.getpid(), signal.SIGKILL)

        sync_source("hubspot", SnapshotStore(sys.argv[1]), Settings.from_env(dotenv=None),
                    progress=progress)
        """
    )
    db = tmp_path / "killed.db"
    env = {
        **os.environ,
        "HUBSPOT_ACCESS_TOKEN": HUBSPOT_TOKEN,
        "HUBSPOT_BASE_URL": hubspot_sandbox.base_url,
        "PYTHONPATH": str(REPO),
    }
    killed = subprocess.run(
        [sys.executable, "-c", script, str(db)], env=env, cwd=tmp_path, timeout=60, check=False
    )
    assert killed.returncode == -9

    store = SnapshotStore(db)
    assert store.count("activities") == 164 + 100  # all calls, the first page of emails
    assert [r["status"] for r in store.db["sync_runs"].rows] == ["running"]
    hubspot_sandbox.reset_counters()

    sync_source("hubspot", store, hubspot_settings)

    assert snapshot_rows(store) == expected_snapshot(crm)
    assert hubspot_sandbox.requests["GET /crm/v3/objects/emails"] == 2  # page 2 + archived
