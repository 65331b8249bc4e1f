"""A handoff is an entry into mql, not a re-stamp (docs/SEMANTICS.md §2; issue 15, item 6).

Base test SLA, HubSpot: mql = lifecycle stage ``marketingqualifiedlead``, recycled = lead
status UNQUALIFIED or BAD_TIMING, progress = stage ``salesqualifiedlead``. October 2026 in
São Paulo (−03:00). Each test counts the October cohort by hand.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from audit.mql_entries import handoff_instants
from tests.tiny_crm import TinyCRM, audit, make_sla

MQL = "marketingqualifiedlead"


@pytest.fixture
def crm(tmp_path):
    return TinyCRM(tmp_path / "s.db")


def test_a_repeat_of_the_mql_value_is_not_a_second_handoff(crm):
    # 101: stage mql 10-05 10:00, a workflow stamps it again 10-12 09:00 and an import
    # 10-20 15:00, still an MQL → one handoff (10-05). Marketing is credited once.
    ana = crm.owner("1", "ana@acme.example")
    lead = crm.lead("101", owner=ana)
    for at in ("2026-10-05 10:00", "2026-10-12 09:00", "2026-10-20 15:00"):
        crm.event(lead, "stage", MQL, at)
    result = audit(crm)
    assert result.rule("mql_volume").measured == 1
    assert result.rule("conversion").judged == 1
    assert result.rule("coverage").judged + result.rule("coverage").pending == 1


def test_a_repeat_in_the_period_of_a_value_held_since_before_is_no_handoff(crm):
    # 102: MQL since 09-20; re-stamped 10-08 → no October handoff at all.
    ana = crm.owner("1", "ana@acme.example")
    lead = crm.lead("102", owner=ana)
    crm.event(lead, "stage", MQL, "2026-09-20 10:00")
    crm.event(lead, "stage", MQL, "2026-10-08 10:00")
    crm.lead("900")  # the month is covered: 0 is a real zero
    assert audit(crm).rule("mql_volume").measured == 0


def test_a_repeat_after_a_recycle_is_a_new_handoff(crm):
    # 103: mql 10-05 10:00; recycled (status UNQUALIFIED) 10-09 11:00 while the stage stays
    # mql; stage re-stamped 10-19 09:30 → a second handoff. Another re-stamp 10-21 → none.
    ana = crm.owner("1", "ana@acme.example")
    lead = crm.lead("103", owner=ana)
    crm.event(lead, "stage", MQL, "2026-10-05 10:00")
    crm.event(lead, "status", "UNQUALIFIED", "2026-10-09 11:00")
    crm.event(lead, "stage", MQL, "2026-10-19 09:30")
    crm.event(lead, "stage", MQL, "2026-10-21 09:30")
    result = audit(crm)
    assert result.rule("mql_volume").measured == 2
    handoffs = {v.handoff_at for v in result.rule("speed_to_lead").violations}
    assert handoffs == {crm.at("2026-10-05 10:00"), crm.at("2026-10-19 09:30")}


def test_leaving_mql_through_its_own_field_makes_the_next_mql_value_an_entry(crm):
    # 104: mql 10-05; stage → salesqualifiedlead 10-07; back to mql 10-14 → two handoffs.
    ana = crm.owner("1", "ana@acme.example")
    lead = crm.lead("104", owner=ana)
    crm.event(lead, "stage", MQL, "2026-10-05 10:00")
    crm.event(lead, "stage", "salesqualifiedlead", "2026-10-07 10:00")
    crm.event(lead, "stage", MQL, "2026-10-14 10:00")
    assert audit(crm).rule("mql_volume").measured == 2


def test_a_second_mql_field_while_the_first_holds_is_not_a_handoff(crm):
    # SLA: mql = stage marketingqualifiedlead OR status OPEN_MQL. 105: stage mql 10-05;
    # status OPEN_MQL 10-06 → still one handoff. The status then moves to IN_PROGRESS
    # (10-08: not the field that put the lead there, so it stays an MQL) and back to
    # OPEN_MQL 10-09 → still one. Stage → salesqualifiedlead 10-12 (the field that put it
    # there left mql); status OPEN_MQL again 10-15 → a second handoff.
    sla = make_sla(
        **{"funnel.hubspot.mql": {"stage": [MQL], "status": ["OPEN_MQL"]}},
    )
    ana = crm.owner("1", "ana@acme.example")
    lead = crm.lead("105", owner=ana)
    crm.event(lead, "stage", MQL, "2026-10-05 10:00")
    crm.event(lead, "status", "OPEN_MQL", "2026-10-06 10:00")
    crm.event(lead, "status", "IN_PROGRESS", "2026-10-08 10:00")
    crm.event(lead, "status", "OPEN_MQL", "2026-10-09 10:00")
    crm.event(lead, "stage", "salesqualifiedlead", "2026-10-12 10:00")
    crm.event(lead, "status", "OPEN_MQL", "2026-10-15 10:00")
    result = audit(crm, sla)
    assert result.rule("mql_volume").measured == 2
    violations = {v.handoff_at for v in result.rule("speed_to_lead").violations}
    assert violations == {crm.at("2026-10-05 10:00"), crm.at("2026-10-15 10:00")}


def test_two_mql_fields_set_at_the_same_instant_are_one_handoff(crm):
    sla = make_sla(**{"funnel.hubspot.mql": {"stage": [MQL], "status": ["OPEN_MQL"]}})
    ana = crm.owner("1", "ana@acme.example")
    lead = crm.lead("106", owner=ana)
    crm.event(lead, "stage", MQL, "2026-10-05 10:00")
    crm.event(lead, "status", "OPEN_MQL", "2026-10-05 10:00")
    assert audit(crm, sla).rule("mql_volume").measured == 1


def test_handoff_instants_round_by_round():
    # Lead 1: mql at 10 (stage), 20 (stage, re-stamp), stage out at 30, mql at 30 (status),
    # recycled at 50, mql at 60 (stage). Handoffs: 10, 30 (left at 30, entry at ≥ 30), 60.
    # Lead 2: a single mql event at 5.
    into = pd.DataFrame(
        {
            "lead_key": [1, 1, 1, 1, 2],
            "field": ["stage", "stage", "status", "stage", "stage"],
            "event_ns": [10, 20, 30, 60, 5],
        }
    )
    out_of = pd.DataFrame({"lead_key": [1], "field": ["stage"], "event_ns": [30]})
    recycled = pd.DataFrame({"lead_key": [1], "event_ns": [50]})
    got = handoff_instants(into, out_of, recycled).sort_values(["lead_key", "event_ns"])
    assert got.to_numpy(dtype=np.int64).tolist() == [[1, 10], [1, 30], [1, 60], [2, 5]]
