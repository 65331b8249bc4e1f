"""conversion and the funnel mapping per source (docs/SEMANTICS.md §2 Funnel events,
§5 conversion), HubSpot and Salesforce leads audited together in one report.

Base test SLA funnel: HubSpot mql/sql/opportunity/customer = lifecycle stages, recycled =
status UNQUALIFIED/BAD_TIMING; Salesforce mql = status "Marketing Qualified", sql = status
"Sales Qualified" or the lead conversion (history field "converted", value "true"),
recycled = status "Recycled" / "Closed - Not Converted". marketing.mql_to_sql 0.3.
"""

from __future__ import annotations

import pytest

from tests.tiny_crm import TinyCRM, make_sla
from tests.tiny_crm import audit_snapshot as audit

HANDOFF = "2026-10-14 10:00"


@pytest.fixture
def crm(tmp_path):
    return TinyCRM(tmp_path / "s.db")


def test_conversion_is_the_share_of_handoffs_that_progressed(crm):
    # 101 → salesqualifiedlead, 102 → opportunity, 103 → customer (each enters a progress
    # stage after the handoff); 104 nothing; 105 was salesqualifiedlead in September,
    # before its handoff → not progressed. 3/5 = 0.6 ≥ 0.3 → pass.
    ana = crm.owner("1", "ana@acme.example")
    leads = [crm.lead(str(101 + i), owner=ana) for i in range(5)]
    crm.event(leads[4], "stage", "salesqualifiedlead", "2026-09-10 10:00")
    for lead in leads:
        crm.mql(lead, HANDOFF)
    crm.event(leads[0], "stage", "salesqualifiedlead", "2026-10-20 10:00")
    crm.event(leads[1], "stage", "opportunity", "2026-11-20 10:00")
    crm.event(leads[2], "stage", "customer", "2026-10-30 10:00")
    crm.save()
    rule = audit(crm.path).rule("conversion")
    assert (rule.measured, rule.judged, rule.pending, rule.status) == (3 / 5, 5, 0, "pass")
    assert rule.details["progressed"] == 3


def test_conversion_is_what_progressed_by_as_of(crm):
    # The opportunity on 11-20 is after an as-of of 11-15 → 0/1 then, 1/1 on 1 Dec.
    lead = crm.lead("101", owner=crm.owner("1", "ana@acme.example"))
    crm.mql(lead, HANDOFF)
    crm.event(lead, "stage", "opportunity", "2026-11-20 10:00")
    crm.save()
    assert audit(crm.path, as_of="2026-11-15 00:00").rule("conversion").measured == 0.0
    assert audit(crm.path).rule("conversion").measured == 1.0


def test_progress_at_the_handoff_instant_counts(crm):
    # Resolution of "after the handoff": a form that sets MQL (stage) and SQL (status
    # OPEN_DEAL here) at the same instant progressed — at or after the handoff.
    sla = make_sla(**{"funnel.hubspot.sql": {"status": ["OPEN_DEAL"]}})
    lead = crm.lead("101", owner=crm.owner("1", "ana@acme.example"))
    crm.mql(lead, HANDOFF)
    crm.event(lead, "status", "OPEN_DEAL", HANDOFF)
    crm.save()
    assert audit(crm.path, sla).rule("conversion").measured == 1.0


def test_conversion_is_split_by_segment_and_by_lead_source(crm):
    # segment / lead source / progressed:
    #   101 Software / ORGANIC_SEARCH / yes    102 Software / PAID_SOCIAL / no
    #   103 Retail   / PAID_SOCIAL    / yes    104 (none)   / ORGANIC_SEARCH / no
    # Software 1/2, Retail 1/1, (none) 0/1; ORGANIC_SEARCH 1/2, PAID_SOCIAL 1/2; total 2/4.
    ana = crm.owner("1", "ana@acme.example")
    rows = [
        ("101", "Software", "ORGANIC_SEARCH", True),
        ("102", "Software", "PAID_SOCIAL", False),
        ("103", "Retail", "PAID_SOCIAL", True),
        ("104", None, "ORGANIC_SEARCH", False),
    ]
    for crm_id, segment, source, progressed in rows:
        lead = crm.lead(crm_id, owner=ana, segment=segment, lead_source=source)
        crm.mql(lead, HANDOFF)
        if progressed:
            crm.event(lead, "stage", "salesqualifiedlead", "2026-10-16 10:00")
    crm.save()
    rule = audit(crm.path).rule("conversion")
    assert rule.measured == 2 / 4
    assert rule.details["by_segment"] == {
        "Software": {"handoffs": 2, "judged": 2, "progressed": 1, "share": 1 / 2},
        "Retail": {"handoffs": 1, "judged": 1, "progressed": 1, "share": 1.0},
        "(none)": {"handoffs": 1, "judged": 1, "progressed": 0, "share": 0.0},
    }
    assert rule.details["by_lead_source"] == {
        "ORGANIC_SEARCH": {"handoffs": 2, "judged": 2, "progressed": 1, "share": 1 / 2},
        "PAID_SOCIAL": {"handoffs": 2, "judged": 2, "progressed": 1, "share": 1 / 2},
    }


def build_two_crms(path):
    """HubSpot and Salesforce leads in one snapshot, as two connectors would write them."""
    hs = TinyCRM(path)
    ana = hs.owner("1", "ana@acme.example")
    h1 = hs.lead("201", owner=ana)
    hs.mql(h1, HANDOFF)
    hs.activity(h1, "call", "2026-10-14 10:02")
    hs.event(h1, "stage", "salesqualifiedlead", "2026-10-16 10:00")
    # A HubSpot lead with the *Salesforce* MQL value is no handoff: the mapping is per source.
    h2 = hs.lead("202", owner=ana)
    hs.event(h2, "status", "Marketing Qualified", HANDOFF)
    hs.save()

    sf = TinyCRM(path, source="salesforce")
    sam = sf.owner("005A", "sam@acme.example")
    # S1: Marketing Qualified → Sales Qualified (status) → progressed.
    s1 = sf.lead("00Q1", owner=sam)
    sf.event(s1, "status", "Marketing Qualified", HANDOFF)
    sf.activity(s1, "call", "2026-10-14 10:04")
    sf.event(s1, "status", "Sales Qualified", "2026-10-17 10:00")
    # S2: Marketing Qualified → converted (lead conversion) → progressed.
    s2 = sf.lead("00Q2", owner=sam)
    sf.event(s2, "status", "Marketing Qualified", HANDOFF)
    sf.activity(s2, "call", "2026-10-14 10:20")
    sf.event(s2, "converted", "true", "2026-10-19 10:00")
    # S3: Marketing Qualified → 3 unanswered calls → Closed - Not Converted.
    s3 = sf.lead("00Q3", owner=sam)
    sf.event(s3, "status", "Marketing Qualified", HANDOFF)
    for t in ("2026-10-14 10:01", "2026-10-15 10:00", "2026-10-16 10:00"):
        sf.activity(s3, "call", t, outcome="No answer")
    sf.event(s3, "status", "Closed - Not Converted", "2026-10-20 10:00")
    # A Salesforce lead with the HubSpot lifecycle value is no handoff either.
    s4 = sf.lead("00Q4", owner=sam)
    sf.event(s4, "stage", "marketingqualifiedlead", HANDOFF)
    sf.save()
    return path


def test_salesforce_and_hubspot_leads_are_audited_together(tmp_path):
    # Handoffs: 201 (HubSpot), 00Q1, 00Q2, 00Q3 (Salesforce) → 4.
    # Progressed: 201 (SQL stage), 00Q1 (status Sales Qualified), 00Q2 (converted) → 3/4.
    # Speed: 201 2 min, 00Q1 4 min, 00Q2 20 min, 00Q3 1 min → 3/4, violation 00Q2 (sam).
    sla = make_sla(
        **{"sales.recycle.reasons": ["UNQUALIFIED", "BAD_TIMING", "Closed - Not Converted"]}
    )
    result = audit(build_two_crms(tmp_path / "s.db"), sla)
    volume = result.rule("mql_volume")
    assert volume.measured == 4
    assert volume.details["by_source"] == {"hubspot": 1, "salesforce": 3}
    conversion = result.rule("conversion")
    assert (conversion.measured, conversion.judged) == (3 / 4, 4)
    speed = result.rule("speed_to_lead")
    assert speed.measured == 3 / 4
    [v] = speed.violations
    assert (v.lead, v.crm_id, v.rep, v.source) == (
        "salesforce:00Q2",
        "00Q2",
        "sam@acme.example",
        "salesforce",
    )
    assert v.reason == "first touch after 20 min (business), SLA 5m"
    # 00Q3 recycled after 3 counted attempts with a listed reason → compliant; the others
    # progressed inside the window → connected → left out.
    recycling = result.rule("recycling")
    assert (recycling.measured, recycling.judged) == (1.0, 1)
    assert recycling.details["connected_left_out"] == 3
    reps = {r.rep: r.judged for r in speed.reps}
    assert reps == {"ana@acme.example": 1, "sam@acme.example": 3}


def test_a_salesforce_recycle_status_outside_the_reasons_has_no_reason(tmp_path):
    # Base reasons are HubSpot's [UNQUALIFIED, BAD_TIMING]: Salesforce's "Closed - Not
    # Converted" enters recycled but is not a listed reason → no_reason. (recycle.reasons is
    # one list for every source, so a two-CRM SLA must list both CRMs' values.)
    result = audit(build_two_crms(tmp_path / "s.db"))
    [v] = result.rule("recycling").violations
    assert (v.crm_id, v.kind) == ("00Q3", "no_reason")


def test_a_converted_false_event_is_no_conversion(tmp_path):
    sf = TinyCRM(tmp_path / "s.db", source="salesforce")
    lead = sf.lead("00Q1", owner=sf.owner("005A", "sam@acme.example"))
    sf.event(lead, "status", "Marketing Qualified", HANDOFF)
    sf.event(lead, "converted", "false", "2026-10-16 10:00")
    sf.save()
    assert audit(sf.path).rule("conversion").measured == 0.0


def test_conversion_judges_a_handoff_only_after_its_maturity(crm):
    # mql_to_sql {target: 0.5, after: 14d}. Handoffs (São Paulo, −03:00):
    #   201 Wed 10-14 10:00 → matures Wed 10-28 10:00; progressed 10-16 → judged, converted
    #   202 Wed 10-14 10:00 → matures 10-28 10:00; never progressed → judged, not converted
    #   203 Thu 10-22 10:00 → matures Thu 11-05 10:00; progressed 10-23 → pending until then
    # As of 10-31 23:00 (month to date): 1 of 2 judged, 1 pending; as of 11-05 10:00: 2 of 3.
    ana = crm.owner("1", "ana@acme.example")
    for crm_id, at, progressed in (
        ("201", "2026-10-14 10:00", "2026-10-16 10:00"),
        ("202", "2026-10-14 10:00", None),
        ("203", "2026-10-22 10:00", "2026-10-23 10:00"),
    ):
        lead = crm.lead(crm_id, owner=ana)
        crm.mql(lead, at)
        if progressed:
            crm.event(lead, "stage", "salesqualifiedlead", progressed)
    crm.save()
    sla = make_sla(**{"marketing.mql_to_sql": {"target": 0.5, "after": "14d"}})

    to_date = audit(crm.path, sla, as_of="2026-10-31 23:00").rule("conversion")
    assert (to_date.measured, to_date.judged, to_date.pending, to_date.status) == (
        0.5,
        2,
        1,
        "pass",
    )
    assert [p.crm_id for p in to_date.pending_handoffs] == ["203"]
    assert to_date.pending_handoffs[0].decided_by == "conversion judged 14d after handoff"
    assert to_date.details["after"] == "14d"
    assert to_date.details["by_segment"]["Software"] == {
        "handoffs": 3,
        "judged": 2,
        "progressed": 1,
        "share": 0.5,
    }

    just_before = audit(crm.path, sla, as_of="2026-11-05 09:59").rule("conversion")
    assert (just_before.judged, just_before.pending) == (2, 1)
    matured = audit(crm.path, sla, as_of="2026-11-05 10:00").rule("conversion")
    assert (matured.measured, matured.judged, matured.pending) == (2 / 3, 3, 0)


def test_conversion_with_every_handoff_maturing_has_no_data(crm):
    ana = crm.owner("1", "ana@acme.example")
    lead = crm.lead("301", owner=ana, segment=None)
    crm.mql(lead, "2026-10-30 10:00")
    crm.save()
    sla = make_sla(**{"marketing.mql_to_sql": {"target": 0.3, "after": "14d"}})
    rule = audit(crm.path, sla, as_of="2026-11-02 10:00").rule("conversion")
    assert (rule.status, rule.measured, rule.judged, rule.pending) == ("no_data", None, 0, 1)
    assert rule.details["by_segment"] == {
        "(none)": {"handoffs": 1, "judged": 0, "progressed": 0, "share": None}
    }
