"""The SLA decides what is synced (issue 15, item 4), against the sandboxes over real HTTP.

A recycle reason kept in a property of its own is synced with its history and read by the
recycling rule; a property named later costs only its backfill; a property the portal
does not have, or a Salesforce field the integration user cannot see, stops the sync
with one line naming the SLA key and the fix (exit 2); a killed backfill resumes.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

from audit.engine import open_snapshot, run_audit
from audit.period import AuditInputError
from config.settings import Settings
from config.sla import SLA
from config.sla_fields import NamedField
from connectors.salesforce.options import SalesforceOptions
from connectors.sync import SyncError, SyncOptions, sync_source
from run_audit import main
from sandbox.custom_properties import BY_HUBSPOT, current, set_value
from sandbox.generator import CRM, Rep
from sandbox.hubspot_server import HubSpotSandbox
from sandbox.salesforce_server import SalesforceSandbox, sandbox_session
from snapshot.lead_fields import field_values, filled_fields
from snapshot.store import SnapshotStore
from tests.conftest import HUBSPOT_TOKEN, PORTAL_ID, SALESFORCE_TOKEN, hubspot_settings_for
from tests.tiny_crm import BASE_SLA, make_sla

REASON = "hs_lead_disqualification_reason"
BATCH_READ = "POST /crm/v3/objects/contacts/batch/read"
OCT = datetime(2026, 10, 5, 13, 0, tzinfo=UTC)  # Monday 10:00 in São Paulo
AS_OF = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)


def reason_sla(**changes: Any) -> SLA:
    """The test SLA reading the recycle reason from HubSpot's disqualification reason."""
    return make_sla(
        **{
            "sales.recycle.reason_field": REASON,
            "sales.recycle.reasons": None,
            "sales.attempts.min": 1,
            "funnel.salesforce": None,
            **changes,
        }
    )


def options(sla: SLA) -> SyncOptions:
    from config.sla_fields import crm_fields

    return SyncOptions(fields=crm_fields(sla, "hubspot"))


def tiny_portal() -> CRM:
    """Four October MQLs of one rep, each called once (no answer) and recycled on the
    8th as UNQUALIFIED; the reason property, at that instant:

    * lead 1: NO_BUDGET, set with the recycle           → a reason
    * lead 2: set a day *after* the recycle             → no reason at the recycle
    * lead 3: never set                                 → no reason
    * lead 4: COMPETITOR, set the day before            → a reason
    """
    rep = Rep(1, "ana@acme.example", "Ana", "Silva", "Sales", True, OCT, OCT)
    crm = CRM(reps=[rep], leads=[], activities=[], end=AS_OF)
    recycled_at = OCT + timedelta(days=3)
    for n in range(4):
        lead = crm.add_lead(OCT, stage="marketingqualifiedlead", owner_key=1)
        crm.add_activity(
            "call",
            OCT + timedelta(days=1),
            [lead.key],
            owner_key=1,
            direction="OUTBOUND",
            status="COMPLETED",
        )
        crm.touch_lead(lead.key, recycled_at, status="UNQUALIFIED")
        lead.custom["reason"] = [
            [(recycled_at, "NO_BUDGET")],
            [(recycled_at + timedelta(days=1), "NO_RESPONSE")],
            [],
            [(recycled_at - timedelta(days=1), "COMPETITOR")],
        ][n]
    return crm


def recycling(db: Path, sla: SLA) -> tuple[int, int, int]:
    """(judged, violations, no reason) of October's recycling rule."""
    conn = open_snapshot(db)
    try:
        result = run_audit(conn, sla, "2026-10", AS_OF)
    finally:
        conn.close()
    rule = next(r for r in result.rules if r.id == "recycling")
    return rule.judged, len(rule.violations), rule.details["no_reason"]


def test_recycling_reads_the_reason_from_the_property_the_sla_names(tmp_path: Path) -> None:
    crm = tiny_portal()
    sla = reason_sla()
    db = tmp_path / "s.db"
    with HubSpotSandbox(crm, token=HUBSPOT_TOKEN, portal_id=PORTAL_ID) as sandbox:
        store = SnapshotStore(db)
        sync_source("hubspot", store, hubspot_settings_for(sandbox), options=options(sla))
        store.close()

    # Leads 1 and 4 had a reason at their recycle; 2 (set a day late) and 3 had none.
    assert recycling(db, sla) == (4, 2, 2)  # 2 of 4 compliant
    # The same snapshot read with status as the reason: every recycle has one.
    assert recycling(db, reason_sla(**{"sales.recycle.reason_field": "status"})) == (4, 0, 0)


def test_an_unsynced_reason_property_stops_the_audit_with_the_fix(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    with HubSpotSandbox(tiny_portal(), token=HUBSPOT_TOKEN, portal_id=PORTAL_ID) as sandbox:
        store = SnapshotStore(db)
        sync_source("hubspot", store, hubspot_settings_for(sandbox))  # no --sla
        store.close()

    with pytest.raises(AuditInputError) as refused:
        recycling(db, reason_sla())
    line = str(refused.value)
    assert line.startswith(f"sales.recycle.reason_field: hubspot property '{REASON}' is not")
    assert "run_audit.py sync --sla" in line


def test_a_field_named_later_costs_only_its_backfill(
    crm: CRM, store: SnapshotStore, hubspot_settings: Settings, hubspot_sandbox: HubSpotSandbox
) -> None:
    plain = SyncOptions(fields=())
    sync_source("hubspot", store, hubspot_settings, options=plain)
    hubspot_sandbox.reset_counters()
    before = sync_source("hubspot", store, hubspot_settings, options=plain)
    hubspot_sandbox.reset_counters()
    tier = (NamedField("tier", "segments.tier_field"),)

    after = sync_source("hubspot", store, hubspot_settings, options=SyncOptions(fields=tier))

    live = store.db.execute("select count(*) from leads where is_deleted = 0").fetchone()[0]
    assert live == 116
    # 116 live contacts, 100 per batch read without history: 2 requests, plus one to list
    # the portal's properties. Every other stream asks exactly what it asked before.
    assert after.streams["fields"].requests == math.ceil(live / 100) == 2
    assert after.streams["properties"].requests == 1
    # (a search refused by HubSpot's per-second search limit is retried: not a new ask)
    assert after.requests - after.retries == before.requests - before.retries + 2 + 1
    assert hubspot_sandbox.requests[BATCH_READ] == 2
    assert f"backfilled tier for {live} leads in 2 requests" in after.line()
    tiers = field_values(store.db.conn, "tier")
    expected = {
        f"hubspot:{100000 + lead.key}": ("enterprise", "mid_market", "smb")[lead.key % 3]
        for lead in crm.leads
        if not lead.archived
    }
    assert {k: v for k, v in tiers.items() if k in expected} == expected
    assert filled_fields(store.db.conn, "hubspot") == {"tier"}

    # Named again: nothing to fill. A change made in HubSpot arrives with the lead.
    lead = next(lead for lead in crm.leads if not lead.archived)
    set_value(crm, lead.key, "tier", "enterprise_plus", datetime.now(UTC))
    again = sync_source("hubspot", store, hubspot_settings, options=SyncOptions(fields=tier))
    assert again.streams["fields"].requests == 0
    assert field_values(store.db.conn, "tier")[f"hubspot:{100000 + lead.key}"] == "enterprise_plus"


def test_a_killed_backfill_resumes_where_it_stopped(
    store: SnapshotStore, hubspot_settings: Settings, hubspot_sandbox: HubSpotSandbox
) -> None:
    sync_source("hubspot", store, hubspot_settings, options=SyncOptions(fields=()))
    reason = (NamedField(REASON, "sales.recycle.reason_field", history=True),)
    pages = []

    def kill_after_first_backfill_page(stream: str, done: int, total: int | None) -> None:
        if stream == "fields":
            pages.append(done)
            if len(pages) == 2:  # the call at the start, then the first committed page
                raise RuntimeError("killed")

    hubspot_sandbox.reset_counters()
    with pytest.raises(SyncError, match="killed"):
        sync_source(
            "hubspot",
            store,
            hubspot_settings,
            options=SyncOptions(fields=reason),
            progress=kill_after_first_backfill_page,
        )
    assert hubspot_sandbox.requests[BATCH_READ] == 1  # 50 contacts, with history
    assert store.db.execute("select count(*) from lead_fields").fetchone()[0] == 50
    hubspot_sandbox.reset_counters()

    resumed = sync_source("hubspot", store, hubspot_settings, options=SyncOptions(fields=reason))

    # 116 live contacts at 50 a request: 3 in all, the first already done.
    assert resumed.streams["fields"].requests == 2
    assert "for 66 leads in 2 requests (resumed)" in resumed.line()
    assert store.db.execute("select count(*) from lead_fields").fetchone()[0] == 116
    assert filled_fields(store.db.conn, "hubspot") == {f"{REASON}:history"}


def write_sla(path: Path, reason_field: str) -> Path:
    data = {**BASE_SLA, "funnel": {"hubspot": BASE_SLA["funnel"]["hubspot"]}}
    data["sales"] = {**BASE_SLA["sales"], "recycle": {"reason_field": reason_field}}
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_sync_sla_names_a_missing_property_in_one_line_exit_2(
    cli: HubSpotSandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sla = write_sla(tmp_path / "sla.yaml", "hs_lead_disqualification_reasn")

    code = main(["sync", "--sla", str(sla), "--db", str(tmp_path / "s.db")])

    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1
    assert (
        "sales.recycle.reason_field: HubSpot has no contact property "
        "'hs_lead_disqualification_reasn' (did you mean 'hs_lead_disqualification_reason'?): "
        "write the property's internal name, see `run_audit.py inspect --source hubspot`"
    ) in err[0]
    assert cli.requests["GET /crm/v3/properties/contacts"] == 1
    assert cli.requests[BATCH_READ] == 0 and cli.requests["GET /crm/v3/objects/contacts"] == 0


def test_sync_sla_syncs_the_reason_property_with_its_history(
    cli: HubSpotSandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sla = write_sla(tmp_path / "sla.yaml", REASON)
    db = tmp_path / "s.db"

    assert main(["sync", "--sla", str(sla), "--db", str(db)]) == 0

    store = SnapshotStore(db)
    rows = store.db.execute(
        "select count(*), count(distinct lead_id) from lead_history where field = ?", [REASON]
    ).fetchone()
    store.close()
    assert rows[0] > 0 and rows[1] > 0
    assert main(["sync", "--db", str(db)]) == 0  # without --sla: the record stays


# -- Salesforce: custom fields, field-level security, backfill ------------------------------


def test_salesforce_a_hidden_or_missing_field_is_one_line_before_any_data(
    store: SnapshotStore,
    salesforce_settings: Settings,
    salesforce_options: SalesforceOptions,
    salesforce_sandbox: SalesforceSandbox,
) -> None:
    for name, hint in (("Score__c", ""), ("Reason_c", " (did you mean 'Reason__c'?)")):
        fields = (NamedField(name, "sales.recycle.reason_field", history=True),)
        with pytest.raises(SyncError) as refused:
            sync_source(
                "salesforce",
                store,
                salesforce_settings,
                options=replace(salesforce_options, fields=fields),
            )
        assert str(refused.value) == (
            f"sales.recycle.reason_field: Salesforce Lead has no field '{name}' the integration "
            f"user can see{hint}: create it, or grant read access in field-level security "
            "(see `run_audit.py inspect --source salesforce`)"
        )
    assert store.count("leads") == 0
    # Salesforce itself refuses the hidden field in SOQL, as for a field that does not exist.
    sf = Salesforce(
        session_id=SALESFORCE_TOKEN,
        instance_url=salesforce_sandbox.instance_url,
        session=sandbox_session(salesforce_sandbox.ca_path),
    )
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.query("SELECT Id, Score__c FROM Lead")
    assert caught.value.content[0]["errorCode"] == "INVALID_FIELD"


def test_salesforce_a_reason_field_named_later_is_backfilled_as_a_full_sync_reads_it(
    tmp_path: Path,
    salesforce_settings: Settings,
    salesforce_options: SalesforceOptions,
) -> None:
    reason = (NamedField("Reason__c", "sales.recycle.reason_field", history=True),)
    later = SnapshotStore(tmp_path / "later.db")
    sync_source(
        "salesforce", later, salesforce_settings, options=replace(salesforce_options, fields=())
    )
    filled = sync_source(
        "salesforce", later, salesforce_settings, options=replace(salesforce_options, fields=reason)
    )
    at_once = SnapshotStore(tmp_path / "at_once.db")
    sync_source(
        "salesforce",
        at_once,
        salesforce_settings,
        options=replace(salesforce_options, fields=reason),
    )

    # 120 leads (4 deleted, read with queryAll as the sync reads them) and their Reason__c
    # history rows: one LeadHistory query and one Lead query, 2,000 records a query.
    assert filled.streams["fields"].requests == 2
    assert "backfilled Reason__c with its history for 120 leads in 2 requests" in filled.line()
    for table, where in (("lead_fields", ""), ("lead_history", " where field = 'Reason__c'")):
        sql = f"select * from {table}{where}"
        rows = set(later.db.execute(sql).fetchall())
        assert rows and rows == set(at_once.db.execute(sql).fetchall())
    later.close()
    at_once.close()


# -- inspect: the properties, with type and fill rate -------------------------------------


def test_inspect_lists_the_properties_with_type_and_fill_rate(
    cli: HubSpotSandbox, crm: CRM, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["inspect", "--source", "hubspot", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    rows = {row["name"]: row for row in data["properties"]}
    live = [lead for lead in crm.leads if not lead.archived]
    reasons = sum(current(lead, BY_HUBSPOT[REASON]) is not None for lead in live)
    assert data["property_sample"] == "the 200 most recently modified contacts"
    assert rows["tier"] == {
        "name": "tier",
        "label": "Tier",
        "type": "enumeration",
        "custom": True,
        "hidden": False,
        "calculated": False,
        "filled": 116,
        "counted": 116,
        "fill_from": "sample",
    }
    assert (rows[REASON]["custom"], rows[REASON]["filled"]) == (False, reasons)
    assert list(rows)[:2] == ["segment", "tier"]  # custom properties first
    assert cli.requests["GET /crm/v3/properties/contacts"] == 1
    assert cli.requests["POST /crm/v3/objects/contacts/search"] == 1

    assert main(["inspect", "--source", "hubspot"]) == 0
    table = capsys.readouterr().out
    assert "Lead properties (fill rate: snapshot where synced, else the 200 most" in table
    assert re.search(r"\n  tier +Tier +enumeration +custom +100% \(116/116, CRM\)\n", table)


def test_nightly_syncs_the_property_its_sla_names(
    cli: HubSpotSandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sla = write_sla(tmp_path / "sla.yaml", REASON)
    db = tmp_path / "s.db"

    main(["nightly", "--sla", str(sla), "--db", str(db), "--out-root", str(tmp_path / "r")])

    assert cli.requests["GET /crm/v3/properties/contacts"] == 1
    store = SnapshotStore(db)
    assert filled_fields(store.db.conn, "hubspot") == {f"{REASON}:history"}
    assert (
        store.db.execute("select count(*) from lead_history where field = ?", [REASON]).fetchone()[
            0
        ]
        > 0
    )
    store.close()


def test_a_tier_kept_in_a_crm_property_judges_each_handoff_by_its_tier(tmp_path: Path) -> None:
    """Issue 15 items 4 and 5 together: ``segments.tier_field`` names the portal's custom
    ``tier`` property, ``sync --sla`` reads it, and each handoff is judged by its tier.

    The tiny portal's four leads are called a day after their Monday 10:00 handoff. Base
    promise: first touch within 5 business minutes → late. Tier "enterprise" (leads 1 and
    2, by the property): within 2 business days → on time. So 2 of 4 compliant; the
    ``by_tier`` split holds enterprise 2/2 and base 0/2.
    """
    crm = tiny_portal()
    for n, lead in enumerate(crm.leads):
        lead.custom["tier"] = [(OCT, "enterprise" if n < 2 else "smb")]
    sla = make_sla(
        **{
            "funnel.salesforce": None,
            "segments": {"tier_field": "tier"},
            "tiers": [
                {
                    "name": "enterprise",
                    "when": {"tier": ["enterprise"]},
                    "first_touch": {"within": "2d"},
                }
            ],
        }
    )
    db = tmp_path / "s.db"
    with HubSpotSandbox(crm, token=HUBSPOT_TOKEN, portal_id=PORTAL_ID) as sandbox:
        store = SnapshotStore(db)
        sync_source("hubspot", store, hubspot_settings_for(sandbox), options=options(sla))
        store.close()

    conn = open_snapshot(db)
    try:
        result = run_audit(conn, sla, "2026-10", AS_OF)
    finally:
        conn.close()
    rule = next(r for r in result.rules if r.id == "speed_to_lead")
    assert (rule.judged, len(rule.violations)) == (4, 2)
    assert {v.tier for v in rule.violations} == {"base"}
    by_tier = rule.to_dict()["by_tier"]
    assert (by_tier["enterprise"]["judged"], by_tier["enterprise"]["met"]) == (2, 2)
    assert (by_tier["base"]["judged"], by_tier["base"]["met"]) == (2, 0)


def test_check_with_a_snapshot_names_an_unsynced_property_in_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "s.db"
    with HubSpotSandbox(tiny_portal(), token=HUBSPOT_TOKEN, portal_id=PORTAL_ID) as sandbox:
        store = SnapshotStore(db)
        sync_source("hubspot", store, hubspot_settings_for(sandbox))  # no --sla
        store.close()
    sla_file = write_sla(tmp_path / "sla.yaml", REASON)

    code = main(["check", "--sla", str(sla_file), "--db", str(db)])

    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err
    assert f"sales.recycle.reason_field: hubspot property '{REASON}' is not synced" in err
