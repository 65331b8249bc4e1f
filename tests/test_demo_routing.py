"""The demo shows routing and time off; every report names whose fault a late touch was.

Issue 18's "Done when": the sandbox generator produces routing delays and absences so the
demo shows them. The demo's world stands still at 2026-11-16 09:00 UTC and audits October
2026 (America/Sao_Paulo): 22 weekdays less 12 October (a holiday) = 21 working days. The
generated absences (sandbox/absences.py): Carla Mon 5 – Fri 9 and Fri 23 October (6 working
days away, present 15/21), Elisa Wed 14 – Thu 15 October (present 19/21).
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from app.demo_sla import demo_sla_text
from app.watch_findings import evaluate
from audit.engine import open_snapshot
from audit.reports import write_report
from audit.reports.table import render_plain
from sandbox.absences import planned_absences
from sandbox.generator import generate_crm
from tests.tiny_crm import TinyCRM, audit, make_sla

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
DEMO_END = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
CARLA, ELISA = "carla@acme.example", "elisa@acme.example"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """One demo run on a smaller CRM (same world, same absences), read back."""
    from app.demo import run_demo

    out = tmp_path_factory.mktemp("demo")
    assert run_demo(out, size=1500) == 0
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    return out, report


def test_the_generated_absences_fall_in_the_audited_month_on_fixed_days():
    plan = planned_absences(DEMO_END, SAO_PAULO)
    d = datetime.fromisoformat
    assert plan == {
        3: [(d("2026-10-05").date(), d("2026-10-09").date()), (d("2026-10-23").date(),) * 2],
        5: [(d("2026-10-14").date(), d("2026-10-15").date())],
    }


def test_absences_are_off_by_default_and_an_absent_rep_touches_no_lead():
    assert generate_crm(size=300, seed=4, end=DEMO_END).absences == {}
    crm = generate_crm(size=3000, seed=4, end=DEMO_END, speed_pays=True, absences=True)
    assert set(crm.absences) == {3, 5}
    touched_while_away = [
        act
        for act in crm.activities
        if act.direction not in ("INCOMING_EMAIL", "INBOUND")  # the lead's own doing
        for first, last in crm.absences.get(act.owner_key or 0, [])
        if first <= act.occurred_at.astimezone(SAO_PAULO).date() <= last
    ]
    assert touched_while_away == []
    # The router skips an absent rep except on the absence's first day (no out-of-office
    # set yet), so some leads land on Carla while she is away, and none on later days.
    routed = [
        h.at.astimezone(SAO_PAULO).date()
        for lead in crm.leads
        for h in lead.history
        if h.field == "owner" and h.value == "3" and h.source_type == "AUTOMATION_PLATFORM"
    ]
    monday, friday = datetime(2026, 10, 5).date(), datetime(2026, 10, 9).date()
    away = [day for day in routed if monday <= day <= friday]
    assert away and set(away) == {monday}


def test_the_demo_sla_is_the_example_plus_routing_and_the_crms_time_off(demo):
    out, _ = demo
    text = (out / "demo-sla.yaml").read_text(encoding="utf-8")
    assert text.startswith("# Written by `run_audit.py demo`")
    assert "routing: {within: 10m, target: 0.95}" in text
    assert f'  {CARLA}: ["2026-10-05..2026-10-09", 2026-10-23]' in text
    assert f'  {ELISA}: ["2026-10-14..2026-10-15"]' in text
    with pytest.raises(RuntimeError, match="already has routing"):
        demo_sla_text("routing: {within: 5m}\n", [])


def test_the_demo_shows_routing_breaches_and_late_touches_routings_fault(demo):
    _, report = demo
    ids = [rule["id"] for rule in report["rules"]]
    assert ids[ids.index("speed_to_lead") + 1] == "routing"
    routing = next(rule for rule in report["rules"] if rule["id"] == "routing")
    assert routing["details"]["to_absent_rep"] >= 1
    kinds = {v["kind"] for v in report["violations"] if v["rule"] == "routing"}
    assert {"late", "absent_rep"} <= kinds
    whose = {v["attributed_to"] for v in report["violations"] if v["rule"] == "speed_to_lead"}
    assert {"routing", "rep"} <= whose


def test_an_absent_reps_mqls_per_rep_range_is_pro_rated(demo):
    _, report = demo
    per_rep = next(rule for rule in report["rules"] if rule["id"] == "mql_per_rep")
    present = per_rep["details"]["present_share"]
    assert present[CARLA] == pytest.approx(15 / 21)
    assert present[ELISA] == pytest.approx(19 / 21)
    # The example's range 40–80 becomes 40×15/21 = 28.6 to 80×15/21 = 57.1 for Carla.
    carla = next(r for r in report["reps"] if r["rule"] == "mql_per_rep" and r["rep"] == CARLA)
    in_range = 40 * 15 / 21 <= carla["measured"] <= 80 * 15 / 21
    assert (CARLA in per_rep["details"]["out_of_range"]) is (not in_range)


def test_the_demo_reports_carry_the_attribution(demo, capsys):
    out, _ = demo
    with (out / "csv" / "violations.csv").open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert {r["Attributed to"] for r in rows if r["Rule"] == "Speed to lead"} >= {"routing", "rep"}
    assert {r["Attributed to"] for r in rows if r["Rule"] != "Speed to lead"} == {""}
    page = (out / "report.html").read_text(encoding="utf-8")
    assert '<p class="attribution muted">late touches: ' in page
    assert "Pro-rated for time off" in page


@pytest.fixture
def late_routing(tmp_path):
    """Mon 2026-10-05 (Sao Paulo): queued at the 09:00 handoff, given to Ana at 13:00, called
    13:02 — 3 h of routing (09:00–12:00), 2 min of rep response: routing's fault."""
    crm = TinyCRM(tmp_path / "s.db")
    ana = crm.owner("1", "ana@acme.example")
    lead = crm.lead("101")
    crm.event(lead, "owner", None, "2026-09-01 08:00")
    crm.mql(lead, "2026-10-05 09:00")
    crm.event(lead, "owner", ana, "2026-10-05 13:00")
    crm.activity(lead, "call", "2026-10-05 13:02")
    return crm


def test_csv_html_and_table_name_whose_fault_the_late_touch_was(late_routing, tmp_path):
    result = audit(late_routing, make_sla(routing={"within": "10m", "target": 0.95}))
    write_report(result, "csv", tmp_path / "csv")
    with (tmp_path / "csv" / "violations.csv").open(encoding="utf-8-sig", newline="") as f:
        rows = {r["Rule"]: r for r in csv.DictReader(f)}
    assert rows["Speed to lead"]["Attributed to"] == "routing"
    assert rows["Routing"]["Attributed to"] == ""
    write_report(result, "xlsx", tmp_path / "r.xlsx")
    sheet = openpyxl.load_workbook(tmp_path / "r.xlsx")["Violations"]
    header = [cell.value for cell in sheet[1]]
    whose = header.index("Attributed to")
    assert [row[whose].value for row in sheet.iter_rows(min_row=2)].count("routing") == 1

    write_report(result, "html", tmp_path / "r.html")
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert '<td class="whose">routing</td>' in page
    assert "late touches: 1 routing" in page  # the card, and Ana's speed-to-lead cell
    assert page.count("late touches: 1 routing") == 2

    lines = render_plain(result).splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("Violations ("))
    assert "attributed to" in lines[at + 1]  # the violations' header row
    late = next(line for line in lines[at:] if line.startswith("Speed to lead "))
    assert late.split()[-2:] == ["routing", "https://app.hubspot.com/contacts/1/record/0-1/101"]


def test_without_any_attributed_violation_there_is_no_column(tmp_path):
    crm = TinyCRM(tmp_path / "s.db")
    ana = crm.owner("1", "ana@acme.example")
    lead = crm.lead("101", owner=ana)
    crm.mql(lead, "2026-10-05 09:00")
    crm.activity(lead, "call", "2026-10-05 09:02")  # in time: no speed-to-lead violation
    result = audit(crm, make_sla())
    assert "attributed to" not in render_plain(result)


def test_watch_alerts_a_lead_nobody_was_assigned(late_routing):
    # Watch at Mon 10:30 local (13:30 UTC): the routing deadline, 09:10 local (12:10 UTC),
    # passed with no owner → a routing breach, decided at 12:10 UTC.
    sla = make_sla(routing={"within": "10m", "target": 0.95})
    conn = open_snapshot(late_routing.save())
    try:
        found = evaluate(conn, sla, datetime(2026, 10, 5, 13, 30, tzinfo=UTC))
    finally:
        conn.close()
    [breach] = [f for f in found.breaches if f.rule == "routing"]
    assert breach.deadline.startswith("2026-10-05T12:10")
    assert "no owner by the routing deadline" in breach.missing
    assert "routing" in [rule.id for rule in found.month_rules]
