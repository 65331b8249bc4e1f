"""The SLA arithmetic (docs/SEMANTICS.md §6), optionally beside rates measured in the snapshot.

customers needed = revenue_per_month × marketing_share ÷ average_deal_size
MQLs needed      = customers needed ÷ mql_to_customer

With history, each rate is measured over the handoffs of the last N closed months as of
the snapshot's last good sync: MQLs a month, MQL→SQL (progressed by as-of) and
MQL→customer, split by segment and by lead source.
"""

from __future__ import annotations

import math
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from audit.context import build_context
from audit.engine import calendar_for
from audit.instants_ns import not_nat
from audit.period import Period, parse_period
from config.sla import SLA


@dataclass
class MeasuredRates:
    months: list[str]
    handoffs: int
    mqls_per_month: float
    mql_to_sql: float | None
    mql_to_customer: float | None
    by_segment: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_lead_source: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class Plan:
    sla: str
    revenue_per_month: float | None
    marketing_share: float | None
    average_deal_size: float | None
    mql_to_customer: float | None
    customers_needed: float | None
    mqls_needed: float | None
    mqls_target: float | None
    mql_to_sql: float | None
    active_reps: int | None
    mqls_per_rep: float | None
    history: MeasuredRates | None = None
    mqls_needed_at_measured_rate: float | None = None
    per_rep_min: int | None = None
    per_rep_max: int | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def customers_needed_whole(self) -> int | None:
        """Customers needed, rounded up: a fraction of a customer still has to be won."""
        return None if self.customers_needed is None else math.ceil(self.customers_needed)

    @property
    def mqls_needed_whole(self) -> int | None:
        """MQLs needed, rounded up: a fraction of a lead still has to be found."""
        return None if self.mqls_needed is None else math.ceil(self.mqls_needed)

    def to_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out["customers_needed_whole"] = self.customers_needed_whole
        out["mqls_needed_whole"] = self.mqls_needed_whole
        out["history"] = None if self.history is None else dict(self.history.__dict__)
        return out


def active_rep_count(conn: sqlite3.Connection, sources: list[str]) -> int:
    marks = ",".join("?" * len(sources))
    row = conn.execute(
        "select count(distinct coalesce(nullif(lower(trim(email)), ''), id)) from owners "
        f"where active = 1 and source in ({marks})",
        sources,
    ).fetchone()
    return int(row[0])


def per_rep_range_warnings(plan: Plan) -> list[str]:
    """Whether the active reps' per-rep range can hold the month's MQL target at all.

    With 8 reps and at most 80 MQLs each, 700 MQLs cannot all be handed over within the
    range; with at least 40 each, 300 MQLs leave some rep short whatever marketing does.
    """
    if plan.active_reps is None or plan.mqls_target is None:
        return []
    reps, needed = plan.active_reps, math.ceil(plan.mqls_target)
    warnings = []
    if plan.per_rep_max is not None and reps * plan.per_rep_max < needed:
        warnings.append(
            f"{reps} active reps × at most {plan.per_rep_max} MQLs each = "
            f"{reps * plan.per_rep_max:,} < {needed:,} MQLs a month: the per-rep range cannot "
            "take the target; raise marketing.per_rep.max or add reps"
        )
    if plan.per_rep_min is not None and reps * plan.per_rep_min > needed:
        warnings.append(
            f"{reps} active reps × at least {plan.per_rep_min} MQLs each = "
            f"{reps * plan.per_rep_min:,} > {needed:,} MQLs a month: some rep must fall short "
            "of marketing.per_rep.min even when marketing meets its target"
        )
    return warnings


def make_plan(
    sla: SLA,
    conn: sqlite3.Connection | None = None,
    *,
    history_months: int = 0,
    as_of: datetime | None = None,
) -> Plan:
    goals = sla.goals
    target = sla.mqls_target()
    reps = active_rep_count(conn, sorted(sla.funnel)) if conn is not None else None
    plan = Plan(
        sla=sla.name,
        revenue_per_month=goals.revenue_per_month if goals else None,
        marketing_share=goals.marketing_share if goals else None,
        average_deal_size=goals.average_deal_size if goals else None,
        mql_to_customer=goals.mql_to_customer if goals else None,
        customers_needed=goals.customers_needed() if goals else None,
        mqls_needed=goals.mqls_needed() if goals else None,
        mqls_target=target,
        mql_to_sql=sla.marketing.conversion_target,
        active_reps=reps,
        mqls_per_rep=(target / reps) if target is not None and reps else None,
        per_rep_min=sla.marketing.per_rep.min if sla.marketing.per_rep else None,
        per_rep_max=sla.marketing.per_rep.max if sla.marketing.per_rep else None,
    )
    plan.warnings = per_rep_range_warnings(plan)
    if conn is not None and history_months > 0 and as_of is not None:
        plan.history = measured_rates(conn, sla, as_of, history_months)
        rate = plan.history.mql_to_customer
        if goals and rate:
            plan.mqls_needed_at_measured_rate = goals.customers_needed() / rate
    return plan


def closed_months(as_of: datetime, sla: SLA, count: int) -> list[Period]:
    """The ``count`` whole months before the one ``as_of`` falls in (oldest first)."""
    local = as_of.astimezone(sla.tz)
    current = parse_period(f"{local.year:04d}-{local.month:02d}", sla.tz)
    return [current.previous(back) for back in range(count, 0, -1)]


def measured_rates(
    conn: sqlite3.Connection, sla: SLA, as_of: datetime, months: int
) -> MeasuredRates:
    frames = []
    periods = closed_months(as_of, sla, months)
    calendar = calendar_for(sla, periods[0].start if periods else as_of, as_of)
    for period in periods:
        ctx = build_context(conn, sla, period, as_of, calendar)
        frames.append(
            ctx.facts[["split_segment", "split_lead_source", "progressed_at", "customer_at", "rep"]]
        )
    facts = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    handoffs = len(facts)
    sql = not_nat(facts["progressed_at"].to_numpy()) if handoffs else np.array([], dtype=bool)
    won = not_nat(facts["customer_at"].to_numpy()) if handoffs else np.array([], dtype=bool)
    return MeasuredRates(
        months=[period.label for period in periods],
        handoffs=handoffs,
        mqls_per_month=handoffs / months,
        mql_to_sql=float(sql.mean()) if handoffs else None,
        mql_to_customer=float(won.mean()) if handoffs else None,
        # The SLA's segments block names these fields; the plan has nothing tier-dependent
        # (it projects volume and conversion, not first-touch or attempt capacity).
        by_segment=_split(facts, "split_segment", sql, won, months),
        by_lead_source=_split(facts, "split_lead_source", sql, won, months),
    )


def _split(
    facts: pd.DataFrame, column: str, sql: np.ndarray, won: np.ndarray, months: int
) -> dict[str, dict[str, Any]]:
    if facts.empty:
        return {}
    frame = pd.DataFrame(
        {"group": facts[column].fillna("(none)").astype(str), "sql": sql, "won": won}
    )
    out: dict[str, dict[str, Any]] = {}
    for name, part in frame.groupby("group", sort=True):
        out[str(name)] = {
            "mqls_per_month": len(part) / months,
            "mql_to_sql": float(part["sql"].mean()),
            "mql_to_customer": float(part["won"].mean()),
        }
    return out


__all__ = ["MeasuredRates", "Plan", "make_plan"]
