"""Every rule split by segment and by lead source, in JSON, CSV, the workbook and the page
(docs/SEMANTICS.md §8).

Base test SLA: first touch 5m business time (09:00-12:00, 13:00-18:00 Mon-Fri), coverage
target 0.9, attempts window 14d. Handoffs on Wed 2026-10-14 10:00 local.
"""

from __future__ import annotations

import csv

import openpyxl
import pytest

from audit.reports import write_report
from tests.tiny_crm import TinyCRM, audit, make_sla

HANDOFF = "2026-10-14 10:00"


@pytest.fixture
def crm(tmp_path):
    return TinyCRM(tmp_path / "s.db")


def four_handoffs(crm):
    """segment / lead source / first call (business minutes after the handoff):

    101 Software / ORGANIC_SEARCH / 3   → in time, worked
    102 Software / PAID_SOCIAL    / 20  → late, worked
    103 Software / PAID_SOCIAL    / —   → no attempt: late, not worked
    104 Retail   / ORGANIC_SEARCH / —   → handed off on 11-30, so still pending on 12-01
    """
    crm.owner("1", "ana@acme.example")
    rows = [
        ("101", "Software", "ORGANIC_SEARCH", HANDOFF, "2026-10-14 10:03"),
        ("102", "Software", "PAID_SOCIAL", HANDOFF, "2026-10-14 10:20"),
        ("103", "Software", "PAID_SOCIAL", HANDOFF, None),
        ("104", "Retail", "ORGANIC_SEARCH", "2026-10-30 17:58", None),
    ]
    for crm_id, segment, source, at, call in rows:
        lead = crm.lead(crm_id, owner="hubspot:1", segment=segment, lead_source=source)
        crm.event(lead, "owner", "hubspot:1", "2026-09-01 08:00")
        crm.mql(lead, at)
        if call:
            crm.activity(lead, "call", call, owner="hubspot:1")
    crm.save()


AS_OF = "2026-10-30T21:00:00Z"  # 18:00 local on Fri 10-30: 104's 5 minutes have not passed


def test_speed_to_lead_is_split_by_segment_and_by_lead_source(crm):
    four_handoffs(crm)
    rule = audit(crm, as_of=AS_OF).rule("speed_to_lead")
    # Software: 101 met, 102 and 103 late → 1/3, target 0.9 → fail. Retail: 104 pending,
    # nothing judged → no data.
    assert rule.splits["by_segment"] == {
        "Software": {
            "handoffs": 3,
            "judged": 3,
            "met": 1,
            "pending": 0,
            "measured": 1 / 3,
            "target": 0.9,
            "status": "fail",
        },
        "Retail": {
            "handoffs": 1,
            "judged": 0,
            "met": 0,
            "pending": 1,
            "measured": None,
            "target": 0.9,
            "status": "no_data",
        },
    }
    # Largest first, then by name: PAID_SOCIAL (2 handoffs) and ORGANIC_SEARCH (2) tie.
    by_source = rule.splits["by_lead_source"]
    assert list(by_source) == ["ORGANIC_SEARCH", "PAID_SOCIAL"]
    assert (by_source["ORGANIC_SEARCH"]["met"], by_source["ORGANIC_SEARCH"]["judged"]) == (1, 1)
    assert (by_source["PAID_SOCIAL"]["measured"], by_source["PAID_SOCIAL"]["status"]) == (
        0.0,
        "fail",
    )


def test_every_rule_has_the_splits_and_the_groups_add_up(crm):
    four_handoffs(crm)
    result = audit(crm)
    for rule in result.rules:
        doc = rule.to_dict()
        for key in ("by_segment", "by_lead_source"):
            groups = doc[key]
            assert sum(g["judged"] for g in groups.values()) == (
                rule.judged if rule.id not in ("mql_per_rep",) else 4
            ), (rule.id, key)
        assert doc["by_tier"] == {}
    # Coverage on 12-01: 101 and 102 worked, 103 and 104 not → Software 2/3, Retail 0/1.
    coverage = result.rule("coverage").splits["by_segment"]
    assert (coverage["Software"]["met"], coverage["Software"]["judged"]) == (2, 3)
    assert (coverage["Retail"]["measured"], coverage["Retail"]["status"]) == (0.0, "fail")
    # The volume rules count handoffs per group, with no target.
    volume = result.rule("mql_volume").splits["by_segment"]
    assert {name: (g["measured"], g["status"]) for name, g in volume.items()} == {
        "Software": (3.0, "n/a"),
        "Retail": (1.0, "n/a"),
    }


def test_the_split_fields_come_from_the_sla(crm):
    # segments.segment_field: source — the CRM the lead lives in becomes the "segment".
    four_handoffs(crm)
    sla = make_sla(segments={"segment_field": "source", "source_field": "segment"})
    rule = audit(crm, sla).rule("coverage")
    assert list(rule.splits["by_segment"]) == ["hubspot"]
    assert list(rule.splits["by_lead_source"]) == ["Software", "Retail"]


def test_the_splits_are_a_csv_file_a_sheet_and_a_table_per_card(crm, tmp_path):
    four_handoffs(crm)
    result = audit(crm)
    write_report(result, "csv", tmp_path / "csv")
    with (tmp_path / "csv" / "splits.csv").open(encoding="utf-8-sig", newline="") as stream:
        rows = list(csv.DictReader(stream))
    coverage = [r for r in rows if r["Rule id"] == "coverage" and r["Split by"] == "Segment"]
    assert [(r["Group"], r["Measured"], r["Judged"], r["Met"], r["Status"]) for r in coverage] == [
        ("Software", "66.7", "3", "2", "fail"),
        ("Retail", "0.0", "1", "0", "fail"),
    ]
    write_report(result, "xlsx", tmp_path / "report.xlsx")
    sheet = openpyxl.load_workbook(tmp_path / "report.xlsx")["Splits"]
    header = [cell.value for cell in next(sheet.iter_rows(max_row=1))]
    assert header[:4] == ["Rule", "Split by", "Group", "Status"]
    write_report(result, "html", tmp_path / "report.html")
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert page.count('class="rule-splits"') == len(result.rules)
    assert "<summary>By segment, by lead source</summary>" in page
