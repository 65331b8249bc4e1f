"""The SLA as one pydantic model, and the questions the audit asks of it.

The blocks live beside this module (``funnel``, ``marketing``, ``sales``); this one holds
the checks that span them (``derived`` needs ``goals``) and the answers the audit needs
(time zone, opening hours, the monthly target, each rule's warn margin).
"""

from __future__ import annotations

from datetime import time
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from config.dispositions import BUILTIN_OUTCOMES
from config.sla.funnel import Funnel, FunnelStage, checked_funnel
from config.sla.holidays import Holidays
from config.sla.hours import read_hours
from config.sla.marketing import Goals, Marketing
from config.sla.routing import Routing
from config.sla.sales import Sales
from config.sla.segments import Segments
from config.sla.teams import AlertChannel, Alerts, Team, checked_teams
from config.sla.tiers import Tier, checked_tiers, tier_attempts_problems
from config.sla.time_off import RepTimeOff, checked_time_off
from config.sla.wording import Problems
from config.sla.working_hours import WorkingTime, checked_hours, checked_zone

RULE_IDS: tuple[str, ...] = (
    "mql_volume",
    "mql_per_rep",
    "speed_to_lead",
    "coverage",
    "attempts",
    "recycling",
    "conversion",
)
"""Every rule the audit runs, in report order."""


class SLA(BaseModel):
    """One marketing–sales SLA, as written in its YAML file (docs/SEMANTICS.md §7)."""

    model_config = ConfigDict(extra="forbid")

    name: str
    timezone: str
    business_hours: dict[str, str] | None = None
    holidays: Holidays = Field(default_factory=Holidays)
    funnel: Funnel
    goals: Goals | None = None
    marketing: Marketing = Field(default_factory=Marketing)
    sales: Sales = Field(default_factory=Sales)
    segments: Segments = Field(default_factory=Segments)
    tiers: list[Tier] = Field(default_factory=list)
    teams: dict[str, Team] = Field(default_factory=dict)
    channels: dict[str, AlertChannel] = Field(default_factory=dict)
    alerts: Alerts = Field(default_factory=Alerts)
    routing: Routing | None = None
    time_off: dict[str, RepTimeOff] = Field(default_factory=dict)
    rep_hours: dict[str, WorkingTime] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _named(cls, name: str) -> str:
        if not name.strip():
            raise ValueError('is empty; give the SLA a name such as "Acme SLA 2026"')
        return name

    @field_validator("timezone")
    @classmethod
    def _iana_zone(cls, name: str) -> str:
        return checked_zone(name)

    @field_validator("business_hours", mode="before")
    @classmethod
    def _opening_hours(cls, value: object) -> object:
        return checked_hours(value)

    @field_validator("time_off", "rep_hours", mode="before")
    @classmethod
    def _rep_keys(cls, value: object) -> object:
        return checked_time_off(value)

    @field_validator("funnel")
    @classmethod
    def _every_source_defines_mql(
        cls, funnel: dict[str, dict[str, FunnelStage]]
    ) -> dict[str, dict[str, FunnelStage]]:
        """Without ``mql`` a source has no handoffs and every rule would be silently n/a."""
        return checked_funnel(funnel)

    @field_validator("marketing")
    @classmethod
    def _derived_needs_goals(cls, marketing: Marketing, info: ValidationInfo) -> Marketing:
        # "goals" is absent from info.data when the goals block itself failed; its own
        # error is then reported, and this one would only add noise.
        if (
            marketing.mqls_per_month == "derived"
            and "goals" in info.data
            and info.data["goals"] is None
        ):
            raise Problems(
                [
                    (
                        ("mqls_per_month",),
                        "derived needs a goals block (revenue_per_month, marketing_share, "
                        "average_deal_size, mql_to_customer); add goals or give a number",
                    )
                ]
            )
        return marketing

    @model_validator(mode="after")
    def _teams_and_tiers_fit_together(self) -> SLA:
        problems = checked_teams(self.teams, self.channels)
        problems += checked_tiers(self.tiers, self.segments)
        problems += tier_attempts_problems(self.tiers, self.sales)
        if problems:
            raise Problems(problems)
        return self

    # ----------------------------------------------------------------------- helpers

    def team_of(self, rep: str) -> str | None:
        """The team a rep (an email) belongs to, or None (a rep in no team)."""
        for name, team in self.teams.items():
            if rep.strip().lower() in team.reps:
                return name
        return None

    def working_time(self, rep: str) -> tuple[str, dict[str, str] | None, Holidays]:
        """A rep's clock: time zone, business hours and holidays, each the rep's own
        (``rep_hours``), else their team's, else the SLA's (config/sla/working_hours.py)."""
        team_name = self.team_of(rep)
        blocks = [self.rep_hours.get(rep), self.teams[team_name] if team_name else None]
        zone, hours, holidays = self.timezone, self.business_hours, self.holidays
        hours_set = holidays_set = zone_set = False
        for block in blocks:
            if block is None:
                continue
            if block.timezone is not None and not zone_set:
                zone, zone_set = block.timezone, True
            if block.business_hours is not None and not hours_set:
                hours, hours_set = block.business_hours, True
            if block.holidays is not None and not holidays_set:
                holidays, holidays_set = block.holidays, True
        return zone, hours, holidays

    def has_own_clocks(self) -> bool:
        """Whether any team or rep keeps working hours of their own."""
        return any(t.overrides_any() for t in self.teams.values()) or any(
            r.overrides_any() for r in self.rep_hours.values()
        )

    @property
    def tz(self) -> ZoneInfo:
        """The SLA's time zone, in which periods, hours and holidays are read."""
        return ZoneInfo(self.timezone)

    def opening_hours(self) -> dict[int, list[tuple[time, time]]] | None:
        """Open intervals per weekday (0 = Monday … 6 = Sunday), or None for 24×7.

        Every weekday is a key; a closed day maps to ``[]``. Intervals are sorted and
        disjoint (they may touch); an interval open until midnight ends at
        :data:`END_OF_DAY`. Holidays are not applied here.
        """
        if self.business_hours is None:
            return None
        hours, _ = read_hours(self.business_hours)
        return hours

    def mqls_target(self) -> float | None:
        """MQLs a month marketing owes: the number given, derived from goals, or None."""
        volume = self.marketing.mqls_per_month
        if volume is None:
            return None
        if volume == "derived":
            if self.goals is None:
                raise ValueError("marketing.mqls_per_month is derived but the SLA has no goals")
            return self.goals.mqls_needed()
        return float(volume)

    def warn_margin(self, rule_id: str) -> float:
        """The relative margin within which ``rule_id`` warns instead of failing (§5).

        A rule's own block (``sales.first_touch.warn_margin`` …) overrides
        ``marketing.warn_margin``, which is the default for every rule.
        """
        blocks: dict[str, BaseModel | None] = {
            "mql_volume": None,
            "mql_per_rep": self.marketing.per_rep,
            "speed_to_lead": self.sales.first_touch,
            "routing": self.routing,
            "coverage": self.sales.coverage,
            "attempts": self.sales.attempts,
            "recycling": self.sales.recycle,
            "conversion": None,
        }
        if rule_id not in blocks:
            raise ValueError(f"unknown rule id {rule_id!r}; rule ids are {', '.join(RULE_IDS)}")
        override = getattr(blocks[rule_id], "warn_margin", None)
        return self.marketing.warn_margin if override is None else override

    def connected_outcomes(self) -> set[str]:
        """Raw call outcomes that mean the rep reached the lead, lower-cased and stripped.

        ``sales.outcomes.connected`` replaces HubSpot's built-in "Connected" disposition
        (GUID and label) rather than adding to it, so a portal that renamed or retired it
        can say exactly what counts. Compare with ``raw.strip().lower()``.
        """
        values = self.sales.outcomes.get("connected", BUILTIN_OUTCOMES["connected"])
        return {value.strip().lower() for value in values}

    def meeting_not_held_outcomes(self) -> set[str]:
        """Raw meeting outcomes of a meeting that did not take place (no-show, canceled),
        lower-cased and stripped: such a meeting is an attempt but no connection.
        ``sales.outcomes.meeting_not_held`` replaces the default."""
        values = self.sales.outcomes.get("meeting_not_held", BUILTIN_OUTCOMES["meeting_not_held"])
        return {value.strip().lower() for value in values}
