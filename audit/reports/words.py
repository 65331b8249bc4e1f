"""The audit's figures as sentences a RevOps lead can read aloud in the monthly review.

Only wording happens here. Counts come back from the rule's own figures: a share is
``compliant / judged``, so ``round(measured × judged)`` is exactly the compliant count, not
an estimate. Every detail key is optional (results from older versions, hand-made results
in tests), and a sentence simply leaves out what it does not have.

The output is plain text; the HTML template escapes it like any other string, so a rep
named ``<script>`` quoted in a sentence stays text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from audit.reports import display
from audit.reports.units import rule_unit
from audit.result import RULE_TITLES, AuditResult, RuleResult

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
NAMES_SHOWN = 3

STATUS_WORDS: dict[str, str] = {
    "pass": "meets its target",
    "warn": "is short of its target, within the warn margin",
    "fail": "misses its target by more than the warn margin",
    "n/a": "could not be judged",
}


def period_title(period: str) -> str:
    """``2026-10`` → ``October 2026``; anything else is returned as it is."""
    try:
        year, month = period.split("-")
        return f"{MONTHS[int(month) - 1]} {int(year)}"
    except (ValueError, IndexError):
        return display.clean(period)


def local_time(instant: str | None, timezone: str, *, seconds: bool = False) -> str:
    """A snapshot instant as local wall time ``2026-10-02 15:00`` in the SLA's time zone.

    People think of a handoff in their office's time; the CSV keeps the UTC original.
    Unparseable text or an unknown zone falls back to the text as it is.
    """
    if not instant:
        return display.MISSING
    try:
        moment = datetime.fromisoformat(instant.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            return display.clean(instant)
        local = moment.astimezone(ZoneInfo(timezone)) if timezone else moment
    except (ValueError, ZoneInfoNotFoundError):
        return display.clean(instant)
    return local.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def money(value: float | None) -> str:
    """An amount in the SLA's (unnamed) currency: ``600000.0`` → ``600,000``."""
    return display.MISSING if value is None else f"{value:,.0f}"


def number(value: float | None) -> str:
    """A count with thousands separators; a fractional one keeps one decimal."""
    if value is None:
        return display.MISSING
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.1f}"


def compliant_count(rule: RuleResult) -> int | None:
    """How many judged handoffs complied: ``measured`` is that count over ``judged``."""
    if rule.measured is None:
        return None
    return round(rule.measured * rule.judged)


def rule_title(rule_id: str) -> str:
    return RULE_TITLES.get(rule_id, display.clean(rule_id))


def figure(value: float | None, rule_id: str) -> str:
    """A rule's measured or target value in its unit ("82.0%" or "540")."""
    if rule_unit(rule_id) == "count":
        return number(value)
    return display.share(value)


def headline(result: AuditResult) -> str:
    """The verdict in one sentence: which rules failed and warned, by name."""
    by_status: dict[str, list[str]] = {}
    for rule in result.rules:
        by_status.setdefault(rule.status, []).append(rule_title(rule.id))
    total = len(result.rules)
    failed, warned = by_status.get("fail", []), by_status.get("warn", [])
    if not result.rules or len(by_status.get("n/a", [])) == total:
        return "Nothing could be judged for this period yet."
    parts = []
    if failed:
        parts.append(f"{len(failed)} of {total} rules fail ({', '.join(failed)})")
    if warned:
        verb = "warns" if len(warned) == 1 else "warn"
        parts.append(f"{len(warned)} {verb} ({', '.join(warned)})")
    if not parts:
        judged = total - len(by_status.get("n/a", []))
        return f"Every judged rule meets its target ({judged} of {total} rules judged)."
    passed = len(by_status.get("pass", []))
    parts.append(f"{passed} pass")
    return "; ".join(parts) + "."


# --- one sentence per rule --------------------------------------------------------------


def rule_sentence(rule: RuleResult, as_of_local: str = "") -> str:
    """What the rule's figure means, in words, with the pending handoffs when there are any."""
    writer = _SENTENCES.get(rule.id, _generic)
    if rule.measured is None and rule.id != "mql_per_rep":
        text = "Nothing could be judged yet."
    else:
        text = writer(rule, rule.details, as_of_local)
    if rule.pending:
        noun = "handoff is" if rule.pending == 1 else "handoffs are"
        text += f" {rule.pending} more {noun} pending: their outcome is not known yet."
    return text


def _target(rule: RuleResult) -> str:
    if rule.target is None:
        return "no target set in the SLA"
    return f"target {figure(rule.target, rule.id)}"


def _of(rule: RuleResult) -> str:
    return f"{compliant_count(rule)} of {rule.judged}"


def _volume(rule: RuleResult, d: Mapping[str, Any], _: str) -> str:
    delivered = number(rule.measured)
    if rule.target is None:
        return f"Marketing handed sales {delivered} MQLs; the SLA sets no monthly volume."
    if d.get("period_complete", True):
        return f"Marketing handed sales {delivered} MQLs; the SLA asks for {number(rule.target)}."
    elapsed = d.get("elapsed_share")
    month = d.get("needed_per_month")
    so_far = f" ({display.share(elapsed)} of the month)" if elapsed is not None else ""
    full = f", {number(month)} for the whole month" if month is not None else ""
    return (
        f"Marketing handed sales {delivered} MQLs so far; {number(rule.target)} were due by "
        f"now{so_far}{full}."
    )


def _range(d: Mapping[str, Any]) -> str:
    low, high = d.get("min"), d.get("max")
    if low is not None and high is not None:
        return f"between {number(low)} and {number(high)}"
    if low is not None:
        return f"at least {number(low)}"
    if high is not None:
        return f"at most {number(high)}"
    return "the agreed number of"


def _names(counts: Mapping[str, Any]) -> str:
    items = [f"{display.clean(name)} ({number(n)})" for name, n in counts.items()]
    more = len(items) - NAMES_SHOWN
    shown = ", ".join(items[:NAMES_SHOWN])
    return f"{shown} and {more} more" if more > 0 else shown


def _per_rep(rule: RuleResult, d: Mapping[str, Any], _: str) -> str:
    if d.get("configured") is False:
        return "The SLA sets no MQLs-per-rep range, so the spread across reps is not judged."
    if rule.measured is None:
        return "There were no reps to judge."
    text = f"{_of(rule)} reps received {_range(d)} MQLs ({_target(rule)} of reps)."
    outside = d.get("out_of_range") or {}
    if isinstance(outside, Mapping) and outside:
        text += f" Outside the range: {_names(outside)}."
    return text


def _speed(rule: RuleResult, d: Mapping[str, Any], _: str) -> str:
    within = d.get("within")
    limit = f"within {within} of business time" if within else "within the SLA's first-touch time"
    text = f"{_of(rule)} judged handoffs got a first attempt {limit} ({_target(rule)})."
    median, p90 = d.get("median_minutes"), d.get("p90_minutes")
    if median is not None and p90 is not None:
        text += f" Median {median:.1f}, p90 {p90:.1f} business minutes."
    untouched = d.get("untouched")
    if untouched:
        text += f" {untouched} got no attempt at all by the deadline."
    return text


def _coverage(rule: RuleResult, d: Mapping[str, Any], _: str) -> str:
    window = d.get("window")
    span = f"the {window} window" if window else "the attempt window"
    return f"{_of(rule)} judged handoffs had at least one attempt within {span} ({_target(rule)})."


def _attempts(rule: RuleResult, d: Mapping[str, Any], _: str) -> str:
    minimum, window = d.get("min_attempts"), d.get("window")
    tries = f"at least {minimum} counted attempts" if minimum is not None else "enough attempts"
    span = f" within {window}" if window else ""
    text = f"{_of(rule)} judged handoffs were reached or got {tries}{span} ({_target(rule)})."
    connected = d.get("connected")
    if connected is not None:
        text += f" {connected} were reached."
    return text


def _recycling(rule: RuleResult, d: Mapping[str, Any], _: str) -> str:
    text = (
        f"{_of(rule)} judged handoffs never reached were handed back to marketing in time, "
        f"after enough attempts and with a reason, or progressed ({_target(rule)})."
    )
    problems = [
        f"{d[key]} {words}"
        for key, words in (
            ("premature", "recycled too early"),
            ("no_reason", "recycled without a valid reason"),
            ("stuck", "neither recycled nor progressed"),
        )
        if d.get(key)
    ]
    if problems:
        text += " " + _capital(", ".join(problems)) + "."
    return text


def _conversion(rule: RuleResult, d: Mapping[str, Any], as_of_local: str) -> str:
    by = f" by {as_of_local}" if as_of_local else " by the audit's as-of"
    return f"{_of(rule)} handoffs became SQL or went further{by} ({_target(rule)})."


def _generic(rule: RuleResult, d: Mapping[str, Any], _: str) -> str:
    return f"Measured {figure(rule.measured, rule.id)} over {rule.judged} judged; {_target(rule)}."


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


_SENTENCES = {
    "mql_volume": _volume,
    "mql_per_rep": _per_rep,
    "speed_to_lead": _speed,
    "coverage": _coverage,
    "attempts": _attempts,
    "recycling": _recycling,
    "conversion": _conversion,
}


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
    """SLA_SEMANTICS.md §6 as steps, and the period's MQLs in customers and revenue.

    Read from the ``mql_volume`` details the rule computed; None without goals in the SLA.
    """
    a = rule.details.get("arithmetic")
    if not isinstance(a, Mapping):
        return None
    steps = [
        Step("", "Revenue goal a month", money(a.get("revenue_per_month")), ""),
        Step(
            "×",
            "share expected from marketing",
            display.share(a.get("marketing_share")),
            f"= {money(a.get('marketing_revenue_needed'))} from marketing",
        ),
        Step(
            "÷",
            "average deal size",
            money(a.get("average_deal_size")),
            f"= {number(a.get('customers_needed'))} customers",
        ),
        Step(
            "÷",
            "MQL → customer rate",
            display.share(a.get("mql_to_customer")),
            f"= {number(a.get('mqls_needed'))} MQLs a month",
        ),
    ]
    complete = rule.details.get("period_complete", True)
    due = a.get("marketing_revenue_needed") if complete else a.get("marketing_revenue_due")
    expected = a.get("revenue_expected")
    of_due = ""
    if expected is not None and due:
        when = "this month" if complete else "by now"
        of_due = f": {display.share(expected / due)} of the {money(due)} marketing owes {when}"
    meaning = (
        f"At the SLA's {display.share(a.get('mql_to_customer'))} MQL → customer rate, "
        f"{number(rule.measured)} MQLs should become about "
        f"{number(a.get('customers_expected'))} customers, "
        f"≈ {money(expected)} of revenue{of_due}."
    )
    note = ""
    mqls_needed, month_target = a.get("mqls_needed"), rule.details.get("needed_per_month")
    if (
        month_target is not None
        and mqls_needed is not None
        and abs(month_target - mqls_needed) > 1e-9
    ):
        note = (
            f"The SLA fixes {number(month_target)} MQLs a month; the goals above would need "
            f"{number(mqls_needed)}."
        )
    return Arithmetic(
        steps=steps,
        delivered=number(rule.measured),
        needed=number(rule.target),
        needed_label="needed this month" if complete else "due by now",
        meaning=meaning,
        note=note,
    )
