"""The demo across both CRMs: one report, each lead linked to the CRM it lives in."""

from __future__ import annotations

import json
import shlex
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from app.demo import DEMO_NOW, next_commands, run_demo
from tests.cli_helpers import run


def test_demo_with_both_crms_audits_them_in_one_report(tmp_path, capsys):
    out = tmp_path / "both"
    assert run_demo(out, size=600, seed=11, source="both") == 0
    capsys.readouterr()
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert (out / "report.xlsx").is_file() and (out / "report.html").is_file()
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


def report_files(out: Path) -> dict[str, bytes]:
    """report.json and every CSV, by path inside the report folder."""
    files = [out / "report.json", *sorted((out / "csv").glob("*.csv"))]
    return {str(f.relative_to(out)): f.read_bytes() for f in files}


def test_demo_gives_the_same_reports_every_run_and_its_next_commands_work(
    tmp_path, capsys, monkeypatch
):
    for name in ("HUBSPOT_ACCESS_TOKEN", "SALESFORCE_ACCESS_TOKEN", "SALESFORCE_USERNAME"):
        monkeypatch.delenv(name, raising=False)  # status expects only what the demo synced
    first, second = tmp_path / "first", tmp_path / "second"
    assert run_demo(first, size=50, seed=3) == 0
    table = capsys.readouterr().out
    assert run_demo(second, size=50, seed=3) == 0
    printed = capsys.readouterr()
    # Same CRM, same as-of: byte for byte, whatever the clock says (the sync ran later).
    assert report_files(first) == report_files(second)
    assert printed.out == table
    assert json.loads((first / "report.json").read_text())["as_of"].startswith("2026-11-16T09")

    steps = [line.strip() for line in printed.err.splitlines() if line.startswith("  ")]
    assert len(steps) == 4 and "sandbox" in steps[-1]
    results = {}
    for step in steps[:3]:  # audit, plan, status, exactly as printed (program dropped)
        words = shlex.split(step)
        words = words[2:] if words[0] == "python" else words[1:]
        assert words[words.index("--db") + 1] == str(second / "snapshot.db")
        results[words[0]] = run(capsys, *words)
    code, out, _ = results["audit"]
    assert out == table  # the same numbers as the demo printed
    verdict = json.loads((second / "report.json").read_text())["status"]
    assert code == (1 if verdict == "fail" else 0)
    assert results["plan"][0] == 0 and "MQLs needed" in results["plan"][1]
    assert results["status"][0] == 0 and "last successful: ok at" in results["status"][1]


def test_now_gives_data_up_to_the_current_hour(tmp_path, capsys):
    before = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    code, _, err = run(capsys, "demo", "--out", str(tmp_path / "fresh"), "--size", "50", "--now")
    after = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    assert code == 0
    report = json.loads((tmp_path / "fresh" / "report.json").read_text())
    hours = {f"{hour:%Y-%m-%dT%H}" for hour in (before, after)}
    assert report["as_of"][:13] in hours  # not the fixed demo instant
    assert f"as of {report['as_of'][:13]}:00:00Z; next, try:" in err


def test_demo_never_replaces_a_snapshot_it_did_not_write(tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    real = out / "snapshot.db"
    with sqlite3.connect(real) as conn:
        conn.execute("create table owners (id text, email text)")
        conn.execute("insert into owners values ('hubspot:1', 'maria@realco.com')")
    conn.close()
    before = real.read_bytes()
    code, _, err = run(capsys, "demo", "--out", str(out), "--size", "50")
    assert code == 2
    assert "not a demo snapshot" in err and "--out" in err
    assert real.read_bytes() == before


def test_readme_shows_the_next_commands_the_demo_prints(monkeypatch):
    root = Path(__file__).resolve().parent.parent
    monkeypatch.chdir(root)  # where a newcomer runs the README's first command
    readme = (root / "README.md").read_text(encoding="utf-8")
    printed = next_commands(
        Path("sla-report/snapshot.db"), "2026-10", DEMO_NOW, Path("sla-report/demo-sla.yaml")
    )
    assert "```bash\n" + "\n".join(printed) + "\n```" in readme
