"""Attempts, connections, coverage and the attempts rule (docs/SEMANTICS.md §4, §5).

Base test SLA: attempts.min 3, window 14d, min_gap 4h, channels [call, email, meeting],
America/Sao_Paulo. Every handoff below is Wed 2026-10-14 10:00 local unless said
otherwise, so its window is [Wed 10-14 10:00, Wed 10-28 10:00) — 14 calendar days.
"""

from __future__ import annotations

import pytest

from tests.tiny_crm import TinyCRM, audit, make_sla

HANDOFF = "2026-10-14 10:00"
CONNECTED = "f240bbac-87c9-4f6e-bf70-924b57d47db7"  # HubSpot "Connected" disposition
NO_ANSWER = "73a0d17f-1163-4015-bdd5-ec830791da20"  # HubSpot "No answer" disposition


@pytest.fixture
def crm(tmp_path):
    return TinyCRM(tmp_path / "s.db")


def handoff(crm, crm_id="101", at=HANDOFF):
    owner = f"{crm.source}:1"
    if not any(o["id"] == owner for o in crm.page.owners):
        crm.owner("1", "ana@acme.example")
    lead = crm.lead(crm_id, owner=owner)
    crm.event(lead, "owner", owner, "2026-09-01 08:00")
    crm.mql(lead, at)
    return lead


def test_five_dials_in_ten_minutes_are_one_attempt(crm):
    # Dials 10:01, 10:03, 10:05, 10:08, 10:11: all within 4h of the first → 1 counted attempt.
    # attempts: 1 < 3 and not connected, window closed → violation. Coverage: worked.
    lead = handoff(crm)
    for minute in ("01", "03", "05", "08", "11"):
        crm.activity(lead, "call", f"2026-10-14 10:{minute}", outcome=NO_ANSWER)
    result = audit(crm)
    rule = result.rule("attempts")
    assert (rule.measured, rule.judged, rule.pending) == (0.0, 1, 0)
    assert rule.details["attempts_histogram"] == {"1": 1}
    [v] = rule.violations
    assert v.reason == "1 counted attempt and no connection in 14d (SLA 3)"
    assert result.rule("coverage").measured == 1.0


def test_an_attempt_exactly_min_gap_after_the_previous_counted_one_counts(crm):
    # Lead 101: 10:01 counted; 14:00 is 3h59 later → not; 14:01 is exactly 4h → counted;
    # 18:00 is 3h59 after 14:01 → not. 2 counted → violation (SLA 3).
    # Lead 102: 10:01, 14:01, 18:01 → each exactly 4h after the previous counted → 3 → ok.
    a = handoff(crm, "101")
    for t in ("10:01", "14:00", "14:01", "18:00"):
        crm.activity(a, "call", f"2026-10-14 {t}")
    b = handoff(crm, "102")
    for t in ("10:01", "14:01", "18:01"):
        crm.activity(b, "call", f"2026-10-14 {t}")
    rule = audit(crm).rule("attempts")
    assert (rule.measured, rule.judged) == (1 / 2, 2)
    assert rule.details["attempts_histogram"] == {"2": 1, "3": 1}
    assert [v.crm_id for v in rule.violations] == ["101"]
    assert rule.violations[0].reason == "2 counted attempts and no connection in 14d (SLA 3)"


def test_min_gap_is_measured_from_the_previous_counted_attempt_not_the_previous_dial(crm):
    # 10:00 counted; 13:00 (3h later) not; 15:00 is 5h after the counted 10:00 → counted,
    # although only 2h after the 13:00 dial. 16:00 (1h after 15:00) not. → 2 counted.
    lead = handoff(crm)
    for t in ("10:00", "13:00", "15:00", "16:00"):
        crm.activity(lead, "email", f"2026-10-14 {t}")
    rule = audit(crm).rule("attempts")
    assert rule.details["attempts_histogram"] == {"2": 1}


def test_min_gap_is_calendar_time_not_business_time(crm):
    # Handoff Fri 10-16 17:00. Calls Fri 17:00, Fri 21:00, Sat 01:00: each 4 calendar hours
    # after the previous (though the office is closed) → 3 counted → compliant.
    lead = handoff(crm, at="2026-10-16 17:00")
    for t in ("2026-10-16 17:00", "2026-10-16 21:00", "2026-10-17 01:00"):
        crm.activity(lead, "call", t)
    rule = audit(crm).rule("attempts")
    assert (rule.measured, rule.judged) == (1.0, 1)
    assert rule.details["attempts_histogram"] == {"3": 1}


def test_an_activity_exactly_at_the_handoff_counts(crm):
    # Call at 10:00:00 = the handoff instant: first touch after 0 minutes; coverage worked.
    lead = handoff(crm)
    crm.activity(lead, "call", HANDOFF)
    result = audit(crm)
    assert result.rule("speed_to_lead").details["median_minutes"] == pytest.approx(0.0)
    assert result.rule("speed_to_lead").measured == 1.0
    assert result.rule("coverage").measured == 1.0


def test_an_activity_before_the_handoff_is_no_attempt(crm):
    # Call at 09:59, one minute before the handoff: outside [handoff, handoff + 14d).
    lead = handoff(crm)
    crm.activity(lead, "call", "2026-10-14 09:59")
    result = audit(crm)
    assert result.rule("coverage").measured == 0.0
    assert result.rule("speed_to_lead").violations[0].kind == "untouched"


def test_an_activity_exactly_at_window_end_does_not_count(crm):
    # Lead 101: its only call at Wed 10-28 10:00 = handoff + 14d → outside → not worked.
    # Lead 102: call at Wed 10-28 09:59 → inside → worked. coverage 1/2.
    a = handoff(crm, "101")
    crm.activity(a, "call", "2026-10-28 10:00")
    b = handoff(crm, "102")
    crm.activity(b, "call", "2026-10-28 09:59")
    rule = audit(crm).rule("coverage")
    assert (rule.measured, rule.judged, rule.pending) == (1 / 2, 2, 0)
    [v] = rule.violations
    assert v.crm_id == "101"
    assert v.reason == "no attempt within the 14d window"
    assert v.instants["window_end"] == crm.at("2026-10-28 10:00")


def test_an_inbound_reply_connects_but_is_no_attempt(crm):
    # Inbound email at 10:30 (in the window): connected → attempts compliant with 0 attempts;
    # but no attempt → coverage not worked, speed_to_lead untouched; recycling leaves it out.
    lead = handoff(crm)
    crm.activity(lead, "email", "2026-10-14 10:30", direction="inbound")
    result = audit(crm)
    attempts = result.rule("attempts")
    assert (attempts.measured, attempts.judged) == (1.0, 1)
    assert attempts.details["connected"] == 1
    assert attempts.details["attempts_histogram"] == {"0": 1}
    assert result.rule("coverage").measured == 0.0
    assert result.rule("speed_to_lead").violations[0].kind == "untouched"
    recycling = result.rule("recycling")
    assert (recycling.judged, recycling.pending) == (0, 0)
    assert recycling.details["connected_left_out"] == 1


def test_an_inbound_call_from_the_lead_connects(crm):
    lead = handoff(crm)
    crm.activity(lead, "call", "2026-10-20 15:00", direction="inbound")
    rule = audit(crm).rule("attempts")
    assert (rule.measured, rule.details["connected"]) == (1.0, 1)


def test_a_reply_after_the_window_does_not_connect(crm):
    # Inbound email exactly at handoff + 14d → outside the window → not connected; no
    # attempts → attempts violation with 0 counted attempts.
    lead = handoff(crm)
    crm.activity(lead, "email", "2026-10-28 10:00", direction="inbound")
    rule = audit(crm).rule("attempts")
    assert (rule.measured, rule.judged) == (0.0, 1)
    assert rule.violations[0].reason == "0 counted attempts and no connection in 14d (SLA 3)"


def test_a_call_with_the_connected_disposition_connects(crm):
    # Lead 101: one call with HubSpot's Connected GUID → connected → compliant with 1 attempt.
    # Lead 102: one call with the No answer GUID → 1 attempt, not connected → violation.
    a = handoff(crm, "101")
    crm.activity(a, "call", "2026-10-14 10:02", outcome=CONNECTED)
    b = handoff(crm, "102")
    crm.activity(b, "call", "2026-10-14 10:02", outcome=NO_ANSWER)
    rule = audit(crm).rule("attempts")
    assert (rule.measured, rule.judged) == (1 / 2, 2)
    assert rule.details["connected"] == 1
    assert [v.crm_id for v in rule.violations] == ["102"]


def test_a_free_text_connected_outcome_connects(crm):
    # "Connected" (e.g. a Salesforce CallDisposition) is in the built-in connected values.
    lead = handoff(crm)
    crm.activity(lead, "call", "2026-10-14 10:02", outcome="Connected")
    assert audit(crm).rule("attempts").measured == 1.0


def test_sales_outcomes_replace_the_built_in_connected_values(crm):
    # sales.outcomes.connected: ["Spoke with lead"] → that outcome connects, the GUID no longer.
    sla = make_sla(**{"sales.outcomes": {"connected": ["Spoke with lead"]}})
    a = handoff(crm, "101")
    crm.activity(a, "call", "2026-10-14 10:02", outcome="Spoke with lead")
    b = handoff(crm, "102")
    crm.activity(b, "call", "2026-10-14 10:02", outcome=CONNECTED)
    rule = audit(crm, sla).rule("attempts")
    assert rule.details["connected"] == 1
    assert [v.crm_id for v in rule.violations] == ["102"]


def test_a_meeting_connects_and_is_an_attempt(crm):
    # A meeting on Fri 10-16: connected → compliant; and an attempt → coverage worked.
    lead = handoff(crm)
    crm.activity(lead, "meeting", "2026-10-16 15:00")
    result = audit(crm)
    assert result.rule("attempts").measured == 1.0
    assert result.rule("attempts").details["connected"] == 1
    assert result.rule("coverage").measured == 1.0


def test_progress_inside_the_window_connects(crm):
    # No activity at all; stage salesqualifiedlead on Mon 10-19 (inside the window) →
    # connected → attempts compliant. Coverage: not worked (no attempt).
    lead = handoff(crm)
    crm.event(lead, "stage", "salesqualifiedlead", "2026-10-19 11:00")
    result = audit(crm)
    assert result.rule("attempts").measured == 1.0
    assert result.rule("coverage").measured == 0.0


def test_progress_after_the_window_does_not_connect(crm):
    # stage opportunity on Thu 10-29, after window end Wed 10-28 10:00 → not connected:
    # attempts violation; yet it still counts as progressed for conversion.
    lead = handoff(crm)
    crm.event(lead, "stage", "opportunity", "2026-10-29 11:00")
    result = audit(crm)
    assert result.rule("attempts").measured == 0.0
    assert result.rule("conversion").measured == 1.0


def test_notes_and_open_tasks_are_no_attempts(crm):
    # A note at 10:01 and a task at 10:02 (outbound): not in channels [call, email, meeting]
    # → no attempt: untouched, not worked, 0 counted attempts, not connected.
    lead = handoff(crm)
    crm.activity(lead, "note", "2026-10-14 10:01")
    crm.activity(lead, "task", "2026-10-14 10:02")
    result = audit(crm)
    assert result.rule("coverage").measured == 0.0
    assert result.rule("speed_to_lead").violations[0].kind == "untouched"
    assert result.rule("attempts").details["attempts_histogram"] == {"0": 1}


def test_channels_restrict_what_counts_as_an_attempt(crm):
    # channels [call]: emails at 10:01, 14:01, 18:01 are no attempts; one call at 10:03 is.
    # First touch 3 min; 1 counted attempt.
    sla = make_sla(**{"sales.attempts.channels": ["call"]})
    lead = handoff(crm)
    for t in ("10:01", "14:01", "18:01"):
        crm.activity(lead, "email", f"2026-10-14 {t}")
    crm.activity(lead, "call", "2026-10-14 10:03")
    result = audit(crm, sla)
    assert result.rule("speed_to_lead").details["median_minutes"] == pytest.approx(3.0)
    assert result.rule("attempts").details["attempts_histogram"] == {"1": 1}


def test_an_activity_without_direction_is_an_attempt(crm):
    # direction unknown (None) is not inbound → an attempt.
    lead = handoff(crm)
    crm.activity(lead, "call", "2026-10-14 10:02", direction=None)
    assert audit(crm).rule("coverage").measured == 1.0


def test_coverage_is_pending_inside_the_window_and_judged_once_worked(crm):
    # as-of Mon 10-19 12:00, window open until 10-28. Lead 101 called → judged worked.
    # Lead 102 nothing yet → pending (not a violation yet).
    a = handoff(crm, "101")
    crm.activity(a, "call", "2026-10-15 10:00")
    b = handoff(crm, "102")
    rule = audit(crm, as_of="2026-10-19 12:00").rule("coverage")
    assert (rule.measured, rule.judged, rule.pending) == (1.0, 1, 1)
    assert rule.violations == []
    [p] = rule.pending_handoffs
    assert (p.lead, p.rule) == (b, "coverage")


def test_coverage_violation_once_the_window_closes_without_an_attempt(crm):
    # Same lead, as-of exactly at window end Wed 10-28 10:00 → judged, not worked.
    handoff(crm)
    rule = audit(crm, as_of="2026-10-28 10:00").rule("coverage")
    assert (rule.measured, rule.judged, rule.pending) == (0.0, 1, 0)


def test_attempts_are_pending_inside_the_window_until_compliant(crm):
    # as-of Mon 10-19 12:00 (window open). 101: 1 attempt, not connected → pending.
    # 102: 3 counted attempts already → compliant, judged. 103: inbound reply → connected.
    a = handoff(crm, "101")
    crm.activity(a, "call", "2026-10-14 10:01")
    b = handoff(crm, "102")
    for t in ("2026-10-14 10:01", "2026-10-15 10:00", "2026-10-16 10:00"):
        crm.activity(b, "call", t)
    c = handoff(crm, "103")
    crm.activity(c, "email", "2026-10-15 09:00", direction="inbound")
    rule = audit(crm, as_of="2026-10-19 12:00").rule("attempts")
    assert (rule.measured, rule.judged, rule.pending) == (1.0, 2, 1)
    assert [p.lead for p in rule.pending_handoffs] == [a]
    # Once the window has closed, 101 is judged: 2 of 3 compliant.
    closed = audit(crm).rule("attempts")
    assert (closed.measured, closed.judged, closed.pending) == (2 / 3, 3, 0)


NOT_HELD = {"sales.outcomes": {"meeting_not_held": ["NO_SHOW", "CANCELED"]}}


@pytest.mark.parametrize("outcome", ["NO_SHOW", "CANCELED", " no_show "])
def test_a_meeting_not_held_is_an_attempt_but_no_connection(crm, outcome):
    # Issue 14, item 5, with meeting_not_held [NO_SHOW, CANCELED]. A meeting Fri 10-16 15:00
    # the lead did not attend: an attempt (coverage worked, 1 counted attempt) but nobody
    # reached: 1 < 3 → attempts violation.
    lead = handoff(crm)
    crm.activity(lead, "meeting", "2026-10-16 15:00", outcome=outcome)
    result = audit(crm, make_sla(**NOT_HELD))
    assert result.rule("coverage").measured == 1.0
    attempts = result.rule("attempts")
    assert (attempts.measured, attempts.details["connected"]) == (0.0, 0)
    assert attempts.violations[0].reason.startswith("1 counted attempt and no connection")


def test_a_completed_meeting_still_connects_and_not_held_outcomes_are_configurable(crm):
    lead = handoff(crm)
    crm.activity(lead, "meeting", "2026-10-16 15:00", outcome="COMPLETED")
    other = handoff(crm, "102")
    crm.activity(other, "meeting", "2026-10-16 15:00", outcome="RESCHEDULED")
    sla = make_sla(**{"sales.outcomes": {"meeting_not_held": ["RESCHEDULED"]}})
    attempts = audit(crm, sla).rule("attempts")
    assert attempts.details["connected"] == 1
    assert [v.crm_id for v in attempts.violations] == ["102"]


def test_by_default_any_meeting_connects_as_the_contract_says(crm):
    lead = handoff(crm)
    crm.activity(lead, "meeting", "2026-10-16 15:00", outcome="NO_SHOW")
    assert audit(crm).rule("attempts").details["connected"] == 1
