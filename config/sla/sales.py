"""Sales' side of the SLA: first touch, attempts, coverage, recycling and call outcomes.

Durations here are explicit (``5m``, ``14d``); ``first_touch.within`` is business time,
the attempts window and gaps are calendar time (docs/SEMANTICS.md §3–§4).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from config.dispositions import BUILTIN_OUTCOMES
from config.sla.values import AtLeastOne, Duration, Share
from config.sla.wording import Problems, as_written, unknown_name

Channel = Literal["call", "email", "meeting", "task", "note", "message"]
"""Activity kinds; ``message`` is a WhatsApp, SMS or LinkedIn message a rep logged
(HubSpot communications)."""
DEFAULT_CHANNELS: tuple[Channel, ...] = ("call", "email", "meeting", "message")


class FirstTouch(BaseModel):
    """Speed to lead: the first attempt within ``within`` *business* time."""

    model_config = ConfigDict(extra="forbid")

    within: Duration = timedelta(minutes=5)
    target: Share = 0.9
    warn_margin: Share | None = None


class Attempts(BaseModel):
    """How hard sales tries: ``min`` attempts in ``window``, ``min_gap`` apart (calendar)."""

    model_config = ConfigDict(extra="forbid")

    min: AtLeastOne = 5
    window: Duration = timedelta(days=14)
    min_gap: Duration = timedelta(hours=4)
    channels: list[Channel] = Field(default_factory=lambda: list(DEFAULT_CHANNELS))
    target: Share = 0.9
    warn_margin: Share | None = None

    @field_validator("channels")
    @classmethod
    def _some_channel(cls, channels: list[str]) -> list[str]:
        if not channels:
            raise ValueError("is empty, so nothing would count; list some, such as [call, email]")
        return channels


class Coverage(BaseModel):
    """Share of MQLs worked at least once within the attempts window."""

    model_config = ConfigDict(extra="forbid")

    target: Share = 0.9
    warn_margin: Share | None = None


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
