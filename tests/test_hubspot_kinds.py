"""HubSpot communications and the Leads object, synced from the sandbox and audited
(issue 14, item 5; docs/SEMANTICS.md Part II, Attempts and connection / Funnel events).

Each test builds a tiny portal from scratch (one rep, a contact or two) so every figure is
computed by hand. Times are São Paulo local (UTC−3), business hours Mon–Fri 09:00–12:00
and 13:00–18:00 (the base test SLA); Mon 2026-10-12 is a holiday.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from connectors.sync import sync_source
from sandbox.generator import CRM, Rep, generate_crm
from sandbox.hubspot_server import HubSpotSandbox, contact_id, lead_object_id
from snapshot.store import SnapshotStore
from tests.conftest import HUBSPOT_TOKEN, hubspot_settings_for
from tests.tiny_crm import audit_snapshot, make_sla

LOCAL = ZoneInfo("America/Sao_Paulo")
END = datetime(2026, 11, 1, tzinfo=UTC)
WITH_MESSAGES = ["call", "email", "meeting", "message"]
LEAD_FUNNEL = {
    "mql": {"lead_stage": ["new-stage-id"]},
    "sql": {"lead_stage": ["qualified-stage-id"]},
    "recycled": {"lead_stage": ["unqualified-stage-id"]},
}


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LOCAL)


def portal() -> CRM:
    """One active rep (owner 200001) and nothing else yet."""
    created = datetime(2026, 1, 5, tzinfo=UTC)
    rep = Rep(1, "ana@acme.example", "Ana", "Lima", "inbound", True, created, created)
    return CRM(reps=[rep], leads=[], activities=[], seed=0, end=END)


@pytest.fixture
def tiny() -> CRM:
    return portal()


@pytest.fixture
def sandbox(tiny: CRM) -> Iterator[HubSpotSandbox]:
    with HubSpotSandbox(tiny, token=HUBSPOT_TOKEN) as sb:
        yield sb


def sync(store: SnapshotStore, sandbox: HubSpotSandbox) -> None:
    sync_source("hubspot", store, hubspot_settings_for(sandbox, HUBSPOT_PORTAL_ID="1"))


def audit(store: SnapshotStore, **changes: object):
    return audit_snapshot(store.path, make_sla(**changes))


# ------------------------------------------------------------------ communications


def test_a_whatsapp_message_is_the_attempt_that_meets_first_touch(tiny, sandbox, store):
    # Handoff Tue 10-06 10:00; the rep's WhatsApp at 10:03 = 3 business minutes ≤ 5 min.
    lead = tiny.add_lead(local("2026-10-06 10:00"), stage="marketingqualifiedlead", owner_key=1)
    tiny.add_activity(
        "communication", local("2026-10-06 10:03"), [lead.key], owner_key=1, status="WHATS_APP"
    )
    sync(store, sandbox)

    row = store.db.execute("select kind, direction, status, owner_id from activities").fetchone()
    assert row == ("message", None, "WHATS_APP", "hubspot:200001")
    links = store.db.execute("select lead_id from activity_leads").fetchall()
    assert links == [(f"hubspot:{contact_id(lead.key)}",)]

    speed = audit(store, **{"sales.attempts.channels": WITH_MESSAGES}).rule("speed_to_lead")
    assert (speed.measured, speed.judged, speed.details["median_minutes"]) == (1.0, 1, 3.0)
    # Left out of the channels, the message is no attempt: untouched, deadline passed.
    without = audit(store).rule("speed_to_lead")
    assert (without.measured, without.judged) == (0.0, 1)


def test_messages_count_by_default_and_never_connect(tiny, sandbox, store):
    # Handoff Tue 10-06 10:00; an SMS at 10:01 and a LinkedIn message Wed 10:00: two
    # counted attempts (a day apart ≥ 4 h) and no connection: 2 < 3 → attempts violation.
    lead = tiny.add_lead(local("2026-10-06 10:00"), stage="marketingqualifiedlead", owner_key=1)
    for at, channel in (("2026-10-06 10:01", "SMS"), ("2026-10-07 10:00", "LINKEDIN_MESSAGE")):
        tiny.add_activity("communication", local(at), [lead.key], owner_key=1, status=channel)
    sync(store, sandbox)

    result = audit(store, **{"sales.attempts.channels": None})  # the default channels
    assert result.rule("speed_to_lead").measured == 1.0
    attempts = result.rule("attempts")
    assert (attempts.measured, attempts.details["connected"]) == (0.0, 0)
    assert attempts.violations[0].reason.startswith("2 counted attempts and no connection")


# ------------------------------------------------------------------ the Leads object


def contact_with_lead_objects(tiny: CRM) -> int:
    """A contact that never becomes an MQL by lifecycle stage; its work is on two leads.

    Lead 1: new Wed 10-07 10:00 (handoff), attempting 10:20 with a WhatsApp message,
    unqualified Fri 10-09 10:00. Lead 2: new Tue 10-20 10:00 (the second handoff),
    qualified Wed 10-21 11:00.
    """
    contact = tiny.add_lead(local("2026-10-01 09:00"), stage="lead", owner_key=1)
    first = tiny.add_lead_object(contact.key, local("2026-10-07 10:00"), owner_key=1)
    tiny.add_activity(
        "communication", local("2026-10-07 10:20"), [contact.key], owner_key=1, status="WHATS_APP"
    )
    tiny.move_lead_object(first.key, local("2026-10-07 10:20"), "attempting-stage-id")
    tiny.move_lead_object(first.key, local("2026-10-09 10:00"), "unqualified-stage-id")
    second = tiny.add_lead_object(contact.key, local("2026-10-20 10:00"), owner_key=1)
    tiny.move_lead_object(second.key, local("2026-10-21 11:00"), "qualified-stage-id")
    return contact.key


def lead_stages(store: SnapshotStore) -> list[tuple[str, str, str]]:
    return store.db.execute(
        "select lead_id, value, changed_at from lead_history where field = 'lead_stage' "
        "order by changed_at"
    ).fetchall()


def test_lead_object_stages_join_the_contact_timeline_and_find_handoffs(tiny, sandbox, store):
    key = contact_with_lead_objects(tiny)
    sync(store, sandbox)

    cid = f"hubspot:{contact_id(key)}"
    assert lead_stages(store) == [
        (cid, "new-stage-id", "2026-10-07T13:00:00.000Z"),
        (cid, "attempting-stage-id", "2026-10-07T13:20:00.000Z"),
        (cid, "unqualified-stage-id", "2026-10-09T13:00:00.000Z"),
        (cid, "new-stage-id", "2026-10-20T13:00:00.000Z"),
        (cid, "qualified-stage-id", "2026-10-21T14:00:00.000Z"),
    ]
    result = audit(store, **{"funnel.hubspot": LEAD_FUNNEL})
    # Two handoffs: 10-07 and, after the recycle, 10-20.
    assert result.rule("mql_volume").measured == 2
    # The first was recycled after 1 counted attempt (< 3): premature. The contact entered
    # sql (lead 2 qualified) after both handoffs: both progressed (§2), 2 of 2.
    recycling = result.rule("recycling")
    assert [v.kind for v in recycling.violations] == ["premature"]
    assert result.rule("conversion").measured == 1.0
    assert not [n for n in result.data_notes if "lead_stage" in n]


def test_a_contact_resynced_keeps_its_lead_stages(tiny, sandbox, store):
    key = contact_with_lead_objects(tiny)
    sync(store, sandbox)
    before = lead_stages(store)
    # The contact changes now (its history is restated); its leads do not.
    tiny.touch_lead(key, datetime.now(UTC), status="IN_PROGRESS", owner_key=1)
    sync(store, sandbox)

    assert lead_stages(store) == before
    statuses = store.db.execute("select count(*) from lead_history where field = 'status'")
    assert statuses.fetchone()[0] == 1


def test_a_lead_moved_later_is_picked_up_by_the_incremental_sync(tiny, sandbox, store):
    key = contact_with_lead_objects(tiny)
    sync(store, sandbox)
    now = datetime.now(UTC).replace(microsecond=0)
    third = tiny.add_lead_object(key, now - timedelta(minutes=5), owner_key=1)
    tiny.move_lead_object(third.key, now - timedelta(minutes=1), "connected-stage-id")
    sandbox.reset_counters()
    sync(store, sandbox)

    assert [row[1] for row in lead_stages(store)[-2:]] == ["new-stage-id", "connected-stage-id"]
    assert len(lead_stages(store)) == 7
    # Found by search, hydrated with history by batch read, linked by one v4 read.
    assert sandbox.requests["POST /crm/v3/objects/leads/search"] >= 1
    assert sandbox.requests["POST /crm/v3/objects/leads/batch/read"] == 1
    assert sandbox.requests["POST /crm/v4/associations/leads/contacts/batch/read"] == 1


def test_a_portal_without_the_leads_object_syncs_and_the_notes_say_so(tiny, sandbox, store):
    contact_with_lead_objects(tiny)
    sandbox.leads_object = False
    lead = tiny.add_lead(local("2026-10-06 10:00"), stage="marketingqualifiedlead", owner_key=1)
    sync(store, sandbox)

    assert lead_stages(store) == []
    assert store.db.execute("select count(*) from leads").fetchone()[0] == 2
    assert store.db.execute("select count(*) from activities").fetchone()[0] == 1
    cursor = store.cursor("hubspot", "lead_objects")
    assert json.loads(cursor or "{}")["mode"] == "unavailable"
    # An SLA that names lead stages is told why they never match ...
    funnel = {**LEAD_FUNNEL, "mql": {"stage": ["marketingqualifiedlead"]}}
    notes = audit(store, **{"funnel.hubspot": funnel}).data_notes
    assert any("funnel.hubspot.sql.lead_stage" in n and "Leads object" in n for n in notes)
    # ... one that does not is not bothered.
    assert not [n for n in audit(store).data_notes if "Leads object" in n]
    assert lead.key  # the lifecycle-stage handoff is audited as before
    assert audit(store).rule("mql_volume").measured == 1

    # Granted later: the next run lists every lead from scratch.
    sandbox.leads_object = True
    sync(store, sandbox)
    assert len(lead_stages(store)) == 5


def test_the_sandbox_serves_leads_as_hubspot_documents(tiny, sandbox):
    key = contact_with_lead_objects(tiny)
    import urllib.request

    def get(path: str, body: dict | None = None) -> dict:
        request = urllib.request.Request(
            sandbox.base_url + path,
            data=json.dumps(body).encode() if body is not None else None,
            headers={
                "Authorization": f"Bearer {HUBSPOT_TOKEN}",
                "Content-Type": "application/json",
            },
        )
        with urllib.request.urlopen(request) as answer:
            return json.loads(answer.read())

    listed = get(
        "/crm/v3/objects/0-136?limit=10&propertiesWithHistory=hs_pipeline_stage"
        "&associations=contacts&properties=hs_pipeline_stage"
    )
    first = listed["results"][0]
    assert first["id"] == lead_object_id(1)
    assert first["properties"]["hs_pipeline_stage"] == "unqualified-stage-id"
    assert [e["value"] for e in first["propertiesWithHistory"]["hs_pipeline_stage"]] == [
        "unqualified-stage-id",
        "attempting-stage-id",
        "new-stage-id",
    ]
    assert first["associations"]["contacts"]["results"][0]["id"] == contact_id(key)
    links = get(
        "/crm/v4/associations/leads/contacts/batch/read", {"inputs": [{"id": lead_object_id(2)}]}
    )
    assert links["results"][0]["to"][0]["toObjectId"] == int(contact_id(key))


def test_generated_extras_are_stable_and_leave_the_rest_unchanged():
    plain = generate_crm(size=120, seed=3, end=END)
    extra = generate_crm(size=120, seed=3, end=END, hubspot_extras=True)
    again = generate_crm(size=120, seed=3, end=END, hubspot_extras=True)
    communications = [a for a in extra.activities if a.kind == "communication"]
    assert extra.lead_objects and communications
    assert [(o.key, o.stage, o.history) for o in extra.lead_objects] == [
        (o.key, o.stage, o.history) for o in again.lead_objects
    ]
    others = [a for a in extra.activities if a.kind != "communication"]
    assert [(a.key, a.occurred_at) for a in others] == [
        (a.key, a.occurred_at) for a in plain.activities
    ]
    assert all(o.created_at < END - timedelta(0) for o in extra.lead_objects)
