"""Speed → outcome in the HTML report: per scope, its sentence and two bar charts.

Each chart has one row per group (a first-touch band, or a number of attempts) and two
horizontal bars in it, connect rate and MQL→SQL rate, each with its 95 % interval drawn as
a whisker. Horizontal bars keep the group labels readable on a phone and in print; the
whiskers are what a reader needs to see that "within 5 min" and "over 4 h" really differ
(or do not). A bar from fewer than :data:`~audit.outcome_claims.MIN_GROUP` judged handoffs is
drawn pale and says "(few)": shown, but too few to compare. The x axis runs from 0 to the
highest interval end rounded up to the next 10 %, so a 12 % rate is not a sliver.

Geometry only, as in :mod:`audit.reports.charts` (whose shapes the page's one SVG macro
draws, escaping every text); the figures come from the result.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from audit.outcome_claims import MIN_GROUP, OutcomeFindings
from audit.outcome_rates import CONFIDENCE, OutcomeRow, Rate
from audit.reports.charts import Chart, Label, Line, Rect
from audit.result import AuditResult

LABEL_W, ROOM, VALUE_W = 120.0, 250.0, 118.0
BAR_H, PAIR_GAP, ROW_GAP, TOP = 11.0, 2.0, 12.0, 28.0
SERIES: tuple[tuple[str, str, str], ...] = (
    ("connect", "connected", "bar-connect"),
    ("sql", "became SQL", "bar-became-sql"),
)


@dataclass
class SpeedOutcomeView:
    """One scope (the audited month, or the trend window pooled) as the page shows it."""

    scope: str
    sentence: str
    first_touch: Chart
    attempts: Chart


def speed_outcome_views(result: AuditResult) -> list[SpeedOutcomeView]:
    """The audited month, then the trend window; empty for a result without the counts."""
    report = result.speed_outcome_report()
    if report is None:
        return []
    found = [report.period, *([report.trend_window] if report.trend_window else [])]
    return [view(item) for item in found]


def view(found: OutcomeFindings) -> SpeedOutcomeView:
    table = found.table
    return SpeedOutcomeView(
        scope=found.scope,
        sentence=found.sentence,
        first_touch=rate_chart(table.by_first_touch, "by first touch (business time)"),
        attempts=rate_chart(table.by_attempts, "by counted attempts"),
    )


def axis_top(rows: Sequence[OutcomeRow]) -> float:
    """The x axis's end: the highest interval end, rounded up to 10 %, at least 10 %."""
    highs = [
        interval[1]
        for row in rows
        for name, _, _ in SERIES
        if (interval := row.outcome(name).interval) is not None
    ]
    return max(0.1, math.ceil(max(highs, default=0.0) * 10 - 1e-9) / 10)


def rate_chart(rows: Sequence[OutcomeRow], grouping: str) -> Chart:
    """Two bars per group with interval whiskers, a legend on top, 0 and the top on the axis."""
    row_h = 2 * BAR_H + PAIR_GAP + ROW_GAP
    base = TOP + row_h * len(rows)
    chart = Chart(
        LABEL_W + ROOM + VALUE_W,
        base + 18,
        f"Connect and MQL→SQL rates {grouping}, with {CONFIDENCE:.0%} intervals",
        css="chart speed-outcome",
    )
    scale = axis_top(rows)
    legend_x = LABEL_W
    for _, words, cls in SERIES:
        chart.shapes.append(Rect(legend_x, 8, 10, 10, cls))
        chart.shapes.append(Label(legend_x + 14, 17, words, "tick"))
        legend_x += 100
    for quarter in (0.25, 0.5, 0.75, 1.0):
        x = LABEL_W + ROOM * quarter
        chart.shapes.append(Line(x, TOP - 4, x, base, "grid"))
    chart.shapes.append(Line(LABEL_W, base, LABEL_W + ROOM, base, "axis"))
    chart.shapes.append(Label(LABEL_W, base + 14, "0%", "tick", "middle"))
    chart.shapes.append(Label(LABEL_W + ROOM, base + 14, f"{scale:.0%}", "tick", "middle"))
    for index, row in enumerate(rows):
        top = TOP + index * row_h
        chart.shapes.append(Label(LABEL_W - 8, top + BAR_H + 4, row.label, "axis-label", "end"))
        for offset, (name, words, cls) in enumerate(SERIES):
            y = top + offset * (BAR_H + PAIR_GAP)
            chart.shapes += bar_shapes(row, row.outcome(name), y, scale, words, cls)
    return chart


def bar_shapes(
    row: OutcomeRow, rate: Rate, y: float, scale: float, words: str, cls: str
) -> list[Rect | Line | Label]:
    """One outcome's bar, its whisker with end caps, and its value ("70.6% of 170")."""
    value_x = LABEL_W + ROOM + 6
    if rate.rate is None or rate.interval is None:
        return [Label(value_x, y + BAR_H - 1, "none judged", "tick")]
    few = rate.judged < MIN_GROUP
    low, high = rate.interval
    tip = (
        f"{row.label}: {rate.hits} of {rate.judged} {words} ({rate.rate:.1%}; "
        f"{CONFIDENCE:.0%} interval {low:.1%}–{high:.1%})"
        + (f"; fewer than {MIN_GROUP} judged, too few to compare" if few else "")
    )
    x_low, x_high = (LABEL_W + ROOM * value / scale for value in (low, high))
    middle = y + BAR_H / 2
    return [
        Rect(LABEL_W, y, ROOM * rate.rate / scale, BAR_H, cls + (" bar-few" if few else ""), tip),
        Line(x_low, middle, x_high, middle, "whisker"),
        Line(x_low, y + 2, x_low, y + BAR_H - 2, "whisker"),
        Line(x_high, y + 2, x_high, y + BAR_H - 2, "whisker"),
        Label(
            value_x,
            y + BAR_H - 1,
            f"{rate.rate:.1%} of {rate.judged}" + (" (few)" if few else ""),
            "tick",
        ),
    ]
