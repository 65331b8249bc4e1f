"""speed_to_lead and business time (docs/SEMANTICS.md §1 Time, §5 speed_to_lead).

Hand-computed scenarios. The base test SLA (tests/tiny_crm.py) is America/Sao_Paulo,
open mon-fri 09:00-12:00 and 13:00-18:00, holidays 2026-10-12 (Mon) and 2026-11-02 (Mon),
first touch within 5m business time. Times in the scenarios are local wall times.

October 2026: Thu 1, Fri 2, Mon 5, Fri 9, Mon 12 (holiday), Tue 13, Wed 14, Sat 17, Mon 19.
"""

from __future__ import annotations

import pytest

from tests.tiny_crm import TinyCRM, audit, make_sla


def called_lead(crm, crm_id, owner, mql_at, call_at=None):
    """A lead owned by ``owner`` since January, MQL at ``mql_at``, first call at ``call_at``."""
    lead = crm.lead(crm_id, owner=owner, created="2026-01-02 08:00")
    crm.event(lead, "owner", owner, "2026-01-02 08:00")
    crm.mql(lead, mql_at)
    if call_at:
        crm.activity(lead, "call", call_at)
    return lead


@pytest.fixture
def crm(tmp_path):
    return TinyCRM(tmp_path / "s.db")


def new_york(tmp_path, **sla_changes):
    """A CRM in America/New_York and the base SLA moved there, without its holidays."""
    sla = make_sla(timezone="America/New_York", holidays=[], **sla_changes)
    return TinyCRM(tmp_path / "s.db", tz="America/New_York"), sla


def test_friday_evening_mql_before_a_holiday_monday_counts_only_business_minutes(crm):
    # Fri 2026-10-09 17:58 → 18:00 close = 2 min; Sat, Sun closed; Mon 10-12 holiday;
    # Tue 10-13 09:00 → 09:03 = 3 min. 2 + 3 = 5 business minutes ≤ 5m → compliant.
    ana = crm.owner("1", "ana@acme.example")
    called_lead(crm, "101", ana, "2026-10-09 17:58", "2026-10-13 09:03")
    rule = audit(crm, make_sla()).rule("speed_to_lead")
    assert (rule.measured, rule.judged, rule.pending) == (1.0, 1, 0)
    assert rule.details["median_minutes"] == pytest.approx(5.0, abs=1e-9)
    assert rule.violations == []
    assert rule.status == "pass"


def test_first_touch_one_minute_later_after_the_holiday_weekend_is_a_violation(crm):
    # Same handoff, first call Tue 09:04: 2 + 4 = 6 business minutes > 5m → violation.
    ana = crm.owner("1", "ana@acme.example")
    lead = called_lead(crm, "101", ana, "2026-10-09 17:58", "2026-10-13 09:04")
    rule = audit(crm, make_sla()).rule("speed_to_lead")
    assert (rule.measured, rule.judged, rule.pending) == (0.0, 1, 0)
    assert rule.status == "fail"
    [v] = rule.violations
    assert v.rule == "speed_to_lead"
    assert (v.lead, v.crm_id, v.rep) == (lead, "101", "ana@acme.example")
    assert v.handoff_at == crm.at("2026-10-09 17:58")
    assert v.reason == "first touch after 6 min (business), SLA 5m"
    assert v.url == "https://app.hubspot.com/contacts/1/record/0-1/101"
    assert v.instants["first_touch_at"] == crm.at("2026-10-13 09:04")


def test_saturday_mql_starts_the_clock_at_monday_opening(crm):
    # Sat 10-17 14:00 (closed) → clock starts Mon 10-19 09:00.
    # Lead 101: call Mon 09:05 → 5 min → compliant. Lead 102 (Sat 10:00): call 09:06 → 6 min.
    # measured 1/2; median of [5, 6] = 5.5.
    ana = crm.owner("1", "ana@acme.example")
    called_lead(crm, "101", ana, "2026-10-17 14:00", "2026-10-19 09:05")
    called_lead(crm, "102", ana, "2026-10-17 10:00", "2026-10-19 09:06")
    rule = audit(crm, make_sla()).rule("speed_to_lead")
    assert (rule.measured, rule.judged, rule.pending) == (1 / 2, 2, 0)
    assert rule.details["median_minutes"] == pytest.approx(5.5, abs=1e-9)
    assert [v.crm_id for v in rule.violations] == ["102"]
    assert rule.violations[0].reason == "first touch after 6 min (business), SLA 5m"


@pytest.mark.parametrize(
    ("sla_changes", "mql_at", "call_at", "minutes"),
    [
        # Mon 10-12 10:00 is a holiday (closed all day) → clock starts Tue 10-13 09:00;
        # call 09:05 → 5 min → compliant (a calendar without the holiday would say 1385 min).
        pytest.param(
            {},
            "2026-10-12 10:00",
            "2026-10-13 09:05",
            5.0,
            id="mql-on-the-holiday-itself-starts-the-clock-the-next-business-day",
        ),
        # Wed 10-14 12:30 (lunch, closed) → clock starts 13:00; call 13:05 → 5 min →
        # compliant, although 35 calendar minutes passed.
        pytest.param(
            {},
            "2026-10-14 12:30",
            "2026-10-14 13:05",
            5.0,
            id="mql-during-lunch-starts-counting-at-the-afternoon-opening",
        ),
        # Resolution of a silence in §1 (documented in audit/business_time.py): a listed
        # holiday is closed even with no business_hours. Mon 10-12 23:58 (holiday) → clock
        # starts Tue 10-13 00:00; call 00:05 → 5 min → compliant (calendar time: 7 min).
        pytest.param(
            {"business_hours": None},
            "2026-10-12 23:58",
            "2026-10-13 00:05",
            5.0,
            id="holidays-stay-closed-on-a-round-the-clock-calendar",
        ),
        # mon-fri 09:00-12:00,13:00-18:00 plus sat 10:00-14:00. Sat 10-17 13:58 → 14:00 =
        # 2 min; Sunday closed; Mon 10-19 09:00 → 09:03 = 3 min → 5 → compliant.
        pytest.param(
            {"business_hours": {"mon-fri": "09:00-12:00,13:00-18:00", "sat": "10:00-14:00"}},
            "2026-10-17 13:58",
            "2026-10-19 09:03",
            5.0,
            id="each-weekday-can-have-its-own-opening-hours",
        ),
        # Fri 10-16 17:58 → first call Sat 10-17 10:00 (office closed): only Fri 17:58-18:00
        # is open time in between → 2 business minutes → compliant.
        pytest.param(
            {},
            "2026-10-16 17:58",
            "2026-10-17 10:00",
            2.0,
            id="a-call-made-while-closed-counts-only-the-open-minutes-before-it",
        ),
    ],
)
def test_one_handoff_touched_in_time_counts_only_open_minutes(
    crm, sla_changes, mql_at, call_at, minutes
):
    ana = crm.owner("1", "ana@acme.example")
    called_lead(crm, "101", ana, mql_at, call_at)
    rule = audit(crm, make_sla(**sla_changes)).rule("speed_to_lead")
    assert (rule.measured, rule.judged) == (1.0, 1)
    assert rule.details["median_minutes"] == pytest.approx(minutes, abs=1e-9)


def test_mql_just_before_lunch_pauses_over_the_lunch_break(crm):
    # Wed 10-14 11:58 → 12:00 = 2 min; 12:00-13:00 closed; 13:00 → 13:03 = 3 min → 5, ok.
    # Lead 102 same MQL, call 13:04 → 2 + 4 = 6 min → violation. measured 1/2.
    ana = crm.owner("1", "ana@acme.example")
    called_lead(crm, "101", ana, "2026-10-14 11:58", "2026-10-14 13:03")
    called_lead(crm, "102", ana, "2026-10-14 11:58", "2026-10-14 13:04")
    rule = audit(crm, make_sla()).rule("speed_to_lead")
    assert (rule.measured, rule.judged) == (1 / 2, 2)
    [v] = rule.violations
    assert v.crm_id == "102"
    assert v.reason == "first touch after 6 min (business), SLA 5m"


def test_evening_mql_called_next_morning_counts_open_minutes_of_both_days(crm):
    # Wed 10-14 17:00 → 18:00 = 60 min; Thu 10-15 09:00 → 10:00 = 60 min → 120 min.
    ana = crm.owner("1", "ana@acme.example")
    called_lead(crm, "101", ana, "2026-10-14 17:00", "2026-10-15 10:00")
    rule = audit(crm, make_sla()).rule("speed_to_lead")
    assert rule.details["median_minutes"] == pytest.approx(120.0, abs=1e-9)
    assert rule.violations[0].reason == "first touch after 2 h (business), SLA 5m"


def test_new_york_autumn_dst_weekend_counts_business_minutes_not_utc_hours(tmp_path):
    # America/New_York falls back on Sun 2026-11-01 (EDT UTC-4 → EST UTC-5); no holidays.
    # Fri 10-30 17:58 EDT → 18:00 = 2 min; Mon 11-02 09:00 EST → 09:03 = 3 min → 5, ok.
    # Lead 102: call Mon 09:04 EST → 6 min → violation. (A fixed UTC offset would be 60 off.)
    crm, sla = new_york(tmp_path)
    ana = crm.owner("1", "ana@acme.example")
    called_lead(crm, "101", ana, "2026-10-30 17:58", "2026-11-02 09:03")
    called_lead(crm, "102", ana, "2026-10-30 17:58", "2026-11-02 09:04")
    rule = audit(crm, sla, as_of="2026-12-01T05:00:00Z").rule("speed_to_lead")
    assert (rule.measured, rule.judged) == (1 / 2, 2)
    assert [v.crm_id for v in rule.violations] == ["102"]
    assert rule.violations[0].reason == "first touch after 6 min (business), SLA 5m"
    # Mon 09:03 EST is 14:03 UTC: the instant was read with the winter offset.
    assert crm.at("2026-11-02 09:03") == "2026-11-02T14:03:00.000Z"


def test_new_york_spring_dst_weekend_counts_business_minutes(tmp_path):
    # New York springs forward Sun 2026-03-08 (EST → EDT).
    # Fri 03-06 17:58 EST → 2 min; Mon 03-09 09:00 EDT → 09:03 = 3 min → 5 → compliant.
    # Lead 102: Mon 09:04 → 6 → violation.
    crm, sla = new_york(tmp_path)
    ana = crm.owner("1", "ana@acme.example")
    called_lead(crm, "101", ana, "2026-03-06 17:58", "2026-03-09 09:03")
    called_lead(crm, "102", ana, "2026-03-06 17:58", "2026-03-09 09:04")
    rule = audit(crm, sla, period="2026-03", as_of="2026-05-01T04:00:00Z").rule("speed_to_lead")
    assert (rule.measured, rule.judged) == (1 / 2, 2)
    assert [v.crm_id for v in rule.violations] == ["102"]


def test_new_york_business_day_after_fall_back_is_still_nine_hours(tmp_path):
    # Mon 11-02 09:00 EST → Tue 11-03 09:00 EST is one whole business day: 3h + 5h = 480 min
    # (the 25-hour Sunday is closed and does not leak an extra hour into the count).
    crm, sla = new_york(tmp_path)
    ana = crm.owner("1", "ana@acme.example")
    called_lead(crm, "101", ana, "2026-10-30 09:00", "2026-11-02 09:00")
    rule = audit(crm, sla, as_of="2026-12-01T05:00:00Z").rule("speed_to_lead")
    # Fri 10-30 09:00 → 18:00 = 480 open minutes, nothing Sat/Sun, Mon 09:00 → 0.
    assert rule.details["median_minutes"] == pytest.approx(480.0, abs=1e-9)


def test_without_business_hours_the_clock_runs_round_the_clock(crm):
    # business_hours omitted → 24×7. Sat 10-17 14:00 → 14:05 = 5 min → compliant.
    # Sun 10-18 23:58 → Mon 10-19 00:04 = 6 min → violation. measured 1/2.
    sla = make_sla(business_hours=None)
    ana = crm.owner("1", "ana@acme.example")
    called_lead(crm, "101", ana, "2026-10-17 14:00", "2026-10-17 14:05")
    called_lead(crm, "102", ana, "2026-10-18 23:58", "2026-10-19 00:04")
    rule = audit(crm, sla).rule("speed_to_lead")
    assert (rule.measured, rule.judged) == (1 / 2, 2)
    assert rule.violations[0].reason == "first touch after 6 min (business), SLA 5m"


def test_first_touch_within_hours_is_business_time(crm):
    # within 4h: Wed 10-14 16:00 → 18:00 = 2h; Thu 10-15 09:00 → 11:00 = 2h → deadline
    # Thu 11:00. Call Thu 11:00 → 240 min → compliant; lead 102 call 11:01 → 241 min → late.
    sla = make_sla(**{"sales.first_touch.within": "4h"})
    ana = crm.owner("1", "ana@acme.example")
    called_lead(crm, "101", ana, "2026-10-14 16:00", "2026-10-15 11:00")
    called_lead(crm, "102", ana, "2026-10-14 16:00", "2026-10-15 11:01")
    rule = audit(crm, sla).rule("speed_to_lead")
    assert (rule.measured, rule.judged) == (1 / 2, 2)
    [v] = rule.violations
    assert v.crm_id == "102"
    assert v.reason == "first touch after 4 h 1 min (business), SLA 4h"


def test_first_touch_within_seconds(crm):
    # within 30s: Wed 10-14 10:00:00 → call 10:00:30 = 30 s → compliant;
    # lead 102 call 10:00:31 → 31 s → violation.
    sla = make_sla(**{"sales.first_touch.within": "30s"})
    ana = crm.owner("1", "ana@acme.example")
    called_lead(crm, "101", ana, "2026-10-14 10:00:00", "2026-10-14 10:00:30")
    called_lead(crm, "102", ana, "2026-10-14 10:00:00", "2026-10-14 10:00:31")
    rule = audit(crm, sla).rule("speed_to_lead")
    assert (rule.measured, rule.judged) == (1 / 2, 2)
    assert [v.crm_id for v in rule.violations] == ["102"]


def test_untouched_handoff_is_pending_until_its_business_deadline(crm):
    # Fri 10-30 17:58 + 5 business min: 2 min Fri; Mon 11-02 is a holiday; 3 min Tue →
    # deadline Tue 11-03 09:03. No attempt at all.
    ana = crm.owner("1", "ana@acme.example")
    lead = called_lead(crm, "101", ana, "2026-10-30 17:58")
    sla = make_sla()

    before = audit(crm, sla, as_of="2026-11-03 09:02").rule("speed_to_lead")
    assert (before.measured, before.judged, before.pending) == (None, 0, 1)
    assert before.status == "no_data"
    assert before.violations == []
    [p] = before.pending_handoffs
    assert (p.rule, p.lead, p.rep) == ("speed_to_lead", lead, "ana@acme.example")
    assert p.handoff_at == crm.at("2026-10-30 17:58")

    # At the deadline no attempt can be on time any more: judged, a violation.
    after = audit(crm, sla, as_of="2026-11-03 09:03").rule("speed_to_lead")
    assert (after.measured, after.judged, after.pending) == (0.0, 1, 0)
    [v] = after.violations
    assert v.kind == "untouched"
    assert v.reason == "no attempt by the deadline 2026-11-03 09:03 -03:00, SLA 5m"
    assert v.instants["deadline"] == crm.at("2026-11-03 09:03")
    assert after.details["untouched"] == 1


def test_touched_handoff_is_judged_before_its_deadline(crm):
    # Wed 10-14 10:00, call 10:02 → 2 min; as-of 10:03 (deadline 10:05 not reached yet):
    # the outcome is already known → judged compliant, nothing pending.
    ana = crm.owner("1", "ana@acme.example")
    called_lead(crm, "101", ana, "2026-10-14 10:00", "2026-10-14 10:02")
    rule = audit(crm, make_sla(), as_of="2026-10-14 10:03").rule("speed_to_lead")
    assert (rule.measured, rule.judged, rule.pending) == (1.0, 1, 0)


def test_median_and_p90_are_business_minutes_of_touched_handoffs(crm):
    # Wed 10-14 10:00 handoffs touched after 2, 4 and 10 minutes; a fourth never touched.
    # measured 2/4 (2 and 4 ≤ 5). median [2, 4, 10] = 4; p90 with linear interpolation:
    # rank 0.9 × 2 = 1.8 → 4 + 0.8 × (10 − 4) = 8.8. The untouched one is in neither.
    ana = crm.owner("1", "ana@acme.example")
    called_lead(crm, "101", ana, "2026-10-14 10:00", "2026-10-14 10:02")
    called_lead(crm, "102", ana, "2026-10-14 10:00", "2026-10-14 10:04")
    called_lead(crm, "103", ana, "2026-10-14 10:00", "2026-10-14 10:10")
    called_lead(crm, "104", ana, "2026-10-14 10:00")
    rule = audit(crm, make_sla()).rule("speed_to_lead")
    assert (rule.measured, rule.judged, rule.pending) == (2 / 4, 4, 0)
    assert rule.details["median_minutes"] == pytest.approx(4.0, abs=1e-9)
    assert rule.details["p90_minutes"] == pytest.approx(8.8, abs=1e-9)
    assert rule.details["untouched"] == 1
    assert sorted(v.kind for v in rule.violations) == ["late", "untouched"]


def test_speed_to_lead_is_broken_down_per_rep(crm):
    # ana: 1 handoff touched in 3 min (ok). bob: 2 handoffs, one in 1 min, one in 9 min.
    ana = crm.owner("1", "ana@acme.example")
    bob = crm.owner("2", "bob@acme.example")
    called_lead(crm, "101", ana, "2026-10-14 10:00", "2026-10-14 10:03")
    called_lead(crm, "102", bob, "2026-10-14 10:00", "2026-10-14 10:01")
    called_lead(crm, "103", bob, "2026-10-14 10:00", "2026-10-14 10:09")
    rule = audit(crm, make_sla()).rule("speed_to_lead")
    rows = {r.rep: (r.measured, r.judged, r.violations) for r in rule.reps}
    assert rows == {"ana@acme.example": (1.0, 1, 0), "bob@acme.example": (1 / 2, 2, 1)}
    assert rule.measured == 2 / 3
    assert [v.rep for v in rule.violations] == ["bob@acme.example"]


def test_round_the_clock_minutes_across_the_fall_back_night_are_real_minutes(tmp_path):
    # 24×7 in New York: Sun 2026-11-01 00:30 EDT (04:30Z) → 02:30 EST (07:30Z) is 180 real
    # minutes, though the wall clock moved only 2 hours (01:00-02:00 happens twice).
    crm, sla = new_york(tmp_path, business_hours=None)
    ana = crm.owner("1", "ana@acme.example")
    called_lead(crm, "101", ana, "2026-11-01 00:30", "2026-11-01 02:30")
    rule = audit(crm, sla, period="2026-11", as_of="2026-12-15T05:00:00Z").rule("speed_to_lead")
    assert rule.details["median_minutes"] == pytest.approx(180.0, abs=1e-9)
