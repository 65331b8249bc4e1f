"""Derived tables: what the audit looks up, kept in step with the CRM tables by SQLite.

Each derived table restates rows of the tables the connectors write, in the shape one of
the audit's questions needs, so that the audit reads a few adjacent rows where it would
otherwise look up scattered wide ones. SQLite triggers keep each equal to what it
restates on every insert, update and delete, inside the writer's own transaction and
whoever the writer is (a connector, a test, a bulk load), so it can never drift; a file
that lacks one (a new file, or one written before it existed) gets it built from the
base tables.

* ``lead_touches`` — every activity of every lead with the columns the audit compares,
  keyed (lead_id, occurred_at, activity_id) in a WITHOUT ROWID table. The audit asks, per
  handoff, for its lead's activities inside a time window. Through ``activity_leads`` and
  ``activities`` that is two lookups by text key per activity of the lead's whole life,
  each landing on a wide row (``raw``) somewhere in the file: at a million leads 1.2 M
  random lookups, most of the audit's time. Here each window is one range read.
  Activities without ``occurred_at`` can never fall in a window and are left out.
* ``field_values`` — every value each history field has taken, per source, with the
  first instant it was taken and how many history rows set it now (``times``). "Does the
  CRM use the value the SLA file names?" and "which frequent value does it leave
  unmapped?" are then lookups among a few dozen rows instead of scans of the whole
  history (6 s at a million leads). A value once seen stays seen (its ``first_at`` is
  never moved later); ``times`` follows inserts, updates and deletes.
* ``email_counts`` — how many leads hold each normalised email (``lower(trim(email))``,
  blank ones left out). "Live leads sharing an email" (the data notes) then starts from
  the few keys counted more than once, found through a partial index, instead of
  normalising a million emails per audit.
* ``unserved_leads`` — the lead ids that activities link to but the CRM never served as
  leads (a contact merged away or purged, or not synced), with how many links each. The
  data notes say so; finding them afresh is an anti-join of every link with the leads
  (4 s at a million leads), kept here for one lookup per link written.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

#: The columns of an activity the audit compares, copied into ``lead_touches``.
TOUCH_COLUMNS = (
    "kind",
    "direction",
    "outcome",
    "outcome_label",
    "created_at",
    "is_deleted",
    "owner_id",
    "deleted_at",
)


@dataclass(frozen=True)
class DerivedTable:
    """A derived table: how to create it, fill it from scratch, and keep it in step."""

    name: str
    create: tuple[str, ...]
    fill: str
    triggers: dict[str, str]
    columns: tuple[str, ...] = ()
    """Columns a file's copy must have: one written before a column was added is rebuilt."""

    def objects(self) -> list[str]:
        return [self.name, *self.triggers]

    def build(self, conn: sqlite3.Connection) -> None:
        """Drop what exists of it, then create, fill and arm it (in the caller's transaction)."""
        for trigger in self.triggers:
            conn.execute(f"drop trigger if exists {trigger}")
        conn.execute(f"drop table if exists {self.name}")
        for sql in self.create:
            conn.execute(sql)
        conn.execute(self.fill)
        for trigger, body in self.triggers.items():
            conn.execute(f"create trigger {trigger} {body}")


def _touches() -> DerivedTable:
    columns = ", ".join(f"{c} {'integer' if c == 'is_deleted' else 'text'}" for c in TOUCH_COLUMNS)
    from_activity = ", ".join(f"a.{c}" for c in TOUCH_COLUMNS)
    from_new = ", ".join(f"new.{c}" for c in TOUCH_COLUMNS)
    changed = " or ".join(f"old.{c} is not new.{c}" for c in ("occurred_at", *TOUCH_COLUMNS))
    forget_activity = (
        "delete from lead_touches where lead_id in (select lead_id from activity_leads "
        "where activity_id = old.id) and activity_id = old.id;"
    )
    learn_activity = (
        "insert or replace into lead_touches select al.lead_id, new.occurred_at, new.id, "
        f"{from_new} from activity_leads al where al.activity_id = new.id "
        "and new.occurred_at is not null;"
    )
    learn_link = (
        "insert or replace into lead_touches select new.lead_id, a.occurred_at, a.id, "
        f"{from_activity} from activities a where a.id = new.activity_id "
        "and a.occurred_at is not null;"
    )
    forget_link = (
        "delete from lead_touches where lead_id = old.lead_id and activity_id = old.activity_id;"
    )
    return DerivedTable(
        name="lead_touches",
        columns=("lead_id", "occurred_at", "activity_id", *TOUCH_COLUMNS),
        create=(
            "create table lead_touches (lead_id text not null, occurred_at text not null, "
            f"activity_id text not null, {columns}, "
            "primary key (lead_id, occurred_at, activity_id)) without rowid",
        ),
        # Sorted by the key: appending to a B-tree is its cheapest way to grow.
        fill=(
            f"insert into lead_touches select al.lead_id, a.occurred_at, a.id, {from_activity} "
            "from activity_leads al join activities a on a.id = al.activity_id "
            "where a.occurred_at is not null order by 1, 2, 3"
        ),
        triggers={
            "trg_touches_activity_insert": (
                f"after insert on activities begin {learn_activity} end"
            ),
            "trg_touches_activity_update": (
                f"after update on activities when {changed} "
                f"begin {forget_activity} {learn_activity} end"
            ),
            "trg_touches_activity_delete": (
                f"after delete on activities begin {forget_activity} end"
            ),
            "trg_touches_link_insert": f"after insert on activity_leads begin {learn_link} end",
            "trg_touches_link_update": (
                f"after update on activity_leads begin {forget_link} {learn_link} end"
            ),
            "trg_touches_link_delete": f"after delete on activity_leads begin {forget_link} end",
        },
    )


EMAIL_KEY = "lower(trim({}.email))"
"""The normalised email the data notes compare (blank after trimming: no email)."""


def _email_counts() -> DerivedTable:
    new_key, old_key = EMAIL_KEY.format("new"), EMAIL_KEY.format("old")
    count_new = (
        f"insert into email_counts (email_key, leads) select {new_key}, 1 where {new_key} != '' "
        "on conflict (email_key) do update set leads = leads + 1;"
    )
    uncount_old = f"update email_counts set leads = leads - 1 where email_key = {old_key};"
    return DerivedTable(
        name="email_counts",
        create=(
            "create table email_counts (email_key text primary key, leads integer not null) "
            "without rowid",
            "create index idx_email_counts_shared on email_counts(email_key) where leads > 1",
        ),
        fill=(
            f"insert into email_counts select {EMAIL_KEY.format('leads')}, count(*) from leads "
            f"where {EMAIL_KEY.format('leads')} != '' group by 1"
        ),
        triggers={
            "trg_email_counts_insert": f"after insert on leads begin {count_new} end",
            "trg_email_counts_update": (
                f"after update of email on leads when {old_key} is not {new_key} "
                f"begin {uncount_old} {count_new} end"
            ),
            "trg_email_counts_delete": f"after delete on leads begin {uncount_old} end",
        },
    )


SOURCE_OF_LEAD = "substr({0}.lead_id, 1, instr({0}.lead_id, ':') - 1)"
"""A lead id's source: ids are ``{source}:{crm_id}``."""


def _field_values() -> DerivedTable:
    learn = (
        "insert into field_values (source, field, value, first_at, times) select "
        f"{SOURCE_OF_LEAD.format('new')}, new.field, new.value, new.changed_at, 1 "
        "where new.value is not null and new.changed_at is not null "
        "on conflict (source, field, value) do update "
        "set first_at = min(first_at, excluded.first_at), times = times + 1;"
    )
    forget = (
        "update field_values set times = times - 1 where "
        f"source = {SOURCE_OF_LEAD.format('old')} and field = old.field and value = old.value "
        "and old.changed_at is not null;"
    )
    return DerivedTable(
        name="field_values",
        columns=("source", "field", "value", "first_at", "times"),
        create=(
            "create table field_values (source text not null, field text not null, "
            "value text not null, first_at text not null, times integer not null, "
            "primary key (source, field, value)) without rowid",
        ),
        fill=(
            "insert into field_values select "
            f"{SOURCE_OF_LEAD.format('lead_history')}, field, value, min(changed_at), count(*) "
            "from lead_history where value is not null and changed_at is not null "
            "group by 1, 2, 3"
        ),
        triggers={
            "trg_field_values_insert": f"after insert on lead_history begin {learn} end",
            "trg_field_values_update": (
                f"after update of value, changed_at on lead_history begin {forget} {learn} end"
            ),
            "trg_field_values_delete": f"after delete on lead_history begin {forget} end",
        },
    )


def _unserved_leads() -> DerivedTable:
    unserved = "not exists (select 1 from leads where id = {}.lead_id)"
    count_new = (
        "insert into unserved_leads (lead_id, links) select new.lead_id, 1 "
        f"where {unserved.format('new')} "
        "on conflict (lead_id) do update set links = links + 1;"
    )
    uncount_old = (
        "update unserved_leads set links = links - 1 where lead_id = old.lead_id;"
        "delete from unserved_leads where lead_id = old.lead_id and links <= 0;"
    )
    return DerivedTable(
        name="unserved_leads",
        create=(
            "create table unserved_leads (lead_id text primary key, links integer not null) "
            "without rowid",
        ),
        fill=(
            "insert into unserved_leads select al.lead_id, count(*) from activity_leads al "
            f"where {unserved.format('al')} group by al.lead_id"
        ),
        triggers={
            "trg_unserved_link_insert": f"after insert on activity_leads begin {count_new} end",
            "trg_unserved_link_update": (
                f"after update on activity_leads begin {uncount_old} {count_new} end"
            ),
            "trg_unserved_link_delete": f"after delete on activity_leads begin {uncount_old} end",
            "trg_unserved_lead_insert": (
                "after insert on leads begin delete from unserved_leads where lead_id = new.id; end"
            ),
            "trg_unserved_lead_delete": (
                "after delete on leads begin insert into unserved_leads select old.id, count(*) "
                "from activity_leads where lead_id = old.id having count(*) > 0; end"
            ),
        },
    )


DERIVED_TABLES: tuple[DerivedTable, ...] = (
    _touches(),
    _email_counts(),
    _field_values(),
    _unserved_leads(),
)


def missing_derived(conn: sqlite3.Connection) -> list[str]:
    """Names of the derived tables and triggers the file lacks."""
    present = {
        r[0]
        for r in conn.execute("select name from sqlite_master where type in ('table', 'trigger')")
    }
    missing = [name for table in DERIVED_TABLES for name in table.objects() if name not in present]
    for table in DERIVED_TABLES:
        if table.columns and table.name in present:
            have = {row[1] for row in conn.execute(f"pragma table_info({table.name})")}
            missing += [f"{table.name}.{c}" for c in table.columns if c not in have]
    return missing


def build_missing_derived(conn: sqlite3.Connection) -> None:
    """(Re)build every derived table of which anything is missing; the base tables must exist."""
    missing = missing_derived(conn)
    for table in DERIVED_TABLES:
        parts = {*table.objects(), *(f"{table.name}.{c}" for c in table.columns)}
        if parts.intersection(missing):
            table.build(conn)
