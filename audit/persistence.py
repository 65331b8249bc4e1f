"""Per-channel minimums and cadence of each handoff's attempts (issue 18, item 3).

Beside the total of counted attempts (:func:`audit.outreach.counted_attempts`), the SLA
may ask for minimums per channel (``per_channel: {call: 3, email: 2}``) and a maximum
*business* time between consecutive counted attempts (``max_gap``). This module adds the
facts the attempts rule compares, as whole columns:

- ``channel_attempts_<kind>`` and ``channel_min_<kind>``: each handoff's counted attempts
  of that channel, and the minimum its tier asks for (0: none asked);
- ``longest_gap_s``: the longest business time between two consecutive counted attempts
  of the handoff (0 with fewer than two), and ``max_gap_s`` the most its tier allows
  (``inf``: no cadence rule).

A channel's attempts are merged by ``min_gap`` *within that channel*: five dials in five
minutes are one call, but a call and the e-mail sent right after it are one call and one
e-mail (the total, as before, counts them once). Nothing is added when neither the SLA nor
a tier asks for either, so an SLA without them costs nothing and changes nothing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from audit.business_time import BusinessCalendar
from audit.outreach import counted_attempts, per_handoff_count
from config.sla import BASE_TIER, SLA
from config.sla.sales import Sales

CHANNEL_COUNT = "channel_attempts_"
CHANNEL_MIN = "channel_min_"


def asked_channels(sla: SLA) -> list[str]:
    """Every channel the SLA or a tier sets a minimum for, in the SLA's channel order."""
    named = {name for sales in tier_sales(sla) for name in sales.attempts.per_channel}
    return [name for name in sla.sales.attempts.channels if name in named]


def has_cadence(sla: SLA) -> bool:
    """Whether the SLA or a tier sets ``max_gap``."""
    return any(sales.attempts.max_gap is not None for sales in tier_sales(sla))


def tier_sales(sla: SLA) -> list[Sales]:
    """The sales blocks by tier code: base first, then each tier in file order."""
    return [sla.sales, *(tier.sales(sla.sales) for tier in sla.tiers)]


def add_persistence_facts(
    facts: pd.DataFrame,
    attempts: pd.DataFrame,
    counted: pd.DataFrame,
    sla: SLA,
    calendar: BusinessCalendar,
) -> None:
    """Add the per-channel and cadence columns (see the module) when the SLA asks for them.

    ``attempts`` are the in-window attempts (hid, event_ns, kind) and ``counted`` the
    counted ones (hid, event_ns), both sorted by (hid, event_ns); ``facts`` needs hid,
    split_tier and min_gap_ns.
    """
    channels = asked_channels(sla)
    cadence = has_cadence(sla)
    if not channels and not cadence:
        return
    codes = _tier_codes(facts, sla)
    sales = tier_sales(sla)
    for name, counts in channel_counts(attempts, facts, channels).items():
        facts[CHANNEL_COUNT + name] = counts
        minimums = [s.attempts.per_channel.get(name, 0) for s in sales]
        facts[CHANNEL_MIN + name] = np.asarray(minimums, dtype=np.int64)[codes]
    if cadence:
        facts["longest_gap_s"] = longest_gaps(counted, facts, calendar)
        allowed = [
            np.inf if s.attempts.max_gap is None else s.attempts.max_gap.total_seconds()
            for s in sales
        ]
        facts["max_gap_s"] = np.asarray(allowed, dtype=np.float64)[codes]


def _tier_codes(facts: pd.DataFrame, sla: SLA) -> np.ndarray:
    """Each handoff's tier as a position in :func:`tier_sales`."""
    order = [BASE_TIER, *(tier.name for tier in sla.tiers)]
    return pd.Categorical(facts["split_tier"].to_numpy(), categories=order).codes


def channel_counts(
    attempts: pd.DataFrame, facts: pd.DataFrame, channels: list[str]
) -> dict[str, np.ndarray]:
    """Per channel, each handoff's counted attempts of it, ``min_gap`` merged per channel.

    One :func:`counted_attempts` pass over every (handoff, channel) pair at once: the
    pair's key is ``hid × channels + channel``, and its gap the handoff's own.
    """
    if not channels:
        return {}
    chosen = attempts[attempts["kind"].isin(channels)]
    code = pd.Categorical(chosen["kind"].to_numpy(), categories=channels).codes
    width = len(channels)
    keyed = pd.DataFrame(
        {
            "hid": chosen["hid"].to_numpy(dtype=np.int64) * width + code,
            "event_ns": chosen["event_ns"].to_numpy(dtype=np.int64),
        }
    ).sort_values(["hid", "event_ns"], kind="stable")
    gaps = np.repeat(facts["min_gap_ns"].to_numpy(dtype=np.int64), width)
    counted = counted_attempts(keyed, gaps)
    pairs = counted["hid"].to_numpy()
    out = {}
    for position, name in enumerate(channels):
        mine = counted[pairs % width == position]
        per = pd.DataFrame({"hid": mine["hid"].to_numpy() // width})
        out[name] = per_handoff_count(per, facts)
    return out


def longest_gaps(
    counted: pd.DataFrame, facts: pd.DataFrame, calendar: BusinessCalendar
) -> np.ndarray:
    """Each handoff's longest business seconds between consecutive counted attempts.

    ``counted`` is sorted by (hid, event_ns): a gap is a row and the row before it of the
    same handoff, so one shifted column gives every gap at once. 0 with fewer than two.
    """
    hids = counted["hid"].to_numpy()
    instants = counted["event_ns"].to_numpy()
    follows = np.zeros(len(hids), dtype=bool)
    follows[1:] = hids[1:] == hids[:-1]
    later = np.flatnonzero(follows)
    seconds = calendar.business_seconds_ns(instants[later - 1], instants[later])
    gaps = pd.Series(seconds, index=hids[later]).groupby(level=0).max()
    return gaps.reindex(facts["hid"].to_numpy(), fill_value=0.0).to_numpy(dtype=np.float64)
