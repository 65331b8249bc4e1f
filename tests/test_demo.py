"""The demo across both CRMs: one report, each lead linked to the CRM it lives in."""

from __future__ import annotations

import json

from app.demo import run_demo


def test_demo_with_both_crms_audits_them_in_one_report(tmp_path, capsys):
    out = tmp_path / "both"
    assert run_demo(out, size=600, seed=11, source="both") == 0
    capsys.readouterr()
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    volume = next(r for r in report["rules"] if r["id"] == "mql_volume")
    assert set(volume["details"]["by_source"]) == {"hubspot", "salesforce"}
    assert volume["measured"] == sum(volume["details"]["by_source"].values())
    links = {v["source"]: v["url"] for v in report["violations"]}
    assert links["hubspot"].startswith("https://app.hubspot.com/contacts/")
    assert "/lightning/r/Lead/" in links["salesforce"]
    # The same rep (same email) in both CRMs is one row, not two.
    reps = [r["rep"] for r in report["reps"] if r["rule"] == "speed_to_lead"]
    assert len(reps) == len(set(reps))


def test_demo_on_salesforce_alone(tmp_path, capsys):
    out = tmp_path / "sf"
    assert run_demo(out, size=300, seed=5, source="salesforce") == 0
    assert "Speed to lead" in capsys.readouterr().out
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert {v["source"] for v in report["violations"]} == {"salesforce"}
