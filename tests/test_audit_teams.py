"""Teams: each rule's rep rows rolled up per team of the SLA file (docs/SEMANTICS.md Part II).

The CRM below (base test SLA: 5-minute first touch in business hours, 1–2 MQLs per rep):

=========  ========  ===========================================  =====================
rep        team      handoffs (all Mon–Fri 10:00 local, October)   first call after
=========  ========  ===========================================  =====================
ana        inbound   101, 102, 103                                 3 min each (on time)
bruno      inbound   104                                           60 min (late)
carla      outbound  105, 106                                      3 min; none
diego      outbound  — (active owner, no handoff)
elisa      no team   107                                           3 min
(no owner) —         108                                           none
=========  ========  ===========================================  =====================

Speed to lead, inbound: 3 + 0 compliant of 3 + 1 judged = 75% pooled, while the mean of
ana's 100% and bruno's 0% is 50%. MQLs per rep (1–2): ana 3 (over), bruno 1, carla 2,
diego 0 (under), elisa 1 → inbound 1 of 2 reps in range, outbound 1 of 2, elisa 1 of 1.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from audit.reports.json_report import render_json
from audit.result import AuditResult, TeamRow
from audit.rules import RULES_BY_ID
from tests.tiny_crm import TinyCRM, audit, make_sla

ANA, BRUNO, CARLA, DIEGO, ELISA = (
    f"{name}@acme.example" for name in ("ana", "bruno", "carla", "diego", "elisa")
)
TEAMS = {
    "inbound": {"manager": "maria@acme.example", "reps": [ANA, "Bruno@Acme.example"]},
    "outbound": {"manager": "olga@acme.example", "reps": [CARLA, DIEGO]},
}


def handoff(crm: TinyCRM, crm_id: str, owner: str | None, day: str, call: str | None) -> str:
    """A lead owned since September, MQL at ``day`` 10:00, first call at ``call`` (or none)."""
    lead = crm.lead(crm_id, owner=owner)
    if owner is not None:
        crm.event(lead, "owner", owner, "2026-09-01 08:00")
    crm.mql(lead, f"{day} 10:00")
    if call is not None:
        crm.activity(lead, "call", f"{day} {call}")
    return lead


def teams_crm(path: Path) -> TinyCRM:
    """The CRM of the module's docstring, saved at ``path``."""
    crm = TinyCRM(path)
    ana, bruno, carla = crm.owner("1", ANA), crm.owner("2", BRUNO), crm.owner("3", CARLA)
    crm.owner("4", DIEGO)
    elisa = crm.owner("5", ELISA)
    handoff(crm, "101", ana, "2026-10-05", "10:03")
    handoff(crm, "102", ana, "2026-10-06", "10:03")
    handoff(crm, "103", ana, "2026-10-07", "10:03")
    handoff(crm, "104", bruno, "2026-10-05", "11:00")
    handoff(crm, "105", carla, "2026-10-08", "10:03")
    handoff(crm, "106", carla, "2026-10-09", None)
    handoff(crm, "107", elisa, "2026-10-13", "10:03")
    handoff(crm, "108", None, "2026-10-14", None)
    crm.save()
    return crm


@pytest.fixture(scope="module")
def crm(tmp_path_factory) -> TinyCRM:
    return teams_crm(tmp_path_factory.mktemp("teams") / "s.db")


@pytest.fixture(scope="module")
def result(crm) -> AuditResult:
    return audit(crm, make_sla(teams=TEAMS))


def row(result: AuditResult, team: str | None, rule: str, rep: str | None = None) -> TeamRow:
    (found,) = [
        t
        for t in result.teams
        if t.team == team and t.rule == rule and (rep is None or t.reps == [rep])
    ]
    return found


def test_a_team_share_is_pooled_over_its_reps_handoffs_not_the_mean_of_their_shares(result):
    reps = {r.rep: r for r in result.rule("speed_to_lead").reps}
    assert (reps[ANA].measured, reps[BRUNO].measured) == (1.0, 0.0)  # mean 50%
    inbound = row(result, "inbound", "speed_to_lead")
    assert (inbound.measured, inbound.judged, inbound.violations) == (0.75, 4, 1)
    assert (inbound.manager, inbound.reps) == ("maria@acme.example", [ANA, BRUNO])
    outbound = row(result, "outbound", "speed_to_lead")  # carla 1 of 2; diego nothing
    assert (outbound.measured, outbound.judged, outbound.violations) == (0.5, 2, 1)
    assert outbound.reps == [CARLA, DIEGO]


def test_counts_are_summed_and_mql_per_rep_is_the_share_of_the_team_reps_in_range(result):
    volume = {t.team or t.reps[0]: t.measured for t in result.teams if t.rule == "mql_volume"}
    assert volume == {"inbound": 4.0, "outbound": 2.0, ELISA: 1.0, "unassigned": 1.0}
    inbound = row(result, "inbound", "mql_per_rep")
    outbound = row(result, "outbound", "mql_per_rep")
    assert (inbound.measured, inbound.judged, inbound.violations) == (0.5, 2, 1)  # ana over
    # diego had no handoff: still a rep of the team, and under the minimum of 1
    assert (outbound.measured, outbound.judged, outbound.violations) == (0.5, 2, 1)
    assert row(result, None, "mql_per_rep", ELISA).measured == 1.0
    unassigned = row(result, None, "mql_per_rep", "unassigned")
    assert (unassigned.measured, unassigned.judged) == (None, 0)  # never a rep to judge


def test_a_rep_in_no_team_and_unassigned_are_rows_of_their_own(result):
    groups = []
    for t in result.teams:
        key = (t.team, tuple(t.reps), t.manager)
        if key not in groups:
            groups.append(key)
    assert groups == [
        ("inbound", (ANA, BRUNO), "maria@acme.example"),
        ("outbound", (CARLA, DIEGO), "olga@acme.example"),
        (None, (ELISA,), None),
        (None, ("unassigned",), None),
    ]
    elisa = row(result, None, "speed_to_lead", ELISA)
    assert (elisa.measured, elisa.judged) == (1.0, 1)
    unassigned = row(result, None, "speed_to_lead", "unassigned")
    assert (unassigned.measured, unassigned.judged, unassigned.violations) == (0.0, 1, 1)


def test_every_team_row_adds_up_to_its_reps_rows_and_the_groups_to_the_rule(result):
    for rule in result.rules:
        by_rep = {r.rep: r for r in rule.reps}
        mine = [t for t in result.teams if t.rule == rule.id]
        assert sorted(rep for t in mine for rep in t.reps) == sorted(by_rep), rule.id
        for team in mine:
            members = [by_rep[rep] for rep in team.reps]
            assert team.pending == sum(r.pending for r in members), (rule.id, team.team)
            assert team.violations == sum(r.violations for r in members), (rule.id, team.team)
            if rule.id != "mql_per_rep":  # the one rule whose reps, not handoffs, are judged
                assert team.judged == sum(r.judged for r in members), (rule.id, team.team)
        assert sum(t.judged for t in mine) == rule.judged, rule.id
        assert sum(t.pending for t in mine) == rule.pending, rule.id
        if RULES_BY_ID[rule.id].counts_violations and rule.id != "mql_per_rep":
            assert sum(t.violations for t in mine) == len(rule.violations), rule.id


def test_json_carries_the_team_rows(result):
    doc = json.loads(render_json(result))
    inbound = [t for t in doc["teams"] if t["team"] == "inbound" and t["rule"] == "coverage"]
    assert inbound == [
        {
            "team": "inbound",
            "manager": "maria@acme.example",
            "reps": [ANA, BRUNO],
            "rule": "coverage",
            "measured": 1.0,
            "judged": 4,
            "pending": 0,
            "violations": 0,
        }
    ]
    elisa = next(t for t in doc["teams"] if t["reps"] == [ELISA])
    assert (elisa["team"], elisa["manager"]) == (None, None)


def test_without_teams_in_the_sla_there_are_no_team_rows(crm):
    result = audit(crm)
    assert result.teams == []
    assert '"teams": []' in render_json(result)


def test_a_listed_rep_the_audit_never_saw_is_named_in_the_data_notes(crm):
    teams = {"inbound": {"manager": "maria@acme.example", "reps": [ANA, "zoe@acme.example"]}}
    result = audit(crm, make_sla(teams=teams))
    assert row(result, "inbound", "mql_volume").reps == [ANA]
    (note,) = [n for n in result.data_notes if "zoe@acme.example" in n]
    assert note.startswith("team inbound: zoe@acme.example is no active owner")


def test_with_no_per_rep_range_the_team_has_no_mql_per_rep_figure(crm):
    result = audit(crm, make_sla(teams=TEAMS, **{"marketing.per_rep": None}))
    assert row(result, "inbound", "mql_per_rep").measured is None
    assert row(result, "inbound", "speed_to_lead").measured == 0.75
