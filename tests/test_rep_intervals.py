"""Honest comparisons of reps (issue 18, item 5; docs/SEMANTICS.md Part II, "Comparing reps").

Every per-rep share carries its counts and a 95 % Wilson interval, and a rep with fewer
than ``sales.compare_reps.min_judged`` (default 10) judged handoffs in every rule is marked
"too few to judge" and left out of the worst-first ranking, in every report.

Tiny CRM: ana has 12 handoffs, 9 touched within 2 minutes (speed to lead 9/12); bruno has
4 handoffs, 1 touched in time (1/4) — the worst share, yet too few to rank. All on
Wed 2026-10-14 10:00 São Paulo; the base test SLA's first touch is 5 business minutes.
"""

from __future__ import annotations

import csv
import io
import json
import math

import pytest

from audit.reports import write_report
from audit.reports.html_report import render_html
from audit.reports.table import render_plain
from audit.stats import wilson_interval
from tests.tiny_crm import TinyCRM, audit, make_sla

ANA, BRUNO = "ana@acme.example", "bruno@acme.example"
HANDOFF = "2026-10-14 10:00"


def test_wilson_interval_matches_the_published_values():
    # 8 of 10, z = 1.96: p = 0.8, centre (0.8 + 0.19208) / 1.38416 = 0.71689, half-width
    # 1.96 × √(0.016 + 0.0096040) / 1.38416 = 0.22658 → (0.4902, 0.9433), as in Brown, Cai &
    # DasGupta (2001) and statsmodels' proportion_confint(8, 10, method="wilson").
    low, high = wilson_interval(8, 10)
    assert (round(low, 4), round(high, 4)) == (0.4902, 0.9433)
    # The ends stay inside [0, 1]: 0 of 4 → (0, 0.4899); 4 of 4 → (0.5101, 1).
    assert wilson_interval(0, 4)[0] == 0.0 and round(wilson_interval(0, 4)[1], 4) == 0.4899
    assert wilson_interval(4, 4)[1] == 1.0
    assert math.isclose(sum(wilson_interval(5, 10)), 1.0)  # symmetric around 1/2
    with pytest.raises(ValueError):
        wilson_interval(0, 0)


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    crm = TinyCRM(tmp_path_factory.mktemp("reps") / "s.db")
    ana, bruno = crm.owner("1", ANA), crm.owner("2", BRUNO)
    for rep, count, in_time, first in ((ana, 12, 9, 100), (bruno, 4, 1, 200)):
        for i in range(count):
            lead = crm.lead(str(first + i), owner=rep)
            crm.event(lead, "owner", rep, "2026-09-01 08:00")
            crm.mql(lead, HANDOFF)
            crm.activity(lead, "call", "2026-10-14 10:02" if i < in_time else "2026-10-14 11:00")
    return audit(crm, make_sla(**{"marketing.per_rep": {"min": 1, "max": 20}}))


def speed_row(result, rep):
    return next(r for r in result.rule("speed_to_lead").reps if r.rep == rep)


def test_a_reps_share_carries_its_wilson_interval(result):
    ana = speed_row(result, ANA)
    # 9 of 12: Wilson (0.4677, 0.9111).
    assert (ana.measured, ana.judged) == (0.75, 12)
    assert ana.interval == pytest.approx((0.4677, 0.9111), abs=1e-4)
    assert ana.judgeable


def test_a_rep_with_four_handoffs_is_too_few_to_judge_and_not_ranked(result):
    bruno = speed_row(result, BRUNO)
    # 1 of 4 judged < 10: too few, though its interval (0.0456, 0.6994) is still given.
    assert (bruno.measured, bruno.judged, bruno.judgeable) == (0.25, 4, False)
    assert bruno.interval == pytest.approx((0.0456, 0.6994), abs=1e-4)
    volume = next(r for r in result.rule("mql_volume").reps if r.rep == BRUNO)
    assert (volume.judgeable, volume.interval) == (False, None)  # a count: no interval


def test_the_table_ranks_ana_alone_and_lists_bruno_apart(result):
    text = render_plain(result)
    ranked = text.split("Reps (worst first)\n", 1)[1].split("\n\n", 1)[0].splitlines()[2:]
    assert [line.split()[0] for line in ranked] == [ANA]
    assert "75.0% (9/12, 47–91%)" in ranked[0]
    apart = text.split("Too few to judge (under 10 judged handoffs in every rule): not ranked\n")
    assert apart[1].split("\n\n", 1)[0].splitlines()[2].startswith(BRUNO)
    assert "25.0% (1/4, 5–70%)" in apart[1]


def test_json_marks_judgeable_and_gives_the_interval(result):
    doc = json.loads(json.dumps(result.to_dict()))
    assert doc["rep_min_judged"] == 10
    rows = {(r["rep"], r["rule"]): r for r in doc["reps"]}
    assert rows[(BRUNO, "speed_to_lead")]["judgeable"] is False
    assert rows[(ANA, "speed_to_lead")]["judgeable"] is True
    assert rows[(ANA, "speed_to_lead")]["interval"] == pytest.approx([0.4677, 0.9111], abs=1e-4)
    assert rows[(ANA, "mql_volume")]["interval"] is None


def test_the_rep_grid_puts_too_few_reps_last_and_marks_them(result, tmp_path):
    write_report(result, "csv", tmp_path / "csv")
    text = (tmp_path / "csv" / "reps.csv").read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["Rep"] for r in rows] == [ANA, BRUNO]
    assert (rows[0]["Speed to lead 95% low (%)"], rows[0]["Speed to lead 95% high (%)"]) == (
        "46.8",
        "91.1",
    )
    assert rows[0]["Too few to judge"] == ""
    assert rows[1]["Too few to judge"] == "too few to judge (under 10 judged)"


def test_the_page_has_a_separate_table_for_too_few(result):
    page = render_html(result)
    ranked = page.split('id="reps-table"', 1)[1].split("</table>", 1)[0]
    apart = page.split('id="reps-too-few-table"', 1)[1].split("</table>", 1)[0]
    assert ANA in ranked and BRUNO not in ranked
    assert BRUNO in apart and "1/4, 5–70%" in apart


def test_the_threshold_is_the_slas(tmp_path):
    # min_judged 4: bruno's 4 judged handoffs (none touched) are enough; he is ranked and
    # nobody is listed apart.
    crm = TinyCRM(tmp_path / "s.db")
    bruno = crm.owner("2", BRUNO)
    for i in range(4):
        lead = crm.lead(str(200 + i), owner=bruno)
        crm.event(lead, "owner", bruno, "2026-09-01 08:00")
        crm.mql(lead, HANDOFF)
    sla = make_sla(**{"sales.compare_reps.min_judged": 4})
    result = audit(crm, sla)
    assert speed_row(result, BRUNO).judgeable
    text = render_plain(result)
    assert "Too few to judge" not in text
    ranked = text.split("Reps (worst first)\n", 1)[1].split("\n\n", 1)[0].splitlines()[2:]
    assert [line.split()[0] for line in ranked] == [BRUNO]
