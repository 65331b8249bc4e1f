"""Data notes (audit/data_quality.py) on a small hand-made snapshot, pinned word for word.

The notes' queries are tuned for size (they start from the period's leads and use
indexes); whatever they do, the notes must stay exactly these.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from audit.data_quality import quality_notes
from audit.period import parse_period
from snapshot.schema import FUTURE_INSTANT, NAIVE_INSTANT, NAMED_INDEXES
from snapshot.store import SnapshotStore

OCT = "2026-10-{:02d}T12:00:00.000Z"
AS_OF = datetime(2026, 11, 1, 3, tzinfo=UTC)


def lead(n: int, **fields: object) -> dict[str, object]:
    row: dict[str, object] = {
        "id": f"hubspot:{n}",
        "source": "hubspot",
        "crm_id": str(n),
        "email": f"lead{n}@example.com",
        "owner_id": "hubspot:o1",
        "created_at": OCT.format(2),
        "is_deleted": 0,
        "raw": json.dumps({"id": str(n), "properties": {}}),
    }
    row.update(fields)
    return row


def merged_raw(n: int, ids: str) -> str:
    return json.dumps({"id": str(n), "properties": {"hs_merged_object_ids": ids}})


def build(path: Path) -> None:
    store = SnapshotStore(path)
    with store.transaction():
        store.upsert_owners([{"id": "hubspot:o1", "source": "hubspot", "crm_id": "o1"}])
        store.upsert_leads(
            [
                lead(1, email=" Dup@Example.com "),
                lead(2, email="dup@example.com"),
                lead(3, email="dup@example.com", created_at="2026-11-20T00:00:00.000Z"),
                lead(4, email="old@example.com", created_at="2025-01-01T00:00:00.000Z"),
                lead(5, email="OLD@example.com", created_at="2025-02-01T00:00:00.000Z"),
                lead(6, email="gone@example.com"),
                lead(
                    7,
                    email="gone@example.com",
                    is_deleted=1,
                    deleted_at="2026-10-20T00:00:00.000Z",
                ),
                lead(8, email="  ", owner_id="hubspot:ghost"),
                lead(9, email="  ", owner_id="hubspot:ghost"),
                lead(10, owner_id="hubspot:ghost2", raw=merged_raw(10, "11;12, 13")),
                lead(11, created_at="2025-03-01T00:00:00.000Z"),
                lead(12, created_at="2025-03-01T00:00:00.000Z", is_deleted=1),
                lead(14, created_at="2025-03-01T00:00:00.000Z", raw=merged_raw(14, "15")),
                lead(15, created_at="2025-03-01T00:00:00.000Z"),
                lead(16, created_at="2025-03-01T00:00:00.000Z", raw=merged_raw(16, "17")),
                lead(17, created_at="2025-03-01T00:00:00.000Z"),
                lead(18, email=None, raw="not json"),
                lead(19, email="late@example.com", created_at="2026-12-01T00:00:00.000Z"),
                lead(20, email="late@example.com", created_at="2025-01-01T00:00:00.000Z"),
            ]
        )
        store.upsert_history(
            [
                {"lead_id": "hubspot:15", "field": "stage", "value": "mql",
                 "changed_at": OCT.format(9)},
                {"lead_id": "hubspot:5", "field": "stage", "value": "mql",
                 "changed_at": "2026-09-30T00:00:00.000Z"},
            ]
        )  # fmt: skip
        activities = []
        links = []
        for n, (owner, occurred, who) in enumerate(
            [
                ("hubspot:o1", OCT.format(3), "hubspot:1"),
                ("hubspot:ghost", OCT.format(3), "hubspot:1"),
                ("hubspot:ghost", OCT.format(4), "hubspot:2"),
                ("hubspot:ghost3", OCT.format(4), "hubspot:2"),
                ("hubspot:ghost3", "2026-12-04T00:00:00.000Z", "hubspot:2"),
                ("hubspot:ghost4", OCT.format(4), "hubspot:4"),
            ]
        ):
            activities.append(
                {"id": f"hubspot:a{n}", "source": "hubspot", "crm_id": f"a{n}", "kind": "call",
                 "occurred_at": occurred, "owner_id": owner, "is_deleted": 0}
            )  # fmt: skip
            links.append({"activity_id": f"hubspot:a{n}", "lead_id": who})
        links.append({"activity_id": "hubspot:a2", "lead_id": "hubspot:6"})
        store.upsert_activities(activities)
        store.upsert_links(links)
        store.db["data_issues"].insert_all(
            [
                {"record_table": "leads", "record_id": "hubspot:1", "source": "hubspot",
                 "field": "createdate", "issue": NAIVE_INSTANT, "value": "2026-10-02T12:00:00"},
                {"record_table": "leads", "record_id": "hubspot:4", "source": "hubspot",
                 "field": "createdate", "issue": NAIVE_INSTANT, "value": "2025-01-01T00:00:00"},
                {"record_table": "activities", "record_id": "hubspot:a2", "source": "hubspot",
                 "field": "occurred_at", "issue": FUTURE_INSTANT, "value": "2099-01-01"},
                {"record_table": "activities", "record_id": "hubspot:a5", "source": "hubspot",
                 "field": "occurred_at", "issue": FUTURE_INSTANT, "value": "2098-01-01"},
                {"record_table": "activities", "record_id": "hubspot:a0", "source": "hubspot",
                 "field": "hs_timestamp", "issue": NAIVE_INSTANT, "value": "2026-10-03T12:00"},
                {"record_table": "owners", "record_id": "hubspot:o1", "source": "hubspot",
                 "field": "createdate", "issue": NAIVE_INSTANT, "value": "2020-01-01T00:00"},
            ]
        )  # fmt: skip
    store.close()


def notes_for(path: Path, month: str = "2026-10", as_of: datetime = AS_OF) -> list[str]:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return quality_notes(conn, parse_period(month, ZoneInfo("UTC")), as_of)
    finally:
        conn.close()


def test_the_notes_of_a_small_snapshot_are_exactly_these(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    build(db)
    assert notes_for(db) == [
        "2 timestamps had no time zone and were read as UTC, as the CRM stores them "
        "(records kept): hubspot:a0 hs_timestamp '2026-10-03T12:00', hubspot:1 "
        "createdate '2026-10-02T12:00:00'",
        "1 timestamp lay after the sync that read it (a clock or import error in the CRM; "
        "records kept, counted only once as-of passes them): hubspot:a2 occurred_at "
        "'2099-01-01'",
        "3 leads belong to 2 owners the CRM no longer lists (reported under the owner id): "
        "hubspot:ghost, hubspot:ghost2",
        "3 activities were logged by 2 owners the CRM no longer lists: hubspot:ghost, "
        "hubspot:ghost3",
        "1 email address belong to more than one live lead (possible duplicates, each "
        "audited on its own): dup@example.com (hubspot:1, hubspot:2)",
        "2 leads merged into another in the CRM are still separate in the snapshot (synced "
        "before the merge; hs_merged_object_ids), so each may be counted twice: "
        "hubspot:11 (into hubspot:10), hubspot:15 (into hubspot:14)",
    ]


def test_later_as_of_and_another_month_change_the_notes_as_expected(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    build(db)
    december = notes_for(db, "2026-12", datetime(2026, 12, 31, tzinfo=UTC))
    assert december == [
        "1 email address belong to more than one live lead (possible duplicates, each "
        "audited on its own): late@example.com (hubspot:19, hubspot:20)",
    ]
    november = notes_for(db, "2026-11", datetime(2026, 12, 1, tzinfo=UTC))
    assert november == [
        "1 email address belong to more than one live lead (possible duplicates, each "
        "audited on its own): dup@example.com (hubspot:1, hubspot:2, hubspot:3)",
    ]


def test_a_snapshot_without_the_expression_indexes_gives_the_same_notes(tmp_path: Path) -> None:
    indexed, bare = tmp_path / "indexed.db", tmp_path / "bare.db"
    build(indexed)
    build(bare)
    conn = sqlite3.connect(bare)
    for name in NAMED_INDEXES:
        conn.execute(f"drop index {name}")
    conn.commit()
    conn.close()
    assert notes_for(bare) == notes_for(indexed)
    assert len(notes_for(bare)) == 6
