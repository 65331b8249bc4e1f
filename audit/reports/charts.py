"""Chart geometry for the HTML report: figures in, SVG shapes out, nothing drawn here.

Why hand-made SVG rather than matplotlib: the report must be one self-contained file, its
labels must stay real text (so a browser test, a search or a screen reader finds "82.0%"),
and every label that came from a CRM must pass through the template's autoescaping. A chart
here is a list of five primitive shapes; the template draws them with one macro, escaping
every text and tooltip on the way. Nothing here imports a plotting library, so the command
line starts as fast as before.

Coordinates are SVG user units in a fixed ``viewBox``; the page scales the chart to its
column. Colours are CSS classes (``bar-pass``, ``line-target`` …) so print and screen styles
live in one stylesheet. Counts are never rounded into a bar: a bar of 1 out of 10,000 still
gets a visible sliver, because "some" and "none" must not look alike.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from audit.reports import display
from audit.wording import human_duration

Anchor = Literal["start", "middle", "end"]

MIN_BAR = 1.5  # user units: a non-zero count is never drawn as nothing


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float
    cls: str
    tip: str = ""
    kind: str = "rect"


@dataclass(frozen=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    cls: str
    kind: str = "line"


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str
    cls: str = ""
    anchor: Anchor = "start"
    kind: str = "text"


@dataclass(frozen=True)
class Polyline:
    points: tuple[tuple[float, float], ...]
    cls: str
    kind: str = "polyline"

    @property
    def svg_points(self) -> str:
        return " ".join(f"{x:.1f},{y:.1f}" for x, y in self.points)


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    r: float
    cls: str
    tip: str = ""
    kind: str = "circle"


Shape = Rect | Line | Label | Polyline | Dot


@dataclass
class Chart:
    """One SVG: its size, a label for screen readers, and its shapes in drawing order."""

    width: float
    height: float
    label: str
    shapes: list[Shape] = field(default_factory=list)
    css: str = "chart"


STATUS_CLASSES: dict[str, str] = {"pass": "pass", "warn": "warn", "fail": "fail", "n/a": "na"}


def status_class(status: str) -> str:
    """A status as a CSS class suffix; anything unknown (``no_data`` too) is styled like n/a.

    "No data" must look neutral, never like a failure.
    """
    return STATUS_CLASSES.get(status, "na")


def _bar_length(value: float, scale: float, room: float) -> float:
    if value <= 0 or scale <= 0:
        return 0.0
    return max(MIN_BAR, room * value / scale)


# --- funnel -----------------------------------------------------------------------------

FUNNEL_STEPS: tuple[tuple[str, str], ...] = (
    ("handoffs", "MQL (handoffs)"),
    ("sql", "SQL or further"),
    ("opportunity", "Opportunity or further"),
    ("customer", "Customer"),
)


def funnel_chart(funnel: Mapping[str, int | None]) -> Chart | None:
    """Horizontal bars, one per funnel stage the SLA maps, scaled to the handoffs.

    Each bar says its count and its share of the handoffs; stages the SLA does not map
    (``None``) are left out rather than drawn as an empty bar that would read as "nobody".
    """
    steps = [(key, name, funnel.get(key)) for key, name in FUNNEL_STEPS]
    steps = [(key, name, value) for key, name, value in steps if value is not None]
    if not steps or funnel.get("handoffs") is None:
        return None
    total = int(funnel["handoffs"] or 0)
    label_w, room, row, top = 150.0, 220.0, 40.0, 6.0
    chart = Chart(label_w + room + 100, top + row * len(steps) + 4, "Funnel of the period's MQLs")
    for i, (key, name, value) in enumerate(steps):
        y = top + i * row
        count = int(value or 0)
        width = _bar_length(count, total, room)
        share = display.share(count / total) if total else display.MISSING
        tip = f"{name}: {count} of {total} MQLs ({share})"
        chart.shapes.append(Rect(label_w, y, room, row - 12, "track"))
        chart.shapes.append(Rect(label_w, y, width, row - 12, f"bar-funnel bar-{key}", tip))
        chart.shapes.append(Label(label_w - 8, y + 19, name, "axis-label", "end"))
        chart.shapes.append(
            Label(label_w + room + 8, y + 19, f"{count} ({share})" if i else str(count), "value")
        )
    return chart


# --- vertical histograms ----------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One bar of a histogram: its label under the axis, its count, its CSS class."""

    label: str
    count: int
    cls: str
    tip: str


def column_chart(
    columns: Sequence[Column],
    *,
    label: str,
    marker_after: int | None = None,
    marker_text: str = "",
    axis_title: str = "",
) -> Chart:
    """Vertical bars with counts on top and an optional dashed SLA line.

    ``marker_after`` draws the line between column ``marker_after - 1`` and
    ``marker_after`` (0 puts it before the first column): the SLA boundary sits between
    bins, never through one.
    """
    left, bottom, top, height = 34.0, 44.0, 40.0, 160.0
    gap, width = 8.0, max(22.0, min(44.0, 400.0 / max(1, len(columns)) - 8.0))
    chart_w = left + len(columns) * (width + gap) + gap + 10
    chart = Chart(chart_w, top + height + bottom, label)
    peak = max((c.count for c in columns), default=0)
    base = top + height
    chart.shapes.append(Line(left, base, chart_w - 10, base, "axis"))
    chart.shapes.append(Label(left - 6, base + 4, "0", "tick", "end"))
    if peak:
        chart.shapes.append(Line(left, top, chart_w - 10, top, "grid"))
        chart.shapes.append(Label(left - 6, top + 4, str(peak), "tick", "end"))
    for i, col in enumerate(columns):
        x = left + gap + i * (width + gap)
        h = _bar_length(col.count, peak, height)
        chart.shapes.append(Rect(x, base - h, width, h, col.cls, col.tip))
        chart.shapes.append(Label(x + width / 2, base - h - 5, str(col.count), "value", "middle"))
        chart.shapes.append(Label(x + width / 2, base + 16, col.label, "tick", "middle"))
    if marker_after is not None and 0 <= marker_after <= len(columns):
        x = left + gap / 2 + marker_after * (width + gap)
        chart.shapes.append(Line(x, 4, x, base + 4, "line-sla"))
        chart.shapes.append(Label(x + 5, 12, marker_text, "marker"))
    if axis_title:
        chart.shapes.append(Label(left, base + 36, axis_title, "axis-title"))
    return chart


def compact_minutes(minutes: float) -> str:
    """A bin edge for a tick: 5 → "5m", 120 → "2h", 1440 → "24h", 0.5 → "30s"."""
    if minutes < 1:
        return f"{minutes * 60:g}s"
    if minutes < 60 or minutes % 60:
        return f"{minutes:g}m"
    return f"{minutes / 60:g}h"


def minutes_bin(key: str) -> tuple[str, str]:
    """A ``minutes_histogram`` key ("5-10", "1440+") as a tick ("≤10m", ">24h") and words.

    Ticks name the bin's upper edge, short enough for a narrow bar; the words (tooltips)
    are durations as people say them ("more than 24 h (business)"). The rule documents the
    key format, and a key that does not follow it is shown as it is.
    """
    try:
        if key.endswith("+"):
            low = float(key[:-1])
            beyond = human_duration(low, business=True)
            return f">{compact_minutes(low)}", f"after more than {beyond}"
        low, high = (float(part) for part in key.split("-"))
    except ValueError:
        return key, f"at {key} business minutes"
    upper = human_duration(high, business=True)
    lower = human_duration(low, business=False)
    words = f"within {upper}" if low <= 0 else f"after {lower}, within {upper}"
    return f"≤{compact_minutes(high)}", words


def speed_chart(histogram: Mapping[str, int], untouched: int | None, within: str) -> Chart:
    """Business minutes to first attempt; the first bin is the SLA (speed_to_lead details).

    Handoffs judged without any attempt get their own last bar: they are the worst case,
    not a long tail of minutes.
    """
    columns = []
    for i, (key, n) in enumerate(histogram.items()):
        tick, words = minutes_bin(key)
        tip = f"{n} handoffs first touched {words}"
        columns.append(Column(tick, int(n), "bar-pass" if i == 0 else "bar-fail", tip))
    if untouched is not None:
        tip = f"{untouched} handoffs with no attempt by the deadline"
        columns.append(Column("none", int(untouched), "bar-none", tip))
    return column_chart(
        columns,
        label="Speed to lead: handoffs by business minutes to the first attempt",
        marker_after=1,
        marker_text=f"SLA {within}",
        axis_title="business time from handoff to first attempt (each bar: up to its label)",
    )


def attempts_chart(histogram: Mapping[str, int], minimum: int | None) -> Chart:
    """Judged handoffs by counted attempts, 0 to the most seen, with the SLA minimum line.

    Missing counts in between are drawn as 0 so the x axis is a real scale.
    """
    counts = {int(k): int(v) for k, v in histogram.items()}
    top = max([*counts, minimum or 0])
    columns = [
        Column(
            str(n),
            counts.get(n, 0),
            "bar-pass" if minimum is not None and n >= minimum else "bar-neutral",
            f"{counts.get(n, 0)} handoffs with {n} counted attempts",
        )
        for n in range(top + 1)
    ]
    return column_chart(
        columns,
        label="Attempts per judged handoff",
        marker_after=minimum,
        marker_text=f"SLA ≥ {minimum}" if minimum is not None else "",
        axis_title="counted attempts per handoff",
    )


# --- small charts -----------------------------------------------------------------------


def bullet_chart(measured: float | None, target: float | None, status: str) -> Chart:
    """A rule's measured value as a bar against its target tick (a "bullet" chart).

    Shares are drawn on 0–100%; counts on 0 to 110% of the larger of measured and target.
    """
    w, h = 240.0, 18.0
    chart = Chart(w, h, "measured against target", css="chart bullet")
    chart.shapes.append(Rect(0, 4, w, h - 8, "track"))
    values = [v for v in (measured, target) if v is not None]
    if not values:
        return chart
    scale = 1.0 if max(values) <= 1.0 else max(values) * 1.1
    if measured is not None:
        chart.shapes.append(
            Rect(0, 4, _bar_length(measured, scale, w), h - 8, f"bar-{status_class(status)}")
        )
    if target is not None:
        x = min(w - 1.5, w * target / scale)
        chart.shapes.append(Line(x, 0, x, h, "line-target"))
    return chart


@dataclass(frozen=True)
class SparkPoint:
    period: str
    measured: float | None
    status: str
    tip: str


def sparkline(points: Sequence[SparkPoint], target: float | None) -> Chart:
    """A rule's measured value month by month, the target dashed, each month's dot coloured.

    The y range covers the values and the target with a margin, so a rule hovering near its
    target shows its wobble instead of a flat line at the top of 0–100%. Months with nothing
    judged break the line.
    """
    w, h, pad = 180.0, 40.0, 6.0
    chart = Chart(w, h, "trend of the measured value", css="chart spark")
    values = [p.measured for p in points if p.measured is not None]
    if target is not None:
        values.append(target)
    if not values:
        return chart
    low, high = min(values), max(values)
    if high - low < 1e-12:  # one flat value: centre it
        margin = abs(low) * 0.1 or 0.1
        low, high = low - margin, high + margin
    step = (w - 2 * pad) / max(1, len(points) - 1)

    def y_of(value: float) -> float:
        return h - pad - (h - 2 * pad) * (value - low) / (high - low)

    if target is not None:
        chart.shapes.append(Line(pad, y_of(target), w - pad, y_of(target), "line-target-spark"))
    run: list[tuple[float, float]] = []
    for i, point in enumerate(points):
        if point.measured is None:
            if len(run) > 1:
                chart.shapes.append(Polyline(tuple(run), "spark-line"))
            run = []
            continue
        run.append((pad + i * step, y_of(point.measured)))
    if len(run) > 1:
        chart.shapes.append(Polyline(tuple(run), "spark-line"))
    for i, point in enumerate(points):
        if point.measured is not None:
            x, y = pad + i * step, y_of(point.measured)
            chart.shapes.append(Dot(x, y, 3.0, f"dot-{status_class(point.status)}", point.tip))
    return chart
