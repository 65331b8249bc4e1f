"""Report writers: they format a hand-made AuditResult and must never change a figure.

The result below is what an October audit of a small team could return: seven rules, three
reps plus "unassigned", and CRM values a hostile or careless user could type (a formula, a
script tag, accents, an escape character).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import stat
from collections import Counter
from pathlib import Path

import pytest
from rich.cells import cell_len

from audit.reports import ReportError, write_report
from audit.reports.csv_report import spreadsheet_cell
from audit.result import (
    RULE_IDS,
    AuditResult,
    PendingHandoff,
    RepRow,
    RuleResult,
    Violation,
)
from audit.rules import RULE_TITLES

ANSI = re.compile(r"\x1b\[")
RICH_CODES = re.compile(r"\x1b\[[0-9;]*m|\x1b\]8;[^\x1b]*\x1b\\")  # colours and links
BOM = "\ufeff".encode()
FORMULA = '=HYPERLINK("http://x")'
SCRIPT = "<script>alert(1)</script>"
JOAO = "João Ñúñez"
ANA = "ana@acme.example"
BRUNO = "bruno@acme.example"
JOAO_REP = "joao@acme.example"


def violation(
    rule: str, rep: str, crm_id: str, handoff_at: str, reason: str, lead_name: str = ""
) -> Violation:
    """One evidence row; ``lead_name`` lands in the reason the way a rule would quote it."""
    return Violation(
        rule=rule,
        lead=f"hubspot:{crm_id}",
        crm_id=crm_id,
        rep=rep,
        handoff_at=handoff_at,
        reason=f"{lead_name}: {reason}" if lead_name else reason,
        url=f"https://app.hubspot.com/contacts/1/record/0-1/{crm_id}",
        source="hubspot",
        kind=rule,
        instants={"handoff_at": handoff_at, "first_attempt_at": None},
    )


def october_result() -> AuditResult:
    """A realistic October audit: speed to lead fails, coverage warns, the rest pass."""
    speed = RuleResult(
        id="speed_to_lead",
        status="fail",
        measured=0.82,  # 41 of 50 judged handoffs touched within 5 business minutes
        target=0.9,
        judged=50,
        pending=3,
        details={"median_minutes": 4.0, "p90_minutes": 31.0},
        reps=[
            RepRow(ANA, "speed_to_lead", 0.9, 10, pending=1, violations=1),
            RepRow(BRUNO, "speed_to_lead", 0.7, 20, pending=0, violations=6),
            RepRow(JOAO_REP, "speed_to_lead", 0.95, 20, pending=2, violations=1),
            RepRow("unassigned", "speed_to_lead", None, 0, pending=0, violations=0),
        ],
        violations=[
            violation("speed_to_lead", BRUNO, "205", "2026-10-14T09:00:00Z", "first touch 31m"),
            violation("speed_to_lead", ANA, "101", "2026-10-02T15:00:00Z", "no attempt", FORMULA),
            violation("speed_to_lead", BRUNO, "201", "2026-10-03T10:00:00Z", "first touch 9m"),
            violation("speed_to_lead", JOAO_REP, "301", "2026-10-05T11:00:00Z", "late", JOAO),
            violation("speed_to_lead", BRUNO, "202", "2026-10-06T12:00:00Z", "late", SCRIPT),
            violation("speed_to_lead", BRUNO, "203", "2026-10-07T12:00:00Z", "first touch 7m"),
            violation("speed_to_lead", BRUNO, "204", "2026-10-09T12:00:00Z", "first touch 6m"),
            violation("speed_to_lead", BRUNO, "206", "2026-10-20T12:00:00Z", "first touch 8m"),
        ],
        pending_handoffs=[
            PendingHandoff(
                rule="speed_to_lead",
                lead="hubspot:399",
                crm_id="399",
                rep=JOAO_REP,
                handoff_at="2026-10-31T17:55:00Z",
                decided_by="2026-11-02T09:05:00Z",
                url=None,
            ),
        ],
    )
    coverage = RuleResult(
        id="coverage",
        status="warn",
        measured=41 / 49,  # 0.8367346938775511: warns (≥ 0.81), must survive unrounded
        target=0.9,
        judged=49,
        pending=5,
        reps=[RepRow(BRUNO, "coverage", 0.25, 20, violations=2)],
        violations=[
            violation("coverage", BRUNO, "203", "2026-10-07T12:00:00Z", "no attempt in 2 days"),
            violation("coverage", ANA, "102", "2026-10-08T08:00:00Z", "not worked", "-1 Corp"),
        ],
    )
    rules = {
        "mql_volume": RuleResult(
            "mql_volume",
            "pass",
            612.0,
            600.0,
            612,
            0,
            reps=[
                RepRow(ANA, "mql_volume", 200.0, 200),
                RepRow("unassigned", "mql_volume", 12.0, 12),
            ],
        ),
        "mql_per_rep": RuleResult(
            "mql_per_rep",
            "pass",
            1.0,
            1.0,
            3,
            0,
            reps=[RepRow(ANA, "mql_per_rep", 200.0, 200)],
        ),
        "speed_to_lead": speed,
        "coverage": coverage,
        "attempts": RuleResult("attempts", "pass", 0.93, 0.9, 40, 8, details={"min_attempts": 3}),
        "recycling": RuleResult(
            "recycling",
            "pass",
            1.0,
            0.95,
            4,
            0,
            details={"premature": 0, "no_reason": 0, "stuck": 0},
        ),
        "conversion": RuleResult(
            "conversion",
            "n/a",
            None,
            0.2,
            0,
            0,
            details={
                "period_complete": False,
                "by_segment": {"smb": {"handoffs": 0, "share": None}},
                "by_lead_source": {},
            },
        ),
    }
    return AuditResult(
        sla=f"Acme × {JOAO} agency",
        period="2026-10",
        as_of="2026-11-01T03:00:00Z",
        timezone="Europe/Lisbon",
        rules=[rules[rule_id] for rule_id in RULE_IDS],
        data_notes=["2 deleted leads left out", "1 lead without owner counted as unassigned"],
    )


def plain_table(result: AuditResult) -> str:
    stream = io.StringIO()
    assert write_report(result, "table", None, stream=stream) == []
    return stream.getvalue()


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


# --- JSON -------------------------------------------------------------------------------

CONTRACT_TYPES: dict[str, type | tuple[type, ...]] = {
    "sla": str,
    "period": str,
    "as_of": str,
    "status": str,
    "rules": list,
    "reps": list,
    "violations": list,
    "data_notes": list,
}
# Additive fields documented in audit/result.py; anything else is a contract change.
ADDITIVE = {
    "top": {"timezone", "pending", "provisional", "coverage", "data_start", "teams"}
    | {"rep_min_judged"},
    "reps": {"pending", "violations", "rep_name", "judgeable", "interval"},
    # issue 15, item 7: the names beside the keys
    "violations": {
        "source",
        "kind",
        "instants",
        "tier",
        "lead_name",
        "company",
        "email",
        "rep_name",
        "attributed_to",
    },
    "rules": {"by_segment", "by_lead_source", "by_tier"},
}
NUMBER = (int, float)
OPTIONAL_NUMBER = (int, float, type(None))


def test_json_has_exactly_the_design_contract_keys_and_types():
    doc = json.loads(write_json_text(october_result()))

    assert set(doc) == set(CONTRACT_TYPES) | ADDITIVE["top"]
    for key, kind in CONTRACT_TYPES.items():
        assert isinstance(doc[key], kind), key
    assert doc["status"] == "fail"  # worst rule: speed_to_lead
    assert all(isinstance(note, str) for note in doc["data_notes"])

    assert [r["id"] for r in doc["rules"]] == list(RULE_IDS)
    for rule in doc["rules"]:
        assert (
            set(rule)
            == {"id", "status", "measured", "target", "judged", "pending", "details"}
            | ADDITIVE["rules"]
        )
        assert rule["status"] in {"pass", "warn", "fail", "n/a"}
        assert isinstance(rule["measured"], OPTIONAL_NUMBER)
        assert isinstance(rule["target"], OPTIONAL_NUMBER)
        assert type(rule["judged"]) is int and type(rule["pending"]) is int
        assert isinstance(rule["details"], dict)

    for rep in doc["reps"]:
        assert set(rep) == {"rep", "rule", "measured", "judged"} | ADDITIVE["reps"]
        assert isinstance(rep["rep"], str) and rep["rule"] in RULE_IDS
        assert isinstance(rep["measured"], OPTIONAL_NUMBER) and type(rep["judged"]) is int

    base = {"rule", "lead", "crm_id", "rep", "handoff_at", "reason", "url"}
    for v in doc["violations"]:
        assert set(v) == base | ADDITIVE["violations"]
        assert all(isinstance(v[k], str) for k in base - {"url"})
        assert isinstance(v["url"], str | None)


def write_json_text(result: AuditResult) -> str:
    stream = io.StringIO()
    write_report(result, "json", None, stream=stream)
    return stream.getvalue()


def test_json_round_trips_floats_and_names_exactly():
    result = october_result()
    text = write_json_text(result)

    assert json.loads(text) == result.to_dict()
    assert text.endswith("}\n")
    assert "0.8367346938775511" in text  # not rounded to 0.837
    assert JOAO in text and "\\u" not in text  # UTF-8, not escapes


def test_json_to_a_file_is_owner_only_and_returns_its_path(tmp_path):
    out = tmp_path / "reports" / "october.json"

    assert write_report(october_result(), "json", out) == [out]
    assert json.loads(out.read_text(encoding="utf-8"))["sla"] == f"Acme × {JOAO} agency"
    assert mode(out) == 0o600
    assert mode(out.parent) == 0o700


def test_rewriting_a_world_readable_report_makes_it_owner_only(tmp_path):
    out = tmp_path / "october.json"
    out.write_text("old")
    out.chmod(0o644)

    write_report(october_result(), "json", out)

    assert mode(out) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["october.json"]  # no temp file left


# --- table ------------------------------------------------------------------------------


def test_plain_table_has_no_ansi_and_shows_every_rule_with_its_status():
    text = plain_table(october_result())

    assert not ANSI.search(text) and "\x1b" not in text
    lines = text.splitlines()
    for rule_id, expected in [
        ("mql_volume", "pass"),
        ("mql_per_rep", "pass"),
        ("speed_to_lead", "fail"),
        ("coverage", "warn"),
        ("attempts", "pass"),
        ("recycling", "pass"),
        ("conversion", "n/a"),
    ]:
        row = next(line for line in lines if line.startswith(RULE_TITLES[rule_id] + " "))
        assert row.split()[len(RULE_TITLES[rule_id].split())] == expected


def test_plain_table_formats_shares_counts_and_missing_values():
    lines = plain_table(october_result()).splitlines()
    speed = next(line for line in lines if line.startswith("Speed to lead"))
    volume = next(line for line in lines if line.startswith("MQL volume"))
    per_rep = next(line for line in lines if line.startswith("MQLs per rep"))
    conversion = next(line for line in lines if line.startswith("MQL→SQL"))

    assert "82.0%" in speed and "90.0%" in speed  # shares: one decimal
    assert "median 4 min (business), p90 31 min (business)" in speed  # issue 16, item 5
    assert volume.split()[3:5] == ["612", "600"]  # counts as integers
    assert "100.0%" in per_rep  # mql_per_rep.measured is a share of reps
    assert "—" in conversion  # None


def test_long_details_are_cut_in_the_table_and_left_whole_to_the_json(tmp_path):
    """Issue 16 changed the CSV on purpose: its 1,900-character ``details`` column is gone
    (the summary carries the rule's sentence); the JSON keeps every detail."""
    result = october_result()
    split = {f"segment {i}": {"handoffs": 10, "share": 0.25} for i in range(30)}
    result.rule("conversion").details["by_segment"] = split

    row = next(line for line in plain_table(result).splitlines() if line.startswith("MQL→SQL"))
    write_report(result, "csv", tmp_path)
    summary = read_csv(tmp_path / "summary.csv")
    document = json.loads(write_json_text(result))

    assert row.endswith("…") and "segment 0: handoffs 10, share 25.0%" in row
    assert all(len(value) < 400 for r in summary for value in r.values())
    assert "details" not in summary[0]
    conversion = next(r for r in document["rules"] if r["id"] == "conversion")
    assert conversion["details"]["by_segment"]["segment 29"] == {"handoffs": 10, "share": 0.25}


def test_plain_table_header_names_sla_period_as_of_and_overall_status():
    first = plain_table(october_result()).splitlines()[0]

    assert f"Acme × {JOAO} agency" in first
    # The SLA's clock with its offset (issue 16, item 5): Lisbon is on UTC+0 in November.
    assert "2026-10" in first and "as of 2026-11-01 03:00 +00:00 (Europe/Lisbon)" in first
    assert first.endswith("status fail")


def test_plain_table_columns_line_up():
    lines = plain_table(october_result()).splitlines()
    start = lines.index("Rules")
    header, rule_line = lines[start + 1], lines[start + 2]
    rows = lines[start + 3 : start + 3 + len(RULE_IDS)]

    status_col = header.index("status")
    assert rule_line[status_col - 2 : status_col] == "  "
    assert all(row[status_col - 2 : status_col] == "  " for row in rows)


def test_plain_columns_line_up_with_wide_characters():
    result = october_result()
    result.rule("coverage").reps.append(RepRow("田中@acme.example", "coverage", 0.5, 2))
    lines = plain_table(result).splitlines()
    start = lines.index("Reps (worst first)")
    header, rows = lines[start + 1], lines[start + 3 : start + 8]

    def second_column_end(line: str, text: str) -> int:
        """Terminal cell where ``text`` (after the rep column) ends on ``line``."""
        return cell_len(line[: line.index(text, len(line.split()[0])) + len(text)])

    assert any(row.startswith("田中") for row in rows)
    header_end = second_column_end(header, "rules with violations")
    assert {second_column_end(row, row.split()[1]) for row in rows} == {header_end}


def test_reps_are_listed_worst_first_with_a_column_per_rule():
    lines = plain_table(october_result()).splitlines()
    start = lines.index("Reps (worst first)")
    header = lines[start + 1]
    reps = [line.split()[0] for line in lines[start + 3 : start + 7]]

    # bruno: violations in 2 rules; ana: 1 rule (1 violation); joao: 1 rule; unassigned: none
    assert reps == [BRUNO, ANA, JOAO_REP, "unassigned"]
    for rule_id in ("mql_volume", "mql_per_rep", "speed_to_lead", "coverage"):
        assert RULE_TITLES[rule_id] in header
    ana = next(line for line in lines[start:] if line.startswith(ANA))
    assert "200" in ana.split() and "90.0%" in ana.split()  # counts for mql_*, share for speed


def test_table_lists_the_first_20_violations_and_points_to_the_csv():
    result = october_result()
    speed = result.rule("speed_to_lead")
    speed.violations += [
        violation("speed_to_lead", BRUNO, str(900 + i), f"2026-10-21T{i:02d}:00:00Z", "late")
        for i in range(20)
    ]
    total = len(result.violations)  # 10 + 20 = 30

    text = plain_table(result)

    # Worst rep first (issue 16, item 4): bruno has 6 + 20 late touches and 1 coverage
    # miss = 27, ana 2, joao 1. The first 20 are bruno's; the 10 left are from all 3 reps.
    assert f"Violations ({total}), worst rep first" in text
    assert "… and 10 more violations from 3 reps (of 3); all 30 are in violations.csv" in text
    shown = text.split("worst rep first")[1].split("… and")[0]
    assert shown.count(BRUNO) == 20 and ANA not in shown


def test_hostile_crm_text_cannot_restyle_the_table(monkeypatch):
    monkeypatch.setenv("COLUMNS", "400")  # rich wraps at 80 columns otherwise
    result = october_result()
    result.rule("coverage").violations[0].reason = "\x1b[2J[bold red]gotcha[/]\nnext"

    plain = plain_table(result)
    stream = io.StringIO()
    write_report(result, "table", None, stream=stream, color=True)
    colored = stream.getvalue()
    rich_text = RICH_CODES.sub("", colored)

    assert "\x1b" not in plain and " [2J[bold red]gotcha[/] next" in plain
    assert "\x1b[2J" not in colored and "\x1b" not in rich_text
    assert "[bold red]gotcha[/]" in rich_text  # shown literally, not as markup


def test_color_table_uses_ansi_and_keeps_names():
    stream = io.StringIO()
    write_report(october_result(), "table", None, stream=stream, color=True)

    assert ANSI.search(stream.getvalue())
    assert JOAO in stream.getvalue()


def test_table_to_a_file_is_plain_unless_color_is_asked(tmp_path):
    out = tmp_path / "october.txt"

    write_report(october_result(), "table", out)

    assert "\x1b" not in out.read_text(encoding="utf-8")
    assert mode(out) == 0o600


# --- CSV --------------------------------------------------------------------------------
# Issue 16 (item 6) changed the CSV columns on purpose: headers in words, shares as
# percentages with one decimal, local times with their UTC offset, the rep × rule grid.
# tests/test_reports_csv.py reads the files back with pandas and covers the rest.

RULE_BY_TITLE = {title: rule_id for rule_id, title in RULE_TITLES.items()}


@pytest.fixture
def csv_folder(tmp_path) -> Path:
    folder = tmp_path / "october"
    paths = write_report(october_result(), "csv", folder)
    assert [p.name for p in paths] == [
        "summary.csv",
        "reps.csv",
        "violations.csv",
        "pending.csv",
        "splits.csv",
    ]
    return folder


def test_csv_files_start_with_a_bom_use_crlf_and_are_owner_only(csv_folder):
    assert mode(csv_folder) == 0o700
    for name in ("summary.csv", "reps.csv", "violations.csv", "pending.csv"):
        raw = (csv_folder / name).read_bytes()
        assert raw.startswith(BOM), name
        assert raw.count(b"\r\n") == raw.count(b"\n") > 0, name
        assert mode(csv_folder / name) == 0o600, name


def test_summary_csv_has_one_row_per_rule_with_figures_rounded_for_people(csv_folder):
    rows = read_csv(csv_folder / "summary.csv")

    assert [RULE_BY_TITLE[r["Rule"]] for r in rows] == list(RULE_IDS)
    assert [r["Rule id"] for r in rows] == list(RULE_IDS)
    assert {r["SLA"] for r in rows} == {f"Acme × {JOAO} agency"}
    assert {r["Overall status"] for r in rows} == {"fail"}
    assert {r["Time zone"] for r in rows} == {"Europe/Lisbon"}
    speed = next(r for r in rows if r["Rule"] == "Speed to lead")
    assert speed["Status"] == "fail"
    figures = ("Measured", "Target", "Unit", "Judged", "Compliant", "Pending", "Violations")
    # 0.82 and 0.9 as percentages; 0.82 × 50 judged = 41 compliant; 8 violation rows
    assert [speed[k] for k in figures] == ["82.0", "90.0", "%", "50", "41", "3", "8"]
    assert (speed["Median time"], speed["90th percentile time"]) == (
        "4 min (business)",
        "31 min (business)",
    )
    assert speed["In words"].startswith("41 of 50 judged handoffs")
    coverage = next(r for r in rows if r["Rule"] == "Coverage")
    assert coverage["Measured"] == "83.7"  # 41 / 49 = 0.83673…, one decimal
    volume = next(r for r in rows if r["Rule"] == "MQL volume")
    assert (volume["Measured"], volume["Target"], volume["Unit"]) == ("612", "600", "count")
    conversion = next(r for r in rows if r["Rule id"] == "conversion")
    assert (conversion["Status"], conversion["Measured"]) == ("no data", "")  # not 0


def test_csv_numbers_are_not_quoted(csv_folder):
    text = (csv_folder / "summary.csv").read_text(encoding="utf-8-sig")

    assert ",82.0,90.0,%,50,41,3,8," in text
    assert '"82.0"' not in text and "'82.0" not in text


def test_csv_neutralises_formula_cells(csv_folder):
    rows = read_csv(csv_folder / "violations.csv")
    reasons = {r["CRM id"]: r["Reason"] for r in rows}

    assert reasons["101"] == f"'{FORMULA}: no attempt"
    assert reasons["102"] == "'-1 Corp: not worked"
    assert reasons["202"] == f"{SCRIPT}: late"  # not a formula: kept as typed
    assert reasons["301"] == f"{JOAO}: late"
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value


def test_spreadsheet_cell_quotes_text_but_not_numbers():
    assert spreadsheet_cell(-3.5) == -3.5
    assert spreadsheet_cell(-2) == -2
    assert spreadsheet_cell("-2") == "'-2"
    assert spreadsheet_cell("+1 555") == "'+1 555"
    assert spreadsheet_cell("@SUM(A1)") == "'@SUM(A1)"
    assert spreadsheet_cell("\tx") == "'\tx"
    assert spreadsheet_cell("\rx") == "'\rx"
    assert spreadsheet_cell(None) == ""

    stream = io.StringIO()
    csv.writer(stream).writerow([spreadsheet_cell(v) for v in (-3.5, "=1+1")])
    assert stream.getvalue() == "-3.5,'=1+1\r\n"


def test_violations_csv_is_worst_rep_first_then_handoff_time_then_rule(csv_folder):
    rows = read_csv(csv_folder / "violations.csv")
    per_rep = Counter(r["Rep"] for r in rows)
    keys = [
        (-per_rep[r["Rep"]], r["Rep"], r["Handed off"], RULE_IDS.index(RULE_BY_TITLE[r["Rule"]]))
        for r in rows
    ]

    assert keys == sorted(keys)
    assert len(rows) == 10
    # bruno's lead 203 broke two rules at the same handoff: speed to lead before coverage
    bruno_203 = [r["Rule"] for r in rows if r["CRM id"] == "203"]
    assert bruno_203 == ["Speed to lead", "Coverage"]


def test_violations_csv_carries_source_link_and_local_instants(csv_folder):
    with (csv_folder / "violations.csv").open(encoding="utf-8-sig", newline="") as f:
        header = next(csv.reader(f))
    rows = read_csv(csv_folder / "violations.csv")
    ana = next(r for r in rows if r["CRM id"] == "101")

    # issue 15, item 7 added the rep's and the lead's names beside their keys
    assert header[:13] == [
        "Rep",
        "Rep name",
        "Rule",
        "Handed off",
        "Handed off UTC offset",
        "Lead",
        "Lead name",
        "Company",
        "CRM id",
        "Source",
        "Kind",
        "Reason",
        "Link",
    ]
    assert header[13:] == [
        "Handoff",
        "Handoff UTC offset",
        "First attempt",
        "First attempt UTC offset",
    ]
    assert ana["Source"] == "hubspot" and ana["Link"].startswith("https://app.hubspot.com/")
    # 2026-10-02T15:00:00Z is 16:00 in Lisbon (summer time, UTC+01:00)
    assert (ana["Handed off"], ana["Handed off UTC offset"]) == ("2026-10-02 16:00:00", "UTC+01:00")
    assert ana["Handoff"] == ana["Handed off"]
    assert (ana["First attempt"], ana["First attempt UTC offset"]) == ("", "")


def test_reps_csv_is_the_rep_by_rule_grid_worst_first_and_pending_csv_is_local(csv_folder):
    reps = read_csv(csv_folder / "reps.csv")
    pending = read_csv(csv_folder / "pending.csv")

    assert list(reps[0])[:7] == [
        "Rep",
        "Rep name",  # issue 15, item 7 (empty here: this result names no one)
        "Rules with violations",
        "Violations",
        "MQL volume (count)",
        "MQL volume judged",
        "MQL volume violations",
    ]
    # bruno broke 2 rules (8 rows); ana and joão 1 each (tie: by name); unassigned none
    assert [r["Rep"] for r in reps] == [BRUNO, ANA, JOAO_REP, "unassigned"]
    bruno = reps[0]
    assert (bruno["Speed to lead (%)"], bruno["Speed to lead judged"]) == ("70.0", "20")
    assert (bruno["Coverage (%)"], bruno["Coverage violations"]) == ("25.0", "2")
    assert bruno["MQL volume (count)"] == ""  # no row for bruno under that rule
    unassigned = reps[-1]
    assert unassigned["MQL volume (count)"] == "12"
    assert (unassigned["Speed to lead (%)"], unassigned["Speed to lead judged"]) == ("", "0")
    assert pending == [
        {
            "Rep": JOAO_REP,
            "Rep name": "",
            "Rule": "Speed to lead",
            "Handed off": "2026-10-31 17:55:00",  # Lisbon is back on UTC on 25 October
            "Handed off UTC offset": "UTC+00:00",
            "Lead": "hubspot:399",
            "Lead name": "",
            "Company": "",
            "CRM id": "399",
            "Decided by": "2026-11-02T09:05:00Z",  # what decides it: text as the rule gives it
            "Link": "",
        }
    ]


def test_csv_without_out_asks_for_a_folder():
    with pytest.raises(ReportError, match=r"--format csv writes a folder: pass --out DIR"):
        write_report(october_result(), "csv", None)


def test_csv_into_a_file_path_is_refused(tmp_path):
    existing = tmp_path / "report.csv"
    existing.write_text("x")

    with pytest.raises(ReportError, match="is a file"):
        write_report(october_result(), "csv", existing)


def test_unknown_format_is_a_report_error():
    with pytest.raises(ReportError, match="unknown report format"):
        write_report(october_result(), "pdf", None)  # type: ignore[arg-type]


def test_violations_are_worst_rep_first_and_grouped() -> None:
    """Issue 16, item 4: the rep with the most violations heads every list, rows together."""
    from audit.reports.ordering import sort_violations, violations_by_rep
    from audit.result import Violation

    def v(rep: str, at: str, rule: str = "speed_to_lead") -> Violation:
        return Violation(rule, f"hubspot:{rep}{at}", at, rep, at, "late", None)

    rows = [
        v("ana@x", "2026-10-01T09:00:00.000Z"),
        v("zoe@x", "2026-10-03T09:00:00.000Z"),
        v("bob@x", "2026-10-02T09:00:00.000Z"),
        v("zoe@x", "2026-10-01T09:00:00.000Z", "attempts"),
        v("bob@x", "2026-10-01T09:00:00.000Z"),
        v("zoe@x", "2026-10-02T09:00:00.000Z"),
    ]
    ordered = [(r.rep, r.handoff_at[:10]) for r in sort_violations(rows)]
    assert ordered == [
        ("zoe@x", "2026-10-01"),
        ("zoe@x", "2026-10-02"),
        ("zoe@x", "2026-10-03"),
        ("bob@x", "2026-10-01"),
        ("bob@x", "2026-10-02"),
        ("ana@x", "2026-10-01"),
    ]
    assert [(rep, len(group)) for rep, group in violations_by_rep(rows)] == [
        ("zoe@x", 3),
        ("bob@x", 2),
        ("ana@x", 1),
    ]
