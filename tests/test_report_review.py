"""What the HTML page and the terminal table say about a month (issue 16, items 2–5).

Results are built by hand, the way the engine fills them: a month still running is
provisional, a rule or month with nothing to judge has status ``no_data``, a month the
snapshot only partly covers has ``coverage="partial"`` and the instant its data starts.
The reports only word and order what they are given.
"""

from __future__ import annotations

import re

import pytest

from audit.reports import render_html
from audit.reports.html_evidence import PAGE_ROWS, ROWS_PER_REP, SHOWN_OPEN
from audit.result import AuditResult, RuleResult, TrendPoint, Violation
from tests.test_html_report import Page
from tests.test_reports import ANA, BRUNO, JOAO_REP, october_result, plain_table, violation

# october_result() is audited as of 2026-11-01T03:00:00Z in Europe/Lisbon (UTC+0 then).
AS_OF_LOCAL = "2026-11-01 03:00 +00:00"


def visible(result: AuditResult) -> str:
    """The page's text a reader sees (the stylesheet's comments left out)."""
    page = re.sub(r"<style>.*?</style>", " ", render_html(result), flags=re.S)
    return Page(page).visible()


def groups(page: str) -> list[tuple[str, str, int]]:
    """(anchor, rep, count) of each rep's violations group, in page order."""
    found = re.findall(
        r'<div class="rep-group" id="(rep-\d+)"[^>]*>\s*<h3><span class="rep">([^<]*)</span> '
        r'<span class="group-total">(\d+) violations?</span>',
        page,
    )
    return [(anchor, rep, int(n)) for anchor, rep, n in found]


# --- item 2: a month still running ------------------------------------------------------


def test_provisional_month_is_labelled_first_on_the_page_and_the_table():
    result = october_result()
    result.provisional = True
    banner = f"Provisional — month to date as of {AS_OF_LOCAL}"

    page = render_html(result)
    assert banner in Page(page).visible()
    assert page.index('id="provisional"') < page.index('id="overall-status"')
    assert plain_table(result).splitlines()[0] == banner


def test_closed_month_has_no_provisional_label():
    assert "Provisional" not in render_html(october_result())
    assert "Provisional" not in plain_table(october_result())


# --- item 3: no data is not a failure ---------------------------------------------------


def no_data_conversion() -> AuditResult:
    result = october_result()
    for rule in result.rules:
        if rule.status in ("fail", "warn"):
            rule.status = "pass"
    conversion = result.rule("conversion")
    conversion.status = "no_data"
    return result


def test_a_rule_without_data_says_no_data_in_a_neutral_style_and_is_not_a_failure():
    result = no_data_conversion()
    page = render_html(result)
    card = page.split('id="rule-conversion"')[1].split("</article>")[0]

    assert result.status == "pass"
    assert '<span class="badge badge-na">no data</span>' in card
    assert "fail" not in card
    assert (
        "Every judged rule meets its target (6 of 7 rules judged); no data for MQL→SQL "
        "conversion." in Page(page).visible()
    )
    row = next(line for line in plain_table(result).splitlines() if line.startswith("MQL→SQL"))
    assert row.split()[1:3] == ["conversion", "no"] and " no data " in row


def test_a_month_with_no_data_at_all_is_no_data_not_fail():
    result = october_result()
    for rule in result.rules:
        rule.status = "no_data"
    page = render_html(result)
    seen = visible(result)

    assert 'class="verdict verdict-na"' in page
    assert "NO DATA" in seen and "FAIL" not in seen
    assert "No data: nothing could be judged for this period (7 of 7 rules)." in seen
    assert plain_table(result).splitlines()[0].endswith("status no data")


def test_trend_months_without_data_are_left_out_of_the_line_and_say_no_data():
    # July: before the data starts (coverage none). August: no handoffs (no_data).
    # September 87.5 % and October 82 % are the only points of speed to lead's line.
    result = october_result()

    def month(period: str, status: str, measured: float | None, coverage: str = "full"):
        rules = {r.id: {"status": status, "measured": measured} for r in result.rules}
        return TrendPoint(period, f"{period}-28T00:00:00Z", status, rules, coverage=coverage)

    result.trend = [
        month("2026-07", "fail", 0.0, coverage="none"),
        month("2026-08", "no_data", None),
        month("2026-09", "warn", 0.875),
    ]
    page = render_html(result)
    speed = next(
        row for row in page.split('id="trend"')[1].split("<tr>") if ">Speed to lead<" in row
    )

    assert speed.count('<td class="num trend-na" title="no data">no data</td>') == 2
    assert '<td class="num trend-warn" title="warn">87.5%</td>' in speed
    assert speed.count("<circle") == 2  # September and October only
    assert "0.0%" not in speed  # July's zero is not data


def test_partly_covered_month_says_where_the_data_starts_next_to_the_period():
    result = october_result()
    result.coverage = "partial"
    result.data_start = "2026-10-17T09:30:00.000Z"  # Lisbon is UTC+1 until 25 October
    note = "partly covered: data starts 2026-10-17 10:30 +01:00"

    masthead = render_html(result).split('class="masthead-text"')[1].split("</div>")[0]
    assert note in masthead
    assert f"period 2026-10 ({note})" in plain_table(result).splitlines()[0]


# --- item 4: worst first, everyone present ----------------------------------------------


def many_violations(counts: dict[str, int]) -> AuditResult:
    result = october_result()
    speed = result.rule("speed_to_lead")
    speed.violations = [
        violation("speed_to_lead", rep, f"{rep}-{i}", f"2026-10-{1 + i % 28:02d}T10:00:00Z", "late")
        for rep, n in counts.items()
        for i in range(n)
    ]
    result.rule("coverage").violations = []
    return result


def test_violations_are_grouped_by_rep_worst_first_with_every_rows_count():
    result = many_violations({ANA: 2, BRUNO: 120, JOAO_REP: 7})
    page = render_html(result)

    assert groups(page) == [("rep-1", BRUNO, 120), ("rep-2", JOAO_REP, 7), ("rep-3", ANA, 2)]
    bruno, joao, ana = page.split('<div class="rep-group"')[1:]
    # Bruno: 5 rows open, 45 behind "show", 70 left to the CSV (50 rows per rep here).
    assert ROWS_PER_REP == 50 and PAGE_ROWS // 3 > ROWS_PER_REP
    assert bruno.split("<details")[0].count("<tr data-rule=") == SHOWN_OPEN
    assert bruno.count("<tr data-rule=") == 50
    assert "show 45 more (50 of 120 are on this page)" in bruno
    assert "70 more not on this page: all 120 are in violations.csv" in bruno
    assert "show all 7" in joao and joao.count("<tr data-rule=") == 7
    assert "<details" not in ana and ana.count("<tr data-rule=") == 2
    assert "the other 70 are in violations.csv" in Page(page).visible()


def test_a_large_month_keeps_every_rep_on_the_page_with_a_bounded_number_of_rows():
    # 1,200 reps × 10 violations: the page's budget gives each rep its first 5 rows.
    counts = {f"rep{i:04d}@acme.example": 10 for i in range(1200)}
    page = render_html(many_violations(counts))

    found = groups(page)
    assert len(found) == 1200 and {n for _, _, n in found} == {10}
    assert page.count("<tr data-rule=") == 1200 * SHOWN_OPEN
    assert page.count("5 more not on this page: all 10 are in violations.csv") == 1200


def test_rule_cards_and_rep_names_link_to_their_violations():
    result = october_result()
    page = render_html(result)
    card = page.split('id="rule-speed_to_lead"')[1].split("</article>")[0]
    reps = page.split('id="reps-table"')[1].split("</table>")[0]
    nav = page.split('class="filters hint"')[1].split("</nav>")[0]

    assert '<a href="#only-speed_to_lead">8 violations</a>' in card
    assert '<span class="filter-anchor" id="only-speed_to_lead"></span>' in page
    assert f'<a href="#rep-1">{BRUNO}</a>' in reps  # the worst rep's group comes first
    assert groups(page)[0][:2] == ("rep-1", BRUNO)
    assert '<a href="#only-coverage" data-title="Coverage">Coverage (2)</a>' in nav
    rows = re.findall(r'<tr data-rule="([^"]+)">', page)
    assert sorted(set(rows)) == ["coverage", "speed_to_lead"] and len(rows) == 10


# --- item 5: one clock, human durations -------------------------------------------------


def test_instants_are_local_with_their_offset_and_durations_are_human():
    result = october_result()
    result.rule("speed_to_lead").details = {"median_minutes": 132.4, "p90_minutes": 3140.4}
    seen = visible(result)
    table = plain_table(result)
    # The speed chart's note is the report's; the rule's own sentence is the rule's words.
    note = render_html(result).split('id="speed-to-lead"')[1].split("</figcaption>")[0]

    assert "Median 2 h 12 min (business), p90 52 h 20 min (business)." in note
    assert "3140.4" not in table.split("Reps (worst first)")[0].split("Speed to lead")[1]
    assert "2026-10-14 10:00 +01:00" in seen  # bruno's 09:00Z handoff, Lisbon summer time
    assert "2026-10-14 10:00 +01:00" in table and "2026-10-14T09:00:00Z" not in table
    assert "median 2 h 12 min (business), p90 52 h 20 min (business)" in table
    assert f"as of {AS_OF_LOCAL}" in table


@pytest.mark.parametrize(
    ("key", "tick", "words"),
    [
        ("0-5", "≤5m", "within 5 min (business)"),
        ("60-120", "≤2h", "after 1 h, within 2 h (business)"),
        ("1440+", ">24h", "after more than 24 h (business)"),
    ],
)
def test_speed_histogram_bins_are_worded_as_durations(key, tick, words):
    from audit.reports.charts import minutes_bin

    assert minutes_bin(key) == (tick, words)


def test_no_data_status_is_worded_for_people():
    from audit.reports.display import status_word

    assert [status_word(s) for s in ("pass", "fail", "n/a", "no_data")] == [
        "pass",
        "fail",
        "n/a",
        "no data",
    ]


def test_a_violation_is_shown_only_in_the_group_of_its_rep():
    result = AuditResult(
        "s",
        "2026-10",
        "2026-11-01T00:00:00Z",
        "UTC",
        [
            RuleResult(
                "speed_to_lead",
                "fail",
                0.5,
                0.9,
                2,
                0,
                violations=[
                    Violation(
                        "speed_to_lead", "hubspot:1", "1", ANA, "2026-10-02T10:00:00Z", "late", None
                    ),
                    Violation(
                        "speed_to_lead",
                        "hubspot:2",
                        "2",
                        BRUNO,
                        "2026-10-01T10:00:00Z",
                        "late",
                        None,
                    ),
                ],
            )
        ],
    )
    page = render_html(result)
    ana_group = page.split(f'<span class="rep">{ANA}</span>')[1].split('class="rep-group"')[0]

    assert "hubspot:1" in ana_group and "hubspot:2" not in ana_group
