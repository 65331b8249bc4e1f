"""The snapshot reads a page's mapping needs: leads' creation instants and history rows,
the org's first user, and which leads became a given contact or opportunity."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from connectors.salesforce.specs import SOURCE
from snapshot.store import SnapshotStore


class SnapshotFacts:
    """What the snapshot already holds that a page's mapping needs (read-only SQL).

    The lead and its history arrive in different streams; these reads are where they
    meet (see the package docstring, :mod:`connectors.salesforce`).
    """

    def __init__(self, store: SnapshotStore) -> None:
        self.db = store.db

    def _rows(self, sql: str, values: Sequence[str], *extra: str) -> list[tuple[Any, ...]]:
        out: list[tuple[Any, ...]] = []
        for start in range(0, len(values), 500):
            chunk = list(values[start : start + 500])
            marks = ",".join("?" * len(chunk))
            out.extend(self.db.execute(sql.format(marks=marks), [*chunk, *extra]).fetchall())
        return out

    def org_start(self) -> str | None:
        """The earliest CreatedDate of a Salesforce user: no record changed before it."""
        row = self.db.execute(
            "select min(created_at) from owners where source = ?", [SOURCE]
        ).fetchone()
        return row[0] if row and row[0] else None

    def created_at(self, lead_ids: Iterable[str]) -> dict[str, str]:
        """Leads already in the snapshot → their ``created_at``."""
        ids = sorted(set(lead_ids))
        rows = self._rows("select id, created_at from leads where id in ({marks})", ids)
        return {r[0]: r[1] for r in rows if r[1]}

    def history(self, lead_ids: Iterable[str], fields: Sequence[str]) -> dict[str, list[Any]]:
        """``(field, changed_at)`` of the leads' history rows for ``fields``."""
        ids = sorted(set(lead_ids))
        out: dict[str, list[Any]] = {}
        names = ",".join(f"'{f}'" for f in fields)
        sql = (
            "select lead_id, field, changed_at from lead_history "
            f"where lead_id in ({{marks}}) and field in ({names})"
        )
        for lead_id, field_name, changed_at in self._rows(sql, ids):
            out.setdefault(lead_id, []).append((field_name, changed_at))
        return out

    def converted_into(self, raw_key: str) -> dict[str, list[str]]:
        """The contact or opportunity (``raw_key``: ``ConvertedContactId`` /
        ``ConvertedOpportunityId``) each converted lead became → those lead ids.

        One scan of the leads a stream run (the streams cache it): the leads stream has
        run by then, and a lookup per page would scan the table once a page.
        """
        sql = (
            f"select json_extract(raw, '$.{raw_key}'), id from leads where source = ? "
            f"and json_extract(raw, '$.{raw_key}') is not null"
        )
        out: dict[str, list[str]] = {}
        for value, lead_id in self.db.execute(sql, [SOURCE]):
            out.setdefault(str(value), []).append(lead_id)
        return out
