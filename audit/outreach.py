"""Attempts and connections inside each handoff's window (docs/SEMANTICS.md §4).

All of it works on whole columns: the ``min_gap`` merge of close attempts is done in
rounds (each round keeps every handoff's earliest remaining attempt and drops the ones
closer than ``min_gap`` to it), so the number of rounds is the largest number of counted
attempts of any handoff, not the number of activities.

Frames are keyed by ``hid`` (the handoff id, see :mod:`audit.handoffs`); an activity's
instant is ``event_ns`` and the handoff's ``handoff_ns``, int64 UTC epoch nanoseconds.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from audit.instants_ns import NAT, not_nat

CONNECTION_KINDS = ("call", "email", "meeting")
"""The kinds :func:`is_connection` can accept: connected calls, meetings, inbound calls and
emails."""


def relevant_kinds(channels: Sequence[str]) -> list[str]:
    """Every kind that can be an attempt or a connection; other activities never count."""
    return sorted({*channels, *CONNECTION_KINDS})


def window_activities(handoffs: pd.DataFrame, activities: pd.DataFrame) -> pd.DataFrame:
    """Activities of each handoff in [handoff, window end), sorted by (hid, event_ns).

    ``handoffs`` needs hid, handoff_ns, window_end; ``activities`` hid, event_ns and the
    activity columns (one row per handoff and activity, as
    :meth:`SnapshotReader.handoff_activities` reads them). The reader already compared
    instants as text; this is the exact comparison.
    """
    acts = activities.astype({"hid": np.int64})
    pairs = acts.merge(handoffs[["hid", "handoff_ns", "window_end"]], on="hid", how="inner")
    inside = (pairs["event_ns"] >= pairs["handoff_ns"]) & (pairs["event_ns"] < pairs["window_end"])
    return pairs[inside].sort_values(["hid", "event_ns"], kind="stable")


def is_attempt(acts: pd.DataFrame, channels: list[str]) -> pd.Series:
    """An attempt: a channel the SLA counts, not inbound."""
    return acts["kind"].isin(channels) & (acts["direction"].fillna("") != "inbound")


def is_connection(
    acts: pd.DataFrame, connected_outcomes: set[str], not_held: set[str] = frozenset()
) -> pd.Series:
    """A connected call (canonical outcome), a meeting that took place, or an inbound call
    or email. A meeting whose outcome is in ``not_held`` (no-show, canceled) is an attempt,
    not a connection: nobody was reached."""
    connected_call = (acts["kind"] == "call") & (
        _matches(acts["outcome"], connected_outcomes)
        | _matches(acts["outcome_label"], connected_outcomes)
    )
    meeting = acts["kind"] == "meeting"
    held = meeting.copy()
    if not_held and meeting.any():  # decided on the meetings alone: a few among many calls
        held[meeting] = ~_matches(acts.loc[meeting, "outcome"], set(not_held))
    inbound = acts["kind"].isin(["call", "email"]) & (acts["direction"] == "inbound")
    return connected_call | held | inbound


def _matches(values: pd.Series, wanted: set[str]) -> pd.Series:
    """Whether each value, stripped and lower-cased (missing as ""), is in ``wanted``.

    Decided once per distinct value: a million calls carry a handful of dispositions.
    """
    filled = values.fillna("")
    hits = [
        value
        for value in filled.unique()
        if isinstance(value, str) and value.strip().lower() in wanted
    ]
    return filled.isin(hits)


def counted_attempts(attempts: pd.DataFrame, min_gap_ns: int | np.ndarray) -> pd.DataFrame:
    """The attempts that count: each at least ``min_gap`` after the previous counted one.

    ``attempts`` has hid and event_ns, sorted by (hid, event_ns). ``min_gap_ns`` is one
    gap, or each handoff's gap indexed by hid (a tier can set its own). Returns the
    counted rows (hid, event_ns).
    """
    remaining = attempts[["hid", "event_ns"]]
    counted: list[pd.DataFrame] = []
    while not remaining.empty:
        first = remaining.drop_duplicates("hid", keep="first")
        counted.append(first)
        gap = min_gap_ns if np.isscalar(min_gap_ns) else min_gap_ns[first["hid"].to_numpy()]
        allowed = pd.Series(first["event_ns"].to_numpy() + gap, index=first["hid"].to_numpy())
        next_allowed = remaining["hid"].map(allowed)
        remaining = remaining[remaining["event_ns"] >= next_allowed]
    if not counted:
        return pd.DataFrame(
            {"hid": pd.Series(dtype=np.int64), "event_ns": pd.Series(dtype=np.int64)}
        )
    return pd.concat(counted).sort_values(["hid", "event_ns"], kind="stable").reset_index(drop=True)


def per_handoff_first(frame: pd.DataFrame, handoffs: pd.DataFrame) -> np.ndarray:
    """Earliest event_ns per handoff (NaT where none), aligned to ``handoffs``."""
    firsts = frame.groupby("hid")["event_ns"].min()
    # reindex with a fill value keeps int64: a float round-trip would shift nanoseconds.
    return firsts.reindex(handoffs["hid"].to_numpy(), fill_value=NAT).to_numpy(dtype=np.int64)


def per_handoff_count(frame: pd.DataFrame, handoffs: pd.DataFrame) -> np.ndarray:
    counts = frame.groupby("hid").size()
    return counts.reindex(handoffs["hid"].to_numpy(), fill_value=0).to_numpy(dtype=np.int64)


def counted_before(
    counted: pd.DataFrame, handoffs: pd.DataFrame, instants: np.ndarray
) -> np.ndarray:
    """Per handoff, counted attempts strictly before the given instant (0 where NaT)."""
    bound = pd.Series(instants, index=handoffs["hid"].to_numpy())
    limit = counted["hid"].map(bound)
    early = counted[not_nat(limit) & (counted["event_ns"] < limit)]
    return per_handoff_count(early, handoffs)
