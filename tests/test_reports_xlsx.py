"""``--format xlsx``: the workbook read back with openpyxl and pandas.

The results are those of tests/test_reports.py (October in Lisbon, hostile CRM text) and
tests/test_reports_csv.py (a provisional October in Paris across the change of clocks).
"""

from __future__ import annotations

import os
import stat
import time
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from audit.reports import ReportError, write_report
from audit.reports.xlsx_report import MAX_WIDTH
from audit.result import AuditResult, RuleResult, TrendPoint, Violation
from tests.test_cli import audit_october, snapshot  # noqa: F401 (a fixture)
from tests.test_reports import FORMULA, october_result
from tests.test_reports_csv import SEPTEMBER_END, paris_result

SHEETS = ["Summary", "Reps", "Violations", "Pending", "Splits", "Trend"]


def workbook(result: AuditResult, tmp_path: Path) -> Path:
    path = tmp_path / "report.xlsx"
    assert write_report(result, "xlsx", path) == [path]
    return path


def by_header(sheet) -> dict[str, list]:
    """A sheet's columns by header: the cells under each (header row excluded)."""
    rows = list(sheet.iter_rows())
    return {cell.value: [row[i] for row in rows[1:]] for i, cell in enumerate(rows[0])}


@pytest.fixture
def october(tmp_path: Path) -> Path:
    return workbook(october_result(), tmp_path)


def test_the_workbook_has_its_sheets_with_frozen_headers_and_is_owner_only(october):
    book = openpyxl.load_workbook(october)

    assert book.sheetnames == SHEETS
    assert [book[name].freeze_panes for name in SHEETS] == ["A2", "B2", "A2", "A2", "A2", "A2"]
    assert all(cell.font.b for cell in next(book["Summary"].iter_rows()))
    assert stat.S_IMODE(os.stat(october).st_mode) == 0o600


def test_shares_are_fractions_formatted_as_percent_and_counts_are_integers(october):
    summary = by_header(openpyxl.load_workbook(october)["Summary"])
    rules = [cell.value for cell in summary["Rule id"]]
    speed = rules.index("speed_to_lead")
    volume = rules.index("mql_volume")

    measured = summary["Measured"][speed]
    assert (measured.value, measured.number_format) == (0.82, "0.0%")  # shows 82.0%
    assert (summary["Judged"][speed].value, summary["Judged"][speed].number_format) == (50, "0")
    assert summary["Compliant"][speed].value == 41  # 0.82 × 50
    assert (summary["Measured"][volume].value, summary["Measured"][volume].number_format) == (
        612,
        "0",
    )
    conversion = rules.index("conversion")
    assert summary["Status"][conversion].value == "no data"
    assert summary["Measured"][conversion].value is None


def test_instants_are_local_datetime_cells_with_the_zone_in_the_header(october):
    violations = by_header(openpyxl.load_workbook(october)["Violations"])
    leads = [cell.value for cell in violations["Lead"]]
    ana = leads.index("hubspot:101")

    handed = violations["Handed off (Europe/Lisbon)"][ana]
    assert handed.is_date and handed.number_format == "yyyy-mm-dd hh:mm"
    assert handed.value == datetime(2026, 10, 2, 16, 0)  # 15:00 UTC in Lisbon's summer
    assert violations["Handed off UTC offset"][ana].value == "UTC+01:00"


def test_a_formula_typed_into_the_crm_stays_text(october):
    violations = by_header(openpyxl.load_workbook(october)["Violations"])
    reasons = {c.value: c for c in violations["Reason"]}

    cell = reasons[f"{FORMULA}: no attempt"]
    assert cell.data_type == "s" and cell.quotePrefix
    assert reasons["-1 Corp: not worked"].data_type == "s"
    assert not any(c.data_type == "f" for col in violations.values() for c in col)


def test_columns_are_fitted_to_their_content_and_capped(october):
    sheet = openpyxl.load_workbook(october)["Violations"]
    widths = {cell.value: sheet.column_dimensions[cell.column_letter].width for cell in sheet[1]}

    assert widths["CRM id"] == len("CRM id") + 2
    assert widths["Rep"] == len("bruno@acme.example") + 2
    assert widths["Link"] == len("https://app.hubspot.com/contacts/1/record/0-1/101") + 2
    assert max(widths.values()) <= MAX_WIDTH + 2


def test_pandas_reads_dates_as_dates_and_the_grid_as_numbers(tmp_path):
    path = workbook(paris_result(), tmp_path)
    frames = pd.read_excel(path, sheet_name=None)

    assert list(frames) == SHEETS
    violations, reps = frames["Violations"], frames["Reps"]
    assert violations["Handed off (Europe/Paris)"][0] == pd.Timestamp("2026-10-24 15:00")
    assert violations["First touch (Europe/Paris)"][0] == pd.Timestamp("2026-10-26 14:12")
    assert violations["First touch UTC offset"][0] == "UTC+01:00"  # the clocks went back
    assert reps["Rep"].tolist() == ["ana@acme.example", "bob@acme.example"]
    assert reps["Speed to lead (%)"].tolist() == [0.5, 1.0]
    assert reps["MQL volume (count)"].tolist() == [300, 283]
    summary = frames["Summary"]
    assert set(summary["Provisional"]) == {"yes — month to date"}
    assert set(summary["Data coverage"]) == {"partly covered: data starts 2026-10-12 09:30 +02:00"}
    assert summary["Target"].tolist()[0] == 583.3  # a pro-rated count keeps one decimal


def test_the_trend_sheet_says_no_data_for_a_month_without_data(tmp_path):
    result = paris_result()
    zero = {"status": "fail", "measured": 0.0, "target": 0.9, "judged": 0, "pending": 0}
    result.trend = [
        TrendPoint("2026-09", SEPTEMBER_END, "fail", {"speed_to_lead": zero}, coverage="none")
    ]
    trend = pd.read_excel(workbook(result, tmp_path), sheet_name="Trend")

    september = trend[trend["Period"] == "2026-09"].iloc[0]
    assert september["Status"] == "no data" and pd.isna(september["Measured"])
    assert trend["Period"].tolist() == ["2026-09", "2026-10", "2026-10", "2026-10"]


def test_without_a_trend_the_trend_sheet_holds_the_audited_month(october):
    trend = pd.read_excel(october, sheet_name="Trend")

    assert set(trend["Period"]) == {"2026-10"} and len(trend) == 7


def test_control_characters_from_the_crm_do_not_break_the_workbook(tmp_path):
    result = october_result()
    result.rule("speed_to_lead").violations[0].reason = "bell\x07 and escape\x1b[31m"
    sheet = openpyxl.load_workbook(workbook(result, tmp_path))["Violations"]

    reasons = [c.value for c in by_header(sheet)["Reason"]]
    assert "bell  and escape [31m" in reasons


def test_xlsx_needs_a_file_to_write(tmp_path):
    with pytest.raises(ReportError, match=r"pass --out report\.xlsx"):
        write_report(october_result(), "xlsx", None)
    with pytest.raises(ReportError, match="is a folder"):
        write_report(october_result(), "xlsx", tmp_path)


def test_the_command_line_writes_the_workbook_and_says_where(snapshot, tmp_path, capsys):  # noqa: F811
    out = tmp_path / "october.xlsx"
    code, stdout, err = audit_october(capsys, snapshot, "--format", "xlsx", "--out", str(out))

    assert code == 1, err  # the example SLA fails on the tiny CRM
    assert f"audit: wrote {out}" in err and stdout == ""
    # the example SLA declares teams, so the workbook has their sheet after the reps'; an
    # audit's result also carries speed → outcome (issue 18), its sheet last
    expected = [*SHEETS[:2], "Teams", *SHEETS[2:], "Speed_outcome"]
    assert openpyxl.load_workbook(out).sheetnames == expected
    code, _, err = audit_october(capsys, snapshot, "--format", "xlsx")
    assert code == 2 and "--format xlsx writes a workbook file: pass --out report.xlsx" in err


@pytest.mark.slow
def test_a_hundred_thousand_violations_take_seconds(tmp_path):
    rows = [
        Violation(
            "speed_to_lead",
            f"hubspot:{i}",
            str(i),
            f"rep{i % 40}@acme.example",
            f"2026-10-{1 + i % 30:02d}T{i % 24:02d}:{i % 60:02d}:00.000Z",
            f"first touch after {i % 500} business minutes",
            f"https://app.hubspot.com/contacts/1/record/0-1/{i}",
            "hubspot",
            "late",
            {"first_touch_at": "2026-10-31T12:00:00.000Z", "deadline": None},
        )
        for i in range(100_000)
    ]
    rule = RuleResult("speed_to_lead", "fail", 0.5, 0.9, 200_000, 0, violations=rows)
    result = AuditResult("Acme", "2026-10", "2026-11-01T03:00:00Z", "Europe/Paris", [rule])
    started = time.process_time()
    path = workbook(result, tmp_path)
    took = time.process_time() - started

    assert took < 15, f"{took:.1f} s of CPU for 100,000 violations"
    with zipfile.ZipFile(path) as archive:  # reading 100,000 rows back would take longer
        violations = archive.read("xl/worksheets/sheet3.xml")
    assert violations.count(b"<row ") == 100_001  # the header and every violation


def test_number_cells_are_plain_numbers_whatever_their_type() -> None:
    """numpy scalars and bools are written as the numbers they are; NaN has no cell."""
    import numpy as np

    from audit.reports.xlsx_rows import cell_xml, number_text

    assert number_text(np.float64(0.5)) == "0.5"
    assert number_text(np.int64(583)) == "583"
    assert number_text(True) == "1"
    assert number_text(float("nan")) is None
    assert number_text(datetime(1900, 3, 1, 12)) == "61.5"
    assert cell_xml("A1", (np.int64(7), 3)) == '<c r="A1" s="3"><v>7</v></c>'
    assert cell_xml("A1", (float("inf"), 3)) == ""
