"""`plan` adds up: factors as the SLA file gives them, whole customers and MQLs, and a warning
when the reps' per-rep range cannot hold the target (docs/SEMANTICS.md §6)."""

from __future__ import annotations

import json
from pathlib import Path

from audit.plan import Plan, per_rep_range_warnings
from audit.plan_text import render_plan
from tests.cli_helpers import run

ODD_SLA = """\
name: Odd numbers
timezone: UTC
funnel:
  hubspot:
    mql: {stage: [marketingqualifiedlead]}
goals: {revenue_per_month: 1000000, marketing_share: 0.125, average_deal_size: 24000,
        mql_to_customer: 0.0125}
marketing: {mqls_per_month: derived, per_rep: {min: 40, max: 80}}
"""


def odd_sla(tmp_path: Path) -> Path:
    path = tmp_path / "odd.yaml"
    path.write_text(ODD_SLA, encoding="utf-8")
    return path


def test_factors_are_shown_as_given_and_totals_rounded_up(tmp_path, capsys):
    code, out, err = run(capsys, "plan", "--sla", str(odd_sla(tmp_path)))
    assert code == 0, err
    # 1,000,000 × 0.125 ÷ 24,000 = 5.2083 customers → 6 whole ones;
    # 5.2083 ÷ 0.0125 = 416.67 MQLs → 417 whole ones. 0.125 is not printed as 0.12.
    assert "marketing share 0.125 " in out and "MQL→customer 0.0125 " in out
    assert "= 5.21, rounded up to 6 customers" in out
    assert "(1,000,000 × 0.125 ÷ 24,000) customers ÷ MQL→customer 0.0125" in out
    assert "= 416.67, rounded up to 417 MQLs a month" in out


def test_json_carries_the_whole_numbers_beside_the_exact_ones(tmp_path, capsys):
    code, out, _ = run(capsys, "plan", "--sla", str(odd_sla(tmp_path)), "--format", "json")
    plan = json.loads(out)
    assert code == 0
    assert plan["customers_needed_whole"] == 6 and plan["mqls_needed_whole"] == 417
    assert abs(plan["mqls_needed"] - 416.6666666666667) < 1e-9


def plan_for(reps: int, target: float, low: int | None, high: int | None) -> Plan:
    return Plan(
        sla="x", revenue_per_month=None, marketing_share=None, average_deal_size=None,
        mql_to_customer=None, customers_needed=None, mqls_needed=None, mqls_target=target,
        mql_to_sql=None, active_reps=reps, mqls_per_rep=target / reps,
        per_rep_min=low, per_rep_max=high,
    )  # fmt: skip


def test_warns_when_the_reps_cannot_take_the_target():
    # 8 reps × at most 80 = 640 < 700 MQLs needed.
    (warning,) = per_rep_range_warnings(plan_for(8, 700, 40, 80))
    assert warning.startswith("8 active reps × at most 80 MQLs each = 640 < 700 MQLs a month")


def test_warns_when_the_minimums_exceed_the_target():
    # 8 reps × at least 40 = 320 > 300 MQLs needed; a fractional target counts whole: 299.2 → 300.
    (warning,) = per_rep_range_warnings(plan_for(8, 299.2, 40, 80))
    assert warning.startswith("8 active reps × at least 40 MQLs each = 320 > 300 MQLs a month")


def test_no_warning_when_the_range_fits_exactly():
    # 8 × 40 = 320 ≤ 600 ≤ 640 = 8 × 80; and 8 × 75 = 600 exactly is enough.
    assert per_rep_range_warnings(plan_for(8, 600, 40, 80)) == []
    assert per_rep_range_warnings(plan_for(8, 600, None, 75)) == []
    assert per_rep_range_warnings(plan_for(8, 600, 75, None)) == []


def test_the_printed_plan_carries_the_warning():
    plan = plan_for(8, 700, 40, 80)
    plan.warnings = per_rep_range_warnings(plan)
    assert "\nwarning: 8 active reps × at most 80 MQLs each = 640 < 700" in render_plan(plan)
