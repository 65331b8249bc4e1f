"""What HubSpot syncs, as data: the object types, their properties and cursor fields.

Each CRM object the connector reads is one :class:`ObjectSpec` (singer-sdk style, see
STYLE.md): adding ``communications`` is one more spec, not a copied loop. The page sizes
are HubSpot's own caps; the streams and the reader take them from here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import timedelta

from config.sla_fields import NamedField

SOURCE = "hubspot"

LIST_LIMIT = 100
HISTORY_LIMIT = 50
SEARCH_LIMIT = 200
SEARCH_CAP = 10_000
BATCH_HISTORY_LIMIT = 50
ASSOCIATION_BATCH_LIMIT = 1_000
"""Inputs of one v4 association batch read (HubSpot's cap since 10 Feb 2025)."""
OWNERS_LIMIT = 500

LATE_LINK_WINDOW = timedelta(days=30)
"""How far back engagements have their contact links re-read on every incremental run.

HubSpot has no query for changed associations, and adding a contact to an existing
engagement leaves the engagement's ``hs_lastmodifieddate`` where it was (its
documentation gives associations their own API and says nothing of the engagement
moving), so a link added late is seen only by asking again. Thirty days covers the
audit that matters most — last month's, run in the first days of this one — and the
SLA clocks it measures (first touch within hours, attempts within days). An engagement
older than that whose links change is re-linked only if it changes itself, or by
``sync --full``. Cost: one request per 1,000 engagements of a type in the window.
"""

CONTACT_PROPERTIES = (
    "email",
    "firstname",
    "lastname",
    "company",
    "industry",
    "hs_analytics_source",
    "lifecyclestage",
    "hs_lead_status",
    "hubspot_owner_id",
    "createdate",
    "lastmodifieddate",
    "hs_merged_object_ids",
)
HISTORY_FIELDS = {
    "lifecyclestage": "stage",
    "hs_lead_status": "status",
    "hubspot_owner_id": "owner",
}

ENGAGEMENT_COMMON = ("hs_timestamp", "hs_createdate", "hs_lastmodifieddate", "hubspot_owner_id")


@dataclass(frozen=True)
class ObjectSpec:
    """One HubSpot object type as data: adding ``communications`` is one more spec."""

    stream: str
    object_type: str
    properties: tuple[str, ...]
    modified: str = "hs_lastmodifieddate"
    history: tuple[str, ...] = ()
    kind: str | None = None
    subject: str | None = None
    status: str | None = None
    direction: str | None = None
    extra: tuple[NamedField, ...] = ()
    """Properties the SLA names beyond ``properties`` (contacts only, ``sync --sla``)."""

    @property
    def list_limit(self) -> int:
        return HISTORY_LIMIT if self.history else LIST_LIMIT

    @property
    def is_contact(self) -> bool:
        return self.object_type == "contacts"


CONTACTS = ObjectSpec(
    stream="contacts",
    object_type="contacts",
    properties=CONTACT_PROPERTIES,
    modified="lastmodifieddate",
    history=tuple(HISTORY_FIELDS),
)


def with_fields(spec: ObjectSpec, fields: Sequence[NamedField]) -> ObjectSpec:
    """``spec`` also reading the SLA's properties, with history where a rule needs it: every
    list, search hydration and batch read of contacts then asks for them."""
    if not fields:
        return spec
    names = [f.name for f in fields if f.name not in spec.properties]
    history = [f.name for f in fields if f.history and f.name not in spec.history]
    return replace(
        spec,
        properties=(*spec.properties, *names),
        history=(*spec.history, *history),
        extra=tuple(fields),
    )


ENGAGEMENTS: tuple[ObjectSpec, ...] = (
    ObjectSpec(
        stream="calls",
        object_type="calls",
        kind="call",
        properties=(
            *ENGAGEMENT_COMMON,
            "hs_call_direction",
            "hs_call_disposition",
            "hs_call_status",
            "hs_call_duration",
            "hs_call_title",
        ),
        subject="hs_call_title",
        status="hs_call_status",
        direction="hs_call_direction",
    ),
    ObjectSpec(
        stream="emails",
        object_type="emails",
        kind="email",
        properties=(
            *ENGAGEMENT_COMMON,
            "hs_email_direction",
            "hs_email_status",
            "hs_email_subject",
        ),
        subject="hs_email_subject",
        status="hs_email_status",
        direction="hs_email_direction",
    ),
    ObjectSpec(
        stream="meetings",
        object_type="meetings",
        kind="meeting",
        properties=(
            *ENGAGEMENT_COMMON,
            "hs_meeting_outcome",
            "hs_meeting_start_time",
            "hs_meeting_end_time",
            "hs_meeting_title",
        ),
        subject="hs_meeting_title",
        status="hs_meeting_outcome",
    ),
    ObjectSpec(
        stream="tasks",
        object_type="tasks",
        kind="task",
        properties=(*ENGAGEMENT_COMMON, "hs_task_status", "hs_task_subject", "hs_task_type"),
        subject="hs_task_subject",
        status="hs_task_status",
    ),
    ObjectSpec(stream="notes", object_type="notes", kind="note", properties=ENGAGEMENT_COMMON),
    # WhatsApp, SMS and LinkedIn messages logged by reps: kind ``message``, the channel
    # (WHATS_APP, SMS, LINKEDIN_MESSAGE) kept as the activity's status. HubSpot records no
    # direction for them, so each is an attempt and never a connection (SEMANTICS.md).
    ObjectSpec(
        stream="communications",
        object_type="communications",
        kind="message",
        properties=(
            *ENGAGEMENT_COMMON,
            "hs_communication_channel_type",
            "hs_communication_logged_from",
        ),
        status="hs_communication_channel_type",
    ),
)

LEAD_STAGE_FIELD = "lead_stage"
"""The history field a Leads-object stage change becomes on its contact's timeline."""

LEAD_OBJECTS = ObjectSpec(
    stream="lead_objects",
    object_type="leads",
    properties=(
        "hs_pipeline",
        "hs_pipeline_stage",
        "hs_lead_name",
        "hubspot_owner_id",
        "hs_createdate",
        "hs_lastmodifieddate",
    ),
    history=("hs_pipeline_stage",),
)
"""HubSpot's Leads object (0-136), where the portal uses it: each lead's
``hs_pipeline_stage`` history lands on its associated contacts as ``lead_stage`` events."""
