"""Speed → outcome on the team's own data (issue 18, item 4; docs/SEMANTICS.md Part II).

The tiny CRM of :func:`nine_handoffs`, base test SLA (business hours mon–fri
09:00–12:00 and 13:00–18:00, São Paulo; attempts window 14d, min_gap 4h; conversion judged
for every handoff), audited as of 2026-12-01 so every window has closed. Handoffs are
Wed 2026-10-14 10:00 unless said otherwise:

====  ==========================================  ==========  ========  =========  ====
lead  activities (first touch in business min)     band        attempts  connected  SQL
====  ==========================================  ==========  ========  =========  ====
101   call 10:03 connected (3); SQL Thu            0–5         1         yes        yes
102   call 10:05 no answer (5: right-closed)       0–5         1         no         no
103   call 10:10 connected (10)                    5–15        1         yes        no
104   Fri 17:50 handoff; call Mon 09:05 (10 + 5    5–15        2         no         no
      = 15, though 63 calendar hours); e-mail
      Mon 14:00 (4 h 55 later: counted)
105   call 10:40 (40); e-mails 15:00 and Thu       15–60       3         no         yes
      10:00; SQL Nov 5 (after the window: no
      connection, but progressed by as-of)
106   call 13:10 (120 + 10 = 130; 190 calendar);   60–240      2         yes        no
      meeting Thu 15:00 (a meeting connects)
107   call Fri 10:00 (Wed 7 h + Thu 8 h + Fri      240+        1         no         no
      1 h = 960)
108   nothing                                      never       0         no         no
109   nothing; SQL Thu (progress in the window     never       0         yes        yes
      is a connection)
====  ==========================================  ==========  ========  =========  ====

By first touch, connected/judged and SQL/judged: 0–5 1/2 and 1/2; 5–15 1/2 and 0/2;
15–60 0/1 and 1/1; 60–240 1/1 and 0/1; 240+ 0/1 and 0/1; never 1/2 and 1/2.
By attempts: 1 → 2/4 (101, 103 of 101, 102, 103, 107) and 1/4 (101); 2 → 1/2 (106 of
104, 106) and 0/2; 3 → 0/1 and 1/1 (105); 4 … 8+ → nothing judged.
"""

from __future__ import annotations

import csv
import json

import openpyxl
import pytest

from audit.engine import open_snapshot, run_trend
from audit.outcome_claims import MIN_GROUP, compare, verdict
from audit.outcome_rates import OutcomeRow, OutcomeTable, Rate, wilson_interval
from audit.period import parse_as_of
from audit.reports import render_html, render_json, render_plain, write_report
from audit.speed_outcome import FIRST_TOUCH_BANDS
from tests.tiny_crm import TinyCRM, audit, make_sla

CONNECTED = "f240bbac-87c9-4f6e-bf70-924b57d47db7"
NO_ANSWER = "73a0d17f-1163-4015-bdd5-ec830791da20"
WED = "2026-10-14"


@pytest.fixture
def crm(tmp_path):
    return TinyCRM(tmp_path / "s.db")


def handoff(crm: TinyCRM, crm_id: str, at: str = f"{WED} 10:00") -> str:
    owner = f"{crm.source}:1"
    if not any(o["id"] == owner for o in crm.page.owners):
        crm.owner("1", "ana@acme.example")
    lead = crm.lead(crm_id, owner=owner)
    crm.event(lead, "owner", owner, "2026-09-01 08:00")
    crm.mql(lead, at)
    return lead


def sql(crm: TinyCRM, lead: str, at: str) -> None:
    crm.event(lead, "stage", "salesqualifiedlead", at)


def nine_handoffs(crm: TinyCRM) -> TinyCRM:
    """The CRM of the module docstring."""
    a = handoff(crm, "101")
    crm.activity(a, "call", f"{WED} 10:03", outcome=CONNECTED)
    sql(crm, a, "2026-10-15 11:00")
    crm.activity(handoff(crm, "102"), "call", f"{WED} 10:05", outcome=NO_ANSWER)
    crm.activity(handoff(crm, "103"), "call", f"{WED} 10:10", outcome=CONNECTED)
    d = handoff(crm, "104", "2026-10-16 17:50")
    crm.activity(d, "call", "2026-10-19 09:05", outcome=NO_ANSWER)
    crm.activity(d, "email", "2026-10-19 14:00")
    e = handoff(crm, "105")
    crm.activity(e, "call", f"{WED} 10:40", outcome=NO_ANSWER)
    crm.activity(e, "email", f"{WED} 15:00")
    crm.activity(e, "email", "2026-10-15 10:00")
    sql(crm, e, "2026-11-05 10:00")
    f = handoff(crm, "106")
    crm.activity(f, "call", f"{WED} 13:10", outcome=NO_ANSWER)
    crm.activity(f, "meeting", "2026-10-15 15:00")
    crm.activity(handoff(crm, "107"), "call", "2026-10-16 10:00", outcome=NO_ANSWER)
    handoff(crm, "108")
    sql(crm, handoff(crm, "109"), "2026-10-15 10:00")
    return crm


def counts(rows) -> dict[str, tuple[int, int, int, int]]:
    """key → (connect judged, connected, SQL judged, became SQL)."""
    return {
        row.key: (row.connect.judged, row.connect.hits, row.sql.judged, row.sql.hits)
        for row in rows
    }


def test_band_table_on_a_small_crm_matches_the_hand_count(crm):
    table = audit(nine_handoffs(crm)).speed_outcome
    assert counts(table.by_first_touch) == {
        "0-5": (2, 1, 2, 1),
        "5-15": (2, 1, 2, 0),
        "15-60": (1, 0, 1, 1),
        "60-240": (1, 1, 1, 0),
        "240+": (1, 0, 1, 0),
        "never": (2, 1, 2, 1),
    }
    assert counts(table.by_attempts) == {
        "1": (4, 2, 4, 1),
        "2": (2, 1, 2, 0),
        "3": (1, 0, 1, 1),
        **{key: (0, 0, 0, 0) for key in ("4", "5", "6", "7", "8+")},
    }
    assert [row.label for row in table.by_first_touch][:5] == [b[1] for b in FIRST_TOUCH_BANDS]
    assert table.months == ("2026-10",)


def test_nine_handoffs_are_too_few_for_any_claim(crm):
    # 0–5 has 2 judged, after an hour 1 + 1 = 2: both under 30 → no claim, for both outcomes.
    report = audit(nine_handoffs(crm)).speed_outcome_report()
    assert [c.verdict for c in report.period.comparisons] == ["too_few", "too_few"]
    assert report.period.sentence.startswith(
        "Too few handoffs to say whether leads touched within 5 minutes connected more often "
        "than leads touched after an hour (2 and 2 judged; at least 30 of each needed)."
    )
    assert "×" not in report.period.sentence


def test_open_windows_and_young_handoffs_are_left_out_until_their_outcome_is_known(crm):
    # As of Tue 10-20 12:00 the windows (to 10-28) are open. 101 (touched at 3 min, SQL on
    # 10-15) is in 0–5 for MQL→SQL (conversion judges every handoff) but not for connect
    # (window open); 108, untouched, is in no band yet (it may still be touched). The
    # attempts table needs the window closed: empty.
    crm = TinyCRM(crm.path)
    a = handoff(crm, "101")
    crm.activity(a, "call", f"{WED} 10:03", outcome=CONNECTED)
    sql(crm, a, "2026-10-15 11:00")
    handoff(crm, "108")
    table = audit(crm, as_of="2026-10-20T15:00:00Z").speed_outcome
    assert counts(table.by_first_touch)["0-5"] == (0, 0, 1, 1)
    assert counts(table.by_first_touch)["never"] == (0, 0, 0, 0)
    assert all(row.connect.judged == row.sql.judged == 0 for row in table.by_attempts)
    # With a conversion maturity of 14d, 101 (6 days old) is not judged for MQL→SQL either.
    young = make_sla(**{"marketing.mql_to_sql": {"target": 0.3, "after": "14d"}})
    table = audit(crm, young, as_of="2026-10-20T15:00:00Z").speed_outcome
    assert counts(table.by_first_touch)["0-5"] == (0, 0, 0, 0)


@pytest.mark.parametrize(
    ("hits", "judged", "low", "high"),
    [(5, 10, 0.2365931, 0.7634069), (0, 10, 0.0, 0.2775328), (10, 10, 0.7224672, 1.0)],
)
def test_wilson_interval_matches_published_values(hits, judged, low, high):
    # The values statsmodels' proportion_confint(method="wilson") gives.
    assert wilson_interval(hits, judged) == pytest.approx((low, high), abs=1e-6)


def test_wilson_interval_of_nothing_judged_is_none():
    assert wilson_interval(0, 0) is None
    assert Rate().rate is None and Rate().to_dict("connected")["low"] is None


def test_a_claim_needs_both_groups_large_enough_and_intervals_apart():
    # 24 of 30 (65–89 %) vs 6 of 30 (10–37 %): 30 each, intervals apart → claim.
    assert verdict(Rate(30, 24), Rate(30, 6)) == "claim"
    # The same shares with 29 on one side: too few, however far apart.
    assert verdict(Rate(MIN_GROUP - 1, 23), Rate(100, 20)) == "too_few"
    # 12 of 40 (18–45 %) vs 10 of 50 (11–33 %): enough handoffs, intervals overlap.
    assert verdict(Rate(40, 12), Rate(50, 10)) == "no_clear_difference"


def table_of(fast: Rate, one_to_four_hours: Rate, over_four_hours: Rate) -> OutcomeTable:
    rows = {"0-5": fast, "60-240": one_to_four_hours, "240+": over_four_hours}
    touch = tuple(
        OutcomeRow(key, label, rows.get(key, Rate()), rows.get(key, Rate()))
        for key, label, _ in FIRST_TOUCH_BANDS
    )
    return OutcomeTable(("2026-10",), touch, ())


def test_after_an_hour_pools_the_two_slow_bands_and_the_sentence_gives_the_ratio():
    # Fast 30 of 40 = 75 %; after an hour 4 of 20 + 4 of 20 = 8 of 40 = 20 %: each slow
    # band alone is under 30, pooled they are 40 → claim, 75 / 20 = 3.75 → "3.8×".
    found = compare(table_of(Rate(40, 30), Rate(20, 4), Rate(20, 4)), "connect")
    assert (found.verdict, found.ratio) == ("claim", pytest.approx(3.75))
    assert found.sentence == (
        "Leads touched within 5 minutes connected 3.8× as often as leads touched after an "
        "hour (75.0% of 40 vs 20.0% of 40 handoffs)."
    )


def test_no_clear_difference_is_said_without_a_ratio():
    found = compare(table_of(Rate(40, 12), Rate(25, 5), Rate(25, 5)), "sql")
    assert (found.verdict, found.ratio) == ("no_clear_difference", None)
    assert found.sentence == (
        "No clear difference in how often leads touched within 5 minutes and after an hour "
        "became SQL (30.0% of 40 vs 20.0% of 50 handoffs; the 95% intervals overlap)."
    )


def test_a_claim_against_a_zero_rate_says_both_shares_instead_of_a_ratio():
    found = compare(table_of(Rate(40, 20), Rate(40, 0), Rate()), "connect")
    assert (found.verdict, found.ratio) == ("claim", None)
    assert found.sentence == (
        "Leads touched within 5 minutes connected in 50.0% of 40 handoffs, leads touched "
        "after an hour in none of 40."
    )


def test_trend_window_pools_each_months_counts(crm):
    # September: one more handoff touched at 2 min and connected (Wed 09-16 10:00).
    nine_handoffs(crm)
    lead = handoff(crm, "201", "2026-09-16 10:00")
    crm.activity(lead, "call", "2026-09-16 10:02", outcome=CONNECTED)
    result = audit(crm)
    sla = make_sla()
    conn = open_snapshot(crm.path)
    try:
        result.trend = run_trend(
            conn, sla, "2026-10", 1, parse_as_of("2026-12-01T03:00:00Z", sla.tz)
        )
    finally:
        conn.close()
    document = json.loads(render_json(result))["speed_outcome"]
    assert document["months"] == ["2026-10"]
    window = document["trend_window"]
    assert window["months"] == ["2026-09", "2026-10"]
    fast = window["by_first_touch"][0]
    assert (fast["key"], fast["connect"]["judged"], fast["connect"]["connected"]) == ("0-5", 3, 2)
    assert window["sentence"].startswith("Over 2026-09 to 2026-10 pooled (2 months): Too few")


def test_every_report_carries_the_tables_and_the_sentence(crm, tmp_path):
    result = audit(nine_handoffs(crm))
    sentence = result.speed_outcome_report().period.sentence
    document = json.loads(render_json(result))["speed_outcome"]
    assert (document["confidence"], document["min_group"]) == (0.95, MIN_GROUP)
    assert document["by_first_touch"][0]["connect"] == {
        "judged": 2,
        "connected": 1,
        "rate": 0.5,
        "low": pytest.approx(0.0945, abs=1e-4),
        "high": pytest.approx(0.9055, abs=1e-4),
    }
    assert document["sentence"] == sentence

    write_report(result, "csv", tmp_path / "csv")
    with (tmp_path / "csv" / "speed_outcome.csv").open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 6 + 8
    first = rows[0]
    assert (first["Scope"], first["Group"], first["Connect judged"], first["Connected"]) == (
        "2026-10",
        "within 5 min",
        "2",
        "1",
    )
    assert (first["Connect rate"], first["Connect 95% low"]) == ("50.0", "9.5")
    assert first["Note"].startswith("fewer than 30 judged") and first["In words"] == sentence

    write_report(result, "xlsx", tmp_path / "r.xlsx")
    sheet = openpyxl.load_workbook(tmp_path / "r.xlsx")["Speed_outcome"]
    assert [cell.value for cell in sheet[2]][:5] == [
        "2026-10",
        "First touch (business time)",
        "within 5 min",
        2,
        1,
    ]

    html = render_html(result)
    assert 'id="speed-outcome"' in html and "never touched" in html
    assert sentence.split(" (")[0] in html

    plain = render_plain(result)
    assert "Speed → outcome by first touch (2026-10)" in plain
    assert "* fewer than 30 judged: shown, too few to compare." in plain
