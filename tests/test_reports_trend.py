"""``--trend N`` in the CSV folder: ``trend.csv``, one row per month per rule, for a chart.

The result is the hand-made October of tests/test_reports.py with August and September
audited as of their own ends, the way ``run_trend`` returns them. Issue 16 (item 6) changed
the columns on purpose: headers in words, shares as percentages, local as-of times, and
"no data" for a month or rule where nothing was judged.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from audit.reports import render_json, write_report
from audit.result import RULE_IDS, AuditResult, TrendPoint
from tests.test_reports import BOM, october_result


def month(period: str, as_of: str, speed: float | None, status: str) -> TrendPoint:
    rules = {
        rule_id: {"status": "pass", "measured": 1.0, "target": 0.9, "judged": 10, "pending": 0}
        for rule_id in RULE_IDS
    }
    rules["mql_volume"] = {
        "status": "warn",
        "measured": 550.0,
        "target": 600.0,
        "judged": 550,
        "pending": 0,
    }
    rules["speed_to_lead"] = {
        "status": status,
        "measured": speed,
        "target": 0.9,
        "judged": 0 if speed is None else 48,
        "pending": 0,
    }
    return TrendPoint(period=period, as_of=as_of, status=status, rules=rules)


def with_trend() -> AuditResult:
    result = october_result()
    result.trend = [
        month("2026-08", "2026-09-01T03:00:00.000Z", None, "n/a"),
        month("2026-09", "2026-10-01T03:00:00.000Z", 0.875, "warn"),
    ]
    return result


@pytest.fixture
def folder(tmp_path) -> Path:
    out = tmp_path / "october"
    paths = write_report(with_trend(), "csv", out)
    assert [p.name for p in paths] == [
        "summary.csv",
        "reps.csv",
        "violations.csv",
        "pending.csv",
        "splits.csv",
        "trend.csv",
    ]
    return out


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def test_trend_csv_has_a_header_a_person_reads_and_opens_cleanly_in_excel(folder):
    raw = (folder / "trend.csv").read_bytes()

    assert raw.startswith(BOM) and raw.count(b"\r\n") == raw.count(b"\n")
    header = raw[len(BOM) :].split(b"\r\n", 1)[0].decode()
    assert header == (
        "Period,Provisional,Data coverage,As of,As of UTC offset,Rule,Status,"
        "Measured,Target,Unit,Judged,Pending,Rule id"
    )


def test_trend_csv_lists_earlier_months_oldest_first_then_the_audited_one(folder):
    got = rows(folder / "trend.csv")

    assert len(got) == 3 * len(RULE_IDS)
    assert [r["Period"] for r in got[:: len(RULE_IDS)]] == ["2026-08", "2026-09", "2026-10"]
    assert [r["Rule id"] for r in got[: len(RULE_IDS)]] == list(RULE_IDS)
    september = {r["Rule id"]: r for r in got if r["Period"] == "2026-09"}
    assert september["speed_to_lead"] == {
        "Period": "2026-09",
        "Provisional": "no",
        "Data coverage": "full",
        "As of": "2026-10-01 04:00:00",  # 03:00 UTC is 04:00 in Lisbon's summer time
        "As of UTC offset": "UTC+01:00",
        "Rule": "Speed to lead",
        "Status": "warn",
        "Measured": "87.5",  # 0.875 as a percentage, as in summary.csv
        "Target": "90.0",
        "Unit": "%",
        "Judged": "48",
        "Pending": "0",
        "Rule id": "speed_to_lead",
    }
    assert (september["mql_volume"]["Unit"], september["mql_volume"]["Measured"]) == (
        "count",
        "550",
    )


def test_trend_csv_month_with_nothing_judged_says_no_data_with_an_empty_measured_cell(folder):
    august = {r["Rule id"]: r for r in rows(folder / "trend.csv") if r["Period"] == "2026-08"}

    assert (august["speed_to_lead"]["Measured"], august["speed_to_lead"]["Status"]) == (
        "",
        "no data",
    )


def test_the_audited_month_in_trend_csv_matches_summary_csv(folder):
    summary = {r["Rule id"]: r for r in rows(folder / "summary.csv")}
    october = [r for r in rows(folder / "trend.csv") if r["Period"] == "2026-10"]

    for row in october:
        assert (row["Status"], row["Measured"], row["Target"]) == (
            summary[row["Rule id"]]["Status"],
            summary[row["Rule id"]]["Measured"],
            summary[row["Rule id"]]["Target"],
        )


def test_no_trend_means_no_trend_csv(tmp_path):
    paths = write_report(october_result(), "csv", tmp_path / "october")

    assert "trend.csv" not in [p.name for p in paths]
    assert not (tmp_path / "october" / "trend.csv").exists()


def test_json_carries_the_trend_months(tmp_path):
    data = json.loads(render_json(with_trend()))

    assert [t["period"] for t in data["trend"]] == ["2026-08", "2026-09"]
    assert data["trend"][1]["rules"]["speed_to_lead"]["measured"] == 0.875
