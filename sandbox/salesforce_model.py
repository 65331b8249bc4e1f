"""The generated CRM expressed as Salesforce objects, for the sandbox Salesforce.

The generator speaks HubSpot (lifecyclestage, hs_lead_status, owners, engagements); this
module turns one :class:`~.generator.CRM` into the tables a Salesforce org would hold —
User, Group (the lead queue), LeadStatus, Lead, LeadHistory, Task, Event, and for
converted leads Account, Contact and Opportunity — deterministically, record for record.

Ids are 18 characters with Salesforce's key prefixes (:func:`sf_id`): a 3-character prefix,
``5g0`` (pod and reserved character), the record number in base 62 on 9 characters and
the case-safe 3-character suffix. Position order is Id order.

=============  ======  ==========================================================
object         prefix  record number
=============  ======  ==========================================================
User           005     ``rep.key``; 0 is the integration user (automation, forms)
Group (queue)  00G     1 — the "Inbound Lead Queue" owning unassigned leads
LeadStatus     01J     1…7 in :data:`LEAD_STATUSES` order
Lead           00Q     ``lead.key``
LeadHistory    017     ``lead.key * 10000 + n`` (n-th row of that lead)
Task           00T     ``activity.key`` (calls, emails, tasks; notes are not mapped)
Event          00U     ``activity.key`` (meetings)
Account        001     ``lead.key`` of the converted lead
Contact        003     ``lead.key`` of the converted lead
Opportunity    006     ``lead.key`` of the converted lead
=============  ======  ==========================================================

**Lead status.** Salesforce has one ``Status`` where the generator has a stage and a
status; the mapping is a small state machine over the generator's history:

* lifecyclestage → ``marketingqualifiedlead`` (a handoff): "Marketing Qualified";
* hs_lead_status ATTEMPTED_TO_CONTACT / IN_PROGRESS / CONNECTED / OPEN_DEAL: "Working -
  Contacted"; UNQUALIFIED: "Closed - Not Converted"; BAD_TIMING: "Recycled"; NEW / OPEN /
  cleared: "Marketing Qualified" while the stage is MQL, else "Open - Not Contacted";
* lifecyclestage → salesqualifiedlead (or later): "Sales Qualified", and the lead is
  **converted** :func:`conversion_delay` later (10 s … 5 min, by lead key; at once when
  that would pass the CRM's end): Status "Closed - Converted", ``IsConverted``,
  ``ConvertedDate`` (the *date* in America/Sao_Paulo), an Account, a Contact and an
  Opportunity. Nothing changes the status after conversion.

So every generator MQL is an entry into "Marketing Qualified". A lead whose first MQL
came within :data:`DIRECT_MQL_WINDOW` of its creation, with nothing in between (the form
submission itself qualified it), is **created directly** as "Marketing Qualified": its
``CreatedDate`` is the MQL instant and — as in Salesforce, which records no history for
initial values — it has no Status history row for that entry, only the ``created`` row.

**LeadHistory** rows: ``created`` at creation; ``Status`` (old, new) per change of the
mapped status; ``Owner`` per owner change — two rows at the same instant, one with the
Ids (DataType ``EntityId``) and one with the names (DataType ``Text``), as Salesforce
writes them (``owner_history="ids"`` keeps only the first); ``leadConverted`` at
conversion. Initial values (status, owner) at creation get no row. Unassigned leads are
owned by the queue (Group 00G…), because a Salesforce lead always has an owner.

**Activities.** Calls → Task (TaskSubtype Call, CallType Inbound/Outbound, CallDisposition
the disposition's label, CallDurationInSeconds); emails → Task (TaskSubtype Email, Subject
``Email: …``; an inbound reply has no direction field in Salesforce, only its ``Re:``
subject); tasks → Task (TaskSubtype Task, Status Completed / Not Started); meetings →
Event. Notes are not activities in Salesforce and are left out. Calls and emails are
logged closed: CompletedDateTime = CreatedDate (when the rep logged it, a little after
the dial); ActivityDate is the local date of the activity (a to-do's due date). WhoId is
the activity's first lead. On conversion Salesforce moves a lead's activities to the new
Contact and Opportunity: WhoId becomes the Contact, WhatId the Opportunity, and
SystemModstamp the conversion instant (``reparent_on_conversion=False`` keeps the lead).
Deleting a lead deletes its (not re-parented) activities; deleted rows keep
``IsDeleted = true`` and are only visible to ``queryAll``.

**Timestamps.** CreatedDate from the generator; ``SystemModstamp`` = ``LastModifiedDate``
= the latest change: for a lead the generator's ``updated_at`` (which, as documented in
the generator, also moves when an activity is logged), its history, conversion and
deletion. LeadHistory has only CreatedDate.

**Merges.** A lead merged into another (``Lead.merged_into``, when the generator sets it)
is deleted with ``MasterRecordId`` = the surviving lead, as Salesforce's merge leaves it
for ``queryAll``; its activities already belong to the survivor.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final, Literal
from zoneinfo import ZoneInfo

import numpy as np

from sandbox import custom_properties
from sandbox.generator import (
    BUSINESS_TIMEZONE,
    CRM,
    DISPOSITION_LABELS,
    Activity,
    HistoryEntry,
    Lead,
    Rep,
)
from sandbox.soql import FieldSpec, Table, epoch_ms, id_suffix

# --------------------------------------------------------------------------- ids

_B62: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_POD: Final = "5g0"

USER_PREFIX: Final = "005"
GROUP_PREFIX: Final = "00G"
LEAD_STATUS_PREFIX: Final = "01J"
LEAD_PREFIX: Final = "00Q"
LEAD_HISTORY_PREFIX: Final = "017"
TASK_PREFIX: Final = "00T"
EVENT_PREFIX: Final = "00U"
ACCOUNT_PREFIX: Final = "001"
CONTACT_PREFIX: Final = "003"
OPPORTUNITY_PREFIX: Final = "006"
HISTORY_ROWS_PER_LEAD: Final = 10_000
INTEGRATION_USER_KEY: Final = 0
LEAD_QUEUE_KEY: Final = 1
LEAD_QUEUE_NAME: Final = "Inbound Lead Queue"


_PAIRS: Final = tuple(a + b for a in _B62 for b in _B62)
_MAX_NUMBER: Final = 62**9 - 1


def sf_id(prefix: str, number: int) -> str:
    """An 18-character Salesforce Id: ``prefix`` + pod + base-62 number + case suffix."""
    if not 0 <= number <= _MAX_NUMBER:
        raise ValueError(f"record number out of the Id range: {number}")
    rest, d9 = divmod(number, 62)
    rest, d78 = divmod(rest, 3844)
    rest, d56 = divmod(rest, 3844)
    d1, d34 = divmod(rest, 3844)
    body = f"{prefix}{_POD}{_PAIRS[d1]}{_PAIRS[d34]}{_PAIRS[d56]}{_PAIRS[d78]}{_B62[d9]}"
    return body + id_suffix(body)


def number_of(record_id: str) -> int:
    """The record number inside an Id made by :func:`sf_id` (15 or 18 characters)."""
    value = 0
    for ch in record_id[6:15]:
        value = value * 62 + _B62.index(ch)
    return value


def user_id(rep_key: int) -> str:
    return sf_id(USER_PREFIX, rep_key)


def lead_id(lead_key: int) -> str:
    return sf_id(LEAD_PREFIX, lead_key)


def task_id(activity_key: int) -> str:
    return sf_id(TASK_PREFIX, activity_key)


def event_id(activity_key: int) -> str:
    return sf_id(EVENT_PREFIX, activity_key)


def contact_id(lead_key: int) -> str:
    return sf_id(CONTACT_PREFIX, lead_key)


def account_id(lead_key: int) -> str:
    return sf_id(ACCOUNT_PREFIX, lead_key)


def opportunity_id(lead_key: int) -> str:
    return sf_id(OPPORTUNITY_PREFIX, lead_key)


def queue_id() -> str:
    return sf_id(GROUP_PREFIX, LEAD_QUEUE_KEY)


INTEGRATION_USER_ID: Final = user_id(INTEGRATION_USER_KEY)

# --------------------------------------------------------------------------- statuses

OPEN: Final = "Open - Not Contacted"
MARKETING_QUALIFIED: Final = "Marketing Qualified"
WORKING: Final = "Working - Contacted"
SALES_QUALIFIED: Final = "Sales Qualified"
RECYCLED: Final = "Recycled"
NOT_CONVERTED: Final = "Closed - Not Converted"
CONVERTED: Final = "Closed - Converted"

#: The org's LeadStatus picklist: (ApiName, IsConverted, IsDefault), in SortOrder.
LEAD_STATUSES: Final[tuple[tuple[str, bool, bool], ...]] = (
    (OPEN, False, True),
    (MARKETING_QUALIFIED, False, False),
    (WORKING, False, False),
    (SALES_QUALIFIED, False, False),
    (RECYCLED, False, False),
    (NOT_CONVERTED, False, False),
    (CONVERTED, True, False),
)
#: The labels the org shows for its statuses (ApiName → MasterLabel): renamed since the
#: values were created, as orgs do, so the API name an SLA must use differs from the label.
LEAD_STATUS_LABELS: Final[dict[str, str]] = {
    OPEN: "Open",
    MARKETING_QUALIFIED: "MQL - Marketing Qualified",
    WORKING: "Working",
    SALES_QUALIFIED: "SQL - Sales Qualified",
    RECYCLED: "Recycled to Nurture",
    NOT_CONVERTED: "Disqualified",
    CONVERTED: "Converted",
}
_WORKING_STATUSES: Final = frozenset(
    {"ATTEMPTED_TO_CONTACT", "IN_PROGRESS", "CONNECTED", "OPEN_DEAL"}
)
_SQL_STAGES: Final = frozenset({"salesqualifiedlead", "opportunity", "customer", "evangelist"})
_MQL: Final = "marketingqualifiedlead"

#: A first MQL this close to creation, with nothing in between, is a lead created as MQL.
DIRECT_MQL_WINDOW: Final = timedelta(minutes=2)

LEAD_SOURCES: Final[dict[str, str]] = {
    "ORGANIC_SEARCH": "Organic Search",
    "PAID_SEARCH": "Paid Search",
    "EMAIL_MARKETING": "Email",
    "REFERRALS": "Partner Referral",
    "DIRECT_TRAFFIC": "Web",
    "SOCIAL_MEDIA": "Social Media",
    "OFFLINE": "Purchased List",
}
INDUSTRIES: Final[dict[str, str]] = {
    "COMPUTER_SOFTWARE": "Technology",
    "FINANCIAL_SERVICES": "Finance",
    "HOSPITAL_HEALTH_CARE": "Healthcare",
    "RETAIL": "Retail",
    "EDUCATION_MANAGEMENT": "Education",
    "LOGISTICS_AND_SUPPLY_CHAIN": "Transportation",
}
_TASK_STATUSES: Final = {
    "COMPLETED": "Completed",
    "NOT_STARTED": "Not Started",
    "IN_PROGRESS": "In Progress",
    "WAITING": "Waiting on someone else",
    "DEFERRED": "Deferred",
}
TASK_STATUSES: Final = tuple(dict.fromkeys(_TASK_STATUSES.values()))
"""The Task ``Status`` picklist."""
OPPORTUNITY_STAGES: Final = ("Qualification", "Proposal/Price Quote", "Closed Won")
_LOCAL: Final = ZoneInfo(BUSINESS_TIMEZONE)
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


def conversion_delay(lead_key: int) -> timedelta:
    """How long after reaching Sales Qualified a lead is converted (10 s … 5 min)."""
    return timedelta(seconds=10 + (lead_key * 7919) % 291)


def local_date(at: datetime) -> date:
    """The org's local calendar date of an instant (date fields such as ConvertedDate)."""
    return at.astimezone(_LOCAL).date()


# --------------------------------------------------------------------------- schemas


def _f(name: str, kind: str, **kw: Any) -> FieldSpec:
    return FieldSpec(name, kind, **kw)  # type: ignore[arg-type]


_AUDIT: Final = (
    _f("CreatedDate", "datetime"),
    _f("LastModifiedDate", "datetime"),
    _f("SystemModstamp", "datetime"),
)
SCHEMAS: Final[dict[str, tuple[FieldSpec, ...]]] = {
    "User": (
        _f("Id", "id"),
        _f("Username", "string"),
        _f("Name", "string"),
        _f("FirstName", "string"),
        _f("LastName", "string"),
        _f("Email", "email"),
        _f("IsActive", "boolean"),
        _f("UserType", "picklist"),
        *_AUDIT,
    ),
    "Group": (
        _f("Id", "id"),
        _f("Name", "string"),
        _f("DeveloperName", "string"),
        _f("Type", "picklist"),
        *_AUDIT,
    ),
    "LeadStatus": (
        _f("Id", "id"),
        _f("ApiName", "string"),
        _f("MasterLabel", "string"),
        _f("IsConverted", "boolean"),
        _f("IsDefault", "boolean"),
        _f("SortOrder", "int"),
        *_AUDIT,
    ),
    "Lead": (
        _f("Id", "id"),
        _f("FirstName", "string"),
        _f("LastName", "string"),
        _f("Name", "string"),
        _f("Email", "email"),
        _f("Company", "string"),
        _f("Status", "picklist"),
        _f("OwnerId", "reference"),
        _f("LeadSource", "picklist"),
        _f("Industry", "picklist"),
        _f("IsConverted", "boolean"),
        _f("ConvertedDate", "date"),
        _f("ConvertedAccountId", "reference"),
        _f("ConvertedContactId", "reference"),
        _f("ConvertedOpportunityId", "reference"),
        _f("IsDeleted", "boolean"),
        _f("MasterRecordId", "reference"),
        _f("CreatedById", "reference"),
        # The org's custom fields (sandbox.custom_properties); Score__c exists too but is
        # hidden from the integration user by field-level security, so it is not here.
        *(_f(p.salesforce, "picklist") for p in custom_properties.PROPERTIES),
        *_AUDIT,
    ),
    "LeadHistory": (
        _f("Id", "id"),
        _f("LeadId", "reference"),
        _f("Field", "picklist"),
        _f("DataType", "picklist"),
        _f("OldValue", "anyType", filterable=False, sortable=False),
        _f("NewValue", "anyType", filterable=False, sortable=False),
        _f("CreatedById", "reference"),
        _f("CreatedDate", "datetime"),
        _f("IsDeleted", "boolean"),
    ),
    "Task": (
        _f("Id", "id"),
        _f("WhoId", "reference"),
        _f("WhatId", "reference"),
        _f("OwnerId", "reference"),
        _f("Subject", "string"),
        _f("Status", "picklist"),
        _f("Priority", "picklist"),
        _f("TaskSubtype", "picklist"),
        _f("Type", "picklist"),
        _f("CallType", "picklist"),
        _f("CallDisposition", "string"),
        _f("CallDurationInSeconds", "int"),
        _f("ActivityDate", "date"),
        _f("CompletedDateTime", "datetime"),
        _f("IsClosed", "boolean"),
        _f("IsDeleted", "boolean"),
        _f("IsArchived", "boolean"),
        _f("CreatedById", "reference"),
        *_AUDIT,
    ),
    "Event": (
        _f("Id", "id"),
        _f("WhoId", "reference"),
        _f("WhatId", "reference"),
        _f("OwnerId", "reference"),
        _f("Subject", "string"),
        _f("ActivityDateTime", "datetime"),
        _f("ActivityDate", "date"),
        _f("StartDateTime", "datetime"),
        _f("EndDateTime", "datetime"),
        _f("DurationInMinutes", "int"),
        _f("IsAllDayEvent", "boolean"),
        _f("EventSubtype", "picklist"),
        _f("IsDeleted", "boolean"),
        _f("IsArchived", "boolean"),
        _f("CreatedById", "reference"),
        *_AUDIT,
    ),
    "Account": (
        _f("Id", "id"),
        _f("Name", "string"),
        _f("Industry", "picklist"),
        _f("OwnerId", "reference"),
        _f("IsDeleted", "boolean"),
        *_AUDIT,
    ),
    "Contact": (
        _f("Id", "id"),
        _f("FirstName", "string"),
        _f("LastName", "string"),
        _f("Name", "string"),
        _f("Email", "email"),
        _f("AccountId", "reference"),
        _f("OwnerId", "reference"),
        _f("LeadSource", "picklist"),
        _f("IsDeleted", "boolean"),
        *_AUDIT,
    ),
    "Opportunity": (
        _f("Id", "id"),
        _f("Name", "string"),
        _f("AccountId", "reference"),
        _f("OwnerId", "reference"),
        _f("StageName", "picklist"),
        _f("IsWon", "boolean"),
        _f("IsClosed", "boolean"),
        _f("CloseDate", "date"),
        _f("LeadSource", "picklist"),
        _f("IsDeleted", "boolean"),
        *_AUDIT,
    ),
}

# --------------------------------------------------------------------------- lead facts


@dataclass(frozen=True, slots=True)
class HistoryRow:
    """One LeadHistory row before it gets its Id."""

    at: datetime
    field: str
    data_type: str | None
    old: str | None
    new: str | None
    by: str


@dataclass(slots=True)
class LeadFacts:
    """What the Salesforce org knows about one generator lead."""

    lead: Lead
    created_at: datetime
    initial_status: str
    status: str
    owner_key: int | None
    history: list[HistoryRow] = field(default_factory=list)
    sql_at: datetime | None = None
    converted_at: datetime | None = None
    opportunity_at: datetime | None = None
    won_at: datetime | None = None
    direct_mql: bool = False

    @property
    def deleted_at(self) -> datetime | None:
        return self.lead.archived_at if self.lead.archived else None

    @property
    def modstamp(self) -> datetime:
        stamps = [self.lead.updated_at, self.created_at]
        if self.history:
            stamps.append(self.history[-1].at)
        if self.converted_at is not None:
            stamps.append(self.converted_at)
        if self.deleted_at is not None:
            stamps.append(self.deleted_at)
        return max(stamps)


def owner_ref(owner_key: int | None) -> str:
    """OwnerId of a record owned by ``owner_key`` (the lead queue when nobody)."""
    return queue_id() if owner_key is None else user_id(owner_key)


@dataclass
class _State:
    stage: str | None = None
    status: str | None = None
    owner: int | None = None
    sf: str = OPEN
    converted: bool = False
    sql_at: datetime | None = None
    opportunity_at: datetime | None = None
    won_at: datetime | None = None


def _step(state: _State, entry: HistoryEntry) -> None:
    value = entry.value
    if entry.field == "owner":
        state.owner = int(value) if value is not None else None
        return
    if entry.field == "stage":
        state.stage = value
        if value == "opportunity" and state.opportunity_at is None:
            state.opportunity_at = entry.at
        if value == "customer" and state.won_at is None:
            state.won_at = entry.at
        if state.converted:
            return
        if value == _MQL:
            state.sf = MARKETING_QUALIFIED
        elif value in _SQL_STAGES:
            state.sf = SALES_QUALIFIED
            if state.sql_at is None:
                state.sql_at = entry.at
        return
    state.status = value
    if state.converted or state.sf == SALES_QUALIFIED:
        return
    if value in _WORKING_STATUSES:
        state.sf = WORKING
    elif value == "UNQUALIFIED":
        state.sf = NOT_CONVERTED
    elif value == "BAD_TIMING":
        state.sf = RECYCLED
    else:
        state.sf = MARKETING_QUALIFIED if state.stage == _MQL else OPEN


def derive_lead(
    lead: Lead,
    crm_end: datetime,
    rep_names: dict[int, str],
    owner_history: Literal["both", "ids"] = "both",
) -> LeadFacts:
    """Replay a generator lead's history as Salesforce would have recorded it."""
    groups = [
        (at, list(entries))
        for at, entries in itertools.groupby(lead.history, key=lambda entry: entry.at)
    ]
    created = lead.created_at
    n_creation = 1 if groups and groups[0][0] == created else 0
    direct = False
    for j, (at, entries) in enumerate(groups[:2]):
        if any(e.field == "stage" and e.value == _MQL for e in entries):
            if j <= n_creation and at - created <= DIRECT_MQL_WINDOW:
                direct = True
                n_creation = j + 1
                created = at
            break
    state = _State()
    for _, entries in groups[:n_creation]:
        for entry in entries:
            _step(state, entry)
    facts = LeadFacts(
        lead=lead,
        created_at=created,
        initial_status=state.sf,
        status=state.sf,
        owner_key=state.owner,
        direct_mql=direct,
    )
    rows = facts.history
    rows.append(HistoryRow(created, "created", None, None, None, INTEGRATION_USER_ID))

    def owner_name(key: int | None) -> str:
        return LEAD_QUEUE_NAME if key is None else rep_names.get(key, f"User {key}")

    conversion: datetime | None = None
    if state.sql_at is not None:
        conversion = _conversion_instant(lead.key, state.sql_at, crm_end)

    def convert(at: datetime) -> None:
        rows.append(
            HistoryRow(at, "Status", "DynamicEnum", state.sf, CONVERTED, owner_ref(state.owner))
        )
        rows.append(HistoryRow(at, "leadConverted", None, None, None, owner_ref(state.owner)))
        state.sf = CONVERTED
        state.converted = True
        facts.converted_at = at

    for at, entries in groups[n_creation:]:
        if conversion is not None and not state.converted and at > conversion:
            convert(conversion)
        before_sf, before_owner = state.sf, state.owner
        status_by: int | None = None
        owner_by: int | None = None
        for entry in entries:
            _step(state, entry)
            if entry.field == "owner":
                owner_by = entry.by_rep_key
            else:
                status_by = entry.by_rep_key if entry.by_rep_key is not None else status_by
        if state.sf != before_sf:
            by = user_id(status_by) if status_by is not None else INTEGRATION_USER_ID
            rows.append(HistoryRow(at, "Status", "DynamicEnum", before_sf, state.sf, by))
        if state.owner != before_owner:
            by = user_id(owner_by) if owner_by is not None else INTEGRATION_USER_ID
            rows.append(
                HistoryRow(
                    at, "Owner", "EntityId", owner_ref(before_owner), owner_ref(state.owner), by
                )
            )
            if owner_history == "both":
                rows.append(
                    HistoryRow(
                        at, "Owner", "Text", owner_name(before_owner), owner_name(state.owner), by
                    )
                )
        if conversion is None and state.sql_at is not None:
            conversion = _conversion_instant(lead.key, state.sql_at, crm_end)
        if conversion is not None and not state.converted and at >= conversion:
            convert(conversion)
    if conversion is None and state.sql_at is not None:
        conversion = _conversion_instant(lead.key, state.sql_at, crm_end)
    if conversion is not None and not state.converted:
        convert(conversion)
    facts.status = state.sf
    facts.owner_key = state.owner
    facts.sql_at = state.sql_at
    facts.opportunity_at = state.opportunity_at
    facts.won_at = state.won_at
    return facts


def _conversion_instant(lead_key: int, sql_at: datetime, crm_end: datetime) -> datetime:
    later = sql_at + conversion_delay(lead_key)
    return later if later < crm_end else sql_at


# --------------------------------------------------------------------------- the org


@dataclass
class Org:
    """Every table of the sandbox org, keyed by lower-case object name."""

    tables: dict[str, Table]
    version: int
    now: datetime
    """The latest instant anywhere in the org (the sandbox's "now" for query windows)."""
    facts: dict[int, LeadFacts]

    def table(self, name: str) -> Table:
        return self.tables[name.lower()]


class _Columns:
    """Per-field value lists, appended row by row, for one table."""

    def __init__(self, specs: Sequence[FieldSpec]) -> None:
        self.specs = specs
        self.values: dict[str, list[Any]] = {spec.name: [] for spec in specs}

    def add(self, **row: Any) -> None:
        for name, values in self.values.items():
            values.append(row.get(name))

    def table(self, name: str) -> Table:
        return Table(name, self.specs, self.values)


def _ms(at: datetime | None) -> int | None:
    return None if at is None else epoch_ms(at)


def build_org(
    crm: CRM,
    *,
    reparent_on_conversion: bool = True,
    owner_history: Literal["both", "ids"] = "both",
) -> Org:
    """The Salesforce org holding ``crm`` (takes ``crm.lock`` while reading)."""
    with crm.lock:
        version = crm.version
        reps = list(crm.reps)
        leads = sorted(crm.leads, key=lambda lead: lead.key)
        activities = sorted(crm.activities, key=lambda act: act.key)
        end = crm.end
        rep_names = {rep.key: f"{rep.first_name} {rep.last_name}" for rep in reps}
        facts = {lead.key: derive_lead(lead, end, rep_names, owner_history) for lead in leads}
        org_created = min(
            [rep.created_at for rep in reps] + [crm.start or end], default=end
        ) - timedelta(days=30)
        now = end
        tables: dict[str, Table] = {}
        tables["user"] = _users(reps, org_created)
        tables["group"] = _groups(org_created)
        tables["leadstatus"] = _lead_statuses(org_created)
        lead_table, history_table, conv = _leads(leads, facts)
        tables["lead"] = lead_table
        tables["leadhistory"] = history_table
        accounts, contacts, opportunities = conv
        tables["account"] = accounts
        tables["contact"] = contacts
        tables["opportunity"] = opportunities
        task_table, event_table = _activities(activities, facts, reparent_on_conversion)
        tables["task"] = task_table
        tables["event"] = event_table
    for table in tables.values():
        for stamp in ("SystemModstamp", "CreatedDate"):
            if stamp in table.specs and table.size:
                latest = float(np.nanmax(table.numeric(stamp)))
                if latest == latest:
                    now = max(now, _EPOCH + timedelta(milliseconds=latest))
    return Org(tables, version, now, facts)


def _users(reps: Sequence[Rep], org_created: datetime) -> Table:
    cols = _Columns(SCHEMAS["User"])
    cols.add(
        Id=INTEGRATION_USER_ID,
        Username="integration@acme.example.sandbox",
        Name="Integration User",
        FirstName="Integration",
        LastName="User",
        Email="integration@acme.example",
        IsActive=True,
        UserType="Standard",
        CreatedDate=org_created,
        LastModifiedDate=org_created,
        SystemModstamp=org_created,
    )
    for rep in sorted(reps, key=lambda r: r.key):
        cols.add(
            Id=user_id(rep.key),
            Username=f"{rep.email}.sandbox",
            Name=f"{rep.first_name} {rep.last_name}",
            FirstName=rep.first_name,
            LastName=rep.last_name,
            Email=rep.email,
            IsActive=rep.active,
            UserType="Standard",
            CreatedDate=rep.created_at,
            LastModifiedDate=rep.updated_at,
            SystemModstamp=rep.updated_at,
        )
    return cols.table("User")


def _groups(org_created: datetime) -> Table:
    cols = _Columns(SCHEMAS["Group"])
    cols.add(
        Id=queue_id(),
        Name=LEAD_QUEUE_NAME,
        DeveloperName="Inbound_Lead_Queue",
        Type="Queue",
        CreatedDate=org_created,
        LastModifiedDate=org_created,
        SystemModstamp=org_created,
    )
    return cols.table("Group")


def _lead_statuses(org_created: datetime) -> Table:
    cols = _Columns(SCHEMAS["LeadStatus"])
    for n, (name, converted, default) in enumerate(LEAD_STATUSES, start=1):
        cols.add(
            Id=sf_id(LEAD_STATUS_PREFIX, n),
            ApiName=name,
            MasterLabel=LEAD_STATUS_LABELS[name],
            IsConverted=converted,
            IsDefault=default,
            SortOrder=n,
            CreatedDate=org_created,
            LastModifiedDate=org_created,
            SystemModstamp=org_created,
        )
    return cols.table("LeadStatus")


def _custom_history(lead: Lead, fact: LeadFacts) -> list[HistoryRow]:
    """LeadHistory rows of the custom fields the org tracks (the reason): one per change
    after creation, with the value before it, as field history tracking records them."""
    prop = custom_properties.BY_SALESFORCE["Reason__c"]
    rows: list[HistoryRow] = []
    before: str | None = None
    for at, value in custom_properties.history(lead, prop):
        if at > fact.created_at:
            rows.append(
                HistoryRow(at, prop.salesforce, "DynamicEnum", before, value, INTEGRATION_USER_ID)
            )
        before = value
    return rows


def _leads(
    leads: Sequence[Lead], facts: dict[int, LeadFacts]
) -> tuple[Table, Table, tuple[Table, Table, Table]]:
    lead_cols = _Columns(SCHEMAS["Lead"])
    hist_cols = _Columns(SCHEMAS["LeadHistory"])
    acc_cols = _Columns(SCHEMAS["Account"])
    con_cols = _Columns(SCHEMAS["Contact"])
    opp_cols = _Columns(SCHEMAS["Opportunity"])
    by_key = {lead.key: lead for lead in leads}
    for lead in leads:
        fact = facts[lead.key]
        lid = lead_id(lead.key)
        modstamp = fact.modstamp
        # A lead merged into another is deleted with MasterRecordId = the survivor; the
        # generator keeps no merge instant, so the survivor's last change stands in for it
        # (never earlier than the merge, so an incremental sync cannot miss it).
        master = getattr(lead, "merged_into", None)
        deleted = lead.archived or master is not None
        if master is not None and master in by_key:
            modstamp = max(modstamp, by_key[master].updated_at)
        conv = fact.converted_at
        source = LEAD_SOURCES.get(lead.lead_source, lead.lead_source)
        industry = INDUSTRIES.get(lead.industry, lead.industry)
        owner = owner_ref(fact.owner_key)
        name = f"{lead.first_name} {lead.last_name}"
        lead_cols.add(
            Id=lid,
            FirstName=lead.first_name,
            LastName=lead.last_name,
            Name=name,
            Email=lead.email,
            Company=lead.company,
            Status=fact.status,
            OwnerId=owner,
            LeadSource=source,
            Industry=industry,
            IsConverted=conv is not None,
            ConvertedDate=local_date(conv) if conv is not None else None,
            ConvertedAccountId=account_id(lead.key) if conv is not None else None,
            ConvertedContactId=contact_id(lead.key) if conv is not None else None,
            ConvertedOpportunityId=opportunity_id(lead.key) if conv is not None else None,
            IsDeleted=deleted,
            MasterRecordId=lead_id(master) if master is not None else None,
            CreatedById=INTEGRATION_USER_ID,
            **{
                p.salesforce: custom_properties.current(lead, p)
                for p in custom_properties.PROPERTIES
            },
            CreatedDate=_ms(fact.created_at),
            LastModifiedDate=_ms(modstamp),
            SystemModstamp=_ms(modstamp),
        )
        rows = [*fact.history, *_custom_history(lead, fact)]
        if len(rows) >= HISTORY_ROWS_PER_LEAD:
            raise ValueError(f"lead {lead.key} has more history rows than its Id space")
        for n, row in enumerate(rows):
            hist_cols.add(
                Id=sf_id(LEAD_HISTORY_PREFIX, lead.key * HISTORY_ROWS_PER_LEAD + n),
                LeadId=lid,
                Field=row.field,
                DataType=row.data_type,
                OldValue=row.old,
                NewValue=row.new,
                CreatedById=row.by,
                CreatedDate=_ms(row.at),
                IsDeleted=deleted,
            )
        if conv is None:
            continue
        acc_cols.add(
            Id=account_id(lead.key),
            Name=lead.company,
            Industry=industry,
            OwnerId=owner,
            IsDeleted=False,
            CreatedDate=_ms(conv),
            LastModifiedDate=_ms(conv),
            SystemModstamp=_ms(conv),
        )
        con_cols.add(
            Id=contact_id(lead.key),
            FirstName=lead.first_name,
            LastName=lead.last_name,
            Name=name,
            Email=lead.email,
            AccountId=account_id(lead.key),
            OwnerId=owner,
            LeadSource=source,
            IsDeleted=False,
            CreatedDate=_ms(conv),
            LastModifiedDate=_ms(conv),
            SystemModstamp=_ms(conv),
        )
        stage = OPPORTUNITY_STAGES[0]
        opp_stamp = conv
        if fact.opportunity_at is not None:
            stage = OPPORTUNITY_STAGES[1]
            opp_stamp = max(opp_stamp, fact.opportunity_at)
        won = fact.won_at is not None
        if fact.won_at is not None:
            stage = OPPORTUNITY_STAGES[2]
            opp_stamp = max(opp_stamp, fact.won_at)
        close = (
            local_date(fact.won_at)
            if fact.won_at is not None
            else (local_date(conv) + timedelta(days=30))
        )
        opp_cols.add(
            Id=opportunity_id(lead.key),
            Name=f"{lead.company}-",
            AccountId=account_id(lead.key),
            OwnerId=owner,
            StageName=stage,
            IsWon=won,
            IsClosed=won,
            CloseDate=close,
            LeadSource=source,
            IsDeleted=False,
            CreatedDate=_ms(conv),
            LastModifiedDate=_ms(opp_stamp),
            SystemModstamp=_ms(opp_stamp),
        )
    return (
        lead_cols.table("Lead"),
        hist_cols.table("LeadHistory"),
        (acc_cols.table("Account"), con_cols.table("Contact"), opp_cols.table("Opportunity")),
    )


def _activities(
    activities: Sequence[Activity], facts: dict[int, LeadFacts], reparent: bool
) -> tuple[Table, Table]:
    task_cols = _Columns(SCHEMAS["Task"])
    event_cols = _Columns(SCHEMAS["Event"])
    lead_ids: dict[int, str] = {}
    for act in activities:
        if act.kind == "note" or not act.lead_keys:
            continue
        lead_key = act.lead_keys[0]
        fact = facts.get(lead_key)
        if fact is None:
            continue
        who = lead_ids.get(lead_key)
        if who is None:
            who = lead_ids[lead_key] = lead_id(lead_key)
        what: str | None = None
        modstamp = act.updated_at
        deleted = act.archived
        conv = fact.converted_at
        if reparent and conv is not None:
            who = contact_id(lead_key)
            what = opportunity_id(lead_key)
            if act.created_at < conv:
                modstamp = max(modstamp, conv)
        elif fact.deleted_at is not None:
            deleted = True
            modstamp = max(modstamp, fact.deleted_at)
        owner = user_id(act.owner_key) if act.owner_key is not None else INTEGRATION_USER_ID
        stamp = _ms(modstamp)
        if act.kind == "meeting":
            start = act.occurred_at
            end = act.end_at or start + timedelta(minutes=30)
            event_cols.add(
                Id=event_id(act.key),
                WhoId=who,
                WhatId=what,
                OwnerId=owner,
                Subject=act.title or "Meeting",
                ActivityDateTime=_ms(start),
                ActivityDate=local_date(start),
                StartDateTime=_ms(start),
                EndDateTime=_ms(end),
                DurationInMinutes=int((end - start).total_seconds() // 60),
                IsAllDayEvent=False,
                EventSubtype="Event",
                IsDeleted=deleted,
                IsArchived=False,
                CreatedById=owner,
                CreatedDate=_ms(act.created_at),
                LastModifiedDate=stamp,
                SystemModstamp=stamp,
            )
            continue
        _task_row(task_cols, act, who, what, owner, deleted, stamp)
    return task_cols.table("Task"), event_cols.table("Event")


def _task_row(
    cols: _Columns,
    act: Activity,
    who: str,
    what: str | None,
    owner: str,
    deleted: bool,
    stamp: int | None,
) -> None:
    kind = act.kind
    if kind == "call":
        subtype, status = "Call", "Completed"
        subject = act.title or "Call"
        completed: datetime | None = act.created_at
        call_type = "Inbound" if act.direction == "INBOUND" else "Outbound"
        disposition = DISPOSITION_LABELS.get(act.disposition or "")
        duration = (act.duration_ms or 0) // 1000
    elif kind == "email":
        subtype, status = "Email", "Completed"
        subject = f"Email: {act.title}" if act.title else "Email"
        completed = act.created_at
        call_type = disposition = None
        duration = None
    else:
        subtype = "Task"
        status = _TASK_STATUSES.get(act.status or "", "Not Started")
        subject = act.title or "Task"
        completed = act.updated_at if status == "Completed" else None
        call_type = disposition = None
        duration = None
    cols.add(
        Id=task_id(act.key),
        WhoId=who,
        WhatId=what,
        OwnerId=owner,
        Subject=subject,
        Status=status,
        Priority="Normal",
        TaskSubtype=subtype,
        Type=subtype if subtype != "Task" else "Other",
        CallType=call_type,
        CallDisposition=disposition,
        CallDurationInSeconds=duration,
        ActivityDate=local_date(act.occurred_at),
        CompletedDateTime=_ms(completed),
        IsClosed=status == "Completed",
        IsDeleted=deleted,
        IsArchived=False,
        CreatedById=owner,
        CreatedDate=_ms(act.created_at),
        LastModifiedDate=stamp,
        SystemModstamp=stamp,
    )


def mql_entries(facts: LeadFacts) -> list[datetime]:
    """Instants at which the Salesforce lead entered "Marketing Qualified": its CreatedDate
    when created in that status, plus every Status history row with that NewValue."""
    out = [facts.created_at] if facts.initial_status == MARKETING_QUALIFIED else []
    out.extend(
        row.at for row in facts.history if row.field == "Status" and row.new == MARKETING_QUALIFIED
    )
    return out


__all__ = [
    "CONVERTED",
    "INDUSTRIES",
    "INTEGRATION_USER_ID",
    "LEAD_SOURCES",
    "LEAD_STATUSES",
    "LEAD_STATUS_LABELS",
    "MARKETING_QUALIFIED",
    "SCHEMAS",
    "TASK_STATUSES",
    "LeadFacts",
    "Org",
    "account_id",
    "build_org",
    "contact_id",
    "derive_lead",
    "event_id",
    "lead_id",
    "local_date",
    "mql_entries",
    "number_of",
    "opportunity_id",
    "owner_ref",
    "queue_id",
    "sf_id",
    "task_id",
    "user_id",
]
