"""Read the snapshot as it stood at the audit's as-of instant.

Every query here applies the as-of cut-off: a lead created, a history event, an activity
recorded or a deletion after as-of is not seen. That is what makes an audit of October as
of 1 November identical from November's snapshot and from December's.

Queries are set-based: the cohort's lead ids go into a temporary table and the history and
activities are fetched with indexed joins, never one query per lead. Those joins are
written ``temp.cohort_leads c cross join …``: in SQLite a CROSS JOIN fixes the loop order,
so each query walks the cohort's few thousand leads through the primary-key and
``(lead_id, …)`` indexes. Left to itself, without table statistics, the planner prefers
the ``occurred_at`` / ``(field, changed_at)`` indexes and reads every activity or history
row of the whole date range (measured: 4.6 s instead of 0.5 s for the activities of
100,000 leads' October; see benchmarks/RESULTS.md).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from audit.instants_ns import to_ns
from config.sla import SLA, FunnelStage

HISTORY_FIELDS = ("stage", "status", "lead_stage", "converted")

COHORT_COLUMNS = (
    "source",
    "crm_id",
    "email",
    "company",
    "owner_id",
    "segment",
    "lead_source",
    "url",
    "created_at",
    "is_deleted",
    "deleted_at",
)
"""The ``leads`` columns the audit reads for a cohort lead (everything but ``raw``)."""


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
    if rule.lead_stage:
        # The HubSpot connector records a Leads-object stage change as field "lead_stage".
        out.append(StageCondition(source, stage, "lead_stage", tuple(rule.lead_stage)))
    if rule.converted:
        # The connector records a Salesforce conversion as field "converted" = "true".
        out.append(StageCondition(source, stage, "converted", ("true",)))
    return out


def _by_key(frame: pd.DataFrame, column: str, size: int, fill: object) -> np.ndarray:
    """``frame[column]`` as an array indexed by ``frame["lead_key"]`` (``fill`` elsewhere)."""
    out = np.full(size, fill, dtype=object if fill is None else np.int64)
    out[frame["lead_key"].to_numpy(dtype=np.int64)] = frame[column].to_numpy()
    return out


class SnapshotReader:
    """Frames of the snapshot at ``as_of`` (fixed-format UTC text)."""

    def __init__(self, conn: sqlite3.Connection, as_of: str, sources: Sequence[str]) -> None:
        self.conn = conn
        self.as_of = as_of
        self.sources = tuple(sources)

    def _frame(self, sql: str, params: Sequence[object] = ()) -> pd.DataFrame:
        return pd.read_sql_query(sql, self.conn, params=list(params))

    def _source_marks(self) -> str:
        return ",".join("?" * len(self.sources))

    def data_start(self) -> str | None:
        """When the snapshot's data starts: the first lead created, as seen at as-of.

        A month that ends before it has no data at all, and one that it falls in is only
        partly covered (docs/SEMANTICS.md, "No data is not a failure"). Read from the
        ``created_at`` index; deleted leads count, since they show the CRM held data then.
        """
        # "+source" keeps SQLite off the (source, crm_id) index: walking created_at in order
        # finds the first lead at once, where a source's whole index range takes 0.1 s/100k.
        row = self.conn.execute(
            "select created_at from leads where created_at <= ? "
            f"and +source in ({self._source_marks()}) order by created_at limit 1",
            [self.as_of, *self.sources],
        ).fetchone()
        return row[0] if row and row[0] else None

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
        ``cohort_only`` reads the leads' columns from the cohort table (a copy of their
        ``leads`` rows) instead of the wide ``leads`` rows themselves.
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
            source = (
                "temp.cohort_leads l cross join lead_history h on h.lead_id = l.lead_id"
                if cohort_only
                else "lead_history h join leads l on l.id = h.lead_id"
            )
            parts.append(
                f"select h.lead_id, '{cond.stage}' as stage, h.changed_at, "
                f"{self._deleted_sql()} as is_deleted from {source} where {clause})"
                + self._entry_bounds(since, until, params)
            )
        sql = " union all ".join(parts)
        frame = self._frame(sql, params)
        return frame.drop_duplicates(["lead_id", "stage", "changed_at"]).reset_index(drop=True)

    def _deleted_sql(self) -> str:
        return (
            "case when coalesce(l.is_deleted, 0) = 1 and "
            f"(l.deleted_at is null or l.deleted_at <= '{self.as_of}') then 1 else 0 end"
        )

    def _entry_bounds(self, since: str | None, until: str | None, params: list[object]) -> str:
        sql = " and h.changed_at <= ? and (l.created_at is null or l.created_at <= ?)"
        params += [self.as_of, self.as_of]
        if since is not None:
            sql += " and h.changed_at >= ?"
            params.append(since)
        if until is not None:
            sql += " and h.changed_at < ?"
            params.append(until)
        return sql

    # -- cohort-scoped reads -------------------------------------------------------------

    def load_cohort(self, lead_ids: Sequence[str]) -> None:
        """Put the cohort's leads (distinct ids) in a temp table that later joins use.

        The table holds a copy of the columns the audit reads from ``leads``: a lead row
        also carries the CRM record as JSON (``raw``, about a kilobyte), and reading the
        copy instead of the row in each query saves most of the work. Its columns have
        no declared type, so every value keeps the type it has in ``leads``. Each lead
        also gets a small integer key ``lead_key``: the frames built from the cohort's history
        are matched on it, which costs a fraction of matching lead-id text.
        """
        self._cohort_keys("cohort_ids", lead_ids)
        columns = ", ".join(COHORT_COLUMNS)
        copied = ", ".join(f"l.{c}" for c in COHORT_COLUMNS)
        self.conn.execute("drop table if exists temp.cohort_leads")
        self.conn.execute(
            "create temp table cohort_leads (lead_key integer primary key, lead_id text unique, "
            f"{columns})"
        )
        # SQLite prefers the key index for ``l.id = ?``; the covering one (when the file
        # has it) answers without fetching each lead's wide row.
        covering = self.conn.execute(
            "select 1 from sqlite_master where type = 'index' and name = 'idx_leads_audit'"
        ).fetchone()
        self.conn.execute(
            f"insert into temp.cohort_leads select c.lead_key, l.id, {copied} "
            "from temp.cohort_ids c "
            f"cross join leads l {'indexed by idx_leads_audit ' if covering else ''}"
            "on l.id = c.lead_id"
        )
        self.conn.execute("drop table temp.cohort_ids")

    def _cohort_keys(self, table: str, lead_ids: Sequence[str]) -> None:
        """Temp table (lead_key, lead_id): lead_key numbers the distinct ``lead_ids``, from 1."""
        self.conn.execute(f"drop table if exists temp.{table}")
        self.conn.execute(f"create temp table {table} (lead_key integer primary key, lead_id text)")
        self.conn.executemany(
            f"insert into temp.{table} values (?, ?)", enumerate(lead_ids, start=1)
        )

    def cohort_leads(self) -> pd.DataFrame:
        return self._frame(
            "select lead_key, lead_id, source, crm_id, email, company, owner_id, segment, "
            "lead_source, url from temp.cohort_leads"
        )

    def cohort_property(self, name: str) -> pd.Series:
        """Each cohort lead's current value of a CRM property the SLA names, by lead id
        (``lead_fields``; a lead without a row holds none)."""
        values = self._frame(
            "select f.lead_id, f.value from temp.cohort_leads c "
            "join lead_fields f on f.lead_id = c.lead_id and f.field = ?",
            [name],
        )
        return values.set_index("lead_id")["value"]

    def cohort_lead_states(self) -> pd.DataFrame:
        """Per cohort lead (``lead_key``): source, ``visible`` (created by as-of), ``is_deleted``.

        Both flags are computed by SQLite with the very expressions :meth:`stage_entries`
        applies, so :meth:`cohort_stage_entries` filters exactly as that query does.
        """
        return self._frame(
            f"select l.lead_key, l.source, {self._deleted_sql()} as is_deleted, "
            "case when l.created_at is null or l.created_at <= ? then 1 else 0 end "
            "as visible from temp.cohort_leads l",
            [self.as_of],
        )

    def cohort_stage_entries(
        self,
        history: pd.DataFrame,
        states: pd.DataFrame,
        conditions: Sequence[StageCondition],
    ) -> pd.DataFrame:
        """:meth:`stage_entries` with ``cohort_only=True``, from already read history.

        ``history`` is :meth:`cohort_history` of at least the conditions' fields and
        ``states`` is :meth:`cohort_lead_states`. One read of the cohort's history then
        serves every stage: a query per stage would walk the cohort's history again for
        each condition (1.8 s of a 1,000,000-lead audit, benchmarks/RESULTS.md). Columns:
        lead_key, stage, changed_at, event_ns, is_deleted.
        """
        columns = ["lead_key", "stage", "changed_at", "event_ns", "is_deleted"]
        if not conditions:
            return pd.DataFrame(columns=columns)
        # Per-lead facts looked up by lead_key (a small integer) for every history row at once.
        size = int(states["lead_key"].max()) + 1 if len(states) else 1
        lead_key = history["lead_key"].to_numpy(dtype=np.int64)
        visible = _by_key(states, "visible", size, 0)[lead_key] == 1
        is_deleted = _by_key(states, "is_deleted", size, 0)[lead_key]
        source = _by_key(states, "source", size, None)[lead_key]
        parts = []
        for cond in conditions:
            match = visible & (source == cond.source) & (history["field"] == cond.field).to_numpy()
            if cond.values is not None:
                match &= history["value"].isin(list(cond.values)).to_numpy()
            part = history.loc[match, ["lead_key", "changed_at", "event_ns"]]
            parts.append(part.assign(stage=cond.stage, is_deleted=is_deleted[match])[columns])
        frame = pd.concat(parts, ignore_index=True)
        return frame.drop_duplicates(["lead_key", "stage", "changed_at"]).reset_index(drop=True)

    def cohort_history(self, fields: Sequence[str]) -> pd.DataFrame:
        """History of the cohort's leads for ``fields`` up to as-of, oldest first.

        Columns: lead_key, field and value (categorical: a few distinct values among
        hundreds of thousands of rows, compared many times), changed_at, event_ns (int64 ns).
        """
        marks = ",".join("?" * len(fields))
        frame = self._frame(
            "select c.lead_key, h.field, h.value, h.changed_at from temp.cohort_leads c "
            "cross join lead_history h on h.lead_id = c.lead_id "
            f"where h.field in ({marks}) and h.changed_at <= ? "
            "order by c.lead_key, h.field, h.changed_at",
            [*fields, self.as_of],
        )
        frame["field"] = frame["field"].astype("category")
        frame["value"] = frame["value"].astype("category")
        frame["event_ns"] = to_ns(frame["changed_at"])
        return frame

    def handoff_activities(
        self, windows: pd.DataFrame, kinds: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """Per handoff, the activities of its lead that occurred in its window and by as-of.

        ``windows`` has hid, lead_id, since and until (instant text); each handoff gets
        the activities with ``since <= occurred_at < until``, so an activity of a lead
        with two handoffs whose windows overlap comes once per handoff. ``kinds`` keeps
        only those kinds (the rest never counts, so it is not read into Python). An
        activity recorded in the CRM after as-of is not seen even if back-dated, and a
        deleted activity is left out. Columns: hid, kind, direction, outcome,
        outcome_label, occurred_at, event_ns (int64 ns).
        """
        self.conn.execute("drop table if exists temp.handoff_windows")
        self.conn.execute(
            "create temp table handoff_windows "
            "(hid integer primary key, lead_id text, since text, until text)"
        )
        self.conn.executemany(
            "insert into temp.handoff_windows values (?, ?, ?, ?)",
            zip(
                windows["hid"].tolist(),
                windows["lead_id"].tolist(),
                windows["since"].tolist(),
                windows["until"].tolist(),
                strict=True,
            ),
        )
        params: list[object] = [self.as_of, self.as_of, self.as_of]
        kind_sql = ""
        if kinds is not None:
            kind_sql = f" and a.kind in ({','.join('?' * len(kinds))})"
            params += list(kinds)
        # lead_touches is keyed (lead_id, occurred_at, …): each window is one range read.
        frame = self._frame(
            "select w.hid, a.kind, a.direction, a.outcome, a.outcome_label, a.occurred_at "
            "from temp.handoff_windows w "
            "cross join lead_touches a on a.lead_id = w.lead_id "
            "and a.occurred_at >= w.since and a.occurred_at < w.until "
            "where a.occurred_at <= ? and (a.created_at is null or a.created_at <= ?) "
            # Deleted after as-of: still there at as-of (a deletion without its instant,
            # from an older sync, counts as deleted all along).
            "and (coalesce(a.is_deleted, 0) = 0 or a.deleted_at > ?)"
            f"{kind_sql}",
            params,
        )
        self.conn.execute("drop table temp.handoff_windows")
        frame["event_ns"] = to_ns(frame["occurred_at"])
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
            "select c.lead_id from temp.cohort_leads c where exists (select 1 from "
            "lead_history h where h.lead_id = c.lead_id and h.field = 'owner')"
        ).fetchall()
        return {r[0] for r in rows}
