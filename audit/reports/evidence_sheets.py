"""The evidence tables of the spreadsheet reports: violations and pending handoffs.

Rows in :func:`~audit.reports.ordering.sort_violations` / ``sort_pending`` order (worst
rep first, as the terminal shows them), keys beside the CRM's names (rep name, lead name,
company), and each instant a rule gives as a column of its own. Column kinds are those of
:mod:`audit.reports.sheets`.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import attrgetter

from audit.reports import attribution, words
from audit.reports.ordering import sort_pending, sort_violations
from audit.reports.sheets import OFFSET_SUFFIX, Column, Sheet
from audit.result import AuditResult, Violation
from audit.wording import clean

KEY_COLUMNS = [
    Column("Rep"),
    Column("Rep name"),
    Column("Rule"),
    Column("Handed off", "instant"),
    Column("Lead"),
    Column("Lead name"),
    Column("Company"),
    Column("CRM id"),
]
"""Who, which rule, when and which lead: the first columns of both evidence tables."""

VIOLATION_COLUMNS = [
    *KEY_COLUMNS,
    Column("Source"),
    Column("Kind"),
    Column("Reason"),
    Column("Link"),
]


def instant_names(violations: Sequence[Violation]) -> list[str]:
    """The instant names any violation carries, in first-seen order (a stable header)."""
    seen: dict[str, None] = {}
    for violation in violations:
        seen.update(dict.fromkeys(violation.instants))
    return list(seen)


def instant_headers(names: Sequence[str], taken: Sequence[str]) -> list[str]:
    """``first_touch_at`` → "First touch"; a header already used gets the name added."""
    used = set(taken)
    headers = []
    for name in names:
        header = clean(name.removesuffix("_at").replace("_", " ")).capitalize()
        if header in used or f"{header}{OFFSET_SUFFIX}" in used:
            header = f"{header} ({clean(name)})"
        used.add(header)
        headers.append(header)
    return headers


def violations_sheet(result: AuditResult) -> Sheet:
    """One row per violation in :func:`sort_violations` order, its instants at the end."""
    listed = sort_violations(result.violations)
    names = instant_names(listed)
    taken = [c.header for c in VIOLATION_COLUMNS]
    extra = [Column(h, "instant") for h in instant_headers(names, taken)]
    tiered = any(v.tier for v in listed)  # only an SLA with tiers has a Tier column
    tier = [Column("Tier")] if tiered else []
    attributed = attribution.any_attributed(listed)  # speed to lead's late touches
    whose = [Column(attribution.HEADER)] if attributed else []
    sheet = Sheet("violations", [*VIOLATION_COLUMNS, *tier, *whose, *extra])
    sheet.rows = [
        (
            v.rep,
            v.rep_name,
            words.rule_title(v.rule),
            v.handoff_at,
            v.lead,
            v.lead_name,
            v.company,
            v.crm_id,
            v.source,
            v.kind.replace("_", " "),
            v.reason,
            v.url,
            *((v.tier,) if tiered else ()),
            *((v.attributed_to,) if attributed else ()),
            *(v.instants.get(name) for name in names),
        )
        for v in listed
    ]
    return sheet


PENDING_COLUMNS = [
    *KEY_COLUMNS,
    Column("Decided by"),
    Column("Link"),
]


#: A pending handoff's cells after Rep, Rep name and Rule (:data:`PENDING_COLUMNS` order).
_REST = attrgetter("handoff_at", "lead", "lead_name", "company", "crm_id", "decided_by", "url")


def pending_sheet(result: AuditResult) -> Sheet:
    """Handoffs whose outcome is not known yet, by rep, handoff time and rule."""
    listed = sort_pending(result.pending)
    tiered = any(p.tier for p in listed)
    rows = [
        (p.rep, p.rep_name, words.rule_title(p.rule), *_REST(p)) + ((p.tier,) if tiered else ())
        for p in listed
    ]
    return Sheet("pending", [*PENDING_COLUMNS, *([Column("Tier")] if tiered else [])], rows)
