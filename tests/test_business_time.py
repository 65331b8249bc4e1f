"""Business-time calendar: hand-computed scenarios (docs/SEMANTICS.md §1) and properties."""

from __future__ import annotations

import time as wallclock
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit.business_time import END_OF_DAY, BusinessCalendar, OpeningHours
from audit.instants_ns import NAT as NAT_NS

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
NEW_YORK = ZoneInfo("America/New_York")
TOKYO = ZoneInfo("Asia/Tokyo")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)

MON_FRI_9_18: OpeningHours = {weekday: [(time(9), time(18))] for weekday in range(5)}
MON_FRI_LUNCH: OpeningHours = {
    weekday: [(time(9), time(12)), (time(13), time(18))] for weekday in range(5)
}
EVERY_DAY_9_18: OpeningHours = {weekday: [(time(9), time(18))] for weekday in range(7)}


def local(
    tz: ZoneInfo, year: int, month: int, day: int, hour: int = 0, minute: int = 0
) -> datetime:
    """A local wall time (first occurrence when ambiguous)."""
    return datetime(year, month, day, hour, minute, tzinfo=tz)


def to_ns(moment: datetime) -> int:
    """Exact epoch nanoseconds of an aware datetime."""
    return (moment - EPOCH) // MICROSECOND * 1_000


def from_ns(ns: int) -> datetime:
    """Aware UTC datetime of whole-microsecond epoch nanoseconds."""
    return EPOCH + timedelta(microseconds=ns // 1_000)


# --------------------------------------------------------------------------------------
# Hand-computed scenarios
# --------------------------------------------------------------------------------------


def test_friday_evening_lead_over_a_monday_holiday_is_due_tuesday_morning() -> None:
    # Fri 2026-10-09 17:58 -> 18:00 = 2 min; Sat, Sun closed; Mon 2026-10-12 is a holiday;
    # Tue 2026-10-13 09:00 -> 09:03 = 3 min. Total 2 + 3 = 5 business minutes.
    calendar = BusinessCalendar(SAO_PAULO, MON_FRI_9_18, [date(2026, 10, 12)])
    handoff = local(SAO_PAULO, 2026, 10, 9, 17, 58)
    tuesday = local(SAO_PAULO, 2026, 10, 13, 9, 3)

    assert calendar.business_minutes(handoff, tuesday) == pytest.approx(5.0, abs=1e-9)
    # A 5-minute allowance therefore expires Tue 09:03 local (12:03 UTC).
    deadline = calendar.add_business(handoff, 5 * 60)
    assert deadline == tuesday
    assert deadline.tzinfo is UTC


def test_lead_arriving_on_saturday_starts_counting_monday_at_opening() -> None:
    # Sat 2026-10-17 10:00 and all of Sunday are closed; Mon 09:00 -> 09:30 = 30 min.
    calendar = BusinessCalendar(SAO_PAULO, MON_FRI_9_18)
    saturday = local(SAO_PAULO, 2026, 10, 17, 10)
    monday_0930 = local(SAO_PAULO, 2026, 10, 19, 9, 30)

    assert calendar.business_minutes(saturday, monday_0930) == pytest.approx(30.0)
    # 1 business minute from Saturday = Mon 09:00 + 1 min.
    assert calendar.add_business(saturday, 60) == local(SAO_PAULO, 2026, 10, 19, 9, 1)


def test_lunch_break_does_not_count() -> None:
    # 12:30 is inside the 12:00-13:00 break; 13:00 -> 13:04 = 4 min.
    calendar = BusinessCalendar(SAO_PAULO, MON_FRI_LUNCH)
    during_lunch = local(SAO_PAULO, 2026, 10, 19, 12, 30)
    after_lunch = local(SAO_PAULO, 2026, 10, 19, 13, 4)

    assert calendar.business_minutes(during_lunch, after_lunch) == pytest.approx(4.0)
    assert calendar.add_business(during_lunch, 4 * 60) == after_lunch
    # 11:00 -> 12:00 = 60 min, break, 13:00 -> 14:00 = 60 min: 120 min over 3 wall hours.
    assert calendar.business_minutes(
        local(SAO_PAULO, 2026, 10, 19, 11), local(SAO_PAULO, 2026, 10, 19, 14)
    ) == pytest.approx(120.0)


def test_deadline_ending_at_closing_time_is_the_close_not_the_next_opening() -> None:
    # 11:58 + 2 business minutes: the last needed second elapses at 12:00, before the break.
    calendar = BusinessCalendar(SAO_PAULO, MON_FRI_LUNCH)
    start = local(SAO_PAULO, 2026, 10, 19, 11, 58)
    assert calendar.add_business(start, 120) == local(SAO_PAULO, 2026, 10, 19, 12)
    # Friday 17:58 + 2 min = Friday 18:00, not Monday 09:00.
    friday = local(SAO_PAULO, 2026, 10, 23, 17, 58)
    assert calendar.add_business(friday, 120) == local(SAO_PAULO, 2026, 10, 23, 18)


def test_zero_allowance_is_due_at_the_start_even_while_closed() -> None:
    # Sunday 03:00 is closed, but a zero allowance is due immediately.
    calendar = BusinessCalendar(SAO_PAULO, MON_FRI_9_18)
    sunday = local(SAO_PAULO, 2026, 10, 18, 3)
    assert calendar.add_business(sunday, 0) == sunday


def test_end_before_start_counts_nothing() -> None:
    # Reversed or empty spans have no overlap with anything: 0 seconds.
    calendar = BusinessCalendar(SAO_PAULO, MON_FRI_9_18)
    monday_10 = local(SAO_PAULO, 2026, 10, 19, 10)
    assert calendar.business_seconds(monday_10, monday_10 - timedelta(hours=1)) == 0.0
    assert calendar.business_seconds(monday_10, monday_10) == 0.0


def test_weekend_spanning_spring_forward_counts_one_hour_each_side() -> None:
    # New York springs forward Sun 2026-03-08. Fri 17:00 -> 18:00 = 60 min,
    # Sat/Sun closed, Mon 09:00 -> 10:00 = 60 min: 60 + 60 = 120 business minutes,
    # although only 64 real hours elapse (65 wall hours minus the skipped one).
    calendar = BusinessCalendar(NEW_YORK, MON_FRI_9_18)
    friday = local(NEW_YORK, 2026, 3, 6, 17)
    monday = local(NEW_YORK, 2026, 3, 9, 10)
    assert calendar.business_minutes(friday, monday) == pytest.approx(120.0)
    assert (monday - friday) == timedelta(hours=65)  # same tzinfo: Python subtracts wall times
    assert (monday.astimezone(UTC) - friday.astimezone(UTC)) == timedelta(hours=64)
    assert calendar.add_business(friday, 120 * 60) == monday


def test_weekend_spanning_fall_back_counts_one_hour_each_side() -> None:
    # New York falls back Sun 2026-11-01. Fri 2026-10-30 17:00 -> 18:00 = 60 min,
    # Mon 2026-11-02 09:00 -> 10:00 = 60 min: 120 business minutes over 66 real hours.
    calendar = BusinessCalendar(NEW_YORK, MON_FRI_9_18)
    friday = local(NEW_YORK, 2026, 10, 30, 17)
    monday = local(NEW_YORK, 2026, 11, 2, 10)
    assert calendar.business_minutes(friday, monday) == pytest.approx(120.0)
    assert calendar.add_business(friday, 120 * 60) == monday


def test_nine_to_six_is_nine_real_hours_on_dst_change_days() -> None:
    # On both change days the jump happens at 02:00, outside 09:00-18:00: 9 h = 540 min.
    calendar = BusinessCalendar(NEW_YORK, EVERY_DAY_9_18)
    for day in (date(2026, 3, 8), date(2026, 11, 1)):
        start = datetime.combine(day, time(0), NEW_YORK)
        end = datetime.combine(day + timedelta(days=1), time(0), NEW_YORK)
        assert calendar.business_minutes(start, end) == pytest.approx(540.0)


def test_24x7_spring_forward_day_has_23_hours_and_fall_back_day_25() -> None:
    # A local day 00:00 -> 24:00 lasts 23 real hours on 2026-03-08 (clock skips 02:00-03:00)
    # and 25 on 2026-11-01 (01:00-02:00 happens twice): 1380 and 1500 minutes.
    calendar = BusinessCalendar(NEW_YORK, None)
    spring_start, spring_end = local(NEW_YORK, 2026, 3, 8), local(NEW_YORK, 2026, 3, 9)
    fall_start, fall_end = local(NEW_YORK, 2026, 11, 1), local(NEW_YORK, 2026, 11, 2)
    assert calendar.business_minutes(spring_start, spring_end) == pytest.approx(23 * 60)
    assert calendar.business_minutes(fall_start, fall_end) == pytest.approx(25 * 60)


def test_explicit_all_day_hours_follow_dst_like_24x7() -> None:
    # "00:00-24:00" written with END_OF_DAY, and one holiday so the table path is used:
    # still 23 h on the spring-forward day and 25 h on the fall-back day.
    all_day: OpeningHours = {weekday: [(time(0), END_OF_DAY)] for weekday in range(7)}
    calendar = BusinessCalendar(NEW_YORK, all_day, [date(2026, 1, 1)])
    assert calendar.business_minutes(
        local(NEW_YORK, 2026, 3, 8), local(NEW_YORK, 2026, 3, 9)
    ) == pytest.approx(23 * 60)
    assert calendar.business_minutes(
        local(NEW_YORK, 2026, 11, 1), local(NEW_YORK, 2026, 11, 2)
    ) == pytest.approx(25 * 60)


def test_opening_inside_the_spring_forward_gap_opens_when_the_clock_jumps() -> None:
    # Sundays 02:30-04:00. On 2026-03-08, 02:30 does not exist: the interval opens at the
    # jump (02:00 EST = 03:00 EDT = 07:00 UTC) and closes 04:00 EDT (08:00 UTC): 60 min.
    calendar = BusinessCalendar(NEW_YORK, {6: [(time(2, 30), time(4))]})
    day_start, day_end = local(NEW_YORK, 2026, 3, 8), local(NEW_YORK, 2026, 3, 9)
    assert calendar.business_minutes(day_start, day_end) == pytest.approx(60.0)
    jump = datetime(2026, 3, 8, 7, tzinfo=UTC)
    assert calendar.add_business(day_start, 60) == jump + timedelta(minutes=1)


def test_ambiguous_boundary_in_fall_back_means_its_first_occurrence() -> None:
    # Sundays 01:30-03:00. On 2026-11-01, 01:30 happens twice; the first (EDT, 05:30 UTC)
    # opens; 03:00 EST is 08:00 UTC: 150 min, although the wall clock shows 90.
    calendar = BusinessCalendar(NEW_YORK, {6: [(time(1, 30), time(3))]})
    day_start, day_end = local(NEW_YORK, 2026, 11, 1), local(NEW_YORK, 2026, 11, 2)
    assert calendar.business_minutes(day_start, day_end) == pytest.approx(150.0)
    assert calendar.add_business(day_start, 1) == datetime(2026, 11, 1, 5, 30, 1, tzinfo=UTC)


def test_24x7_business_minutes_equal_calendar_minutes() -> None:
    # No business hours and no holidays: business time is elapsed time (DST included).
    calendar = BusinessCalendar(NEW_YORK, None)
    start = local(NEW_YORK, 2026, 3, 7, 22, 15)
    end = local(NEW_YORK, 2026, 3, 10, 4, 50)
    elapsed = (end.astimezone(UTC) - start.astimezone(UTC)).total_seconds() / 60
    assert calendar.business_minutes(start, end) == pytest.approx(elapsed)
    assert calendar.add_business(start, 90 * 60) == start + timedelta(minutes=90)


def test_holiday_closes_the_whole_day_even_on_a_24x7_calendar() -> None:
    # 24x7 with 2026-11-02 as a holiday: Sun 2026-11-01 12:00 -> Tue 2026-11-03 12:00 counts
    # Sunday 12:00-24:00 (12 h) + Tuesday 00:00-12:00 (12 h) = 24 h, not 48 h.
    calendar = BusinessCalendar(SAO_PAULO, None, [date(2026, 11, 2)])
    start = local(SAO_PAULO, 2026, 11, 1, 12)
    end = local(SAO_PAULO, 2026, 11, 3, 12)
    assert calendar.business_minutes(start, end) == pytest.approx(24 * 60)
    # 12 h 1 min from Sunday noon skips the holiday: Tuesday 00:01.
    assert calendar.add_business(start, (12 * 60 + 1) * 60) == local(SAO_PAULO, 2026, 11, 3, 0, 1)


def test_instants_in_any_time_zone_give_the_same_answer() -> None:
    # Mon 2026-10-19 09:00-10:00 in Sao Paulo (UTC-3) is 12:00-13:00 UTC, 21:00-22:00 Tokyo.
    calendar = BusinessCalendar(SAO_PAULO, MON_FRI_9_18)
    start_tokyo = datetime(2026, 10, 19, 21, tzinfo=TOKYO)
    end_utc = datetime(2026, 10, 19, 13, tzinfo=UTC)
    assert calendar.business_minutes(start_tokyo, end_utc) == pytest.approx(60.0)


def test_naive_datetimes_are_rejected() -> None:
    calendar = BusinessCalendar(SAO_PAULO, MON_FRI_9_18)
    with pytest.raises(ValueError, match="aware"):
        calendar.business_seconds(datetime(2026, 10, 19, 9), datetime(2026, 10, 19, 10, tzinfo=UTC))


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        ({}, "no open interval"),
        ({0: []}, "no open interval"),
        ({0: [(time(18), time(0))]}, "END_OF_DAY"),
        ({0: [(time(9), time(13)), (time(12), time(18))]}, "non-overlapping"),
        ({7: [(time(9), time(18))]}, "weekday"),
    ],
)
def test_invalid_business_hours_fail_when_the_calendar_is_built(
    hours: OpeningHours, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        BusinessCalendar(SAO_PAULO, hours)


def test_negative_allowance_is_rejected() -> None:
    calendar = BusinessCalendar(SAO_PAULO, MON_FRI_9_18)
    with pytest.raises(ValueError, match=">= 0"):
        calendar.add_business(local(SAO_PAULO, 2026, 10, 19, 9), -1)
    with pytest.raises(OverflowError):
        calendar.add_business(local(SAO_PAULO, 2026, 10, 19, 9), 1e300)


# --------------------------------------------------------------------------------------
# Vectorised forms
# --------------------------------------------------------------------------------------

VECTOR_CALENDARS = [
    BusinessCalendar(SAO_PAULO, MON_FRI_LUNCH, [date(2026, 10, 12), date(2026, 11, 2)]),
    BusinessCalendar(NEW_YORK, MON_FRI_9_18, [date(2026, 11, 26)]),
    BusinessCalendar(NEW_YORK, None, [date(2026, 7, 4)]),
    BusinessCalendar(NEW_YORK, None),
]


def boundary_instants_ns(tz: ZoneInfo) -> np.ndarray:
    """Openings, closes and midnights of every day of 2026 (DST change days included)."""
    moments = [time(0), time(1, 30), time(2, 30), time(9), time(12), time(13), time(18)]
    day, instants = date(2026, 1, 1), []
    while day.year == 2026:
        instants += [to_ns(datetime.combine(day, moment, tz)) for moment in moments]
        day += timedelta(days=1)
    return np.array(instants, dtype=np.int64)


@pytest.mark.parametrize("calendar", VECTOR_CALENDARS, ids=repr)
def test_vectorised_results_equal_scalar_results(calendar: BusinessCalendar) -> None:
    # 300 random pairs (µs precision) and 300 pairs on local boundaries, both directions.
    rng = np.random.default_rng(20261019)
    lo, hi = to_ns(datetime(2025, 12, 1, tzinfo=UTC)), to_ns(datetime(2027, 2, 1, tzinfo=UTC))
    random_ns = rng.integers(lo // 1_000, hi // 1_000, 600) * 1_000
    boundaries = rng.choice(boundary_instants_ns(calendar.tz), 600)
    starts = np.concatenate([random_ns[:300], boundaries[:300]])
    ends = np.concatenate([random_ns[300:], boundaries[300:]])
    ends[::7] = starts[::7]  # some empty spans too

    vector_seconds = calendar.business_seconds_ns(starts, ends)
    vector_deadlines = calendar.add_business_ns(starts, 45 * 60.0)
    for i in range(starts.size):
        start, end = from_ns(int(starts[i])), from_ns(int(ends[i]))
        assert vector_seconds[i] == calendar.business_seconds(start, end)
        assert from_ns(int(vector_deadlines[i])) == calendar.add_business(start, 45 * 60.0)


def test_vectorised_forms_propagate_missing_instants() -> None:
    # NaT in a pandas column is the int64 minimum: it gives NaN seconds and NaT deadlines.
    calendar = VECTOR_CALENDARS[0]
    monday_9 = to_ns(local(SAO_PAULO, 2026, 10, 19, 9))
    starts = np.array([monday_9, NAT_NS, monday_9], dtype=np.int64)
    ends = np.array([monday_9 + 60 * 10**9, monday_9, NAT_NS], dtype=np.int64)
    seconds = calendar.business_seconds_ns(starts, ends)
    assert seconds[0] == 60.0
    assert np.isnan(seconds[1:]).all()
    deadlines = calendar.add_business_ns(starts, 60.0)
    assert deadlines.tolist() == [monday_9 + 60 * 10**9, NAT_NS, monday_9 + 60 * 10**9]


def test_vectorised_forms_accept_datetime64_columns() -> None:
    calendar = VECTOR_CALENDARS[0]
    starts = np.array(["2026-10-19T12:00"], dtype="datetime64[ns]")  # 09:00 local
    ends = np.array(["2026-10-19T12:05"], dtype="datetime64[ns]")
    assert calendar.business_seconds_ns(starts, ends).tolist() == [300.0]


def test_deadline_far_beyond_the_cached_table_extends_it() -> None:
    # 10,000 business hours at 45 h/week (plus holidays) lie more than four years ahead.
    calendar = BusinessCalendar(SAO_PAULO, MON_FRI_LUNCH, [date(2026, 10, 12)])
    start = local(SAO_PAULO, 2026, 10, 19, 9)
    deadline = calendar.add_business(start, 10_000 * 3600)
    assert deadline > start + timedelta(weeks=220)
    assert calendar.business_seconds(start, deadline) == pytest.approx(10_000 * 3600)


@pytest.mark.slow
def test_a_million_rows_take_well_under_a_second() -> None:
    calendar = BusinessCalendar(SAO_PAULO, MON_FRI_LUNCH, [date(2026, 10, 12)])
    rng = np.random.default_rng(1)
    lo, hi = to_ns(datetime(2025, 1, 1, tzinfo=UTC)), to_ns(datetime(2027, 1, 1, tzinfo=UTC))
    starts = rng.integers(lo, hi, 1_000_000)
    ends = starts + rng.integers(0, 30 * 86_400 * 10**9, starts.size)
    began = wallclock.perf_counter()
    calendar.business_seconds_ns(starts, ends)
    calendar.add_business_ns(starts, 300.0)
    assert wallclock.perf_counter() - began < 1.0


# --------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------

PROPERTIES = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
PROPERTY_CALENDARS = [
    *VECTOR_CALENDARS,
    BusinessCalendar(NEW_YORK, {6: [(time(1, 30), time(3))], 0: [(time(2, 30), END_OF_DAY)]}),
]
WEEKDAY_CALENDARS = VECTOR_CALENDARS[:2]
TOLERANCE_S = 1e-6
BOUNDARY_TIMES = [time(0), time(1, 30), time(2, 30), time(3), time(9), time(12), time(18)]


@st.composite
def instants(draw: st.DrawFn, tz: ZoneInfo) -> datetime:
    """Random UTC instants around 2026, local boundaries (and DST change days) favoured.

    Returned in UTC because Python compares and subtracts two datetimes sharing a tzinfo
    by wall time, which is wrong across a fall-back.
    """
    if draw(st.booleans()):
        return draw(
            st.datetimes(datetime(2025, 12, 1), datetime(2027, 2, 1), timezones=st.just(UTC))
        )
    day = draw(
        st.one_of(
            st.dates(date(2025, 12, 1), date(2027, 2, 1)),
            st.sampled_from([date(2026, 3, 8), date(2026, 11, 1), date(2026, 10, 12)]),
        )
    )
    return datetime.combine(day, draw(st.sampled_from(BOUNDARY_TIMES)), tz).astimezone(UTC)


@st.composite
def calendar_and_instants(
    draw: st.DrawFn, count: int, calendars: list[BusinessCalendar] = PROPERTY_CALENDARS
) -> tuple[BusinessCalendar, list[datetime]]:
    """A calendar and ``count`` instants sorted in time."""
    calendar = draw(st.sampled_from(calendars))
    moments = [draw(instants(calendar.tz)) for _ in range(count)]
    return calendar, sorted(moments)


@PROPERTIES
@given(calendar_and_instants(3))
def test_business_time_is_additive_over_split_spans(
    drawn: tuple[BusinessCalendar, list[datetime]],
) -> None:
    # Overlap with open time is a measure: [a, c) = [a, b) + [b, c).
    calendar, (a, b, c) = drawn
    whole = calendar.business_seconds(a, c)
    parts = calendar.business_seconds(a, b) + calendar.business_seconds(b, c)
    assert whole == pytest.approx(parts, abs=TOLERANCE_S)


@PROPERTIES
@given(calendar_and_instants(2))
def test_business_time_never_exceeds_calendar_time(
    drawn: tuple[BusinessCalendar, list[datetime]],
) -> None:
    # Open time is part of elapsed time: 0 <= business <= calendar seconds.
    calendar, (start, end) = drawn
    elapsed = (end - start).total_seconds()
    assert 0.0 <= calendar.business_seconds(start, end) <= elapsed + TOLERANCE_S


@PROPERTIES
@given(
    st.sampled_from(WEEKDAY_CALENDARS),
    st.dates(date(2025, 12, 1), date(2027, 2, 1)),
    st.floats(0.0, 1.0),
    st.floats(0.0, 1.0),
)
def test_nothing_counts_across_a_closed_weekend(
    calendar: BusinessCalendar, day: date, first: float, second: float
) -> None:
    # Mon-Fri hours: Sat 00:00 -> Mon 00:00 local, and any span inside it, is 0 seconds.
    saturday = day + timedelta(days=(5 - day.weekday()) % 7)
    sat_midnight = datetime.combine(saturday, time(0), calendar.tz).astimezone(UTC)
    mon_midnight = datetime.combine(saturday + timedelta(days=2), time(0), calendar.tz)
    assert calendar.business_seconds(sat_midnight, mon_midnight) == 0.0
    span = mon_midnight - sat_midnight
    a, b = sorted((first, second))
    assert calendar.business_seconds(sat_midnight + a * span, sat_midnight + b * span) == 0.0


@PROPERTIES
@given(
    calendar_and_instants(1),
    st.floats(0.0, 3_000_000.0, allow_nan=False),
    st.floats(0.0, 3_000_000.0, allow_nan=False),
)
def test_add_business_is_the_inverse_of_business_seconds_and_monotone(
    drawn: tuple[BusinessCalendar, list[datetime]], x: float, y: float
) -> None:
    # business_seconds(s, add_business(s, x)) == x (deadline rounded up to the µs), the
    # deadline is the earliest such instant, and a larger allowance is never due earlier.
    calendar, (start,) = drawn
    deadline = calendar.add_business(start, x)
    assert deadline >= start
    assert calendar.business_seconds(start, deadline) == pytest.approx(x, abs=TOLERANCE_S)
    if deadline > start:
        assert calendar.business_seconds(start, deadline - MICROSECOND) < x
    smaller, larger = sorted((x, y))
    assert calendar.add_business(start, smaller) <= calendar.add_business(start, larger)
