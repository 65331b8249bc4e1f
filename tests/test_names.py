"""Names, not ids (issue 15, item 7): reps by CRM name, leads by name and company with the
CRM link, values by the CRM's labels — in every report, from a hand-made tiny CRM; and the
sandboxes' syncs store the names and labels at a pinned request cost.

The tiny CRM (base test SLA, São Paulo, first touch within 5 business minutes): owner 1 is
``ana@acme.example``, named "Ana Silva" in the CRM. Lead 101 "Lia Souza" of "Company 101"
and lead 102 (no name in the CRM) are handed off Mon 2026-10-05 10:00 and first called at
10:30 — 30 business minutes, late: two speed-to-lead violations, both Ana's. Lead 102 has
three calls and is recycled (stage → other) on 10-08 with status ATTEMPTED_TO_CONTACT, which
the CRM labels "Attempted to contact": a recycling violation whose reason shows the label
(lead 101, never recycled nor progressed, is "stuck").
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import openpyxl
import pytest

from app.alerts_message import event_message
from app.watch_findings import Finding
from audit.names import lead_words, rep_words
from audit.reports import render_html, write_report
from audit.result import AuditResult
from config.settings import Settings
from connectors.core import SystemClock
from connectors.sync import sync_source
from sandbox.generator import CRM
from sandbox.hubspot_server import HubSpotSandbox, contact_id
from sandbox.salesforce_model import lead_id
from sandbox.salesforce_server import SalesforceSandbox
from snapshot.store import SnapshotStore, to_raw_json
from snapshot.upgrade import prepare_for_reading
from tests.tiny_crm import TinyCRM, audit, make_sla

ANA = "ana@acme.example"
HANDOFF = "2026-10-05 10:00"
CALLS = ("2026-10-05 10:30", "2026-10-06 10:00", "2026-10-07 10:00")
RULE = "speed_to_lead"
RECYCLED_BY_STAGE = {"funnel.hubspot.recycled": {"stage": ["other"]}}


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> AuditResult:
    crm = TinyCRM(tmp_path_factory.mktemp("names") / "s.db")
    owner = crm.owner("1", ANA)
    crm.page.owners[-1]["name"] = "Ana Silva"
    for crm_id, name in (("101", "Lia Souza"), ("102", None)):
        lead = crm.lead(crm_id, owner=owner)
        crm.page.leads[-1]["name"] = name
        crm.event(lead, "owner", owner, "2026-09-01 08:00")
        crm.mql(lead, HANDOFF)
        for at in CALLS:
            crm.activity(lead, "call", at)
    crm.event("hubspot:102", "status", "ATTEMPTED_TO_CONTACT", "2026-10-07 12:00")
    crm.event("hubspot:102", "stage", "other", "2026-10-08 10:00")
    crm.page.labels = [
        {"source": "hubspot", "field": "status", "value": "ATTEMPTED_TO_CONTACT"}
        | {"label": "Attempted to contact", "property": "hs_lead_status"},
    ]
    return audit(crm, make_sla(**RECYCLED_BY_STAGE))


def late(result: AuditResult, crm_id: str):
    return next(v for v in result.violations if v.rule == "speed_to_lead" and v.crm_id == crm_id)


def test_evidence_rows_carry_the_lead_and_rep_names(result: AuditResult) -> None:
    named, unnamed = late(result, "101"), late(result, "102")
    assert (named.lead_name, named.company, named.email) == (
        "Lia Souza",
        "Company 101",
        "101@lead.example",
    )
    assert (unnamed.lead_name, unnamed.company) == (None, "Company 102")
    assert named.rep == ANA and named.rep_name == "Ana Silva"
    assert {row.rep_name for row in result.reps if row.rep == ANA} == {"Ana Silva"}


def test_a_reason_shows_the_value_with_its_crm_label(result: AuditResult) -> None:
    [recycled] = [v for v in result.rule("recycling").violations if v.kind == "no_reason"]
    assert recycled.reason == (
        "recycled without a valid reason (status was Attempted to contact (ATTEMPTED_TO_CONTACT))"
    )


def test_json_keeps_the_keys_and_adds_the_names(result: AuditResult) -> None:
    stream = io.StringIO()
    write_report(result, "json", None, stream=stream)
    doc = json.loads(stream.getvalue())
    row = next(
        v for v in doc["violations"] if v["crm_id"] == "101" and v["rule"] == "speed_to_lead"
    )
    assert (row["lead"], row["rep"]) == ("hubspot:101", ANA)
    assert (row["lead_name"], row["company"], row["rep_name"]) == (
        "Lia Souza",
        "Company 101",
        "Ana Silva",
    )
    assert {r["rep_name"] for r in doc["reps"] if r["rep"] == ANA} == {"Ana Silva"}


def test_csv_and_workbook_have_name_columns_beside_the_keys(
    result: AuditResult, tmp_path: Path
) -> None:
    write_report(result, "csv", tmp_path / "csv")
    text = (tmp_path / "csv" / "violations.csv").read_text(encoding="utf-8-sig")
    rows = [r for r in csv.DictReader(io.StringIO(text)) if r["Rule"] == "Speed to lead"]
    assert [(r["Rep"], r["Rep name"], r["Lead name"], r["Company"]) for r in rows] == [
        (ANA, "Ana Silva", "Lia Souza", "Company 101"),
        (ANA, "Ana Silva", "", "Company 102"),
    ]
    reps = list(csv.DictReader(io.StringIO((tmp_path / "csv" / "reps.csv").read_text("utf-8-sig"))))
    assert (reps[0]["Rep"], reps[0]["Rep name"]) == (ANA, "Ana Silva")

    write_report(result, "xlsx", tmp_path / "r.xlsx")
    sheet = openpyxl.load_workbook(tmp_path / "r.xlsx")["Violations"]
    header, *cells = [list(r) for r in sheet.iter_rows(values_only=True)]
    named = [dict(zip(header, r, strict=True)) for r in cells]
    assert ("Lia Souza", "Company 101", "Ana Silva") in {
        (r["Lead name"], r["Company"], r["Rep name"]) for r in named
    }


def test_terminal_table_and_page_name_people(result: AuditResult) -> None:
    stream = io.StringIO()
    write_report(result, "table", None, stream=stream)
    table = stream.getvalue()
    assert f"Ana Silva <{ANA}>" in table
    assert "Lia Souza (Company 101)" in table
    assert "102@lead.example (Company 102)" in table  # no name: the email

    page = render_html(result)
    assert f'title="{ANA}">' in page and ">Ana Silva<" in page
    assert ">Lia Souza (Company 101)</a>" in page
    assert 'title="hubspot:101"' in page


def test_alerts_name_the_lead_and_the_rep() -> None:
    finding = Finding(
        kind="breach",
        rule="speed_to_lead",
        lead="hubspot:101",
        crm_id="101",
        rep=ANA,
        handoff_at="2026-10-05T13:00:00.000Z",
        url="https://app.hubspot.com/contacts/1/record/0-1/101",
        email="101@lead.example",
        company="Company 101",
        deadline="2026-10-05T13:05:00.000Z",
        missing="no attempt yet",
        name="Lia Souza",
        rep_name="Ana Silva",
    )
    message = event_message(finding, "America/Sao_Paulo")
    assert message.title == "SLA breached: Speed to lead — Lia Souza (Company 101)"
    assert f"Rep: Ana Silva <{ANA}>" in message.text
    assert "Lia Souza (Company 101) — https://app.hubspot.com/" in message.text
    assert "Ana Silva &lt;ana@acme.example&gt;" in message.html


def test_a_lead_without_name_falls_back_to_email_then_crm_id() -> None:
    assert lead_words("Lia Souza", None, "l@x.example", "7") == "Lia Souza"
    assert lead_words(None, "Acme", "l@x.example", "7") == "l@x.example (Acme)"
    assert lead_words(None, None, None, "7") == "CRM id 7"
    assert rep_words("unassigned", "Someone") == "unassigned"
    assert rep_words("hubspot:9", None) == "hubspot:9"


def test_an_older_snapshot_gets_lead_names_from_raw(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    store = SnapshotStore(path)
    raw = {"id": "5", "properties": {"firstname": " Rui ", "lastname": "Costa"}}
    store.db["leads"].insert_all(
        [
            {"id": "hubspot:5", "source": "hubspot", "crm_id": "5", "raw": to_raw_json(raw)},
            {"id": "salesforce:6", "source": "salesforce", "crm_id": "6"}
            | {"raw": to_raw_json({"FirstName": None, "LastName": "Lima"})},
            {"id": "hubspot:7", "source": "hubspot", "crm_id": "7", "raw": "{}"},
        ]
    )
    store.close()
    conn = sqlite3.connect(path)
    conn.execute("alter table leads drop column name")  # as written before the column
    conn.commit()
    conn.close()

    prepare_for_reading(path)

    conn = sqlite3.connect(path)
    names = dict(conn.execute("select id, name from leads"))
    conn.close()
    assert names == {"hubspot:5": "Rui Costa", "salesforce:6": "Lima", "hubspot:7": None}


# --- the sandboxes' syncs ---------------------------------------------------------------


class LaterClock(SystemClock):
    """The system clock, ``ahead`` in the future (monotonic time and sleeps are real)."""

    def __init__(self, ahead: timedelta) -> None:
        self.ahead = ahead

    def now(self) -> datetime:
        return super().now() + self.ahead


def test_hubspot_sync_stores_names_and_labels_reading_them_once_a_week(
    crm: CRM, store: SnapshotStore, hubspot_settings: Settings, hubspot_sandbox: HubSpotSandbox
) -> None:
    sync_source("hubspot", store, hubspot_settings)

    names = dict(store.db.execute("select crm_id, name from leads"))
    for lead in crm.leads:
        assert names[contact_id(lead.key)] == f"{lead.first_name} {lead.last_name}"
    labels = {
        (field, value): label
        for field, value, label in store.db.execute(
            "select field, value, label from value_labels where source = 'hubspot'"
        )
    }
    assert labels[("stage", "marketingqualifiedlead")] == "Marketing Qualified Lead"
    assert labels[("status", "NEW")] == "New"
    endpoint = "GET /crm/v3/properties/contacts/{propertyName}"
    assert Counter(hubspot_sandbox.requests)[endpoint] == 2  # lifecyclestage, hs_lead_status

    hubspot_sandbox.requests.clear()
    sync_source("hubspot", store, hubspot_settings)
    assert Counter(hubspot_sandbox.requests)[endpoint] == 0  # read less than a week ago
    for days, reads in ((6, 0), (8, 2)):  # the nightly run of six, then eight days on
        hubspot_sandbox.requests.clear()
        later = LaterClock(timedelta(days=days))
        sync_source("hubspot", store, hubspot_settings, clock=later)
        assert Counter(hubspot_sandbox.requests)[endpoint] == reads, days
    hubspot_sandbox.requests.clear()
    sync_source("hubspot", store, hubspot_settings, full=True)
    assert Counter(hubspot_sandbox.requests)[endpoint] == 2  # a full sync reads them again


def test_salesforce_sync_stores_names_and_status_labels(
    crm: CRM,
    store: SnapshotStore,
    salesforce_settings: Settings,
    salesforce_options,
    salesforce_sandbox: SalesforceSandbox,
) -> None:
    sync_source("salesforce", store, salesforce_settings, options=salesforce_options)

    names = dict(store.db.execute("select crm_id, name from leads"))
    for lead in crm.leads:
        assert names[lead_id(lead.key)] == f"{lead.first_name} {lead.last_name}"
    labels = dict(
        store.db.execute(
            "select value, label from value_labels where source = 'salesforce' and field = 'status'"
        )
    )
    from sandbox.salesforce_describe import LEAD_STATUS_LABELS

    assert labels == LEAD_STATUS_LABELS
    describes = [r for r in salesforce_sandbox.requests if r.endswith("/describe")]
    assert sum(salesforce_sandbox.requests[r] for r in describes) == 1
