"""The command line as a user and a cron job meet it: outputs, exit codes, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from run_audit import main
from tests.cli_helpers import run
from tests.tiny_crm import TinyCRM

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_SLA = ROOT / "config" / "sla.example.yaml"
AS_OF = "2026-11-01T03:00:00Z"


@pytest.fixture
def snapshot(tmp_path: Path) -> Path:
    """October: ana touches 101 in time and recycles it properly; 102 is never touched."""
    crm = TinyCRM(tmp_path / "snapshot.db")
    ana = crm.owner("1", "ana@acme.example")
    lead = crm.lead("101", owner=ana)
    crm.event(lead, "owner", ana, "2026-09-01 08:00")
    crm.mql(lead, "2026-10-06 10:00")
    for day in range(6, 11):
        crm.activity(lead, "call", f"2026-10-{day:02d} 10:01")
    crm.event(lead, "status", "UNQUALIFIED", "2026-10-20 10:00")
    other = crm.lead("102", owner=ana)
    crm.mql(other, "2026-10-07 10:00")
    return crm.save()


def audit_october(
    capsys: pytest.CaptureFixture[str], snapshot: Path, *extra: str
) -> tuple[int, str, str]:
    """``audit`` of October 2026 under the example SLA, as of ``AS_OF``, plus ``extra``."""
    return run(
        capsys, "audit", "--sla", str(EXAMPLE_SLA), "--period", "2026-10",
        "--db", str(snapshot), "--as-of", AS_OF, *extra,
    )  # fmt: skip


def test_check_accepts_the_example_and_says_what_it_promises(capsys):
    code, out, err = run(capsys, "check", "--sla", str(EXAMPLE_SLA))
    assert code == 0, err
    assert "600 MQLs a month" in out
    assert "within 5 business minutes" in out


def test_check_reports_one_line_per_problem_with_its_path(tmp_path, capsys):
    bad = tmp_path / "sla.yaml"
    text = EXAMPLE_SLA.read_text(encoding="utf-8").replace("window: 14d", 'window: "2 weeks"')
    bad.write_text(text.replace("mqls_per_month:", "mqls_per_mont:"), encoding="utf-8")
    code, _out, err = run(capsys, "check", "--sla", str(bad))
    assert code == 2
    assert "sales.attempts.window" in err and "2 weeks" in err
    assert "marketing.mqls_per_mont" in err and "mqls_per_month" in err
    assert "Traceback" not in err


def test_audit_prints_a_plain_table_and_exits_1_when_a_rule_fails(snapshot, capsys):
    code, out, _ = audit_october(capsys, snapshot)
    assert code == 1
    assert "\x1b[" not in out  # not a terminal: no colour codes for cron mail
    for title in ("Speed to lead", "Coverage", "Attempts", "Recycling"):
        assert title in out


def test_audit_json_follows_the_contract(snapshot, tmp_path, capsys):
    out_file = tmp_path / "report.json"
    code, _, err = audit_october(capsys, snapshot, "--format", "json", "--out", str(out_file))
    assert code == 1, err
    report = json.loads(out_file.read_text(encoding="utf-8"))
    assert {"sla", "period", "as_of", "status", "rules", "reps", "violations", "data_notes"} <= set(
        report
    )
    rules = {r["id"]: r for r in report["rules"]}
    # 101 touched at 10:01 (1 business minute), 102 never: 1 of 2 compliant.
    assert rules["speed_to_lead"]["measured"] == 0.5
    assert rules["speed_to_lead"]["judged"] == 2
    assert report["violations"][0]["lead"] in {"hubspot:101", "hubspot:102"}
    assert oct(out_file.stat().st_mode & 0o777) == "0o600"


def test_a_report_written_to_a_file_says_where(snapshot, tmp_path, capsys):
    out = tmp_path / "october.html"
    code, stdout, err = audit_october(capsys, snapshot, "--format", "html", "--out", str(out))
    assert code == 1, err
    assert out.exists() and stdout == ""
    assert f"audit: wrote {out}" in err


def test_audit_csv_writes_the_folder(snapshot, tmp_path, capsys):
    folder = tmp_path / "csv"
    code, _, err = audit_october(capsys, snapshot, "--format", "csv", "--out", str(folder))
    assert code == 1, err
    assert {"summary.csv", "reps.csv", "violations.csv"} <= {p.name for p in folder.iterdir()}


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--period", "2026-13"], "YYYY-MM"),
        (["--period", "October"], "YYYY-MM"),
        (["--period", "2026-10", "--as-of", "2026-09-01T00:00:00Z"], "before the period"),
        (["--period", "2026-10", "--as-of", "yesterday"], "ISO-8601"),
    ],
)
def test_bad_audit_input_is_one_line_and_exit_2(snapshot, capsys, args, expected):
    code, _out, err = run(capsys, "audit", "--sla", str(EXAMPLE_SLA), "--db", str(snapshot), *args)
    assert code == 2
    assert expected in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_a_missing_snapshot_says_how_to_make_one(tmp_path, capsys):
    code, _, err = run(
        capsys, "audit", "--sla", str(EXAMPLE_SLA), "--period", "2026-10",
        "--db", str(tmp_path / "nope.db"),
    )  # fmt: skip
    assert code == 2
    assert "does not exist" in err and "sync" in err


def test_a_corrupt_snapshot_is_one_clear_line(tmp_path, capsys):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    code, _, err = run(
        capsys, "audit", "--sla", str(EXAMPLE_SLA), "--period", "2026-10", "--db", str(junk)
    )
    assert code == 2
    assert "not an sla-audit snapshot" in err
    assert len(err.strip().splitlines()) == 1


def test_an_unknown_source_is_refused_by_the_parser(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["sync", "--source", "pipedrive"])
    assert exit_info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_sync_without_credentials_names_the_variables(tmp_path, capsys, monkeypatch):
    for name in list(os.environ):
        if name.startswith(("HUBSPOT_", "SALESFORCE_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "sync", "--db", str(tmp_path / "s.db"))
    assert code == 2
    assert "HUBSPOT_ACCESS_TOKEN" in err


def test_plan_prints_the_sla_arithmetic(capsys):
    code, out, _ = run(capsys, "plan", "--sla", str(EXAMPLE_SLA))
    assert code == 0
    # 1,000,000 × 0.6 ÷ 20,000 = 30 customers; ÷ 0.05 = 600 MQLs a month.
    assert "= 30" in out
    assert "= 600 a month" in out


def test_plan_json_with_history_measures_rates_from_the_snapshot(snapshot, capsys):
    code, out, err = run(
        capsys, "plan", "--sla", str(EXAMPLE_SLA), "--db", str(snapshot), "--format", "json"
    )
    assert code == 0, err
    plan = json.loads(out)
    assert plan["mqls_needed"] == 600
    assert plan["active_reps"] == 1
    assert plan["mqls_per_rep"] == 600


def test_the_script_runs_as_a_program():
    done = subprocess.run(
        [sys.executable, str(ROOT / "run_audit.py"), "check", "--sla", str(EXAMPLE_SLA)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert "OK" in done.stdout


def test_demo_runs_the_whole_pipeline_on_the_sandbox(tmp_path, capsys):
    out = tmp_path / "report"
    code, stdout, err = run(capsys, "demo", "--out", str(out), "--size", "300", "--seed", "5")
    assert code == 0, err
    assert "Speed to lead" in stdout
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["sla"] == "Acme marketing–sales SLA 2026"
    assert report["rules"][0]["judged"] > 0
    assert (out / "csv" / "violations.csv").exists()
    assert (out / "report.html").exists()
    # The demo's snapshot is a normal one: plan can measure history from it.
    code, stdout, err = run(
        capsys, "plan", "--sla", str(EXAMPLE_SLA), "--db", str(out / "snapshot.db"),
        "--from-history", "2",
    )  # fmt: skip
    assert code == 0, err
    assert "Measured over" in stdout


def test_sync_then_audit_from_the_environment(tmp_path, capsys, monkeypatch, hubspot_sandbox):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", hubspot_sandbox.token)
    monkeypatch.setenv("HUBSPOT_BASE_URL", hubspot_sandbox.base_url)
    monkeypatch.setenv("SLA_AUDIT_DB", str(tmp_path / "nightly.db"))
    code, out, err = run(capsys, "sync", "--source", "hubspot")
    assert code == 0, err
    assert out.startswith("hubspot:") and "records" in out
    assert hubspot_sandbox.token not in out + err
    code, out, err = run(capsys, "audit", "--sla", str(EXAMPLE_SLA), "--period", "2026-10")
    assert code in (0, 1), err
    assert "Speed to lead" in out


def test_earlier_months_are_read_in_the_sla_time_zone():
    from zoneinfo import ZoneInfo

    from audit.period import parse_period

    # São Paulo is UTC−3: July 2026 runs from 07-01 03:00Z to 08-01 03:00Z.
    july = parse_period("2026-10", ZoneInfo("America/Sao_Paulo")).previous(3)
    assert (july.label, july.start_text, july.end_text) == (
        "2026-07",
        "2026-07-01T03:00:00.000Z",
        "2026-08-01T03:00:00.000Z",
    )
