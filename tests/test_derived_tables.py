"""Derived tables always equal what they restate (``connectors/derived``).

The audit reads each handoff's activities from ``lead_touches`` (one range read per
window instead of two keyed lookups per activity) and shared emails from
``email_counts``; SQLite triggers keep both in step with the tables they restate. These
tests write through the store's verbs and through plain SQL, in random orders, and
compare each derived table with the query it stands for.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from snapshot.derived import DERIVED_TABLES, TOUCH_COLUMNS
from snapshot.store import Page, SnapshotStore
from snapshot.upgrade import prepare_for_reading

JOIN = (
    "select al.lead_id, a.occurred_at, a.id, "
    + ", ".join(f"a.{c}" for c in TOUCH_COLUMNS)
    + " from activity_leads al join activities a on a.id = al.activity_id "
    "where a.occurred_at is not null order by 1, 2, 3"
)
TOUCHES = "select * from lead_touches order by 1, 2, 3"

ACTIVITY_IDS = [f"hubspot:{n}" for n in range(1, 6)]
LEAD_IDS = [f"hubspot:{n}" for n in range(101, 105)]
INSTANTS = [
    None,
    "2026-10-01T09:00:00.000Z",
    "2026-10-01T09:05:00.000Z",
    "2026-10-02T14:00:00.000Z",
]


def _assert_mirrors(conn: sqlite3.Connection) -> None:
    assert conn.execute(TOUCHES).fetchall() == conn.execute(JOIN).fetchall()


def _activity(draw: st.DrawFn) -> dict[str, object]:
    return {
        "id": draw(st.sampled_from(ACTIVITY_IDS)),
        "source": "hubspot",
        "kind": draw(st.sampled_from(["call", "email", "note"])),
        "direction": draw(st.sampled_from([None, "outbound", "inbound"])),
        "outcome": draw(st.sampled_from([None, "connected", "no answer"])),
        "occurred_at": draw(st.sampled_from(INSTANTS)),
        "created_at": draw(st.sampled_from(INSTANTS)),
        "owner_id": draw(st.sampled_from([None, "hubspot:o1"])),
        "is_deleted": draw(st.sampled_from([0, 1, None])),
    }


@st.composite
def operations(draw: st.DrawFn) -> list[tuple[str, object]]:
    ops: list[tuple[str, object]] = []
    for _ in range(draw(st.integers(1, 12))):
        kind = draw(
            st.sampled_from(
                ["activities", "links", "replace_links", "delete_activity", "mark_deleted", "sql"]
            )
        )
        if kind == "activities":
            ops.append((kind, [_activity(draw) for _ in range(draw(st.integers(1, 3)))]))
        elif kind in ("links", "replace_links"):
            pairs = draw(
                st.lists(st.tuples(st.sampled_from(ACTIVITY_IDS), st.sampled_from(LEAD_IDS)))
            )
            ops.append((kind, pairs))
        elif kind == "sql":
            ops.append(
                (
                    kind,
                    draw(
                        st.sampled_from(
                            [
                                "update or ignore activity_leads set lead_id = 'hubspot:104' "
                                "where activity_id = 'hubspot:1'",
                                "delete from activity_leads where lead_id = 'hubspot:101'",
                                "update activities set occurred_at = null where id = 'hubspot:2'",
                                "update activities set raw = '{}' where id = 'hubspot:3'",
                            ]
                        )
                    ),
                )
            )
        else:
            ops.append((kind, draw(st.sampled_from(ACTIVITY_IDS))))
    return ops


RANDOM_WRITES = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@contextmanager
def fresh_store(tmp_path: Path, ops: list) -> Iterator[SnapshotStore]:
    """A new snapshot per hypothesis example (tmp_path is shared by all of them)."""
    db = tmp_path / f"s{abs(hash(str(ops)))}.db"
    store = SnapshotStore(db)
    try:
        yield store
    finally:
        store.close()
        db.unlink()


@RANDOM_WRITES
@given(ops=operations())
def test_touches_equal_the_join_after_any_writes(tmp_path: Path, ops: list) -> None:
    with fresh_store(tmp_path, ops) as store:
        conn = store.db.conn
        for kind, arg in ops:
            if kind == "activities":
                store.write_page("hubspot", "calls", Page(activities=arg), None)
            elif kind == "links":
                links = [{"activity_id": a, "lead_id": lead} for a, lead in arg]
                store.write_page("hubspot", "calls", Page(links=links), None)
            elif kind == "replace_links":
                links = [{"activity_id": a, "lead_id": lead} for a, lead in arg]
                ids = sorted({a for a, _ in arg}) or ACTIVITY_IDS[:1]
                store.write_page("hubspot", "calls", Page(links=links, links_for=ids), None)
            elif kind == "delete_activity":
                conn.execute("delete from activities where id = ?", [arg])
            elif kind == "mark_deleted":
                store.write_page("hubspot", "calls", Page(deleted_activities=[arg]), None)
            else:
                conn.execute(str(arg))
            _assert_mirrors(conn)


def test_a_snapshot_without_touches_gets_them_filled_on_reading(tmp_path: Path) -> None:
    """A schema-1 file (before the derived table) is upgraded in place, rows included."""
    db = tmp_path / "old.db"
    store = SnapshotStore(db)
    store.write_page(
        "hubspot",
        "calls",
        Page(
            activities=[
                {"id": "hubspot:1", "kind": "call", "occurred_at": INSTANTS[1]},
                {"id": "hubspot:2", "kind": "email", "occurred_at": None},
            ],
            links=[
                {"activity_id": "hubspot:1", "lead_id": "hubspot:101"},
                {"activity_id": "hubspot:1", "lead_id": "hubspot:102"},
                {"activity_id": "hubspot:2", "lead_id": "hubspot:101"},
            ],
        ),
        None,
    )
    conn = store.db.conn
    for table in DERIVED_TABLES:
        for trigger in table.triggers:
            conn.execute(f"drop trigger {trigger}")
        conn.execute(f"drop table {table.name}")
    conn.execute("update meta set value = '1' where key = 'schema_version'")
    store.close()

    prepare_for_reading(db)

    conn = sqlite3.connect(db)
    rows = conn.execute("select lead_id, activity_id from lead_touches order by 1").fetchall()
    assert rows == [("hubspot:101", "hubspot:1"), ("hubspot:102", "hubspot:1")]
    _assert_mirrors(conn)
    conn.close()


def test_the_window_read_is_a_range_read_of_lead_touches(tmp_path: Path) -> None:
    """The audit's window query walks lead_touches by its key, not activities by id."""
    store = SnapshotStore(tmp_path / "plan.db")
    conn = store.db.conn
    conn.execute(
        "create temp table handoff_windows "
        "(hid integer primary key, lead_id text, since text, until text)"
    )
    plan = " ".join(
        r[3]
        for r in conn.execute(
            "explain query plan select w.hid from temp.handoff_windows w cross join "
            "lead_touches a on a.lead_id = w.lead_id and a.occurred_at >= w.since "
            "and a.occurred_at < w.until"
        )
    )
    store.close()
    assert "SEARCH a USING PRIMARY KEY (lead_id=? AND occurred_at>? AND occurred_at<?)" in plan


EMAILS = [None, "", "  ", "ann@x.com", " Ann@X.com ", "bob@y.com", "BOB@y.com"]
COUNTED = "select email_key, leads from email_counts where leads > 0 order by 1"
RECOUNTED = (
    "select lower(trim(email)), count(*) from leads where lower(trim(email)) != '' "
    "group by 1 order by 1"
)


@st.composite
def lead_writes(draw: st.DrawFn) -> list[tuple[str, object]]:
    ops: list[tuple[str, object]] = []
    for _ in range(draw(st.integers(1, 12))):
        kind = draw(st.sampled_from(["upsert", "upsert", "delete", "set_email"]))
        lead = draw(st.sampled_from(LEAD_IDS))
        ops.append((kind, (lead, draw(st.sampled_from(EMAILS)))))
    return ops


@RANDOM_WRITES
@given(ops=lead_writes())
def test_email_counts_equal_a_recount_after_any_writes(tmp_path: Path, ops: list) -> None:
    with fresh_store(tmp_path, ops) as store:
        conn = store.db.conn
        for kind, (lead, email) in ops:
            if kind == "upsert":
                row = {"id": lead, "source": "hubspot", "email": email}
                store.write_page("hubspot", "contacts", Page(leads=[row]), None)
            elif kind == "delete":
                conn.execute("delete from leads where id = ?", [lead])
            else:
                conn.execute("update leads set email = ? where id = ?", [email, lead])
            assert conn.execute(COUNTED).fetchall() == conn.execute(RECOUNTED).fetchall()


VALUES = [None, "marketingqualifiedlead", "lead", "UNQUALIFIED"]
SEEN = "select source, field, value, first_at, times from field_values order by 1, 2, 3"
RESEEN = (
    "select substr(lead_id, 1, instr(lead_id, ':') - 1), field, value, min(changed_at), "
    "count(*) from lead_history where value is not null group by 1, 2, 3 order by 1, 2, 3"
)


@st.composite
def history_writes(draw: st.DrawFn) -> list[list[dict[str, object]]]:
    """Pages of history rows, some repeating a key with another value (a re-sync)."""
    pages = []
    for _ in range(draw(st.integers(1, 6))):
        pages.append(
            [
                {
                    "lead_id": draw(st.sampled_from([*LEAD_IDS, "salesforce:00Q1"])),
                    "field": draw(st.sampled_from(["stage", "status"])),
                    "value": draw(st.sampled_from(VALUES)),
                    "changed_at": draw(st.sampled_from(INSTANTS[1:])),
                }
                for _ in range(draw(st.integers(1, 4)))
            ]
        )
    return pages


@RANDOM_WRITES
@given(pages=history_writes())
def test_field_values_hold_every_value_with_its_first_instant(tmp_path: Path, pages: list) -> None:
    """``field_values`` holds every value of the history, no later than its first instant,
    with as many ``times`` as history rows hold it, after any writes and deletes.

    (A value whose rows are all deleted stays seen with ``times`` 0: the table answers
    "has the CRM ever used this value".)
    """
    with fresh_store(tmp_path, pages) as store:
        conn = store.db.conn
        for n, rows in enumerate(pages):
            unique = list({(r["lead_id"], r["field"], r["changed_at"]): r for r in rows}.values())
            store.upsert_history(unique)
            if n % 3 == 2:
                conn.execute("delete from lead_history where lead_id = ?", [LEAD_IDS[0]])
            seen = conn.execute(SEEN).fetchall()
            reseen = conn.execute(RESEEN).fetchall()
            # Every value still in the history is seen, no later than its first instant.
            assert {r[:3] for r in reseen} <= {r[:3] for r in seen}
            first = {r[:3]: r[3] for r in seen}
            assert all(first[r[:3]] <= r[3] for r in reseen)
            times = {r[:3]: r[4] for r in reseen}
            assert {r[:3]: r[4] for r in seen} == {r[:3]: times.get(r[:3], 0) for r in seen}


def test_touches_written_before_deleted_at_are_rebuilt_with_it(tmp_path: Path) -> None:
    """A file whose lead_touches lacks a column (an older version's) is rebuilt on reading."""
    db = tmp_path / "old.db"
    store = SnapshotStore(db)
    store.write_page(
        "hubspot",
        "calls",
        Page(
            activities=[
                {
                    "id": "hubspot:1",
                    "kind": "call",
                    "occurred_at": INSTANTS[1],
                    "is_deleted": 1,
                    "deleted_at": INSTANTS[3],
                }
            ],
            links=[{"activity_id": "hubspot:1", "lead_id": "hubspot:101"}],
        ),
        None,
    )
    conn = store.db.conn
    conn.execute("alter table lead_touches drop column deleted_at")
    store.close()

    prepare_for_reading(db)

    conn = sqlite3.connect(db)
    rows = conn.execute("select activity_id, deleted_at from lead_touches").fetchall()
    assert rows == [("hubspot:1", INSTANTS[3])]
    _assert_mirrors(conn)
    conn.close()


UNSERVED = "select lead_id, links from unserved_leads order by 1"
RECOUNTED_UNSERVED = (
    "select al.lead_id, count(*) from activity_leads al where not exists "
    "(select 1 from leads l where l.id = al.lead_id) group by 1 order by 1"
)


@st.composite
def link_and_lead_writes(draw: st.DrawFn) -> list[tuple[str, object]]:
    """Links written before, after and without their leads; leads served and removed."""
    ops: list[tuple[str, object]] = []
    for _ in range(draw(st.integers(1, 14))):
        kind = draw(st.sampled_from(["links", "replace_links", "lead", "delete_lead", "sql"]))
        if kind in ("links", "replace_links"):
            pairs = draw(
                st.lists(st.tuples(st.sampled_from(ACTIVITY_IDS), st.sampled_from(LEAD_IDS)))
            )
            ops.append((kind, pairs))
        elif kind == "sql":
            ops.append(
                (
                    kind,
                    draw(
                        st.sampled_from(
                            [
                                "update or ignore activity_leads set lead_id = 'hubspot:104' "
                                "where activity_id = 'hubspot:1'",
                                "delete from activity_leads where lead_id = 'hubspot:101'",
                            ]
                        )
                    ),
                )
            )
        else:
            ops.append((kind, draw(st.sampled_from(LEAD_IDS))))
    return ops


@RANDOM_WRITES
@given(ops=link_and_lead_writes())
def test_unserved_leads_equal_an_anti_join_after_any_writes(tmp_path: Path, ops: list) -> None:
    with fresh_store(tmp_path, ops) as store:
        conn = store.db.conn
        for kind, arg in ops:
            if kind in ("links", "replace_links"):
                links = [{"activity_id": a, "lead_id": lead} for a, lead in arg]
                ids = sorted({a for a, _ in arg}) or ACTIVITY_IDS[:1]
                page = Page(links=links, links_for=ids if kind == "replace_links" else [])
                store.write_page("hubspot", "calls", page, None)
            elif kind == "lead":
                row = {"id": arg, "source": "hubspot", "crm_id": str(arg).split(":")[1]}
                store.write_page("hubspot", "contacts", Page(leads=[row]), None)
            elif kind == "delete_lead":
                conn.execute("delete from leads where id = ?", [arg])
            else:
                conn.execute(str(arg))
            assert conn.execute(UNSERVED).fetchall() == conn.execute(RECOUNTED_UNSERVED).fetchall()
