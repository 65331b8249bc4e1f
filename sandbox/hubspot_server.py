"""A fake HubSpot API on 127.0.0.1, serving a generated :class:`~.generator.CRM` over real HTTP.

It imitates HubSpot *as documented* (CRM API v3, associations v4, owners), so that the
real ``hubspot-api-client`` and our connector talk to it exactly as to api.hubapi.com:

* ``GET  /crm/v3/owners/`` and ``/crm/v3/owners/{ownerId}``
* ``GET  /crm/v3/objects/{type}`` and ``/crm/v3/objects/{type}/{objectId}`` for contacts,
  calls, emails, meetings, tasks, notes, communications (WhatsApp, SMS and LinkedIn
  messages) and leads (the Leads object, 0-136: ``hs_pipeline_stage`` with its history,
  associated with contacts; ``leads_object=False`` makes a portal without it, answering
  403 MISSING_SCOPES as HubSpot does for an object the token cannot read)
* ``POST /crm/v3/objects/{type}/search`` and ``/crm/v3/objects/{type}/batch/read``
* ``POST /crm/v4/associations/{fromType}/{toType}/batch/read``
* ``GET  /crm/v3/properties/contacts/{lifecyclestage|hs_lead_status}``,
  ``GET /calling/v1/dispositions``, ``GET /account-info/v3/details``

Ids are stable numeric strings, one space per object type as in HubSpot (engagements share
one space, as HubSpot's calls, emails, meetings, tasks and notes do):

=============  ==============================  ====================
object         id                              helper
=============  ==============================  ====================
owner          ``200000 + rep.key``            :func:`owner_id`
user (userId)  ``900000 + rep.key`` (an int)   :func:`user_id`
team           ``7000 + n``                    —
contact        ``100000 + lead.key``           :func:`contact_id`
engagement     ``40000000000 + activity.key``  :func:`engagement_id`
lead (0-136)   ``80000000000 + lead object``   :func:`lead_object_id`
=============  ==============================  ====================

Behaviour worth knowing, each as HubSpot documents it (their developer documentation):

* List pages: ``limit`` defaults to 10 and is capped at 100 (50 with
  ``propertiesWithHistory``) — pass ``strict_limits=True`` to get a 400 instead; the
  ``after`` cursor is opaque (here: the next id); the last page has no ``paging.next``;
  ``archived=true`` lists only archived records, with ``archivedAt``.
* Only requested properties come back, plus ``createdate``/``lastmodifieddate`` (contacts)
  or ``hs_createdate``/``hs_lastmodifieddate`` (engagements) and ``hs_object_id``; a known
  property without a value is ``null``, an unknown one is left out. Property history is
  newest first. Instants are ISO-8601 UTC with milliseconds.
* Search: filters AND within a group, groups OR, one sort (ties by id), ``limit`` ≤ 200,
  ``after`` an offset; paging at or past ``search_result_cap`` (10,000) is a 400; never
  archived records, no history, no associations, no rate-limit headers; ``search_per_second``
  searches a second (else 429 SECONDLY); ``search_lag_s`` hides records modified in the
  last N seconds of sandbox time, as HubSpot's index lags writes. Searches count against
  the daily allowance but not the ten-second one.
* Every other authorised answer carries ``X-HubSpot-RateLimit-*`` headers; past
  ``ten_second_budget`` requests in a rolling 10 s window → 429 TEN_SECONDLY_ROLLING; past
  ``daily_budget`` → 429 DAILY. Refused requests do not spend budget. No ``Retry-After``
  unless ``retry_after_on_429``.
* Associations: at most 100 embedded per target type in an object read, then ``paging``;
  the v4 batch read takes ≤ 1,000 inputs and pages each result (``association_page_size``,
  500 unless told) with ``{"id", "after"}`` inputs — see :mod:`sandbox.hubspot_associations`.
* Faults (:meth:`HubSpotSandbox.inject`) fire before authentication and rate limiting.
* Bearer tokens accepted: ``token`` (a private-app token), ``service_key`` (a service key,
  sent the same way) and, with ``oauth``, the access tokens its ``POST /oauth/v1/token``
  issues until they expire (:mod:`sandbox.hubspot_oauth`); ``bearer_kinds`` counts which.

Changes made through the CRM's helpers show at once (``CRM.version`` invalidates the
indexes); ``lastmodifieddate``/``hs_lastmodifieddate`` come from ``updated_at``.
"""

from __future__ import annotations

import bisect
import json
import math
import operator
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, Final, Literal
from urllib.parse import parse_qs, urlsplit

import numpy as np

from sandbox import custom_properties, hubspot_properties
from sandbox.generator import (
    CRM,
    DISPOSITION_LABELS,
    LEAD_STATUSES,
    LIFECYCLE_STAGES,
    Activity,
    Lead,
    LeadObject,
    Rep,
)
from sandbox.http_sandbox import REDIRECT_FAULTS, Fault, HttpSandbox, redirect_location
from sandbox.hubspot_associations import V4_PAGE_DEFAULT, embedded_block, v4_result
from sandbox.hubspot_oauth import TOKEN_PATHS, OAuthApp, TokenIssuer, expired_body, v1_error

CONTACT_ID_BASE: Final = 100_000
OWNER_ID_BASE: Final = 200_000
USER_ID_BASE: Final = 900_000
ENGAGEMENT_ID_BASE: Final = 40_000_000_000
LEAD_OBJECT_ID_BASE: Final = 80_000_000_000
TEAM_ID_BASE: Final = 7000


def contact_id(lead_key: int) -> str:
    """HubSpot contact id of a lead."""
    return str(CONTACT_ID_BASE + lead_key)


def owner_id(rep_key: int) -> str:
    """HubSpot owner id (``hubspot_owner_id``) of a rep."""
    return str(OWNER_ID_BASE + rep_key)


def user_id(rep_key: int) -> int:
    """HubSpot user id of a rep (an int, as the owners API returns it)."""
    return USER_ID_BASE + rep_key


def engagement_id(activity: Activity | int) -> str:
    """HubSpot engagement id (call, email, meeting, task or note) of an activity or its key."""
    key = activity if isinstance(activity, int) else activity.key
    return str(ENGAGEMENT_ID_BASE + key)


def lead_object_id(key: int) -> str:
    """HubSpot id of a Leads-object record (0-136)."""
    return str(LEAD_OBJECT_ID_BASE + key)


def _id_base(otype: str) -> int:
    if otype == "contacts":
        return CONTACT_ID_BASE
    return LEAD_OBJECT_ID_BASE if otype == LEADS else ENGAGEMENT_ID_BASE


def lead_key_of(contact: str | int) -> int:
    """The lead key behind a contact id (inverse of :func:`contact_id`)."""
    return int(contact) - CONTACT_ID_BASE


def activity_key_of(engagement: str | int) -> int:
    """The activity key behind an engagement id (inverse of :func:`engagement_id`)."""
    return int(engagement) - ENGAGEMENT_ID_BASE


# --------------------------------------------------------------------------- object types

ObjectType = Literal[
    "contacts", "calls", "emails", "meetings", "tasks", "notes", "communications", "leads"
]
ENGAGEMENT_TYPES: Final[dict[str, str]] = {
    "calls": "call",
    "emails": "email",
    "meetings": "meeting",
    "tasks": "task",
    "notes": "note",
    "communications": "communication",
}
LEADS: Final = "leads"
"""HubSpot's Leads object (0-136): not an engagement, records of :class:`LeadObject`."""
_TYPE_ALIASES: Final[dict[str, str]] = {
    "contacts": "contacts",
    "contact": "contacts",
    "0-1": "contacts",
    "calls": "calls",
    "call": "calls",
    "0-48": "calls",
    "emails": "emails",
    "email": "emails",
    "0-49": "emails",
    "meetings": "meetings",
    "meeting": "meetings",
    "meeting_event": "meetings",
    "0-47": "meetings",
    "tasks": "tasks",
    "task": "tasks",
    "0-27": "tasks",
    "notes": "notes",
    "note": "notes",
    "0-46": "notes",
    "communications": "communications",
    "communication": "communications",
    "0-18": "communications",
    "leads": "leads",
    "lead": "leads",
    "0-136": "leads",
}
_SINGULAR: Final[dict[str, str]] = {
    "contacts": "contact",
    "calls": "call",
    "emails": "email",
    "meetings": "meeting",
    "tasks": "task",
    "notes": "note",
    "communications": "communication",
    "leads": "lead",
}
#: HubSpot-defined association type ids between engagements and contacts.
ASSOCIATION_TYPE_IDS: Final[dict[tuple[str, str], int]] = {
    ("contacts", "calls"): 193,
    ("calls", "contacts"): 194,
    ("contacts", "emails"): 197,
    ("emails", "contacts"): 198,
    ("contacts", "meetings"): 199,
    ("meetings", "contacts"): 200,
    ("contacts", "notes"): 201,
    ("notes", "contacts"): 202,
    ("contacts", "tasks"): 203,
    ("tasks", "contacts"): 204,
    # Unverified: from HubSpot's association type list as we recall it.
    ("communications", "contacts"): 81,
    ("contacts", "communications"): 82,
    # Unverified: a lead's primary contact is 578 in HubSpot's examples; its inverse a guess.
    ("leads", "contacts"): 578,
    ("contacts", "leads"): 579,
}

_FIELD_OF: Final = {
    "lifecyclestage": "stage",
    "hs_lead_status": "status",
    "hubspot_owner_id": "owner",
}
CONTACT_PROPERTIES: Final = (
    "email",
    "firstname",
    "lastname",
    "company",
    "industry",
    "hs_analytics_source",
    "lifecyclestage",
    "hs_lead_status",
    "hubspot_owner_id",
    "hubspot_owner_assigneddate",
    "createdate",
    "lastmodifieddate",
    "hs_object_id",
    "hs_merged_object_ids",
    *(f"hs_lifecyclestage_{stage}_date" for stage in LIFECYCLE_STAGES[:6]),
    *custom_properties.BY_HUBSPOT,
)
_ENGAGEMENT_COMMON: Final = (
    "hs_timestamp",
    "hubspot_owner_id",
    "hs_createdate",
    "hs_lastmodifieddate",
    "hs_object_id",
)
ENGAGEMENT_PROPERTIES: Final[dict[str, tuple[str, ...]]] = {
    "calls": (
        *_ENGAGEMENT_COMMON,
        "hs_call_direction",
        "hs_call_status",
        "hs_call_disposition",
        "hs_call_duration",
        "hs_call_title",
        "hs_call_body",
    ),
    "emails": (*_ENGAGEMENT_COMMON, "hs_email_direction", "hs_email_status", "hs_email_subject"),
    "meetings": (
        *_ENGAGEMENT_COMMON,
        "hs_meeting_title",
        "hs_meeting_start_time",
        "hs_meeting_end_time",
        "hs_meeting_outcome",
    ),
    "tasks": (
        *_ENGAGEMENT_COMMON,
        "hs_task_subject",
        "hs_task_status",
        "hs_task_type",
        "hs_task_completion_date",
    ),
    "notes": (*_ENGAGEMENT_COMMON, "hs_note_body"),
    "communications": (
        *_ENGAGEMENT_COMMON,
        "hs_communication_channel_type",
        "hs_communication_logged_from",
        "hs_communication_body",
    ),
}
LEAD_OBJECT_PROPERTIES: Final = (
    "hs_pipeline",
    "hs_pipeline_stage",
    "hs_lead_name",
    "hubspot_owner_id",
    "hs_createdate",
    "hs_lastmodifieddate",
    "hs_object_id",
)
_DATE_PROPERTIES: Final = frozenset(
    {
        "createdate",
        "lastmodifieddate",
        "hs_createdate",
        "hs_lastmodifieddate",
        "hs_timestamp",
        "hs_meeting_start_time",
        "hs_meeting_end_time",
        "hs_task_completion_date",
        "hubspot_owner_assigneddate",
        *(f"hs_lifecyclestage_{stage}_date" for stage in LIFECYCLE_STAGES[:6]),
    }
)
_NUMBER_PROPERTIES: Final = frozenset({"hs_object_id", "hs_call_duration"})
#: The labels a new portal shows for its default options (value → label), as HubSpot's
#: knowledge base lists them: internal values and labels differ, as users meet them.
OPTION_LABELS: Final[dict[str, dict[str, str]]] = {
    "lifecyclestage": {
        "subscriber": "Subscriber",
        "lead": "Lead",
        "marketingqualifiedlead": "Marketing Qualified Lead",
        "salesqualifiedlead": "Sales Qualified Lead",
        "opportunity": "Opportunity",
        "customer": "Customer",
        "evangelist": "Evangelist",
        "other": "Other",
    },
    "hs_lead_status": {
        "NEW": "New",
        "OPEN": "Open",
        "IN_PROGRESS": "In Progress",
        "OPEN_DEAL": "Open Deal",
        "UNQUALIFIED": "Unqualified",
        "ATTEMPTED_TO_CONTACT": "Attempted to Contact",
        "CONNECTED": "Connected",
        "BAD_TIMING": "Bad Timing",
    },
}
#: Date properties read straight from a record attribute (fast search columns).
_DATE_ATTRIBUTES: Final = {
    "createdate": "created_at",
    "lastmodifieddate": "updated_at",
    "hs_createdate": "created_at",
    "hs_lastmodifieddate": "updated_at",
    "hs_timestamp": "occurred_at",
    "hs_meeting_start_time": "occurred_at",
}
_SEARCH_OPERATORS: Final = frozenset(
    {
        "EQ",
        "NEQ",
        "LT",
        "LTE",
        "GT",
        "GTE",
        "BETWEEN",
        "IN",
        "NOT_IN",
        "HAS_PROPERTY",
        "NOT_HAS_PROPERTY",
        "CONTAINS_TOKEN",
        "NOT_CONTAINS_TOKEN",
    }
)
#: The search operators that compare a property with one value, for numbers and text alike.
_COMPARISONS: Final[dict[str, Callable[[Any, Any], Any]]] = {
    "EQ": operator.eq,
    "NEQ": operator.ne,
    "LT": operator.lt,
    "LTE": operator.le,
    "GT": operator.gt,
    "GTE": operator.ge,
}
_HISTORY_BATCH_MESSAGE: Final = (
    "The maximum number of inputs supported in a batch request for property histories is 50"
)
_AUTH_MESSAGE: Final = (
    "Authentication credentials not found. This API supports OAuth 2.0 authentication and "
    "you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
)


def iso(at: datetime | None) -> str | None:
    """HubSpot's instant format: ``2026-10-01T12:00:00.000Z``."""
    if at is None:
        return None
    at = at.astimezone(UTC)
    return f"{at:%Y-%m-%dT%H:%M:%S}.{at.microsecond // 1000:03d}Z"


def _epoch_ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def _parse_instant(value: Any) -> float | None:
    """A filter value for a date property: epoch ms (number or string), ISO instant or date."""
    if value is None:
        return None
    text = str(value).strip()
    try:
        return float(text)
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp() * 1000


class ApiError(Exception):
    """An answer other than 2xx, with HubSpot's error body."""

    def __init__(self, status: int, message: str, category: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {
            "status": "error",
            "message": message,
            "correlationId": str(uuid.uuid4()),
            "category": category,
            **extra,
        }


def _validation(message: str) -> ApiError:
    return ApiError(400, message, "VALIDATION_ERROR")


# --------------------------------------------------------------------------- serialization


class _Serializer:
    """Turns CRM records into HubSpot JSON objects (properties as strings or null)."""

    def __init__(self, crm: CRM) -> None:
        self.crm = crm
        self.tampered: dict[tuple[str, int, str], str] = {}

    # ----------------------------------------------------------------- contacts
    def contact_value(self, lead: Lead, name: str) -> str | None:
        if name == "email":
            return lead.email
        if name == "firstname":
            return lead.first_name
        if name == "lastname":
            return lead.last_name
        if name == "company":
            return lead.company
        if name == "industry":
            return lead.industry
        if name == "hs_analytics_source":
            return lead.lead_source
        if name == "lifecyclestage":
            return lead.stage
        if name == "hs_lead_status":
            return lead.status
        if name == "hubspot_owner_id":
            return owner_id(lead.owner_key) if lead.owner_key is not None else None
        if name == "hubspot_owner_assigneddate":
            owners = [h.at for h in lead.history if h.field == "owner" and h.value is not None]
            return iso(owners[-1]) if owners else None
        if name == "createdate":
            return iso(lead.created_at)
        if name == "lastmodifieddate":
            return iso(lead.updated_at)
        if name == "hs_object_id":
            return contact_id(lead.key)
        if name == "hs_merged_object_ids":
            return ";".join(contact_id(k) for k in lead.merged_keys) or None
        if name in custom_properties.BY_HUBSPOT:
            return custom_properties.current(lead, custom_properties.BY_HUBSPOT[name])
        if name.startswith("hs_lifecyclestage_") and name.endswith("_date"):
            stage = name[len("hs_lifecyclestage_") : -len("_date")]
            for entry in lead.history:
                if entry.field == "stage" and entry.value == stage:
                    return iso(entry.at)
            return None
        return None

    def contact_history(self, lead: Lead, name: str) -> list[dict[str, Any]]:
        fld = _FIELD_OF.get(name)
        custom = custom_properties.BY_HUBSPOT.get(name)
        if custom is not None:
            return [
                {"value": value or "", "timestamp": iso(at), "sourceType": "CRM_UI"}
                for at, value in reversed(custom_properties.history(lead, custom))
            ]
        if fld is None:
            value = self.contact_value(lead, name)
            if value is None:
                return []
            return [{"value": value, "timestamp": iso(lead.created_at), "sourceType": "CRM_UI"}]
        out: list[dict[str, Any]] = []
        for entry in reversed(lead.history):
            if entry.field != fld:
                continue
            value = entry.value
            if fld == "owner" and value is not None:
                value = owner_id(int(value))
            item: dict[str, Any] = {
                "value": value if value is not None else "",
                "timestamp": iso(entry.at),
                "sourceType": entry.source_type,
            }
            if entry.source_type == "CRM_UI" and entry.by_rep_key is not None:
                item["sourceId"] = f"userId:{user_id(entry.by_rep_key)}"
                item["updatedByUserId"] = user_id(entry.by_rep_key)
            elif entry.source_type == "AUTOMATION_PLATFORM":
                item["sourceId"] = "enrollmentId:1771234567"
            out.append(item)
        return out

    # ----------------------------------------------------------------- engagements
    def engagement_value(self, act: Activity, name: str) -> str | None:
        if name == "hs_timestamp":
            return iso(act.occurred_at)
        if name == "hubspot_owner_id":
            return owner_id(act.owner_key) if act.owner_key is not None else None
        if name == "hs_createdate":
            return iso(act.created_at)
        if name == "hs_lastmodifieddate":
            return iso(act.updated_at)
        if name == "hs_object_id":
            return engagement_id(act)
        kind = act.kind
        if kind == "call":
            if name == "hs_call_direction":
                return act.direction
            if name == "hs_call_status":
                return act.status
            if name == "hs_call_disposition":
                return act.disposition
            if name == "hs_call_duration":
                return str(act.duration_ms) if act.duration_ms is not None else None
            if name == "hs_call_title":
                return act.title or None
        elif kind == "email":
            if name == "hs_email_direction":
                return act.direction
            if name == "hs_email_status":
                return act.status
            if name == "hs_email_subject":
                return act.title or None
        elif kind == "meeting":
            if name == "hs_meeting_title":
                return act.title or None
            if name == "hs_meeting_start_time":
                return iso(act.occurred_at)
            if name == "hs_meeting_end_time":
                return iso(act.end_at)
            if name == "hs_meeting_outcome":
                return act.status
        elif kind == "task":
            if name == "hs_task_subject":
                return act.title or None
            if name == "hs_task_status":
                return act.status
            if name == "hs_task_type":
                return "CALL" if "call" in act.title.lower() else "TODO"
            if name == "hs_task_completion_date":
                return iso(act.updated_at) if act.status == "COMPLETED" else None
        elif kind == "note" and name == "hs_note_body":
            return act.title or None
        elif kind == "communication":
            return _communication_value(act, name)
        return None

    def engagement_history(self, act: Activity, name: str) -> list[dict[str, Any]]:
        value = self.engagement_value(act, name)
        if value is None:
            return []
        return [{"value": value, "timestamp": iso(act.updated_at), "sourceType": "CRM_UI"}]

    # ----------------------------------------------------------------- generic
    def value(self, otype: str, record: Lead | Activity, name: str) -> str | None:
        if (otype, record.key, name) in self.tampered:
            return self.tampered[(otype, record.key, name)]
        if otype == LEADS:
            return _lead_object_value(record, name)  # type: ignore[arg-type]
        if otype == "contacts":
            return self.contact_value(record, name)  # type: ignore[arg-type]
        return self.engagement_value(record, name)  # type: ignore[arg-type]

    def known(self, otype: str) -> tuple[str, ...]:
        if otype == LEADS:
            return LEAD_OBJECT_PROPERTIES
        return CONTACT_PROPERTIES if otype == "contacts" else ENGAGEMENT_PROPERTIES[otype]

    def default_properties(self, otype: str) -> tuple[str, ...]:
        """What HubSpot returns when no ``properties`` are asked (list, read and search)."""
        if otype == "contacts":
            return (
                "createdate",
                "email",
                "firstname",
                "hs_object_id",
                "lastmodifieddate",
                "lastname",
            )
        return ("hs_createdate", "hs_lastmodifieddate", "hs_object_id")

    def always(self, otype: str) -> tuple[str, ...]:
        if otype == "contacts":
            return ("createdate", "hs_object_id", "lastmodifieddate")
        return ("hs_createdate", "hs_lastmodifieddate", "hs_object_id")

    def record_id(self, otype: str, record: Lead | Activity | LeadObject) -> str:
        return str(_id_base(otype) + record.key)

    def to_json(
        self,
        otype: str,
        record: Lead | Activity,
        properties: list[str] | None,
        history: list[str] | None = None,
    ) -> dict[str, Any]:
        known = self.known(otype)
        if properties:
            names = [p for p in dict.fromkeys([*properties, *self.always(otype)]) if p in known]
        else:
            names = list(self.default_properties(otype))
        props = {name: self.value(otype, record, name) for name in sorted(names)}
        out: dict[str, Any] = {
            "id": self.record_id(otype, record),
            "properties": props,
        }
        if history:
            with_history: dict[str, list[dict[str, Any]]] = {}
            for name in dict.fromkeys(history):
                if name not in known:
                    continue
                if otype == "contacts":
                    with_history[name] = self.contact_history(record, name)  # type: ignore[arg-type]
                elif otype == LEADS:
                    with_history[name] = _lead_object_history(record, name)  # type: ignore[arg-type]
                else:
                    with_history[name] = self.engagement_history(record, name)  # type: ignore[arg-type]
            out["propertiesWithHistory"] = with_history
        out["createdAt"] = iso(record.created_at)
        out["updatedAt"] = iso(record.updated_at)
        out["archived"] = record.archived
        if record.archived:
            out["archivedAt"] = iso(record.archived_at or record.updated_at)
        return out

    def owner_json(self, rep: Rep, teams: dict[str, int]) -> dict[str, Any]:
        archived = not rep.active
        return {
            "id": owner_id(rep.key),
            "email": rep.email,
            "type": "PERSON",
            "firstName": rep.first_name,
            "lastName": rep.last_name,
            "userId": None if archived else user_id(rep.key),
            "userIdIncludingInactive": user_id(rep.key),
            "createdAt": iso(rep.created_at),
            "updatedAt": iso(rep.updated_at),
            "archived": archived,
            "teams": [{"id": str(teams[rep.team]), "name": rep.team, "primary": True}],
        }


# --------------------------------------------------------------------------- indexes


@dataclass
class _Index:
    """Id-ordered views of the CRM, rebuilt when ``CRM.version`` moves."""

    version: int
    live: dict[str, list[int]]
    archived: dict[str, list[int]]
    contact_activities: dict[int, dict[str, list[int]]]
    lead_by_email: dict[str, int]
    columns: dict[tuple[str, str], np.ndarray | list[Any]] = field(default_factory=dict)
    updated_ms: dict[str, np.ndarray] = field(default_factory=dict)

    @classmethod
    def build(cls, crm: CRM) -> _Index:
        live: dict[str, list[int]] = {t: [] for t in ("contacts", *ENGAGEMENT_TYPES, LEADS)}
        archived: dict[str, list[int]] = {t: [] for t in live}
        lead_by_email: dict[str, int] = {}
        for lead in crm.leads:
            if lead.merged_into is not None:
                continue  # merged away: HubSpot lists it neither as live nor as archived
            (archived if lead.archived else live)["contacts"].append(lead.key)
            if not lead.archived:
                lead_by_email[lead.email.lower()] = lead.key
        kind_to_type = {kind: otype for otype, kind in ENGAGEMENT_TYPES.items()}
        contact_activities: dict[int, dict[str, list[int]]] = {}
        for act in crm.activities:
            otype = kind_to_type[act.kind]
            (archived if act.archived else live)[otype].append(act.key)
            if act.archived:
                continue
            for lead_key in act.lead_keys:
                contact_activities.setdefault(lead_key, {}).setdefault(otype, []).append(act.key)
        for obj in crm.lead_objects:
            (archived if obj.archived else live)[LEADS].append(obj.key)
        for keys in (*live.values(), *archived.values()):
            keys.sort()
        return cls(crm.version, live, archived, contact_activities, lead_by_email)


# --------------------------------------------------------------------------- rate limits


class _RollingWindow:
    """At most ``limit`` events in any ``seconds``-long window (monotonic clock)."""

    def __init__(self, limit: int | None, seconds: float) -> None:
        self.limit = limit
        self.seconds = seconds
        self.events: deque[float] = deque()

    def _trim(self, now: float) -> None:
        while self.events and self.events[0] <= now - self.seconds:
            self.events.popleft()

    def acquire(self, now: float) -> bool:
        if self.limit is None:
            return True
        self._trim(now)
        if len(self.events) >= self.limit:
            return False
        self.events.append(now)
        return True

    def remaining(self, now: float) -> int:
        if self.limit is None:
            return 0
        self._trim(now)
        return max(0, self.limit - len(self.events))

    def retry_after(self, now: float) -> int:
        if not self.events:
            return 1
        return max(1, math.ceil(self.events[0] + self.seconds - now))


@dataclass
class _Answer:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    rate_headers: bool = True
    content_type: ClassVar[str] = "application/json;charset=utf-8"

    def content_type_for(self, status: int) -> str | None:
        return self.content_type

    def payload(self) -> bytes:
        return json.dumps(self.body, separators=(",", ":")).encode()


FaultKind = Literal[
    "status", "reset", "slow", "malformed", "unauthorized", "redirect", "redirect_away"
]


# --------------------------------------------------------------------------- the sandbox


class HubSpotSandbox(HttpSandbox[FaultKind]):
    """A HubSpot imitation serving ``crm`` on 127.0.0.1 in its own thread.

    Use it as a context manager; ``base_url`` goes to ``HubSpot(host=...)``.
    ``requests`` counts every request received, keyed ``"METHOD /path/template"``.

    Faults (:meth:`inject`): ``status``: answer ``status`` with HubSpot's error body;
    ``reset``: close the connection without answering; ``slow``: wait ``delay_s`` then
    answer normally; ``malformed``: 200 with a truncated JSON body; ``unauthorized``: 401;
    ``redirect`` / ``redirect_away``: 307 to the same URL, on this host or on another.
    """

    server_version = "HubSpotSandbox/1.0"
    leads_object: bool = True
    """Whether the portal has the Leads object (Sales Hub Professional and up) and the token
    its scope; set False for one without: every leads call answers 403 MISSING_SCOPES."""
    fault_kinds = frozenset(FaultKind.__args__)  # type: ignore[attr-defined]

    def __init__(
        self,
        crm: CRM,
        token: str = "sandbox-token",
        *,
        ten_second_budget: int | None = 190,
        daily_budget: int = 650_000,
        search_per_second: int | None = 5,
        search_lag_s: float = 0.0,
        search_result_cap: int = 10_000,
        retry_after_on_429: bool = False,
        strict_limits: bool = False,
        clock: Callable[[], datetime] | None = None,
        port: int = 0,
        portal_id: int = 4_242_424,
        service_key: str | None = None,
        oauth: OAuthApp | None = None,
        association_page_size: int = V4_PAGE_DEFAULT,
    ) -> None:
        super().__init__(token, port)
        self.crm = crm
        self.association_page_size = association_page_size
        self.portal_id = portal_id
        self.service_key = service_key
        self.bearer_kinds: Counter[str] = Counter()
        """Accepted requests by credential: ``private-app``, ``service-key``, ``oauth``."""
        self.ten_second_budget = ten_second_budget
        self.daily_budget = daily_budget
        self.search_per_second = search_per_second
        self.search_lag_s = search_lag_s
        self.search_result_cap = search_result_cap
        self.retry_after_on_429 = retry_after_on_429
        self.strict_limits = strict_limits
        self.clock = clock or (lambda: datetime.now(UTC))
        self.oauth = TokenIssuer(oauth, self.clock, portal_id) if oauth is not None else None
        self.count_429 = 0
        self._burst = _RollingWindow(ten_second_budget, 10.0)
        self._search = _RollingWindow(search_per_second, 1.0)
        self._daily_used = 0
        self._daily_day = self.clock().date()
        self._index: _Index | None = None
        self._index_lock = threading.Lock()
        self._serializer = _Serializer(crm)
        self._teams = {
            team: TEAM_ID_BASE + n for n, team in enumerate(dict.fromkeys(r.team for r in crm.reps))
        }

    @property
    def base_url(self) -> str:
        return self._origin()

    # ----------------------------------------------------------------- knobs
    def _clear_counters(self) -> None:
        """Also the 429s (not the rate windows)."""
        super()._clear_counters()
        self.count_429 = 0
        self.bearer_kinds.clear()

    def reset_rate_limits(self) -> None:
        """Give back the whole ten-second, secondly and daily allowance."""
        with self._lock:
            self._burst.events.clear()
            self._search.events.clear()
            self._daily_used = 0

    def tamper(self, object_type: str, object_id: str, name: str, value: str) -> None:
        """Serve ``value`` as property ``name`` of one record, verbatim (fault injection).

        For data HubSpot itself would not produce but an integration writing through it,
        or a proxy, might: a date-time without a time zone, a date in 2099. The raw text
        reaches the client as given; nothing else about the record changes.
        """
        otype = _TYPE_ALIASES[object_type.lower()]
        key = lead_key_of(object_id) if otype == "contacts" else activity_key_of(object_id)
        with self._lock:
            self._serializer.tampered[(otype, key, name)] = value
            self._index = None

    # ----------------------------------------------------------------- request pipeline
    def _record_status(self, status: int) -> None:
        with self._lock:
            self.statuses[status] += 1
            if status == 429:
                self.count_429 += 1

    def _rate_headers(self, now: float) -> dict[str, str]:
        headers: dict[str, str] = {}
        if self.ten_second_budget is not None:
            headers["X-HubSpot-RateLimit-Max"] = str(self.ten_second_budget)
            headers["X-HubSpot-RateLimit-Remaining"] = str(self._burst.remaining(now))
            headers["X-HubSpot-RateLimit-Interval-Milliseconds"] = "10000"
        headers["X-HubSpot-RateLimit-Daily"] = str(self.daily_budget)
        headers["X-HubSpot-RateLimit-Daily-Remaining"] = str(
            max(0, self.daily_budget - self._daily_used)
        )
        return headers

    def _admit(self, is_search: bool) -> _Answer | None:
        """Spend budget for one request, or the 429 HubSpot would answer instead."""
        now = time.monotonic()
        with self._lock:
            today = self.clock().date()
            if today != self._daily_day:
                self._daily_day, self._daily_used = today, 0
            if self._daily_used >= self.daily_budget:
                answer = _rate_limited("daily", "DAILY")
                answer.headers.update(self._rate_headers(now))
                return answer
            if is_search:
                if not self._search.acquire(now):
                    answer = _rate_limited("secondly", "SECONDLY")
                    answer.rate_headers = False
                    if self.retry_after_on_429:
                        answer.headers["Retry-After"] = "1"
                    return answer
            elif not self._burst.acquire(now):
                answer = _rate_limited("ten_secondly_rolling", "TEN_SECONDLY_ROLLING")
                answer.headers.update(self._rate_headers(now))
                if self.retry_after_on_429:
                    answer.headers["Retry-After"] = str(self._burst.retry_after(now))
                return answer
            self._daily_used += 1
        return None

    def handle(
        self, method: str, raw_path: str, headers: dict[str, str], body: bytes
    ) -> tuple[str, _Answer | None, Fault | None]:
        """Answer one request: (counter key, answer or None for "no answer", fault fired)."""
        parts = urlsplit(raw_path)
        path = parts.path
        query = parse_qs(parts.query, keep_blank_values=True)
        key, route = self._route(method, path)
        self._count(key)
        fault = self._take_fault(method, raw_path)
        if fault is not None:
            if fault.kind == "reset":
                return key, None, fault
            if fault.kind == "slow":
                time.sleep(fault.delay_s)
            elif fault.kind in REDIRECT_FAULTS:
                location = redirect_location(fault.kind, raw_path)
                return key, _Answer(307, {}, {"Location": location}, rate_headers=False), fault
            elif fault.kind == "unauthorized":
                return (
                    key,
                    _error_answer(ApiError(401, _AUTH_MESSAGE, "INVALID_AUTHENTICATION")),
                    fault,
                )
            elif fault.kind == "status":
                if fault.status == 429:
                    return key, _rate_limited("ten_secondly_rolling", "TEN_SECONDLY_ROLLING"), fault
                error = ApiError(
                    fault.status,
                    "internal error"
                    if fault.status >= 500
                    else "There was a problem with the request.",
                    "INTERNAL_ERROR" if fault.status >= 500 else "VALIDATION_ERROR",
                )
                return key, _error_answer(error), fault
        if method == "POST" and path in TOKEN_PATHS:
            return key, self._token_endpoint(headers, body), fault
        refused = self._bearer_refusal(headers.get("authorization", ""))
        if refused is not None:
            return key, refused, fault
        is_search = path.endswith("/search") and method == "POST"
        refused = self._admit(is_search)
        if refused is not None:
            return key, refused, fault
        try:
            if route is None:
                raise ApiError(404, f"Unable to route {method} {path}", "OBJECT_NOT_FOUND")
            payload: Any = None
            if method in ("POST", "PUT", "PATCH"):
                try:
                    payload = json.loads(body or b"null")
                except ValueError as exc:
                    raise _validation(f"Invalid input JSON: {exc}") from None
            answer = route(query, payload)
        except ApiError as error:
            answer = _error_answer(error)
        if is_search:
            answer.rate_headers = False
        if answer.rate_headers:
            answer.headers.update(self._rate_headers(time.monotonic()))
        return key, answer, fault

    # ----------------------------------------------------------------- credentials
    def _token_endpoint(self, headers: dict[str, str], body: bytes) -> _Answer:
        """``POST /oauth/v1/token``: no bearer token, no rate-limit headers or budget."""
        if self.oauth is None:
            status, payload = 400, v1_error("BAD_CLIENT_ID", "missing or unknown client id")
        else:
            status, payload = self.oauth.exchange(headers.get("content-type", ""), body)
        return _Answer(status, payload, rate_headers=False)

    def _bearer_refusal(self, auth: str) -> _Answer | None:
        """None if ``auth`` is ``Bearer`` + an accepted token (counted), else HubSpot's 401."""
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else ""
        kind = {self.token: "private-app", self.service_key: "service-key"}.get(token)
        if token and kind is None:
            expiry = self.oauth.expiry(token) if self.oauth is not None else None
            now = self.clock()
            if expiry is not None and now >= expiry:
                return _Answer(401, expired_body(expiry, now), rate_headers=False)
            kind = "oauth" if expiry is not None else None
        if not token or kind is None:
            answer = _error_answer(ApiError(401, _AUTH_MESSAGE, "INVALID_AUTHENTICATION"))
            answer.rate_headers = False
            return answer
        with self._lock:
            self.bearer_kinds[kind] += 1
        return None

    # ----------------------------------------------------------------- routing
    def _route(
        self, method: str, path: str
    ) -> tuple[str, Callable[[dict[str, list[str]], Any], _Answer] | None]:
        segments = [s for s in path.split("/") if s]
        n = len(segments)
        if segments[:3] == ["crm", "v3", "owners"]:
            if n == 3 and method == "GET":
                return "GET /crm/v3/owners/", self._owners
            if n == 4 and method == "GET":
                oid = segments[3]
                return "GET /crm/v3/owners/{ownerId}", lambda q, _: self._owner(oid, q)
        if segments[:3] == ["crm", "v3", "objects"] and n >= 4:
            otype = _TYPE_ALIASES.get(segments[3].lower())
            name = otype or segments[3]
            if n == 4 and method == "GET":
                return f"GET /crm/v3/objects/{name}", self._typed(otype, segments[3], self._list)
            if n == 5 and segments[4] == "search" and method == "POST":
                return (
                    f"POST /crm/v3/objects/{name}/search",
                    self._typed(otype, segments[3], self._do_search),
                )
            if n == 6 and segments[4:] == ["batch", "read"] and method == "POST":
                return (
                    f"POST /crm/v3/objects/{name}/batch/read",
                    self._typed(otype, segments[3], self._batch_read),
                )
            if n == 5 and method == "GET":
                oid = segments[4]
                return (
                    f"GET /crm/v3/objects/{name}/{{objectId}}",
                    self._typed(otype, segments[3], lambda t, q, p: self._get_one(t, oid, q)),
                )
        if (
            segments[:3] == ["crm", "v4", "associations"]
            and n == 7
            and segments[5:] == ["batch", "read"]
            and method == "POST"
        ):
            from_raw, to_raw = segments[3], segments[4]
            from_t = _TYPE_ALIASES.get(from_raw.lower()) or from_raw
            to_t = _TYPE_ALIASES.get(to_raw.lower()) or to_raw
            return (
                f"POST /crm/v4/associations/{from_t}/{to_t}/batch/read",
                lambda q, p: self._associations(from_raw, to_raw, p),
            )
        if segments[:4] == ["crm", "v3", "properties", "contacts"] and n == 4 and method == "GET":
            return "GET /crm/v3/properties/contacts", lambda q, _: self._properties()
        if segments[:3] == ["crm", "v3", "properties"] and n == 5 and method == "GET":
            otype = _TYPE_ALIASES.get(segments[3].lower()) or segments[3]
            prop = segments[4]
            return (
                f"GET /crm/v3/properties/{otype}/{{propertyName}}",
                lambda q, _: self._property(otype, prop),
            )
        if segments == ["account-info", "v3", "details"] and method == "GET":
            return "GET /account-info/v3/details", self._account_details
        if segments == ["calling", "v1", "dispositions"] and method == "GET":
            return "GET /calling/v1/dispositions", self._dispositions
        return f"{method} {path}", None

    def _typed(
        self, otype: str | None, raw: str, fn: Callable[[str, dict[str, list[str]], Any], _Answer]
    ) -> Callable[[dict[str, list[str]], Any], _Answer]:
        def route(query: dict[str, list[str]], payload: Any) -> _Answer:
            if otype is None:
                raise ApiError(400, f"Unable to infer object type from: {raw}", "VALIDATION_ERROR")
            self._check_object_access(otype)
            return fn(otype, query, payload)

        return route

    def _check_object_access(self, *otypes: str | None) -> None:
        """A portal without the Leads object refuses it as HubSpot refuses a missing scope."""
        if LEADS in otypes and not self.leads_object:
            raise ApiError(
                403,
                "This app hasn't been granted all required scopes to make this call. Read "
                "more about required scopes here: https://developers.hubspot.com/scopes.",
                "MISSING_SCOPES",
                errors=[
                    {
                        "message": "One or more of the following scopes are required.",
                        "context": {"requiredGranularScopes": ["crm.objects.leads.read"]},
                    }
                ],
            )

    # ----------------------------------------------------------------- helpers
    def index(self) -> _Index:
        """The id-ordered views for the CRM's current version (rebuilt lazily)."""
        with self._index_lock:
            index = self._index
            if index is None or index.version != self.crm.version:
                with self.crm.lock:
                    index = _Index.build(self.crm)
                self._index = index
            return index

    def _record(self, otype: str, key: int) -> Lead | Activity | None:
        crm = self.crm
        if otype == "contacts":
            if not crm.has_lead(key):
                return None
            lead = crm.lead(key)
            while lead.merged_into is not None:  # a merged id reads as the primary
                lead = crm.lead(lead.merged_into)
            return lead
        if otype == LEADS:
            return crm.lead_object(key)  # type: ignore[return-value]
        try:
            act = crm.activity(key)
        except KeyError:
            return None
        return act if act.kind == ENGAGEMENT_TYPES[otype] else None

    def _key_of(self, otype: str, object_id: str) -> int | None:
        try:
            number = int(object_id)
        except (TypeError, ValueError):
            return None
        return number - _id_base(otype)

    def _id_of(self, otype: str, key: int) -> str:
        return str(_id_base(otype) + key)

    # ----------------------------------------------------------------- owners
    def _owners(self, query: dict[str, list[str]], _: Any) -> _Answer:
        limit = _int_param(query, "limit", 100)
        if limit < 1:
            raise _validation("limit must be positive")
        limit = min(limit, 500)
        archived = _bool_param(query, "archived")
        email = (query.get("email") or [""])[0].lower()
        after = _int_param(query, "after", 0)
        with self.crm.lock:
            reps = sorted(
                (r for r in self.crm.reps if (not r.active) == archived), key=lambda r: r.key
            )
            if email:
                reps = [r for r in reps if r.email.lower() == email]
            reps = [r for r in reps if int(owner_id(r.key)) >= after]
            page = reps[:limit]
            body: dict[str, Any] = {
                "results": [self._serializer.owner_json(r, self._teams) for r in page]
            }
            if len(reps) > limit:
                next_id = owner_id(reps[limit].key)
                body["paging"] = {
                    "next": {
                        "after": next_id,
                        "link": f"{self.base_url}/crm/v3/owners/?after={next_id}",
                    }
                }
        return _Answer(200, body)

    def _owner(self, oid: str, query: dict[str, list[str]]) -> _Answer:
        archived = _bool_param(query, "archived")
        id_property = (query.get("idProperty") or ["id"])[0]
        with self.crm.lock:
            for rep in self.crm.reps:
                ident = str(user_id(rep.key)) if id_property == "userId" else owner_id(rep.key)
                if ident == oid and (not rep.active) == archived:
                    return _Answer(200, self._serializer.owner_json(rep, self._teams))
        raise ApiError(404, f"Owner {oid} not found.", "OBJECT_NOT_FOUND")

    # ----------------------------------------------------------------- list and read
    def _list(self, otype: str, query: dict[str, list[str]], _: Any) -> _Answer:
        properties = _list_param(query, "properties")
        history = _list_param(query, "propertiesWithHistory")
        associations = _association_types(query)
        archived = _bool_param(query, "archived")
        limit = _int_param(query, "limit", 10)
        cap = 50 if history else 100
        if limit < 1:
            raise _validation("limit must be at least 1")
        if limit > cap:
            if self.strict_limits:
                raise _validation(f"limit must be less than or equal to {cap}")
            limit = cap
        after = _int_param(query, "after", 0)
        index = self.index()
        keys = (index.archived if archived else index.live)[otype]
        after_key = after - _id_base(otype)
        start = bisect.bisect_left(keys, after_key) if after else 0
        page_keys = keys[start : start + limit]
        results = []
        with self.crm.lock:
            for key in page_keys:
                record = self._record(otype, key)
                if record is None:
                    continue
                item = self._serializer.to_json(otype, record, properties, history)
                if associations and not archived:
                    self._attach_associations(item, otype, key, associations, index)
                results.append(item)
        body: dict[str, Any] = {"results": results}
        if start + limit < len(keys):
            next_after = self._id_of(otype, keys[start + limit])
            body["paging"] = {
                "next": {
                    "after": next_after,
                    "link": f"{self.base_url}/crm/v3/objects/{otype}?after={next_after}",
                }
            }
        return _Answer(200, body)

    def _attach_associations(
        self, item: dict[str, Any], otype: str, key: int, targets: list[str], index: _Index
    ) -> None:
        """Nest the record's associations in ``item``, as a read with ``associations=`` does:
        ≤ 100 per target type, then ``paging`` (:mod:`sandbox.hubspot_associations`);
        HubSpot leaves the block out when no target has any."""
        block: dict[str, Any] = {}
        for target in dict.fromkeys(targets):
            ids = self._associated(otype, key, target, index)
            if ids:
                record = self._id_of(otype, key)
                block[target] = embedded_block(
                    ids,
                    lambda k, target=target: self._id_of(target, k),
                    label=f"{_SINGULAR[otype]}_to_{_SINGULAR[target]}",
                    link=f"{self.base_url}/crm/v3/objects/{otype}/{record}/associations/{target}",
                )
        if block:
            item["associations"] = block

    def _associated(self, otype: str, key: int, target: str, index: _Index) -> list[int]:
        """Keys of live ``target`` records associated with the ``otype`` record ``key``."""
        if otype == "contacts" and target in ENGAGEMENT_TYPES:
            return sorted(index.contact_activities.get(key, {}).get(target, []))
        if otype == LEADS and target == "contacts":
            obj = self.crm.lead_object(key)
            crm = self.crm
            return sorted(
                k
                for k in dict.fromkeys(obj.contact_keys if obj else [])
                if crm.has_lead(k) and not crm.lead(k).archived
            )
        if otype in ENGAGEMENT_TYPES and target == "contacts":
            act = self.crm.activity(key)
            crm = self.crm
            return sorted(
                k
                for k in dict.fromkeys(act.lead_keys)
                if crm.has_lead(k) and not crm.lead(k).archived
            )
        return []

    def _get_one(self, otype: str, oid: str, query: dict[str, list[str]]) -> _Answer:
        archived = _bool_param(query, "archived")
        id_property = (query.get("idProperty") or [""])[0]
        index = self.index()
        key = None
        if id_property == "email" and otype == "contacts":
            key = index.lead_by_email.get(oid.lower())
        elif not id_property or id_property == "hs_object_id":
            key = self._key_of(otype, oid)
        with self.crm.lock:
            record = self._record(otype, key) if key is not None else None
            if record is None or record.archived != archived:
                raise ApiError(
                    404,
                    "Object not found.  objectId are usually numeric.",
                    "OBJECT_NOT_FOUND",
                    context={"id": [oid]},
                )
            item = self._serializer.to_json(
                otype,
                record,
                _list_param(query, "properties"),
                _list_param(query, "propertiesWithHistory"),
            )
            associations = _association_types(query)
            if associations and not archived:
                self._attach_associations(item, otype, record.key, associations, index)
        return _Answer(200, item)

    def _batch_read(self, otype: str, query: dict[str, list[str]], payload: Any) -> _Answer:
        started = iso(self.clock())
        inputs = _batch_inputs(payload)
        properties = _str_list(payload.get("properties"))
        history = _str_list(payload.get("propertiesWithHistory"))
        if history and len(inputs) > 50:
            raise _validation(_HISTORY_BATCH_MESSAGE)
        _check_batch_size(inputs, 100)
        archived = _bool_param(query, "archived")
        id_property = payload.get("idProperty") or "hs_object_id"
        if id_property not in ("hs_object_id", "email") or (
            id_property == "email" and otype != "contacts"
        ):
            raise _validation(f"Unique property {id_property} is not supported for {otype}")
        index = self.index()
        results: list[dict[str, Any]] = []
        missing: list[str] = []
        with self.crm.lock:
            for raw in dict.fromkeys(str((i or {}).get("id", "")) for i in inputs):
                if id_property == "email":
                    key = index.lead_by_email.get(raw.lower())
                else:
                    key = self._key_of(otype, raw)
                record = self._record(otype, key) if key is not None else None
                if record is None or record.archived != archived:
                    missing.append(raw)
                    continue
                results.append(self._serializer.to_json(otype, record, properties, history))
        body: dict[str, Any] = {"status": "COMPLETE", "results": results}
        status = 200
        if missing:
            status = 207
            label = _SINGULAR[otype].upper()
            body["numErrors"] = 1
            body["errors"] = [
                {
                    "status": "error",
                    "category": "OBJECT_NOT_FOUND",
                    "message": (
                        f"Could not get some {label} objects, they may be deleted or not exist. "
                        "Check that ids are valid."
                    ),
                    "context": {"ids": missing},
                }
            ]
        body["startedAt"] = started
        body["completedAt"] = iso(self.clock())
        return _Answer(status, body)

    # ----------------------------------------------------------------- associations v4
    def _associations(self, from_raw: str, to_raw: str, payload: Any) -> _Answer:
        started = iso(self.clock())
        from_t = _TYPE_ALIASES.get(from_raw.lower())
        to_t = _TYPE_ALIASES.get(to_raw.lower())
        if from_t is None:
            raise _validation(f"Unable to infer object type from: {from_raw}")
        if to_t is None:
            raise _validation(f"Unable to infer object type from: {to_raw}")
        self._check_object_access(from_t, to_t)
        inputs = _batch_inputs(payload)
        _check_batch_size(inputs, 1000)
        type_id = ASSOCIATION_TYPE_IDS.get((from_t, to_t))
        index = self.index()
        results: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        with self.crm.lock:
            for raw, after in dict.fromkeys(_association_inputs(inputs)):
                key = self._key_of(from_t, raw)
                record = self._record(from_t, key) if key is not None else None
                targets: list[int] = []
                if record is not None and not record.archived and type_id is not None:
                    targets = self._associated(from_t, key, to_t, index)  # type: ignore[arg-type]
                if not targets:
                    errors.append(_no_associations(raw, from_t, to_t))
                    continue
                results.append(
                    v4_result(
                        raw,
                        targets,
                        lambda k: self._id_of(to_t, k),  # type: ignore[arg-type]
                        after=after,
                        size=self.association_page_size,
                        type_id=type_id,  # type: ignore[arg-type]
                    )
                )
        body: dict[str, Any] = {"status": "COMPLETE", "results": results}
        if errors:
            body["numErrors"] = len(errors)
            body["errors"] = errors
        body["startedAt"] = started
        body["completedAt"] = iso(self.clock())
        return _Answer(207 if errors else 200, body)

    # ----------------------------------------------------------------- search
    def _do_search(self, otype: str, _: dict[str, list[str]], payload: Any) -> _Answer:
        if not isinstance(payload, dict):
            raise _validation("Invalid input JSON: a search request body is required")
        limit = payload.get("limit", 10)
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
            raise _validation("limit must be a non-negative integer")
        if limit > 200:
            raise _validation("limit must be less than or equal to 200")
        after_raw = payload.get("after") or "0"
        try:
            offset = int(str(after_raw))
        except ValueError:
            raise _validation(f"Invalid after: {after_raw}") from None
        if offset < 0:
            raise _validation(f"Invalid after: {after_raw}")
        if offset >= self.search_result_cap:
            raise _validation("There was a problem with the request.")
        groups = payload.get("filterGroups") or []
        if not isinstance(groups, list) or len(groups) > 5:
            raise _validation("A maximum of 5 filterGroups are allowed")
        total_filters = 0
        for group in groups:
            filters = (group or {}).get("filters") or []
            if len(filters) > 10:
                raise _validation("A maximum of 10 filters are allowed in each filterGroup")
            total_filters += len(filters)
            for flt in filters:
                if (flt or {}).get("operator") not in _SEARCH_OPERATORS:
                    raise _validation(f"Unknown operator: {(flt or {}).get('operator')}")
                if not (flt or {}).get("propertyName"):
                    raise _validation("Each filter needs a propertyName")
        if total_filters > 25:
            raise _validation("A maximum of 25 filters are allowed across all filterGroups")
        sorts = payload.get("sorts") or []
        if len(sorts) > 1:
            raise _validation("Only one sort is allowed")
        properties = _str_list(payload.get("properties"))
        query_text = payload.get("query")

        index = self.index()
        keys = index.live[otype]
        ids = np.asarray(keys, dtype=np.int64)
        mask = np.ones(len(keys), dtype=bool)
        if self.search_lag_s > 0:
            horizon = _epoch_ms(self.clock()) - self.search_lag_s * 1000
            mask &= self._updated_column(otype, index) <= horizon
        if groups:
            any_group = np.zeros(len(keys), dtype=bool)
            for group in groups:
                group_mask = np.ones(len(keys), dtype=bool)
                for flt in (group or {}).get("filters") or []:
                    group_mask &= self._filter_mask(otype, index, flt)
                any_group |= group_mask
            mask &= any_group
        if query_text:
            mask &= self._query_mask(otype, index, str(query_text))
        selected = np.nonzero(mask)[0]
        if sorts:
            sort = sorts[0]
            if isinstance(sort, str):
                name = sort.lstrip("-")
                descending = sort.startswith("-")
            else:
                name = sort.get("propertyName", "")
                descending = str(sort.get("direction", "ASCENDING")).upper() == "DESCENDING"
            selected = self._sorted(otype, index, selected, ids, name, descending)
        total = len(selected)
        end = min(offset + limit, total, self.search_result_cap)
        page = selected[offset:end].tolist() if offset < total else []
        with self.crm.lock:
            results = []
            for pos in page:
                record = self._record(otype, keys[pos])
                if record is not None:
                    results.append(self._serializer.to_json(otype, record, properties))
        body: dict[str, Any] = {"total": total, "results": results}
        if end < total and limit > 0:
            body["paging"] = {"next": {"after": str(end)}}
        return _Answer(200, body, rate_headers=False)

    def _column(self, otype: str, index: _Index, name: str) -> np.ndarray | list[Any]:
        """Every live record's value of ``name``, in id order (cached per CRM version)."""
        cached = index.columns.get((otype, name))
        if cached is not None:
            return cached
        known = self._serializer.known(otype)
        keys = index.live[otype]
        column: np.ndarray | list[Any]
        attr = _DATE_ATTRIBUTES.get(name)
        if name == "hs_object_id":
            base = _id_base(otype)
            column = np.asarray(keys, dtype=np.float64) + base
            index.columns[(otype, name)] = column
            return column
        if attr is not None and name in known:
            with self.crm.lock:
                records = [self._record(otype, k) for k in keys]
                column = np.array(
                    [getattr(r, attr).timestamp() * 1000 for r in records], dtype=np.float64
                )
            index.columns[(otype, name)] = np.floor(column)
            return index.columns[(otype, name)]
        with self.crm.lock:
            if name not in known:
                raw: list[str | None] = [None] * len(keys)
            else:
                raw = [
                    self._serializer.value(otype, self._record(otype, k), name)  # type: ignore[arg-type]
                    for k in keys
                ]
        if name in _DATE_PROPERTIES:
            column = np.array(
                [_parse_instant(v) if v is not None else np.nan for v in raw], dtype=np.float64
            )
        elif name in _NUMBER_PROPERTIES:
            column = np.array(
                [float(v) if v is not None else np.nan for v in raw], dtype=np.float64
            )
        else:
            column = [v.lower() if isinstance(v, str) else None for v in raw]
        index.columns[(otype, name)] = column
        return column

    def _updated_column(self, otype: str, index: _Index) -> np.ndarray:
        name = "lastmodifieddate" if otype == "contacts" else "hs_lastmodifieddate"
        return self._column(otype, index, name)  # type: ignore[return-value]

    def _filter_mask(self, otype: str, index: _Index, flt: dict[str, Any]) -> np.ndarray:
        name = str(flt["propertyName"])
        op = flt["operator"]
        column = self._column(otype, index, name)
        if isinstance(column, np.ndarray):
            present = ~np.isnan(column)
            if op == "HAS_PROPERTY":
                return present
            if op == "NOT_HAS_PROPERTY":
                return ~present
            parse = _parse_instant if name in _DATE_PROPERTIES else _parse_number
            if op in ("IN", "NOT_IN"):
                values = [parse(v) for v in flt.get("values") or []]
                hit = np.isin(column, [v for v in values if v is not None])
                return hit if op == "IN" else ~hit
            value = parse(flt.get("value"))
            if value is None:
                raise _validation(f"Invalid value for {name}: {flt.get('value')!r}")
            with np.errstate(invalid="ignore"):
                compare = _COMPARISONS.get(op)
                if compare is not None:
                    return compare(column, value)
                if op == "BETWEEN":
                    high = parse(flt.get("highValue"))
                    if high is None:
                        raise _validation(f"BETWEEN on {name} needs a highValue")
                    return (column >= value) & (column <= high)
            raise _validation(f"Operator {op} is not supported for {name}")
        return np.fromiter((_match_text(v, op, flt) for v in column), dtype=bool, count=len(column))

    def _query_mask(self, otype: str, index: _Index, text: str) -> np.ndarray:
        fields = ("email", "firstname", "lastname", "company") if otype == "contacts" else ()
        needle = text.lower().strip("*")
        mask = np.zeros(len(index.live[otype]), dtype=bool)
        for name in fields:
            column = self._column(otype, index, name)
            mask |= np.fromiter((bool(v) and needle in v for v in column), dtype=bool)
        return mask

    def _sorted(
        self,
        otype: str,
        index: _Index,
        selected: np.ndarray,
        ids: np.ndarray,
        name: str,
        descending: bool,
    ) -> np.ndarray:
        column = self._column(otype, index, name)
        sub_ids = ids[selected]
        if isinstance(column, np.ndarray):
            values = column[selected]
            missing = np.isnan(values)
            keyed = np.where(missing, 0.0, -values if descending else values)
            order = np.lexsort((sub_ids, keyed, missing))
            return selected[order]
        texts = [column[i] for i in selected.tolist()]
        positions = list(range(len(texts)))
        present = [p for p in positions if texts[p] is not None]
        absent = [p for p in positions if texts[p] is None]
        present.sort(key=lambda p: sub_ids[p])
        present.sort(key=lambda p: texts[p], reverse=descending)  # type: ignore[arg-type,return-value]
        absent.sort(key=lambda p: sub_ids[p])
        return selected[np.asarray(present + absent, dtype=np.int64)]

    # ----------------------------------------------------------------- reference data
    def _property(self, otype: str, name: str) -> _Answer:
        if otype == "contacts" and name in ("lifecyclestage", "hs_lead_status"):
            values = LIFECYCLE_STAGES if name == "lifecyclestage" else LEAD_STATUSES
            options = [
                {
                    "label": OPTION_LABELS[name][value],
                    "value": value,
                    "displayOrder": n,
                    "hidden": False,
                }
                for n, value in enumerate(values)
            ]
            return _Answer(
                200,
                {
                    "name": name,
                    "label": "Lifecycle Stage" if name == "lifecyclestage" else "Lead Status",
                    "type": "enumeration",
                    "fieldType": "radio" if name == "lifecyclestage" else "select",
                    "groupName": "contactinformation",
                    "options": options,
                    "hidden": False,
                    "calculated": False,
                    "hasUniqueValue": False,
                    "archived": False,
                },
            )
        found = (
            hubspot_properties.definition(name, CONTACT_PROPERTIES, OPTION_LABELS)
            if otype == "contacts"
            else None
        )
        if found is not None:
            return _Answer(200, found)
        raise ApiError(404, f"Unable to find property {name} for {otype}", "OBJECT_NOT_FOUND")

    def _properties(self) -> _Answer:
        """Every contact property, default and custom (HubSpot does not page this list)."""
        results = hubspot_properties.every_definition(CONTACT_PROPERTIES, OPTION_LABELS)
        return _Answer(200, {"results": results})

    def _account_details(self, _: dict[str, list[str]], __: Any) -> _Answer:
        return _Answer(
            200,
            {
                "portalId": self.portal_id,
                "accountType": "STANDARD",
                "timeZone": "America/Sao_Paulo",
                "companyCurrency": "BRL",
                "additionalCurrencies": [],
                "utcOffset": "-03:00",
                "utcOffsetMilliseconds": -10_800_000,
                "uiDomain": "app.hubspot.com",
                "dataHostingLocation": "na1",
            },
        )

    def _dispositions(self, _: dict[str, list[str]], __: Any) -> _Answer:
        return _Answer(200, [{"id": k, "label": v} for k, v in DISPOSITION_LABELS.items()])


# --------------------------------------------------------------------------- small parsers


def _rate_limited(window: str, policy: str) -> _Answer:
    return _Answer(
        429,
        {
            "status": "error",
            "message": f"You have reached your {window} limit.",
            "errorType": "RATE_LIMIT",
            "correlationId": str(uuid.uuid4()),
            "policyName": policy,
        },
    )


def _error_answer(error: ApiError) -> _Answer:
    return _Answer(error.status, error.body)


def _list_param(query: dict[str, list[str]], name: str) -> list[str]:
    """Repeated keys and comma-separated values alike (``?a=x&a=y`` or ``?a=x,y``)."""
    out: list[str] = []
    for raw in query.get(name, []):
        out.extend(part.strip() for part in raw.split(",") if part.strip())
    return out


def _association_types(query: dict[str, list[str]]) -> list[str]:
    """The object types named in ``?associations=``, spelt canonically; unknown ones dropped."""
    return [
        t for t in (_TYPE_ALIASES.get(a.lower()) for a in _list_param(query, "associations")) if t
    ]


def _association_inputs(inputs: list[Any]) -> list[tuple[str, str | None]]:
    """``(id, after)`` of each v4 batch-read input; ``after`` continues that id's list."""
    out: list[tuple[str, str | None]] = []
    for item in inputs:
        item = item if isinstance(item, dict) else {}
        after = item.get("after")
        out.append((str(item.get("id", "")), str(after) if after not in (None, "") else None))
    return out


def _no_associations(raw: str, from_t: str, to_t: str) -> dict[str, Any]:
    """The 207 error entry HubSpot gives an input with nothing associated."""
    return {
        "status": "error",
        "category": "OBJECT_NOT_FOUND",
        "subCategory": "crm.associations.NO_ASSOCIATIONS_FOUND",
        "message": f"No {_SINGULAR[to_t]} is associated with {_SINGULAR[from_t]} {raw}.",
        "context": {
            "fromObjectId": [raw],
            "fromObjectType": [_SINGULAR[from_t]],
            "toObjectType": [_SINGULAR[to_t]],
        },
    }


def _batch_inputs(payload: Any) -> list[Any]:
    """The ``inputs`` list of a batch request body, which every batch endpoint requires."""
    if not isinstance(payload, dict) or not isinstance(payload.get("inputs"), list):
        raise _validation("Invalid input JSON: 'inputs' is required")
    return payload["inputs"]


def _check_batch_size(inputs: list[Any], maximum: int) -> None:
    if len(inputs) > maximum:
        raise _validation(
            f"Batch input size of {len(inputs)} is larger than the maximum of {maximum} inputs."
        )


def _str_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [p.strip() for p in value.split(",") if p.strip()]
    if isinstance(value, list):
        return [str(v) for v in value]
    raise _validation(f"Expected a list of property names, got {value!r}")


def _int_param(query: dict[str, list[str]], name: str, default: int) -> int:
    values = query.get(name)
    if not values or values[0] == "":
        return default
    try:
        return int(values[0])
    except ValueError:
        raise _validation(f"Invalid {name}: {values[0]!r}") from None


def _bool_param(query: dict[str, list[str]], name: str) -> bool:
    values = query.get(name)
    return bool(values) and values[0].strip().lower() == "true"


def _parse_number(value: Any) -> float | None:
    try:
        return float(str(value))
    except (TypeError, ValueError):
        return None


def _match_text(value: str | None, op: str, flt: dict[str, Any]) -> bool:
    if op == "HAS_PROPERTY":
        return bool(value)
    if op == "NOT_HAS_PROPERTY":
        return not value
    target = str(flt.get("value", "")).lower()
    if op in ("EQ", "NEQ"):
        return _COMPARISONS[op](value, target)
    if op in ("IN", "NOT_IN"):
        hit = value in {str(v).lower() for v in flt.get("values") or []}
        return hit if op == "IN" else not hit
    if op in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
        token = target.strip("*")
        hit = value is not None and token in value
        return hit if op == "CONTAINS_TOKEN" else not hit
    if value is None:
        return False
    compare = _COMPARISONS.get(op)
    if compare is not None:
        return compare(value, target)
    if op == "BETWEEN":
        return target <= value <= str(flt.get("highValue", "")).lower()
    return False


# --------------------------------------------------------------------------- newer objects


def _communication_value(act: Activity, name: str) -> str | None:
    """A logged WhatsApp, SMS or LinkedIn message: its channel is the activity's status."""
    if name == "hs_communication_channel_type":
        return act.status
    if name == "hs_communication_logged_from":
        return "CRM"
    if name == "hs_communication_body":
        return act.title or None
    return None


def _lead_object_value(obj: LeadObject, name: str) -> str | None:
    """A property of a Leads-object record (0-136), as HubSpot's lead pipeline holds it."""
    values: dict[str, str | None] = {
        "hs_pipeline": "lead-pipeline-id",
        "hs_pipeline_stage": obj.stage,
        "hs_lead_name": obj.name,
        "hubspot_owner_id": owner_id(obj.owner_key) if obj.owner_key is not None else None,
        "hs_createdate": iso(obj.created_at),
        "hs_lastmodifieddate": iso(obj.updated_at),
        "hs_object_id": lead_object_id(obj.key),
    }
    return values.get(name)


def _lead_object_history(obj: LeadObject, name: str) -> list[dict[str, Any]]:
    """``hs_pipeline_stage`` changes newest first; other properties their current value."""
    if name == "hs_pipeline_stage":
        return [
            {"value": stage, "timestamp": iso(at), "sourceType": source_type}
            for stage, at, source_type in reversed(obj.history)
        ]
    value = _lead_object_value(obj, name)
    if value is None:
        return []
    return [{"value": value, "timestamp": iso(obj.created_at), "sourceType": "CRM_UI"}]
