"""The recycling rule (docs/SEMANTICS.md §5 recycling).

Base test SLA: attempts.min 3, window 14d, min_gap 4h, recycle grace 3d, reason_field
status, reasons [UNQUALIFIED, BAD_TIMING]; HubSpot "recycled" = status UNQUALIFIED or
BAD_TIMING. Every handoff is Mon 2026-10-05 10:00 local, so
window end = Mon 10-19 10:00 and recycle deadline = window end + 3d = Thu 10-22 10:00.
Calls carry the "No answer" disposition, so nothing connects unless said otherwise.
"""

from __future__ import annotations

import re

import pytest

from tests.tiny_crm import TinyCRM, audit, make_sla

HANDOFF = "2026-10-05 10:00"
NO_ANSWER = "73a0d17f-1163-4015-bdd5-ec830791da20"
THREE_CALLS = ("2026-10-05 10:01", "2026-10-06 10:00", "2026-10-07 10:00")


@pytest.fixture
def crm(tmp_path):
    return TinyCRM(tmp_path / "s.db")


def handoff(crm, crm_id="101", calls=THREE_CALLS):
    owner = "hubspot:1"
    if not crm.page.owners:
        crm.owner("1", "ana@acme.example")
    lead = crm.lead(crm_id, owner=owner)
    crm.event(lead, "owner", owner, "2026-09-01 08:00")
    crm.mql(lead, HANDOFF)
    for t in calls:
        crm.activity(lead, "call", t, outcome=NO_ANSWER)
    return lead


def test_recycled_after_enough_attempts_with_a_reason_is_compliant(crm):
    # 3 counted attempts (10-05, 10-06, 10-07), status UNQUALIFIED Thu 10-08 → recycled
    # before the deadline, 3 ≥ 3 attempts before it, reason UNQUALIFIED is listed → ok.
    lead = handoff(crm)
    crm.event(lead, "status", "UNQUALIFIED", "2026-10-08 10:00")
    rule = audit(crm).rule("recycling")
    assert (rule.measured, rule.judged, rule.pending) == (1.0, 1, 0)
    assert rule.violations == []
    assert rule.status == "pass"


def test_recycling_after_too_few_attempts_is_premature(crm):
    # Calls 10-05 10:01 and 10-06 10:00 (2 counted), BAD_TIMING Wed 10-07 09:00 → premature.
    lead = handoff(crm, calls=THREE_CALLS[:2])
    crm.event(lead, "status", "BAD_TIMING", "2026-10-07 09:00")
    rule = audit(crm).rule("recycling")
    assert (rule.measured, rule.judged, rule.pending) == (0.0, 1, 0)
    [v] = rule.violations
    assert (v.kind, v.lead, v.rep) == ("premature", lead, "ana@acme.example")
    assert v.reason == "recycled after 2 counted attempts (SLA 3)"
    assert v.instants["recycled_at"] == crm.at("2026-10-07 09:00")
    assert v.instants["deadline"] == crm.at("2026-10-22 10:00")
    assert rule.details["premature"] == 1


def test_an_attempt_at_the_recycle_instant_is_not_before_it(crm):
    # Third call at Wed 10-07 10:00, recycled at that same instant: only 2 counted attempts
    # lie strictly before the recycle → premature.
    lead = handoff(crm)
    crm.event(lead, "status", "UNQUALIFIED", "2026-10-07 10:00")
    [v] = audit(crm).rule("recycling").violations
    assert v.kind == "premature"
    assert v.reason == "recycled after 2 counted attempts (SLA 3)"


def test_dials_merged_by_min_gap_do_not_make_a_recycle_timely(crm):
    # Five dials on 10-05 between 10:01 and 10:20 are 1 counted attempt; recycled 10-06.
    lead = handoff(crm, calls=[f"2026-10-05 10:{m:02d}" for m in (1, 5, 10, 15, 20)])
    crm.event(lead, "status", "UNQUALIFIED", "2026-10-06 10:00")
    [v] = audit(crm).rule("recycling").violations
    assert re.fullmatch(r"recycled after 1 counted attempts? \(SLA 3\)", v.reason)
    assert v.kind == "premature"


# For "no reason" the recycle must be recorded through a field other than the reason:
# here HubSpot "recycled" is stage "other", and the reason is read from status.
REASONED = {"funnel.hubspot.recycled": {"stage": ["other"]}}


def test_recycled_without_a_reason_is_a_violation(crm):
    # 3 attempts, stage → other on 10-08 with status never set → status empty at that
    # instant → no reason.
    lead = handoff(crm)
    crm.event(lead, "stage", "other", "2026-10-08 10:00")
    rule = audit(crm, make_sla(**REASONED)).rule("recycling")
    assert (rule.measured, rule.judged) == (0.0, 1)
    [v] = rule.violations
    assert v.kind == "no_reason"
    assert v.reason == "recycled without a valid reason (status empty)"
    assert rule.details["no_reason"] == 1


def test_recycled_with_a_reason_not_in_the_list_is_a_violation(crm):
    # status ATTEMPTED_TO_CONTACT at the recycle instant: not in reasons → no reason.
    lead = handoff(crm)
    crm.event(lead, "status", "ATTEMPTED_TO_CONTACT", "2026-10-07 12:00")
    crm.event(lead, "stage", "other", "2026-10-08 10:00")
    [v] = audit(crm, make_sla(**REASONED)).rule("recycling").violations
    assert v.kind == "no_reason"
    assert v.reason == "recycled without a valid reason (status was 'ATTEMPTED_TO_CONTACT')"


def test_any_reason_is_accepted_when_no_reasons_are_listed(crm):
    # recycle.reasons omitted: a non-empty status at the recycle instant is a reason.
    lead = handoff(crm)
    crm.event(lead, "status", "ATTEMPTED_TO_CONTACT", "2026-10-07 12:00")
    crm.event(lead, "stage", "other", "2026-10-08 10:00")
    sla = make_sla(**REASONED, **{"sales.recycle.reasons": None})
    rule = audit(crm, sla).rule("recycling")
    assert (rule.measured, rule.judged) == (1.0, 1)


def test_a_reason_set_at_the_recycle_instant_counts_one_set_after_does_not(crm):
    # 101: status BAD_TIMING and stage other both at 10-08 10:00 → reason present → ok.
    # 102: stage other at 10-08 10:00, status BAD_TIMING only at 10:01 → empty then → no reason.
    a = handoff(crm, "101")
    crm.event(a, "status", "BAD_TIMING", "2026-10-08 10:00")
    crm.event(a, "stage", "other", "2026-10-08 10:00")
    b = handoff(crm, "102")
    crm.event(b, "stage", "other", "2026-10-08 10:00")
    crm.event(b, "status", "BAD_TIMING", "2026-10-08 10:01")
    rule = audit(crm, make_sla(**REASONED)).rule("recycling")
    assert (rule.measured, rule.judged) == (1 / 2, 2)
    assert [(v.crm_id, v.kind) for v in rule.violations] == [("102", "no_reason")]


def test_premature_and_without_reason_is_reported_once_as_premature(crm):
    # One evidence row per violating handoff: 1 attempt and no reason → kind premature,
    # the missing reason mentioned in words.
    lead = handoff(crm, calls=THREE_CALLS[:1])
    crm.event(lead, "stage", "other", "2026-10-08 10:00")
    rule = audit(crm, make_sla(**REASONED)).rule("recycling")
    [v] = rule.violations
    assert v.kind == "premature"
    assert re.fullmatch(
        r"recycled after 1 counted attempts? \(SLA 3\), and no valid reason in status", v.reason
    )
    assert (rule.details["premature"], rule.details["no_reason"]) == (1, 0)


def test_neither_progressed_nor_recycled_by_the_deadline_is_stuck(crm):
    # 3 attempts, no recycle, no progress; as-of 1 Dec is past Thu 10-22 10:00 → stuck.
    handoff(crm)
    rule = audit(crm).rule("recycling")
    assert (rule.measured, rule.judged, rule.pending) == (0.0, 1, 0)
    [v] = rule.violations
    assert v.kind == "stuck"
    # the deadline in the SLA's zone with its offset (São Paulo, −03:00), not UTC
    assert v.reason == "neither progressed nor recycled by 2026-10-22 10:00 -03:00"
    assert v.instants["deadline"] == crm.at("2026-10-22 10:00")
    assert rule.details["stuck"] == 1


def test_recycled_exactly_at_the_deadline_is_stuck_one_minute_before_is_not(crm):
    # 101: UNQUALIFIED at Thu 10-22 10:00 = deadline → not before it → stuck.
    # 102: UNQUALIFIED at 09:59 (in the grace period, after 3 attempts) → compliant.
    a = handoff(crm, "101")
    crm.event(a, "status", "UNQUALIFIED", "2026-10-22 10:00")
    b = handoff(crm, "102")
    crm.event(b, "status", "UNQUALIFIED", "2026-10-22 09:59")
    rule = audit(crm).rule("recycling")
    assert (rule.measured, rule.judged) == (1 / 2, 2)
    assert [(v.crm_id, v.kind) for v in rule.violations] == [("101", "stuck")]


def test_progressed_in_the_grace_period_counts_as_compliant(crm):
    # Progress after window end (Mon 10-19 10:00) does not connect, so the handoff is
    # judged by recycling; stage salesqualifiedlead Tue 10-20 (before the deadline) →
    # progressed → compliant.
    lead = handoff(crm, calls=THREE_CALLS[:1])
    crm.event(lead, "stage", "salesqualifiedlead", "2026-10-20 10:00")
    rule = audit(crm).rule("recycling")
    assert (rule.measured, rule.judged, rule.pending) == (1.0, 1, 0)
    assert rule.details["connected_left_out"] == 0
    # Judged as soon as it progressed: as of Wed 10-21, before the deadline.
    early = audit(crm, as_of="2026-10-21 12:00").rule("recycling")
    assert (early.measured, early.judged, early.pending) == (1.0, 1, 0)


def test_recycled_in_the_grace_period_with_too_few_attempts_is_premature(crm):
    # 2 counted attempts in the window, recycled Tue 10-20 (after window end, before the
    # deadline) → premature.
    lead = handoff(crm, calls=THREE_CALLS[:2])
    crm.event(lead, "status", "UNQUALIFIED", "2026-10-20 10:00")
    [v] = audit(crm).rule("recycling").violations
    assert v.kind == "premature"
    assert v.reason == "recycled after 2 counted attempts (SLA 3)"


def test_connected_handoffs_are_left_out_of_recycling(crm):
    # 101 progressed inside the window (connected); 102 had an inbound reply (connected);
    # both are out of the rule. 103 stuck → the only judged one.
    a = handoff(crm, "101")
    crm.event(a, "stage", "salesqualifiedlead", "2026-10-09 10:00")
    b = handoff(crm, "102")
    crm.activity(b, "email", "2026-10-09 10:00", direction="inbound")
    handoff(crm, "103")
    rule = audit(crm).rule("recycling")
    assert (rule.measured, rule.judged, rule.pending) == (0.0, 1, 0)
    assert rule.details["connected_left_out"] == 2
    assert [v.crm_id for v in rule.violations] == ["103"]


def test_a_recycle_before_the_handoff_is_not_the_recycle(crm):
    # UNQUALIFIED in September (an earlier cycle) is before the handoff: "the first entry
    # into recycled after the handoff" never happens → stuck.
    lead = handoff(crm)
    crm.event(lead, "status", "UNQUALIFIED", "2026-09-10 10:00")
    [v] = audit(crm).rule("recycling").violations
    assert v.kind == "stuck"


def test_the_first_recycle_after_the_handoff_is_the_one_judged(crm):
    # BAD_TIMING on Tue 10-06 09:00 after 1 counted attempt (premature), then UNQUALIFIED
    # on 10-09 after 3: the first entry decides → premature.
    lead = handoff(crm)
    crm.event(lead, "status", "BAD_TIMING", "2026-10-06 09:00")
    crm.event(lead, "status", "UNQUALIFIED", "2026-10-09 10:00")
    [v] = audit(crm).rule("recycling").violations
    assert v.kind == "premature"
    assert v.instants["recycled_at"] == crm.at("2026-10-06 09:00")


def test_recycling_is_pending_until_the_deadline(crm):
    # 3 attempts, not recycled. as-of Wed 10-21 12:00: window closed, deadline Thu 10-22
    # 10:00 not reached → pending. as-of Thu 10-22 10:00 → judged stuck.
    lead = handoff(crm)
    grace = audit(crm, as_of="2026-10-21 12:00").rule("recycling")
    assert (grace.measured, grace.judged, grace.pending) == (None, 0, 1)
    assert grace.status == "no_data"
    [p] = grace.pending_handoffs
    assert (p.rule, p.lead) == ("recycling", lead)
    inside = audit(crm, as_of="2026-10-10 12:00").rule("recycling")
    assert (inside.judged, inside.pending) == (0, 1)
    due = audit(crm, as_of="2026-10-22 10:00").rule("recycling")
    assert (due.judged, due.pending, due.violations[0].kind) == (1, 0, "stuck")


def test_a_recycle_is_judged_as_soon_as_it_happens(crm):
    # Recycled Wed 10-07 09:00 after 2 attempts; as-of Thu 10-08 (window still open) →
    # judged premature already.
    lead = handoff(crm, calls=THREE_CALLS[:2])
    crm.event(lead, "status", "UNQUALIFIED", "2026-10-07 09:00")
    rule = audit(crm, as_of="2026-10-08 12:00").rule("recycling")
    assert (rule.measured, rule.judged, rule.pending) == (0.0, 1, 0)


def test_recycling_share_over_judged_handoffs_with_per_rep_rows(crm):
    # 101 compliant, 102 premature, 103 stuck, 104 still pending (handoff Fri 10-30 10:00,
    # deadline 11-16 10:00 > as-of 11-10) → measured 1/3, judged 3, pending 1.
    a = handoff(crm, "101")
    crm.event(a, "status", "UNQUALIFIED", "2026-10-08 10:00")
    b = handoff(crm, "102", calls=THREE_CALLS[:1])
    crm.event(b, "status", "UNQUALIFIED", "2026-10-08 10:00")
    handoff(crm, "103")
    bob = crm.owner("2", "bob@acme.example")
    d = crm.lead("104", owner=bob)
    crm.event(d, "owner", bob, "2026-09-01 08:00")
    crm.mql(d, "2026-10-30 10:00")
    rule = audit(crm, as_of="2026-11-10 12:00").rule("recycling")
    assert (rule.measured, rule.judged, rule.pending) == (1 / 3, 3, 1)
    assert rule.status == "fail"
    assert sorted(v.kind for v in rule.violations) == ["premature", "stuck"]
    rows = {r.rep: (r.measured, r.judged, r.pending, r.violations) for r in rule.reps}
    assert rows == {
        "ana@acme.example": (1 / 3, 3, 0, 2),
        "bob@acme.example": (None, 0, 1, 0),
    }
