"""Data notes about doubtful records: kept in the figures, named in the report.

A sync keeps every record the CRM sends, even a doubtful one (see ``connectors/quality``),
because refusing it would stop the night's sync and fixing it silently would move the
figures without a trace. The price is that the report must say what it counted in good
faith. This module finds, for the leads the audited period touches:

* instants the sync had to read without a time zone (taken as UTC) — ``data_issues``;
* instants later than the sync that read them (a clock or import error in the CRM) —
  ``data_issues``; such a lead or activity stays out of the audit until as-of passes it;
* leads and activities whose owner the snapshot does not know (a user removed from the
  CRM before the first sync): they are reported under the owner id;
* live leads sharing one email address (possible duplicates, each audited on its own);
* contacts that absorbed others in a HubSpot merge (``hs_merged_object_ids``) while the
  snapshot still holds a merged one as a separate lead, synced before the merge.

Every query is read-only and set-based; each note names at most a few examples.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from datetime import datetime

from audit.period import Period
from snapshot.instants import format_instant
from snapshot.schema import FUTURE_INSTANT, NAIVE_INSTANT

EXAMPLES = 3


def quality_notes(conn: sqlite3.Connection, period: Period, as_of: datetime) -> list[str]:
    """Notes on doubtful records among the leads ``period`` touches, as of ``as_of``."""
    until = format_instant(min(period.end, as_of))
    as_of_text = format_instant(as_of)
    tables = {r[0] for r in conn.execute("select name from sqlite_master where type = 'table'")}
    if "leads" not in tables or "lead_history" not in tables:
        return []
    _scope(conn, period.start_text, until)
    try:
        notes: list[str] = []
        if "data_issues" in tables:
            notes += _issue_notes(conn)
        if "owners" in tables:
            notes += _unknown_owner_notes(conn, as_of_text)
        notes += _duplicate_notes(conn, as_of_text)
        notes += _merge_notes(conn, as_of_text)
        return notes
    finally:
        conn.execute("drop table if exists temp.quality_leads")


def _scope(conn: sqlite3.Connection, since: str, until: str) -> None:
    """The leads the period touches: created in it, or with a funnel change in it.

    History is read per field (its few distinct values found by :func:`distinct_values`)
    so that each read is a range of the ``(field, changed_at, …)`` index.
    """
    conn.execute("drop table if exists temp.quality_leads")
    conn.execute("create temp table quality_leads (lead_id text primary key)")
    conn.execute(
        "insert or ignore into temp.quality_leads select id from leads "
        "where created_at >= ? and created_at < ?",
        [since, until],
    )
    for field in distinct_values(conn, "lead_history", "field"):
        conn.execute(
            "insert or ignore into temp.quality_leads select lead_id from lead_history "
            "where field = ? and changed_at >= ? and changed_at < ?",
            [field, since, until],
        )


def distinct_values(conn: sqlite3.Connection, table: str, column: str) -> list[str]:
    """The distinct non-null values of an indexed column, one index seek per value.

    A "skip scan" written out: the next value is the least one greater than the last.
    Owners and history fields have a handful of values among millions of rows.
    """
    rows = conn.execute(
        f"with recursive v(x) as (select min({column}) from {table} union all "
        f"select (select min({column}) from {table} where {column} > v.x) from v "
        "where v.x is not null) select x from v where x is not null"
    ).fetchall()
    return [r[0] for r in rows]


def _marks(values: list[str]) -> str:
    return ",".join("?" * len(values))


def _examples(items: list[str]) -> str:
    shown = ", ".join(items[:EXAMPLES])
    return shown + (f" and {len(items) - EXAMPLES} more" if len(items) > EXAMPLES else "")


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


def _issue_notes(conn: sqlite3.Connection) -> list[str]:
    # Driven from data_issues (a handful of rows in a healthy CRM): each issue's record is
    # checked against the period's leads through primary keys.
    rows = conn.execute(
        "select d.issue, d.record_table, d.record_id, d.field, d.value from data_issues d "
        "where d.record_table = 'leads' and d.record_id in (select lead_id from "
        "temp.quality_leads) union all select d.issue, d.record_table, d.record_id, d.field, "
        "d.value from data_issues d where d.record_table = 'activities' and exists (select 1 "
        "from activity_leads al where al.activity_id = d.record_id and al.lead_id in "
        "(select lead_id from temp.quality_leads)) order by 1, 2, 3, 4"
    ).fetchall()
    found: dict[str, list[str]] = defaultdict(list)
    for issue, _table, record_id, field, value in rows:
        found[issue].append(f"{record_id} {field} {value!r}")
    notes = []
    if found[NAIVE_INSTANT]:
        items = found[NAIVE_INSTANT]
        notes.append(
            f"{_plural(len(items), 'timestamp')} had no time zone and "
            f"{'was' if len(items) == 1 else 'were'} read as UTC, as the CRM stores them "
            f"(records kept): {_examples(items)}"
        )
    if found[FUTURE_INSTANT]:
        items = found[FUTURE_INSTANT]
        notes.append(
            f"{_plural(len(items), 'timestamp')} lay after the sync that read "
            f"{'it' if len(items) == 1 else 'them'} (a clock or import error in the CRM; "
            "records kept, counted only once as-of passes them): " + _examples(items)
        )
    return notes


def _unknown_owner_notes(conn: sqlite3.Connection, as_of: str) -> list[str]:
    # Owners are few: find the unknown ones among the distinct owner ids first (index skip
    # scans), and count records only for those — usually none.
    known = {r[0] for r in conn.execute("select id from owners")}
    lead_owners = [
        owner for owner in distinct_values(conn, "leads", "owner_id") if owner not in known
    ]
    activity_owners = [
        owner for owner in distinct_values(conn, "activities", "owner_id") if owner not in known
    ]
    rows = conn.execute(
        "select l.owner_id, count(*) from leads l where l.owner_id in "
        f"({_marks(lead_owners)}) and l.id in (select lead_id from temp.quality_leads) "
        "and (l.created_at is null or l.created_at <= ?) group by l.owner_id order by 2 desc, 1",
        [*lead_owners, as_of],
    ).fetchall()
    activity_rows = conn.execute(
        "select a.owner_id, count(*) from activities a where a.owner_id in "
        f"({_marks(activity_owners)}) and a.occurred_at <= ? and exists (select 1 from "
        "activity_leads al where al.activity_id = a.id and al.lead_id in (select lead_id "
        "from temp.quality_leads)) group by a.owner_id order by 2 desc, 1",
        [*activity_owners, as_of],
    ).fetchall()
    notes = []
    if rows:
        leads = sum(count for _, count in rows)
        owners = [owner for owner, _ in rows]
        notes.append(
            f"{_plural(leads, 'lead')} belong to {_plural(len(owners), 'owner')} the CRM no "
            f"longer lists (reported under the owner id): {_examples(owners)}"
        )
    if activity_rows:
        count = sum(logged for _, logged in activity_rows)
        owners = [owner for owner, _ in activity_rows]
        notes.append(
            f"{_plural(count, 'activity', 'activities')} were logged by "
            f"{_plural(len(owners), 'owner')} the CRM no longer lists: {_examples(owners)}"
        )
    return notes


def _live(alias: str) -> str:
    """SQL: the lead existed and was not deleted at as-of (one ``?`` each for as-of)."""
    return (
        f"({alias}.created_at is null or {alias}.created_at <= ?) and not "
        f"(coalesce({alias}.is_deleted, 0) = 1 and ({alias}.deleted_at is null or "
        f"{alias}.deleted_at <= ?))"
    )


def _duplicate_notes(conn: sqlite3.Connection, as_of: str) -> list[str]:
    # email_counts (a derived table) counts every lead per normalised email; only the keys
    # counted more than once (its partial index) can be shared by two live leads.
    shared = [r[0] for r in conn.execute("select email_key from email_counts where leads > 1")]
    rows = conn.execute(
        "select lower(trim(l.email)) as mail, group_concat(l.id, ' ') from leads l where "
        f"l.email is not null and trim(l.email) != '' and {_live('l')} and lower(trim("
        f"l.email)) in ({_marks(shared)}) and lower(trim(l.email)) in (select lower(trim("
        "s.email)) from leads s where s.email is not null and trim(s.email) != '' and "
        f"lower(trim(s.email)) in ({_marks(shared)}) and s.id in (select lead_id from "
        "temp.quality_leads)) group by mail having count(*) > 1 order by mail",
        [as_of, as_of, *shared, *shared],
    ).fetchall()
    if not rows:
        return []
    items = [f"{mail} ({', '.join(sorted(ids.split()))})" for mail, ids in rows]
    return [
        f"{_plural(len(rows), 'email address', 'email addresses')} belong to more than one "
        f"live lead (possible duplicates, each audited on its own): {_examples(items)}"
    ]


def _merge_notes(conn: sqlite3.Connection, as_of: str) -> list[str]:
    # The partial index holds exactly the leads with merged ids (a handful): without it,
    # every lead's raw JSON is parsed. Snapshots written before it existed lack it.
    indexed = conn.execute(
        "select 1 from sqlite_master where type = 'index' and name = 'idx_leads_merged'"
    ).fetchone()
    rows = conn.execute(
        "select l.id, l.source, json_extract(l.raw, '$.properties.hs_merged_object_ids') "
        f"from leads l {'indexed by idx_leads_merged ' if indexed else ''}"
        "where l.raw is not null and json_valid(l.raw) and "
        "coalesce(json_extract(l.raw, '$.properties.hs_merged_object_ids'), '') != '' "
        f"and {_live('l')}",
        [as_of, as_of],
    ).fetchall()
    if not rows:
        return []
    scope = {r[0] for r in conn.execute("select lead_id from temp.quality_leads")}
    merged_pairs: list[tuple[str, str]] = []
    for lead_id, source, merged in rows:
        for crm_id in str(merged).replace(",", ";").split(";"):
            if crm_id.strip():
                merged_pairs.append((lead_id, f"{source}:{crm_id.strip()}"))
    if not merged_pairs:
        return []
    still_there = {
        r[0]
        for r in conn.execute(
            "select id from leads l where id in "
            f"({','.join('?' * len(merged_pairs))}) and {_live('l')}",
            [*(merged for _, merged in merged_pairs), as_of, as_of],
        )
    }
    doubled = [
        f"{merged} (into {primary})"
        for primary, merged in merged_pairs
        if merged in still_there and (primary in scope or merged in scope)
    ]
    if not doubled:
        return []
    return [
        f"{_plural(len(doubled), 'lead')} merged into another in the CRM "
        f"{'is' if len(doubled) == 1 else 'are'} still separate in the snapshot (synced before "
        "the merge; hs_merged_object_ids), so each may be counted twice: "
        + _examples(sorted(doubled))
    ]
