"""Teams in every report, read back: the terminal table, teams.csv, the workbook's Teams
sheet, the page's teams table, and the rep tables' Team column.

The audit is tests/test_audit_teams.py's CRM (its docstring has the hand-computed
figures): inbound pooled speed to lead 75% (ana 3 of 3, bruno 0 of 1), outbound 50%,
MQLs per rep 1 of 2 reps in range in each team; elisa in no team; one unassigned handoff.
Worst first: outbound (5 rules with violations) before inbound (4), then elisa, then
unassigned.
"""

from __future__ import annotations

import csv
import io
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import pytest

from audit.handoffs import UNASSIGNED
from audit.reports import teams as report_teams
from audit.reports.csv_report import write_csv_folder
from audit.reports.html_report import render_html
from audit.reports.table import render_plain, write_table
from audit.reports.xlsx_report import write_xlsx
from audit.result import AuditResult
from tests.test_audit_teams import ANA, CARLA, DIEGO, ELISA, TEAMS, teams_crm
from tests.tiny_crm import audit, make_sla

ORDER = ["outbound", "inbound", f"{ELISA} (no team)", "unassigned"]


@pytest.fixture(scope="module")
def crm(tmp_path_factory):
    return teams_crm(tmp_path_factory.mktemp("teams") / "s.db")


@pytest.fixture(scope="module")
def result(crm) -> AuditResult:
    # Every rep ranked (min_judged 0): the tiny CRM's reps have a few handoffs each, which
    # would otherwise put them all under "too few to judge" (issue 18, item 5).
    return audit(crm, make_sla(teams=TEAMS, **{"sales.compare_reps.min_judged": 0}))


def read_csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def test_the_reports_name_unassigned_as_the_audit_does():
    assert report_teams.UNASSIGNED == UNASSIGNED


def test_terminal_table_has_a_teams_table_worst_first_and_a_team_column(result):
    text = render_plain(result)
    teams = text.split("Teams (worst first)\n", 1)[1].split("\n\n", 1)[0].splitlines()
    header, rows = teams[0].split(), teams[2:]
    assert header[:4] == ["team", "manager", "reps", "rules"]
    assert [line.split("  ")[0] for line in rows] == ORDER
    inbound = rows[1].split()
    # team, manager, reps, rules broken, violations, volume, per rep, speed to lead
    expected = ["inbound", "maria@acme.example", "2", "4", "10", "4", "50.0%", "75.0%"]
    assert inbound[:8] == expected
    assert "no data" in rows[3]  # unassigned: no rep to judge against the per-rep range
    reps = text.split("Reps (worst first)\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert reps[0].split()[:2] == ["rep", "team"]
    team_of = {line.split()[0]: line.split("  ")[1].strip() for line in reps[2:]}
    assert team_of[DIEGO] == "outbound" and team_of[ELISA] == "(no team)"
    stream = io.StringIO()
    write_table(result, stream, color=True)  # the rich tables draw the same grid
    assert "Teams (worst first)" in stream.getvalue() and "75.0%" in stream.getvalue()


def test_teams_csv_has_one_row_per_team_with_pooled_figures(result, tmp_path):
    paths = write_csv_folder(result, tmp_path / "csv")
    assert [p.name for p in paths][:3] == ["summary.csv", "reps.csv", "teams.csv"]
    rows = read_csv(tmp_path / "csv" / "teams.csv")
    assert [r["Team"] for r in rows] == ORDER
    inbound = rows[1]
    assert inbound["Manager"] == "maria@acme.example"
    assert inbound["Reps"] == f"{ANA}, bruno@acme.example"
    assert (inbound["Speed to lead (%)"], inbound["Speed to lead judged"]) == ("75.0", "4")
    assert (inbound["MQLs per rep (%)"], inbound["MQL volume (count)"]) == ("50.0", "4")
    assert rows[0]["Reps"] == f"{CARLA}, {DIEGO}"
    assert (rows[2]["Manager"], rows[2]["Reps"]) == ("", ELISA)
    assert (rows[3]["MQLs per rep (%)"], rows[3]["MQLs per rep judged"]) == ("", "0")
    reps = {r["Rep"]: r["Team"] for r in read_csv(tmp_path / "csv" / "reps.csv")}
    assert reps == {
        CARLA: "outbound",
        UNASSIGNED: "",
        ANA: "inbound",
        "bruno@acme.example": "inbound",
        ELISA: "(no team)",
        DIEGO: "outbound",
    }


def test_without_teams_no_teams_csv_and_a_stale_one_is_removed(crm, result, tmp_path):
    folder = tmp_path / "csv"
    write_csv_folder(result, folder)
    plain = audit(crm)
    names = [p.name for p in write_csv_folder(plain, folder)]
    assert "teams.csv" not in names and not (folder / "teams.csv").exists()
    assert "Team" not in read_csv(folder / "reps.csv")[0]
    assert "Teams (worst first)" not in render_plain(plain)
    assert 'id="teams"' not in render_html(plain)


def test_workbook_has_a_teams_sheet_with_typed_shares(result, tmp_path):
    path = write_xlsx(result, tmp_path / "report.xlsx")
    book = openpyxl.load_workbook(path)
    # the audit's speed → outcome sheet (issue 18) comes last
    assert book.sheetnames == [
        "Summary",
        "Reps",
        "Teams",
        "Violations",
        "Pending",
        "Splits",
        "Trend",
        "Speed_outcome",
    ]
    sheet = book["Teams"]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    header = rows[0]
    assert [r[0] for r in rows[1:]] == ORDER
    inbound = dict(zip(header, rows[2], strict=True))
    assert inbound["Speed to lead (%)"] == 0.75
    assert sheet.cell(3, header.index("Speed to lead (%)") + 1).number_format == "0.0%"
    assert inbound["Speed to lead violations"] == 1
    assert sheet.freeze_panes == "B2"
    reps = [list(r) for r in book["Reps"].iter_rows(values_only=True)]
    assert reps[0][:3] == ["Rep", "Rep name", "Team"]  # the name: issue 15, item 7


class Tables(HTMLParser):
    """Each table's rows (by the table's id) as lists of their cells' text."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table: str | None = None
        self._cell: list[str] | None = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self._table = dict(attrs).get("id") or ""
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None:
            self.tables[self._table].append([])
        elif tag in {"td", "th"} and self._table is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in {"td", "th"} and self._cell is not None and self._table is not None:
            self.tables[self._table][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def test_page_has_a_teams_table_before_the_reps_and_a_team_column(result):
    page = render_html(result)
    assert page.index('id="rules"') < page.index('id="teams"') < page.index('id="reps"')
    tables = Tables(page).tables
    header, *rows = tables["teams-table"]
    assert header[:5] == ["team", "manager", "rules broken", "violations", "MQL volume"]
    assert [row[0] for row in rows] == [
        f"outbound{CARLA}, {DIEGO}",
        f"inbound{ANA}, bruno@acme.example",
        f"{ELISA} (no team)",
        "unassigned",
    ]
    inbound = dict(zip(header, rows[1], strict=True))
    assert inbound["Speed to lead"] == "75.0%1 ✕"
    assert inbound["MQLs per rep"] == "50.0%1 ✕"
    assert inbound["manager"] == "maria@acme.example"
    assert dict(zip(header, rows[3], strict=True))["MQLs per rep"] == "no data"
    reps_header, *reps = tables["reps-table"]
    assert reps_header[:2] == ["rep", "team"]
    # a rep's cell is the CRM name over the email (issue 15, item 7): key by the email
    assert next(row[1] for row in reps if row[0].endswith(ELISA)) == "(no team)"
