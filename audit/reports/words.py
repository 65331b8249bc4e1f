"""The audit's figures as sentences a RevOps lead can read aloud in the monthly review.

Only wording happens here. Each rule words its own figure (``Rule.sentence`` in its module
under :mod:`audit.rules`, from the pieces in :mod:`audit.wording`); this module adds what
spans rules: the headline, the period's title, local times and the SLA arithmetic. Every
detail key is optional (results from older versions, hand-made results in tests), and a
sentence simply leaves out what it does not have.

The output is plain text; the HTML template escapes it like any other string, so a rep
named ``<script>`` quoted in a sentence stays text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from audit.period import AuditInputError, parse_period
from audit.reports import display
from audit.reports.rule_facts import known_rule, rule_unit
from audit.result import AuditResult, RuleResult
from audit.wording import in_unit, local_instant, number, target_words

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def period_title(period: str) -> str:
    """``2026-10`` → ``October 2026``; anything else is returned as it is."""
    try:
        year, month = period.split("-")
        return f"{MONTHS[int(month) - 1]} {int(year)}"
    except (ValueError, IndexError):
        return display.clean(period)


def period_bounds(period: str, timezone: str) -> str:
    """The period's first and last instants in the SLA's zone: ``2026-10-01 00:00 -03:00 to
    2026-11-01 00:00 -03:00`` (the end is excluded); "" for a period this cannot read.

    The offsets are shown because a month can start and end on different ones (daylight
    saving), and "October" alone does not say whose midnight it starts at.
    """
    try:
        bounds = parse_period(period, ZoneInfo(timezone or "UTC"))
    except (AuditInputError, ZoneInfoNotFoundError, ValueError):
        return ""
    start, end = (local_instant(text, timezone) for text in (bounds.start_text, bounds.end_text))
    return f"{start} to {end}"


def provisional_banner(result: AuditResult) -> str:
    """The label of a month still running, or "" for a closed one.

    Every figure of an open month can still change (handoffs still in their window), so a
    reader must see this before the verdict, not in a footnote.
    """
    if not result.provisional:
        return ""
    return f"Provisional — month to date as of {local_instant(result.as_of, result.timezone)}"


def coverage_note(result: AuditResult) -> str:
    """Says when the snapshot's data does not cover the whole period; "" when it does.

    A month whose data starts on the 17th has fewer handoffs because the data is missing,
    not because marketing delivered less; the reader must know before judging the volume.
    """
    start = local_instant(result.data_start, result.timezone) if result.data_start else ""
    if result.coverage == "partial":
        return f"partly covered: data starts {start}" if start else "partly covered"
    if result.coverage == "none":
        return f"not covered: data starts {start}" if start else "not covered by the data"
    return ""


def money(value: float | None) -> str:
    """An amount in the SLA's (unnamed) currency: ``600000.0`` → ``600,000``."""
    return display.MISSING if value is None else f"{value:,.0f}"


def rule_title(rule_id: str) -> str:
    """A rule's title, or its id (made safe) for a rule this version does not know."""
    rule = known_rule(rule_id)
    return rule.title if rule is not None else display.clean(rule_id)


def figure(value: float | None, rule_id: str) -> str:
    """A rule's measured or target value in its unit ("82.0%" or "540")."""
    return in_unit(value, rule_unit(rule_id))


def headline(result: AuditResult) -> str:
    """The verdict in one sentence: which rules failed and warned, by name.

    A rule with no data is named as such and never counted with the failures: a month
    without handoffs is not a month the team broke the SLA.
    """
    by_status: dict[str, list[str]] = {}
    for rule in result.rules:
        by_status.setdefault(rule.status, []).append(rule_title(rule.id))
    total = len(result.rules)
    failed, warned = by_status.get("fail", []), by_status.get("warn", [])
    no_data = by_status.get("no_data", [])
    judged = total - len(by_status.get("n/a", [])) - len(no_data)
    if not judged:
        if no_data:
            return f"No data: nothing could be judged for this period ({total} of {total} rules)."
        return "Nothing could be judged for this period yet."
    parts = []
    if failed:
        parts.append(f"{len(failed)} of {total} rules fail ({', '.join(failed)})")
    if warned:
        verb = "warns" if len(warned) == 1 else "warn"
        parts.append(f"{len(warned)} {verb} ({', '.join(warned)})")
    if parts:
        parts.append(f"{len(by_status.get('pass', []))} pass")
    else:
        parts.append(f"Every judged rule meets its target ({judged} of {total} rules judged)")
    if no_data:
        parts.append(f"no data for {', '.join(no_data)}")
    return "; ".join(parts) + "."


# --- one sentence per rule --------------------------------------------------------------


def rule_sentence(rule: RuleResult, as_of_local: str = "") -> str:
    """What the rule's figure means, in words, with the pending handoffs when there are any.

    The words are the rule's own (:attr:`Rule.sentence`); a rule this version does not know
    gets a generic sentence.
    """
    known = known_rule(rule.id)
    writer = known.sentence if known is not None else _generic
    if rule.status == "no_data":
        text = "No data: no handoff in this period could be judged for this rule."
    elif rule.measured is None and rule.id != "mql_per_rep":
        text = "Nothing could be judged yet."
    else:
        text = writer(rule, rule.details, as_of_local)
    if rule.pending:
        noun = "handoff is" if rule.pending == 1 else "handoffs are"
        text += f" {rule.pending} more {noun} pending: their outcome is not known yet."
    return text


def _generic(rule: RuleResult, details: Mapping[str, Any], _: str) -> str:
    target = target_words(rule, rule_unit(rule.id))
    return f"Measured {figure(rule.measured, rule.id)} over {rule.judged} judged; {target}."


# --- the SLA arithmetic -----------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One line of the arithmetic: an operator, the SLA's input, and what it gives."""

    operator: str
    name: str
    value: str
    gives: str


@dataclass(frozen=True)
class Arithmetic:
    steps: list[Step]
    delivered: str
    needed: str
    needed_label: str
    meaning: str
    note: str


def arithmetic(rule: RuleResult) -> Arithmetic | None:
    """docs/SEMANTICS.md §6 as steps, and the period's MQLs in customers and revenue.

    Read from the ``mql_volume`` details the rule computed; None without goals in the SLA.
    """
    figures = rule.details.get("arithmetic")
    if not isinstance(figures, Mapping):
        return None
    complete = rule.details.get("period_complete", True)
    due = (
        figures.get("marketing_revenue_needed")
        if complete
        else figures.get("marketing_revenue_due")
    )
    expected = figures.get("revenue_expected")
    of_due = ""
    if expected is not None and due:
        when = "this month" if complete else "by now"
        of_due = f": {display.share(expected / due)} of the {money(due)} marketing owes {when}"
    meaning = (
        f"At the SLA's {display.share(figures.get('mql_to_customer'))} MQL → customer rate, "
        f"{number(rule.measured)} MQLs should become about "
        f"{number(figures.get('customers_expected'))} customers, "
        f"≈ {money(expected)} of revenue{of_due}."
    )
    return Arithmetic(
        steps=_steps(figures),
        delivered=number(rule.measured),
        needed=number(rule.target),
        needed_label="needed this month" if complete else "due by now",
        meaning=meaning,
        note=_goals_note(figures.get("mqls_needed"), rule.details.get("needed_per_month")),
    )


def _steps(figures: Mapping[str, Any]) -> list[Step]:
    """Revenue goal × marketing's share ÷ deal size ÷ MQL → customer rate = MQLs a month."""
    return [
        Step("", "Revenue goal a month", money(figures.get("revenue_per_month")), ""),
        Step(
            "×",
            "share expected from marketing",
            display.share(figures.get("marketing_share")),
            f"= {money(figures.get('marketing_revenue_needed'))} from marketing",
        ),
        Step(
            "÷",
            "average deal size",
            money(figures.get("average_deal_size")),
            f"= {number(figures.get('customers_needed'))} customers",
        ),
        Step(
            "÷",
            "MQL → customer rate",
            display.share(figures.get("mql_to_customer")),
            f"= {number(figures.get('mqls_needed'))} MQLs a month",
        ),
    ]


def _goals_note(mqls_needed: float | None, month_target: float | None) -> str:
    """Says so when the SLA's fixed monthly MQL target is not what its goals work out to."""
    if (
        month_target is not None
        and mqls_needed is not None
        and abs(month_target - mqls_needed) > 1e-9
    ):
        return (
            f"The SLA fixes {number(month_target)} MQLs a month; the goals above would need "
            f"{number(mqls_needed)}."
        )
    return ""
