"""Does the CRM use the values the SLA file names? (issue 15: never silently wrong)

A funnel value that no lead ever took — most often a display label written where the CRM's
internal value belongs (``Marketing Qualified Lead`` for ``marketingqualifiedlead``) —
turns a rule into a quiet zero: no handoff, no recycle, no progress. Each such value is
named here with its SLA key and, where the snapshot holds a value it matches but for case
and punctuation, the value to write instead. The other way round, a value the CRM sets
often that the funnel maps to nothing (a custom "partner qualified" stage used as a
handoff) loses those leads without a word: each is named with how often it was set,
unless it is one of the CRM's own defaults that sit outside the funnel (HubSpot's
``subscriber`` and ``lead``, its working lead statuses, Salesforce's open statuses).

Read from the ``field_values`` derived table (every value each field has taken, with its
first instant), as seen at as-of, so a report stays the same from a later snapshot. A
source or field of which the snapshot holds no value at all is not judged: the SLA may map
a CRM that is not synced yet.
"""

from __future__ import annotations

import difflib
import re
import sqlite3
from collections import defaultdict

from config.sla import SLA

FIELDS = ("stage", "status", "lead_stage")
"""The funnel keys that name raw values (``converted`` is an event, not a value)."""

LEAD_STAGE = "lead_stage"
"""Stages of HubSpot's Leads object: a portal may not use it at all, which is worth a word
even though the field then has no value in the snapshot."""

LISTED = 6
"""Values the CRM uses that a note lists when nothing resembles the missing one."""

FREQUENT_SHARE = 0.05
FREQUENT_MIN = 20
"""An unmapped value is "frequent" when set at least this often (share of the field's sets
for that source, and count): rarer ones are typos and test records, not a lost stage."""

OUTSIDE_THE_FUNNEL: dict[tuple[str, str], frozenset[str]] = {
    ("hubspot", "stage"): frozenset({"subscriber", "lead", "evangelist", "other"}),
    ("hubspot", "status"): frozenset(
        {"NEW", "OPEN", "IN_PROGRESS", "OPEN_DEAL", "ATTEMPTED_TO_CONTACT", "CONNECTED"}
    ),
    ("salesforce", "status"): frozenset(
        {"Open - Not Contacted", "Working - Contacted", "Closed - Converted"}
    ),
}
"""The CRMs' default values that mean "not (yet) in the SLA's funnel": never worth a note."""


def seen_values(conn: sqlite3.Connection, as_of: str | None) -> dict[tuple[str, str], set[str]]:
    """(source, field) → the values taken by as-of (None: every value the snapshot holds)."""
    seen: dict[tuple[str, str], set[str]] = defaultdict(set)
    for source, field, value in conn.execute(
        "select source, field, value from field_values where ? is null or first_at <= ?",
        [as_of, as_of],
    ):
        seen[(source, field)].add(value)
    return seen


def funnel_value_notes(conn: sqlite3.Connection, sla: SLA, as_of: str | None) -> list[str]:
    """One warning per SLA value that no lead has taken by as-of, naming its key, and one per
    frequent value of a funnel field that no stage maps."""
    seen = seen_values(conn, as_of)
    notes = []
    for source, mapping in sla.funnel.items():
        for stage, spec in mapping.items():
            for field in FIELDS:
                used = seen.get((source, field))
                key = f"funnel.{source}.{stage}.{field}"
                if field == LEAD_STAGE and not used and _synced(seen, source):
                    if getattr(spec, field):
                        notes.append(_no_lead_objects(key))
                    continue
                for value in (getattr(spec, field) or []) if used else []:
                    if value not in used:
                        notes.append(_never_seen(key, value, used))
    return notes + unmapped_value_notes(conn, sla)


def ambiguous_labels(conn: sqlite3.Connection, sla: SLA) -> list[str]:
    """One line per funnel value that is no value of the CRM but the label of several.

    Which value was meant cannot be guessed, and either guess gives other numbers, so
    ``check --db`` and the audit refuse it (exit 2) rather than warn. Read from the labels
    the sync stored (``value_labels``); a snapshot without them has nothing to say.
    """
    try:
        rows = conn.execute("select source, field, value, label from value_labels").fetchall()
    except sqlite3.OperationalError:  # a file written before labels were synced
        return []
    values_of: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for source, field, value, label in rows:
        if label:
            values_of[(source, field, str(label).strip().lower())].append(value)
    problems = []
    for source, mapping in sla.funnel.items():
        for stage, spec in mapping.items():
            for field in FIELDS:
                for named in getattr(spec, field) or []:
                    meant = sorted(values_of.get((source, field, named.strip().lower()), []))
                    if len(meant) > 1 and named not in meant:
                        shown = " and ".join(repr(v) for v in meant)
                        problems.append(
                            f"funnel.{source}.{stage}.{field}: {named!r} is the CRM's label "
                            f"of {len(meant)} values, {shown}: write the value you mean"
                        )
    return problems


def unmapped_value_notes(conn: sqlite3.Connection, sla: SLA) -> list[str]:
    """A note per value set often in a field the funnel reads, yet mapped to no stage."""
    times: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    for source, field, value, count in conn.execute(
        "select source, field, value, times from field_values where times > 0"
    ):
        times[(source, field)][value] = count
    notes = []
    for source, mapping in sla.funnel.items():
        for field in FIELDS:
            mapped = {v for spec in mapping.values() for v in getattr(spec, field) or []}
            counts = times.get((source, field), {})
            if not mapped or not counts:
                continue
            total = sum(counts.values())
            ignored = mapped | OUTSIDE_THE_FUNNEL.get((source, field), frozenset())
            for value, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
                if value in ignored or count < max(FREQUENT_MIN, FREQUENT_SHARE * total):
                    continue
                notes.append(
                    f"funnel.{source}: {field} value {value!r} was set {count:,} times "
                    f"({count / total:.0%} of that field's changes) and no stage maps it; if "
                    f"leads are handed off, progress or are recycled with it, list it under "
                    f"funnel.{source}.<stage>.{field}"
                )
    return notes


def _synced(seen: dict[tuple[str, str], set[str]], source: str) -> bool:
    """Whether the snapshot holds any history of this source (it has been synced)."""
    return any(name == source for name, _ in seen)


def _no_lead_objects(key: str) -> str:
    return (
        f"{key}: no lead of the snapshot has a Leads-object stage — the portal does not use "
        "HubSpot's Leads object, or the token lacks crm.objects.leads.read — so no handoff, "
        "recycle or progress can come from lead stages"
    )


def _never_seen(key: str, value: str, used: set[str]) -> str:
    text = f"{key}: {value!r} never occurs in the snapshot"
    same = [v for v in sorted(used) if _squashed(v) == _squashed(value)]
    if same:
        return f"{text}; the CRM's own value is {same[0]!r}: write that, not its label"
    close = difflib.get_close_matches(value, sorted(used), n=1, cutoff=0.85)
    if close:
        return f"{text}; did you mean {close[0]!r}?"
    shown = ", ".join(repr(v) for v in sorted(used)[:LISTED])
    more = f" and {len(used) - LISTED} more" if len(used) > LISTED else ""
    return f"{text}; the CRM's values there are {shown}{more}"


def _squashed(value: str) -> str:
    """A value without case, spaces or punctuation: how a label and its value compare."""
    return re.sub(r"[^0-9a-z]", "", value.lower())
