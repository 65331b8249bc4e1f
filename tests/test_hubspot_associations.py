"""Engagement ↔ contact links: the sandbox pages them as HubSpot does, and the connector
reads every one — long lists, changed engagements 1,000 a request, late links.

Each test builds a small CRM (``generate_crm(size=120, seed=3)``, ending 1 Nov 2026) and
adds what it needs: a call linked to 1,200 contacts (past the 100 embedded in a list
answer and the sandbox's 500 per v4 result), a contact with 600 calls, a link added to an
engagement without touching it. Syncs run with the clock at 5 Nov 2026 12:00 UTC, so the
late-link window (30 days) starts on 6 Oct.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from connectors.core import SystemClock
from connectors.hubspot.specs import LATE_LINK_WINDOW
from connectors.sync import sync_source
from sandbox.generator import CRM, Activity, generate_crm
from sandbox.hubspot_server import HubSpotSandbox, contact_id, engagement_id
from snapshot.store import SnapshotStore
from tests.conftest import HUBSPOT_TOKEN, PORTAL_ID, hubspot_settings_for

NOW = datetime(2026, 11, 5, 12, tzinfo=UTC)
V4_CALLS = "POST /crm/v4/associations/calls/contacts/batch/read"


class FixedNow(SystemClock):
    """Real monotonic time and sleeps; ``now()`` is the sync's wall clock, set by the test."""

    def __init__(self, now: datetime) -> None:
        self.at = now

    def now(self) -> datetime:
        return self.at


@pytest.fixture
def small_crm() -> CRM:
    return generate_crm(size=120, seed=3, end=datetime(2026, 11, 1, tzinfo=UTC))


def _add_leads(crm: CRM, count: int, at: datetime) -> list[int]:
    return [crm.add_lead(at + timedelta(milliseconds=n)).key for n in range(count)]


def _links(store: SnapshotStore, act: Activity) -> set[str]:
    rows = store.db.execute(
        "select lead_id from activity_leads where activity_id = ?",
        [f"hubspot:{engagement_id(act)}"],
    )
    return {row[0] for row in rows}


def _expected(crm: CRM, act: Activity) -> set[str]:
    return {
        f"hubspot:{contact_id(k)}"
        for k in act.lead_keys
        if crm.has_lead(k) and not crm.lead(k).archived
    }


def _post(sandbox: HubSpotSandbox, path: str, body: dict) -> dict:
    answer = requests.post(
        sandbox.base_url + path,
        json=body,
        headers={"Authorization": f"Bearer {sandbox.token}"},
        timeout=10,
    )
    assert answer.status_code in (200, 207), answer.text
    return answer.json()


# ------------------------------------------------------------------ the sandbox pages


def test_an_object_read_embeds_100_associations_then_paging(small_crm: CRM) -> None:
    keys = _add_leads(small_crm, 150, NOW - timedelta(days=3))
    call = small_crm.add_activity("call", NOW - timedelta(days=2), keys)
    with HubSpotSandbox(small_crm, token=HUBSPOT_TOKEN) as sandbox:
        base = sandbox.base_url
        answer = requests.get(
            f"{base}/crm/v3/objects/calls/{engagement_id(call)}",
            params={"associations": "contacts"},
            headers={"Authorization": f"Bearer {sandbox.token}"},
            timeout=10,
        ).json()
    block = answer["associations"]["contacts"]
    assert [r["id"] for r in block["results"]] == [contact_id(k) for k in keys[:100]]
    after = block["paging"]["next"]["after"]
    assert block["paging"]["next"]["link"] == (
        f"{base}/crm/v3/objects/calls/{engagement_id(call)}/associations/contacts?after={after}"
    )


# ------------------------------------------------------------------ the connector reads


def test_a_call_with_1200_contacts_arrives_whole_in_full_and_incremental_syncs(
    small_crm: CRM, tmp_path: Path
) -> None:
    keys = _add_leads(small_crm, 1200, NOW - timedelta(days=40))
    big = small_crm.add_activity("call", NOW - timedelta(days=40), keys)
    store = SnapshotStore(tmp_path / "s.db")
    clock = FixedNow(NOW)
    with HubSpotSandbox(small_crm, token=HUBSPOT_TOKEN, portal_id=PORTAL_ID) as sandbox:
        settings = hubspot_settings_for(sandbox)
        sync_source("hubspot", store, settings, full=True, clock=clock)
        assert _links(store, big) == _expected(small_crm, big)
        # The list held 100; one v4 read of that call's 1,200 (500 + 500 + 200): 3 requests.
        assert sandbox.requests[V4_CALLS] == 3

        sandbox.reset_counters()
        clock.at = NOW + timedelta(hours=1)
        small_crm.edit_activity(big.key, clock.at, status="COMPLETED")
        sync_source("hubspot", store, settings, clock=clock)
        assert _links(store, big) == _expected(small_crm, big)
        # The calls created in the window (6 Oct on) and the edited one, 1,000 a request,
        # plus two more pages for the edited call's 1,200 contacts.
        recent = _recent(small_crm, "call", clock.at) | {big.key}
        assert sandbox.requests[V4_CALLS] == math.ceil(len(recent) / 1000) + 2
    store.close()


def _recent(crm: CRM, kind: str, now: datetime) -> set[int]:
    start = now - LATE_LINK_WINDOW
    return {
        a.key for a in crm.activities if a.kind == kind and not a.archived and a.created_at >= start
    }


def test_a_late_link_is_in_the_snapshot_after_the_next_incremental(
    small_crm: CRM, tmp_path: Path
) -> None:
    """A contact added to an existing call moves no modification time; the re-read of the
    last 30 days' engagements finds it. One older than the window waits for ``--full``."""
    live = [lead for lead in small_crm.leads if not lead.archived]
    recent = next(
        a
        for a in sorted(small_crm.activities, key=lambda a: a.created_at, reverse=True)
        if a.kind == "call" and not a.archived
    )
    old = next(
        a
        for a in small_crm.activities
        if a.kind == "call" and not a.archived and a.created_at < NOW - LATE_LINK_WINDOW
    )
    store = SnapshotStore(tmp_path / "s.db")
    clock = FixedNow(NOW)
    with HubSpotSandbox(small_crm, token=HUBSPOT_TOKEN, portal_id=PORTAL_ID) as sandbox:
        settings = hubspot_settings_for(sandbox)
        sync_source("hubspot", store, settings, clock=clock)
        newcomer = next(
            lead for lead in live if lead.key not in (*recent.lead_keys, *old.lead_keys)
        )
        stamps = (recent.updated_at, newcomer.updated_at)
        small_crm.link_activity(recent.key, newcomer.key)
        small_crm.link_activity(old.key, newcomer.key)
        assert (recent.updated_at, newcomer.updated_at) == stamps  # nothing moved

        sandbox.reset_counters()
        clock.at = NOW + timedelta(hours=1)
        summary = sync_source("hubspot", store, settings, clock=clock)

        assert f"hubspot:{contact_id(newcomer.key)}" in _links(store, recent)
        assert _links(store, recent) == _expected(small_crm, recent)
        assert f"hubspot:{contact_id(newcomer.key)}" not in _links(store, old)
        # The cost, type by type: ⌈engagements created in the window / 1,000⌉ requests.
        for otype, kind in (("calls", "call"), ("emails", "email"), ("meetings", "meeting")):
            due = len(_recent(small_crm, kind, clock.at))
            assert sandbox.requests[f"POST /crm/v4/associations/{otype}/contacts/batch/read"] == (
                math.ceil(due / 1000)
            )
        assert summary.streams["calls_links"].requests == 1

        sync_source("hubspot", store, settings, full=True, clock=clock)
        assert _links(store, old) == _expected(small_crm, old)
    store.close()


def test_recent_engagements_are_read_1000_a_request(small_crm: CRM, tmp_path: Path) -> None:
    live = [lead.key for lead in small_crm.leads if not lead.archived]
    store = SnapshotStore(tmp_path / "s.db")
    clock = FixedNow(NOW)
    with HubSpotSandbox(
        small_crm, token=HUBSPOT_TOKEN, portal_id=PORTAL_ID, ten_second_budget=None
    ) as sandbox:
        settings = hubspot_settings_for(sandbox)
        sync_source("hubspot", store, settings, clock=clock)
        at = NOW + timedelta(minutes=1)  # logged between the two syncs
        calls = [
            small_crm.add_activity("call", at + timedelta(milliseconds=n), [live[n % len(live)]])
            for n in range(2_300)
        ]
        sandbox.reset_counters()
        clock.at = NOW + timedelta(hours=1)
        sync_source("hubspot", store, settings, clock=clock)
        due = _recent(small_crm, "call", clock.at)
        assert len(due) >= 2_300
        assert sandbox.requests[V4_CALLS] == math.ceil(len(due) / 1000) == 3
        assert all(_links(store, c) == _expected(small_crm, c) for c in calls)
        # 2,300 new calls: ⌈2,300 / 199⌉ search pages (each page starts at the last
        # instant it saw, so one record a page comes twice), and nothing else per call.
        searches = sandbox.requests["POST /crm/v3/objects/calls/search"]
        assert searches <= math.ceil(2_300 / 199) + 1
    store.close()


def test_links_to_a_deleted_contact_survive_the_re_read(small_crm: CRM, tmp_path: Path) -> None:
    """HubSpot stops reporting a deleted contact's links; the snapshot keeps them."""
    live = [lead for lead in small_crm.leads if not lead.archived]
    at = NOW - timedelta(days=2)
    call = small_crm.add_activity("call", at, [live[0].key, live[1].key])
    store = SnapshotStore(tmp_path / "s.db")
    clock = FixedNow(NOW)
    with HubSpotSandbox(small_crm, token=HUBSPOT_TOKEN, portal_id=PORTAL_ID) as sandbox:
        settings = hubspot_settings_for(sandbox)
        sync_source("hubspot", store, settings, clock=clock)
        small_crm.archive_lead(live[1].key, NOW)
        clock.at = NOW + timedelta(hours=1)
        sync_source("hubspot", store, settings, clock=clock)
    assert _links(store, call) == {
        f"hubspot:{contact_id(live[0].key)}",
        f"hubspot:{contact_id(live[1].key)}",
    }
    deleted = store.db.execute(
        "select is_deleted from leads where id = ?", [f"hubspot:{contact_id(live[1].key)}"]
    ).fetchone()
    assert deleted == (1,)
    store.close()
