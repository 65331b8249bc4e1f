"""Routing against rep response: who made a first touch late (issue 18, item 1).

For each handoff, two clocks (docs/SEMANTICS.md, Routing and time off):

* **routing delay** — handoff → the first owner assignment (``assigned_ns``), in the
  business time of the rep it went to (their working hours; the SLA's while unassigned);
* **rep response** — assignment → first attempt, on the rep's *own* clock: their working
  hours less their time off.

Every rep has two calendars (:class:`Clocks`): their working hours, and their own clock
(the same less their absences). Computations group the handoffs by calendar — a handful
of teams and reps with time off — and run each group's instants through that calendar as
whole arrays; there is no loop over handoffs. With no team or rep hours and no time off,
every rep's calendar *is* the SLA's, so every figure is what it was before this module.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from audit.business_time import BusinessCalendar
from audit.handoffs import UNASSIGNED
from audit.instants_ns import NAT, not_nat
from audit.time_off import Span
from config.sla import SLA
from config.sla.hours import read_hours

ROUTING, REP, BOTH = "routing", "rep", "both"
"""Who a late first touch is attributed to (the evidence's ``attributed_to``)."""

#: Slack (seconds) in "within" comparisons, as speed to lead's: a touch at exactly 5m is on time.
SLACK_S = 1e-6


class Clocks:
    """Each rep's working-hours calendar and own calendar, built once per distinct clock."""

    def __init__(
        self,
        sla: SLA,
        default: BusinessCalendar,
        years: range,
        absences: dict[str, list[Span]] | None = None,
    ) -> None:
        self.sla = sla
        self.default = default
        self.years = years
        self.absences = absences or {}
        self._hours: dict[tuple[object, ...], BusinessCalendar] = {}
        self._own: dict[str, BusinessCalendar] = {}

    def hours(self, rep: str) -> BusinessCalendar:
        """The rep's working hours (rep, else team, else the SLA's), without time off."""
        if rep == UNASSIGNED or not self.sla.has_own_clocks():
            return self.default
        zone, hours, holidays = self.sla.working_time(rep)
        if (zone, hours, holidays) == self.sla.working_time(""):
            return self.default
        key = (zone, tuple(sorted((hours or {}).items())), holidays.model_dump_json())
        if key not in self._hours:
            opening = read_hours(hours)[0] if hours is not None else None
            self._hours[key] = BusinessCalendar(
                ZoneInfo(zone), opening, holidays.dates_in(self.years)
            )
        return self._hours[key]

    def own(self, rep: str) -> BusinessCalendar:
        """The rep's own clock: their working hours less their time off."""
        spans = self.absences.get(rep)
        if not spans:
            return self.hours(rep)
        if rep not in self._own:
            hours = self.hours(rep)
            rebuilt = None if hours.is_24x7 else hours.hours
            self._own[rep] = BusinessCalendar(hours.tz, rebuilt, hours.holidays, spans)
        return self._own[rep]

    def presence(self, start: datetime, end: datetime) -> dict[str, float]:
        """Each rep with time off: the share of their working time in [start, end) they
        were present for (1.0 is left out). Per-rep volume is pro-rated by it."""
        shares = {}
        for rep, spans in self.absences.items():
            if not spans:
                continue
            working = self.hours(rep).business_seconds(start, end)
            present = self.own(rep).business_seconds(start, end)
            share = present / working if working > 0 else 1.0
            if share < 1.0:
                shares[rep] = share
        return shares

    def is_absent(self, reps: np.ndarray, instants: np.ndarray) -> np.ndarray:
        """Whether each rep was on time off at the matching instant (False at NaT)."""
        out = np.zeros(len(reps), dtype=bool)
        for rep, spans in self.absences.items():
            mine = (reps == rep) & not_nat(instants)
            for start, end in spans:
                out[mine] |= (instants[mine] >= start) & (instants[mine] < end)
        return out


def per_calendar(
    reps: np.ndarray,
    pick: Callable[[str], BusinessCalendar],
    compute: Callable[[BusinessCalendar, np.ndarray], None],
) -> None:
    """Call ``compute(calendar, mask)`` once per distinct calendar among the reps' ones."""
    codes, uniques = pd.factorize(reps)
    calendars = [pick(str(rep)) for rep in uniques.tolist()]
    slots: dict[int, list[int]] = {}
    for code, calendar in enumerate(calendars):
        slots.setdefault(id(calendar), []).append(code)
    by_id = {id(calendar): calendar for calendar in calendars}
    for key, members in slots.items():
        compute(by_id[key], np.isin(codes, members))


def business_seconds(
    reps: np.ndarray,
    pick: Callable[[str], BusinessCalendar],
    starts: np.ndarray,
    ends: np.ndarray,
) -> np.ndarray:
    """Business seconds from each start to its end on the rep's calendar; NaN at NaT."""
    out = np.full(len(reps), np.nan)
    known = not_nat(starts) & not_nat(ends)

    def compute(calendar: BusinessCalendar, mask: np.ndarray) -> None:
        chosen = mask & known
        if chosen.any():
            out[chosen] = calendar.business_seconds_ns(starts[chosen], ends[chosen])

    per_calendar(reps, pick, compute)
    return out


def deadlines(
    reps: np.ndarray,
    pick: Callable[[str], BusinessCalendar],
    starts: np.ndarray,
    within_s: np.ndarray,
) -> np.ndarray:
    """Each start plus its ``within_s`` business seconds on the rep's calendar (NaT stays)."""
    out = np.full(len(reps), NAT, dtype=np.int64)

    def compute(calendar: BusinessCalendar, mask: np.ndarray) -> None:
        for seconds in np.unique(within_s[mask]).tolist():
            chosen = mask & (within_s == seconds)
            out[chosen] = calendar.add_business_ns(starts[chosen], seconds)

    per_calendar(reps, pick, compute)
    return out


def add_routing_facts(facts: pd.DataFrame, sla: SLA, clocks: Clocks) -> None:
    """Add the routing and rep-response clocks, and the first-touch deadline and seconds.

    Columns: ``routing_s``, ``rep_response_s``, ``absent_at_assignment``, ``rep_deadline``
    (assignment + ``within`` on the rep's own clock), ``touch_s`` (what speed to lead
    judges) and ``first_touch_deadline`` (when an untouched handoff becomes late). Needs
    ``rep``, ``assigned_ns``, ``first_attempt`` and ``first_touch_within_s``.
    """
    reps = facts["rep"].to_numpy(dtype=object)
    handoff = facts["handoff_ns"].to_numpy()
    assigned = facts["assigned_ns"].to_numpy()
    first = facts["first_attempt"].to_numpy()
    within = facts["first_touch_within_s"].to_numpy()
    facts["routing_s"] = business_seconds(reps, clocks.hours, handoff, assigned)
    facts["rep_response_s"] = business_seconds(reps, clocks.own, assigned, first)
    facts["absent_at_assignment"] = clocks.is_absent(reps, assigned)
    facts["rep_deadline"] = deadlines(reps, clocks.own, assigned, within)
    from_handoff = business_seconds(reps, clocks.hours, handoff, first)
    handoff_deadline = deadlines(reps, clocks.hours, handoff, within)
    if sla.sales.first_touch.clock == "assignment":
        rep_clock = not_nat(assigned)
        facts["touch_s"] = np.where(rep_clock, facts["rep_response_s"].to_numpy(), from_handoff)
        facts["first_touch_deadline"] = np.where(
            rep_clock, facts["rep_deadline"].to_numpy(), handoff_deadline
        )
    else:
        facts["touch_s"] = from_handoff
        facts["first_touch_deadline"] = handoff_deadline


def attribution(facts: pd.DataFrame, sla: SLA, as_of_ns: int) -> np.ndarray:
    """Who each handoff's late first touch is attributed to: routing, the rep, or both.

    Routing is at fault when the lead was never assigned, when assigning it took longer
    than ``routing.within`` (without a routing rule: the whole first-touch allowance), or
    when it went to a rep on time off. The rep is at fault when their own response took
    longer than ``first_touch.within``, or their own deadline passed untouched. A late
    touch where neither alone ran over is both's: each spent part of the allowance.
    Meaningful only for the late handoffs; the caller picks those.
    """
    within = facts["first_touch_within_s"].to_numpy()
    allowance = (
        np.full(len(facts), sla.routing.within.total_seconds())
        if sla.routing is not None
        else within
    )
    assigned = not_nat(facts["assigned_ns"].to_numpy())
    routing_s = facts["routing_s"].to_numpy()
    response = facts["rep_response_s"].to_numpy()
    touched = not_nat(facts["first_attempt"].to_numpy())
    routing_late = (
        ~assigned
        | (np.nan_to_num(routing_s) > allowance + SLACK_S)
        | facts["absent_at_assignment"].to_numpy()
    )
    rep_late = assigned & (
        (touched & (np.nan_to_num(response) > within + SLACK_S))
        | (~touched & (facts["rep_deadline"].to_numpy() <= as_of_ns))
    )
    return np.select(
        [routing_late & rep_late, routing_late, rep_late], [BOTH, ROUTING, REP], default=BOTH
    ).astype(object)


def calendar_years(first: datetime, last: datetime) -> range:
    """The years whose holidays a rep's calendar needs, as the SLA calendar's."""
    return range(first.year - 1, last.year + 2)
