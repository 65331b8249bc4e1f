"""The SLA arithmetic (docs/SEMANTICS.md §6), optionally beside rates measured in the snapshot.

customers needed = revenue_per_month × marketing_share ÷ average_deal_size
MQLs needed      = customers needed ÷ mql_to_customer

With history, each rate is measured over the handoffs of the last N closed months as of
the snapshot's last good sync: MQLs a month, MQL→SQL (progressed by as-of) and
MQL→customer, split by segment and by lead source.
"""

from __future__ import annotations

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

    def to_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
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
        mql_to_sql=sla.marketing.mql_to_sql,
        active_reps=reps,
        mqls_per_rep=(target / reps) if target is not None and reps else None,
    )
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
    calendar = calendar_for(sla)
    for period in periods:
        ctx = build_context(conn, sla, period, as_of, calendar)
        frames.append(ctx.facts[["segment", "lead_source", "progressed_at", "customer_at", "rep"]])
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
        by_segment=_split(facts, "segment", sql, won, months),
        by_lead_source=_split(facts, "lead_source", sql, won, months),
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
