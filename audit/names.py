"""Names, not ids (issue 15, item 7): reps by their CRM names, leads by name and company,
funnel values by the CRM's labels — read from the snapshot once the rules have judged.

The rules key everything by what never changes: a rep by email (else the owner id), a lead
by its snapshot id, a value as the CRM stores it. People read names, so after the rules run
:func:`name_evidence` puts on each evidence row and rep row the names the reports show
beside those keys; the keys stay as they were (docs/CONTRACTS.md adds fields, renames
none). Only the leads that appear in the evidence are read — at a million leads a month's
evidence names tens of thousands, not the whole cohort.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from audit.handoffs import UNASSIGNED
from audit.result import RuleResult

CHUNK = 500
"""Ids per ``IN (…)`` query: well under SQLite's variable limit."""


@dataclass(frozen=True)
class LeadCard:
    """What a report says about a lead besides its id: who, which company, which address."""

    name: str | None
    company: str | None
    email: str | None


@dataclass(frozen=True)
class ValueLabels:
    """The CRM's display labels of funnel values, by (source, field, value)."""

    by_value: dict[tuple[str, str, str], str]

    def label(self, source: str, field: str, value: str | None) -> str | None:
        """The label of ``value`` (None when the CRM gave none, or it is the value itself)."""
        if not value:
            return None
        label = self.by_value.get((source, field, value))
        return label if label and label != value else None

    def words(self, source: str, field: str, value: str) -> str:
        """``Marketing Qualified Lead (marketingqualifiedlead)``, or the value alone."""
        label = self.label(source, field, value)
        return f"{label} ({value})" if label else value


def read_value_labels(conn: sqlite3.Connection) -> ValueLabels:
    """Every stored label; none from a snapshot no sync has read labels into yet."""
    try:
        rows = conn.execute("select source, field, value, label from value_labels").fetchall()
    except sqlite3.OperationalError:  # a file opened read-only before its upgrade
        return ValueLabels({})
    return ValueLabels({(s, f, v): label for s, f, v, label in rows if label})


def rep_names(conn: sqlite3.Connection) -> dict[str, str]:
    """Rep key → the CRM's name for that person, keyed as the audit keys reps (the
    lower-cased email where the CRM has one, else the owner id; audit/context.py)."""
    names: dict[str, str] = {}
    rows = conn.execute("select id, email, name from owners order by id").fetchall()
    for owner_id, email, name in rows:
        if not isinstance(name, str) or not name.strip():
            continue
        key = email.strip().lower() if isinstance(email, str) and email.strip() else owner_id
        names.setdefault(key, name.strip())
    return names


def lead_cards(conn: sqlite3.Connection, lead_ids: Iterable[str]) -> dict[str, LeadCard]:
    """Name, company and email of each of ``lead_ids`` (snapshot ids) that the file holds."""
    ids = sorted(set(lead_ids))
    cards: dict[str, LeadCard] = {}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        marks = ",".join("?" * len(chunk))
        # Blank text reads as no value; SQLite trims, so Python only builds the cards.
        for lead_id, *fields in conn.execute(
            "select id, nullif(trim(name), ''), nullif(trim(company), ''), "
            f"nullif(trim(email), '') from leads where id in ({marks})",
            chunk,
        ):
            cards[lead_id] = LeadCard(*fields)
    return cards


def name_evidence(conn: sqlite3.Connection, rules: Sequence[RuleResult]) -> None:
    """Put names on every rule's rep rows, violations and pending handoffs (in place)."""
    reps = rep_names(conn)
    evidence = [row for rule in rules for row in (*rule.violations, *rule.pending_handoffs)]
    cards = lead_cards(conn, (row.lead for row in evidence))
    blank = LeadCard(None, None, None)
    for row in evidence:
        card = cards.get(row.lead, blank)
        row.lead_name, row.company, row.email = card.name, card.company, card.email
        row.rep_name = reps.get(row.rep)
    for rule in rules:
        for rep_row in rule.reps:
            rep_row.rep_name = reps.get(rep_row.rep)


def lead_words(name: str | None, company: str | None, email: str | None, crm_id: str) -> str:
    """A lead as people say it: ``Ana Lopez (Acme)``; the email, then the CRM id, when the
    CRM has no name (the company is added to either)."""
    who = name or email or f"CRM id {crm_id}"
    return f"{who} ({company})" if company else who


def rep_words(rep: str, name: str | None) -> str:
    """``Ana Silva <ana@acme.example>``; the key alone without a name (and ``unassigned``)."""
    if not name or rep == UNASSIGNED or name == rep:
        return rep
    return f"{name} <{rep}>"
