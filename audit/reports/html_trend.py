"""The HTML report's trend: each rule's figure month by month, months without data left out.

A month before the snapshot's data starts, or one with no handoff to judge, has no figure:
drawing it as 0 % would read as the worst month ever. Such a month is shown as "no data" in
the table and is not a point of the sparkline (the line breaks there).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from audit.reports import charts, words
from audit.result import AuditResult, RuleResult

NO_DATA = "no data"


@dataclass
class TrendCell:
    text: str
    css: str
    status: str


@dataclass
class TrendRow:
    title: str
    spark: charts.Chart
    cells: list[TrendCell]


@dataclass(frozen=True)
class Point:
    period: str
    measured: float | None
    status: str
    no_data: bool


def has_no_data(status: str, coverage: str) -> bool:
    """A month with nothing to judge for a rule, or one the snapshot's data does not reach."""
    return status == "no_data" or coverage == "none"


def rule_points(result: AuditResult, rule: RuleResult) -> list[Point]:
    """The rule in each trend month, then in the audited month (the last point)."""
    points = []
    for month in result.trend:
        got: dict[str, Any] = month.rules.get(rule.id) or {}
        status = str(got.get("status") or "n/a")
        empty = has_no_data(status, month.coverage) or month.status == "no_data"
        points.append(Point(month.period, got.get("measured"), status, empty))
    empty = has_no_data(rule.status, result.coverage)
    points.append(Point(result.period, rule.measured, rule.status, empty))
    return points


def cell(point: Point, rule_id: str) -> TrendCell:
    if point.no_data:
        return TrendCell(NO_DATA, "na", NO_DATA)
    return TrendCell(
        words.figure(point.measured, rule_id), charts.status_class(point.status), point.status
    )


def spark_point(point: Point, rule_id: str) -> charts.SparkPoint:
    """A sparkline point; a month without data has no value, so the line leaves it out."""
    if point.no_data:
        return charts.SparkPoint(point.period, None, "n/a", f"{point.period}: {NO_DATA}")
    figure = words.figure(point.measured, rule_id)
    return charts.SparkPoint(
        point.period, point.measured, point.status, f"{point.period}: {figure} ({point.status})"
    )


def trend_rows(result: AuditResult) -> tuple[list[str], list[TrendRow]]:
    """Per rule, its figure in each trend month and the audited one (the last column)."""
    if not result.trend:
        return [], []
    periods = [month.period for month in result.trend] + [result.period]
    rows = []
    for rule in result.rules:
        points = rule_points(result, rule)
        rows.append(
            TrendRow(
                title=words.rule_title(rule.id),
                spark=charts.sparkline([spark_point(p, rule.id) for p in points], rule.target),
                cells=[cell(p, rule.id) for p in points],
            )
        )
    return periods, rows
