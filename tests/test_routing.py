"""Routing against rep response (issue 18, item 1; docs/SEMANTICS.md, Routing and time off).

Hand-computed scenarios on the base test SLA (tests/tiny_crm.py): America/Sao_Paulo, open
mon-fri 09:00-12:00 and 13:00-18:00, first touch within 5m. Times are local wall times.
Mon 2026-10-05 and Tue 10-06 are ordinary working days.
"""

from __future__ import annotations

import json

import pytest

from audit.reports import write_report
from tests.tiny_crm import TinyCRM, audit, make_sla

ROUTING = {"within": "10m", "target": 0.95}


@pytest.fixture
def crm(tmp_path):
    return TinyCRM(tmp_path / "s.db")


def queued_lead(crm, crm_id, mql_at, owner=None, assigned_at=None, call_at=None):
    """A lead with no owner (a queue) at its handoff, given to ``owner`` at ``assigned_at``."""
    lead = crm.lead(crm_id, owner=owner)
    crm.event(lead, "owner", None, "2026-09-01 08:00")
    crm.mql(lead, mql_at)
    if owner and assigned_at:
        crm.event(lead, "owner", owner, assigned_at)
    if call_at:
        crm.activity(lead, "call", call_at)
    return lead


def test_three_hours_unassigned_then_touched_in_two_minutes_is_a_routing_breach(crm):
    # Handoff Mon 09:00; the lead sits in a queue until 13:00: 09:00-12:00 = 3 h of business
    # time (the lunch hour is closed). Ana calls at 13:02: her response is 2 min ≤ 5m.
    # Speed to lead from the handoff: 3 h 2 min > 5m, late — attributed to routing.
    # The routing rule: 180 min > 10m → violation.
    ana = crm.owner("1", "ana@acme.example")
    queued_lead(crm, "101", "2026-10-05 09:00", ana, "2026-10-05 13:00", "2026-10-05 13:02")
    result = audit(crm, make_sla(routing=ROUTING))
    speed = result.rule("speed_to_lead")
    [late] = speed.violations
    assert late.attributed_to == "routing"
    assert speed.details["attribution"] == {"routing": 1, "rep": 0, "both": 0}
    assert speed.details["attribution_by_rep"] == {
        "ana@acme.example": {"routing": 1, "rep": 0, "both": 0}
    }
    assert speed.details["routing_median_minutes"] == pytest.approx(180.0)
    assert speed.details["rep_response_median_minutes"] == pytest.approx(2.0)
    routing = result.rule("routing")
    assert (routing.measured, routing.judged, routing.status) == (0.0, 1, "fail")
    [v] = routing.violations
    assert v.kind == "late" and "after 3 h" in v.reason and v.rep == "ana@acme.example"


def test_with_the_reps_clock_the_same_lead_meets_speed_to_lead(crm):
    # first_touch.clock: assignment → speed to lead reads Ana's 2 minutes: compliant. The
    # routing rule still holds routing to account.
    ana = crm.owner("1", "ana@acme.example")
    queued_lead(crm, "101", "2026-10-05 09:00", ana, "2026-10-05 13:00", "2026-10-05 13:02")
    sla = make_sla(routing=ROUTING, **{"sales.first_touch.clock": "assignment"})
    result = audit(crm, sla)
    speed = result.rule("speed_to_lead")
    assert (speed.measured, speed.violations, speed.details["clock"]) == (1.0, [], "assignment")
    assert speed.details["median_minutes"] == pytest.approx(2.0)
    assert result.rule("routing").measured == 0.0


def test_a_rep_who_is_slow_after_a_prompt_assignment_is_the_reps_breach(crm):
    # Assigned at 09:03 (3 min ≤ 10m routing), called at 09:30: 27 min > 5m → the rep.
    ana = crm.owner("1", "ana@acme.example")
    queued_lead(crm, "101", "2026-10-05 09:00", ana, "2026-10-05 09:03", "2026-10-05 09:30")
    result = audit(crm, make_sla(routing=ROUTING))
    [late] = result.rule("speed_to_lead").violations
    assert late.attributed_to == "rep"
    assert result.rule("routing").measured == 1.0


def test_slow_routing_and_a_slow_rep_are_both_at_fault(crm):
    # Assigned 09:20 (20 min > 10m), called 10:00 (40 min > 5m): both.
    ana = crm.owner("1", "ana@acme.example")
    queued_lead(crm, "101", "2026-10-05 09:00", ana, "2026-10-05 09:20", "2026-10-05 10:00")
    [late] = audit(crm, make_sla(routing=ROUTING)).rule("speed_to_lead").violations
    assert late.attributed_to == "both"


def test_a_lead_never_assigned_is_routings_fault_and_pending_until_the_routing_deadline(crm):
    # Never assigned: as of Mon 09:05 the 10m routing deadline (09:10) has not passed →
    # pending; by December it is a violation of kind "unassigned".
    queued_lead(crm, "101", "2026-10-05 09:00")
    sla = make_sla(routing=ROUTING)
    early = audit(crm, sla, as_of="2026-10-05T12:05:00Z").rule("routing")
    assert (early.judged, early.pending) == (0, 1)
    late = audit(crm, sla)
    [v] = late.rule("routing").violations
    assert (v.kind, v.rep) == ("unassigned", "unassigned")
    [touch] = late.rule("speed_to_lead").violations
    assert touch.attributed_to == "routing"


def test_without_a_routing_block_there_is_no_routing_rule(crm):
    ana = crm.owner("1", "ana@acme.example")
    queued_lead(crm, "101", "2026-10-05 09:00", ana, "2026-10-05 13:00", "2026-10-05 13:02")
    result = audit(crm, make_sla())
    assert "routing" not in [rule.id for rule in result.rules]
    # Still attributed: with no routing block, routing's allowance is the 5m itself.
    assert result.rule("speed_to_lead").violations[0].attributed_to == "routing"


def test_the_json_report_carries_the_attribution_and_the_routing_rule(crm, tmp_path):
    ana = crm.owner("1", "ana@acme.example")
    queued_lead(crm, "101", "2026-10-05 09:00", ana, "2026-10-05 13:00", "2026-10-05 13:02")
    result = audit(crm, make_sla(routing=ROUTING))
    write_report(result, "json", tmp_path / "r.json")
    doc = json.loads((tmp_path / "r.json").read_text())
    assert [r["id"] for r in doc["rules"]][2:4] == ["speed_to_lead", "routing"]
    speed = [v for v in doc["violations"] if v["rule"] == "speed_to_lead"]
    assert speed[0]["attributed_to"] == "routing"


def test_a_team_in_another_time_zone_is_measured_on_its_own_clock(tmp_path):
    # SLA in São Paulo (09-12, 13-18); team "lisbon" works 09:00-18:00 Lisbon time
    # (UTC+1 in October; São Paulo is UTC-3, four hours behind).
    # Handoff 2026-10-05 16:00 Lisbon = 12:00 São Paulo. Bia (Lisbon) calls at 16:04
    # Lisbon → 4 min on her clock ≤ 5m: compliant. On the SLA's clock 12:00-12:04 is
    # lunch (closed) and the touch would count 0 min; Carl (São Paulo, no team) gets the
    # same lead shape at 12:00 SP and calls 13:06 SP → 6 min > 5m, late.
    crm = TinyCRM(tmp_path / "s.db")
    bia = crm.owner("1", "bia@acme.example")
    carl = crm.owner("2", "carl@acme.example")
    for crm_id, owner, call in (
        ("101", bia, "2026-10-05 12:04"),
        ("102", carl, "2026-10-05 13:06"),
    ):
        lead = crm.lead(crm_id, owner=owner)
        crm.event(lead, "owner", owner, "2026-09-01 08:00")
        crm.mql(lead, "2026-10-05 12:00")
        crm.activity(lead, "call", call)
    team = {
        "manager": "bia@acme.example",
        "reps": ["bia@acme.example"],
        "timezone": "Europe/Lisbon",
        "business_hours": {"mon-fri": "09:00-18:00"},
        "holidays": [],
    }
    speed = audit(crm, make_sla(teams={"lisbon": team})).rule("speed_to_lead")
    reps = {row.rep: row.measured for row in speed.reps}
    assert reps == {"bia@acme.example": 1.0, "carl@acme.example": 0.0}
    # Bia's 4 minutes and Carl's 6: median 5.
    assert speed.details["median_minutes"] == pytest.approx(5.0)


def test_an_evening_lead_for_lisbon_is_late_on_lisbons_clock(tmp_path):
    # Handoff 14:30 São Paulo = 18:30 Lisbon: Lisbon is closed, its clock starts Tue 09:00
    # Lisbon (05:00 SP). Bia calls Tue 09:03 Lisbon (05:03 SP): 3 min → compliant, though
    # the São Paulo clock would count 14:30-18:00 = 3.5 h. The untouched twin's deadline is
    # Tue 09:05 Lisbon = 05:05 SP.
    crm = TinyCRM(tmp_path / "s.db")
    bia = crm.owner("1", "bia@acme.example")
    for crm_id, call in (("101", "2026-10-06 05:03"), ("102", None)):
        lead = crm.lead(crm_id, owner=bia)
        crm.event(lead, "owner", bia, "2026-09-01 08:00")
        crm.mql(lead, "2026-10-05 14:30")
        if call:
            crm.activity(lead, "call", call)
    team = {"manager": "bia@acme.example", "reps": ["bia@acme.example"]}
    team |= {"timezone": "Europe/Lisbon", "business_hours": {"mon-fri": "09:00-18:00"}}
    speed = audit(crm, make_sla(teams={"lisbon": team})).rule("speed_to_lead")
    assert (speed.measured, speed.judged) == (0.5, 2)
    [v] = speed.violations
    assert v.instants["deadline"] == crm.at("2026-10-06 05:05")
