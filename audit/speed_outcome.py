"""Speed → outcome on the team's own data: connect and MQL→SQL rates by first touch and attempts.

From the facts frame (:mod:`audit.context`), all at once, no loop per handoff:

- **first-touch band**: business minutes from handoff to the first attempt (the same minutes
  as ``speed_to_lead``), in bands closed on the right like compliance (a touch at exactly
  5 min is "0–5 min"): 0–5, 5–15, 15–60, 60–240, more than 240, and *never* (no attempt
  in the whole attempt window);
- **attempts**: counted attempts in the window (``min_gap`` applied), 1 … 7 and 8 or more.
  None at all is the "never" band of the first table.

A handoff is in a row once both its row and its outcome are known as of as-of
(docs/SEMANTICS.md Part II, "Speed → outcome"):

- *connected* (any connection in the attempt window, §4): judged once the window has
  closed. Counting early connections while leaving out windows still open would overstate
  the rate of recent — and of quickly touched — handoffs.
- *became SQL or went further* by as-of: judged exactly as the ``conversion`` rule judges
  (every handoff, or with ``mql_to_sql.after`` those at least that old).
- the band is known once the handoff is touched, or its window has closed ("never"); the
  number of attempts only once the window has closed.
"""

from __future__ import annotations

import numpy as np

from audit.context import AuditContext
from audit.instants_ns import duration_ns, not_nat
from audit.outcome_rates import OutcomeRow, OutcomeTable, Rate

FIRST_TOUCH_BANDS: tuple[tuple[str, str, float], ...] = (
    ("0-5", "within 5 min", 5.0),
    ("5-15", "5–15 min", 15.0),
    ("15-60", "15–60 min", 60.0),
    ("60-240", "1–4 h", 240.0),
    ("240+", "over 4 h", float("inf")),
)
"""(key, label, upper edge in business minutes); bands are closed on the right."""
NEVER = ("never", "never touched")
MOST_ATTEMPTS = 8
"""The last attempts row holds this many counted attempts or more ("8+")."""
SLACK_MINUTES = 1e-6 / 60
"""The compliance test's slack (:mod:`audit.rules.speed_to_lead`): exactly 5 min is "0-5"."""


def outcome_table(ctx: AuditContext) -> OutcomeTable:
    """The period's handoffs counted by first-touch band and by attempts (module doc)."""
    facts = ctx.facts
    first = facts["first_attempt"].to_numpy()
    touched = not_nat(first)
    minutes = np.full(len(facts), np.nan)
    if touched.any():
        handoffs = facts["handoff_ns"].to_numpy()[touched]
        minutes[touched] = ctx.calendar.business_seconds_ns(handoffs, first[touched]) / 60.0
    closed = facts["window_end"].to_numpy() <= ctx.as_of_ns
    connected = not_nat(facts["connected_at"].to_numpy())
    progressed = not_nat(facts["progressed_at"].to_numpy())
    matured = conversion_judged(ctx)
    band = first_touch_band(minutes)
    attempts = np.minimum(facts["attempts"].to_numpy(), MOST_ATTEMPTS)

    touch_rows = [
        _row(key, label, band == index, closed, connected, matured, progressed)
        for index, (key, label, _) in enumerate(FIRST_TOUCH_BANDS)
    ]
    never = ~touched & closed  # "never" is known only once the window has closed
    touch_rows.append(_row(*NEVER, never, closed, connected, matured, progressed))
    attempt_rows = [
        _row(
            attempts_key(count),
            attempts_label(count),
            closed & (attempts == count),
            closed,
            connected,
            matured & closed,
            progressed,
        )
        for count in range(1, MOST_ATTEMPTS + 1)
    ]
    return OutcomeTable((ctx.period.label,), tuple(touch_rows), tuple(attempt_rows))


def conversion_judged(ctx: AuditContext) -> np.ndarray:
    """The handoffs the ``conversion`` rule judges: all, or those ``after`` old at as-of."""
    cfg = ctx.sla.marketing.mql_to_sql
    after = cfg.after if cfg is not None else None
    handoffs = ctx.facts["handoff_ns"].to_numpy()
    if after is None:
        return np.ones(len(handoffs), dtype=bool)
    return handoffs + duration_ns(after) <= ctx.as_of_ns


def first_touch_band(minutes: np.ndarray) -> np.ndarray:
    """Each touched handoff's band index in :data:`FIRST_TOUCH_BANDS`; -1 when untouched."""
    edges = np.array([edge for _, _, edge in FIRST_TOUCH_BANDS[:-1]])
    index = np.searchsorted(edges, np.nan_to_num(minutes) - SLACK_MINUTES, side="left")
    return np.where(np.isnan(minutes), -1, index)


def attempts_key(count: int) -> str:
    return f"{count}+" if count >= MOST_ATTEMPTS else str(count)


def attempts_label(count: int) -> str:
    if count >= MOST_ATTEMPTS:
        return f"{count} or more attempts"
    return f"{count} attempt{'' if count == 1 else 's'}"


def _row(
    key: str,
    label: str,
    member: np.ndarray,
    connect_judged: np.ndarray,
    connected: np.ndarray,
    sql_judged: np.ndarray,
    progressed: np.ndarray,
) -> OutcomeRow:
    """One group's two rates: members whose outcome is judged, and those with it."""
    return OutcomeRow(
        key,
        label,
        _rate(member & connect_judged, connected),
        _rate(member & sql_judged, progressed),
    )


def _rate(judged: np.ndarray, hit: np.ndarray) -> Rate:
    return Rate(int(judged.sum()), int((judged & hit).sum()))
