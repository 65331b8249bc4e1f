"""The HTML report: one self-contained page for the monthly marketing–sales review.

Everything is inside the file: the stylesheet, the charts (inline SVG from
:mod:`audit.reports.charts`) and a dozen lines of script that only sort the per-rep table.
No fonts, images, CDNs or network requests, so the page opens the same from a mail
attachment, an intranet share or a laptop on a projector without Wi-Fi, and prints on A4
landscape.

Safety: every CRM-supplied string (rep emails, lead ids, reasons, segments, the SLA name)
goes through Jinja2's autoescaping, so a lead named ``<script>alert(1)</script>`` is shown
as those characters. CRM links are emitted only for ``http``/``https`` URLs (a
``javascript:`` URL would run on click), and a Content-Security-Policy lets the browser run
exactly the one inline script whose hash we put there, nothing injected beside it.

Like the other writers, this module formats and never recomputes: the figures and their
words come from the rules (``details``) and :mod:`audit.reports.words`.
"""

from __future__ import annotations

import base64
import functools
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import TYPE_CHECKING, TextIO
from urllib.parse import urlsplit

from audit.reports import charts, display, words
from audit.reports.ordering import (
    reps_worst_first,
    rules_with_violations,
    sort_violations,
    violation_total,
)
from audit.reports.rule_facts import rep_unit
from audit.result import AuditResult, RepRow, RuleResult, Violation

if TYPE_CHECKING:
    import jinja2

VIOLATIONS_SHOWN = 200
SAFE_SCHEMES = frozenset({"http", "https"})
TEMPLATES = "templates"


# --- the page as data -------------------------------------------------------------------


@dataclass
class RuleView:
    id: str
    title: str
    status: str
    css: str
    measured: str
    target: str
    judged: int
    pending: int
    violations: int
    sentence: str
    bullet: charts.Chart


@dataclass
class RepCell:
    text: str
    sort: float | None
    violations: int
    pending: int


@dataclass
class RepView:
    rep: str
    rules_broken: int
    violations: int
    cells: list[RepCell]


@dataclass
class ViolationView:
    rule: str
    rep: str
    lead: str
    url: str | None
    handoff: str
    reason: str


@dataclass
class SplitRow:
    name: str
    handoffs: str
    progressed: str
    share: str


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


@dataclass
class Page:
    """Everything the template shows, already in words; the template only lays it out."""

    sla: str
    period: str
    period_title: str
    status: str
    css: str
    headline: str
    as_of_local: str
    as_of_utc: str
    timezone: str
    arithmetic: words.Arithmetic | None
    rules: list[RuleView]
    funnel: charts.Chart | None
    speed: charts.Chart | None
    speed_note: str
    attempts: charts.Chart | None
    attempts_note: str
    by_segment: list[SplitRow]
    by_lead_source: list[SplitRow]
    rep_rules: list[str]
    reps: list[RepView]
    violations: list[ViolationView]
    violations_total: int
    pending: list[tuple[str, int]]
    notes: list[str]
    trend_periods: list[str] = field(default_factory=list)
    trend: list[TrendRow] = field(default_factory=list)


def build_page(result: AuditResult) -> Page:
    """The report's content for ``result``, every value formatted, nothing computed."""
    as_of_local = words.local_time(result.as_of, result.timezone)
    by_id = {rule.id: rule for rule in result.rules}
    conversion = by_id.get("conversion")
    rep_rule_ids = [rule.id for rule in result.rules if rule.reps]
    violations = sort_violations(result.violations)
    trend_periods, trend = trend_rows(result)
    return Page(
        sla=result.sla,
        period=result.period,
        period_title=words.period_title(result.period),
        status=result.status,
        css=charts.status_class(result.status),
        headline=words.headline(result),
        as_of_local=as_of_local,
        as_of_utc=result.as_of,
        timezone=result.timezone,
        arithmetic=words.arithmetic(by_id["mql_volume"]) if "mql_volume" in by_id else None,
        rules=[rule_view(rule, as_of_local) for rule in result.rules],
        funnel=funnel(conversion),
        speed=speed(by_id.get("speed_to_lead")),
        speed_note=speed_note(by_id.get("speed_to_lead")),
        attempts=attempts(by_id.get("attempts")),
        attempts_note=attempts_note(by_id.get("attempts")),
        by_segment=split_rows(conversion, "by_segment"),
        by_lead_source=split_rows(conversion, "by_lead_source"),
        rep_rules=[words.rule_title(r) for r in rep_rule_ids],
        reps=rep_views(result.reps, rep_rule_ids),
        violations=[violation_view(v, result.timezone) for v in violations[:VIOLATIONS_SHOWN]],
        violations_total=len(violations),
        pending=[(words.rule_title(r.id), r.pending) for r in result.rules if r.pending],
        notes=list(result.data_notes),
        trend_periods=trend_periods,
        trend=trend,
    )


def rule_view(rule: RuleResult, as_of_local: str) -> RuleView:
    return RuleView(
        id=rule.id,
        title=words.rule_title(rule.id),
        status=rule.status,
        css=charts.status_class(rule.status),
        measured=words.figure(rule.measured, rule.id),
        target=words.figure(rule.target, rule.id),
        judged=rule.judged,
        pending=rule.pending,
        violations=len(rule.violations),
        sentence=words.rule_sentence(rule, as_of_local),
        bullet=charts.bullet_chart(rule.measured, rule.target, rule.status),
    )


def funnel(rule: RuleResult | None) -> charts.Chart | None:
    data = rule.details.get("funnel") if rule else None
    return charts.funnel_chart(data) if isinstance(data, Mapping) else None


def speed(rule: RuleResult | None) -> charts.Chart | None:
    histogram = rule.details.get("minutes_histogram") if rule else None
    if rule is None or not isinstance(histogram, Mapping):
        return None
    untouched = rule.details.get("untouched")
    within = str(rule.details.get("within") or "")
    return charts.speed_chart(histogram, untouched, within)


def speed_note(rule: RuleResult | None) -> str:
    if rule is None:
        return ""
    details = rule.details
    parts = [
        f"{label} {details[key]:.1f} business minutes"
        for key, label in (("median_minutes", "median"), ("p90_minutes", "p90"))
        if details.get(key) is not None
    ]
    lead = "Judged handoffs by business minutes from handoff to first attempt; left of the "
    lead += "dashed line is within the SLA, 'none' got no attempt by the deadline."
    return lead + (f" {', '.join(parts).capitalize()}." if parts else "")


def attempts(rule: RuleResult | None) -> charts.Chart | None:
    histogram = rule.details.get("attempts_histogram") if rule else None
    if rule is None or not isinstance(histogram, Mapping) or not histogram:
        return None
    minimum = rule.details.get("min_attempts")
    return charts.attempts_chart(histogram, minimum if isinstance(minimum, int) else None)


def attempts_note(rule: RuleResult | None) -> str:
    if rule is None:
        return ""
    minimum = rule.details.get("min_attempts")
    text = "Judged handoffs by counted attempts in the window (dials closer than the SLA's "
    text += "minimum gap count once)."
    if minimum is not None:
        text += f" The SLA asks for at least {minimum} unless the lead was reached earlier."
    mean = rule.details.get("mean_attempts")
    if mean is not None:
        text += f" Mean {mean:.1f}."
    return text


def split_rows(rule: RuleResult | None, key: str) -> list[SplitRow]:
    """Conversion by segment or lead source, largest group first."""
    groups = rule.details.get(key) if rule else None
    if not isinstance(groups, Mapping):
        return []
    rows = [(str(name), group) for name, group in groups.items() if isinstance(group, Mapping)]
    rows.sort(key=lambda item: (-(item[1].get("handoffs") or 0), item[0]))
    return [
        SplitRow(
            name=name,
            handoffs=words.number(group.get("handoffs")),
            progressed=words.number(group.get("progressed")),
            share=display.share(group.get("share")),
        )
        for name, group in rows
    ]


def rep_views(rows: Sequence[RepRow], rule_ids: Sequence[str]) -> list[RepView]:
    views = []
    for rep, rep_rows in reps_worst_first(rows):
        by_rule = {r.rule: r for r in rep_rows}
        cells = []
        for rule_id in rule_ids:
            row = by_rule.get(rule_id)
            if row is None:
                cells.append(RepCell("", None, 0, 0))
                continue
            text = display.measure(row.measured, rep_unit(rule_id))
            cells.append(RepCell(text, row.measured, row.violations, row.pending))
        views.append(
            RepView(rep, rules_with_violations(rep_rows), violation_total(rep_rows), cells)
        )
    return views


def crm_link(url: str | None) -> str | None:
    """The URL if a browser may follow it as a plain link, else None (shown as text only)."""
    if not url:
        return None
    try:
        scheme = urlsplit(url.strip()).scheme.lower()
    except ValueError:
        return None
    return url.strip() if scheme in SAFE_SCHEMES else None


def violation_view(violation: Violation, timezone: str) -> ViolationView:
    return ViolationView(
        rule=words.rule_title(violation.rule),
        rep=violation.rep,
        lead=violation.lead,
        url=crm_link(violation.url),
        handoff=words.local_time(violation.handoff_at, timezone),
        reason=violation.reason,
    )


def trend_rows(result: AuditResult) -> tuple[list[str], list[TrendRow]]:
    """Per rule, its figure in each trend month and the audited one (the last column)."""
    if not result.trend:
        return [], []
    periods = [month.period for month in result.trend] + [result.period]
    rows = []
    for rule in result.rules:
        points = []
        for month in result.trend:
            got = month.rules.get(rule.id) or {}
            points.append((month.period, got.get("measured"), str(got.get("status") or "n/a")))
        points.append((result.period, rule.measured, rule.status))
        spark = [
            charts.SparkPoint(
                period, measured, status, f"{period}: {words.figure(measured, rule.id)} ({status})"
            )
            for period, measured, status in points
        ]
        rows.append(
            TrendRow(
                title=words.rule_title(rule.id),
                spark=charts.sparkline(spark, rule.target),
                cells=[
                    TrendCell(words.figure(measured, rule.id), charts.status_class(status), status)
                    for _, measured, status in points
                ],
            )
        )
    return periods, rows


# --- rendering --------------------------------------------------------------------------


def _asset(name: str) -> str:
    return resources.files("audit.reports").joinpath(TEMPLATES, name).read_text("utf-8")


def script_hash(script: str) -> str:
    """The CSP source that allows exactly this inline script and nothing else."""
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return "sha256-" + base64.b64encode(digest).decode("ascii")


@functools.cache
def _environment() -> jinja2.Environment:
    # Imported here: the table and JSON reports (and the CLI's start-up) do not pay for it.
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("audit.reports", TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["u"] = svg_number
    return env


def svg_number(value: float) -> str:
    """An SVG coordinate: one decimal, no "-0.0", no exponent."""
    text = f"{value:.1f}".removesuffix(".0")
    return "0" if text == "-0" else text


def render_html(result: AuditResult) -> str:
    """The whole report as one HTML document."""
    from markupsafe import Markup

    script = _asset("sort.js")
    css = _asset("report.css")
    template = _environment().get_template("report.html.j2")
    return template.render(
        page=build_page(result),
        css=Markup(css),
        script=Markup(script),
        script_hash=script_hash(script),
    )


def write_html(result: AuditResult, stream: TextIO) -> None:
    """Write the report to an open text stream."""
    stream.write(render_html(result))
