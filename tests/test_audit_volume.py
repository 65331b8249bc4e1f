"""mql_volume, mql_per_rep, the status thresholds, the overall status, the §6 arithmetic and
the JSON contract (docs/SEMANTICS.md §3 reps, §5 status, §6; docs/CONTRACTS.md JSON report).

Base test SLA: mqls_per_month 3, per_rep {min: 1, max: 2} (target: all reps), warn_margin
0.1, goals 1,000,000 × 0.6 ÷ 20,000 ÷ 0.05. Handoffs are Wed 2026-10-14 10:00 local.
"""

from __future__ import annotations

import json

import pytest

from audit.period import parse_as_of
from tests.tiny_crm import AS_OF, TinyCRM, audit, make_sla

RULE_IDS = [
    "mql_volume",
    "mql_per_rep",
    "speed_to_lead",
    "coverage",
    "attempts",
    "recycling",
    "conversion",
]


@pytest.fixture
def crm(tmp_path):
    return TinyCRM(tmp_path / "s.db")


def handoffs(crm, n, owner=None, *, called=0, first=0, at="2026-10-14 10:00", progress=False):
    """``n`` handoffs of ``owner``; the first ``called`` get a call 2 minutes later."""
    leads = []
    for i in range(n):
        lead = crm.lead(str(1000 + first + i), owner=owner)
        if owner:
            crm.event(lead, "owner", owner, "2026-09-01 08:00")
        crm.mql(lead, at)
        if i < called:
            crm.activity(lead, "call", at[:-5] + "10:02")
        if progress:
            crm.event(lead, "stage", "salesqualifiedlead", "2026-10-15 10:00")
        leads.append(lead)
    return leads


# -- mql_volume -------------------------------------------------------------------------


@pytest.mark.parametrize(("delivered", "status"), [(10, "pass"), (9, "warn"), (8, "fail")])
def test_ten_mqls_needed_nine_warn_and_eight_fail(crm, delivered, status):
    # warn band: 10 × (1 − 0.1) = 9 ≤ measured < 10.
    ana = crm.owner("1", "ana@acme.example")
    handoffs(crm, delivered, ana)
    rule = audit(crm, make_sla(**{"marketing.mqls_per_month": 10})).rule("mql_volume")
    assert (rule.measured, rule.target, rule.status) == (delivered, 10, status)
    assert rule.judged == delivered


def test_derived_volume_is_six_hundred_mqls_from_the_goals(crm):
    # §6: 1,000,000 × 0.6 ÷ 20,000 = 30 customers; 30 ÷ 0.05 = 600 MQLs a month. A lead
    # created in September (never an MQL) shows the snapshot covers October: 0 is real.
    crm.lead("900")
    rule = audit(crm, make_sla(**{"marketing.mqls_per_month": "derived"})).rule("mql_volume")
    assert rule.target == pytest.approx(600, rel=1e-12)
    assert rule.details["needed_per_month"] == pytest.approx(600, rel=1e-12)
    assert rule.details["arithmetic"]["customers_needed"] == pytest.approx(30, rel=1e-12)
    assert rule.details["arithmetic"]["mqls_needed"] == pytest.approx(600, rel=1e-12)
    assert (rule.measured, rule.status) == (0, "fail")


@pytest.mark.parametrize(("delivered", "status"), [(540, "warn"), (539, "fail")])
def test_with_six_hundred_mqls_needed_540_warn_and_539_fail(crm, delivered, status):
    # 600 × (1 − 0.1) = 540.
    ana = crm.owner("1", "ana@acme.example")
    handoffs(crm, delivered, ana)
    sla = make_sla(**{"marketing.mqls_per_month": "derived", "marketing.per_rep": None})
    rule = audit(crm, sla).rule("mql_volume")
    assert (rule.measured, rule.status) == (delivered, status)


def test_volume_target_of_an_open_month_is_pro_rated(crm):
    # Engine's documented resolution (audit/rules/mql_volume.py + data note): as of
    # Mon 11-16 00:00 local, 15 of November's 30 days have elapsed → 10 × 15/30 = 5 needed.
    ana = crm.owner("1", "ana@acme.example")
    handoffs(crm, 5, ana, at="2026-11-05 10:00")
    sla = make_sla(**{"marketing.mqls_per_month": 10})
    result = audit(crm, sla, as_of="2026-11-16 00:00", period="2026-11")
    rule = result.rule("mql_volume")
    assert rule.target == pytest.approx(5.0, rel=1e-12)
    assert (rule.measured, rule.status) == (5, "pass")
    assert rule.details["needed_per_month"] == 10
    assert any("still open" in n for n in result.data_notes)


def test_volume_is_counted_per_source(crm):
    ana = crm.owner("1", "ana@acme.example")
    handoffs(crm, 2, ana)
    crm.save()
    sf = TinyCRM(crm.path, source="salesforce")
    lead = sf.lead("00Q1")
    sf.event(lead, "status", "Marketing Qualified", "2026-10-14 10:00")
    rule = audit(sf).rule("mql_volume")
    assert rule.measured == 3
    assert rule.details["by_source"] == {"hubspot": 2, "salesforce": 1}


# -- mql_per_rep and the period's reps --------------------------------------------------------


def test_reps_are_active_owners_plus_anyone_responsible(crm):
    # ana (active) 1 handoff → in [1, 2]; bob (active) 0 → out; carl (active) 3 → out;
    # dora (deactivated) responsible for 1 → a rep, in range; eve (deactivated, no handoff)
    # → no rep; one handoff without owner → "unassigned" row, not a rep.
    # reps = ana, bob, carl, dora; in range: ana, dora → measured 2/4.
    ana = crm.owner("1", "ana@acme.example")
    crm.owner("2", "bob@acme.example")
    carl = crm.owner("3", "carl@acme.example")
    dora = crm.owner("4", "dora@acme.example", active=False)
    crm.owner("5", "eve@acme.example", active=False)
    handoffs(crm, 1, ana, first=0)
    handoffs(crm, 3, carl, first=10)
    handoffs(crm, 1, dora, first=20)
    handoffs(crm, 1, None, first=30)
    result = audit(crm)
    rule = result.rule("mql_per_rep")
    assert (rule.measured, rule.judged, rule.target, rule.status) == (2 / 4, 4, 1.0, "fail")
    rows = {r.rep: (r.measured, r.violations) for r in rule.reps}
    assert rows == {
        "ana@acme.example": (1, 0),
        "bob@acme.example": (0, 1),
        "carl@acme.example": (3, 1),
        "dora@acme.example": (1, 0),
        "unassigned": (1, 0),
    }
    assert rule.details["out_of_range"] == {"bob@acme.example": 0, "carl@acme.example": 3}
    assert "eve@acme.example" not in {r.rep for r in result.reps}


def test_per_rep_with_only_a_maximum(crm):
    # per_rep {max: 2}: ana 2 → in; bob 3 → out; carl 0 → in (no minimum) → 2/3.
    ana = crm.owner("1", "ana@acme.example")
    bob = crm.owner("2", "bob@acme.example")
    crm.owner("3", "carl@acme.example")
    handoffs(crm, 2, ana, first=0)
    handoffs(crm, 3, bob, first=10)
    sla = make_sla(**{"marketing.per_rep": {"max": 2}})
    rule = audit(crm, sla).rule("mql_per_rep")
    assert (rule.measured, rule.judged) == (2 / 3, 3)


# -- status thresholds -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("worked", "total", "status"),
    [(20, 25, "pass"), (18, 25, "warn"), (72, 100, "warn"), (71, 100, "fail")],
)
def test_target_point_eight_passes_at_point_eight_warns_at_72_and_fails_at_71(
    crm, worked, total, status
):
    # coverage target 0.8, warn_margin 0.1 (relative) → warn band [0.72, 0.8).
    # 20/25 = 0.8 pass; 18/25 = 72/100 = 0.72 warn; 71/100 = 0.71 fail.
    ana = crm.owner("1", "ana@acme.example")
    handoffs(crm, total, ana, called=worked)
    sla = make_sla(**{"sales.coverage.target": 0.8})
    rule = audit(crm, sla).rule("coverage")
    assert (rule.measured, rule.judged, rule.status) == (worked / total, total, status)


def test_a_rules_own_warn_margin_overrides_the_default(crm):
    # 16 of 25 handoffs called 2 minutes after the handoff, 9 never: speed_to_lead and
    # coverage both measure 16/25 = 0.64, both with target 0.8.
    # coverage.warn_margin 0.25 → band [0.6, 0.8) → warn; speed_to_lead keeps the default
    # 0.1 → band [0.72, 0.8) → fail.
    ana = crm.owner("1", "ana@acme.example")
    handoffs(crm, 25, ana, called=16)
    sla = make_sla(
        **{
            "sales.coverage.target": 0.8,
            "sales.coverage.warn_margin": 0.25,
            "sales.first_touch.target": 0.8,
        }
    )
    result = audit(crm, sla)
    assert (result.rule("coverage").measured, result.rule("coverage").status) == (0.64, "warn")
    speed = result.rule("speed_to_lead")
    assert (speed.measured, speed.status) == (0.64, "fail")


def test_marketing_warn_margin_is_the_default_for_every_rule(crm):
    # Same data, marketing.warn_margin 0.25 → both rules warn.
    ana = crm.owner("1", "ana@acme.example")
    handoffs(crm, 25, ana, called=16)
    sla = make_sla(
        **{
            "marketing.warn_margin": 0.25,
            "sales.coverage.target": 0.8,
            "sales.first_touch.target": 0.8,
        }
    )
    result = audit(crm, sla)
    assert result.rule("coverage").status == "warn"
    assert result.rule("speed_to_lead").status == "warn"


# -- overall status ---------------------------------------------------------------------------


def book_month(crm):
    """ana 2 handoffs, bob 1; each called after 2 minutes and SQL the next day."""
    ana = crm.owner("1", "ana@acme.example")
    bob = crm.owner("2", "bob@acme.example")
    handoffs(crm, 2, ana, called=2, progress=True)
    handoffs(crm, 1, bob, called=1, first=10, progress=True)


def test_a_month_kept_by_the_book_passes_overall(crm):
    # volume 3/3; per rep ana 2, bob 1 ∈ [1, 2]; speed, coverage, attempts (connected by the
    # SQL) and conversion 1.0; recycling no data (every handoff connected, none to judge)
    # → overall pass.
    book_month(crm)
    result = audit(crm)
    statuses = {r.id: r.status for r in result.rules}
    assert statuses == {
        "mql_volume": "pass",
        "mql_per_rep": "pass",
        "speed_to_lead": "pass",
        "coverage": "pass",
        "attempts": "pass",
        "recycling": "no_data",
        "conversion": "pass",
    }
    assert (result.status, result.exit_code()) == ("pass", 0)


def test_the_overall_status_is_the_worst_rule(crm):
    # Same month, 4 MQLs needed and warn_margin 0.25: 3 ≥ 4 × 0.75 → volume warns, the
    # rest pass → overall warn (exit 0). With 5 needed: 3 < 3.75 → fail → overall fail.
    book_month(crm)
    warn = audit(crm, make_sla(**{"marketing.mqls_per_month": 4, "marketing.warn_margin": 0.25}))
    assert warn.rule("mql_volume").status == "warn"
    assert (warn.status, warn.exit_code()) == ("warn", 0)
    fail = audit(crm, make_sla(**{"marketing.mqls_per_month": 5, "marketing.warn_margin": 0.25}))
    assert fail.rule("mql_volume").status == "fail"
    assert (fail.status, fail.exit_code()) == ("fail", 1)


def test_rules_with_nothing_judged_have_no_data_and_rules_without_target_are_na(crm):
    # No handoff at all, no volume or per-rep promise: those two are n/a (no target), the
    # rest have no data (nothing to judge), and so has the report: exit 0, not a failure.
    crm.owner("1", "ana@acme.example")
    sla = make_sla(**{"marketing.mqls_per_month": None, "marketing.per_rep": None})
    result = audit(crm, sla)
    assert {r.id: r.status for r in result.rules} == dict.fromkeys(RULE_IDS[:2], "n/a") | (
        dict.fromkeys(RULE_IDS[2:], "no_data")
    )
    assert (result.status, result.exit_code()) == ("no_data", 0)
    for rule in result.rules[2:]:
        assert (rule.measured, rule.judged, rule.pending) == (None, 0, 0)


def test_a_covered_month_without_handoffs_fails_the_volume_promise(crm):
    # The snapshot holds a lead from September: October is covered, and 0 MQLs is a real 0.
    crm.owner("1", "ana@acme.example")
    crm.lead("900")
    result = audit(crm)
    assert (result.rule("mql_volume").measured, result.rule("mql_volume").status) == (0, "fail")
    assert result.rule("speed_to_lead").status == "no_data"
    assert (result.status, result.coverage) == ("fail", "full")
    assert any(note.startswith("no handoffs in 2026-10") for note in result.data_notes)


def test_a_month_before_the_data_starts_has_no_data_not_a_failure(crm):
    # The only lead is created 2026-11-05: October ends before the data starts.
    ana = crm.owner("1", "ana@acme.example")
    lead = crm.lead("901", created="2026-11-05 09:00", owner=ana)
    crm.mql(lead, "2026-11-05 09:00")
    result = audit(crm, as_of="2026-11-06 09:00")
    assert {r.id: r.status for r in result.rules} == dict.fromkeys(RULE_IDS, "no_data")
    assert result.rule("mql_volume").measured is None
    assert (result.status, result.exit_code(), result.coverage) == ("no_data", 0, "none")
    assert result.data_start is None
    assert any(
        note == "no data: the snapshot's data starts 2026-11-05 09:00 -03:00, after 2026-10; "
        "it is not judged"
        for note in result.data_notes
    )


def test_a_month_the_data_starts_in_is_marked_partly_covered(crm):
    # First lead created Wed 2026-10-14 09:00 in São Paulo (−03:00) = 12:00 UTC.
    ana = crm.owner("1", "ana@acme.example")
    lead = crm.lead("902", created="2026-10-14 09:00", owner=ana)
    crm.mql(lead, "2026-10-14 10:00")
    result = audit(crm)
    assert (result.coverage, result.data_start) == ("partial", "2026-10-14T12:00:00.000Z")
    assert result.rule("mql_volume").measured == 1
    assert "partly covered: the snapshot's data starts 2026-10-14 09:00 -03:00, inside 2026-10" in (
        result.data_notes
    )


# -- JSON report contract (docs/CONTRACTS.md) ------------------------------------------------------


def test_the_json_report_has_the_design_contract_keys(crm):
    ana = crm.owner("1", "ana@acme.example")
    handoffs(crm, 1, ana, called=0)
    result = audit(crm)
    report = json.loads(json.dumps(result.to_dict()))
    assert {"sla", "period", "as_of", "status", "rules", "reps", "violations", "data_notes"} <= (
        set(report)
    )
    assert (report["sla"], report["period"], report["status"]) == ("Test SLA", "2026-10", "fail")
    assert parse_as_of(report["as_of"], None) == parse_as_of(AS_OF, None)
    assert [r["id"] for r in report["rules"]] == RULE_IDS
    for rule in report["rules"]:
        assert {"id", "status", "measured", "target", "judged", "pending", "details"} <= set(rule)
        assert rule["status"] in {"pass", "warn", "fail", "n/a"}
        assert rule["measured"] is None or isinstance(rule["measured"], int | float)
    speed = report["rules"][RULE_IDS.index("speed_to_lead")]
    assert {"median_minutes", "p90_minutes"} <= set(speed["details"])
    for row in report["reps"]:
        assert {"rep", "rule", "measured", "judged"} <= set(row)
    violation = next(v for v in report["violations"] if v["rule"] == "speed_to_lead")
    assert {"rule", "lead", "crm_id", "rep", "handoff_at", "reason", "url"} <= set(violation)
    assert violation == violation | {
        "lead": "hubspot:1000",
        "crm_id": "1000",
        "rep": "ana@acme.example",
        "url": "https://app.hubspot.com/contacts/1/record/0-1/1000",
    }
    assert isinstance(report["data_notes"], list)


def test_each_rule_takes_its_target_from_its_sla_key(crm):
    # §5 "default target" column, with distinct values so a mix-up shows.
    ana = crm.owner("1", "ana@acme.example")
    handoffs(crm, 1, ana, called=1)
    sla = make_sla(
        **{
            "marketing.mqls_per_month": 7,
            "marketing.mql_to_sql": 0.35,
            "sales.first_touch.target": 0.91,
            "sales.coverage.target": 0.92,
            "sales.attempts.target": 0.93,
            "sales.recycle.target": 0.94,
        }
    )
    targets = {r.id: r.target for r in audit(crm, sla).rules}
    assert targets == {
        "mql_volume": 7,
        "mql_per_rep": 1.0,  # all reps
        "speed_to_lead": 0.91,
        "coverage": 0.92,
        "attempts": 0.93,
        "recycling": 0.94,
        "conversion": 0.35,
    }


def test_coverage_target_defaults_to_point_nine(crm):
    ana = crm.owner("1", "ana@acme.example")
    handoffs(crm, 1, ana, called=1)
    assert audit(crm, make_sla(**{"sales.coverage": None})).rule("coverage").target == 0.9
