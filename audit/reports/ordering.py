"""One reading order for evidence, shared by the table and the CSV files.

The table's "first 20 violations" must be the first 20 rows of ``violations.csv``, or
"see --format csv" would send the reader to a list that starts somewhere else. Violations
are worst first: grouped by rep, the rep with the most violations first (then by name), and
within a rep by handoff instant (ISO-8601 in one fixed format, so text order is time order),
then rule in the audit's rule order, then lead. Python's sort is stable, so ties keep the
audit's own order.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

from audit.result import RULE_IDS, PendingHandoff, RepRow, Violation


def rule_rank(rule_id: str, rule_order: Sequence[str] = RULE_IDS) -> tuple[int, str]:
    """Position of a rule in ``rule_order``; unknown rules after, alphabetically."""
    try:
        return (rule_order.index(rule_id), "")
    except ValueError:
        return (len(rule_order), rule_id)


def sort_violations(rows: Iterable[Violation]) -> list[Violation]:
    """Violations worst rep first (most violations, then name), then handoff time, rule, lead.

    A reader looks at the top of the list; the rep who broke the SLA most often must be
    there, with all of their rows together.
    """
    listed = list(rows)
    per_rep = Counter(v.rep for v in listed)
    return sorted(
        listed, key=lambda v: (-per_rep[v.rep], v.rep, v.handoff_at, rule_rank(v.rule), v.lead)
    )


def violations_by_rep(rows: Iterable[Violation]) -> list[tuple[str, list[Violation]]]:
    """:func:`sort_violations` cut into one group per rep, worst rep first."""
    groups: dict[str, list[Violation]] = {}
    for violation in sort_violations(rows):
        groups.setdefault(violation.rep, []).append(violation)
    return list(groups.items())


def sort_pending(rows: Iterable[PendingHandoff]) -> list[PendingHandoff]:
    """Pending handoffs by rep, handoff time, rule, lead (as violations)."""
    return sorted(rows, key=lambda p: (p.rep, p.handoff_at, rule_rank(p.rule), p.lead))


def sort_rep_rows(rows: Iterable[RepRow]) -> list[RepRow]:
    """Per-rep rows by rep, then rule order."""
    return sorted(rows, key=lambda r: (r.rep, rule_rank(r.rule)))


def rules_with_violations(rows: Sequence[RepRow]) -> int:
    """How many rules a rep broke at least once.

    This is what "worst first" ranks by. The model has no per-rep status, and judging a rep
    against the rule's target here would be a verdict the rule did not give; violations
    are the rule's own evidence.
    """
    return sum(1 for r in rows if r.violations)


def violation_total(rows: Sequence[RepRow]) -> int:
    """A rep's violations over all rules (the tie-break after rules broken)."""
    return sum(r.violations for r in rows)


def reps_worst_first(rows: Iterable[RepRow]) -> list[tuple[str, list[RepRow]]]:
    """Each ranked rep with their rows, most rules broken first, then most violations, then
    name.

    The table and the HTML report both list reps in this order, so the rep at the top of
    the terminal is the rep at the top of the page. A rep with too few judged handoffs to
    judge (no ``judgeable`` row, :mod:`audit.rep_judging`) is not ranked: see
    :func:`reps_too_few`.
    """
    by_rep = _by_rep(rows)
    ranked = [rep for rep in by_rep if ranked_rep(by_rep[rep])]
    order = sorted(
        ranked,
        key=lambda rep: (-rules_with_violations(by_rep[rep]), -violation_total(by_rep[rep]), rep),
    )
    return [(rep, by_rep[rep]) for rep in order]


def reps_too_few(rows: Iterable[RepRow]) -> list[tuple[str, list[RepRow]]]:
    """The reps with too few judged handoffs to rank, by name (shown apart, never ranked)."""
    by_rep = _by_rep(rows)
    return [(rep, by_rep[rep]) for rep in sorted(by_rep) if not ranked_rep(by_rep[rep])]


def ranked_rep(rows: Sequence[RepRow]) -> bool:
    """Whether a rep is ranked: some rule judged enough of their handoffs."""
    return any(row.judgeable for row in rows)


def _by_rep(rows: Iterable[RepRow]) -> dict[str, list[RepRow]]:
    by_rep: dict[str, list[RepRow]] = defaultdict(list)
    for row in rows:
        by_rep[row.rep].append(row)
    return by_rep
