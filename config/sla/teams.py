"""Teams, their managers, and where alerts about them go (issue 17).

```yaml
teams:
  inbound:
    manager: maria@acme.example
    reps: [ana@acme.example, bruno@acme.example]
    notify: [inbound-slack]          # channels for this team's breach alerts and digest
    rep_notify:                      # optional: a rep's own channels for their leads' alerts
      ana@acme.example: [ana-mail]
channels:
  inbound-slack: {url_env: SLA_AUDIT_INBOUND_SLACK}   # an apprise URL, from the environment
  ana-mail: {url_env: SLA_AUDIT_ANA_MAIL}
alerts:
  at_risk_within: 30m                # warn of first-touch deadlines this close (business time)
```

A channel's URL carries its secret (a webhook token, an SMTP password), so the SLA file
names only the environment variable that holds it: the file can be shared and committed,
and the secret never appears in it, in a log or in a report. Reps and managers are named
as the reports name them: by email, lower-cased.
"""

from __future__ import annotations

import re
from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field, field_validator

from config.sla.values import Duration
from config.sla.wording import Problems, as_written
from config.sla.working_hours import WorkingTime

ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")


def email_address(value: object) -> str:
    """A person's email, lower-cased as reps are named; a ValueError for anything else."""
    text = str(value).strip().lower() if value is not None else ""
    if "@" not in text or text.startswith("@") or text.endswith("@"):
        raise ValueError(
            f"{as_written(value)} is not an email address; name people by the email their "
            "CRM user has, such as ana@acme.example"
        )
    return text


class Team(WorkingTime):
    """A sales team: its manager, its reps, the channels its alerts go to, and optionally
    its own ``timezone``, ``business_hours`` and ``holidays`` (:mod:`config.sla.working_hours`)."""

    model_config = ConfigDict(extra="forbid")

    manager: str
    reps: list[str] = Field(min_length=1)
    notify: list[str] = Field(default_factory=list)
    rep_notify: dict[str, list[str]] = Field(default_factory=dict)
    """A rep's own channels: their leads' per-event alerts go there too (not the digest)."""

    @field_validator("rep_notify", mode="before")
    @classmethod
    def _rep_keys(cls, value: object) -> object:
        if not isinstance(value, dict):
            return value
        problems = []
        keys: dict[str, object] = {}
        for key, channels in value.items():
            try:
                keys[email_address(key)] = channels
            except ValueError as problem:
                problems.append(((str(key),), str(problem)))
        if problems:
            raise Problems(problems)
        return keys

    def channels_for(self, rep: str) -> list[str]:
        """Where a per-event alert about ``rep``'s lead goes: the team's channels, then the
        rep's own, each once."""
        return list(dict.fromkeys([*self.notify, *self.rep_notify.get(rep, [])]))

    @field_validator("manager", mode="before")
    @classmethod
    def _manager_email(cls, value: object) -> str:
        return email_address(value)

    @field_validator("reps", mode="before")
    @classmethod
    def _rep_emails(cls, value: object) -> object:
        if not isinstance(value, list):
            return value
        problems = []
        emails = []
        for index, item in enumerate(value):
            try:
                emails.append(email_address(item))
            except ValueError as problem:
                problems.append(((index,), str(problem)))
        if problems:
            raise Problems(problems)
        return emails


class AlertChannel(BaseModel):
    """Where alerts go: the environment variable holding the channel's apprise URL."""

    model_config = ConfigDict(extra="forbid")

    url_env: str

    @field_validator("url_env")
    @classmethod
    def _env_name(cls, name: str) -> str:
        if not ENV_NAME.match(name):
            raise ValueError(
                f"{as_written(name)} is not an environment variable name; write one such as "
                "SLA_AUDIT_INBOUND_SLACK (the URL itself stays out of the file: it holds a "
                "secret)"
            )
        return name


class Alerts(BaseModel):
    """How ``watch`` alerts: how early it warns, and whether it keeps quiet off hours."""

    model_config = ConfigDict(extra="forbid")

    at_risk_within: Duration = timedelta(minutes=30)
    """Warn of a first-touch deadline this close, in business time."""
    quiet_outside_business_hours: bool = True
    """Per-lead alerts wait for opening hours; the daily digest is sent regardless."""


def checked_teams(
    teams: dict[str, Team], channels: dict[str, AlertChannel]
) -> list[tuple[tuple[str | int, ...], str]]:
    """Problems across teams: a rep in two teams, a channel that is not declared."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    first_team: dict[str, str] = {}
    for name, team in teams.items():
        for index, rep in enumerate(team.reps):
            if rep in first_team and first_team[rep] != name:
                problems.append(
                    (
                        ("teams", name, "reps", index),
                        f"{rep} is already in team {first_team[rep]}; a rep belongs to one team",
                    )
                )
            first_team.setdefault(rep, name)
        named = [(("notify", index), channel) for index, channel in enumerate(team.notify)]
        for rep, rep_channels in team.rep_notify.items():
            if rep not in team.reps:
                problems.append(
                    (
                        ("teams", name, "rep_notify", rep),
                        f"{rep} is not one of team {name}'s reps; add them to reps or remove "
                        "the line",
                    )
                )
            named += [(("rep_notify", rep, index), c) for index, c in enumerate(rep_channels)]
        known = ", ".join(sorted(channels)) or "none yet"
        problems += [
            (
                ("teams", name, *where),
                f"{channel!r} is not a channel of this file (channels: {known}); "
                "declare it under channels: with its url_env",
            )
            for where, channel in named
            if channel not in channels
        ]
    return problems
