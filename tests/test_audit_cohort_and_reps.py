"""Handoffs, the period's cohort, deleted leads and the responsible rep
(docs/SEMANTICS.md §1 Period, §2 Funnel events, §3 The responsible rep).

Base test SLA: America/Sao_Paulo (UTC-3, no daylight saving), HubSpot mql = lifecycle
stage marketingqualifiedlead, recycled = status UNQUALIFIED/BAD_TIMING.
"""

from __future__ import annotations

import pytest

from tests.tiny_crm import TinyCRM, audit, make_sla


@pytest.fixture
def crm(tmp_path):
    return TinyCRM(tmp_path / "s.db")


def owned_lead(crm, crm_id, owner, **kwargs):
    lead = crm.lead(crm_id, owner=owner, **kwargs)
    crm.event(lead, "owner", owner, "2026-09-01 08:00")
    return lead


# -- §2 handoffs and the cohort -------------------------------------------------------------


def test_a_lead_enters_mql_through_any_field_the_funnel_lists(crm):
    # mql = stage marketingqualifiedlead OR status OPEN_MQL. 101 via stage, 102 via status,
    # 103 via both at the same instant (one entry, not two) → 3 handoffs.
    sla = make_sla(
        **{"funnel.hubspot.mql": {"stage": ["marketingqualifiedlead"], "status": ["OPEN_MQL"]}}
    )
    ana = crm.owner("1", "ana@acme.example")
    a = owned_lead(crm, "101", ana)
    crm.mql(a, "2026-10-05 10:00")
    b = owned_lead(crm, "102", ana)
    crm.event(b, "status", "OPEN_MQL", "2026-10-06 10:00")
    c = owned_lead(crm, "103", ana)
    crm.mql(c, "2026-10-07 10:00")
    crm.event(c, "status", "OPEN_MQL", "2026-10-07 10:00")
    rule = audit(crm, sla).rule("mql_volume")
    assert rule.measured == 3
    assert rule.details["by_source"] == {"hubspot": 3}


def test_values_outside_the_mql_mapping_are_no_handoff(crm):
    # stage "lead", status "OPEN_MQL" (not mapped in the base SLA), and a jump straight to
    # salesqualifiedlead are no entry into mql → only 104 is a handoff.
    ana = crm.owner("1", "ana@acme.example")
    a = owned_lead(crm, "101", ana)
    crm.event(a, "stage", "lead", "2026-10-05 10:00")
    b = owned_lead(crm, "102", ana)
    crm.event(b, "status", "OPEN_MQL", "2026-10-05 10:00")
    c = owned_lead(crm, "103", ana)
    crm.event(c, "stage", "salesqualifiedlead", "2026-10-05 10:00")
    d = owned_lead(crm, "104", ana)
    crm.mql(d, "2026-10-05 10:00")
    result = audit(crm)
    assert result.rule("mql_volume").measured == 1
    assert [v.lead for v in result.rule("speed_to_lead").violations] == [d]


def test_the_cohort_is_the_calendar_month_in_the_sla_time_zone(crm):
    # [2026-10-01 00:00 local, 2026-11-01 00:00 local) = [10-01 03:00Z, 11-01 03:00Z).
    # Sep 30 23:59 local → out; Oct 1 00:00 → in; Oct 31 23:59 (= Nov 1 02:59 UTC) → in;
    # Nov 1 00:00 → out (next period). → 2 handoffs.
    ana = crm.owner("1", "ana@acme.example")
    for crm_id, at in [
        ("101", "2026-09-30 23:59"),
        ("102", "2026-10-01 00:00"),
        ("103", "2026-10-31 23:59"),
        ("104", "2026-11-01 00:00"),
    ]:
        crm.mql(owned_lead(crm, crm_id, ana), at)
    result = audit(crm)
    assert result.rule("mql_volume").measured == 2
    got = sorted(v.crm_id for v in result.rule("speed_to_lead").violations)
    assert got == ["102", "103"]
    assert audit(crm, period="2026-11").rule("mql_volume").measured == 1
    assert audit(crm, period="2026-09").rule("mql_volume").measured == 1


def test_requalified_after_recycling_gives_a_second_handoff(crm):
    # Handoff 1: Mon 10-05 10:00, calls 10:03 (3 min), 10-06, 10-07; UNQUALIFIED 10-08
    # → recycled in time after 3 attempts with a reason → recycling compliant.
    # Handoff 2: stage back to marketingqualifiedlead Tue 10-20 10:00, call 10:02 (2 min),
    # salesqualifiedlead 10-22 → connected → left out of recycling.
    # Both in October → volume 2, speed_to_lead 2/2 judged, recycling 1/1.
    ana = crm.owner("1", "ana@acme.example")
    lead = owned_lead(crm, "101", ana)
    crm.mql(lead, "2026-10-05 10:00")
    for t in ("2026-10-05 10:03", "2026-10-06 10:00", "2026-10-07 10:00"):
        crm.activity(lead, "call", t)
    crm.event(lead, "status", "UNQUALIFIED", "2026-10-08 10:00")
    crm.event(lead, "stage", "lead", "2026-10-08 10:00")
    crm.mql(lead, "2026-10-20 10:00")
    crm.activity(lead, "call", "2026-10-20 10:02")
    crm.event(lead, "stage", "salesqualifiedlead", "2026-10-22 10:00")
    result = audit(crm)
    assert result.rule("mql_volume").measured == 2
    speed = result.rule("speed_to_lead")
    assert (speed.measured, speed.judged) == (1.0, 2)
    assert speed.details["median_minutes"] == pytest.approx(2.5)  # median of [3, 2]
    recycling = result.rule("recycling")
    assert (recycling.measured, recycling.judged) == (1.0, 1)
    assert recycling.details["connected_left_out"] == 1
    # "Progressed: the lead enters sql … after the handoff" — read literally, the 10-22
    # entry is after both handoffs, so both count as progressed.
    assert result.rule("conversion").measured == 1.0


def test_only_the_handoffs_inside_the_period_are_in_its_cohort(crm):
    # MQL Fri 09-25, recycled, MQL again Tue 10-20: October holds one handoff (10-20),
    # September the other.
    ana = crm.owner("1", "ana@acme.example")
    lead = owned_lead(crm, "101", ana)
    crm.mql(lead, "2026-09-25 10:00")
    crm.event(lead, "status", "BAD_TIMING", "2026-09-29 10:00")
    crm.event(lead, "stage", "lead", "2026-09-29 10:00")
    crm.mql(lead, "2026-10-20 10:00")
    result = audit(crm)
    assert result.rule("mql_volume").measured == 1
    [v] = result.rule("speed_to_lead").violations
    assert v.handoff_at == crm.at("2026-10-20 10:00")
    assert audit(crm, period="2026-09").rule("mql_volume").measured == 1


def test_a_deleted_lead_is_left_out_of_every_figure_and_noted(crm):
    # 101 (ana) called in 2 min. 102 (dora, deactivated) deleted on 10-20: its late handoff
    # must not appear in any figure, and dora — responsible for nothing else — is no rep.
    ana = crm.owner("1", "ana@acme.example")
    dora = crm.owner("4", "dora@acme.example", active=False)
    a = owned_lead(crm, "101", ana)
    crm.mql(a, "2026-10-05 10:00")
    crm.activity(a, "call", "2026-10-05 10:02")
    b = owned_lead(crm, "102", dora, deleted="2026-10-20 10:00")
    crm.mql(b, "2026-10-05 10:00")
    crm.activity(b, "call", "2026-10-06 10:00")
    result = audit(crm)
    assert result.rule("mql_volume").measured == 1
    for rule in result.rules:
        assert rule.judged + rule.pending <= 1, rule.id
        assert all(v.lead != b for v in rule.violations)
        assert {r.rep for r in rule.reps} == {"ana@acme.example"}, rule.id
    assert result.rule("speed_to_lead").measured == 1.0
    assert result.rule("mql_per_rep").judged == 1
    notes = [n for n in result.data_notes if "deleted" in n]
    assert len(notes) == 1 and notes[0].startswith("1 deleted lead")


def test_a_lead_deleted_only_after_as_of_is_still_counted(crm):
    # Deleted Fri 11-20; audited as of Sun 11-15 → it was not deleted yet → counted, no note.
    ana = crm.owner("1", "ana@acme.example")
    a = owned_lead(crm, "101", ana)
    crm.mql(a, "2026-10-05 10:00")
    b = owned_lead(crm, "102", ana, deleted="2026-11-20 10:00")
    crm.mql(b, "2026-10-05 10:00")
    result = audit(crm, as_of="2026-11-15 00:00")
    assert result.rule("mql_volume").measured == 2
    assert result.rule("speed_to_lead").judged == 2
    assert not any("deleted" in n for n in result.data_notes)


# -- §3 the responsible rep --------------------------------------------------------------


def test_owner_reassigned_after_the_handoff_keeps_the_owner_at_handoff_responsible(crm):
    # ana owns since 09-01; MQL Mon 10-05 10:00; reassigned to bob at 11:00; bob calls at
    # 11:30 (90 min) → the violation is ana's: she owned the lead when it was handed off.
    ana = crm.owner("1", "ana@acme.example")
    bob = crm.owner("2", "bob@acme.example")
    lead = owned_lead(crm, "101", ana)
    crm.mql(lead, "2026-10-05 10:00")
    crm.event(lead, "owner", bob, "2026-10-05 11:00")
    crm.activity(lead, "call", "2026-10-05 11:30", owner=bob)
    rule = audit(crm).rule("speed_to_lead")
    assert [v.rep for v in rule.violations] == ["ana@acme.example"]
    rows = {r.rep: (r.judged, r.violations) for r in rule.reps}
    assert rows == {"ana@acme.example": (1, 1), "bob@acme.example": (0, 0)}


def test_owner_assigned_at_the_handoff_instant_is_responsible(crm):
    # Round-robin assigns bob at the very instant of the MQL (ana before) → bob.
    ana = crm.owner("1", "ana@acme.example")
    bob = crm.owner("2", "bob@acme.example")
    lead = owned_lead(crm, "101", ana)
    crm.mql(lead, "2026-10-05 10:00")
    crm.event(lead, "owner", bob, "2026-10-05 10:00")
    [v] = audit(crm).rule("speed_to_lead").violations
    assert v.rep == "bob@acme.example"


def test_no_owner_at_the_handoff_makes_the_first_owner_after_it_responsible(crm):
    # No owner until 10:30 (carl), then bob the next day → carl.
    crm.owner("2", "bob@acme.example")
    crm.owner("3", "carl@acme.example")
    lead = crm.lead("101", owner="hubspot:2")
    crm.mql(lead, "2026-10-05 10:00")
    crm.event(lead, "owner", "hubspot:3", "2026-10-05 10:30")
    crm.event(lead, "owner", "hubspot:2", "2026-10-06 10:00")
    [v] = audit(crm).rule("speed_to_lead").violations
    assert v.rep == "carl@acme.example"


def test_owner_cleared_before_the_handoff_counts_as_no_owner(crm):
    # 101: owner ana, cleared to "" on 10-01; 102: cleared to null. Both assigned bob after
    # the handoff → bob is responsible for both.
    ana = crm.owner("1", "ana@acme.example")
    bob = crm.owner("2", "bob@acme.example")
    for crm_id, cleared in (("101", ""), ("102", None)):
        lead = owned_lead(crm, crm_id, ana)
        crm.event(lead, "owner", cleared, "2026-10-01 10:00")
        crm.mql(lead, "2026-10-05 10:00")
        crm.event(lead, "owner", bob, "2026-10-05 12:00")
    rule = audit(crm).rule("speed_to_lead")
    assert [v.rep for v in rule.violations] == ["bob@acme.example"] * 2


def test_no_owner_history_falls_back_to_the_current_owner(crm):
    crm.owner("1", "ana@acme.example")
    crm.owner("2", "bob@acme.example")
    lead = crm.lead("101", owner="hubspot:2")
    crm.mql(lead, "2026-10-05 10:00")
    [v] = audit(crm).rule("speed_to_lead").violations
    assert v.rep == "bob@acme.example"


def test_a_lead_with_no_owner_at_all_is_reported_as_unassigned_never_dropped(crm):
    # 101 (ana) touched on time; 102 has no owner, no owner history → "unassigned".
    # It is judged like any other handoff and has its own row, but is not a rep.
    ana = crm.owner("1", "ana@acme.example")
    a = owned_lead(crm, "101", ana)
    crm.mql(a, "2026-10-05 10:00")
    crm.activity(a, "call", "2026-10-05 10:01")
    b = crm.lead("102")
    crm.mql(b, "2026-10-05 10:00")
    result = audit(crm)
    speed = result.rule("speed_to_lead")
    assert (speed.measured, speed.judged) == (1 / 2, 2)
    assert [(v.lead, v.rep) for v in speed.violations] == [(b, "unassigned")]
    for rule in result.rules:
        reps = {r.rep: r for r in rule.reps}
        assert set(reps) == {"ana@acme.example", "unassigned"}, rule.id
    assert result.rule("mql_volume").measured == 2
    unassigned_row = {r.rep: r for r in result.rule("mql_volume").reps}["unassigned"]
    assert unassigned_row.measured == 1
    per_rep = result.rule("mql_per_rep")
    assert per_rep.judged == 1  # one rep: ana; "unassigned" is a row, not a rep
    assert any(
        "1 handoffs had no owner" in n or "1 handoff had no owner" in n for n in result.data_notes
    )


def test_a_rep_without_an_email_is_named_by_owner_id(crm):
    seven = crm.owner("7")
    lead = owned_lead(crm, "101", seven)
    crm.mql(lead, "2026-10-05 10:00")
    [v] = audit(crm).rule("speed_to_lead").violations
    assert v.rep == "hubspot:7"
