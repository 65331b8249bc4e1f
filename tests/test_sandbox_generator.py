"""The generated CRM: deterministic, internally consistent, and with a story worth auditing."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from sandbox.generator import (
    CRM,
    DISPOSITIONS,
    BusinessClock,
    brazil_holidays,
    generate_crm,
)

END = datetime(2026, 10, 15, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def crm() -> CRM:
    return generate_crm(1000, seed=7, end=END)


def _handoffs(lead) -> list[datetime]:
    return [
        h.at for h in lead.history if h.field == "stage" and h.value == "marketingqualifiedlead"
    ]


def test_same_seed_gives_the_same_crm_record_for_record(crm: CRM) -> None:
    again = generate_crm(1000, seed=7, end=END)
    assert again.reps == crm.reps
    assert again.leads == crm.leads
    assert again.activities == crm.activities


def test_another_seed_gives_another_crm(crm: CRM) -> None:
    other = generate_crm(1000, seed=8, end=END)
    assert [lead.email for lead in other.leads] != [lead.email for lead in crm.leads]


def test_end_defaults_to_the_current_hour() -> None:
    small = generate_crm(50, seed=1)
    now = datetime.now(UTC)
    assert small.end.minute == small.end.second == small.end.microsecond == 0
    assert now - timedelta(hours=1) <= small.end <= now


def test_size_is_the_number_of_leads_and_must_be_sane() -> None:
    assert len(generate_crm(50, end=END).leads) == 50
    with pytest.raises(ValueError, match="between 50"):
        generate_crm(10, end=END)


def test_every_instant_is_utc_with_millisecond_precision(crm: CRM) -> None:
    instants = [lead.created_at for lead in crm.leads] + [
        h.at for lead in crm.leads for h in lead.history
    ]
    instants += [a.occurred_at for a in crm.activities] + [a.updated_at for a in crm.activities]
    assert all(t.tzinfo is not None and t.utcoffset() == timedelta(0) for t in instants)
    assert all(t.microsecond % 1000 == 0 for t in instants)


def test_every_lead_history_is_chronological_and_starts_at_creation(crm: CRM) -> None:
    for lead in crm.leads:
        times = [h.at for h in lead.history]
        assert times == sorted(times), lead.key
        assert lead.history[0].field == "stage"
        assert lead.history[0].at == lead.created_at
        assert lead.updated_at >= times[-1]


def test_current_values_are_the_last_history_values(crm: CRM) -> None:
    for lead in crm.leads:
        last = {h.field: h.value for h in lead.history}
        assert lead.stage == last["stage"]
        assert lead.status == last.get("status")
        owner = last.get("owner")
        assert lead.owner_key == (int(owner) if owner is not None else None)


def test_nothing_happens_after_end_or_before_the_span(crm: CRM) -> None:
    start = crm.start
    assert start is not None
    assert all(start <= lead.created_at < crm.end for lead in crm.leads)
    assert all(h.at < crm.end for lead in crm.leads for h in lead.history)
    assert all(a.occurred_at < crm.end and a.updated_at < crm.end for a in crm.activities)
    assert all(a.created_at <= a.updated_at for a in crm.activities)


def test_activities_only_reference_existing_leads_and_reps(crm: CRM) -> None:
    lead_keys = {lead.key for lead in crm.leads}
    rep_keys = {rep.key for rep in crm.reps}
    assert all(set(a.lead_keys) <= lead_keys and a.lead_keys for a in crm.activities)
    assert all(a.owner_key in rep_keys for a in crm.activities)
    assert len({a.key for a in crm.activities}) == len(crm.activities)


def test_lead_updated_at_covers_its_activities(crm: CRM) -> None:
    latest: dict[int, datetime] = {}
    for act in crm.activities:
        for key in act.lead_keys:
            latest[key] = max(latest.get(key, act.updated_at), act.updated_at)
    for lead in crm.leads:
        if lead.key in latest:
            assert lead.updated_at >= latest[lead.key]


def test_about_eight_reps_one_deactivated_with_old_leads(crm: CRM) -> None:
    assert 7 <= len(crm.reps) <= 10
    inactive = [rep for rep in crm.reps if not rep.active]
    assert len(inactive) == 1
    gone = inactive[0]
    assert gone.deactivated_at is not None
    owned = [lead for lead in crm.leads if lead.owner_key == gone.key]
    assert owned, "the deactivated rep still owns some leads"
    assert all(lead.created_at < gone.deactivated_at for lead in owned)
    assert len({rep.email for rep in crm.reps}) == len(crm.reps)


def test_reps_have_different_habits(crm: CRM) -> None:
    habits = Counter(rep.recycles for rep in crm.reps)
    assert set(habits) == {"properly", "prematurely", "never"}
    speeds = sorted(rep.speed_minutes for rep in crm.reps)
    assert speeds[0] <= 5 and speeds[-1] >= 240


def test_leads_arrive_in_and_out_of_business_hours(crm: CRM) -> None:
    tz = ZoneInfo("America/Sao_Paulo")
    local = [lead.created_at.astimezone(tz) for lead in crm.leads]
    holidays = set()
    for year in {t.year for t in local}:
        holidays |= set(brazil_holidays(year))
    weekend = sum(t.weekday() >= 5 for t in local)
    holiday = sum(t.date() in holidays for t in local)
    night = sum(t.hour < 9 or t.hour >= 18 for t in local)
    assert weekend > 30 and night > 100
    assert holiday > 0  # 2026-09-07 and 2026-10-12 are in the span


def test_a_handoff_is_an_entry_into_mql_and_about_half_the_leads_get_one(crm: CRM) -> None:
    with_handoff = [lead for lead in crm.leads if _handoffs(lead)]
    assert 0.35 * len(crm.leads) < len(with_handoff) < 0.7 * len(crm.leads)
    progressed = Counter(lead.stage for lead in crm.leads)
    assert progressed["salesqualifiedlead"] and progressed["opportunity"]
    assert progressed["customer"]
    assert all(
        lead.converted_at is not None
        for lead in crm.leads
        if lead.stage in ("salesqualifiedlead", "opportunity", "customer")
    )


def test_recycled_leads_and_some_that_qualify_again(crm: CRM) -> None:
    recycled = [
        lead
        for lead in crm.leads
        if any(
            h.field == "status" and h.value in ("UNQUALIFIED", "BAD_TIMING") for h in lead.history
        )
    ]
    twice = [lead for lead in crm.leads if len(_handoffs(lead)) >= 2]
    assert len(recycled) > 100
    assert len(twice) >= 5
    for lead in twice:
        first, second = _handoffs(lead)[:2]
        between = [h for h in lead.history if first < h.at < second and h.field == "status"]
        assert any(h.value == "BAD_TIMING" for h in between)


def test_reassigned_late_assigned_and_never_assigned_handoffs(crm: CRM) -> None:
    reassigned = late = never = 0
    for lead in crm.leads:
        handoffs = _handoffs(lead)
        if not handoffs:
            continue
        owners_after = [h for h in lead.history if h.field == "owner" and h.at > handoffs[0]]
        owners_before = [h for h in lead.history if h.field == "owner" and h.at <= handoffs[0]]
        if lead.owner_key is None and not owners_before and not owners_after:
            never += 1
        if owners_after and (owners_before or len(owners_after) >= 2):
            reassigned += 1
        if owners_after and owners_after[0].at - handoffs[0] > timedelta(minutes=5):
            late += 1
    assert never >= 5 and reassigned >= 10 and late >= 10


def test_deleted_leads_are_about_two_percent(crm: CRM) -> None:
    archived = [lead for lead in crm.leads if lead.archived]
    assert 5 <= len(archived) <= 40
    assert all(lead.archived_at and lead.archived_at >= lead.created_at for lead in archived)
    assert all(lead.updated_at == lead.archived_at for lead in archived)


def test_activity_mix_has_every_kind_outcome_and_inbound_replies(crm: CRM) -> None:
    kinds = Counter(a.kind for a in crm.activities)
    assert set(kinds) == {"call", "email", "meeting", "task", "note"}
    calls = [a for a in crm.activities if a.kind == "call"]
    assert set(DISPOSITIONS.values()) <= {a.disposition for a in calls}
    assert {"COMPLETED", "NO_ANSWER", "BUSY", "FAILED"} <= {a.status for a in calls}
    assert {a.direction for a in calls} == {"OUTBOUND", "INBOUND"}
    emails = {a.direction for a in crm.activities if a.kind == "email"}
    assert {"EMAIL", "INCOMING_EMAIL"} <= emails
    tasks = {a.status for a in crm.activities if a.kind == "task"}
    assert tasks == {"NOT_STARTED", "COMPLETED"}
    meetings = [a for a in crm.activities if a.kind == "meeting"]
    assert {"COMPLETED", "NO_SHOW"} <= {a.status for a in meetings}
    assert all(a.end_at is not None and a.end_at > a.occurred_at for a in meetings)
    assert any(a.archived for a in crm.activities) or len(crm.activities) < 500


def test_six_to_ten_activities_per_handoff_on_average(crm: CRM) -> None:
    handoffs = sum(len(_handoffs(lead)) for lead in crm.leads)
    assert 5.5 <= len(crm.activities) / handoffs <= 10


def test_double_dials_minutes_apart_exist(crm: CRM) -> None:
    by_lead: dict[int, list[datetime]] = {}
    for act in crm.activities:
        if act.kind == "call" and act.direction == "OUTBOUND":
            by_lead.setdefault(act.lead_keys[0], []).append(act.occurred_at)
    close = sum(
        1
        for times in by_lead.values()
        for a, b in zip(sorted(times), sorted(times)[1:], strict=False)
        if b - a < timedelta(minutes=10)
    )
    assert close >= 10


def test_business_clock_skips_nights_weekends_and_holidays() -> None:
    tz = ZoneInfo("America/Sao_Paulo")
    clock = BusinessClock(datetime(2026, 10, 1).date(), datetime(2026, 10, 31).date())
    friday_evening = datetime(2026, 10, 9, 17, 58, tzinfo=tz)  # Monday 12th is a holiday
    at = clock.add(int(friday_evening.timestamp() * 1000), 5 * 60_000)
    # 2 minutes on Friday, 3 on Tuesday morning: 09:03 local.
    assert datetime.fromtimestamp(at / 1000, tz) == datetime(2026, 10, 13, 9, 3, tzinfo=tz)


def test_mutation_helpers_append_history_and_move_updated_at(crm: CRM) -> None:
    small = generate_crm(50, seed=3, end=END)
    lead = small.leads[0]
    version = small.version
    at = END + timedelta(minutes=5)
    small.touch_lead(lead.key, at, stage="marketingqualifiedlead", status="NEW", owner_key=2)
    assert lead.history[-1].at == at and lead.updated_at == at
    assert (lead.stage, lead.status, lead.owner_key) == ("marketingqualifiedlead", "NEW", 2)
    added = small.add_lead(at, email="x@y.example", stage="lead")
    assert added.key == 51 and small.lead(51) is added
    act = small.add_activity("call", at, [added.key], owner_key=1, status="COMPLETED")
    assert act.key == small.next_key("activity") - 1
    small.edit_activity(act.key, at + timedelta(minutes=1), status="NO_ANSWER")
    assert act.status == "NO_ANSWER" and act.updated_at == at + timedelta(minutes=1)
    small.archive_lead(added.key, at + timedelta(minutes=2))
    assert added.archived and small.version == version + 5
    with pytest.raises(KeyError):
        small.add_activity("note", at, [9999])


def assert_generates_within(leads: int, seconds: float) -> None:
    """``generate_crm(leads)`` makes every lead in under ``seconds`` of wall time."""
    started = time.perf_counter()
    big = generate_crm(leads, seed=11, end=END)
    elapsed = time.perf_counter() - started
    assert len(big.leads) == leads
    assert elapsed < seconds, f"generate_crm({leads:_}) took {elapsed:.1f} s"


def test_hundred_thousand_leads_generate_quickly() -> None:
    assert_generates_within(100_000, 15)


@pytest.mark.slow
def test_a_million_leads_generate_in_a_couple_of_minutes() -> None:
    assert_generates_within(1_000_000, 150)
