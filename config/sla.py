"""The SLA file: its model, its loader, and the promise it makes in plain words.

The SLA file is written by a revenue-operations lead, not by a programmer, so this module
has two jobs beyond parsing. First, nothing may be silently misread: unknown keys, bare
numbers where a duration belongs (is ``5`` minutes or seconds?), percentages written as
``90`` and a ``derived`` volume without the goals to derive it from are all errors,
because each of them would otherwise switch a rule off or change its number while the
audit still looks valid. Second, every problem is reported at once, one line each, as
``<yaml.path>: <what is wrong and the fix>``, so a broken file is fixed in one pass.

Semantics of every key: /work/shared/SLA_SEMANTICS.md §7 and ``config/sla.example.yaml``.
"""

from __future__ import annotations

import difflib
import re
import types
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from config.dispositions import BUILTIN_OUTCOMES, HUBSPOT_DISPOSITION_LABELS
from config.durations import duration_words, parse_duration

__all__ = [
    "BUILTIN_OUTCOMES",
    "END_OF_DAY",
    "HUBSPOT_DISPOSITION_LABELS",
    "RULE_IDS",
    "SLA",
    "Attempts",
    "CanonicalStage",
    "Channel",
    "Coverage",
    "FirstTouch",
    "FunnelStage",
    "Goals",
    "Marketing",
    "PerRep",
    "Recycle",
    "SLAError",
    "Sales",
    "Source",
    "load_sla",
    "parse_duration",
    "parse_sla",
    "summarize",
]

Source = Literal["hubspot", "salesforce"]
CanonicalStage = Literal["mql", "sql", "opportunity", "customer", "recycled"]
Channel = Literal["call", "email", "meeting", "task", "note"]

END_OF_DAY: time = time.max
"""What ``24:00`` in ``business_hours`` becomes: the close of a day open until midnight.

``datetime.time`` cannot hold 24:00, and ``00:00`` as an end would read as "before the
start". ``audit.business_time.END_OF_DAY`` is agreed to be this same value; it is defined
here too so that loading an SLA file does not import the audit engine.
"""

RULE_IDS: tuple[str, ...] = (
    "mql_volume",
    "mql_per_rep",
    "speed_to_lead",
    "coverage",
    "attempts",
    "recycling",
    "conversion",
)

_SHARE_FIX = "write shares as fractions such as 0.9"
_MQL_EXAMPLES: dict[str, str] = {
    "hubspot": "{stage: [marketingqualifiedlead]}",
    "salesforce": '{status: ["Marketing Qualified"]}',
}


# --------------------------------------------------------------------------- errors


class SLAError(Exception):
    """An SLA file that cannot be used, with every problem found, one line each.

    Each line of :attr:`problems` reads ``<yaml.path>: <what is wrong and the fix>``
    (file-level problems name the file instead). ``str()`` prefixes the file, so the
    command line can print it as it is.
    """

    def __init__(self, problems: list[str], source: str | Path | None = None) -> None:
        self.problems = list(problems)
        self.source = None if source is None else str(source)
        super().__init__(str(self))

    def __str__(self) -> str:
        if self.source is None:
            return "\n".join(self.problems)
        return "\n".join(f"{self.source}: {line}" for line in self.problems)


class _Problems(ValueError):
    """Problems found by one validator, each at a path below the value it validated.

    Pydantic places a validator's error at the validated value; a cross-field check
    (``derived`` without ``goals``) or a per-key check (``business_hours.sat``) needs the
    finer path, which :func:`_problem_lines` appends.
    """

    def __init__(self, items: list[tuple[tuple[str | int, ...], str]]) -> None:
        self.items = items
        super().__init__("; ".join(_line(loc, message) for loc, message in items))


# --------------------------------------------------------------------------- value types


def _show(value: object) -> str:
    """A value as the user wrote it in YAML, for error messages."""
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "a block of keys"
    return repr(value)


def _number(value: object, fix: str) -> float:
    """A real number from YAML (quoted digits included); bools and text are refused."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"{_show(value)} is not a number; {fix}")
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"{_show(value)} is not a number; {fix}") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise ValueError(f"{_show(value)} is not a number; {fix}")
    return number


def _share(value: object) -> float:
    """A fraction in [0, 1]; ``90`` is refused rather than guessed to mean 90%."""
    number = _number(value, _SHARE_FIX)
    if number > 1:
        raise ValueError(f"{_show(value)} is more than 1; {_SHARE_FIX}")
    if number < 0:
        raise ValueError(f"{_show(value)} is negative; {_SHARE_FIX}")
    return number


def _positive_share(value: object) -> float:
    """A fraction in (0, 1]: the goals divide by it or would plan for nothing."""
    number = _share(value)
    if number == 0:
        raise ValueError("0 must be more than 0; write a fraction such as 0.05")
    return number


def _amount(value: object) -> float:
    """A positive money amount, written as plain digits."""
    number = _number(value, "write plain digits such as 1000000")
    if number <= 0:
        raise ValueError(f"{_show(value)} must be more than 0")
    return number


def _whole(value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"{_show(value)} is not a whole number")
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"{_show(value)} is not a whole number") from None
    if not number.is_integer():
        raise ValueError(f"{_show(value)} is not a whole number")
    if number < minimum:
        raise ValueError(f"{_show(value)} must be at least {minimum}")
    return int(number)


def _count(value: object) -> int:
    return _whole(value, minimum=0)


def _at_least_one(value: object) -> int:
    return _whole(value, minimum=1)


def _holiday(value: object) -> date:
    """A local calendar date; a date-time is refused because holidays are whole days."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"{_show(value)} is not a date such as 2026-10-12")


Share = Annotated[float, BeforeValidator(_share)]
PositiveShare = Annotated[float, BeforeValidator(_positive_share)]
Amount = Annotated[float, BeforeValidator(_amount)]
Count = Annotated[int, BeforeValidator(_count)]
AtLeastOne = Annotated[int, BeforeValidator(_at_least_one)]
Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
Holiday = Annotated[date, BeforeValidator(_holiday)]


# --------------------------------------------------------------------------- business hours

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_INTERVAL = re.compile(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})")
_HOURS_EXAMPLE = '"09:00-18:00" or "09:00-12:00,13:00-18:00"'

Hours = dict[int, list[tuple[time, time]]]


def _day(name: str) -> int:
    key = name.strip().lower()
    if key in _DAYS:
        return _DAYS.index(key)
    if key in _DAY_NAMES:
        return _DAY_NAMES.index(key)
    names = _DAYS + _DAY_NAMES
    close = difflib.get_close_matches(key, names, n=1)
    fix = f"use {_join(list(_DAYS), 'or')}"
    if close:
        fix = f"did you mean {_DAYS[names.index(close[0]) % 7]}? {fix.capitalize()}"
    raise ValueError(f'"{name.strip()}" is not a day; {fix}')


def _days(key: str) -> list[int]:
    """Weekdays (0 = Monday) named by ``mon-fri``, ``sat``, ``mon,wed,fri`` or ``sun-thu``.

    A range runs forward through the week and wraps past Sunday, so ``sun-thu`` is the
    Sunday-to-Thursday week of many Middle-East teams, not an error.
    """
    days: list[int] = []
    for part in key.split(","):
        first, dash, last = part.partition("-")
        if not dash:
            named = [_day(part)]
        else:
            start, end = _day(first), _day(last)
            named = [(start + step) % 7 for step in range((end - start) % 7 + 1)]
        for day in named:
            if day in days:
                raise ValueError(f"{_DAYS[day]} is named twice in {key}; name each day once")
            days.append(day)
    return days


def _clock(hours: str, minutes: str, text: str, *, end: bool) -> time:
    hour, minute = int(hours), int(minutes)
    if hour == 24 and minute == 0:
        if not end:
            raise ValueError(f'"{text}" starts at 24:00; 24:00 can only end an interval')
        return END_OF_DAY
    if hour > 23 or minute > 59:
        raise ValueError(f'"{text}" has a time that is not between 00:00 and 24:00')
    return time(hour, minute)


def _intervals(spec: str) -> list[tuple[time, time]]:
    """Open intervals of one day, in order and apart; raises ValueError with the fix."""
    if not spec.strip():
        raise ValueError(
            f"has no hours; give hours such as {_HOURS_EXAMPLE}, or leave the day out to close it"
        )
    intervals: list[tuple[time, time]] = []
    texts: list[str] = []
    for piece in (part.strip() for part in spec.split(",")):
        match = _INTERVAL.fullmatch(piece)
        if match is None:
            raise ValueError(f'"{piece}" is not opening hours such as {_HOURS_EXAMPLE}')
        start = _clock(match.group(1), match.group(2), piece, end=False)
        end = _clock(match.group(3), match.group(4), piece, end=True)
        if end <= start:
            when = "when" if end == start else "before"
            raise ValueError(
                f'"{piece}" ends {when} it starts; hours run within one day, '
                "so split a night shift at 24:00"
            )
        if intervals:
            previous_start, previous_end = intervals[-1]
            if start < previous_start:
                raise ValueError(
                    f'"{piece}" comes before "{texts[-1]}"; list intervals in order of the '
                    'day, such as "09:00-12:00,13:00-18:00"'
                )
            if start < previous_end:
                raise ValueError(
                    f'"{texts[-1]}" and "{piece}" overlap; list each stretch of time once'
                )
        intervals.append((start, end))
        texts.append(piece)
    return intervals


def _read_hours(spec: Mapping[Any, Any]) -> tuple[Hours, list[tuple[tuple[str], str]]]:
    """Opening hours per weekday from ``business_hours``, and the problems, per key."""
    hours: Hours = {day: [] for day in range(7)}
    owner: dict[int, str] = {}
    problems: list[tuple[tuple[str], str]] = []
    for raw_key, value in spec.items():
        key = str(raw_key)
        try:
            days = _days(key)
            if not isinstance(value, str):
                raise ValueError(
                    f"{_show(value)} is not opening hours; write them in one quoted string, "
                    f"such as {_HOURS_EXAMPLE}"
                )
            intervals = _intervals(value)
            taken = [day for day in days if day in owner]
            if taken:
                names = ", ".join(_DAYS[day] for day in taken)
                first = owner[taken[0]]
                verb = "is" if len(taken) == 1 else "are"
                raise ValueError(f"{names} {verb} already given by {first}; give each day once")
        except ValueError as problem:
            problems.append(((key,), str(problem)))
            continue
        for day in days:
            owner[day] = key
            hours[day] = list(intervals)
    return hours, problems


# --------------------------------------------------------------------------- the model


class FunnelStage(BaseModel):
    """Raw CRM values that mean a lead entered one canonical stage (§2).

    Any listed field matching counts; ``converted`` is Salesforce's lead conversion.
    """

    model_config = ConfigDict(extra="forbid")

    stage: list[str] = Field(default_factory=list)
    status: list[str] = Field(default_factory=list)
    converted: bool = False

    @model_validator(mode="after")
    def _matches_something(self) -> FunnelStage:
        if not (self.stage or self.status or self.converted):
            raise ValueError(
                "matches no lead; give stage, status or converted: true, "
                "such as {stage: [salesqualifiedlead]}"
            )
        return self


class Goals(BaseModel):
    """The business arithmetic behind ``mqls_per_month: derived`` (§6)."""

    model_config = ConfigDict(extra="forbid")

    revenue_per_month: Amount
    marketing_share: PositiveShare
    average_deal_size: Amount
    mql_to_customer: PositiveShare

    def customers_needed(self) -> float:
        """New customers a month that marketing's share of revenue needs."""
        return self.revenue_per_month * self.marketing_share / self.average_deal_size

    def mqls_needed(self) -> float:
        """MQLs a month that yield :meth:`customers_needed` at ``mql_to_customer``.

        Not rounded: the plan command decides how to present a fractional lead.
        """
        return self.customers_needed() / self.mql_to_customer


class PerRep(BaseModel):
    """MQLs each rep should receive in a month (rule ``mql_per_rep``)."""

    model_config = ConfigDict(extra="forbid")

    min: Count | None = None
    max: Count | None = None
    target: Share = 1.0
    warn_margin: Share | None = None

    @model_validator(mode="after")
    def _a_real_range(self) -> PerRep:
        if self.min is None and self.max is None:
            raise ValueError("gives neither min nor max; give at least one, such as {min: 40}")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is more than max {self.max}; swap them")
        return self


class Marketing(BaseModel):
    """Marketing's side: volume, spread across reps, and MQL→SQL conversion."""

    model_config = ConfigDict(extra="forbid")

    mqls_per_month: int | Literal["derived"] | None = None
    per_rep: PerRep | None = None
    mql_to_sql: Share | None = None
    warn_margin: Share = 0.1

    @field_validator("mqls_per_month", mode="before")
    @classmethod
    def _number_or_derived(cls, value: object) -> object:
        if value is None:
            return None
        if isinstance(value, str) and value.strip().lower() == "derived":
            return "derived"
        try:
            return _whole(value, minimum=1)
        except ValueError as problem:
            if "at least" in str(problem):
                raise
            raise ValueError(
                f"{_show(value)} is not a number of MQLs or the word derived; "
                "write mqls_per_month: 600 or mqls_per_month: derived"
            ) from None


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
    channels: list[Channel] = Field(default_factory=lambda: ["call", "email", "meeting"])
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
        return field

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
                problems.append(((name,), _unknown("outcome", name, list(BUILTIN_OUTCOMES))))
            elif not values:
                problems.append(
                    ((name,), "is empty; list the raw outcomes, or remove the key for the default")
                )
        if problems:
            raise _Problems(problems)
        return outcomes


class SLA(BaseModel):
    """One marketing–sales SLA, as written in its YAML file (SLA_SEMANTICS.md §7)."""

    model_config = ConfigDict(extra="forbid")

    name: str
    timezone: str
    business_hours: dict[str, str] | None = None
    holidays: list[Holiday] = Field(default_factory=list)
    funnel: dict[Source, dict[CanonicalStage, FunnelStage]]
    goals: Goals | None = None
    marketing: Marketing = Field(default_factory=Marketing)
    sales: Sales = Field(default_factory=Sales)

    @field_validator("name")
    @classmethod
    def _named(cls, name: str) -> str:
        if not name.strip():
            raise ValueError('is empty; give the SLA a name such as "Acme SLA 2026"')
        return name

    @field_validator("timezone")
    @classmethod
    def _iana_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            pass
        else:
            return name
        close = _close_zone(name)
        fix = f"did you mean {close}?" if close else "use an IANA name such as America/Sao_Paulo"
        raise ValueError(f'"{name}" is not an IANA time zone; {fix}')

    @field_validator("business_hours", mode="before")
    @classmethod
    def _opening_hours(cls, value: object) -> object:
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise ValueError(
                f'{_show(value)} is not days and hours; write lines such as mon-fri: "09:00-18:00"'
            )
        if not value:
            raise ValueError(
                "has no days, so the team would never be open; give lines such as mon-fri: "
                '"09:00-18:00", or remove the key for 24×7'
            )
        _, problems = _read_hours(value)
        if problems:
            raise _Problems(list(problems))
        return value

    @field_validator("funnel")
    @classmethod
    def _every_source_defines_mql(
        cls, funnel: dict[str, dict[str, FunnelStage]]
    ) -> dict[str, dict[str, FunnelStage]]:
        """Without ``mql`` a source has no handoffs and every rule would be silently n/a."""
        if not funnel:
            raise ValueError(
                "has no sources; map at least one CRM, such as "
                "hubspot: {mql: {stage: [marketingqualifiedlead]}}"
            )
        problems: list[tuple[tuple[str | int, ...], str]] = []
        for source, stages in funnel.items():
            if "mql" not in stages:
                problems.append(
                    (
                        (source, "mql"),
                        f"missing; every source needs an mql stage, such as "
                        f"mql: {_MQL_EXAMPLES[source]}",
                    )
                )
            if source != "salesforce":
                problems.extend(
                    (
                        (source, stage, "converted"),
                        "only Salesforce leads convert; remove it or move the stage under "
                        "salesforce",
                    )
                    for stage, spec in stages.items()
                    if spec.converted
                )
        if problems:
            raise _Problems(problems)
        return funnel

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
            raise _Problems(
                [
                    (
                        ("mqls_per_month",),
                        "derived needs a goals block (revenue_per_month, marketing_share, "
                        "average_deal_size, mql_to_customer); add goals or give a number",
                    )
                ]
            )
        return marketing

    # ----------------------------------------------------------------------- helpers

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
        hours, _ = _read_hours(self.business_hours)
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


# --------------------------------------------------------------------------- error lines


def _close_zone(name: str) -> str | None:
    """The IANA zone a user probably meant (``Sao Paulo`` -> ``America/Sao_Paulo``)."""
    wanted = name.strip().replace(" ", "_").lower()
    zones = sorted(available_timezones())
    by_lower = {zone.lower(): zone for zone in zones}
    by_city = {zone.rsplit("/", 1)[-1].lower(): zone for zone in zones if "/" in zone}
    if wanted in by_lower:
        return by_lower[wanted]
    if wanted in by_city:
        return by_city[wanted]
    close = difflib.get_close_matches(wanted, list(by_lower), n=1, cutoff=0.8)
    return by_lower[close[0]] if close else None


def _unknown(noun: str, given: object, options: list[str]) -> str:
    text = str(given)
    close = difflib.get_close_matches(text.lower(), options, n=1)
    known = f"{noun}s are {_join(options, 'and')}"
    return (
        f"unknown {noun}; did you mean {close[0]}? {known.capitalize()}"
        if close
        else (f"unknown {noun}; {known}")
    )


def _join(items: list[str], word: str) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {word} {items[-1]}"


def _dotted(loc: tuple[str | int, ...]) -> str:
    path = ""
    for part in loc:
        if part == "[key]":
            continue
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def _line(loc: tuple[str | int, ...], message: str) -> str:
    path = _dotted(loc)
    return f"{path}: {message}" if path else message


def _plain(annotation: Any) -> Any:
    """``annotation`` without ``Annotated`` metadata and without ``| None``."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            options = [arg for arg in get_args(annotation) if arg is not type(None)]
            models = [arg for arg in options if _is_model(arg)]
            if len(options) == 1:
                annotation = options[0]
            else:
                return models[0] if models else annotation
        else:
            return annotation


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _type_at(loc: tuple[str | int, ...]) -> Any:
    """The declared type found by following a pydantic error location from :class:`SLA`."""
    current: Any = SLA
    for part in loc:
        current = _plain(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(part) if isinstance(part, str) else None
            if field is None:
                return None
            current = field.annotation
        elif get_origin(current) is dict:
            current = get_args(current)[1]
        elif get_origin(current) is list:
            current = get_args(current)[0]
        else:
            return None
    return _plain(current)


def _required(loc: tuple[str | int, ...]) -> bool:
    parent = _type_at(loc[:-1]) if loc else None
    if isinstance(parent, type) and issubclass(parent, BaseModel) and isinstance(loc[-1], str):
        field = parent.model_fields.get(loc[-1])
        return field is not None and field.is_required()
    return True


_MISSING_FIXES: dict[str, str] = {
    "name": 'give the SLA a name, such as name: "Acme marketing–sales SLA 2026"',
    "timezone": "use an IANA name such as America/Sao_Paulo",
    "funnel": "map each CRM's raw values to stages, such as "
    "funnel: {hubspot: {mql: {stage: [marketingqualifiedlead]}}}",
    "goals.revenue_per_month": "give the new revenue a month, such as 1000000",
    "goals.marketing_share": "give the fraction of revenue from marketing, such as 0.6",
    "goals.average_deal_size": "give the average deal size, such as 20000",
    "goals.mql_to_customer": "give the fraction of MQLs that become customers, such as 0.05",
}

_LITERAL_NOUNS: dict[frozenset[str], str] = {
    frozenset(get_args(Source)): "source",
    frozenset(get_args(CanonicalStage)): "stage",
    frozenset(get_args(Channel)): "channel",
}

_TYPE_MESSAGES: dict[str, str] = {
    "bool_type": "is not true or false",
    "bool_parsing": "is not true or false",
    "string_type": "is not text; put it in quotes",
    "list_type": "is not a list; write it as [a, b]",
    "dict_type": "is not a block of keys; write key: value lines under it",
    "model_type": "is not a block of keys; write key: value lines under it",
    "model_attributes_type": "is not a block of keys; write key: value lines under it",
    "int_type": "is not a whole number",
    "int_parsing": "is not a whole number",
    "int_from_float": "is not a whole number",
    "float_type": "is not a number",
    "float_parsing": "is not a number",
}


def _describe(error: Mapping[str, Any]) -> str:
    """One pydantic error as the second half of a problem line: what is wrong, the fix."""
    loc: tuple[str | int, ...] = tuple(error["loc"])
    kind: str = error["type"]
    given = error.get("input")
    if kind == "missing":
        fix = _MISSING_FIXES.get(_dotted(loc), "this key is required")
        return f"missing; {fix}"
    if kind == "extra_forbidden":
        parent = _type_at(loc[:-1])
        known = list(parent.model_fields) if isinstance(parent, type) else []
        close = difflib.get_close_matches(str(loc[-1]), known, n=1)
        if close:
            return f"unknown key; did you mean {close[0]}?"
        return f"unknown key; keys here are {_join(known, 'and')}" if known else "unknown key"
    if given is None:
        if loc and isinstance(loc[-1], int):
            return "has no value; fill it in, or remove the item"
        if _required(loc):
            return "has no value; fill it in"
        return "has no value; fill it in, or remove the key to use the default"
    if kind == "value_error":
        return str(error["ctx"]["error"])
    if kind == "literal_error":
        options = re.findall(r"'([^']*)'", error["ctx"]["expected"])
        noun = _LITERAL_NOUNS.get(frozenset(options), "value")
        if loc and loc[-1] == "[key]":
            return _unknown(noun, given, options)
        close = difflib.get_close_matches(str(given).lower(), options, n=1)
        fix = f"use {_join(options, 'or')}"
        if close:
            fix = f"did you mean {close[0]}? {fix.capitalize()}"
        return f"{_show(given)} is not a {noun}; {fix}"
    if kind in _TYPE_MESSAGES:
        return f"{_show(given)} {_TYPE_MESSAGES[kind]}"
    return str(error["msg"])


def _problem_lines(error: ValidationError) -> list[str]:
    lines: list[str] = []
    for item in error.errors(include_url=False):
        loc = tuple(item["loc"])
        cause = item.get("ctx", {}).get("error")
        if isinstance(cause, _Problems):
            found = [_line(loc + sub, message) for sub, message in cause.items]
        else:
            found = [_line(loc, _describe(item))]
        lines.extend(line for line in found if line not in lines)
    return lines


# --------------------------------------------------------------------------- loading

_YAML_HINTS: dict[str, str] = {
    "\\t": "indent with spaces, not tabs",
    "mapping values are not allowed": "check the indentation, and quote values containing ': '",
    "constructor for the tag": "remove the tag; the SLA file is plain data",
}


def parse_sla(data: object, source: str | Path | None = None) -> SLA:
    """Validate already-parsed SLA data (a mapping), raising :class:`SLAError`.

    ``source`` only labels the error (the file the data came from).
    """
    if not isinstance(data, Mapping):
        kind = "empty" if data is None else f"{_show(data)}, not a block of keys"
        raise SLAError(
            [
                f"the SLA file is {kind}; it must be keys such as name:, timezone: and "
                "funnel: (start from config/sla.example.yaml)"
            ],
            source,
        )
    try:
        return SLA.model_validate(data)
    except ValidationError as error:
        raise SLAError(_problem_lines(error), source) from None


def load_sla(path: str | Path) -> SLA:
    """Read and validate an SLA file, raising :class:`SLAError` with every problem found.

    The file is data, so it is read with ``yaml.safe_load`` (no tags that run code). Before
    that it is composed once more to find keys written twice, which YAML would otherwise
    resolve silently to the last one — a second ``sales:`` block must not erase the first.
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SLAError(
            [f"{file}: no such file; check the path, or start from config/sla.example.yaml"]
        ) from None
    except IsADirectoryError:
        raise SLAError([f"{file}: is a folder; give the path of the SLA .yaml file"]) from None
    except UnicodeDecodeError:
        raise SLAError([f"{file}: is not UTF-8 text; save it as UTF-8"]) from None
    except OSError as error:
        reason = (error.strerror or str(error)).lower()
        raise SLAError([f"{file}: cannot be read ({reason}); check its permissions"]) from None
    try:
        duplicates = _duplicate_keys(yaml.compose(text, Loader=yaml.SafeLoader))
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as error:
        raise SLAError([_syntax_line(file, error)]) from None
    except yaml.YAMLError as error:
        raise SLAError([f"{file}: is not valid YAML ({error})"]) from None
    if duplicates:
        raise SLAError(duplicates, file)
    return parse_sla(data, file)


def _syntax_line(file: Path, error: yaml.MarkedYAMLError) -> str:
    mark = error.problem_mark or error.context_mark
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    problem = error.problem or error.context or "cannot be parsed"
    start = error.context_mark
    if error.problem and error.context and start is not None and start != mark:
        problem += f", {error.context} from line {start.line + 1}, column {start.column + 1}"
    hint = next((fix for key, fix in _YAML_HINTS.items() if key in problem), None)
    hint = hint or "check the indentation and quoting there"
    return f"{file}: YAML syntax error{where}: {problem}; {hint}"


def _duplicate_keys(node: yaml.Node | None, loc: tuple[str | int, ...] = ()) -> list[str]:
    """Keys given twice in one block, as problem lines with both line numbers."""
    problems: list[str] = []
    if isinstance(node, yaml.MappingNode):
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else None
            if key is not None and key in first_line:
                problems.append(
                    _line(
                        (*loc, key),
                        f"given twice (lines {first_line[key]} and "
                        f"{key_node.start_mark.line + 1}); keep one",
                    )
                )
            elif key is not None:
                first_line[key] = key_node.start_mark.line + 1
            problems.extend(_duplicate_keys(value_node, (*loc, key if key is not None else "?")))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            problems.extend(_duplicate_keys(item, (*loc, index)))
    return problems


# --------------------------------------------------------------------------- summary

_SOURCE_NAMES = {"hubspot": "HubSpot", "salesforce": "Salesforce"}
_FIELD_WORDS = {
    "hubspot": {"stage": "lifecycle stage", "status": "lead status"},
    "salesforce": {"stage": "stage", "status": "lead status"},
}


def _amount_words(value: float) -> str:
    """1000000 -> ``1,000,000``; 612.5 -> ``612.5``."""
    if abs(value - round(value)) < 1e-9:
        return f"{round(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _percent(share: float) -> str:
    return f"{round(share * 100, 4):g}%"


def _clock_words(moment: time) -> str:
    return "24:00" if moment == END_OF_DAY else moment.strftime("%H:%M")


def _days_words(days: list[int]) -> str:
    """[0, 1, 2, 3, 4] -> ``Mon-Fri``; [0, 2, 4] -> ``Mon, Wed, Fri``."""
    runs: list[list[int]] = []
    for day in days:
        if runs and day == runs[-1][-1] + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    names = [_DAYS[day].capitalize() for day in range(7)]
    parts = [
        names[run[0]] if len(run) == 1 else f"{names[run[0]]}-{names[run[-1]]}" for run in runs
    ]
    return ", ".join(parts)


def _hours_words(hours: Hours) -> str:
    """Opening hours grouped by identical days: ``09:00-12:00, 13:00-18:00 Mon-Fri``."""
    groups: dict[tuple[tuple[time, time], ...], list[int]] = {}
    for day in range(7):
        if hours[day]:
            groups.setdefault(tuple(hours[day]), []).append(day)
    parts = []
    for intervals, days in groups.items():
        spans = ", ".join(f"{_clock_words(a)}-{_clock_words(b)}" for a, b in intervals)
        parts.append(f"{spans} {_days_words(days)}")
    return "; ".join(parts)


def _value_words(value: str) -> str:
    """A raw CRM value in a sentence: quoted when it has spaces ("Marketing Qualified")."""
    return f'"{value}"' if " " in value else value


def _stage_words(source: str, spec: FunnelStage) -> str:
    words = _FIELD_WORDS[source]
    parts = [
        f"{words[field]} {_join([_value_words(v) for v in values], 'or')}"
        for field, values in (("stage", spec.stage), ("status", spec.status))
        if values
    ]
    if spec.converted:
        parts.append("lead conversion")
    return f"{_SOURCE_NAMES[source]} {_join(parts, 'or')}"


def _marketing_sentence(sla: SLA) -> str:
    marketing, goals = sla.marketing, sla.goals
    target = sla.mqls_target()
    if target is None:
        text = "Marketing has no monthly MQL volume target"
    else:
        text = f"Marketing delivers {_amount_words(target)} MQLs a month"
        if marketing.mqls_per_month == "derived" and goals is not None:
            text += (
                f" (derived: {_amount_words(goals.revenue_per_month)} revenue × "
                f"{goals.marketing_share:g} ÷ {_amount_words(goals.average_deal_size)} deal = "
                f"{_amount_words(goals.customers_needed())} customers ÷ "
                f"{goals.mql_to_customer:g})"
            )
    per_rep = marketing.per_rep
    if per_rep is not None:
        if per_rep.min is not None and per_rep.max is not None:
            spread = f"{per_rep.min} to {per_rep.max} per rep"
        elif per_rep.min is not None:
            spread = f"at least {per_rep.min} per rep"
        else:
            spread = f"at most {per_rep.max} per rep"
        if per_rep.target < 1:
            spread += f" for {_percent(per_rep.target)} of reps"
        text += f", {spread}"
    if marketing.mql_to_sql is not None:
        text += f", of which {_percent(marketing.mql_to_sql)} become SQLs"
    return text + "."


def _sales_sentence(sla: SLA) -> str:
    sales = sla.sales
    first, attempts, coverage, recycle = (
        sales.first_touch,
        sales.attempts,
        sales.coverage,
        sales.recycle,
    )
    hours = sla.opening_hours()
    calendar = [_hours_words(hours) if hours is not None else "24×7", sla.timezone]
    if sla.holidays:
        count = len(sla.holidays)
        calendar.append(f"{count} holiday" if count == 1 else f"{count} holidays")
    within = duration_words(first.within)
    if hours is not None:
        amount, unit = within.split(" ", 1)
        within = f"{amount} business {unit}"
    window = duration_words(attempts.window)
    channels = _join(list(attempts.channels), "or")
    reasons = f" ({_join(recycle.reasons, 'or')})" if recycle.reasons else ""
    return (
        f"Sales touches each MQL within {within} ({', '.join(calendar)}) for "
        f"{_percent(first.target)} of leads; works {_percent(coverage.target)} of MQLs at "
        f"least once within {window}; makes at least {attempts.min} attempts by {channels} "
        f"over {window}, at least {duration_words(attempts.min_gap)} apart, until the lead "
        f"is reached, for {_percent(attempts.target)} of leads; and recycles unreachable "
        f"leads within {duration_words(recycle.grace)} after the window, with a reason in "
        f"{recycle.reason_field}{reasons}, for {_percent(recycle.target)} of them."
    )


def _margin_sentence(sla: SLA) -> str:
    default = sla.marketing.warn_margin
    overrides = [
        f"{rule} {_percent(sla.warn_margin(rule))}"
        for rule in RULE_IDS
        if sla.warn_margin(rule) != default
    ]
    extra = f" ({', '.join(overrides)} for those rules)" if overrides else ""
    return f"A rule short of its target by at most {_percent(default)} of it warns{extra}."


def summarize(sla: SLA) -> str:
    """What the SLA promises, in one paragraph a RevOps lead can check against the contract.

    Used by ``run_audit.py check`` so the author sees how the file was understood (the
    derived volume with its arithmetic, the business calendar, each rule's target).
    """
    handoffs = _join(
        [_stage_words(source, stages["mql"]) for source, stages in sla.funnel.items()], "or"
    )
    sentences = [
        f"{sla.name.strip().rstrip('.')}.",
        _marketing_sentence(sla),
        f"An MQL handoff is {handoffs}.",
        _sales_sentence(sla),
        _margin_sentence(sla),
    ]
    return " ".join(sentences)
