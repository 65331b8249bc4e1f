"""Read the snapshot as it stood at the audit's as-of instant.

Every query here applies the as-of cut-off: a lead created, a history event, an activity
recorded or a deletion after as-of is not seen. That is what makes an audit of October as
of 1 November identical from November's snapshot and from December's.

Queries are set-based: the cohort's lead ids go into a temporary table and the history and
activities are fetched with indexed joins, never one query per lead.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from config.sla import SLA, FunnelStage

HISTORY_FIELDS = ("stage", "status", "converted")


@dataclass(frozen=True)
class StageCondition:
    """One source's rule for entering a canonical stage, as SQL over ``lead_history``."""

    source: str
    stage: str
    field: str
    values: tuple[str, ...] | None  # None: any value (the ``converted`` event)


def stage_conditions(sla: SLA, stages: Iterable[str]) -> list[StageCondition]:
    """The SLA funnel's (source, stage, field, values) triples for the given stages."""
    wanted = set(stages)
    out: list[StageCondition] = []
    for source, mapping in sla.funnel.items():
        for stage, rule in mapping.items():
            if stage in wanted:
                out.extend(_conditions_of(source, stage, rule))
    return out


def _conditions_of(source: str, stage: str, rule: FunnelStage) -> list[StageCondition]:
    out = []
    if rule.stage:
        out.append(StageCondition(source, stage, "stage", tuple(rule.stage)))
    if rule.status:
        out.append(StageCondition(source, stage, "status", tuple(rule.status)))
    if rule.converted:
        # The connector records a Salesforce conversion as field "converted" = "true".
        out.append(StageCondition(source, stage, "converted", ("true",)))
    return out


def to_ns(series: pd.Series) -> np.ndarray:
    """Snapshot instant text → int64 UTC epoch nanoseconds (missing → NaT's int64)."""
    parsed = pd.to_datetime(series, utc=True, format="ISO8601", errors="coerce")
    return parsed.to_numpy(dtype="datetime64[ns]").astype(np.int64)


class SnapshotReader:
    """Frames of the snapshot at ``as_of`` (fixed-format UTC text)."""

    def __init__(self, conn: sqlite3.Connection, as_of: str, sources: Sequence[str]) -> None:
        self.conn = conn
        self.as_of = as_of
        self.sources = tuple(sources)
        self._cohort_loaded = False

    def _frame(self, sql: str, params: Sequence[object] = ()) -> pd.DataFrame:
        return pd.read_sql_query(sql, self.conn, params=list(params))

    def _source_marks(self) -> str:
        return ",".join("?" * len(self.sources))

    # -- stage entries ---------------------------------------------------------------

    def stage_entries(
        self,
        conditions: Sequence[StageCondition],
        *,
        since: str | None = None,
        until: str | None = None,
        cohort_only: bool = False,
    ) -> pd.DataFrame:
        """History events entering a canonical stage: columns lead_id, stage, changed_at.

        ``since``/``until`` bound ``changed_at`` as [since, until); as-of always applies.
        Deleted leads are included here (with ``is_deleted``) so callers can count them.
        """
        if not conditions:
            return pd.DataFrame(columns=["lead_id", "stage", "changed_at", "is_deleted"])
        parts = []
        params: list[object] = []
        for cond in conditions:
            clause = "(l.source = ? and h.field = ?"
            params += [cond.source, cond.field]
            if cond.values is not None:
                clause += f" and h.value in ({','.join('?' * len(cond.values))})"
                params += list(cond.values)
            parts.append(
                f"select h.lead_id, '{cond.stage}' as stage, h.changed_at, "
                f"{self._deleted_sql()} as is_deleted from lead_history h "
                f"join leads l on l.id = h.lead_id where {clause})"
                + self._entry_bounds(since, until, cohort_only, params)
            )
        sql = " union all ".join(parts)
        frame = self._frame(sql, params)
        return frame.drop_duplicates(["lead_id", "stage", "changed_at"]).reset_index(drop=True)

    def _deleted_sql(self) -> str:
        return (
            "case when coalesce(l.is_deleted, 0) = 1 and "
            f"(l.deleted_at is null or l.deleted_at <= '{self.as_of}') then 1 else 0 end"
        )

    def _entry_bounds(
        self, since: str | None, until: str | None, cohort_only: bool, params: list[object]
    ) -> str:
        sql = " and h.changed_at <= ? and (l.created_at is null or l.created_at <= ?)"
        params += [self.as_of, self.as_of]
        if since is not None:
            sql += " and h.changed_at >= ?"
            params.append(since)
        if until is not None:
            sql += " and h.changed_at < ?"
            params.append(until)
        if cohort_only:
            sql += " and h.lead_id in (select lead_id from temp.cohort_leads)"
        return sql

    # -- cohort-scoped reads -------------------------------------------------------------

    def load_cohort(self, lead_ids: Iterable[str]) -> None:
        """Put the cohort's lead ids in a temp table that later joins use."""
        self.conn.execute("drop table if exists temp.cohort_leads")
        self.conn.execute("create temp table cohort_leads (lead_id text primary key)")
        self.conn.executemany(
            "insert or ignore into temp.cohort_leads values (?)", [(i,) for i in lead_ids]
        )
        self._cohort_loaded = True

    def cohort_leads(self) -> pd.DataFrame:
        return self._frame(
            "select l.id as lead_id, l.source, l.crm_id, l.email, l.company, l.owner_id, "
            "l.segment, l.lead_source, l.url from leads l "
            "join temp.cohort_leads c on c.lead_id = l.id"
        )

    def cohort_history(self, fields: Sequence[str]) -> pd.DataFrame:
        """History of the cohort's leads for ``fields`` up to as-of, oldest first."""
        marks = ",".join("?" * len(fields))
        frame = self._frame(
            "select h.lead_id, h.field, h.value, h.changed_at from lead_history h "
            "join temp.cohort_leads c on c.lead_id = h.lead_id "
            f"where h.field in ({marks}) and h.changed_at <= ? "
            "order by h.lead_id, h.field, h.changed_at",
            [*fields, self.as_of],
        )
        frame["t"] = to_ns(frame["changed_at"])
        return frame

    def cohort_activities(self, since: str, until: str) -> pd.DataFrame:
        """Activities linked to cohort leads that occurred in [since, until) and by as-of.

        An activity recorded in the CRM after as-of is not seen even if back-dated, and a
        deleted activity is left out.
        """
        frame = self._frame(
            "select al.lead_id, a.id as activity_id, a.kind, a.direction, a.outcome, "
            "a.outcome_label, a.occurred_at from activity_leads al "
            "join temp.cohort_leads c on c.lead_id = al.lead_id "
            "join activities a on a.id = al.activity_id "
            "where a.occurred_at >= ? and a.occurred_at < ? and a.occurred_at <= ? "
            "and (a.created_at is null or a.created_at <= ?) "
            "and coalesce(a.is_deleted, 0) = 0",
            [since, until, self.as_of, self.as_of],
        )
        frame["t"] = to_ns(frame["occurred_at"])
        return frame

    # -- owners ------------------------------------------------------------------------

    def owners(self) -> pd.DataFrame:
        """Owners that existed at as-of, with whether they were active then.

        Neither CRM keeps a history of the active flag. An owner created after as-of is
        left out; one deactivated whose record changed after as-of is taken as still
        active at as-of (the deactivation is the change we can see).
        """
        return self._frame(
            "select id as owner_id, source, email, name, "
            "case when active = 1 then 1 when updated_at > ? then 1 else 0 end as active "
            f"from owners where source in ({self._source_marks()}) "
            "and (created_at is null or created_at <= ?)",
            [self.as_of, *self.sources, self.as_of],
        )

    def leads_with_owner_history(self) -> set[str]:
        """Cohort leads with any owner event, even after as-of.

        Such a lead's current owner is a value from its history, possibly a later one, so
        it must never stand in for "the owner at the handoff".
        """
        rows = self.conn.execute(
            "select distinct h.lead_id from lead_history h "
            "join temp.cohort_leads c on c.lead_id = h.lead_id where h.field = 'owner'"
        ).fetchall()
        return {r[0] for r in rows}

    def deleted_lead_count(self) -> int:
        row = self.conn.execute(
            f"select count(*) from leads l where l.source in ({self._source_marks()}) "
            f"and {self._deleted_sql()} = 1 and (l.created_at is null or l.created_at <= ?)",
            [*self.sources, self.as_of],
        ).fetchone()
        return int(row[0])
