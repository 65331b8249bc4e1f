"""The CSV folder as leadership opens it: read back with csv and pandas, figures by hand.

A small month in Paris, audited on 20 October (month to date), whose data starts on the
12th. One handoff on Saturday 24 October (summer time, UTC+02:00) got its first touch on
Monday the 26th, after the clocks went back (UTC+01:00): the offset changes inside a row.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pandas as pd
import pytest

from audit.reports import write_report
from audit.reports.local_clock import LocalClock, local_parts
from audit.result import AuditResult, PendingHandoff, RepRow, RuleResult, TrendPoint, Violation
from audit.rules import RULE_TITLES
from tests.test_reports import october_result, plain_table

ANA, BOB, ZOE = "ana@acme.example", "bob@acme.example", "zoe@acme.example"
LINK = "https://app.hubspot.com/contacts/1/record/0-1/7"
LOCAL_FORMAT = "%Y-%m-%d %H:%M:%S"
AUGUST_END, SEPTEMBER_END = "2026-08-31T22:00:00.000Z", "2026-09-30T22:00:00.000Z"


def paris_result() -> AuditResult:
    speed = RuleResult(
        "speed_to_lead",
        "fail",
        0.75,  # 3 of 4 judged handoffs touched in time
        0.9,
        4,
        1,
        details={"median_minutes": 132.0, "p90_minutes": 3140.4},
        reps=[
            RepRow(ANA, "speed_to_lead", 0.5, 2, pending=1, violations=1),
            RepRow(BOB, "speed_to_lead", 1.0, 2),
        ],
        violations=[
            Violation(
                "speed_to_lead",
                "hubspot:7",
                "7",
                ANA,
                "2026-10-24T13:00:00.000Z",
                "first touch after 52 h 20 min (business)",
                LINK,
                "hubspot",
                "late",
                {"first_touch_at": "2026-10-26T13:12:00.000Z"},
            )
        ],
        pending_handoffs=[
            PendingHandoff(
                "speed_to_lead",
                "hubspot:8",
                "8",
                ANA,
                "2026-10-20T07:58:00.000Z",
                "first-touch deadline",
                None,
            )
        ],
    )
    volume = RuleResult(
        "mql_volume",
        "warn",
        583.0,
        1750 / 3,  # 583.33…: 900 a month pro-rated to the part of October elapsed
        583,
        0,
        reps=[RepRow(ANA, "mql_volume", 300.0, 300), RepRow(BOB, "mql_volume", 283.0, 283)],
    )
    conversion = RuleResult("conversion", "no_data", None, 0.2, 0, 2)
    return AuditResult(
        sla="Acme",
        period="2026-10",
        as_of="2026-10-20T08:00:00.000Z",
        timezone="Europe/Paris",
        rules=[volume, speed, conversion],
        provisional=True,
        coverage="partial",
        data_start="2026-10-12T07:30:00.000Z",
    )


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture
def paris(tmp_path: Path) -> Path:
    write_report(paris_result(), "csv", tmp_path / "paris")
    return tmp_path / "paris"


def test_a_month_to_date_says_provisional_and_where_its_data_starts(paris):
    rows = read(paris / "summary.csv")

    assert {r["Provisional"] for r in rows} == {"yes — month to date"}
    # 07:30 UTC on 12 October is 09:30 in Paris (summer time)
    coverage = "partly covered: data starts 2026-10-12 09:30 +02:00"
    assert {r["Data coverage"] for r in rows} == {coverage}
    assert {(r["As of"], r["As of UTC offset"]) for r in rows} == {
        ("2026-10-20 10:00:00", "UTC+02:00")
    }


def test_summary_figures_match_the_hand_computed_ones(paris):
    rows = {r["Rule id"]: r for r in read(paris / "summary.csv")}
    speed, volume, conversion = rows["speed_to_lead"], rows["mql_volume"], rows["conversion"]

    # 0.75 → 75.0 %; 0.75 × 4 judged = 3 compliant; 132 min = 2 h 12 min; 3140.4 → 52 h 20
    assert (speed["Measured"], speed["Target"], speed["Compliant"]) == ("75.0", "90.0", "3")
    assert speed["Median time"] == "2 h 12 min (business)"
    assert speed["90th percentile time"] == "52 h 20 min (business)"
    # a count is whole; a pro-rated target keeps one decimal so 583 does not look met
    assert (volume["Measured"], volume["Target"], volume["Unit"]) == ("583", "583.3", "count")
    assert volume["Compliant"] == ""  # a count rule has no compliant share
    assert (conversion["Status"], conversion["Measured"], conversion["Pending"]) == (
        "no data",
        "",
        "2",
    )


def test_pandas_reads_numbers_as_numbers_and_local_times_as_dates(paris):
    summary = pd.read_csv(paris / "summary.csv", encoding="utf-8-sig")
    violations = pd.read_csv(paris / "violations.csv", encoding="utf-8-sig")

    assert summary["Measured"].dtype == "float64" and summary["Judged"].dtype == "int64"
    assert summary["Measured"].isna().tolist() == [False, False, True]  # no data: empty
    handed = pd.to_datetime(violations["Handed off"], format=LOCAL_FORMAT)
    touched = pd.to_datetime(violations["First touch"], format=LOCAL_FORMAT)
    assert handed[0] == pd.Timestamp("2026-10-24 15:00:00")  # 13:00 UTC, summer time
    assert touched[0] == pd.Timestamp("2026-10-26 14:12:00")  # 13:12 UTC, winter time
    assert violations["First touch UTC offset"][0] == "UTC+01:00"
    # local time + its offset is the snapshot's UTC instant again
    back = pd.to_datetime(
        violations["Handed off"] + violations["Handed off UTC offset"].str.removeprefix("UTC")
    )
    assert back[0] == pd.Timestamp("2026-10-24T13:00:00Z")


def test_every_instant_is_written_in_one_format_a_spreadsheet_parses(paris):
    stamp = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
    offset = re.compile(r"UTC[+-]\d\d:\d\d")
    for name in ("summary.csv", "violations.csv", "pending.csv"):
        for row in read(paris / name):
            for header, value in row.items():
                if header.endswith("UTC offset"):
                    assert offset.fullmatch(value), (name, header, value)
                    assert stamp.fullmatch(row[header.removesuffix(" UTC offset")])


COUNT_RULES = {"mql_volume", "mql_per_rep"}
"""Rules whose per-rep figure is a count of MQLs (the others: a share of handoffs)."""


def test_the_rep_grid_matches_the_results_rep_rows(tmp_path):
    result = october_result()
    write_report(result, "csv", tmp_path / "out")
    grid = {r["Rep"]: r for r in read(tmp_path / "out" / "reps.csv")}

    assert len(grid) == len({r.rep for r in result.reps})  # one row per rep
    for row in result.reps:
        cells, title = grid[row.rep], RULE_TITLES[row.rule]
        if row.rule in COUNT_RULES:
            figure = cells[f"{title} (count)"]
            assert figure == str(int(row.measured or 0)), (row.rep, row.rule)
        else:
            figure = cells[f"{title} (%)"]
            expected = "" if row.measured is None else str(round(row.measured * 100, 1))
            assert figure == expected, (row.rep, row.rule)
        assert cells[f"{title} judged"] == str(row.judged)
        if row.rule == "conversion":  # an outcome, not a broken promise: no such column
            assert f"{title} violations" not in cells
        else:
            assert cells[f"{title} violations"] == str(row.violations)
        assert int(cells["Violations"]) == sum(
            r.violations for r in result.reps if r.rep == row.rep
        )


def test_the_tables_first_20_violations_are_the_csvs_first_20(tmp_path):
    result = october_result()
    speed = result.rule("speed_to_lead")
    for i in range(25):  # a fourth rep with the most violations, handed off in any order
        at = f"2026-10-{(i * 7) % 28 + 1:02d}T09:00:00Z"
        speed.violations.append(
            Violation("speed_to_lead", f"hubspot:9{i:02d}", f"9{i:02d}", ZOE, at, "late", None)
        )
    table = plain_table(result)
    section = table[table.index("Violations (") :]

    write_report(result, "csv", tmp_path / "out")

    # the table names a lead (here, without name or email: by CRM id; issue 15, item 7)
    listed = re.findall(r"CRM id (\d+)", section)
    assert listed[:20] == [r["CRM id"] for r in read(tmp_path / "out" / "violations.csv")[:20]]
    assert "are in violations.csv (--format csv)" in section


def test_a_reused_folder_loses_a_stale_trend_csv_and_keeps_other_files(tmp_path):
    folder = tmp_path / "report"
    with_trend = paris_result()
    with_trend.trend = [TrendPoint("2026-09", SEPTEMBER_END, "no_data", {}, coverage="none")]
    write_report(with_trend, "csv", folder)
    (folder / "notes.txt").write_text("mine")
    (folder / "trend.csv.bak").write_text("mine too")
    assert (folder / "trend.csv").exists()

    written = write_report(paris_result(), "csv", folder)

    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [*(p.name for p in written), "notes.txt", "trend.csv.bak"]
    )
    assert not (folder / "trend.csv").exists()


def test_a_trend_month_before_the_data_says_no_data_not_zero(tmp_path):
    result = paris_result()
    zero = {"status": "fail", "measured": 0.0, "target": 0.9, "judged": 0, "pending": 0}
    good = zero | {"status": "pass", "measured": 0.95, "judged": 20}
    result.trend = [  # an engine that judged August before the data as 0 %
        TrendPoint("2026-08", AUGUST_END, "fail", {"speed_to_lead": zero}, coverage="none"),
        TrendPoint("2026-09", SEPTEMBER_END, "pass", {"speed_to_lead": good}, coverage="partial"),
    ]
    write_report(result, "csv", tmp_path / "t")
    rows = [r for r in read(tmp_path / "t" / "trend.csv") if r["Rule id"] == "speed_to_lead"]

    assert [(r["Period"], r["Status"], r["Measured"]) for r in rows] == [
        ("2026-08", "no data", ""),
        ("2026-09", "pass", "95.0"),
        ("2026-10", "fail", "75.0"),
    ]
    assert [r["Data coverage"] for r in rows] == [
        "none: no data for this period",
        "partly covered",
        "partly covered: data starts 2026-10-12 09:30 +02:00",
    ]
    assert [r["Provisional"] for r in rows] == ["no", "no", "yes — month to date"]


@pytest.mark.parametrize(
    ("zone", "day"),
    [
        ("Europe/Paris", "2026-10-25"),  # clocks back at 01:00 UTC
        ("America/New_York", "2026-11-01"),  # back at 06:00 UTC
        ("Australia/Lord_Howe", "2026-10-03"),  # forward half an hour at 15:30 UTC
        ("Asia/Kathmandu", "2026-10-03"),  # UTC+05:45, no daylight saving
        ("", "2026-10-03"),  # no zone: UTC
    ],
)
def test_the_minute_cached_clock_says_what_local_instant_says(zone, day):
    clock = LocalClock(zone)
    start = pd.Timestamp(f"{day}T00:00:00Z") - pd.Timedelta(hours=2)
    for step in range(0, 28 * 3600, 7 * 60 + 13):  # every 7 min 13 s over 28 hours
        moment = (start + pd.Timedelta(seconds=step)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        assert clock(moment) == local_parts(moment, zone), moment
    for odd in ("", None, "not a time", "2026-10-25T01:30:00+00:00", "2026-10-25T01:30:00.5Z"):
        assert clock(odd) == local_parts(odd, zone), odd


def test_the_rep_grid_has_no_violation_column_for_conversion(tmp_path):
    """Not converting is an outcome, not a broken promise: no always-0 column."""
    conversion = RuleResult(
        "conversion",
        "pass",
        0.5,
        0.3,
        2,
        0,
        reps=[RepRow("ana@acme.example", "conversion", 0.5, 2)],
    )
    result = AuditResult("SLA", "2026-10", "2026-11-01T03:00:00Z", "UTC", [conversion])
    write_report(result, "csv", tmp_path / "out")
    [row] = read(tmp_path / "out" / "reps.csv")
    assert (row["MQL→SQL conversion (%)"], row["MQL→SQL conversion judged"]) == ("50.0", "2")
    assert "MQL→SQL conversion violations" not in row
