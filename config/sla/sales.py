"""Sales' side of the SLA: first touch, attempts, coverage, recycling and call outcomes.

Durations here are explicit (``5m``, ``14d``); ``first_touch.within`` is business time,
the attempts window and gaps are calendar time (docs/SEMANTICS.md §3–§4).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from config.dispositions import BUILTIN_OUTCOMES
from config.sla.values import AtLeastOne, Duration, Share
from config.sla.wording import Problems, as_written, unknown_name

Problem = tuple[tuple[str | int, ...], str]

Channel = Literal["call", "email", "meeting", "task", "note", "message"]
"""Activity kinds; ``message`` is a WhatsApp, SMS or LinkedIn message a rep logged
(HubSpot communications)."""
DEFAULT_CHANNELS: tuple[Channel, ...] = ("call", "email", "meeting", "message")
CHANNELS: list[str] = list(get_args(Channel))


class FirstTouch(BaseModel):
    """Speed to lead: the first attempt within ``within`` *business* time."""

    model_config = ConfigDict(extra="forbid")

    within: Duration = timedelta(minutes=5)
    target: Share = 0.9
    warn_margin: Share | None = None
    clock: Literal["handoff", "assignment"] = "handoff"
    """Whose clock is judged: the lead's wait from the handoff (default), or the rep's own
    from the first owner assignment (config/sla/routing.py)."""


class Attempts(BaseModel):
    """How hard sales tries: ``min`` attempts in ``window``, ``min_gap`` apart (calendar).

    ``per_channel`` asks for minimums per channel beside the total (``{call: 3, email: 2}``);
    ``max_gap`` caps the *business* time between consecutive counted attempts (cadence).
    Both are off by default, so an SLA without them is judged exactly as before.
    """

    model_config = ConfigDict(extra="forbid")

    min: AtLeastOne = 5
    window: Duration = timedelta(days=14)
    min_gap: Duration = timedelta(hours=4)
    channels: list[Channel] = Field(default_factory=lambda: list(DEFAULT_CHANNELS))
    per_channel: dict[str, AtLeastOne] = Field(default_factory=dict)
    max_gap: Duration | None = None
    target: Share = 0.9
    warn_margin: Share | None = None

    @field_validator("channels")
    @classmethod
    def _some_channel(cls, channels: list[str]) -> list[str]:
        if not channels:
            raise ValueError("is empty, so nothing would count; list some, such as [call, email]")
        return channels

    @field_validator("per_channel")
    @classmethod
    def _known_channels(cls, per_channel: dict[str, int]) -> dict[str, int]:
        return known_channels(per_channel) or {}

    @field_validator("max_gap")
    @classmethod
    def _positive_gap(cls, gap: timedelta | None) -> timedelta | None:
        return positive_gap(gap)

    @model_validator(mode="after")
    def _channels_fit_the_total(self) -> Attempts:
        problems = per_channel_problems(self)
        if problems:
            raise Problems(problems)
        return self


def known_channels(per_channel: dict[str, int] | None) -> dict[str, int] | None:
    """``calls: 3`` for ``call: 3`` would otherwise be a minimum nothing can meet."""
    problems: list[Problem] = [
        ((name,), unknown_name("channel", name, CHANNELS))
        for name in per_channel or {}
        if name not in CHANNELS
    ]
    if problems:
        raise Problems(problems)
    return per_channel


def positive_gap(gap: timedelta | None) -> timedelta | None:
    if gap is not None and gap <= timedelta(0):
        raise ValueError("must be longer than 0, such as 2d; remove it for no cadence rule")
    return gap


def per_channel_problems(attempts: Attempts, min_key: str = "sales.attempts.min") -> list[Problem]:
    """Per-channel minimums that cannot be met, or that contradict the total.

    A channel left out of ``channels`` never counts, so its minimum could never be met; a
    channel's minimum (or their sum) above ``min`` would make ``min`` a promise nobody
    reads. ``min_key`` names where the total was written (a tier may set its own).
    """
    problems: list[Problem] = []
    for name, least in attempts.per_channel.items():
        if name not in attempts.channels:
            problems.append(
                (
                    ("per_channel", name),
                    f"{name} is not in sales.attempts.channels, so no {name} counts as an "
                    f"attempt; add it to channels or remove the minimum",
                )
            )
        elif least > attempts.min:
            problems.append(
                (
                    ("per_channel", name),
                    f"{least} is more than the total minimum ({min_key}: {attempts.min}); "
                    f"raise it to at least {least} or lower this channel's minimum",
                )
            )
    total = sum(attempts.per_channel.values())
    if not problems and total > attempts.min:
        problems.append(
            (
                ("per_channel",),
                f"the channel minimums add up to {total}, more than the total minimum "
                f"({min_key}: {attempts.min}); raise it to at least {total} or lower them",
            )
        )
    return problems


class Coverage(BaseModel):
    """Share of MQLs worked at least once within the attempts window."""

    model_config = ConfigDict(extra="forbid")

    target: Share = 0.9
    warn_margin: Share | None = None


class CompareReps(BaseModel):
    """When a rep's figures are ranked: with at least ``min_judged`` judged handoffs.

    A rep at 1 of 1 is not the best rep, nor one at 0 of 2 the worst: below the threshold a
    rep's figures are shown, marked "too few to judge", and left out of the ranking.
    """

    model_config = ConfigDict(extra="forbid")

    min_judged: int = Field(default=10, ge=0)


REASON_FIELDS = ("status", "stage", "owner")
"""The canonical lead fields whose history the snapshot always keeps."""

PROPERTY_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
"""A CRM property's internal name (HubSpot ``hs_lead_disqualification_reason``,
Salesforce ``Reason__c``): letters, digits and underscores, starting with a letter."""


class Recycle(BaseModel):
    """Handing unreachable leads back to marketing, in time and with a reason."""

    model_config = ConfigDict(extra="forbid")

    grace: Duration = timedelta(days=3)
    reason_field: str = "status"
    reasons: list[str] | None = None
    target: Share = 0.9
    warn_margin: Share | None = None

    @field_validator("reason_field")
    @classmethod
    def _named(cls, field: str) -> str:
        if not field.strip():
            raise ValueError("is empty; name the field holding the reason, such as status")
        name = field.strip()
        if name not in REASON_FIELDS and not PROPERTY_NAME.match(name):
            # A label ("Disqualification Reason") names nothing the CRM can be asked for.
            raise ValueError(
                f"{as_written(field)} is not a field name; use status (HubSpot hs_lead_status, "
                "Salesforce Status), stage, owner, or a property's internal name such as "
                "hs_lead_disqualification_reason or Reason__c (run_audit.py inspect lists them)"
            )
        return field.strip()

    @field_validator("reasons")
    @classmethod
    def _some_reason(cls, reasons: list[str] | None) -> list[str] | None:
        if reasons is not None and not reasons:
            raise ValueError(
                "is empty, so no reason would be accepted; list them, or remove the key "
                "to accept any value"
            )
        return reasons


class Sales(BaseModel):
    """Sales' side: first touch, coverage, attempts, recycling, and call outcomes."""

    model_config = ConfigDict(extra="forbid")

    first_touch: FirstTouch = Field(default_factory=FirstTouch)
    attempts: Attempts = Field(default_factory=Attempts)
    coverage: Coverage = Field(default_factory=Coverage)
    recycle: Recycle = Field(default_factory=Recycle)
    compare_reps: CompareReps = Field(default_factory=CompareReps)
    outcomes: dict[str, list[str]] = Field(default_factory=dict)

    @field_validator("outcomes")
    @classmethod
    def _known_outcomes(cls, outcomes: dict[str, list[str]]) -> dict[str, list[str]]:
        """A misspelt outcome name would leave the built-in mapping silently in force."""
        problems: list[tuple[tuple[str | int, ...], str]] = []
        for name, values in outcomes.items():
            if name not in BUILTIN_OUTCOMES:
                problems.append(((name,), unknown_name("outcome", name, list(BUILTIN_OUTCOMES))))
            elif not values and name != "meeting_not_held":
                problems.append(
                    ((name,), "is empty; list the raw outcomes, or remove the key for the default")
                )
        if problems:
            raise Problems(problems)
        return outcomes
