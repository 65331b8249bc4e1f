"""The period's cohort of handoffs and who is responsible for each (docs/SEMANTICS.md §2–§3).

A handoff is an entry into ``mql``; a lead recycled and qualified again has a second one.
Entries of the same lead into the same stage at the same instant through two fields
(stage and status set together) are one entry.

The frames here share three key columns:

* ``hid`` — the handoff id: the handoff's row number in the period's handoffs (0, 1, …,
  in instant order), the key every per-handoff frame is matched on;
* ``lead_key`` — the lead's small integer key in the audit's cohort table
  (:meth:`SnapshotReader.load_cohort`), cheaper to match than lead-id text;
* ``handoff_ns`` / ``event_ns`` — the handoff's and an event's instant, int64 UTC epoch
  nanoseconds (:mod:`audit.instants_ns`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from audit.instants_ns import NAT, not_nat, to_ns
from audit.snapshot_reader import SnapshotReader, stage_conditions
from config.sla import SLA

UNASSIGNED = "unassigned"
PROGRESS_STAGES = ("sql", "opportunity", "customer")


def period_handoffs(
    reader: SnapshotReader, sla: SLA, since: str, until: str
) -> tuple[pd.DataFrame, int]:
    """The ``mql`` events with instant in [since, until) seen by as-of, and the deleted
    leads left out.

    These are the candidates: :func:`audit.mql_entries.handoff_instants` then keeps those
    that are entries into ``mql`` (a re-stamped value is not a handoff), once the cohort's
    history is read.

    Returns (handoffs sorted by instant then lead, number of deleted leads left out).
    Columns: hid, lead_id, handoff_at (text), handoff_ns.
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
    handoffs["handoff_ns"] = to_ns(handoffs["handoff_at"])
    handoffs.insert(0, "hid", np.arange(len(handoffs), dtype=np.int64))
    return handoffs, int(deleted["lead_id"].nunique())


def first_event_at_or_after(
    handoffs: pd.DataFrame, events: pd.DataFrame, column: str, *, before: np.ndarray | None = None
) -> pd.Series:
    """Per handoff, the first event instant ≥ its handoff (and < ``before`` if given).

    ``events`` has columns lead_key and event_ns; ``handoffs`` hid, lead_key and
    handoff_ns. Returns int64 ns with NaT where none.
    """
    if events.empty or handoffs.empty:
        return pd.Series(np.full(len(handoffs), NAT, dtype=np.int64), index=handoffs.index)
    pairs = handoffs[["hid", "lead_key", "handoff_ns"]].merge(
        events[["lead_key", "event_ns"]], on="lead_key", how="inner"
    )
    keep = pairs["event_ns"] >= pairs["handoff_ns"]
    if before is not None:
        bound = pd.Series(before, index=handoffs["hid"].to_numpy())
        keep &= pairs["event_ns"] < pairs["hid"].map(bound).to_numpy()
    firsts = pairs[keep].groupby("hid")["event_ns"].min()
    # reindex with a fill value keeps int64: a float round-trip would shift nanoseconds.
    out = firsts.reindex(handoffs["hid"].to_numpy(), fill_value=NAT).to_numpy()
    return pd.Series(out, index=handoffs.index, name=column, dtype=np.int64)


def value_at(
    handoffs: pd.DataFrame, history: pd.DataFrame, field: str, instants: np.ndarray
) -> pd.Series:
    """Per handoff, the value ``field`` held at the given instant (last event ≤ instant).

    Returns object values; None where the field had no event by then or the instant is NaT.
    """
    events = history[history["field"] == field][["lead_key", "event_ns", "value"]]
    probe = pd.DataFrame(
        {
            "hid": handoffs["hid"].to_numpy(),
            "lead_key": handoffs["lead_key"].to_numpy(),
            "at": instants,
        }
    )
    probe = probe[not_nat(probe["at"])]
    if probe.empty or events.empty:
        return pd.Series([None] * len(handoffs), index=handoffs.index, dtype=object)
    merged = pd.merge_asof(
        probe.sort_values("at"),
        events.sort_values("event_ns"),
        left_on="at",
        right_on="event_ns",
        by="lead_key",
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
    """The rep responsible for each handoff (docs/SEMANTICS.md §3); see
    :func:`responsible_assignment`, which also says when they got the lead."""
    return responsible_assignment(handoffs, history, current_owner, owner_names)[0]


def responsible_assignment(
    handoffs: pd.DataFrame,
    history: pd.DataFrame,
    current_owner: pd.Series,
    owner_names: dict[str, str],
) -> tuple[pd.Series, np.ndarray]:
    """The rep responsible for each handoff, and the instant the lead first had an owner.

    The owner at the handoff instant; if none then, the first owner assigned after it (up
    to as-of); with no owner history at all, the lead's current owner; else unassigned.
    ``current_owner`` is indexed like ``handoffs``. Reps are named by email where known.
    The assignment instant is the handoff itself when the lead already had an owner (or
    only a current owner is known), the first assignment after it otherwise, NaT when
    unassigned. A Salesforce queue is stored as no owner, so a lead waiting in a queue is
    unassigned until a user takes it.
    """
    owner_events = history[history["field"] == "owner"]
    handoff_ns = handoffs["handoff_ns"].to_numpy()
    at_handoff = value_at(handoffs, history, "owner", handoff_ns)
    assigned = owner_events[owner_events["value"].notna() & (owner_events["value"] != "")]
    first_after = first_event_at_or_after(handoffs, assigned, "event_ns")
    later = (
        pd.DataFrame(
            {"lead_key": handoffs["lead_key"].to_numpy(), "event_ns": first_after.to_numpy()}
        )
        .merge(
            assigned[["lead_key", "event_ns", "value"]].drop_duplicates(["lead_key", "event_ns"]),
            how="left",
        )
        .set_axis(handoffs.index)["value"]
    )
    later = later.astype(object).where(later.notna(), None)
    has_history = handoffs["lead_key"].isin(owner_events["lead_key"].unique())
    owned_then = (at_handoff.notna() & (at_handoff != "")).to_numpy()
    owner = at_handoff.where(owned_then, later)
    owner = owner.where(has_history | owner.notna(), current_owner)
    owner = owner.where(owner.notna() & (owner != ""), None)
    has_owner = owner.notna().to_numpy()
    assigned_ns = np.where(owned_then | ~has_history.to_numpy(), handoff_ns, first_after)
    assigned_ns = np.where(has_owner, assigned_ns, NAT).astype(np.int64)
    reps = owner.map(
        lambda owner_id: UNASSIGNED if owner_id is None else owner_names.get(owner_id, owner_id)
    )
    return reps, assigned_ns
