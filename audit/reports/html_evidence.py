"""The HTML report's violations: one group per rep, worst rep first, every rep present.

A reader scans the top of the list, so the rep who broke the SLA most often leads it, and
nobody may fall off the end: every rep with a violation gets a group with their full count,
even when the page shows only some of their rows. Within a group the first
:data:`SHOWN_OPEN` rows are visible and the rest sit in a ``<details>`` ("show all 37"),
which needs no script.

A large month (the 1M-lead benchmark has over 100,000 violations) would make a page no
browser opens comfortably, so rows per rep are capped (:data:`ROWS_PER_REP`, fewer when
there are many reps, never below :data:`SHOWN_OPEN`) and the page states exactly how many
rows of each rep are left to ``violations.csv``. Only the rows shown are formatted.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from audit.names import lead_words
from audit.reports import words
from audit.reports.attribution import any_attributed
from audit.reports.ordering import rule_rank, violations_by_rep
from audit.result import Violation
from audit.wording import local_instant

SHOWN_OPEN = 5
ROWS_PER_REP = 50
PAGE_ROWS = 5000
SAFE_SCHEMES = frozenset({"http", "https"})


@dataclass
class ViolationView:
    rule_id: str
    rule: str
    lead: str
    url: str | None
    handoff: str
    reason: str
    lead_key: str = ""
    """The lead's snapshot id, shown as the name's tooltip (issue 15, item 7)."""
    attributed_to: str = ""
    """Speed to lead's ``routing`` / ``rep`` / ``both``; "" for other rules."""


@dataclass
class RuleCount:
    """A rule's violations (in a group or overall), with the anchor that filters to it."""

    id: str
    anchor: str
    title: str
    count: int


@dataclass
class RepGroup:
    anchor: str
    rep: str
    total: int
    by_rule: list[RuleCount]
    open_rows: list[ViolationView]
    more_rows: list[ViolationView]
    not_shown: int
    name: str | None = None
    """The rep's CRM name (``rep`` is the email, shown beside it)."""

    @property
    def rule_ids(self) -> str:
        """The group's rules as one attribute value, for the filter script."""
        return " ".join(count.id for count in self.by_rule)


@dataclass
class Evidence:
    groups: list[RepGroup]
    total: int
    rules: list[RuleCount]
    per_rep: int
    attributed: bool = False
    """Whether any violation is attributed: the tables then have an "attributed to" column."""

    @property
    def not_shown(self) -> int:
        return sum(group.not_shown for group in self.groups)

    def anchors(self) -> dict[str, str]:
        """Each rep's group anchor (reps without violations have none)."""
        return {group.rep: group.anchor for group in self.groups}


def slug(rule_id: str) -> str:
    """A rule id safe in an element id and a CSS-free attribute (``speed_to_lead`` as is)."""
    return re.sub(r"[^a-z0-9_-]", "-", rule_id.lower()) or "rule"


def rule_anchor(rule_id: str) -> str:
    """The fragment that shows only this rule's violations (``#only-speed_to_lead``)."""
    return f"only-{slug(rule_id)}"


def rule_counts(rows: Iterable[Violation]) -> list[RuleCount]:
    """Violations per rule, in the audit's rule order."""
    counted = Counter(v.rule for v in rows)
    return [
        RuleCount(slug(rule_id), rule_anchor(rule_id), words.rule_title(rule_id), n)
        for rule_id, n in sorted(counted.items(), key=lambda item: rule_rank(item[0]))
    ]


def rows_per_rep(reps: int) -> int:
    """How many rows of each rep the page shows: the page's budget shared out, capped."""
    return max(SHOWN_OPEN, min(ROWS_PER_REP, PAGE_ROWS // max(1, reps)))


def crm_link(url: str | None) -> str | None:
    """The URL if a browser may follow it as a plain link, else None (shown as text only).

    A ``javascript:`` or ``data:`` URL typed into a CRM would run on click.
    """
    if not url:
        return None
    try:
        scheme = urlsplit(url.strip()).scheme.lower()
    except ValueError:
        return None
    return url.strip() if scheme in SAFE_SCHEMES else None


def violation_view(violation: Violation, timezone: str) -> ViolationView:
    return ViolationView(
        rule_id=slug(violation.rule),
        rule=words.rule_title(violation.rule),
        lead=lead_words(violation.lead_name, violation.company, violation.email, violation.crm_id),
        url=crm_link(violation.url),
        handoff=local_instant(violation.handoff_at, timezone),
        reason=violation.reason,
        lead_key=violation.lead,
        attributed_to=violation.attributed_to,
    )


def build_evidence(violations: Iterable[Violation], timezone: str) -> Evidence:
    """Every rep's group, worst first (:func:`violations_by_rep`), capped for the page."""
    listed = list(violations)
    grouped = violations_by_rep(listed)
    per_rep = rows_per_rep(len(grouped))
    groups = []
    for i, (rep, rows) in enumerate(grouped, start=1):
        shown = [violation_view(v, timezone) for v in rows[:per_rep]]
        groups.append(
            RepGroup(
                anchor=f"rep-{i}",
                rep=rep,
                total=len(rows),
                by_rule=rule_counts(rows),
                open_rows=shown[:SHOWN_OPEN],
                more_rows=shown[SHOWN_OPEN:],
                not_shown=len(rows) - len(shown),
                name=next((v.rep_name for v in rows if v.rep_name), None),
            )
        )
    attributed = any_attributed(listed)
    return Evidence(groups, len(listed), rule_counts(listed), per_rep, attributed)
