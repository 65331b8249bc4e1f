"""The side-by-side baseline: speed-to-lead and attempts the way an analyst would write them.

Load the tables whole into data frames (every column but the ``raw`` JSON), merge,
filter, group — no SQL beyond selecting whole tables, no cohort table, no indexes used.
It follows docs/SEMANTICS.md for the two rules so that its figures must equal the
audit's (the benchmark asserts they do):

* handoffs: entries into the SLA's ``mql`` stage during the month, seen by as-of, of
  leads created by as-of and not deleted by then; one per (lead, instant);
* attempts: activities of a counted channel, not inbound, in [handoff, handoff + window),
  occurred and recorded by as-of, not deleted;
* speed to lead: business time from handoff to the first attempt, compliant within
  ``first_touch.within``; judged once touched or past the deadline;
* attempts rule: counted attempts (each ``min_gap`` after the previous counted one) or a
  connection (connected call, meeting, inbound call or email, or progress to sql or
  beyond inside the window); judged once compliant or when the window has closed.

Business time is the one thing borrowed from the engine (``BusinessCalendar``): opening
hours, lunch breaks, holidays and daylight saving are a calendar library's job, and an
analyst would import one rather than re-derive it; everything this baseline measures is
the data handling around it.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from audit.engine import calendar_for
from audit.period import parse_period
from config.sla import SLA
from snapshot.instants import format_instant

PROGRESS = ("sql", "opportunity", "customer")


def _stage_values(sla: SLA, source: str, stage: str) -> tuple[list[str], list[str]]:
    rule = sla.funnel.get(source, {}).get(stage)
    if rule is None:
        return [], []
    return list(rule.stage or []), list(rule.status or [])


def _entries(history: pd.DataFrame, sla: SLA, stages: tuple[str, ...]) -> pd.DataFrame:
    """History rows that enter any of ``stages`` (by the SLA's HubSpot values)."""
    mask = pd.Series(False, index=history.index)
    for stage in stages:
        stage_values, status_values = _stage_values(sla, "hubspot", stage)
        mask |= (history["field"] == "stage") & history["value"].isin(stage_values)
        mask |= (history["field"] == "status") & history["value"].isin(status_values)
    return history[mask]


def _table(conn: sqlite3.Connection, name: str) -> pd.DataFrame:
    """The whole table but its ``raw`` JSON: the evidence column would only add gigabytes."""
    columns = [r[1] for r in conn.execute(f"pragma table_info([{name}])") if r[1] != "raw"]
    return pd.read_sql_query(f"select {', '.join(columns)} from [{name}]", conn)


def analyst_audit(db: str, sla: SLA, period: str, as_of: datetime) -> dict[str, Any]:
    """Speed-to-lead and attempts figures for ``period`` as of ``as_of``, the pandas way."""
    span = parse_period(period, sla.tz)
    as_of_text = format_instant(as_of)
    as_of_ts = pd.Timestamp(as_of)
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    leads = _table(conn, "leads")
    history = _table(conn, "lead_history")
    activities = _table(conn, "activities")
    links = _table(conn, "activity_leads")
    conn.close()

    for frame, column in ((history, "changed_at"), (activities, "occurred_at")):
        frame["ts"] = pd.to_datetime(frame[column], utc=True, format="ISO8601")
    activities["created_ts"] = pd.to_datetime(activities["created_at"], utc=True, format="ISO8601")

    # Leads visible at as-of; deleted ones (deleted by as-of) are left out.
    leads = leads[leads["created_at"].isna() | (leads["created_at"] <= as_of_text)]
    deleted = (leads["is_deleted"].fillna(0) == 1) & (
        leads["deleted_at"].isna() | (leads["deleted_at"] <= as_of_text)
    )
    live_ids = set(leads.loc[~deleted, "id"])

    seen = history[history["ts"] <= as_of_ts]
    mql = _entries(seen, sla, ("mql",))
    handoffs = mql[
        (mql["changed_at"] >= span.start_text)
        & (mql["changed_at"] < span.end_text)
        & mql["lead_id"].isin(live_ids)
    ]
    handoffs = handoffs.drop_duplicates(["lead_id", "changed_at"])[["lead_id", "ts"]]
    handoffs = handoffs.rename(columns={"ts": "handoff"}).reset_index(drop=True)
    handoffs["handoff_id"] = np.arange(len(handoffs))
    attempts_cfg = sla.sales.attempts
    handoffs["window_end"] = handoffs["handoff"] + pd.Timedelta(attempts_cfg.window)

    # Every activity of every handoff's lead, then keep those inside the window.
    acts = activities[
        (activities["ts"] <= as_of_ts)
        & (activities["created_ts"].isna() | (activities["created_ts"] <= as_of_ts))
        & (activities["is_deleted"].fillna(0) == 0)
    ]
    linked = links.merge(acts, left_on="activity_id", right_on="id")
    pairs = handoffs.merge(linked, on="lead_id")
    pairs = pairs[(pairs["ts"] >= pairs["handoff"]) & (pairs["ts"] < pairs["window_end"])]

    is_attempt = pairs["kind"].isin(attempts_cfg.channels) & (
        pairs["direction"].fillna("") != "inbound"
    )
    attempts = pairs[is_attempt]
    first = attempts.groupby("handoff_id")["ts"].min().rename("first_attempt")
    handoffs = handoffs.merge(first, left_on="handoff_id", right_index=True, how="left")

    speed = _speed_to_lead(handoffs, sla, as_of_ts)
    persistence = _attempts_rule(handoffs, pairs, attempts, seen, sla, as_of_ts)
    return {"speed_to_lead": speed, "attempts": persistence}


def _ns(values: pd.Series) -> np.ndarray:
    return values.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[ns]").to_numpy()


def _speed_to_lead(handoffs: pd.DataFrame, sla: SLA, as_of: pd.Timestamp) -> dict[str, Any]:
    calendar = calendar_for(
        sla, as_of.to_pydatetime() - pd.Timedelta(days=400), as_of.to_pydatetime()
    )
    within = sla.sales.first_touch.within.total_seconds()
    start = _ns(handoffs["handoff"]).astype(np.int64)
    touched = handoffs["first_attempt"].notna().to_numpy()
    seconds = np.full(len(handoffs), np.nan)
    if touched.any():
        first = _ns(handoffs.loc[touched, "first_attempt"]).astype(np.int64)
        seconds[touched] = calendar.business_seconds_ns(start[touched], first)
    deadline = calendar.add_business_ns(start, within) if len(start) else start
    judged = touched | (deadline <= as_of.value)
    compliant = touched & (seconds <= within + 1e-6)
    minutes = seconds[touched & judged] / 60.0
    return {
        "measured": _share(int((compliant & judged).sum()), int(judged.sum())),
        "judged": int(judged.sum()),
        "median_minutes": float(np.median(minutes)) if minutes.size else None,
    }


def _count_with_gap(times: pd.Series, gap: pd.Timedelta) -> int:
    """Attempts that count: each at least ``gap`` after the previous counted one."""
    counted = 0
    last = None
    for t in sorted(times):
        if last is None or t >= last + gap:
            counted += 1
            last = t
    return counted


def _attempts_rule(
    handoffs: pd.DataFrame,
    pairs: pd.DataFrame,
    attempts: pd.DataFrame,
    history: pd.DataFrame,
    sla: SLA,
    as_of: pd.Timestamp,
) -> dict[str, Any]:
    cfg = sla.sales.attempts
    counted = attempts.groupby("handoff_id")["ts"].apply(
        lambda t: _count_with_gap(t, pd.Timedelta(cfg.min_gap))
    )
    connected_outcomes = sla.connected_outcomes()
    outcome = pairs["outcome"].fillna("").str.strip().str.lower()
    label = pairs["outcome_label"].fillna("").str.strip().str.lower()
    inbound = pairs["kind"].isin(["call", "email"]) & (pairs["direction"] == "inbound")
    connected_call = (pairs["kind"] == "call") & (
        outcome.isin(connected_outcomes) | label.isin(connected_outcomes)
    )
    held = (pairs["kind"] == "meeting") & ~outcome.isin(sla.meeting_not_held_outcomes())
    connection = connected_call | held | inbound
    reached = set(pairs.loc[connection, "handoff_id"])

    progress = _entries(history, sla, PROGRESS)[["lead_id", "ts"]]
    moved = handoffs.merge(progress, on="lead_id")
    moved = moved[(moved["ts"] >= moved["handoff"]) & (moved["ts"] < moved["window_end"])]
    reached |= set(moved["handoff_id"])

    n_counted = handoffs["handoff_id"].map(counted).fillna(0).astype(int)
    connected = handoffs["handoff_id"].isin(reached)
    compliant = connected | (n_counted >= cfg.min)
    judged = compliant | (handoffs["window_end"] <= as_of)
    return {
        "measured": _share(int((compliant & judged).sum()), int(judged.sum())),
        "judged": int(judged.sum()),
    }


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None
