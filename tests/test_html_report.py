"""The HTML report: a page a RevOps lead can project, built from a real audit of a tiny CRM.

The month below is a small team's October (with August and September for the trend):
three reps, a dozen MQLs a month, some touched late, some never, some recycled too early.
Every figure the page shows comes from the audit; these tests check that the page says it,
says it in words, draws it, and never lets CRM text become markup.
"""

from __future__ import annotations

import html
import random
import re
from datetime import date, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest

from audit.engine import open_snapshot, run_audit, run_trend
from audit.period import parse_as_of
from audit.reports import charts, render_html, write_report
from audit.reports.html_report import crm_link
from audit.result import AuditResult
from tests import tiny_crm
from tests.test_reports import SCRIPT, october_result
from tests.tiny_crm import TinyCRM, make_sla

# 2026-12-01 00:00 in São Paulo: every October deadline, window and grace has passed.
AS_OF = "2026-12-01T03:00:00Z"
REPS = ("ana@acme.example", "bruno@acme.example", "joao@acme.example")
# 100,000 × 0.6 ÷ 10,000 = 6 customers; ÷ 0.15 = 40 MQLs a month.
GOALS = {
    "revenue_per_month": 100000,
    "marketing_share": 0.6,
    "average_deal_size": 10000,
    "mql_to_customer": 0.15,
}


def demo_sla():
    return make_sla(
        **{
            "name": "Acme marketing–sales SLA 2026",
            "goals": GOALS,
            "marketing.mqls_per_month": "derived",
            "marketing.per_rep": {"min": 8, "max": 20},
        }
    )


def weekdays(year: int, month: int) -> list[date]:
    day, out = date(year, month, 1), []
    while day.month == month:
        if day.weekday() < 5 and day not in (date(2026, 10, 12), date(2026, 11, 2)):
            out.append(day)
        day += timedelta(days=1)
    return out


def add_month(crm: TinyCRM, owners: list[str], year: int, month: int, leads: int, rng) -> None:
    """``leads`` MQLs in business hours, handled the way a real, imperfect team would."""
    days = weekdays(year, month)
    for i in range(leads):
        owner = owners[i % len(owners)]
        lead = crm.lead(
            f"{month:02d}{i:02d}",
            owner=owner,
            created=f"{year}-{month:02d}-01 08:00",
            segment=rng.choice(["Software", "Software", "Retail", "Health"]),
            lead_source=rng.choice(["ORGANIC_SEARCH", "PAID_SOCIAL", "REFERRALS"]),
        )
        crm.event(lead, "owner", owner, f"{year}-{month:02d}-01 08:00")
        day = days[(i * 2) % len(days)]
        mql = f"{day} {rng.choice(['09:30', '10:15', '14:00', '15:40'])}"
        crm.mql(lead, mql)
        mql_minutes = int(mql[-5:-3]) * 60 + int(mql[-2:])
        # The third rep is slow; everyone forgets a lead now and then.
        slow = owner == owners[2]
        delay = rng.choice([1, 2, 3, 4, 5, 8, 12, 25, 40] if slow else [1, 2, 2, 3, 4, 5, 9])
        if rng.random() < 0.08:
            continue  # never touched
        touch = mql_minutes + delay
        crm.activity(lead, "call", f"{day} {touch // 60:02d}:{touch % 60:02d}")
        tries = rng.choice([1, 2, 3, 3, 4, 5])
        for k in range(1, tries):
            crm.activity(lead, "email" if k % 2 else "call", f"{day + timedelta(days=k)} 11:00")
        fate = rng.random()
        after = day + timedelta(days=tries + 1)
        if fate < 0.35:
            crm.activity(lead, "call", f"{after} 10:00", outcome="Connected")
            crm.event(lead, "stage", "salesqualifiedlead", f"{after} 10:30")
            if fate < 0.2:
                crm.event(lead, "stage", "opportunity", f"{after + timedelta(days=3)} 10:00")
            if fate < 0.12:
                crm.event(lead, "stage", "customer", f"{after + timedelta(days=9)} 10:00")
        elif fate < 0.8:
            reason = "UNQUALIFIED" if rng.random() < 0.85 else None
            crm.event(lead, "status", reason or "BAD_TIMING", f"{after} 16:00")
            if reason is None:
                crm.event(lead, "status", "", f"{after} 16:00")


def build_crm(path: Path, *, hostile: bool = False) -> TinyCRM:
    """August to October for three reps; ``hostile`` adds CRM text that tries to be markup."""
    crm = TinyCRM(path)
    owners = [crm.owner(str(i + 1), email) for i, email in enumerate(REPS)]
    rng = random.Random(7)
    for month, leads in ((8, 36), (9, 41), (10, 38)):
        add_month(crm, owners, 2026, month, leads, rng)
    if hostile:
        evil = crm.owner("666", SCRIPT)
        lead = crm.lead(
            SCRIPT, owner=evil, created="2026-10-01 08:00", segment=SCRIPT, lead_source=SCRIPT
        )
        crm.event(lead, "owner", evil, "2026-10-01 08:00")
        crm.mql(lead, "2026-10-06 10:00")
        crm.activity(lead, "call", "2026-10-06 11:00")  # late: a violation row with the name
    crm.save()
    return crm


def audit(crm: TinyCRM, *, trend: int = 2) -> AuditResult:
    sla = demo_sla()
    conn = open_snapshot(crm.path)
    try:
        as_of = parse_as_of(AS_OF, sla.tz)
        result = run_audit(conn, sla, "2026-10", as_of)
        if trend:
            result.trend = run_trend(conn, sla, "2026-10", trend, as_of)
        return result
    finally:
        conn.close()


@pytest.fixture(scope="module")
def october(tmp_path_factory) -> AuditResult:
    return audit(build_crm(tmp_path_factory.mktemp("crm") / "s.db"))


@pytest.fixture(scope="module")
def page(october) -> str:
    return render_html(october)


class Page(HTMLParser):
    """Tags, attributes and visible text of a page, for asserting what a reader sees."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.scripts: list[str] = []
        self._in_script = False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        (self.scripts if self._in_script else self.text).append(data)

    def visible(self) -> str:
        return re.sub(r"\s+", " ", " ".join(self.text))


# --- what the page says -----------------------------------------------------------------


def test_headline_names_the_period_the_status_and_the_failing_rules(october, page):
    seen = Page(page).visible()
    failing = [r for r in october.rules if r.status == "fail"]

    assert "October 2026" in seen and "(2026-10)" in seen
    assert october.status.upper() in seen
    assert failing, "the scenario should fail a rule, or the headline test proves nothing"
    assert f"{len(failing)} of 7 rules fail" in seen
    # One clock (issue 16, item 5): local time with its offset, the zone named, no raw UTC.
    assert "As of 2026-12-01 00:00 -03:00 (America/Sao_Paulo)" in seen
    assert "2026-10-01 00:00 -03:00 to 2026-11-01 00:00 -03:00 (America/Sao_Paulo)" in seen
    assert "T03:00:00" not in seen


def test_sla_arithmetic_shows_mqls_delivered_against_needed_and_the_revenue_it_means(october, page):
    seen = Page(page).visible()
    delivered = int(october.rule("mql_volume").measured)

    # 100,000 × 60% = 60,000 from marketing; ÷ 10,000 = 6 customers; ÷ 15% = 40 MQLs.
    assert "= 60,000 from marketing" in seen
    assert "= 6 customers" in seen
    assert "= 40 MQLs a month" in seen
    assert f"{delivered} MQLs delivered" in seen and "40 needed this month" in seen
    # 38 MQLs × 15% = 5.7 customers × 10,000 = 57,000: 95.0% of the 60,000 marketing owes.
    assert delivered == 38
    assert "about 5.7 customers, ≈ 57,000 of revenue: 95.0% of the 60,000" in seen


def test_every_rule_has_its_figure_target_status_and_a_sentence(october, page):
    parsed = Page(page)
    seen = parsed.visible()
    cards = {a.get("id"): a for tag, a in parsed.tags if tag == "article"}

    for rule in october.rules:
        card = cards[f"rule-{rule.id}"]
        assert f"card-{'na' if rule.status == 'n/a' else rule.status}" in card["class"]
    speed = october.rule("speed_to_lead")
    compliant = round(speed.measured * speed.judged)
    assert f"{speed.measured * 100:.1f}%" in seen and "target 90.0%" in seen
    assert (
        f"{compliant} of {speed.judged} judged handoffs got a first attempt within 5m of "
        "business time (target 90.0%)."
    ) in seen


def test_funnel_counts_each_stage_reached_or_passed(october, page):
    funnel = october.rule("conversion").details["funnel"]
    seen = Page(page).visible()

    assert funnel["handoffs"] == 38
    assert funnel["handoffs"] >= funnel["sql"] >= funnel["opportunity"] >= funnel["customer"]
    assert funnel["sql"] == october.rule("conversion").details["progressed"]
    assert funnel["customer"] > 0
    for stage in ("sql", "opportunity", "customer"):
        share = f"{funnel[stage] / funnel['handoffs'] * 100:.1f}%"
        assert f"{funnel[stage]} ({share})" in seen


def test_speed_histogram_first_bin_is_exactly_the_compliant_touches(october, page):
    speed = october.rule("speed_to_lead")
    histogram = speed.details["minutes_histogram"]

    assert list(histogram) == [
        "0-5",
        "5-10",
        "10-15",
        "15-30",
        "30-60",
        "60-120",
        "120-480",
        "480-1440",
        "1440+",
    ]
    compliant = round(speed.measured * speed.judged)
    assert histogram["0-5"] == compliant
    assert sum(histogram.values()) + speed.details["untouched"] == speed.judged
    assert "SLA 5m" in Page(page).visible()


def test_attempts_chart_is_on_the_page_with_the_sla_minimum(october, page):
    attempts = october.rule("attempts")
    seen = Page(page).visible()

    assert attempts.details["min_attempts"] == 3
    assert sum(attempts.details["attempts_histogram"].values()) == attempts.judged
    assert "SLA ≥ 3" in seen
    assert "The SLA asks for at least 3 unless the lead was reached earlier." in seen


def test_attempts_chart_draws_every_count_up_to_the_most_seen_and_the_minimum_line():
    # Judged handoffs: one with 0 attempts, two with 3. Counts 1 and 2 are drawn as 0.
    chart = charts.attempts_chart({"0": 1, "3": 2}, minimum=5)
    bars = [s for s in chart.shapes if isinstance(s, charts.Rect)]
    under = [s.text for s in chart.shapes if isinstance(s, charts.Label) and s.cls == "tick"]
    [sla] = [s for s in chart.shapes if isinstance(s, charts.Line) and s.cls == "line-sla"]

    assert [b.tip for b in bars][:4] == [
        "1 handoffs with 0 counted attempts",
        "0 handoffs with 1 counted attempts",
        "0 handoffs with 2 counted attempts",
        "2 handoffs with 3 counted attempts",
    ]
    assert under[-6:] == ["0", "1", "2", "3", "4", "5"]  # up to the SLA minimum
    assert bars[4].x < sla.x1 < bars[5].x  # the line sits between 4 and 5 attempts
    assert [b.cls for b in bars] == ["bar-neutral"] * 5 + ["bar-pass"]


def test_reps_table_lists_every_rep_worst_first_with_a_column_per_rule(october, page):
    table = page.split('id="reps-table"')[1].split("</table>")[0]
    # A rep with a CRM name shows it, the email in the title and below (issue 15, item 7)
    rows = re.findall(
        r'<th scope="row" class="rep"(?: title="([^"]*)")?>(?:<a href="#rep-\d+">)?([^<]*)'
        r'(?:</a>)?(?:<br><span class="muted email">[^<]*</span>)?</th>'
        r"\s*<td[^>]*>(\d+)",
        table,
    )
    reps = [email or rep for email, rep, _ in rows]
    broken = [int(n) for _, _, n in rows]

    assert sorted(reps) == sorted(set(REPS))
    assert broken == sorted(broken, reverse=True)
    for title in ("Speed to lead", "Coverage", "Attempts", "Recycling", "MQL→SQL conversion"):
        assert f'<button type="button">{title}</button>' in table


def test_violations_link_to_the_crm_and_say_why(october, page):
    parsed = Page(page)
    links = [a["href"] for tag, a in parsed.tags if tag == "a" and a["href"].startswith("https")]
    late = next(v for v in october.violations if v.rule == "speed_to_lead")

    assert late.url in links
    assert html.escape(late.reason) in page
    assert f"Violations ({len(october.violations)})" in parsed.visible()


def test_data_notes_show_as_of_pending_and_the_engine_notes(october, page):
    notes = page.split('id="data-notes"')[1]

    # Local with its offset (issue 16, item 5); the UTC original only in a datetime attribute.
    assert "2026-12-01 00:00 -03:00 (America/Sao_Paulo): nothing recorded" in notes
    assert '<time datetime="2026-12-01T03:00:00.000Z">' in page
    for note in october.data_notes:
        assert html.escape(note) in notes
    pending = [r for r in october.rules if r.pending]
    assert ("none" in notes) if not pending else all(str(r.pending) in notes for r in pending)


def test_trend_has_a_sparkline_and_a_figure_per_month_for_every_rule(october, page):
    trend = page.split('id="trend"')[1].split("</section>")[0]

    assert [t.period for t in october.trend] == ["2026-08", "2026-09"]
    assert trend.count('<svg class="chart spark"') == len(october.rules)
    for period in ("2026-08", "2026-09", "2026-10"):
        assert f'<th scope="col" class="num">{period}</th>' in trend
    august = october.trend[0].rules["mql_volume"]["measured"]
    assert f">{int(august)}</td>" in trend


def test_page_without_trend_has_no_trend_section(tmp_path):
    result = audit(build_crm(tmp_path / "s.db"), trend=0)

    assert 'id="trend"' not in render_html(result)


# --- self-contained and safe ------------------------------------------------------------


def test_page_loads_nothing_from_anywhere(page):
    parsed = Page(page)

    for tag, attrs in parsed.tags:
        assert tag not in {"link", "img", "iframe", "object", "embed"}, tag
        assert "src" not in attrs, (tag, attrs)
        if tag == "a":
            assert attrs["href"].startswith(("https://", "http://", "#")), attrs
    assert "@import" not in page and "url(" not in page
    assert len(parsed.scripts) == 1  # the table sort, allowed by its hash in the CSP


def test_csp_allows_exactly_the_inline_script(page):
    import base64
    import hashlib

    script = page.split("<script>")[1].split("</script>")[0]
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()

    assert f"script-src 'sha256-{digest}'" in page
    assert "default-src 'none'" in page


def test_crm_text_that_looks_like_markup_is_shown_as_text(tmp_path):
    result = audit(build_crm(tmp_path / "s.db", hostile=True), trend=0)
    page = render_html(result)
    parsed = Page(page)

    assert "<script>alert(1)</script>" not in page
    assert page.count("<script>") == 1
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    seen = parsed.visible()
    assert SCRIPT in seen  # as text: the rep, the lead and the segment
    # the lead id is the lead's tooltip (its name or email is the text: issue 15, item 7)
    assert f'title="hubspot:{html.escape(SCRIPT)}"' in page
    assert any(row.rep == SCRIPT for row in result.reps)


def test_hand_made_result_with_hostile_names_renders_escaped(tmp_path):
    out = tmp_path / "report.html"
    assert write_report(october_result(), "html", out) == [out]
    page = out.read_text(encoding="utf-8")

    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;: late" in page
    assert "Acme × João Ñúñez agency" in page
    assert (out.stat().st_mode & 0o777) == 0o600


def test_only_web_links_become_links():
    assert crm_link("https://app.hubspot.com/contacts/1/record/0-1/7") is not None
    assert crm_link("http://crm.local/lead/7") is not None
    assert crm_link("javascript:alert(1)") is None
    assert crm_link(" JavaScript:alert(1)") is None
    assert crm_link("data:text/html,<script>x</script>") is None
    assert crm_link("") is None and crm_link(None) is None


def test_html_goes_to_the_stream_without_out(capsys):
    assert write_report(october_result(), "html", None) == []
    assert capsys.readouterr().out.startswith('<!doctype html>\n<html lang="en">')


def test_print_style_is_a4_landscape(page):
    assert "@page { size: A4 landscape;" in page


# --- what the charts read from the rules (hand-computed) --------------------------------


def test_speed_histogram_bins_are_multiples_of_within_closed_on_the_right(tmp_path):
    # Base SLA: within 5m. Handoffs Tue 2026-10-06 10:00, first calls after 0, 5, 6 and 16
    # business minutes, and one never called (deadline 10:05 long passed).
    # Bins: [0, 5] holds 0 and 5 (5 is compliant); (5, 10] holds 6; (15, 30] holds 16.
    crm = TinyCRM(tmp_path / "s.db")
    ana = crm.owner("1", "ana@acme.example")
    for crm_id, minutes in (("1", 0), ("2", 5), ("3", 6), ("4", 16), ("5", None)):
        lead = crm.lead(crm_id, owner=ana)
        crm.mql(lead, "2026-10-06 10:00")
        if minutes is not None:
            crm.activity(lead, "call", f"2026-10-06 10:{minutes:02d}")
    speed = tiny_crm.audit(crm, make_sla(), AS_OF).rule("speed_to_lead")

    assert speed.details["minutes_histogram"] == {
        "0-5": 2,
        "5-10": 1,
        "10-15": 0,
        "15-30": 1,
        "30-60": 0,
        "60-120": 0,
        "120-480": 0,
        "480-1440": 0,
        "1440+": 0,
    }
    assert speed.details["untouched"] == 1
    assert speed.measured == 2 / 5


def test_funnel_counts_a_lead_that_skipped_stages_at_every_stage_it_passed(tmp_path):
    # A: mql → sql → opportunity.  B: mql → customer directly.  C: mql only.
    # Reached SQL or further: A, B = 2; opportunity or further: A, B = 2; customer: B = 1.
    crm = TinyCRM(tmp_path / "s.db")
    ana = crm.owner("1", "ana@acme.example")
    a, b, c = (crm.lead(i, owner=ana) for i in ("a", "b", "c"))
    for lead in (a, b, c):
        crm.mql(lead, "2026-10-06 10:00")
    crm.event(a, "stage", "salesqualifiedlead", "2026-10-07 10:00")
    crm.event(a, "stage", "opportunity", "2026-10-08 10:00")
    crm.event(b, "stage", "customer", "2026-10-09 10:00")
    conversion = tiny_crm.audit(crm, make_sla(), AS_OF).rule("conversion")

    assert conversion.details["funnel"] == {
        "handoffs": 3,
        "sql": 2,
        "opportunity": 2,
        "customer": 1,
    }
    # Not progressing is no rep's broken promise: no violation counts per rep either.
    assert [row.violations for row in conversion.reps] == [0]
    assert conversion.violations == []


def test_funnel_stage_no_source_maps_is_none_not_zero(tmp_path):
    crm = TinyCRM(tmp_path / "s.db")
    lead = crm.lead("a", owner=crm.owner("1", "ana@acme.example"))
    crm.mql(lead, "2026-10-06 10:00")
    sla = make_sla(**{"funnel.hubspot.opportunity": None, "funnel.hubspot.customer": None})
    funnel = tiny_crm.audit(crm, sla, AS_OF).rule("conversion")

    assert funnel.details["funnel"] == {
        "handoffs": 1,
        "sql": 0,
        "opportunity": None,
        "customer": None,
    }
    assert [
        s.text
        for s in charts.funnel_chart(funnel.details["funnel"]).shapes
        if isinstance(s, charts.Label) and s.cls == "axis-label"
    ] == [
        "MQL (handoffs)",
        "SQL or further",
    ]


def test_volume_details_carry_the_sla_arithmetic_pro_rated_while_the_month_runs(tmp_path):
    # Base goals: 1,000,000 × 0.6 = 600,000 from marketing; ÷ 20,000 = 30 customers;
    # ÷ 0.05 = 600 MQLs. Two MQLs by as-of Fri 2026-10-16 00:00 local, when 15 of 31 days
    # have passed: due by now 600,000 × 15/31. Expected: 2 × 0.05 = 0.1 customers × 20,000.
    crm = TinyCRM(tmp_path / "s.db")
    ana = crm.owner("1", "ana@acme.example")
    for crm_id in ("a", "b"):
        crm.mql(crm.lead(crm_id, owner=ana), "2026-10-06 10:00")
    result = tiny_crm.audit(crm, make_sla(), "2026-10-16T03:00:00Z")
    volume = result.rule("mql_volume")
    got = volume.details["arithmetic"]

    assert got["marketing_revenue_needed"] == pytest.approx(600_000)
    assert got["marketing_revenue_due"] == pytest.approx(600_000 * 15 / 31)
    assert (got["customers_needed"], got["mqls_needed"]) == (pytest.approx(30), pytest.approx(600))
    assert got["customers_expected"] == pytest.approx(0.1)
    assert got["revenue_expected"] == pytest.approx(2_000)
    page = Page(render_html(result)).visible()
    assert "MQLs delivered" in page and "due by now" in page
    # The SLA's own number (3) differs from what the goals need (600): the page says so.
    assert "The SLA fixes 3 MQLs a month; the goals above would need 600." in page


def test_rules_name_their_sla_settings_for_the_sentences(october):
    assert october.rule("attempts").details["min_attempts"] == 3
    assert october.rule("attempts").details["window"] == "14d"
    assert october.rule("coverage").details["window"] == "14d"
    assert october.rule("recycling").details["grace"] == "3d"


# --- small pieces -----------------------------------------------------------------------


def test_sparkline_breaks_at_a_month_with_nothing_judged():
    points = [
        charts.SparkPoint("2026-07", 0.7, "fail", ""),
        charts.SparkPoint("2026-08", None, "n/a", ""),
        charts.SparkPoint("2026-09", 0.8, "warn", ""),
        charts.SparkPoint("2026-10", 0.95, "pass", ""),
    ]
    chart = charts.sparkline(points, target=0.9)
    lines = [s for s in chart.shapes if isinstance(s, charts.Polyline)]
    dots = [s.cls for s in chart.shapes if isinstance(s, charts.Dot)]

    assert [len(line.points) for line in lines] == [2]  # September to October only
    assert dots == ["dot-fail", "dot-warn", "dot-pass"]


def test_trend_from_a_hand_made_result_shows_a_dash_for_a_month_without_figures():
    from tests.test_reports_trend import with_trend

    trend = render_html(with_trend()).split('id="trend"')[1].split("</section>")[0]

    assert '<td class="num trend-na" title="n/a">—</td>' in trend
    assert '<td class="num trend-warn" title="warn">87.5%</td>' in trend


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        (["pass", "pass"], "Every judged rule meets its target (2 of 2 rules judged)."),
        (["pass", "n/a"], "Every judged rule meets its target (1 of 2 rules judged)."),
        (["n/a", "n/a"], "Nothing could be judged for this period yet."),
        (["fail", "warn", "pass"], "1 of 3 rules fail (Coverage); 1 warns (Attempts); 1 pass."),
    ],
)
def test_headline_says_the_verdict_in_words(statuses, expected):
    from audit.reports.words import headline
    from audit.result import RuleResult

    ids = ["coverage", "attempts", "recycling"]
    rules = [RuleResult(i, s, None, None, 0, 0) for i, s in zip(ids, statuses, strict=False)]

    assert headline(AuditResult("s", "2026-10", "x", "UTC", rules)) == expected


def test_times_are_shown_in_the_sla_time_zone_and_fall_back_to_the_text():
    from audit.reports.words import period_bounds, period_title

    # 03:00 UTC is midnight in São Paulo (UTC−3, no daylight saving since 2019). Paris
    # leaves summer time on 2026-10-25: October starts at +02:00 and ends at +01:00.
    assert period_bounds("2026-10", "America/Sao_Paulo") == (
        "2026-10-01 00:00 -03:00 to 2026-11-01 00:00 -03:00"
    )
    assert period_bounds("2026-10", "Europe/Paris") == (
        "2026-10-01 00:00 +02:00 to 2026-11-01 00:00 +01:00"
    )
    assert period_bounds("Q4", "UTC") == ""
    assert period_title("2026-10") == "October 2026"
    assert period_title("Q4") == "Q4"
