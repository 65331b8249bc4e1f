"""One reading order for evidence, shared by the table and the CSV files.

The table's "first 20 violations" must be the first 20 rows of ``violations.csv``, or
"see --format csv" would send the reader to a list that starts somewhere else. Ordering is
by rep, then handoff instant (ISO-8601 in one fixed format, so text order is time order),
then rule in the audit's rule order, then lead; Python's sort is stable, so ties keep the
audit's own order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from audit.result import RULE_IDS, PendingHandoff, RepRow, Violation


def rule_rank(rule_id: str, rule_order: Sequence[str] = RULE_IDS) -> tuple[int, str]:
    """Position of a rule in ``rule_order``; unknown rules after, alphabetically."""
    try:
        return (rule_order.index(rule_id), "")
    except ValueError:
        return (len(rule_order), rule_id)


def sort_violations(rows: Iterable[Violation]) -> list[Violation]:
    """Violations by rep, handoff time, rule, lead."""
    return sorted(rows, key=lambda v: (v.rep, v.handoff_at, rule_rank(v.rule), v.lead))


def sort_pending(rows: Iterable[PendingHandoff]) -> list[PendingHandoff]:
    """Pending handoffs by rep, handoff time, rule, lead (as violations)."""
    return sorted(rows, key=lambda p: (p.rep, p.handoff_at, rule_rank(p.rule), p.lead))


def sort_rep_rows(rows: Iterable[RepRow]) -> list[RepRow]:
    """Per-rep rows by rep, then rule order."""
    return sorted(rows, key=lambda r: (r.rep, rule_rank(r.rule)))
