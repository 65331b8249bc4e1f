"""The SLA's promise in plain words: what ``run_audit.py check`` prints.

The author reads it against the signed contract, so it spells out how the file was
understood: the derived volume with its arithmetic, the business calendar, each target.
"""

from __future__ import annotations

from datetime import time, timedelta

from config.durations import duration_words
from config.sla.funnel import FunnelStage
from config.sla.holidays import Holidays
from config.sla.hours import DAYS, END_OF_DAY, Hours
from config.sla.model import RULE_IDS, SLA
from config.sla.wording import join_words
from config.sources import SOURCES


def _amount_words(value: float) -> str:
    """1000000 -> ``1,000,000``; 612.5 -> ``612.5``."""
    if abs(value - round(value)) < 1e-9:
        return f"{round(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _percent(share: float) -> str:
    return f"{round(share * 100, 4):g}%"


def _clock_words(moment: time) -> str:
    return "24:00" if moment == END_OF_DAY else moment.strftime("%H:%M")


def _days_words(days: list[int]) -> str:
    """[0, 1, 2, 3, 4] -> ``Mon-Fri``; [0, 2, 4] -> ``Mon, Wed, Fri``."""
    runs: list[list[int]] = []
    for day in days:
        if runs and day == runs[-1][-1] + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    names = [DAYS[day].capitalize() for day in range(7)]
    parts = [
        names[run[0]] if len(run) == 1 else f"{names[run[0]]}-{names[run[-1]]}" for run in runs
    ]
    return ", ".join(parts)


def _hours_words(hours: Hours) -> str:
    """Opening hours grouped by identical days: ``09:00-12:00, 13:00-18:00 Mon-Fri``."""
    groups: dict[tuple[tuple[time, time], ...], list[int]] = {}
    for day in range(7):
        if hours[day]:
            groups.setdefault(tuple(hours[day]), []).append(day)
    parts = []
    for intervals, days in groups.items():
        spans = ", ".join(f"{_clock_words(a)}-{_clock_words(b)}" for a, b in intervals)
        parts.append(f"{spans} {_days_words(days)}")
    return "; ".join(parts)


def _value_words(value: str) -> str:
    """A raw CRM value in a sentence: quoted when it has spaces ("Marketing Qualified")."""
    return f'"{value}"' if " " in value else value


def _stage_words(source: str, spec: FunnelStage) -> str:
    words = SOURCES[source].funnel_fields
    parts = [
        f"{words[field]} {join_words([_value_words(v) for v in values], 'or')}"
        for field, values in (("stage", spec.stage), ("status", spec.status))
        if values
    ]
    if spec.converted:
        parts.append("lead conversion")
    return f"{SOURCES[source].title} {join_words(parts, 'or')}"


def _marketing_sentence(sla: SLA) -> str:
    marketing, goals = sla.marketing, sla.goals
    target = sla.mqls_target()
    if target is None:
        text = "Marketing has no monthly MQL volume target"
    else:
        text = f"Marketing delivers {_amount_words(target)} MQLs a month"
        if marketing.mqls_per_month == "derived" and goals is not None:
            text += (
                f" (derived: {_amount_words(goals.revenue_per_month)} revenue × "
                f"{goals.marketing_share:g} ÷ {_amount_words(goals.average_deal_size)} deal = "
                f"{_amount_words(goals.customers_needed())} customers ÷ "
                f"{goals.mql_to_customer:g})"
            )
    per_rep = marketing.per_rep
    if per_rep is not None:
        if per_rep.min is not None and per_rep.max is not None:
            spread = f"{per_rep.min} to {per_rep.max} per rep"
        elif per_rep.min is not None:
            spread = f"at least {per_rep.min} per rep"
        else:
            spread = f"at most {per_rep.max} per rep"
        if per_rep.target < 1:
            spread += f" for {_percent(per_rep.target)} of reps"
        text += f", {spread}"
    if marketing.mql_to_sql is not None:
        text += f", of which {_percent(marketing.mql_to_sql.target)} become SQLs"
        if marketing.mql_to_sql.after is not None:
            text += f" (each judged {duration_words(marketing.mql_to_sql.after)} after its handoff)"
    return text + "."


def _holiday_words(holidays: Holidays) -> list[str]:
    """ "9 holidays", "BR-SP public holidays and 2 more days", or nothing."""
    count = len(holidays.dates)
    listed = f"{count} holiday" if count == 1 else f"{count} holidays"
    if holidays.country is None:
        return [listed] if count else []
    region = "-".join(filter(None, [holidays.country, holidays.subdivision]))
    more = f" and {count} more day{'s' if count != 1 else ''}" if count else ""
    return [f"{region} public holidays{more}"]


def _sales_sentence(sla: SLA) -> str:
    sales = sla.sales
    first, attempts, coverage, recycle = (
        sales.first_touch,
        sales.attempts,
        sales.coverage,
        sales.recycle,
    )
    hours = sla.opening_hours()
    calendar = [_hours_words(hours) if hours is not None else "24×7", sla.timezone]
    calendar += _holiday_words(sla.holidays)
    within = duration_words(first.within)
    if hours is not None:
        amount, unit = within.split(" ", 1)
        within = f"{amount} business {unit}"
    window = duration_words(attempts.window)
    channels = join_words(list(attempts.channels), "or")
    reasons = f" ({join_words(recycle.reasons, 'or')})" if recycle.reasons else ""
    return (
        f"Sales touches each MQL within {within} ({', '.join(calendar)}) for "
        f"{_percent(first.target)} of leads; works {_percent(coverage.target)} of MQLs at "
        f"least once within {window}; makes at least {attempts.min} attempts by {channels}"
        f"{_per_channel_words(attempts.per_channel)} over {window}, at least "
        f"{duration_words(attempts.min_gap)} apart{_max_gap_words(attempts.max_gap, hours)}, "
        f"until the lead is reached, for {_percent(attempts.target)} of leads; and recycles "
        "unreachable "
        f"leads within {duration_words(recycle.grace)} after the window, with a reason in "
        f"{recycle.reason_field}{reasons}, for {_percent(recycle.target)} of them."
        f"{_compare_words(sales.compare_reps.min_judged)}"
    )


def _compare_words(min_judged: int) -> str:
    """How reps are compared: each share with its 95 % interval, the few apart."""
    if min_judged == 0:
        return " Every rep is ranked, each share with its 95% interval."
    return (
        f" A rep with fewer than {min_judged} judged handoffs in every rule is shown apart, "
        "too few to judge, and not ranked; each rep's share has its 95% interval."
    )


def _per_channel_words(per_channel: dict[str, int]) -> str:
    """`` (of them at least 3 calls and 2 emails)``, or "" with no per-channel minimum."""
    if not per_channel:
        return ""
    asked = [f"{least} {name}{'' if least == 1 else 's'}" for name, least in per_channel.items()]
    return f" (of them at least {join_words(asked, 'and')})"


def _max_gap_words(gap: timedelta | None, hours: object) -> str:
    """``, never more than 16 business hours between two`` (cadence), or ""."""
    if gap is None:
        return ""
    amount, unit = duration_words(gap).split(" ", 1)
    business = "business " if hours is not None else ""
    return f", never more than {amount} {business}{unit} between two"


def _tier_change(block: str, key: str, value: object, business: bool) -> str:
    """One overridden key in words: ``first touch within 5 business minutes``."""
    if (block, key) == ("first_touch", "within") and isinstance(value, timedelta):
        amount, unit = duration_words(value).split(" ", 1)
        return f"first touch within {amount} {'business ' if business else ''}{unit}"
    if (block, key) == ("attempts", "min"):
        return f"at least {value} attempt{'' if value == 1 else 's'}"
    if key == "target":
        return f"{block.replace('_', ' ')} target {_percent(float(value))}"  # type: ignore[arg-type]
    if isinstance(value, timedelta):
        value = duration_words(value)
    phrases = {
        ("attempts", "window"): f"an attempts window of {value}",
        ("attempts", "min_gap"): f"attempts at least {value} apart",
        ("attempts", "max_gap"): f"no more than {value} (business time) between attempts",
        ("attempts", "per_channel"): "per channel at least "
        + (
            join_words([f"{n} {c}{'' if n == 1 else 's'}" for c, n in value.items()], "and")
            if isinstance(value, dict) and value
            else "nothing"
        ),
        ("recycle", "grace"): f"recycling within {value} after the window",
    }
    return phrases.get((block, key), f"{block}.{key} {value}")


def _tiers_sentence(sla: SLA) -> str:
    """The splits, and each tier with what it changes, in the order a handoff meets them."""
    fields = sla.segments
    text = (
        f"Every rule is split by segment ({fields.segment_field}) and by lead source "
        f"({fields.source_field})."
    )
    if not sla.tiers:
        return text
    parts = []
    for tier in sla.tiers:
        when = " and ".join(
            f"{key} {join_words(sorted(values), 'or')}" for key, values in tier.when.keys().items()
        )
        changes = [
            _tier_change(block, key, value, sla.business_hours is not None)
            for block, keys in tier.overrides().items()
            for key, value in keys.items()
        ]
        parts.append(f'"{tier.name}" ({when}): {join_words(changes, "and")}')
    return (
        f"{text} Tiers, the first that matches a handoff judging it: {'; '.join(parts)}. "
        "Other handoffs keep the promise above (tier base), and every rule is also split by tier."
    )


def _margin_sentence(sla: SLA) -> str:
    default = sla.marketing.warn_margin
    overrides = [
        f"{rule} {_percent(sla.warn_margin(rule))}"
        for rule in RULE_IDS
        if sla.warn_margin(rule) != default
    ]
    extra = f" ({', '.join(overrides)} for those rules)" if overrides else ""
    return f"A rule short of its target by at most {_percent(default)} of it warns{extra}."


def summarize(sla: SLA) -> str:
    """What the SLA promises, in one paragraph a RevOps lead can check against the contract.

    Used by ``run_audit.py check`` so the author sees how the file was understood (the
    derived volume with its arithmetic, the business calendar, each rule's target).
    """
    handoffs = join_words(
        [_stage_words(source, stages["mql"]) for source, stages in sla.funnel.items()], "or"
    )
    sentences = [
        f"{sla.name.strip().rstrip('.')}.",
        _marketing_sentence(sla),
        f"An MQL handoff is {handoffs}.",
        _sales_sentence(sla),
        _tiers_sentence(sla),
        _margin_sentence(sla),
    ]
    return " ".join(sentences)


def holiday_list(sla: SLA, year: int) -> str:
    """The year's holidays, one per line (``2026-10-12 Sun  Our Lady of Aparecida``), or ""."""
    days = sla.holidays.resolved([year])
    lines = [f"  {day.isoformat()} {day.strftime('%a')}  {name}" for day, name in days.items()]
    return f"Holidays in {year}:\n" + "\n".join(lines) if lines else ""
