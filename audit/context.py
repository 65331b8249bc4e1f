"""Everything the rules need, computed once per audit: one row of facts per handoff.

Rules are pure functions of this context (STYLE.md: soda-core). The facts frame has one
row per handoff in the cohort with every instant the rules compare, as int64 UTC epoch
nanoseconds (``NAT`` where the event did not happen by as-of; :mod:`audit.instants_ns`).
Its keys are ``hid`` (the handoff id) and ``lead_key`` (the lead's cohort key), and the
handoff's own instant is ``handoff_ns`` (:mod:`audit.handoffs`).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd

from audit.business_time import BusinessCalendar
from audit.funnel_values import ambiguous_labels
from audit.handoffs import (
    PROGRESS_STAGES,
    UNASSIGNED,
    first_event_at_or_after,
    period_handoffs,
    responsible_assignment,
    value_at,
)
from audit.instants_ns import earliest, ns_text
from audit.mql_entries import handoff_instants, mql_moves
from audit.names import ValueLabels, read_value_labels
from audit.outreach import (
    counted_attempts,
    counted_before,
    is_attempt,
    is_connection,
    per_handoff_count,
    per_handoff_first,
    relevant_kinds,
    window_activities,
)
from audit.period import AuditInputError, Period
from audit.persistence import add_persistence_facts
from audit.result import Coverage
from audit.routing import Clocks, add_routing_facts, calendar_years
from audit.snapshot_reader import SnapshotReader, StageCondition, stage_conditions
from audit.tiers import add_tier_columns
from audit.time_off import check_owners, rep_absences
from config.sla import SLA
from config.sla_fields import crm_fields
from snapshot.instants import format_instant, parse_instant
from snapshot.lead_fields import is_filled


@dataclass
class AuditContext:
    sla: SLA
    period: Period
    as_of: datetime
    as_of_ns: int
    calendar: BusinessCalendar
    facts: pd.DataFrame
    reps: list[str]
    deleted_left_out: int
    sources: list[str]
    notes: list[str] = field(default_factory=list)
    kinds_seen: dict[str, int] = field(default_factory=dict)
    """In-window calls and e-mails of the cohort's handoffs (for the e-mail capture note)."""
    data_start: datetime | None = None
    """The first lead's creation seen at as-of (None: the snapshot holds no lead yet)."""
    evidence: bool = True
    """Whether rules list violations and pending handoffs; a trend point needs only figures."""
    labels: ValueLabels = field(default_factory=lambda: ValueLabels({}))
    """The CRM's labels of funnel values, for the words of evidence (issue 15, item 7)."""
    clocks: Clocks | None = None
    """Each rep's working hours and own clock (time off); None: the SLA's for everyone."""

    @property
    def as_of_text(self) -> str:
        return format_instant(self.as_of)

    @property
    def period_complete(self) -> bool:
        """Whether the whole period lies before as-of (volume targets are then final)."""
        return self.as_of >= self.period.end

    @property
    def coverage(self) -> Coverage:
        """How much of the period the data covers: none, partial (starts inside) or full."""
        if self.data_start is None or self.data_start >= self.period.end:
            return "none"
        return "partial" if self.data_start > self.period.start else "full"

    @property
    def elapsed_share(self) -> float:
        """Share of the period's calendar time elapsed by as-of, in [0, 1]."""
        total = (self.period.end - self.period.start).total_seconds()
        done = (min(self.as_of, self.period.end) - self.period.start).total_seconds()
        return max(0.0, min(1.0, done / total))


def build_context(
    conn: sqlite3.Connection,
    sla: SLA,
    period: Period,
    as_of: datetime,
    calendar: BusinessCalendar,
    *,
    evidence: bool = True,
) -> AuditContext:
    """Read the snapshot at as-of and compute the per-handoff facts the rules compare.

    ``evidence=False`` tells the rules to skip the violation and pending lists (the
    figures are the same): a ``--trend`` month reports figures only, and at 100,000
    violations building those rows is a tenth of the month's work.
    """
    sources = sorted(sla.funnel)
    require_synced_fields(conn, sla, sources)
    as_of_text = format_instant(as_of)
    reader = SnapshotReader(conn, as_of_text, sources)
    handoffs, deleted = period_handoffs(reader, sla, period.start_text, period.end_text)
    funnel = _funnel_conditions(sla)
    reader.load_cohort(list(handoffs["lead_id"].unique()))
    leads = reader.cohort_leads()
    history = reader.cohort_history(_history_fields(sla, funnel))
    states = reader.cohort_lead_states()
    entries = {
        name: reader.cohort_stage_entries(history, states, conditions)
        for name, conditions in funnel.items()
    }
    facts = handoffs.merge(leads, on="lead_id", how="left")
    facts = _entries_only(facts, history, states, sla, entries["recycled"])

    owners = reader.owners()
    owner_names = _owner_names(owners)
    _add_responsible_reps(facts, reader, history, owner_names)
    _add_split_columns(facts, reader, sla)

    counted, kinds_seen = _add_outreach_facts(facts, reader, sla, calendar)
    _add_funnel_facts(facts, sla, history, entries, counted)
    clocks = _rep_clocks(sla, calendar, owners, period, as_of)
    add_routing_facts(facts, sla, clocks)

    reps = _period_reps(owners, owner_names, facts["rep"])
    as_of_ns = int(pd.Timestamp(as_of).value)
    return AuditContext(
        sla=sla,
        period=period,
        as_of=as_of,
        as_of_ns=as_of_ns,
        calendar=calendar,
        facts=facts,
        reps=reps,
        deleted_left_out=deleted,
        sources=sources,
        data_start=_instant_or_none(reader.data_start()),
        kinds_seen=kinds_seen,
        evidence=evidence,
        labels=read_value_labels(conn),
        clocks=clocks,
    )


def _rep_clocks(
    sla: SLA, calendar: BusinessCalendar, owners: pd.DataFrame, period: Period, as_of: datetime
) -> Clocks:
    """Every rep's clock; time off is read (files, URLs) only when the SLA lists some."""
    if sla.time_off or sla.rep_hours:
        check_owners(sla, owners["email"].tolist())
    absences = rep_absences(sla) if sla.time_off else {}
    return Clocks(sla, calendar, calendar_years(period.start, as_of), absences)


def _instant_or_none(text: str | None) -> datetime | None:
    return None if text is None else parse_instant(text)


def _add_split_columns(facts: pd.DataFrame, reader: SnapshotReader, sla: SLA) -> None:
    """The segment, source and tier columns, then each handoff's tier and thresholds.

    A field that names a CRM property becomes a facts column first (the lead columns are
    there already); :func:`require_synced_fields` has made sure the snapshot holds it.
    """
    block = sla.segments
    for name in {block.segment_field, block.source_field, block.tier_field} - {None}:
        if name is not None and name not in facts.columns:
            facts[name] = facts["lead_id"].map(reader.cohort_property(name))
    add_tier_columns(facts, sla)


def require_synced_fields(conn: sqlite3.Connection, sla: SLA, sources: list[str]) -> None:
    """A property the SLA names that a source's leads were never synced with would read as
    empty — every recycle "no reason" — so the audit stops with the fix instead; so does a
    funnel value that is the label of several CRM values (which one was meant?)."""
    ambiguous = ambiguous_labels(conn, sla)
    if ambiguous:
        raise AuditInputError(ambiguous[0])
    for source in sources:
        if conn.execute("select 1 from leads where source = ? limit 1", [source]).fetchone():
            for named in crm_fields(sla, source):
                if not is_filled(conn, source, named.name, history=named.history):
                    raise AuditInputError(
                        f"{named.key}: {source} property {named.name!r} is not synced into "
                        "this snapshot, so it would read as empty: run `run_audit.py sync "
                        "--sla <this SLA file>` once (it fills that property for the leads "
                        "already synced)"
                    )


def _history_fields(sla: SLA, funnel: dict[str, list[StageCondition]]) -> list[str]:
    """The history fields the facts read: owner, the recycle reason, every funnel field."""
    mql_fields = {cond.field for cond in stage_conditions(sla, ["mql"])}
    funnel_fields = {cond.field for conds in funnel.values() for cond in conds}
    return sorted({"owner", sla.sales.recycle.reason_field, *mql_fields} | funnel_fields)


def _entries_only(
    facts: pd.DataFrame,
    history: pd.DataFrame,
    states: pd.DataFrame,
    sla: SLA,
    recycled: pd.DataFrame,
) -> pd.DataFrame:
    """The period's ``mql`` events that are entries into ``mql`` (docs/SEMANTICS.md §2).

    A re-stamp of an ``mql`` value while the lead is still in ``mql`` is dropped; the
    handoff ids are then numbered again from 0, in the same order.
    """
    into, out_of = mql_moves(history, states, stage_conditions(sla, ["mql"]))
    entries = handoff_instants(into, out_of, recycled).rename(columns={"event_ns": "handoff_ns"})
    kept = facts.merge(entries.assign(entry=True), on=["lead_key", "handoff_ns"], how="left")
    kept = kept[kept["entry"].eq(True).to_numpy()].drop(columns="entry").reset_index(drop=True)
    kept["hid"] = np.arange(len(kept), dtype=np.int64)
    return kept


def _funnel_conditions(sla: SLA) -> dict[str, list[StageCondition]]:
    """The stage conditions of each funnel group the facts need: progress, recycled, customer."""
    return {
        name: stage_conditions(sla, stages)
        for name, stages in (
            ("progress", PROGRESS_STAGES),
            ("recycled", ["recycled"]),
            ("customer", ["customer"]),
        )
    }


def _add_responsible_reps(
    facts: pd.DataFrame,
    reader: SnapshotReader,
    history: pd.DataFrame,
    owner_names: dict[str, str],
) -> None:
    """Add ``rep``: who is responsible for each handoff (docs/SEMANTICS.md §3), and
    ``assigned_ns``: when the lead first had an owner at or after the handoff."""
    current_owner = facts["owner_id"].astype(object).where(facts["owner_id"].notna(), None)
    current_owner = current_owner.where(
        ~facts["lead_id"].isin(reader.leads_with_owner_history()), None
    )
    facts["rep"], facts["assigned_ns"] = responsible_assignment(
        facts, history, current_owner, owner_names
    )


def _owner_names(owners: pd.DataFrame) -> dict[str, str]:
    """Owner id → how a rep is named: email where the CRM has one, else the owner id."""
    names: dict[str, str] = {}
    for owner_id, email in zip(owners["owner_id"], owners["email"], strict=True):
        names[owner_id] = (
            email.strip().lower() if isinstance(email, str) and email.strip() else owner_id
        )
    return names


def _period_reps(owners: pd.DataFrame, names: dict[str, str], responsible: pd.Series) -> list[str]:
    """Active owners plus everyone responsible for a handoff; ``unassigned`` is no rep."""
    active = {
        names[owner_id]
        for owner_id, is_active in zip(owners["owner_id"], owners["active"], strict=True)
        if is_active
    }
    involved = {rep for rep in responsible.unique() if rep != UNASSIGNED}
    return sorted(active | involved)


def _add_outreach_facts(
    facts: pd.DataFrame, reader: SnapshotReader, sla: SLA, calendar: BusinessCalendar
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Add first attempt, counted attempts (per channel and their cadence too, when the SLA
    asks: :mod:`audit.persistence`) and activity connection; return the counted rows and
    how many in-window activities of each kind there were."""
    attempts_cfg = sla.sales.attempts
    facts["window_end"] = facts["handoff_ns"] + facts["window_ns"]
    windows = pd.DataFrame(
        {
            "hid": facts["hid"].to_numpy(),
            "lead_id": facts["lead_id"].to_numpy(),
            "since": ns_text(facts["handoff_ns"].to_numpy()),
            "until": ns_text(facts["window_end"].to_numpy()),
        }
    )
    acts = reader.handoff_activities(windows, relevant_kinds(attempts_cfg.channels))
    in_window = window_activities(facts, acts)
    attempts = in_window[is_attempt(in_window, list(attempts_cfg.channels))]
    counted = counted_attempts(attempts, facts["min_gap_ns"].to_numpy())
    connections = in_window[
        is_connection(in_window, sla.connected_outcomes(), sla.meeting_not_held_outcomes())
    ]
    facts["first_attempt"] = per_handoff_first(attempts, facts)
    facts["attempts"] = per_handoff_count(counted, facts)
    add_persistence_facts(facts, attempts, counted, sla, calendar)
    facts["activity_connected_at"] = per_handoff_first(connections, facts)
    kinds = in_window["kind"]
    kinds_seen = {kind: int((kinds == kind).sum()) for kind in ("call", "email")}
    return counted, kinds_seen


def _add_funnel_facts(
    facts: pd.DataFrame,
    sla: SLA,
    history: pd.DataFrame,
    entries: dict[str, pd.DataFrame],
    counted: pd.DataFrame,
) -> None:
    """Funnel instants per handoff: the first entry into each stage at or after it.

    ``entries`` holds the cohort's stage entries by group (progress, recycled, customer).
    ``sql_at``, ``opportunity_at`` and ``customer_at`` are entries into exactly that stage:
    a lead that jumps from mql to customer has no ``sql_at``. Whoever counts "reached
    opportunity" for a funnel must therefore also count later stages (conversion does).
    """
    progress, recycled, customer = entries["progress"], entries["recycled"], entries["customer"]
    facts["progressed_at"] = first_event_at_or_after(facts, progress, "progressed_at")
    facts["customer_at"] = first_event_at_or_after(facts, customer, "customer_at")
    for stage in ("sql", "opportunity"):
        into_stage = progress[progress["stage"] == stage]
        facts[f"{stage}_at"] = first_event_at_or_after(facts, into_stage, f"{stage}_at")
    window_end = facts["window_end"].to_numpy()
    progressed_in_window = first_event_at_or_after(
        facts, progress, "progressed_in_window", before=window_end
    ).to_numpy()
    activity = facts["activity_connected_at"].to_numpy()
    facts["connected_at"] = earliest(activity, progressed_in_window)
    facts["recycled_at"] = first_event_at_or_after(facts, recycled, "recycled_at")
    recycled_at = facts["recycled_at"].to_numpy()
    reason_field = sla.sales.recycle.reason_field
    facts["recycle_reason"] = value_at(facts, history, reason_field, recycled_at)
    facts["attempts_before_recycle"] = counted_before(counted, facts, recycled_at)
    facts["recycle_deadline"] = facts["window_end"] + facts["grace_ns"]
