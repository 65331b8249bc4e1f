"""Figures as words: the pieces every sentence about an audit is built from.

The rules word their own one-line sentence (:attr:`audit.rules.rule.Rule.sentence`) and the
reports word everything else; both need the same few pieces, and they live here, below
both, so that a rule never imports a report (the report package imports the rules' registry).

Counts come back from the rule's own figures: a share is ``compliant / judged``, so
``round(measured × judged)`` is exactly the compliant count, not an estimate.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from audit.result import RuleResult

if TYPE_CHECKING:
    from audit.rules.rule import Unit

MISSING = "—"

_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def clean(value: object) -> str:
    """CRM text made safe for a terminal or a mail.

    Lead and company names come from the CRM, typed by anyone: an escape character would
    let a name recolour or erase the report, a newline would break its columns, and bidi
    overrides would reorder what a reader sees. Control characters become spaces and bidi
    controls are dropped; everything else (accents, emoji) is kept.
    """
    text = "" if value is None else str(value)
    return "".join(
        " " if unicodedata.category(ch) == "Cc" else ch for ch in text if ch not in _BIDI_CONTROLS
    )


def share(value: float | None) -> str:
    """A fraction 0–1 as a percentage with one decimal: 0.82 → "82.0%"."""
    return MISSING if value is None else f"{value * 100:.1f}%"


def number(value: float | None) -> str:
    """A count with thousands separators; a fractional one keeps one decimal."""
    if value is None:
        return MISSING
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.1f}"


def in_unit(value: float | None, unit: Unit) -> str:
    """A measured or target value in words, in its unit ("82.0%" or "540")."""
    if unit == "count":
        return number(value)
    return share(value)


def compliant_count(rule: RuleResult) -> int | None:
    """How many judged handoffs complied: ``measured`` is that count over ``judged``."""
    if rule.measured is None:
        return None
    return round(rule.measured * rule.judged)


def compliant_of_judged(rule: RuleResult) -> str:
    """``"12 of 40"``: compliant handoffs (or reps) of those judged."""
    return f"{compliant_count(rule)} of {rule.judged}"


def target_words(rule: RuleResult, unit: Unit) -> str:
    """``"target 80.0%"``, or that the SLA sets none."""
    if rule.target is None:
        return "no target set in the SLA"
    return f"target {in_unit(rule.target, unit)}"


def capital(text: str) -> str:
    """The text with its first character upper-cased (the rest left alone)."""
    return text[:1].upper() + text[1:]


def human_duration(minutes: float | None, *, business: bool) -> str:
    """A duration as people say it: ``132.0`` → ``"2 h 12 min (business)"``.

    Whole minutes, rounded to the nearest (a reader never needs 3140.4); under a minute
    it is seconds. Business time is counted in hours only, never days: a business "day"
    depends on the SLA's opening hours, and "52 h" of business time is unambiguous.
    Calendar time of a day or more says days. ``business`` adds "(business)" so a reader
    knows nights and weekends were not counted.
    """
    if minutes is None or minutes != minutes:  # None or NaN
        return MISSING
    suffix = " (business)" if business else ""
    if abs(minutes) < 1:
        return f"{round(minutes * 60)} s{suffix}"
    total = round(minutes)
    sign, total = ("-" if total < 0 else ""), abs(total)
    days, rest = divmod(total, 24 * 60) if not business else (0, total)
    hours, mins = divmod(rest, 60)
    parts = [f"{days} d"] if days else []
    if hours:
        parts.append(f"{hours} h")
    if mins or not parts:
        parts.append(f"{mins} min")
    return sign + " ".join(parts) + suffix


def local_instant(instant: str | None, timezone: str, *, seconds: bool = False) -> str:
    """A snapshot instant (UTC text) in the SLA's time zone with its offset.

    ``2026-10-02T13:00:00.000Z`` in Europe/Paris → ``"2026-10-02 15:00 +02:00"``. The offset
    is always written because it changes within a month (daylight saving), and a reader
    comparing two instants must not have to know when. Text that is not an instant comes
    back cleaned but unchanged.
    """
    if not instant:
        return MISSING
    try:
        moment = datetime.fromisoformat(instant.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            return clean(instant)
        local = moment.astimezone(ZoneInfo(timezone)) if timezone else moment
    except (ValueError, ZoneInfoNotFoundError):
        return clean(instant)
    stamp = local.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
    offset = local.strftime("%z")
    return f"{stamp} {offset[:3]}:{offset[3:]}"
