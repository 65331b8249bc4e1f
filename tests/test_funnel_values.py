"""The SLA's funnel values checked against the CRM's data (issue 15, item 3): a label
written where the internal value belongs, or a typo, is a warning naming the SLA key and
the value to write, in the audit's data notes and in ``check --db``; never a quiet zero."""

from __future__ import annotations

import sqlite3

import pytest
import yaml

from audit.period import AuditInputError
from run_audit import main
from tests.tiny_crm import AS_OF, BASE_SLA, TinyCRM, audit, audit_snapshot, make_sla

LABEL = "Marketing Qualified Lead"


@pytest.fixture
def crm(tmp_path):
    crm = TinyCRM(tmp_path / "s.db")
    ana = crm.owner("1", "ana@acme.example")
    lead = crm.lead("101", owner=ana)
    crm.mql(lead, "2026-10-05 10:00")
    crm.event(lead, "status", "UNQUALIFIED", "2026-10-20 10:00")
    return crm


def test_a_label_for_a_value_is_named_with_the_value_to_write(crm):
    sla = make_sla(**{"funnel.hubspot.mql": {"stage": [LABEL]}})
    result = audit(crm, sla)
    assert result.rule("mql_volume").measured == 0
    assert (
        "funnel.hubspot.mql.stage: 'Marketing Qualified Lead' never occurs in the snapshot; "
        "the CRM's own value is 'marketingqualifiedlead': write that, not its label"
    ) in result.data_notes


def test_a_typo_gets_did_you_mean_and_an_unknown_value_lists_the_crms(crm):
    sla = make_sla(
        **{
            "funnel.hubspot.recycled": {"status": ["UNQUALIFED", "NOT_A_FIT"]},
        }
    )
    notes = audit(crm, sla).data_notes
    assert (
        "funnel.hubspot.recycled.status: 'UNQUALIFED' never occurs in the snapshot; "
        "did you mean 'UNQUALIFIED'?"
    ) in notes
    assert (
        "funnel.hubspot.recycled.status: 'NOT_A_FIT' never occurs in the snapshot; "
        "the CRM's values there are 'UNQUALIFIED'"
    ) in notes


def test_values_in_use_and_sources_without_data_give_no_warning(crm):
    # The base SLA maps Salesforce too; this snapshot holds no Salesforce lead: not judged.
    # marketingqualifiedlead and UNQUALIFIED are in use; the later stages and BAD_TIMING
    # are not (yet), and say so.
    notes = [n for n in audit(crm).data_notes if "never occurs" in n]
    assert [n.split(":")[0] for n in notes] == [
        "funnel.hubspot.sql.stage",
        "funnel.hubspot.opportunity.stage",
        "funnel.hubspot.customer.stage",
        "funnel.hubspot.recycled.status",
    ]
    assert "'BAD_TIMING'" in notes[-1]
    assert not [n for n in notes if "salesforce" in n]


def test_a_value_first_taken_after_as_of_is_not_seen_yet(crm):
    # UNQUALIFIED is first taken 10-20 10:00; as of 10-10 BAD_TIMING and it are unseen, but
    # the field has a value then (the stage at 10-05), so the status field... has none yet:
    # a field without any value by as-of is not judged.
    notes = audit(crm, make_sla(), as_of="2026-10-10 10:00").data_notes
    assert not [n for n in notes if "recycled.status" in n]
    later = audit(crm, make_sla(), as_of="2026-10-21 10:00").data_notes
    assert [n for n in later if "recycled.status" in n] == [
        "funnel.hubspot.recycled.status: 'BAD_TIMING' never occurs in the snapshot; "
        "the CRM's values there are 'UNQUALIFIED'"
    ]


def test_check_with_db_warns_and_still_exits_0(crm, tmp_path, capsys):
    crm.save()
    sla_file = tmp_path / "sla.yaml"
    data = yaml.safe_load(yaml.safe_dump(BASE_SLA))
    data["funnel"]["hubspot"]["mql"] = {"stage": [LABEL]}
    sla_file.write_text(yaml.safe_dump(data), encoding="utf-8")
    code = main(["check", "--sla", str(sla_file), "--db", str(crm.path)])
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith(f"{sla_file}: 5 warning(s)")
    assert "warning: funnel.hubspot.mql.stage: 'Marketing Qualified Lead' never occurs" in out
    assert "warning: funnel.hubspot.recycled.status: 'BAD_TIMING' never occurs" in out
    with sqlite3.connect(crm.path) as db:  # check reads the snapshot, never writes data
        assert db.execute("select count(*) from leads").fetchone() == (1,)


def test_a_frequent_value_no_stage_maps_is_named_with_how_often(tmp_path):
    # 25 leads pass through a custom stage the funnel does not map, 25 through the MQL
    # stage, 25 start as 'lead' (a HubSpot default outside the funnel): 75 stage changes.
    crm = TinyCRM(tmp_path / "s.db")
    ana = crm.owner("1", "ana@acme.example")
    for n in range(25):
        lead = crm.lead(str(100 + n), owner=ana)
        crm.event(lead, "stage", "lead", "2026-10-01 09:00")
        crm.event(lead, "stage", "partnerqualifiedlead", "2026-10-02 09:00")
        crm.mql(lead, "2026-10-05 10:00")
    notes = audit(crm).data_notes
    assert (
        "funnel.hubspot: stage value 'partnerqualifiedlead' was set 25 times (33% of that "
        "field's changes) and no stage maps it; if leads are handed off, progress or are "
        "recycled with it, list it under funnel.hubspot.<stage>.stage"
    ) in notes
    assert not [n for n in notes if "'lead' was set" in n]  # a default, outside the funnel


def test_a_rare_unmapped_value_says_nothing(crm):
    lead = crm.lead("102")
    crm.event(lead, "stage", "partnerqualifiedlead", "2026-10-02 09:00")
    assert not [n for n in audit(crm).data_notes if "no stage maps it" in n]


def test_a_label_of_two_values_is_refused_in_check_and_audit(crm, tmp_path, capsys):
    # The portal labels two lifecycle stages "Qualified": which one the SLA means cannot
    # be guessed, and either guess gives other numbers.
    crm.save()
    conn = sqlite3.connect(crm.path)
    conn.executemany(
        "insert into value_labels (source, field, value, label, property, read_at) "
        "values ('hubspot', 'stage', ?, 'Qualified', 'lifecyclestage', '2026-10-01T00:00:00Z')",
        [("qualified_inbound",), ("qualified_partner",)],
    )
    conn.commit()
    conn.close()
    line = (
        "funnel.hubspot.mql.stage: 'Qualified' is the CRM's label of 2 values, "
        "'qualified_inbound' and 'qualified_partner': write the value you mean"
    )
    sla = make_sla(**{"funnel.hubspot.mql": {"stage": ["Qualified"]}})
    with pytest.raises(AuditInputError, match="write the value you mean") as refused:
        audit_snapshot(crm.path, sla, AS_OF, "2026-10")
    assert str(refused.value) == line

    data = {**BASE_SLA, "funnel": {"hubspot": {**BASE_SLA["funnel"]["hubspot"]}}}
    data["funnel"]["hubspot"]["mql"] = {"stage": ["Qualified"]}
    sla_file = tmp_path / "sla.yaml"
    sla_file.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert main(["check", "--sla", str(sla_file), "--db", str(crm.path)]) == 2
    assert capsys.readouterr().err.strip() == f"error: {line}"
