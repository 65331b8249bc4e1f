"""The store's multi-row upsert leaves exactly what sqlite-utils' ``upsert_all`` leaves.

``SnapshotStore._upsert`` writes up to ``ROWS_PER_STATEMENT`` rows per INSERT; rows that
repeat a key, rows giving fewer columns, and batches longer than one statement must end
as they would one row at a time.
"""

from __future__ import annotations

from pathlib import Path

import sqlite_utils
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from snapshot.schema import TABLES
from snapshot.store import SnapshotStore
from snapshot.upsert import ROWS_PER_STATEMENT

IDS = [f"hubspot:{n}" for n in range(1, 9)]
OPTIONAL = ["email", "company", "stage", "is_deleted"]


@st.composite
def lead_rows(draw: st.DrawFn) -> list[dict[str, object]]:
    rows = []
    for _ in range(draw(st.integers(1, 40))):
        row: dict[str, object] = {"id": draw(st.sampled_from(IDS)), "source": "hubspot"}
        for column in draw(st.lists(st.sampled_from(OPTIONAL), unique=True)):
            row[column] = draw(st.one_of(st.none(), st.integers(0, 2), st.text(max_size=5)))
        rows.append(row)
    return rows


def _leads(db: sqlite_utils.Database) -> list[tuple]:
    return db.execute("select * from leads order by id").fetchall()


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batches=st.lists(lead_rows(), min_size=1, max_size=3))
def test_upserts_match_sqlite_utils_row_by_row(tmp_path: Path, batches: list) -> None:
    path = tmp_path / f"u{abs(hash(str(batches)))}.db"
    store = SnapshotStore(path)
    reference = sqlite_utils.Database(memory=True)
    reference["leads"].create(TABLES["leads"]["columns"], pk="id")
    try:
        for rows in batches:
            store.upsert_leads(rows)
            for row in rows:  # one at a time: the semantics we promise
                reference["leads"].upsert(row, pk="id")
        assert _leads(store.db) == _leads(reference)
    finally:
        store.close()
        path.unlink()


def test_a_batch_longer_than_one_statement_is_written_whole(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path / "long.db")
    count = ROWS_PER_STATEMENT * 2 + 7
    rows = [
        {"id": f"hubspot:{n}", "source": "hubspot", "email": f"{n}@x.com"} for n in range(count)
    ]
    rows.append({"id": "hubspot:3", "source": "hubspot", "email": "last@x.com"})
    store.upsert_leads(rows)
    assert store.count("leads") == count
    (email,) = store.db.execute("select email from leads where id = 'hubspot:3'").fetchone()
    store.close()
    assert email == "last@x.com"
