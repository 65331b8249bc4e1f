"""A generated CRM that tells a marketing–sales SLA story, for the sandboxes, demo and tests.

The CRM is *source-neutral*: leads, reps, activities and the history of three funnel fields
(``stage``, ``status``, ``owner``), using HubSpot's internal values (lifecyclestage,
hs_lead_status, default call dispositions) because those are the richest; the Salesforce
sandbox maps them onto Lead/Task/Event and LeadHistory.

``generate_crm(size, seed, end)`` is deterministic: the same arguments give the same CRM,
record for record (``end=None`` means "now", floored to the hour, which is the only place
the wall clock is read). Everything lives in the ``months`` before ``end``; no activity
happens after ``end``.

The story, so that an audit of it has something to say:

* eight reps with habits — fast or slow first touch, persistent or lazy, recycling with a
  reason, recycling prematurely or leaving leads stuck — one of them deactivated early in
  the span, some of whose open leads were reassigned and some not;
* leads arriving in and out of business hours (America/Sao_Paulo, Mon–Fri 09:00–12:00 and
  13:00–18:00), at weekends and on Brazilian holidays; reps only work in business hours,
  so a Friday-evening handoff waits until Monday;
* lifecycle subscriber/lead → marketingqualifiedlead (the handoff) → salesqualifiedlead →
  opportunity → customer; hs_lead_status NEW → ATTEMPTED_TO_CONTACT → CONNECTED, or
  UNQUALIFIED / BAD_TIMING when recycled (lifecyclestage back to ``lead``), and some
  BAD_TIMING leads qualifying again later (a second handoff);
* late assignment, reassignment after the handoff, handoffs never assigned, deleted leads,
  inbound replies, double dials minutes apart, every default call disposition, meetings,
  notes and tasks (open and completed).

What a reader could get wrong: ``Lead.updated_at`` also moves when an activity is logged
on the lead (HubSpot bumps ``lastmodifieddate`` through its activity roll-up properties),
so it is the latest change of *anything* on the lead, not only of its history.
"""

from __future__ import annotations

import bisect
import math
import random
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final, Literal
from zoneinfo import ZoneInfo

import numpy as np

from sandbox.absences import AbsenceCalendar, DayRange, planned_absences

BUSINESS_TIMEZONE: Final = "America/Sao_Paulo"
#: Local opening hours of the generated sales team, Monday to Friday.
BUSINESS_HOURS: Final = ((9, 0, 12, 0), (13, 0, 18, 0))

#: HubSpot's default call dispositions (``hs_call_disposition`` values).
DISPOSITIONS: Final[dict[str, str]] = {
    "busy": "9d9162e7-6cf3-4944-bf63-4dff82258764",
    "connected": "f240bbac-87c9-4f6e-bf70-924b57d47db7",
    "left_live_message": "a4c4c377-d246-4b32-a13b-75a56a4cd0ff",
    "left_voicemail": "b2cf5968-551e-4856-9783-52b3da59a7d0",
    "no_answer": "73a0d17f-1163-4015-bdd5-ec830791da20",
    "wrong_number": "17b47fee-58de-441e-a44c-c6300d46f273",
}
DISPOSITION_LABELS: Final[dict[str, str]] = {
    DISPOSITIONS["busy"]: "Busy",
    DISPOSITIONS["connected"]: "Connected",
    DISPOSITIONS["left_live_message"]: "Left live message",
    DISPOSITIONS["left_voicemail"]: "Left voicemail",
    DISPOSITIONS["no_answer"]: "No answer",
    DISPOSITIONS["wrong_number"]: "Wrong number",
}

LIFECYCLE_STAGES: Final = (
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
    "evangelist",
    "other",
)
LEAD_STATUSES: Final = (
    "NEW",
    "OPEN",
    "IN_PROGRESS",
    "OPEN_DEAL",
    "UNQUALIFIED",
    "ATTEMPTED_TO_CONTACT",
    "CONNECTED",
    "BAD_TIMING",
)

Field = Literal["stage", "status", "owner"]
ActivityKind = Literal["call", "email", "meeting", "task", "note", "communication"]
"""``communication``: a WhatsApp, SMS or LinkedIn message a rep logged (HubSpot only; its
``status`` is the channel: WHATS_APP, SMS or LINKEDIN_MESSAGE)."""

#: The default stages of HubSpot's lead pipeline (the Leads object's ``hs_pipeline_stage``).
LEAD_OBJECT_STAGES: Final = (
    "new-stage-id",
    "attempting-stage-id",
    "connected-stage-id",
    "qualified-stage-id",
    "unqualified-stage-id",
)
COMMUNICATION_CHANNELS: Final = ("WHATS_APP", "SMS", "LINKEDIN_MESSAGE")
RecyclingHabit = Literal["properly", "prematurely", "never"]

_UNSET: Final[Any] = object()
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MINUTE: Final = 60_000
_HOUR: Final = 60 * _MINUTE
_DAY: Final = 24 * _HOUR


def _dt(ms: int) -> datetime:
    """A UTC datetime from epoch milliseconds (millisecond precision by construction)."""
    return _EPOCH + timedelta(milliseconds=ms)


def _ms(at: datetime) -> int:
    """Epoch milliseconds of an aware datetime (sub-millisecond digits dropped)."""
    delta = at - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def _utc_ms(at: datetime) -> datetime:
    """``at`` in UTC, truncated to the millisecond: every instant in the CRM looks like this."""
    if at.tzinfo is None:
        raise ValueError(f"naive datetime {at!r}: CRM instants must be timezone-aware")
    return _dt(_ms(at))


# --------------------------------------------------------------------------- records


@dataclass(slots=True)
class Rep:
    """A CRM user who owns leads. The habit fields drive the generator, not the sandboxes."""

    key: int
    email: str
    first_name: str
    last_name: str
    team: str
    active: bool
    created_at: datetime
    updated_at: datetime
    speed_minutes: float = 10.0
    """Median business minutes from handoff to first attempt."""
    persistence: float = 5.0
    """Mean number of attempts on a lead nobody answers."""
    recycles: RecyclingHabit = "properly"
    coverage: float = 0.97
    """Chance that a handoff is worked at all."""
    connect_rate: float = 0.2
    """Chance that an outbound call is answered."""
    weight: float = 1.0
    """Share of round-robin assignments."""
    deactivated_at: datetime | None = None


@dataclass(slots=True)
class HistoryEntry:
    """One change of a funnel field. ``value`` is None when the field was cleared.

    For ``owner`` the value is the rep key as a string (the sandboxes map it to their ids).
    """

    field: Field
    value: str | None
    at: datetime
    source_type: str
    by_rep_key: int | None = None


@dataclass(slots=True)
class Lead:
    """A contact (HubSpot) / lead (Salesforce) with the history of its funnel fields."""

    key: int
    email: str
    first_name: str
    last_name: str
    company: str
    industry: str
    lead_source: str
    created_at: datetime
    updated_at: datetime
    stage: str
    status: str | None
    owner_key: int | None
    archived: bool = False
    archived_at: datetime | None = None
    converted_at: datetime | None = None
    history: list[HistoryEntry] = field(default_factory=list)
    merged_into: int | None = None
    """Set on a lead merged into another (it then no longer exists on its own)."""
    merged_keys: list[int] = field(default_factory=list)
    """Keys of the leads merged into this one (HubSpot's ``hs_merged_object_ids``)."""
    custom: dict[str, list[tuple[datetime, str | None]]] = field(default_factory=dict)
    """Custom property values set on this lead, oldest first, by property (a test's own
    values); properties not here take :mod:`sandbox.custom_properties`' derived ones."""


@dataclass(slots=True)
class Activity:
    """A call, email, meeting, task or note, linked to one or more leads.

    ``occurred_at`` is HubSpot's ``hs_timestamp`` (for tasks, the due date; for meetings,
    the start). ``status`` is hs_call_status / hs_email_status / hs_task_status /
    hs_meeting_outcome depending on ``kind``.
    """

    key: int
    kind: ActivityKind
    occurred_at: datetime
    created_at: datetime
    updated_at: datetime
    owner_key: int | None
    lead_keys: list[int]
    direction: str | None = None
    disposition: str | None = None
    status: str | None = None
    duration_ms: int | None = None
    title: str = ""
    end_at: datetime | None = None
    archived: bool = False
    archived_at: datetime | None = None


@dataclass(slots=True)
class LeadObject:
    """A record of HubSpot's Leads object (0-136): a prospecting lead on one contact, with
    the history of its pipeline stage as (stage, instant, sourceType)."""

    key: int
    contact_keys: list[int]
    name: str
    owner_key: int | None
    stage: str
    created_at: datetime
    updated_at: datetime
    history: list[tuple[str, datetime, str]] = field(default_factory=list)
    archived: bool = False
    archived_at: datetime | None = None


# --------------------------------------------------------------------------- the CRM


@dataclass
class CRM:
    """The whole generated CRM, plus the mutation helpers incremental-sync tests use.

    Mutations go through the helpers so that ``updated_at`` moves the way HubSpot's
    ``lastmodifieddate`` does and so that servers holding this CRM see a new ``version``
    (they rebuild their indexes lazily when it changes). Helpers take ``lock``; a server
    reading the CRM from another thread takes it too.
    """

    reps: list[Rep]
    leads: list[Lead]
    activities: list[Activity]
    seed: int = 0
    end: datetime = field(default_factory=lambda: _dt(0))
    start: datetime | None = None
    version: int = 0
    lead_objects: list[LeadObject] = field(default_factory=list)
    """HubSpot Leads-object records (none unless asked for: the Salesforce side has none)."""
    absences: dict[int, list[DayRange]] = field(default_factory=dict)
    """Rep key → local days away, both ends included (none unless asked for)."""
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False, compare=False)
    _leads_by_key: dict[int, Lead] = field(default_factory=dict, repr=False, compare=False)
    _activities_by_key: dict[int, Activity] = field(default_factory=dict, repr=False, compare=False)
    _reps_by_key: dict[int, Rep] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._leads_by_key = {lead.key: lead for lead in self.leads}
        self._activities_by_key = {act.key: act for act in self.activities}
        self._reps_by_key = {rep.key: rep for rep in self.reps}

    # ----------------------------------------------------------------- lookups
    def lead(self, key: int) -> Lead:
        return self._leads_by_key[key]

    def activity(self, key: int) -> Activity:
        return self._activities_by_key[key]

    def rep(self, key: int) -> Rep:
        return self._reps_by_key[key]

    def has_lead(self, key: int) -> bool:
        return key in self._leads_by_key

    def lead_object(self, key: int) -> LeadObject | None:
        return next((obj for obj in self.lead_objects if obj.key == key), None)

    def add_lead_object(
        self,
        contact_key: int,
        at: datetime,
        *,
        owner_key: int | None = None,
        stage: str = "new-stage-id",
        source_type: str = "CRM_UI",
    ) -> LeadObject:
        """Create a Leads-object record on a contact at ``at``, in ``stage``."""
        at = _utc_ms(at)
        with self.lock:
            if contact_key not in self._leads_by_key:
                raise KeyError(f"lead object on contact {contact_key}, which does not exist")
            key = max((obj.key for obj in self.lead_objects), default=0) + 1
            contact = self._leads_by_key[contact_key]
            obj = LeadObject(
                key=key,
                contact_keys=[contact_key],
                name=f"{contact.first_name} {contact.last_name}",
                owner_key=owner_key,
                stage=stage,
                created_at=at,
                updated_at=at,
                history=[(stage, at, source_type)],
            )
            self.lead_objects.append(obj)
            self.version += 1
            return obj

    def move_lead_object(
        self, key: int, at: datetime, stage: str, source_type: str = "CRM_UI"
    ) -> LeadObject:
        """Move a Leads-object record to ``stage`` at ``at``."""
        at = _utc_ms(at)
        with self.lock:
            obj = self.lead_object(key)
            if obj is None:
                raise KeyError(f"no lead object {key}")
            obj.history.append((stage, at, source_type))
            obj.history.sort(key=lambda entry: entry[1])
            obj.stage = stage
            obj.updated_at = max(obj.updated_at, at)
            self.version += 1
            return obj

    def next_key(self, kind: Literal["lead", "activity", "rep"]) -> int:
        """The key a new record of ``kind`` gets: one past the largest, so ids keep growing."""
        index: dict[int, Any] = {
            "lead": self._leads_by_key,
            "activity": self._activities_by_key,
            "rep": self._reps_by_key,
        }[kind]
        return max(index, default=0) + 1

    # ----------------------------------------------------------------- mutations
    def touch_lead(
        self,
        key: int,
        at: datetime,
        stage: str | None = None,
        status: str | None = None,
        owner_key: int | None = _UNSET,
        source_type: str = "CRM_UI",
        by_rep_key: int | None = None,
    ) -> Lead:
        """Change a lead at ``at``: each given field gets a history entry; ``updated_at`` moves.

        With no field given it is an edit of some other property (company, phone, …): only
        ``updated_at`` moves. ``owner_key=None`` unassigns; leaving it out keeps the owner.
        """
        at = _utc_ms(at)
        with self.lock:
            lead = self._leads_by_key[key]
            if stage is not None:
                lead.history.append(HistoryEntry("stage", stage, at, source_type, by_rep_key))
                lead.stage = stage
                if stage == "salesqualifiedlead" and lead.converted_at is None:
                    lead.converted_at = at
            if status is not None:
                lead.history.append(HistoryEntry("status", status, at, source_type, by_rep_key))
                lead.status = status
            if owner_key is not _UNSET:
                value = None if owner_key is None else str(owner_key)
                lead.history.append(HistoryEntry("owner", value, at, source_type, by_rep_key))
                lead.owner_key = owner_key
            lead.history.sort(key=lambda entry: entry.at)
            lead.updated_at = max(lead.updated_at, at)
            self.version += 1
            return lead

    def add_lead(
        self,
        at: datetime,
        *,
        email: str | None = None,
        first_name: str = "New",
        last_name: str = "Lead",
        company: str = "Newco",
        industry: str = "COMPUTER_SOFTWARE",
        lead_source: str = "ORGANIC_SEARCH",
        stage: str = "lead",
        status: str | None = None,
        owner_key: int | None = None,
        source_type: str = "FORM",
    ) -> Lead:
        """Create a lead at ``at`` with its initial history; its key is ``next_key("lead")``."""
        at = _utc_ms(at)
        with self.lock:
            key = self.next_key("lead")
            lead = Lead(
                key=key,
                email=email or f"new.lead{key}@newco.example",
                first_name=first_name,
                last_name=last_name,
                company=company,
                industry=industry,
                lead_source=lead_source,
                created_at=at,
                updated_at=at,
                stage=stage,
                status=status,
                owner_key=owner_key,
            )
            lead.history.append(HistoryEntry("stage", stage, at, source_type))
            if status is not None:
                lead.history.append(HistoryEntry("status", status, at, source_type))
            if owner_key is not None:
                lead.history.append(HistoryEntry("owner", str(owner_key), at, source_type))
            if stage == "salesqualifiedlead":
                lead.converted_at = at
            self.leads.append(lead)
            self._leads_by_key[key] = lead
            self.version += 1
            return lead

    def archive_lead(self, key: int, at: datetime) -> Lead:
        """Delete a lead (HubSpot: archive, kept in the recycle bin)."""
        at = _utc_ms(at)
        with self.lock:
            lead = self._leads_by_key[key]
            lead.archived = True
            lead.archived_at = at
            lead.updated_at = max(lead.updated_at, at)
            self.version += 1
            return lead

    def merge_leads(self, primary_key: int, merged_key: int, at: datetime) -> Lead:
        """Merge lead ``merged_key`` into ``primary_key``, as HubSpot's contact merge does.

        The merged lead disappears (neither live nor archived; its id resolves to the
        primary), its activities move to the primary, the primary lists it in
        ``merged_keys`` and its ``updated_at`` moves. Property values stay the primary's.
        """
        at = _utc_ms(at)
        with self.lock:
            primary = self._leads_by_key[primary_key]
            merged = self._leads_by_key[merged_key]
            if merged_key == primary_key or merged.merged_into is not None:
                raise ValueError(f"lead {merged_key} cannot be merged into {primary_key}")
            merged.merged_into = primary_key
            primary.merged_keys.extend([merged_key, *merged.merged_keys])
            for act in self.activities:
                if merged_key in act.lead_keys:
                    act.lead_keys = list(
                        dict.fromkeys(primary_key if k == merged_key else k for k in act.lead_keys)
                    )
            primary.updated_at = max(primary.updated_at, at)
            self.version += 1
            return primary

    def add_activity(
        self,
        kind: ActivityKind,
        at: datetime,
        lead_keys: Sequence[int],
        *,
        owner_key: int | None = None,
        direction: str | None = None,
        disposition: str | None = None,
        status: str | None = None,
        duration_ms: int | None = None,
        title: str = "",
        end_at: datetime | None = None,
        created_at: datetime | None = None,
    ) -> Activity:
        """Log an activity that happened at ``at`` (created then too unless ``created_at``).

        The linked leads' ``updated_at`` moves to the creation instant, as HubSpot's
        activity roll-ups move ``lastmodifieddate``.
        """
        at = _utc_ms(at)
        created = _utc_ms(created_at) if created_at is not None else at
        with self.lock:
            for lead_key in lead_keys:
                if lead_key not in self._leads_by_key:
                    raise KeyError(f"activity links lead {lead_key}, which does not exist")
            key = self.next_key("activity")
            act = Activity(
                key=key,
                kind=kind,
                occurred_at=at,
                created_at=created,
                updated_at=created,
                owner_key=owner_key,
                lead_keys=list(lead_keys),
                direction=direction,
                disposition=disposition,
                status=status,
                duration_ms=duration_ms,
                title=title,
                end_at=_utc_ms(end_at) if end_at is not None else None,
            )
            self.activities.append(act)
            self._activities_by_key[key] = act
            for lead_key in lead_keys:
                lead = self._leads_by_key[lead_key]
                lead.updated_at = max(lead.updated_at, created)
            self.version += 1
            return act

    def link_activity(self, key: int, lead_key: int) -> Activity:
        """Associate an existing activity with one more lead, later than it was logged.

        Neither record's ``updated_at`` moves. HubSpot writes associations through their
        own API (v4 associations), apart from properties, and documents no effect of an
        association on ``hs_lastmodifieddate``; integrators report there is no way to
        query changed associations. So the sandbox takes the hard case: a late link is
        invisible to a search on modification times, and a sync must look for it.
        """
        with self.lock:
            act = self._activities_by_key[key]
            if lead_key not in self._leads_by_key:
                raise KeyError(f"activity would link lead {lead_key}, which does not exist")
            if lead_key not in act.lead_keys:
                act.lead_keys.append(lead_key)
                self.version += 1
            return act

    def edit_activity(self, key: int, at: datetime, **changes: Any) -> Activity:
        """Change fields of an activity at ``at``: ``status="COMPLETED"``, ``archived=True``…"""
        at = _utc_ms(at)
        with self.lock:
            act = self._activities_by_key[key]
            for name, value in changes.items():
                if name in {"key", "created_at", "updated_at"}:
                    raise ValueError(f"{name} cannot be edited")
                if isinstance(value, datetime):
                    value = _utc_ms(value)
                setattr(act, name, value)
            if changes.get("archived") and act.archived_at is None:
                act.archived_at = at
            act.updated_at = max(act.updated_at, at)
            self.version += 1
            return act


# --------------------------------------------------------------------------- calendar


def _easter(year: int) -> date:
    """Gregorian Easter Sunday (anonymous Gregorian algorithm)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l_) // 451
    month, day = divmod(h + l_ - 7 * m + 114, 31)
    return date(year, month, day + 1)


def brazil_holidays(year: int) -> dict[date, str]:
    """National holidays (plus Carnival and Corpus Christi, which businesses observe)."""
    easter = _easter(year)
    days = {
        date(year, 1, 1): "Confraternização Universal",
        easter - timedelta(days=48): "Carnaval (segunda)",
        easter - timedelta(days=47): "Carnaval (terça)",
        easter - timedelta(days=2): "Sexta-feira Santa",
        date(year, 4, 21): "Tiradentes",
        date(year, 5, 1): "Dia do Trabalho",
        easter + timedelta(days=60): "Corpus Christi",
        date(year, 9, 7): "Independência",
        date(year, 10, 12): "Nossa Senhora Aparecida",
        date(year, 11, 2): "Finados",
        date(year, 11, 15): "Proclamação da República",
        date(year, 12, 25): "Natal",
    }
    if year >= 2024:
        days[date(year, 11, 20)] = "Dia da Consciência Negra"
    return days


class BusinessClock:
    """Business time of the generated sales team, as sorted open intervals in epoch ms.

    ``to_business`` counts open milliseconds since the first interval; ``from_business``
    inverts it, landing at the next opening when the count falls on a closing instant, so
    "first touch N business minutes after a Friday-night handoff" lands on Monday.
    """

    def __init__(self, first_day: date, last_day: date) -> None:
        tz = ZoneInfo(BUSINESS_TIMEZONE)
        holidays: set[date] = set()
        for year in range(first_day.year, last_day.year + 1):
            holidays.update(brazil_holidays(year))
        self.holidays = holidays
        starts: list[int] = []
        ends: list[int] = []
        cum: list[int] = []
        total = 0
        day = first_day
        while day <= last_day:
            if day.weekday() < 5 and day not in holidays:
                for h0, m0, h1, m1 in BUSINESS_HOURS:
                    s = _ms(datetime(day.year, day.month, day.day, h0, m0, tzinfo=tz))
                    e = _ms(datetime(day.year, day.month, day.day, h1, m1, tzinfo=tz))
                    starts.append(s)
                    ends.append(e)
                    cum.append(total)
                    total += e - s
            day += timedelta(days=1)
        self._starts = starts
        self._ends = ends
        self._cum = cum
        self._total = total

    def to_business(self, ms: int) -> int:
        i = bisect.bisect_right(self._starts, ms) - 1
        if i < 0:
            return 0
        return self._cum[i] + min(ms - self._starts[i], self._ends[i] - self._starts[i])

    def from_business(self, b: int) -> int:
        if b >= self._total:
            return self._ends[-1] + (b - self._total) * 3  # past the calendar: far future
        j = bisect.bisect_right(self._cum, b) - 1
        return self._starts[j] + (b - self._cum[j])

    def add(self, ms: int, business_ms: float) -> int:
        """The instant ``business_ms`` of open time after ``ms``."""
        return self.from_business(self.to_business(ms) + int(business_ms))

    def is_open(self, ms: int) -> bool:
        i = bisect.bisect_right(self._starts, ms) - 1
        return i >= 0 and ms < self._ends[i]


# --------------------------------------------------------------------------- story knobs

# (first, last, team, speed_minutes, persistence, recycles, coverage, connect_rate, weight)
_REP_PROFILES: Final = (
    ("Ana", "Souza", "Inbound SDR", 3.0, 6.5, "properly", 0.99, 0.24, 1.3),
    ("Bruno", "Lima", "Inbound SDR", 300.0, 6.0, "properly", 0.97, 0.20, 1.0),
    ("Carla", "Mendes", "Inbound SDR", 4.0, 1.8, "prematurely", 0.96, 0.20, 1.0),
    ("Diego", "Alves", "Inbound SDR", 45.0, 3.5, "never", 0.90, 0.16, 1.0),
    ("Elisa", "Rocha", "Enterprise AE", 8.0, 6.0, "properly", 0.99, 0.26, 0.8),
    ("Felipe", "Costa", "Enterprise AE", 720.0, 2.2, "never", 0.78, 0.12, 0.8),
    ("Gabriela", "Nunes", "Enterprise AE", 20.0, 4.5, "prematurely", 0.95, 0.20, 0.9),
    ("Hugo", "Ferreira", "Inbound SDR", 30.0, 4.0, "properly", 0.95, 0.18, 1.1),
)
_FROM_THE_LEAD: Final = ("INCOMING_EMAIL", "INBOUND")
"""Directions of activities the lead makes: they happen whether the rep is away or not."""
_DEACTIVATED_REP: Final = 8  # Hugo leaves a third of the way through the span
_DEACTIVATION_SHARE: Final = 0.35

# (hs_analytics_source, share of leads, chance of an MQL, chance a connected MQL is an SQL)
_SOURCES: Final = (
    ("ORGANIC_SEARCH", 0.25, 0.50, 0.42),
    ("PAID_SEARCH", 0.20, 0.58, 0.30),
    ("EMAIL_MARKETING", 0.12, 0.42, 0.36),
    ("REFERRALS", 0.08, 0.70, 0.62),
    ("DIRECT_TRAFFIC", 0.12, 0.48, 0.40),
    ("SOCIAL_MEDIA", 0.15, 0.38, 0.20),
    ("OFFLINE", 0.08, 0.64, 0.50),
)


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# (industry, share, factor on the SQL chance)
_INDUSTRIES: Final = (
    ("COMPUTER_SOFTWARE", 0.26, 1.25),
    ("FINANCIAL_SERVICES", 0.18, 1.05),
    ("HOSPITAL_HEALTH_CARE", 0.14, 0.80),
    ("RETAIL", 0.16, 0.70),
    ("EDUCATION_MANAGEMENT", 0.11, 0.90),
    ("LOGISTICS_AND_SUPPLY_CHAIN", 0.15, 1.10),
)
_FIRST_NAMES: Final = _words(
    "Lucas Mariana Pedro Julia Rafael Beatriz Gustavo Larissa Thiago Camila Mateus Fernanda "
    "Vinicius Amanda Leonardo Patricia Rodrigo Aline Eduardo Vanessa Marcelo Leticia Andre "
    "Bianca Felipe Renata Caio Isabela Daniel Natalia Henrique Carolina Joao Gabriela Paulo "
    "Tatiana Ricardo Priscila Samuel Helena"
)
_LAST_NAMES: Final = _words(
    "Silva Santos Oliveira Souza Rodrigues Ferreira Alves Pereira Lima Gomes Costa Ribeiro "
    "Martins Carvalho Almeida Lopes Soares Fernandes Vieira Barbosa Rocha Dias Nascimento "
    "Andrade Moreira Nunes Marques Machado Mendes Freitas Cardoso Ramos Goncalves Santana "
    "Teixeira Moura Pinto Araujo Correia Batista"
)
_COMPANY_A: Final = _words(
    "Alfa Nova Prime Terra Vale Sol Rio Mar Norte Sul Porto Brasil Atlas Vértice Horizonte "
    "Aurora Pampa Serra Cristal Safira"
)
_COMPANY_B: Final = _words(
    "Tecnologia Logística Saúde Varejo Educação Finanças Sistemas Digital Soluções "
    "Consultoria Indústria Serviços"
)
_EMAIL_SUBJECTS: Final = (
    "Quick question about your goals",
    "Following up on your request",
    "Ideas for your team",
    "Can we talk this week?",
    "Re: your demo request",
)


def _subtract_months(at: datetime, months: int) -> datetime:
    year, month = divmod(at.month - 1 - months, 12)
    year += at.year
    month += 1
    day = min(
        at.day, [31, 29 if _leap(year) else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
    )
    return at.replace(year=year, month=month, day=day)


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


# --------------------------------------------------------------------------- generation


def generate_crm(
    size: int = 1000,
    seed: int = 7,
    end: datetime | None = None,
    months: int = 4,
    *,
    hubspot_extras: bool = False,
    speed_pays: bool = False,
    absences: bool = False,
) -> CRM:
    """Generate ``size`` leads (50 … 1,000,000) over the ``months`` before ``end``.

    Deterministic in (size, seed, end, months, speed_pays, absences). ``end=None`` is the current
    hour (UTC). ``hubspot_extras`` adds what only HubSpot has (:func:`add_hubspot_extras`):
    logged WhatsApp/SMS/LinkedIn messages and Leads-object records; without it the CRM is
    the same, record for record, as before they existed. ``speed_pays`` makes leads
    touched quickly answer more often (:func:`freshness`): the demo and the ``sandbox``
    command turn it on so the report's speed → outcome table has a story to tell; it is
    off by default because it changes every later random draw, and the connector tests
    pin sizes of the CRMs they generate. ``absences`` sends a few reps away for a few days
    of the latest closed month (:mod:`sandbox.absences`, ``crm.absences``): the router
    skips them, except on an absence's first day, and a lead of theirs waits for them or is
    handed to a colleague. Off by default for the same reason.
    """
    if not 50 <= size <= 1_000_000:
        raise ValueError(f"size must be between 50 and 1,000,000 leads, not {size}")
    if months < 1:
        raise ValueError(f"months must be at least 1, not {months}")
    if end is None:
        end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    end = _utc_ms(end)
    start = _subtract_months(end, months)
    generator = _Generator(size, seed, start, end)
    generator.speed_pays = speed_pays
    if absences:
        generator.plan_absences()
    crm = generator.run()
    if hubspot_extras:
        add_hubspot_extras(crm, seed)
    return crm


def add_hubspot_extras(crm: CRM, seed: int) -> CRM:
    """Messages and Leads-object records on about a third of the handoffs, from their own
    random stream (``seed``), after every other record: the rest of the CRM is unchanged.

    For a chosen handoff: a Leads-object record created at the handoff instant on the
    contact, owned by its owner then; a message (channel drawn) an hour or so later, where
    that is before ``crm.end``; the lead moved to attempting then, and to qualified when
    the contact went on to SQL, else to unqualified when it was recycled.
    """
    rnd = random.Random(seed * 7919 + 14)
    for lead in list(crm.leads):
        if lead.archived or lead.merged_into is not None:
            continue
        for handoff in list(iter_handoffs(lead)):
            if rnd.random() >= 1 / 3:
                continue
            owner = _owner_at(lead, handoff)
            obj = crm.add_lead_object(lead.key, handoff, owner_key=owner)
            sent = handoff + timedelta(minutes=rnd.randrange(5, 120))
            if sent >= crm.end:
                continue
            channel = rnd.choice(COMMUNICATION_CHANNELS)
            crm.add_activity(
                "communication",
                sent,
                [lead.key],
                owner_key=owner,
                status=channel,
                title=f"{channel} message",
            )
            crm.move_lead_object(obj.key, sent, "attempting-stage-id")
            outcome = _lead_object_outcome(lead, handoff)
            if outcome is not None and outcome[1] > sent:
                crm.move_lead_object(obj.key, outcome[1], outcome[0])
    return crm


def _owner_at(lead: Lead, at: datetime) -> int | None:
    owners = [h for h in lead.history if h.field == "owner" and h.at <= at]
    value = owners[-1].value if owners else None
    return int(value) if value is not None else lead.owner_key


def _lead_object_outcome(lead: Lead, handoff: datetime) -> tuple[str, datetime] | None:
    """The contact's first move after the handoff that closes a lead: SQL or recycled."""
    for entry in lead.history:
        if entry.at <= handoff:
            continue
        if entry.field == "stage" and entry.value == "salesqualifiedlead":
            return "qualified-stage-id", entry.at
        if entry.field == "status" and entry.value in ("UNQUALIFIED", "BAD_TIMING"):
            return "unqualified-stage-id", entry.at
    return None


class _Generator:
    """One generation run. Bulk draws are numpy; the per-lead story is a Python loop."""

    def __init__(self, size: int, seed: int, start: datetime, end: datetime) -> None:
        self.size = size
        self.seed = seed
        self.start = start
        self.end = end
        self.start_ms = _ms(start)
        self.end_ms = _ms(end)
        self.np_rng = np.random.default_rng(seed)
        self.rnd = random.Random(seed)
        tz = ZoneInfo(BUSINESS_TIMEZONE)
        self.tz = tz
        first_day = start.astimezone(tz).date() - timedelta(days=14)
        last_day = end.astimezone(tz).date() + timedelta(days=400)
        self.clock = BusinessClock(first_day, last_day)
        self.reps = self._make_reps()
        self.deact_ms = _ms(self.reps[_DEACTIVATED_REP - 1].deactivated_at or end)
        self.activities: list[Activity] = []
        self.leads: list[Lead] = []
        self.next_activity_key = 1
        self.speed_pays = False
        """Whether a call's chance to connect depends on how fresh the lead is."""
        self.absence_plan: dict[int, list[DayRange]] = {}
        self.away: AbsenceCalendar | None = None
        """Reps' absences; None (the default) draws nothing more from the random streams."""

    def plan_absences(self) -> None:
        """Send a few reps away in the latest closed month (:mod:`sandbox.absences`)."""
        self.absence_plan = planned_absences(self.end, self.tz)
        self.away = AbsenceCalendar.of(self.absence_plan, self.tz)

    # ----------------------------------------------------------------- reps
    def _make_reps(self) -> list[Rep]:
        reps: list[Rep] = []
        created = self.start - timedelta(days=400)
        deact = _dt(
            self.start_ms + int((self.end_ms - self.start_ms) * _DEACTIVATION_SHARE)
        ).replace(microsecond=0)
        for key, profile in enumerate(_REP_PROFILES, start=1):
            first, last, team, speed, persistence, recycles, coverage, connect, weight = profile
            deactivated = key == _DEACTIVATED_REP
            reps.append(
                Rep(
                    key=key,
                    email=f"{first.lower()}@acme.example",
                    first_name=first,
                    last_name=last,
                    team=team,
                    active=not deactivated,
                    created_at=created + timedelta(days=key * 3, hours=key),
                    updated_at=deact if deactivated else created + timedelta(days=key * 3 + 30),
                    speed_minutes=speed,
                    persistence=persistence,
                    recycles=recycles,
                    coverage=coverage,
                    connect_rate=connect,
                    weight=weight,
                    deactivated_at=deact if deactivated else None,
                )
            )
        return reps

    def _pick_rep(self, at_ms: int, exclude: int | None = None) -> Rep:
        """Round-robin with weights among the reps active at ``at_ms``."""
        pool = [
            rep
            for rep in self.reps
            if rep.key != exclude and (rep.deactivated_at is None or at_ms < self.deact_ms)
        ]
        if self.away is not None:
            pool = [rep for rep in pool if not self.away.router_skips(rep.key, at_ms)]
        return self.rnd.choices(pool, weights=[rep.weight for rep in pool])[0]

    def _active_at(self, rep_key: int, at_ms: int) -> bool:
        return rep_key != _DEACTIVATED_REP or at_ms < self.deact_ms

    # ----------------------------------------------------------------- arrivals
    def _arrivals(self) -> np.ndarray:
        """Creation instants (epoch ms, sorted): business hours mostly, but not only."""
        rng = self.np_rng
        tz = self.tz
        first = self.start.astimezone(tz).date()
        last = self.end.astimezone(tz).date()
        n_days = (last - first).days + 1
        days = [first + timedelta(days=i) for i in range(n_days)]
        midnight = np.array(
            [_ms(datetime(d.year, d.month, d.day, tzinfo=tz)) for d in days], dtype=np.int64
        )
        kind = np.array(
            [2 if d in self.clock.holidays else (1 if d.weekday() >= 5 else 0) for d in days],
            dtype=np.int8,
        )
        weights = np.where(kind == 0, 1.0, np.where(kind == 1, 0.3, 0.4))
        weights = weights * (1.0 + 0.3 * np.arange(n_days) / max(n_days - 1, 1))
        weights /= weights.sum()
        day = rng.choice(n_days, size=self.size, p=weights)
        in_hours = (kind[day] == 0) & (rng.random(self.size) < 0.68)
        business_minute = rng.integers(0, 480, size=self.size)
        minute = np.where(
            in_hours,
            np.where(business_minute < 180, 540 + business_minute, 600 + business_minute),
            rng.integers(0, 1440, size=self.size),
        )
        created = midnight[day] + minute * _MINUTE + rng.integers(0, _MINUTE, size=self.size)
        outside = (created >= self.end_ms) | (created < self.start_ms)
        created[outside] = self.start_ms + rng.integers(
            0, self.end_ms - self.start_ms, size=int(outside.sum())
        )
        created.sort()
        return created

    # ----------------------------------------------------------------- run
    def run(self) -> CRM:
        size = self.size
        rng = self.np_rng
        created = self._arrivals().tolist()
        src_idx = rng.choice(
            len(_SOURCES), size=size, p=np.array([s[1] for s in _SOURCES]) / 1.0
        ).tolist()
        ind_p = np.array([i[1] for i in _INDUSTRIES])
        ind_idx = rng.choice(len(_INDUSTRIES), size=size, p=ind_p / ind_p.sum()).tolist()
        first_idx = rng.integers(0, len(_FIRST_NAMES), size=size).tolist()
        last_idx = rng.integers(0, len(_LAST_NAMES), size=size).tolist()
        comp_a = rng.integers(0, len(_COMPANY_A), size=size).tolist()
        comp_b = rng.integers(0, len(_COMPANY_B), size=size).tolist()
        leads = self.leads
        for i in range(size):
            key = i + 1
            first = _FIRST_NAMES[first_idx[i]]
            last = _LAST_NAMES[last_idx[i]]
            company = f"{_COMPANY_A[comp_a[i]]} {_COMPANY_B[comp_b[i]]}"
            domain = (
                company.lower()
                .replace(" ", "")
                .translate(str.maketrans("áâãçéêíóôõú", "aaaceeiooou"))
            )
            lead = self._lead(
                key=key,
                created_ms=created[i],
                email=f"{first.lower()}.{last.lower()}.{key}@{domain}.example",
                first=first,
                last=last,
                company=company,
                source=src_idx[i],
                industry=ind_idx[i],
            )
            leads.append(lead)
        crm = CRM(
            reps=self.reps,
            leads=leads,
            activities=self.activities,
            seed=self.seed,
            end=self.end,
            start=self.start,
            absences=self.absence_plan,
        )
        return crm

    # ----------------------------------------------------------------- one lead
    def _lead(
        self,
        *,
        key: int,
        created_ms: int,
        email: str,
        first: str,
        last: str,
        company: str,
        source: int,
        industry: int,
    ) -> Lead:
        rnd = self.rnd
        source_name, _, mql_chance, sql_chance = _SOURCES[source]
        industry_name, _, sql_factor = _INDUSTRIES[industry]
        story = _LeadStory(self, key, created_ms)
        creation_source = "IMPORT" if source_name == "OFFLINE" else "FORM"
        initial_stage = (
            "subscriber"
            if source_name in ("EMAIL_MARKETING", "SOCIAL_MEDIA") and rnd.random() < 0.5
            else "lead"
        )
        story.set("stage", initial_stage, created_ms, creation_source)
        owner_chance = 0.5 if source_name == "OFFLINE" else 0.07
        if rnd.random() < owner_chance:
            rep = self._pick_rep(created_ms)
            story.set("owner", str(rep.key), created_ms, creation_source)
            story.owner = rep.key
        if initial_stage == "subscriber" and rnd.random() < 0.5:
            story.set("stage", "lead", created_ms + int(rnd.expovariate(1 / (5 * _DAY))), "FORM")

        if rnd.random() < mql_chance:
            u = rnd.random()
            if u < 0.45:
                delay = rnd.randint(200, 120_000)  # the form submission itself qualifies
            elif u < 0.8:
                delay = int(rnd.lognormvariate(0, 1.0) * 2 * _DAY)
            else:
                delay = int(rnd.uniform(10, 60) * _DAY)
            mql_ms = max(created_ms + delay, story.last_ms + 1)
            story.handoff(mql_ms, min(0.95, sql_chance * sql_factor), cycle=1)

        archived_ms: int | None = None
        if rnd.random() < 0.02:
            lo = created_ms + _HOUR
            if lo < self.end_ms:
                archived_ms = rnd.randint(lo, self.end_ms - 1)
        return story.build(
            email=email,
            first=first,
            last=last,
            company=company,
            industry=industry_name,
            source=source_name,
            archived_ms=archived_ms,
        )


class _LeadStory:
    """The events of one lead, in milliseconds, turned into a :class:`Lead` at the end."""

    __slots__ = (
        "activity_last_ms",
        "created_ms",
        "events",
        "gen",
        "key",
        "last_ms",
        "owner",
    )

    def __init__(self, gen: _Generator, key: int, created_ms: int) -> None:
        self.gen = gen
        self.key = key
        self.created_ms = created_ms
        self.events: list[tuple[int, str, str | None, str, int | None]] = []
        self.owner: int | None = None
        self.last_ms = created_ms
        self.activity_last_ms = created_ms

    # ----------------------------------------------------------------- primitives
    def set(self, fld: str, value: str | None, at: int, source: str, by: int | None = None) -> bool:
        """Record a change if it happens by ``end``; False when it would be in the future."""
        if at >= self.gen.end_ms:
            return False
        self.events.append((at, fld, value, source, by))
        self.last_ms = max(self.last_ms, at)
        return True

    def activity(
        self,
        kind: ActivityKind,
        at: int,
        owner: int | None,
        *,
        created: int | None = None,
        updated: int | None = None,
        direction: str | None = None,
        disposition: str | None = None,
        status: str | None = None,
        duration: int | None = None,
        title: str = "",
        end_at: int | None = None,
        extra_lead: int | None = None,
    ) -> bool:
        gen = self.gen
        end_ms = gen.end_ms
        if gen.away is not None and owner is not None and direction not in _FROM_THE_LEAD:
            back = gen.away.back_at(owner, at)
            if back is not None:  # a rep away does nothing: it waits for their return
                shift = gen.clock.add(back, (self.key % 90) * _MINUTE) - at
                at += shift
                created = None if created is None else created + shift
                updated = None if updated is None else updated + shift
                end_at = None if end_at is None else end_at + shift
        if at >= end_ms:
            return False
        created_ms = min(created if created is not None else at, end_ms - 1)
        updated_ms = min(
            max(updated if updated is not None else created_ms, created_ms), end_ms - 1
        )
        created_dt = _dt(created_ms)
        lead_keys = [self.key]
        if extra_lead is not None and not gen.leads[extra_lead - 1].archived:
            lead_keys.append(extra_lead)
        act = Activity(
            key=gen.next_activity_key,
            kind=kind,
            occurred_at=_dt(at),
            created_at=created_dt,
            updated_at=created_dt if updated_ms == created_ms else _dt(updated_ms),
            owner_key=owner,
            lead_keys=lead_keys,
            direction=direction,
            disposition=disposition,
            status=status,
            duration_ms=duration,
            title=title,
            end_at=_dt(end_at) if end_at is not None else None,
        )
        if gen.rnd.random() < 0.004:
            act.archived = True
            act.archived_at = _dt(_rnd_between(gen.rnd, updated_ms, end_ms))
            act.updated_at = act.archived_at
            updated_ms = _ms(act.archived_at)
        gen.activities.append(act)
        gen.next_activity_key += 1
        for other in lead_keys[1:]:
            colleague = gen.leads[other - 1]
            colleague.updated_at = max(colleague.updated_at, act.updated_at)
        self.activity_last_ms = max(self.activity_last_ms, updated_ms)
        return True

    # ----------------------------------------------------------------- the handoff
    def handoff(self, mql_ms: int, sql_chance: float, cycle: int) -> None:
        gen = self.gen
        rnd = gen.rnd
        if not self.set("stage", "marketingqualifiedlead", mql_ms, "AUTOMATION_PLATFORM"):
            return
        self.set("status", "NEW", mql_ms, "AUTOMATION_PLATFORM")
        owner = self.owner
        assigned_ms = mql_ms
        if owner is None or not gen._active_at(owner, mql_ms):
            u = rnd.random()
            if u < 0.035 and cycle == 1:
                return  # nobody ever picks it up: the "unassigned" row of the report
            rep = gen._pick_rep(mql_ms)
            if u < 0.10:
                assigned_ms = mql_ms + rnd.randint(10 * _MINUTE, 2 * _DAY)
            else:
                assigned_ms = mql_ms + rnd.randint(50, 30_000)
            if not self.set("owner", str(rep.key), assigned_ms, "AUTOMATION_PLATFORM"):
                return
            owner = rep.key
            self.owner = owner
        start_ms = max(mql_ms, assigned_ms)
        if gen.away is not None:
            start_ms = self.cover_absence(owner, start_ms)
            if start_ms < 0:
                return
            owner = self.owner or owner
        self.work(gen.reps[owner - 1], start_ms, mql_ms, sql_chance, cycle)

    def cover_absence(self, owner: int, start_ms: int) -> int:
        """When work can start on a lead routed to ``owner``, who may be away.

        Half the time a manager hands it to a colleague a few hours later (a new owner); else
        it waits for the rep to come back. -1 when the hand-over would be after ``end``.
        """
        gen = self.gen
        assert gen.away is not None
        back = gen.away.back_at(owner, start_ms)
        if back is None:
            return start_ms
        if gen.rnd.random() < 0.5:
            return back
        handed_ms = start_ms + gen.rnd.randint(_HOUR, 8 * _HOUR)
        colleague = gen._pick_rep(handed_ms, exclude=owner)
        if not self.set("owner", str(colleague.key), handed_ms, "CRM_UI"):
            return -1
        self.owner = colleague.key
        return handed_ms

    def work(self, rep: Rep, start_ms: int, mql_ms: int, sql_chance: float, cycle: int) -> None:
        """Sales works the handoff in business hours, following the owner's habits."""
        gen = self.gen
        rnd = gen.rnd
        clock = gen.clock
        end_ms = gen.end_ms
        if rnd.random() > rep.coverage:
            if rnd.random() < 0.5:
                due = clock.add(start_ms, 4 * _HOUR)
                self.activity(
                    "task",
                    due,
                    rep.key,
                    created=start_ms,
                    status="NOT_STARTED",
                    title="Call new MQL",
                )
            return  # never worked
        reassign_ms = end_ms
        second_rep = rep
        if rnd.random() < 0.07:
            reassign_ms = start_ms + rnd.randint(_HOUR, 5 * _DAY)
            second_rep = gen._pick_rep(reassign_ms, exclude=rep.key)
        persistence = rep.persistence
        if rep.persistence >= 5.5:
            n_attempts = rnd.randint(5, 8)
        else:
            n_attempts = max(1, min(8, round(rnd.gauss(persistence, 1.0))))
        delay = rnd.lognormvariate(0, 1.0) * rep.speed_minutes * _MINUTE
        t = clock.add(start_ms, delay)
        attempts = 0
        mql_open = clock.to_business(mql_ms) if gen.speed_pays else 0
        first_touch_minutes = (clock.to_business(t) - mql_open) / _MINUTE if gen.speed_pays else 0.0
        connected_ms: int | None = None
        current = rep
        last_attempt = t
        for _ in range(n_attempts):
            if t >= end_ms:
                break
            if (
                current is rep
                and t >= reassign_ms
                and self.set("owner", str(second_rep.key), reassign_ms, "CRM_UI")
            ):
                self.owner = second_rep.key
                current = second_rep
            if gen.away is not None:
                back = gen.away.back_at(current.key, t)
                if back is not None:  # away: the attempt waits for the rep's return
                    t = clock.add(back, rnd.randint(0, 2 * _HOUR))
                    if t >= end_ms:
                        break
            if current.key == _DEACTIVATED_REP and t >= gen.deact_ms:
                # The rep left: a manager hands most open leads over, the rest stay orphaned.
                if rnd.random() >= 0.6:
                    break
                heir = gen._pick_rep(gen.deact_ms + 1, exclude=_DEACTIVATED_REP)
                at = gen.deact_ms + rnd.randint(_MINUTE, 3 * _HOUR)
                if not self.set("owner", str(heir.key), at, "CRM_UI"):
                    break
                self.owner = heir.key
                current = heir
                t = max(t, clock.add(at, rnd.lognormvariate(0, 1.0) * heir.speed_minutes * _MINUTE))
                if t >= end_ms:
                    break
            attempts += 1
            last_attempt = t
            if attempts == 1:
                self.set(
                    "status",
                    "ATTEMPTED_TO_CONTACT",
                    t + rnd.randint(1000, 90_000),
                    "CRM_UI",
                    current.key,
                )
            if rnd.random() < 0.45:
                self.activity(
                    "task",
                    t,
                    current.key,
                    created=t - rnd.randint(_HOUR, 2 * _DAY),
                    updated=t + rnd.randint(1000, 600_000),
                    status="COMPLETED",
                    title=f"Attempt {attempts}: reach the lead",
                )
            call = rnd.random() < (0.7 if attempts == 1 else 0.55)
            if call:
                fresh = 1.0
                if gen.speed_pays:
                    waited = (clock.to_business(t) - mql_open) / _MINUTE
                    fresh = freshness(waited, first_touch_minutes)
                if rnd.random() < min(0.9, current.connect_rate * fresh):
                    duration = rnd.randint(2 * _MINUTE, 25 * _MINUTE)
                    self.call(t, current.key, "connected", duration)
                    connected_ms = t + duration
                    break
                outcome = rnd.choices(
                    (
                        "no_answer",
                        "left_voicemail",
                        "busy",
                        "left_live_message",
                        "wrong_number",
                        "failed",
                    ),
                    weights=(45, 25, 10, 9, 4, 3),
                )[0]
                self.call(t, current.key, outcome, 0)
                if outcome == "wrong_number":
                    break
                if rnd.random() < 0.1:
                    self.activity(
                        "note",
                        t + rnd.randint(_MINUTE, 10 * _MINUTE),
                        current.key,
                        title="No luck reaching the decision maker",
                    )
                if rnd.random() < 0.12:
                    redial = t + rnd.randint(_MINUTE, 8 * _MINUTE)
                    self.call(redial, current.key, "no_answer", 0)
                    last_attempt = redial
            else:
                subject = rnd.choice(_EMAIL_SUBJECTS)
                self.activity(
                    "email",
                    t,
                    current.key,
                    created=t + rnd.randint(100, 3000),
                    direction="EMAIL",
                    status="SENT",
                    title=subject,
                )
                if rnd.random() < 0.07:
                    reply = t + rnd.randint(10 * _MINUTE, 2 * _DAY)
                    if self.activity(
                        "email",
                        reply,
                        current.key,
                        direction="INCOMING_EMAIL",
                        status="SENT",
                        title=f"Re: {subject}",
                    ):
                        connected_ms = reply
                        break
            if rnd.random() < 0.015:
                inbound = t + rnd.randint(30 * _MINUTE, 3 * _DAY)
                duration = rnd.randint(3 * _MINUTE, 15 * _MINUTE)
                if self.call(inbound, current.key, "connected", duration, direction="INBOUND"):
                    connected_ms = inbound + duration
                    break
            gap = rnd.lognormvariate(0, 0.6) * 6 * _HOUR
            t = clock.add(t, gap)
            if t - last_attempt < 4 * _HOUR and rnd.random() < 0.5:
                t = last_attempt + 4 * _HOUR + rnd.randint(0, _HOUR)

        if connected_ms is not None:
            self.connected(current, connected_ms, sql_chance, cycle)
            return
        if attempts == 0:
            return
        if current.key == _DEACTIVATED_REP and last_attempt >= gen.deact_ms - _DAY:
            return
        habit = current.recycles
        if habit == "properly" and (attempts >= 5 or last_attempt < end_ms - 20 * _DAY):
            at = last_attempt + rnd.randint(2 * _HOUR, 2 * _DAY)
            self.recycle(current, at, cycle, sql_chance)
        elif habit == "prematurely":
            at = last_attempt + rnd.randint(10 * _MINUTE, _DAY)
            self.recycle(current, at, cycle, sql_chance)
        elif habit == "never" and rnd.random() < 0.5:
            due = clock.add(last_attempt, 8 * _HOUR)
            self.activity(
                "task",
                due,
                current.key,
                created=last_attempt,
                status="NOT_STARTED",
                title="Try again",
            )

    def call(
        self, at: int, owner: int, outcome: str, duration: int, direction: str = "OUTBOUND"
    ) -> bool:
        rnd = self.gen.rnd
        if outcome == "failed":
            disposition, status = None, "FAILED"
        else:
            disposition = DISPOSITIONS[outcome]
            status = {"no_answer": "NO_ANSWER", "busy": "BUSY"}.get(outcome, "COMPLETED")
        if outcome == "left_voicemail":
            duration = rnd.randint(15_000, 60_000)
        elif outcome in ("left_live_message", "wrong_number"):
            duration = rnd.randint(10_000, 90_000)
        title = "Inbound call" if direction == "INBOUND" else "Outbound call"
        return self.activity(
            "call",
            at,
            owner,
            created=at + duration + rnd.randint(1000, 30_000),
            direction=direction,
            disposition=disposition,
            status=status,
            duration=duration,
            title=title,
        )

    def connected(self, rep: Rep, at: int, sql_chance: float, cycle: int) -> None:
        gen = self.gen
        rnd = gen.rnd
        clock = gen.clock
        self.set("status", "CONNECTED", at + rnd.randint(30_000, 30 * _MINUTE), "CRM_UI", rep.key)
        if rnd.random() < 0.6:
            note_at = at + rnd.randint(_MINUTE, 20 * _MINUTE)
            self.activity("note", note_at, rep.key, title="Discovery call notes: budget, timing")
        if rnd.random() < 0.8:
            recap = clock.add(at, rnd.uniform(0.2, 3) * _HOUR)
            self.activity(
                "email", recap, rep.key, direction="EMAIL", status="SENT", title="Recap of our call"
            )
            if rnd.random() < 0.4:
                answer = recap + rnd.randint(20 * _MINUTE, 2 * _DAY)
                self.activity(
                    "email",
                    answer,
                    rep.key,
                    direction="INCOMING_EMAIL",
                    status="SENT",
                    title="Re: Recap of our call",
                )
        t = at
        for _ in range(rnd.randint(1, 4)):
            t = clock.add(t, rnd.uniform(3, 30) * _HOUR)
            if rnd.random() < 0.5:
                self.call(t, rep.key, rnd.choice(("connected", "no_answer", "left_voicemail")), 0)
            else:
                self.activity(
                    "email", t, rep.key, direction="EMAIL", status="SENT", title="Next steps"
                )
        if rnd.random() < sql_chance:
            sql_at = at + rnd.randint(10 * _MINUTE, 3 * _DAY)
            if not self.set("stage", "salesqualifiedlead", sql_at, "CRM_UI", rep.key):
                return
            if rnd.random() < 0.7:
                start = clock.add(sql_at, rnd.uniform(4, 40) * _HOUR)
                length = rnd.choice((30, 45, 60)) * _MINUTE
                outcome = rnd.choices(("COMPLETED", "NO_SHOW", "SCHEDULED"), (75, 15, 10))[0]
                extra = None
                if rnd.random() < 0.1 and self.key > 10:
                    extra = rnd.randint(1, self.key - 1)
                self.activity(
                    "meeting",
                    start,
                    rep.key,
                    created=sql_at + rnd.randint(_MINUTE, _HOUR),
                    updated=start + length + rnd.randint(_MINUTE, _DAY)
                    if outcome != "SCHEDULED"
                    else None,
                    status=outcome,
                    title="Demo",
                    end_at=start + length,
                    extra_lead=extra,
                )
            due = clock.add(sql_at, rnd.uniform(2, 24) * _HOUR)
            done = due < gen.end_ms - _DAY and rnd.random() < 0.8
            self.activity(
                "task",
                due,
                rep.key,
                created=sql_at,
                updated=due + rnd.randint(0, 4 * _HOUR) if done else None,
                status="COMPLETED" if done else "NOT_STARTED",
                title="Send proposal",
            )
            if rnd.random() < 0.45:
                opp_at = sql_at + rnd.randint(2 * _DAY, 20 * _DAY)
                if self.set("stage", "opportunity", opp_at, "AUTOMATION_PLATFORM") and (
                    rnd.random() < 0.35
                ):
                    self.set(
                        "stage",
                        "customer",
                        opp_at + rnd.randint(7 * _DAY, 45 * _DAY),
                        "AUTOMATION_PLATFORM",
                    )
        else:
            self.recycle(rep, at + rnd.randint(_HOUR, 3 * _DAY), cycle, sql_chance)

    def recycle(self, rep: Rep, at: int, cycle: int, sql_chance: float) -> None:
        rnd = self.gen.rnd
        reason = "UNQUALIFIED" if rnd.random() < 0.55 else "BAD_TIMING"
        if not self.set("status", reason, at, "CRM_UI", rep.key):
            return
        self.set("stage", "lead", at + rnd.randint(200, 5000), "CRM_UI", rep.key)
        if reason == "BAD_TIMING" and cycle == 1 and rnd.random() < 0.35:
            again = at + rnd.randint(15 * _DAY, 60 * _DAY)
            self.handoff(again, sql_chance, cycle=2)

    # ----------------------------------------------------------------- the record
    def build(
        self,
        *,
        email: str,
        first: str,
        last: str,
        company: str,
        industry: str,
        source: str,
        archived_ms: int | None,
    ) -> Lead:
        self.events.sort(key=lambda e: e[0])
        history: list[HistoryEntry] = []
        stage = "lead"
        status: str | None = None
        owner: int | None = None
        converted: datetime | None = None
        prev_at = -1
        prev_dt = _EPOCH
        for at, fld, value, source_type, by in self.events:
            at_dt = prev_dt if at == prev_at else _dt(at)
            prev_at, prev_dt = at, at_dt
            history.append(HistoryEntry(fld, value, at_dt, source_type, by))  # type: ignore[arg-type]
            if fld == "stage":
                stage = value or stage
                if value == "salesqualifiedlead" and converted is None:
                    converted = at_dt
            elif fld == "status":
                status = value
            else:
                owner = int(value) if value is not None else None
        updated = max(self.last_ms, self.activity_last_ms)
        if archived_ms is not None:
            archived_ms = max(archived_ms, updated)
            if archived_ms >= self.gen.end_ms:
                archived_ms = None
        if archived_ms is not None:
            updated = archived_ms
        return Lead(
            key=self.key,
            email=email,
            first_name=first,
            last_name=last,
            company=company,
            industry=industry,
            lead_source=source,
            created_at=history[0].at if history else _dt(self.created_ms),
            updated_at=_dt(updated),
            stage=stage,
            status=status,
            owner_key=owner,
            archived=archived_ms is not None,
            archived_at=_dt(archived_ms) if archived_ms is not None else None,
            converted_at=converted,
            history=history,
        )


def freshness(minutes: float, first_touch_minutes: float) -> float:
    """How much likelier a call connects ``minutes`` after the handoff, given the first
    touch came ``first_touch_minutes`` after it (both business time: a lead who wrote in at
    night is at their desk, and as warm, when the office opens).

    A lead who just filled in a form remembers why: 3× at once, about 2.2× after 5
    minutes, 1.4× after 15; and one left waiting goes cold for good (every call connects
    about 0.7× as often after a 4-hour wait, 0.55× after two business days). This
    is what makes the demo's speed → outcome table show speed mattering, as the published
    studies claim.
    """
    cooled = 0.55 + 0.45 * math.exp(-first_touch_minutes / 240.0)
    return cooled * (1.0 + 2.0 * math.exp(-minutes / 10.0))


def _rnd_between(rnd: random.Random, lo: int, hi: int) -> int:
    """A uniform integer in [lo, hi), or lo when the range is empty."""
    return lo if hi <= lo + 1 else rnd.randrange(lo, hi)


def iter_handoffs(lead: Lead) -> Iterable[datetime]:
    """Instants at which ``lead`` entered marketingqualifiedlead (a convenience for tests)."""
    return (
        h.at for h in lead.history if h.field == "stage" and h.value == "marketingqualifiedlead"
    )
