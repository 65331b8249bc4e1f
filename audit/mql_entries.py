"""Which ``mql`` events are handoffs: entries into ``mql``, not re-stamps (docs/SEMANTICS.md §2).

A CRM's history lists every time a field is set, and workflows, imports and form
re-submissions set a lead's MQL value again while it is still an MQL. Only an *entry*
is a handoff: an ``mql`` event when the lead was not in ``mql`` just before it, because

* it had never been (its first ``mql`` event), or
* a field that put it there (a field taking an ``mql`` value at the last handoff) has
  since taken a value outside ``mql`` (say lifecycle stage moved on to SQL), or
* it has entered ``recycled`` since the last handoff.

A second ``mql`` field taking an ``mql`` value while the lead is still in ``mql`` is not an
entry either. When the lead leaves ``mql``, its next ``mql`` event at or after that instant
is the next handoff.

Each handoff depends on the one before, so the lead's handoffs are found round by round:
round one takes every lead's first ``mql`` event, and each further round, for all leads at
once, finds when the lead left ``mql`` after its last handoff and the first ``mql`` event
from then on. A lead has a handful of handoffs at most, so there are a handful of rounds of
frame operations, never a loop over leads.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from audit.snapshot_reader import StageCondition


def mql_moves(
    history: pd.DataFrame, states: pd.DataFrame, conditions: Sequence[StageCondition]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The cohort's moves into and out of ``mql``, by field: (``into``, ``out_of``).

    ``history`` is :meth:`~audit.snapshot_reader.SnapshotReader.cohort_history` (lead_key,
    field, value, event_ns) and ``states`` is ``cohort_lead_states`` (lead_key, source,
    visible). ``into`` holds the events where an ``mql`` field of the lead's source took one
    of its ``mql`` values, ``out_of`` those where it took any other value (an empty one
    too: a cleared field no longer holds the lead in ``mql``). Columns: lead_key, field,
    event_ns.
    """
    columns = ["lead_key", "field", "event_ns"]
    lead_key = history["lead_key"].to_numpy(dtype=np.int64)
    visible = states.set_index("lead_key")["visible"].reindex(lead_key).to_numpy() == 1
    source = states.set_index("lead_key")["source"].reindex(lead_key).to_numpy()
    field = history["field"].astype(object).to_numpy()
    into_parts, out_parts = [], []
    for cond in conditions:
        rows = visible & (source == cond.source) & (field == cond.field)
        holds = history["value"].isin(list(cond.values or ())).to_numpy()
        into_parts.append(history.loc[rows & holds, columns])
        out_parts.append(history.loc[rows & ~holds, columns])
    empty = pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    into = pd.concat([empty, *into_parts], ignore_index=True)
    out_of = pd.concat([empty, *out_parts], ignore_index=True)
    for frame in (into, out_of):
        frame["lead_key"] = frame["lead_key"].astype(np.int64)
        frame["field"] = frame["field"].astype(str)
        frame["event_ns"] = frame["event_ns"].astype(np.int64)
    return into, out_of


def handoff_instants(
    into: pd.DataFrame, out_of: pd.DataFrame, recycled: pd.DataFrame
) -> pd.DataFrame:
    """Every handoff of the cohort's leads as (lead_key, event_ns), from :func:`mql_moves`.

    ``recycled`` holds the leads' entries into ``recycled`` (lead_key, event_ns).
    """
    instants = into[["lead_key", "event_ns"]].drop_duplicates()
    current = instants.groupby("lead_key", as_index=False, sort=False)["event_ns"].min()
    found = [current]
    while not current.empty:
        left = _left_mql(current, into, out_of, recycled)
        later = instants.merge(left, on="lead_key")
        current = (
            later[later["event_ns"] >= later["left_ns"]]
            .groupby("lead_key", as_index=False, sort=False)["event_ns"]
            .min()
        )
        found.append(current)
    return pd.concat(found, ignore_index=True)


def _left_mql(
    current: pd.DataFrame, into: pd.DataFrame, out_of: pd.DataFrame, recycled: pd.DataFrame
) -> pd.DataFrame:
    """Per lead, when it left ``mql`` after its handoff in ``current`` (leads that did)."""
    anchors = current.merge(into, on=["lead_key", "event_ns"])[["lead_key", "field", "event_ns"]]
    moved_on = anchors.merge(out_of, on=["lead_key", "field"], suffixes=("", "_left"))
    recycled_after = current.merge(
        recycled[["lead_key", "event_ns"]], on="lead_key", suffixes=("", "_left")
    )
    exits = pd.concat(
        [
            frame.loc[frame["event_ns_left"] > frame["event_ns"], ["lead_key", "event_ns_left"]]
            for frame in (moved_on, recycled_after)
        ],
        ignore_index=True,
    )
    return (
        exits.groupby("lead_key", as_index=False, sort=False)["event_ns_left"]
        .min()
        .rename(columns={"event_ns_left": "left_ns"})
    )
