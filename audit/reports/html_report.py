"""The HTML report: one self-contained page for the monthly marketing–sales review.

Everything is inside the file: the stylesheet, the charts (inline SVG from
:mod:`audit.reports.charts`) and two small scripts, one that sorts the per-rep table and one
that shows one rule's or one rep's violations (:mod:`audit.reports.html_evidence`); the
page reads fine without them. No fonts, images, CDNs or network requests, so the page opens
the same from a mail attachment, an intranet share or a phone, and prints on A4 landscape
with the verdict and every rule card on page one.

Safety: every CRM-supplied string (rep emails, lead ids, reasons, segments, the SLA name)
goes through Jinja2's autoescaping, so a lead named ``<script>alert(1)</script>`` is shown
as those characters. CRM links are emitted only for ``http``/``https`` URLs (a
``javascript:`` URL would run on click), and a Content-Security-Policy lets the browser run
exactly the one inline script (both scripts, joined) whose hash we put there, nothing
injected beside it.

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

from audit.outcome_claims import MIN_GROUP
from audit.reports import attribution, charts, display, words
from audit.reports.html_evidence import Evidence, build_evidence, crm_link, rule_anchor
from audit.reports.html_splits import SplitTable, split_tables
from audit.reports.html_teams import TeamView, team_views
from audit.reports.html_trend import TrendRow, trend_rows
from audit.reports.ordering import (
    reps_too_few,
    reps_worst_first,
    rules_with_violations,
    violation_total,
)
from audit.reports.rep_figures import counts_and_interval, too_few_title
from audit.reports.rule_facts import rep_unit
from audit.reports.speed_outcome_chart import SpeedOutcomeView, speed_outcome_views
from audit.reports.teams import team_of_rep
from audit.result import AuditResult, RepRow, RuleResult
from audit.wording import capital, human_duration, local_instant

if TYPE_CHECKING:
    import jinja2

__all__ = ["build_page", "crm_link", "render_html", "write_html"]

TEMPLATES = "templates"
SCRIPTS = ("sort.js", "filter.js")


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
    anchor: str
    sentence: str
    bullet: charts.Chart
    splits: list[SplitTable] = field(default_factory=list)
    late: str = ""
    """Speed to lead: whose fault the late touches were ("late touches: 5 routing, …")."""
    late_by_team: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class RepCell:
    text: str
    sort: float | None
    violations: int
    pending: int
    detail: str = ""
    """A share's counts and 95 % interval ("3/4, 30–95%"); "" for a count."""
    late: str = ""
    """Speed to lead: the rep's late touches by fault (:mod:`audit.reports.attribution`)."""


@dataclass
class RepView:
    rep: str
    anchor: str | None
    rules_broken: int
    violations: int
    cells: list[RepCell]
    team: str | None = None
    """The rep's team ("(no team)"; "" for ``unassigned``); None when the SLA has none."""
    name: str | None = None
    """The rep's CRM name, shown above the email (issue 15, item 7)."""


@dataclass
class SplitRow:
    name: str
    handoffs: str
    progressed: str
    share: str


@dataclass
class Page:
    """Everything the template shows, already in words; the template only lays it out."""

    sla: str
    period: str
    period_title: str
    period_bounds: str
    coverage_note: str
    provisional: str
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
    evidence: Evidence
    pending: list[tuple[str, int]]
    notes: list[str]
    trend_periods: list[str] = field(default_factory=list)
    trend: list[TrendRow] = field(default_factory=list)
    team_rules: list[str] = field(default_factory=list)
    teams: list[TeamView] = field(default_factory=list)
    speed_outcome: list[SpeedOutcomeView] = field(default_factory=list)
    speed_outcome_min: int = MIN_GROUP
    reps_too_few: list[RepView] = field(default_factory=list)
    """Reps with too few judged handoffs to rank, by name (shown apart)."""
    too_few_title: str = ""


def build_page(result: AuditResult) -> Page:
    """The report's content for ``result``, every value formatted, nothing computed."""
    as_of_local = local_instant(result.as_of, result.timezone)
    by_id = {rule.id: rule for rule in result.rules}
    conversion = by_id.get("conversion")
    rep_rule_ids = [rule.id for rule in result.rules if rule.reps]
    evidence = build_evidence(result.violations, result.timezone)
    trend_periods, trend = trend_rows(result)
    team_rules, teams = team_views(result)
    reps = rep_views(reps_worst_first(result.reps), rep_rule_ids, evidence.anchors())
    too_few = rep_views(reps_too_few(result.reps), rep_rule_ids, evidence.anchors())
    if result.teams:
        rep_teams = team_of_rep(result.teams)
        for rep in reps + too_few:
            rep.team = rep_teams.get(rep.rep, "")
    rules = [rule_view(rule, as_of_local) for rule in result.rules]
    add_attribution(result, rules, reps + too_few, rep_rule_ids)
    return Page(
        sla=result.sla,
        period=result.period,
        period_title=words.period_title(result.period),
        period_bounds=words.period_bounds(result.period, result.timezone),
        coverage_note=words.coverage_note(result),
        provisional=words.provisional_banner(result),
        status=display.status_word(result.status),
        css=charts.status_class(result.status),
        headline=words.headline(result),
        as_of_local=as_of_local,
        as_of_utc=result.as_of,
        timezone=result.timezone,
        arithmetic=words.arithmetic(by_id["mql_volume"]) if "mql_volume" in by_id else None,
        rules=rules,
        funnel=funnel(conversion),
        speed=speed(by_id.get("speed_to_lead")),
        speed_note=speed_note(by_id.get("speed_to_lead")),
        attempts=attempts(by_id.get("attempts")),
        attempts_note=attempts_note(by_id.get("attempts")),
        by_segment=split_rows(conversion, "by_segment"),
        by_lead_source=split_rows(conversion, "by_lead_source"),
        rep_rules=[words.rule_title(r) for r in rep_rule_ids],
        reps=reps,
        evidence=evidence,
        pending=[(words.rule_title(r.id), r.pending) for r in result.rules if r.pending],
        notes=list(result.data_notes),
        trend_periods=trend_periods,
        trend=trend,
        team_rules=team_rules,
        teams=teams,
        speed_outcome=speed_outcome_views(result),
        reps_too_few=too_few,
        too_few_title=too_few_title(result.rep_min_judged),
    )


def rule_view(rule: RuleResult, as_of_local: str) -> RuleView:
    return RuleView(
        id=rule.id,
        title=words.rule_title(rule.id),
        status=display.status_word(rule.status),
        css=charts.status_class(rule.status),
        measured=words.figure(rule.measured, rule.id),
        target=words.figure(rule.target, rule.id),
        judged=rule.judged,
        pending=rule.pending,
        violations=len(rule.violations),
        anchor=rule_anchor(rule.id),
        sentence=words.rule_sentence(rule, as_of_local),
        bullet=charts.bullet_chart(rule.measured, rule.target, rule.status),
        splits=split_tables(rule),
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
        f"{label} {human_duration(details[key], business=True)}"
        for key, label in (("median_minutes", "median"), ("p90_minutes", "p90"))
        if isinstance(details.get(key), int | float)
    ]
    lead = "Judged handoffs by business time from handoff to first attempt; left of the "
    lead += "dashed line is within the SLA, 'none' got no attempt by the deadline."
    return lead + (f" {capital(', '.join(parts))}." if parts else "")


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


def add_attribution(
    result: AuditResult, rules: list[RuleView], reps: list[RepView], rep_rule_ids: list[str]
) -> None:
    """Speed to lead's late touches by fault: on its card, and in each rep's cell."""
    if attribution.RULE_ID not in rep_rule_ids:
        return
    for rule in rules:
        if rule.id == attribution.RULE_ID:
            rule.late = attribution.late_overall(result)
            teams = attribution.late_by(result, "attribution_by_team", lead=False)
            rule.late_by_team = sorted(teams.items())
    by_rep = attribution.late_by(result, "attribution_by_rep")
    column = rep_rule_ids.index(attribution.RULE_ID)
    for rep in reps:
        rep.cells[column].late = by_rep.get(rep.rep, "")


def rep_views(
    grouped: Sequence[tuple[str, list[RepRow]]], rule_ids: Sequence[str], anchors: Mapping[str, str]
) -> list[RepView]:
    """Reps in the order given (worst first, or the too-few by name); a rep with violations
    links to their group in the violations."""
    views = []
    for rep, rep_rows in grouped:
        by_rule = {r.rule: r for r in rep_rows}
        cells = []
        for rule_id in rule_ids:
            row = by_rule.get(rule_id)
            if row is None:
                cells.append(RepCell("", None, 0, 0))
                continue
            text = display.measure(row.measured, rep_unit(rule_id))
            detail = counts_and_interval(row)
            cells.append(RepCell(text, row.measured, row.violations, row.pending, detail))
        broken, total = rules_with_violations(rep_rows), violation_total(rep_rows)
        name = next((r.rep_name for r in rep_rows if r.rep_name), None)
        views.append(RepView(rep, anchors.get(rep), broken, total, cells, name=name))
    return views


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

    script = "\n".join(_asset(name) for name in SCRIPTS)
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
