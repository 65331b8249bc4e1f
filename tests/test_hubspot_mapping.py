"""HubSpot records → snapshot rows, bad records, the search cap and the portal lookup."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from config.settings import Settings
from connectors.core import RecordError, StreamStats, SyncError
from connectors.hubspot import (
    ENGAGEMENTS,
    MappingContext,
    map_activity,
    map_contact,
    map_owner,
)
from connectors.sync import sync_source
from sandbox.generator import CRM, generate_crm
from sandbox.hubspot_server import HubSpotSandbox, engagement_id
from snapshot.store import SnapshotStore
from tests.conftest import (
    FIXED_END,
    HUBSPOT_TOKEN,
    expected_snapshot,
    hubspot_settings_for,
    snapshot_rows,
)

SPEC = {spec.kind: spec for spec in ENGAGEMENTS}


def _call(**props: Any) -> dict[str, Any]:
    base = {
        "hs_timestamp": "2026-10-05T14:03:00Z",
        "hs_createdate": "2026-10-05T14:05:00.120Z",
        "hs_lastmodifieddate": "2026-10-05T14:05:00.120Z",
        "hubspot_owner_id": "200001",
    }
    return {"id": "777", "properties": {**base, **props}, "archived": False}


@pytest.mark.parametrize(
    ("kind", "props", "expected"),
    [
        ("call", {"hs_call_direction": "OUTBOUND"}, "outbound"),
        ("call", {"hs_call_direction": "INBOUND"}, "inbound"),
        ("email", {"hs_email_direction": "EMAIL"}, "outbound"),
        ("email", {"hs_email_direction": "INCOMING_EMAIL"}, "inbound"),
        ("email", {"hs_email_direction": "FORWARDED_EMAIL"}, "forwarded"),
        ("task", {}, None),
    ],
)
def test_direction_follows_hubspots_values(
    kind: str, props: dict[str, str], expected: str | None
) -> None:
    row = map_activity(_call(**props), SPEC[kind], StreamStats())
    assert row["direction"] == expected and row["kind"] == kind


def test_a_call_keeps_its_raw_disposition_with_hubspots_default_label() -> None:
    row = map_activity(
        _call(
            hs_call_disposition="b2cf5968-551e-4856-9783-52b3da59a7d0",
            hs_call_status="COMPLETED",
            hs_call_duration="95000",
            hs_call_title="Intro call",
        ),
        SPEC["call"],
        StreamStats(),
    )
    assert row["outcome"] == "b2cf5968-551e-4856-9783-52b3da59a7d0"
    assert row["outcome_label"] == "Left voicemail"
    assert (row["status"], row["subject"], row["duration_s"]) == ("COMPLETED", "Intro call", 95.0)
    assert row["occurred_at"] == "2026-10-05T14:03:00.000Z"  # fixed format, milliseconds
    assert row["owner_id"] == "hubspot:200001"


def test_a_custom_disposition_keeps_its_guid_without_a_label() -> None:
    row = map_activity(_call(hs_call_disposition="0000-custom"), SPEC["call"], StreamStats())
    assert (row["outcome"], row["outcome_label"]) == ("0000-custom", None)


def test_a_meeting_lasts_from_start_to_end() -> None:
    record = _call(
        hs_meeting_start_time="2026-10-05T14:00:00Z",
        hs_meeting_end_time="2026-10-05T14:45:00Z",
        hs_meeting_outcome="COMPLETED",
    )
    row = map_activity(record, SPEC["meeting"], StreamStats())
    assert (row["duration_s"], row["outcome"], row["status"]) == (2700.0, "COMPLETED", "COMPLETED")


def test_a_duration_that_is_not_a_number_is_kept_empty_and_counted() -> None:
    stats = StreamStats()
    row = map_activity(_call(hs_call_duration="about a minute"), SPEC["call"], stats)
    assert row["duration_s"] is None and stats.gaps == 1


def test_a_timestamp_that_is_no_instant_names_type_record_and_field() -> None:
    with pytest.raises(RecordError) as bad:
        map_activity(_call(hs_timestamp="yesterday"), SPEC["call"], StreamStats())
    assert "HubSpot calls record 777 has hs_timestamp='yesterday'" in str(bad.value)


def test_contact_history_is_sorted_and_owner_values_become_owner_ids() -> None:
    record = {
        "id": "101",
        "properties": {
            "email": "a@b.example",
            "createdate": "2026-10-01T12:00:00Z",
            "lastmodifieddate": "2026-10-03T12:00:00Z",
            "hubspot_owner_id": "",
            "lifecyclestage": "marketingqualifiedlead",
        },
        "propertiesWithHistory": {
            "lifecyclestage": [
                {"value": "marketingqualifiedlead", "timestamp": "2026-10-02T09:00:00Z"},
                {"value": "lead", "timestamp": "2026-10-01T12:00:00Z", "sourceType": "FORM"},
            ],
            "hubspot_owner_id": [
                {"value": "", "timestamp": "2026-10-03T12:00:00Z", "sourceType": "CRM_UI"},
                {"value": "200002", "timestamp": "2026-10-02T09:05:00Z"},
            ],
        },
        "archived": False,
    }
    lead, history = map_contact(record, MappingContext(portal_id="42"))
    assert lead["owner_id"] is None and lead["stage"] == "marketingqualifiedlead"
    assert lead["url"] == "https://app.hubspot.com/contacts/42/record/0-1/101"
    assert [(h["field"], h["value"], h["changed_at"]) for h in history] == [
        ("stage", "lead", "2026-10-01T12:00:00.000Z"),
        ("stage", "marketingqualifiedlead", "2026-10-02T09:00:00.000Z"),
        ("owner", "hubspot:200002", "2026-10-02T09:05:00.000Z"),
        ("owner", None, "2026-10-03T12:00:00.000Z"),
    ]


def test_without_a_portal_id_a_lead_has_no_url() -> None:
    record = {"id": "5", "properties": {"createdate": "2026-10-01T12:00:00Z"}}
    assert map_contact(record, MappingContext())[0]["url"] is None


def test_an_archived_owner_is_inactive_and_named_first_last() -> None:
    row = map_owner(
        {
            "id": "200008",
            "firstName": "Rui",
            "lastName": "Costa",
            "email": "rui@acme.example",
            "updatedAt": "2026-09-01T00:00:00Z",
            "archived": True,
            "teams": [
                {"id": "1", "name": "SMB", "primary": False},
                {"name": "Inbound", "primary": True},
            ],
        },
        active=False,
    )
    assert (row["name"], row["team"], row["active"]) == ("Rui Costa", "Inbound", 0)


# --------------------------------------------------------------------- through the sandbox


def test_a_malformed_timestamp_from_hubspot_stops_the_sync_with_one_line(
    crm: CRM,
    store: SnapshotStore,
    hubspot_settings: Settings,
    hubspot_sandbox: HubSpotSandbox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bad = next(a for a in crm.activities if a.kind == "call")
    serializer = hubspot_sandbox._serializer
    real = serializer.engagement_value

    def corrupt(act: Any, name: str) -> str | None:
        if act.key == bad.key and name == "hs_timestamp":
            return "31/10/2026 14:00"
        return real(act, name)

    monkeypatch.setattr(serializer, "engagement_value", corrupt)
    with pytest.raises(SyncError) as failed:
        sync_source("hubspot", store, hubspot_settings)
    message = str(failed.value)
    assert "\n" not in message
    assert (
        f"HubSpot calls record {engagement_id(bad)} has hs_timestamp='31/10/2026 14:00'" in message
    )
    assert store.count("activities") == 0 and store.count("leads") == 120
    assert next(iter(store.db["sync_runs"].rows))["error"] == message


def test_portal_id_from_settings_saves_the_account_lookup(
    store: SnapshotStore, hubspot_sandbox: HubSpotSandbox
) -> None:
    settings = hubspot_settings_for(hubspot_sandbox, HUBSPOT_PORTAL_ID="99")
    sync_source("hubspot", store, settings)
    assert "GET /account-info/v3/details" not in hubspot_sandbox.requests
    url = store.db.execute("select url from leads limit 1").fetchone()[0]
    assert url.startswith("https://app.hubspot.com/contacts/99/record/0-1/")


def test_a_token_without_account_access_costs_the_urls_not_the_sync(
    store: SnapshotStore,
    hubspot_settings: Settings,
    hubspot_sandbox: HubSpotSandbox,
    caplog: pytest.LogCaptureFixture,
) -> None:
    hubspot_sandbox.inject("status", count=1, path_contains="/account-info", status=403)
    with caplog.at_level(logging.WARNING):
        summary = sync_source("hubspot", store, hubspot_settings)
    assert summary.records == 586
    assert store.db.execute("select count(*) from leads where url is not null").fetchone()[0] == 0
    assert "HUBSPOT_PORTAL_ID" in caplog.text


def test_changes_past_the_search_result_cap_all_arrive(tmp_path: Path) -> None:
    # HubSpot refuses to page a search past 10,000 results; here the cap is 250. Each page
    # re-windows from the last modified value seen, so 400+ changed calls all arrive.
    crm = generate_crm(size=400, seed=5, end=FIXED_END)
    with HubSpotSandbox(crm, token=HUBSPOT_TOKEN, search_result_cap=250) as sandbox:
        settings = hubspot_settings_for(sandbox)
        store = SnapshotStore(tmp_path / "s.db")
        sync_source("hubspot", store, settings)
        calls = [a for a in crm.activities if a.kind == "call" and not a.archived]
        assert len(calls) > 400  # past the cap of 250, and more than two search pages
        now = datetime.now(UTC)
        for n, act in enumerate(calls):
            crm.edit_activity(act.key, now + timedelta(milliseconds=n), status="COMPLETED")
        sandbox.reset_counters()

        summary = sync_source("hubspot", store, settings)

        stats = summary.streams["calls"]
        # each page starts at the last instant of the one before: that record comes twice
        assert len(calls) <= stats.records <= len(calls) + stats.pages - 1
        assert stats.expected == len(calls)
        # ⌈n/200⌉ pages, no 400 for paging past the cap
        assert sandbox.requests["POST /crm/v3/objects/calls/search"] == -(-len(calls) // 200)
        assert sandbox.statuses[400] == 0
    assert snapshot_rows(store) == expected_snapshot(crm, portal_id=4_242_424)


def test_more_records_at_one_instant_than_the_search_cap_are_walked_by_id(
    tmp_path: Path,
) -> None:
    """Issue 14, item 3: a bulk update stamps 400+ calls with one millisecond, more than the
    search cap (250 here, 10,000 at HubSpot) and than a page: the instant is walked by object
    id (``modified = T`` and ``hs_object_id > last``), never by an offset among equals, and
    every call arrives; then the scan goes on after T."""
    crm = generate_crm(size=400, seed=5, end=FIXED_END)
    with HubSpotSandbox(crm, token=HUBSPOT_TOKEN, search_result_cap=250) as sandbox:
        settings = hubspot_settings_for(sandbox)
        store = SnapshotStore(tmp_path / "s.db")
        sync_source("hubspot", store, settings)
        calls = [a for a in crm.activities if a.kind == "call" and not a.archived]
        assert len(calls) > 400
        bulk = datetime.now(UTC).replace(microsecond=0)
        for act in calls:
            crm.edit_activity(act.key, bulk, status="NO_ANSWER")
        sandbox.reset_counters()

        summary = sync_source("hubspot", store, settings)

        assert summary.streams["calls"].expected == len(calls)
        assert sandbox.statuses[400] == 0
        # one page at T, then T by id in ⌈n/200⌉ pages, then an empty page after T
        searches = sandbox.requests["POST /crm/v3/objects/calls/search"]
        assert searches == 1 + -(-len(calls) // 200) + 1
        statuses = {
            row[0]
            for row in store.db.execute(
                "select status from activities where kind = 'call' and is_deleted = 0"
            )
        }
        assert statuses == {"NO_ANSWER"}
    assert snapshot_rows(store) == expected_snapshot(crm, portal_id=4_242_424)


def test_an_archived_engagement_keeps_when_it_was_archived() -> None:
    """Issue 14, item 9: the deletion instant lets an earlier as-of still see the call."""
    record = {**_call(), "archived": True, "archivedAt": "2026-12-02T10:00:00.500Z"}
    row = map_activity(record, SPEC["call"], StreamStats())
    assert (row["is_deleted"], row["deleted_at"]) == (1, "2026-12-02T10:00:00.500Z")
    assert map_activity(_call(), SPEC["call"], StreamStats())["deleted_at"] is None


@pytest.mark.parametrize(
    ("archived", "deleted"),
    [(False, 0), ("false", 0), ("FALSE", 0), (True, 1), ("true", 1), (None, 0)],
)
def test_archived_is_read_by_its_value_not_its_json_type(archived: Any, deleted: int) -> None:
    """Issue 14, item 8: ``"false"`` as text once marked every record deleted."""
    row = map_activity({**_call(), "archived": archived}, SPEC["call"], StreamStats())
    assert row["is_deleted"] == deleted


def test_an_archived_flag_that_is_no_flag_names_the_record() -> None:
    with pytest.raises(RecordError, match=r"HubSpot calls record 777 field archived is 'maybe'"):
        map_activity({**_call(), "archived": "maybe"}, SPEC["call"], StreamStats())


def test_an_instant_in_epoch_milliseconds_is_read_as_one() -> None:
    """Issue 14, item 8: 1791208980000 ms = 2026-10-05T14:03:00Z."""
    row = map_activity(_call(hs_timestamp="1791208980000"), SPEC["call"], StreamStats())
    assert row["occurred_at"] == "2026-10-05T14:03:00.000Z"
    row = map_activity(_call(hs_timestamp=1791208980000), SPEC["call"], StreamStats())
    assert row["occurred_at"] == "2026-10-05T14:03:00.000Z"
