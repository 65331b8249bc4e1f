"""Everything the rules need, computed once per audit: one row of facts per handoff.

Rules are pure functions of this context (STYLE.md: soda-core). The facts frame has one
row per handoff in the cohort with every instant the rules compare, as int64 UTC epoch
nanoseconds (``NAT`` where the event did not happen by as-of).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from audit.business_time import BusinessCalendar
from audit.handoffs import (
    PROGRESS_STAGES,
    UNASSIGNED,
    first_event_at_or_after,
    period_handoffs,
    responsible_reps,
    value_at,
)
from audit.outreach import (
    NAT,
    counted_attempts,
    counted_before,
    is_attempt,
    is_connection,
    per_handoff_count,
    per_handoff_first,
    relevant_kinds,
    window_activities,
)
from audit.period import Period
from audit.snapshot_reader import SnapshotReader, stage_conditions
from config.sla import SLA
from snapshot.instants import EPOCH, format_instant

NS_PER_S = 1_000_000_000


def td_ns(value: object) -> int:
    """A timedelta as int64 nanoseconds."""
    return int(value.total_seconds() * NS_PER_S)  # type: ignore[attr-defined]


def ns_text(values: np.ndarray | int) -> list[str | None] | str | None:
    """int64 ns → snapshot instant text (None for NaT).

    Arrays are formatted by numpy in one pass (a million instants in well under a
    second; ``format_instant`` one by one takes seconds). Both truncate to the
    millisecond toward the past, and every int64 nanosecond instant lies in the years
    1677–2262, which both write with four digits: the text is the same character for
    character.
    """
    if isinstance(values, int | np.integer):
        if values == NAT:
            return None
        return format_instant(EPOCH + timedelta(microseconds=int(values) // 1000))
    ns = np.asarray(values, dtype=np.int64)
    present = ns != NAT
    ms = (np.where(present, ns, 0) // 1_000_000).astype("datetime64[ms]")
    text = np.datetime_as_string(ms, unit="ms").tolist()
    return [f"{t}Z" if ok else None for t, ok in zip(text, present.tolist(), strict=True)]


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
    evidence: bool = True
    """Whether rules list violations and pending handoffs; a trend point needs only figures."""

    @property
    def as_of_text(self) -> str:
        return format_instant(self.as_of)

    @property
    def period_complete(self) -> bool:
        """Whether the whole period lies before as-of (volume targets are then final)."""
        return self.as_of >= self.period.end

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
    as_of_text = format_instant(as_of)
    reader = SnapshotReader(conn, as_of_text, sources)
    handoffs, deleted = period_handoffs(reader, sla, period.start_text, period.end_text)
    funnel = {
        name: stage_conditions(sla, stages)
        for name, stages in (
            ("progress", PROGRESS_STAGES),
            ("recycled", ["recycled"]),
            ("customer", ["customer"]),
        )
    }
    reason_field = sla.sales.recycle.reason_field
    fields = sorted({"owner", reason_field} | {c.field for cs in funnel.values() for c in cs})
    reader.load_cohort(list(handoffs["lead_id"].unique()))
    leads = reader.cohort_leads()
    facts = handoffs.merge(leads, on="lead_id", how="left")

    owners = reader.owners()
    owner_names = _owner_names(owners)
    history = reader.cohort_history(fields)
    current_owner = facts["owner_id"].astype(object).where(facts["owner_id"].notna(), None)
    current_owner = current_owner.where(
        ~facts["lead_id"].isin(reader.leads_with_owner_history()), None
    )
    facts["rep"] = responsible_reps(facts, history, current_owner, owner_names)

    counted = _add_outreach_facts(facts, reader, sla)
    states = reader.cohort_lead_states()
    entries = {
        name: reader.cohort_stage_entries(history, states, conditions)
        for name, conditions in funnel.items()
    }
    _add_funnel_facts(facts, sla, history, entries, counted)
    facts["first_touch_deadline"] = (
        calendar.add_business_ns(
            facts["h"].to_numpy(), sla.sales.first_touch.within.total_seconds()
        )
        if len(facts)
        else np.array([], dtype=np.int64)
    )

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
        evidence=evidence,
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
    active = {names[o] for o, a in zip(owners["owner_id"], owners["active"], strict=True) if a}
    involved = {r for r in responsible.unique() if r != UNASSIGNED}
    return sorted(active | involved)


def _add_outreach_facts(facts: pd.DataFrame, reader: SnapshotReader, sla: SLA) -> pd.DataFrame:
    """Add first attempt, counted attempts and activity connection; return counted rows."""
    attempts_cfg = sla.sales.attempts
    facts["window_end"] = facts["h"] + td_ns(attempts_cfg.window)
    windows = pd.DataFrame(
        {
            "hid": facts["hid"].to_numpy(),
            "lead_id": facts["lead_id"].to_numpy(),
            "since": ns_text(facts["h"].to_numpy()),
            "until": ns_text(facts["window_end"].to_numpy()),
        }
    )
    acts = reader.handoff_activities(windows, relevant_kinds(attempts_cfg.channels))
    in_window = window_activities(facts, acts)
    attempts = in_window[is_attempt(in_window, list(attempts_cfg.channels))]
    counted = counted_attempts(attempts, td_ns(attempts_cfg.min_gap))
    connections = in_window[is_connection(in_window, sla.connected_outcomes())]
    facts["first_attempt"] = per_handoff_first(attempts, facts)
    facts["attempts"] = per_handoff_count(counted, facts)
    facts["activity_connected_at"] = per_handoff_first(connections, facts)
    return counted


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
        entries = progress[progress["stage"] == stage]
        facts[f"{stage}_at"] = first_event_at_or_after(facts, entries, f"{stage}_at")
    window_end = facts["window_end"].to_numpy()
    progressed_in_window = first_event_at_or_after(
        facts, progress, "p", before=window_end
    ).to_numpy()
    activity = facts["activity_connected_at"].to_numpy()
    facts["connected_at"] = _earliest(activity, progressed_in_window)
    facts["recycled_at"] = first_event_at_or_after(facts, recycled, "recycled_at")
    recycled_at = facts["recycled_at"].to_numpy()
    reason_field = sla.sales.recycle.reason_field
    facts["recycle_reason"] = value_at(facts, history, reason_field, recycled_at)
    facts["attempts_before_recycle"] = counted_before(counted, facts, recycled_at)
    facts["recycle_deadline"] = facts["window_end"] + td_ns(sla.sales.recycle.grace)


def _earliest(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Elementwise earliest of two NaT-able int64 ns arrays."""
    big = np.iinfo(np.int64).max
    a2 = np.where(a == NAT, big, a)
    b2 = np.where(b == NAT, big, b)
    out = np.minimum(a2, b2)
    return np.where(out == big, NAT, out)
