"""``--trend N`` in the CSV folder: ``trend.csv``, one row per month per rule, for a chart.

The result is the hand-made October of tests/test_reports.py with August and September
audited as of their own ends, the way ``run_trend`` returns them.
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
    assert header == "period,as_of,rule,title,status,unit,measured,target,judged,pending"


def test_trend_csv_lists_earlier_months_oldest_first_then_the_audited_one(folder):
    got = rows(folder / "trend.csv")

    assert len(got) == 3 * len(RULE_IDS)
    assert [r["period"] for r in got[:: len(RULE_IDS)]] == ["2026-08", "2026-09", "2026-10"]
    assert [r["rule"] for r in got[: len(RULE_IDS)]] == list(RULE_IDS)
    september = {r["rule"]: r for r in got if r["period"] == "2026-09"}
    assert september["speed_to_lead"] == {
        "period": "2026-09",
        "as_of": "2026-10-01T03:00:00.000Z",
        "rule": "speed_to_lead",
        "title": "Speed to lead",
        "status": "warn",
        "unit": "share",
        "measured": "0.875",  # a fraction 0–1, as in summary.csv
        "target": "0.9",
        "judged": "48",
        "pending": "0",
    }
    assert september["mql_volume"]["unit"] == "count"


def test_trend_csv_month_with_nothing_judged_has_an_empty_measured_cell(folder):
    august = {r["rule"]: r for r in rows(folder / "trend.csv") if r["period"] == "2026-08"}

    assert (august["speed_to_lead"]["measured"], august["speed_to_lead"]["status"]) == ("", "n/a")


def test_the_audited_month_in_trend_csv_matches_summary_csv(folder):
    summary = {r["rule"]: r for r in rows(folder / "summary.csv")}
    october = [r for r in rows(folder / "trend.csv") if r["period"] == "2026-10"]

    for row in october:
        assert (row["status"], row["measured"], row["target"]) == (
            summary[row["rule"]]["status"],
            summary[row["rule"]]["measured"],
            summary[row["rule"]]["target"],
        )


def test_no_trend_means_no_trend_csv(tmp_path):
    paths = write_report(october_result(), "csv", tmp_path / "october")

    assert "trend.csv" not in [p.name for p in paths]
    assert not (tmp_path / "october" / "trend.csv").exists()


def test_json_carries_the_trend_months(tmp_path):
    data = json.loads(render_json(with_trend()))

    assert [t["period"] for t in data["trend"]] == ["2026-08", "2026-09"]
    assert data["trend"][1]["rules"]["speed_to_lead"]["measured"] == 0.875
