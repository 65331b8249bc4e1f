"""The period's cohort of handoffs and who is responsible for each (SLA_SEMANTICS.md §2–§3).

A handoff is an entry into ``mql``; a lead recycled and qualified again has a second one.
Entries of the same lead into the same stage at the same instant through two fields
(stage and status set together) are one entry.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from audit.snapshot_reader import SnapshotReader, stage_conditions, to_ns
from config.sla import SLA

UNASSIGNED = "unassigned"
PROGRESS_STAGES = ("sql", "opportunity", "customer")


def period_handoffs(
    reader: SnapshotReader, sla: SLA, since: str, until: str
) -> tuple[pd.DataFrame, int]:
    """Handoffs with instant in [since, until) seen by as-of, and the deleted ones left out.

    Returns (handoffs sorted by instant then lead, number of deleted leads left out).
    Columns: hid, lead_id, handoff_at (text), h (int64 ns).
    """
    entries = reader.stage_entries(stage_conditions(sla, ["mql"]), since=since, until=until)
    deleted = entries[entries["is_deleted"] == 1]
    kept = entries[entries["is_deleted"] == 0]
    handoffs = (
        kept[["lead_id", "changed_at"]]
        .rename(columns={"changed_at": "handoff_at"})
        .sort_values(["handoff_at", "lead_id"], kind="stable")
        .reset_index(drop=True)
    )
    handoffs["h"] = to_ns(handoffs["handoff_at"])
    handoffs.insert(0, "hid", np.arange(len(handoffs), dtype=np.int64))
    return handoffs, int(deleted["lead_id"].nunique())


def first_event_at_or_after(
    handoffs: pd.DataFrame, events: pd.DataFrame, column: str, *, before: np.ndarray | None = None
) -> pd.Series:
    """Per handoff, the first event instant ≥ its handoff (and < ``before`` if given).

    ``events`` has columns lk and t (int64 ns); ``handoffs`` hid, lk and h. Returns int64
    ns with NaT where none.
    """
    nat = np.iinfo(np.int64).min
    if events.empty or handoffs.empty:
        return pd.Series(np.full(len(handoffs), nat, dtype=np.int64), index=handoffs.index)
    pairs = handoffs[["hid", "lk", "h"]].merge(events[["lk", "t"]], on="lk", how="inner")
    keep = pairs["t"] >= pairs["h"]
    if before is not None:
        bound = pd.Series(before, index=handoffs["hid"].to_numpy())
        keep &= pairs["t"] < pairs["hid"].map(bound).to_numpy()
    firsts = pairs[keep].groupby("hid")["t"].min()
    # reindex with a fill value keeps int64: a float round-trip would shift nanoseconds.
    out = firsts.reindex(handoffs["hid"].to_numpy(), fill_value=nat).to_numpy()
    return pd.Series(out, index=handoffs.index, name=column, dtype=np.int64)


def value_at(
    handoffs: pd.DataFrame, history: pd.DataFrame, field: str, instants: np.ndarray
) -> pd.Series:
    """Per handoff, the value ``field`` held at the given instant (last event ≤ instant).

    Returns object values; None where the field had no event by then or the instant is NaT.
    """
    nat = np.iinfo(np.int64).min
    events = history[history["field"] == field][["lk", "t", "value"]]
    probe = pd.DataFrame(
        {
            "hid": handoffs["hid"].to_numpy(),
            "lk": handoffs["lk"].to_numpy(),
            "at": instants,
        }
    )
    probe = probe[probe["at"] != nat]
    if probe.empty or events.empty:
        return pd.Series([None] * len(handoffs), index=handoffs.index, dtype=object)
    merged = pd.merge_asof(
        probe.sort_values("at"),
        events.sort_values("t"),
        left_on="at",
        right_on="t",
        by="lk",
        direction="backward",
        allow_exact_matches=True,
    )
    values = merged.set_index("hid")["value"]
    out = handoffs["hid"].map(values)
    return out.astype(object).where(out.notna(), None)


def responsible_reps(
    handoffs: pd.DataFrame,
    history: pd.DataFrame,
    current_owner: pd.Series,
    owner_names: dict[str, str],
) -> pd.Series:
    """The rep responsible for each handoff (SLA_SEMANTICS.md §3).

    The owner at the handoff instant; if none then, the first owner assigned after it (up
    to as-of); with no owner history at all, the lead's current owner; else unassigned.
    ``current_owner`` is indexed like ``handoffs``. Reps are named by email where known.
    """
    owner_events = history[history["field"] == "owner"]
    at_handoff = value_at(handoffs, history, "owner", handoffs["h"].to_numpy())
    assigned = owner_events[owner_events["value"].notna() & (owner_events["value"] != "")]
    first_after = first_event_at_or_after(handoffs, assigned, "t")
    later = (
        pd.DataFrame({"lk": handoffs["lk"].to_numpy(), "t": first_after.to_numpy()})
        .merge(assigned[["lk", "t", "value"]].drop_duplicates(["lk", "t"]), how="left")
        .set_axis(handoffs.index)["value"]
    )
    later = later.astype(object).where(later.notna(), None)
    has_history = handoffs["lk"].isin(owner_events["lk"].unique())
    owner = at_handoff.where(at_handoff.notna() & (at_handoff != ""), later)
    owner = owner.where(has_history | owner.notna(), current_owner)
    owner = owner.where(owner.notna() & (owner != ""), None)
    return owner.map(lambda o: UNASSIGNED if o is None else owner_names.get(o, o))
