"""HubSpot → snapshot: owners, contacts with funnel history, engagements with contact links.

Every request goes through ``hubspot-api-client`` (``HubSpot(access_token=…, host=…)``):
the generated ``*_with_http_info`` methods with ``_preload_content=False``, so the client
builds the URL, query string and auth header while we keep the status, the rate-limit
headers and the body *as HubSpot sent it*. Raw JSON matters: it is the audit's evidence
(``raw``), it lets a truncated or malformed answer be retried instead of half-parsed, and
it skips the client's model layer, which re-parses every timestamp. The client's own
urllib3 retries are switched off (``retry=NO_RETRIES`` reaches each ``PoolManager``) so
they never stack on the engine's tenacity policy.

How each stream syncs:

* **first run** (or ``full=True``): list every object (``after`` paging, the largest page
  HubSpot allows: 50 with ``propertiesWithHistory``, else 100). The cursor holds the
  ``after`` token and the scan's start instant, so a killed scan resumes mid-list; when
  the list ends, the cursor becomes ``since = scan start − look-back``: anything changed
  while the scan ran is read again next time.
* **later runs**: search ``{lastmodifieddate|hs_lastmodifieddate} >= since`` sorted
  ascending, 200 a page, then hydrate the page — contacts by batch read with
  ``propertiesWithHistory`` (50 per request), engagements by one v4 association batch
  read (≤ 1,000) for their contact links. Each page re-windows from the last modified
  value it saw (``since`` = that value, ``ties`` = records already taken at it), so the
  search ``after`` offset never grows toward HubSpot's 10,000-result cap and a record
  changing mid-run cannot shift the paging; the cap is met only if more than 10,000
  records share one millisecond, which ends the run with a clear error.
* **deletions**: ``archived=true`` lists every run (HubSpot has no "deleted since"
  query). Archived contacts not yet marked deleted are batch read with their history,
  so a lead created and deleted between two syncs still arrives whole.
* **owners**: both lists (active, then ``archived=true``) every run; they are few.

Malformed records: a timestamp that HubSpot sent but that is not an instant ends the
sync with one line naming the object type, record id and field — the audit measures
time, and a guessed instant would silently move every figure. A date-time without a
time zone is the exception: HubSpot stores datetimes in UTC, so it is read as UTC, kept,
and noted in ``data_issues`` (the report's data notes say so, nothing moves silently).
A duration that is not a number is stored as empty and counted (``StreamStats.gaps``):
the audit can live without it. ``hs_merged_object_ids`` is kept in ``raw`` so the audit
can name contacts merged in HubSpot after an earlier sync stored them separately.
"""

from __future__ import annotations

import http.client
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import urllib3
from urllib3.util.retry import Retry

from config.dispositions import HUBSPOT_DISPOSITION_LABELS
from connectors.core import (
    Advance,
    Api,
    Batch,
    Clock,
    ConfigTrouble,
    ConnectionTrouble,
    Cursor,
    HttpAnswer,
    RateLimits,
    RecordError,
    RefusedError,
    Reply,
    Stream,
    StreamStats,
    SyncOptions,
    SystemClock,
    chunked,
)
from snapshot.instants import (
    InstantError,
    format_instant,
    instant_to_epoch_ms,
    normalize_instant,
    parse_instant,
)
from snapshot.quality import naive_instant
from snapshot.store import Page, SnapshotStore, canonical_id, to_raw_json

SOURCE = "hubspot"

log = logging.getLogger(__name__)

NO_RETRIES = Retry(total=False, redirect=False, raise_on_status=False)
"""Handed to every generated Configuration (``HubSpot(retry=…)`` → ``configuration.retries``
→ ``PoolManager(retries=…)``): urllib3 never retries, so only the engine does. With
``total=False`` a connection error surfaces as itself, not as ``MaxRetryError``."""

LIST_LIMIT = 100
HISTORY_LIMIT = 50
SEARCH_LIMIT = 200
SEARCH_CAP = 10_000
BATCH_HISTORY_LIMIT = 50
ASSOCIATION_BATCH_LIMIT = 1_000
OWNERS_LIMIT = 500

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

DIRECTIONS = {
    "OUTBOUND": "outbound",
    "INBOUND": "inbound",
    "EMAIL": "outbound",
    "INCOMING_EMAIL": "inbound",
    "FORWARDED_EMAIL": "forwarded",
}

# Keys of a HubSpot record kept in ``raw``: the same whichever endpoint delivered it
# (list, search, batch read), so a full and an incremental sync store identical rows.
RAW_KEYS = ("id", "properties", "propertiesWithHistory", "createdAt", "updatedAt", "archived")
RAW_KEYS_ARCHIVED = (*RAW_KEYS, "archivedAt")

SCOPES = (
    "crm.objects.contacts.read, crm.objects.owners.read and the engagement read scopes "
    "(sales-email-read for emails)"
)


# ------------------------------------------------------------------------------ objects


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
)


# ------------------------------------------------------------------------------ dialect


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


class HubSpotDialect:
    """How HubSpot states its limits and errors, and what a user does about each error."""

    source = SOURCE

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def limits(self, answer: HttpAnswer) -> RateLimits:
        h = answer.headers
        return RateLimits(
            window_max=_int(h.get("x-hubspot-ratelimit-max")),
            window_remaining=_int(h.get("x-hubspot-ratelimit-remaining")),
            window_ms=_int(h.get("x-hubspot-ratelimit-interval-milliseconds")),
            daily_max=_int(h.get("x-hubspot-ratelimit-daily")),
            daily_remaining=_int(h.get("x-hubspot-ratelimit-daily-remaining")),
        )

    @staticmethod
    def _policy(answer: HttpAnswer) -> str:
        try:
            data = answer.json()
        except (ValueError, UnicodeDecodeError):
            return ""
        return str(data.get("policyName") or "").upper() if isinstance(data, dict) else ""

    def is_daily_limit(self, answer: HttpAnswer) -> bool:
        return self._policy(answer) == "DAILY" or "daily limit" in answer.message().lower()

    def short_limit_wait(self, answer: HttpAnswer) -> float | None:
        if self._policy(answer) == "SECONDLY" or "secondly limit" in answer.message().lower():
            return 1.0
        return None

    def fix_for(self, answer: HttpAnswer, endpoint: str) -> str:
        status = answer.status
        if status == 401:
            return (
                "HubSpot rejected the access token; set HUBSPOT_ACCESS_TOKEN to a valid "
                "private-app token (HubSpot > Settings > Integrations > Private apps)"
            )
        if status == 403:
            return f"the private app lacks a scope for this call; grant it {SCOPES}"
        if status == 404:
            return f"check HUBSPOT_BASE_URL ({self.base_url}) points at the HubSpot API"
        if status == 400:
            return "HubSpot refused the request as malformed; report this line as a bug"
        if 300 <= status < 400:
            return f"HubSpot redirected the call; check HUBSPOT_BASE_URL ({self.base_url})"
        return "check https://status.hubspot.com and run the sync again later"

    def unreachable_fix(self) -> str:
        return (
            f"HubSpot could not be reached at {self.base_url}: check the network, a proxy, "
            "and HUBSPOT_BASE_URL"
        )


# ---------------------------------------------------------------------------- transport


class HubSpotTransport:
    """The client library, one generated API object each, turned into ``HttpAnswer`` s.

    The discovery properties (``client.crm.objects.basic_api``) build a new ApiClient —
    and a new connection pool — on every access, so each API is fetched once here.
    """

    def __init__(
        self,
        access_token: str,
        base_url: str,
        *,
        connect_timeout_s: float,
        read_timeout_s: float,
        ssl_ca_cert: str | None = None,
    ) -> None:
        from hubspot import HubSpot
        from hubspot.crm.associations.v4 import exceptions as assoc_exceptions
        from hubspot.crm.objects import exceptions as object_exceptions
        from hubspot.crm.owners import exceptions as owner_exceptions

        client = HubSpot(
            access_token=access_token, host=base_url, retry=NO_RETRIES, ssl_ca_cert=ssl_ca_cert
        )
        self.basic = client.crm.objects.basic_api
        self.search = client.crm.objects.search_api
        self.batch = client.crm.objects.batch_api
        self.owners = client.crm.owners.owners_api
        self.associations = client.crm.associations.v4.batch_api
        self.timeout = (connect_timeout_s, read_timeout_s)
        self.api_errors: tuple[type[Exception], ...] = (
            object_exceptions.ApiException,
            owner_exceptions.ApiException,
            assoc_exceptions.ApiException,
        )

    def pools(self) -> list[Any]:
        """The urllib3 pool managers in use (tests check their retry setting)."""
        apis = (self.basic, self.search, self.batch, self.owners, self.associations)
        return [api.api_client.rest_client.pool_manager for api in apis]

    def exchange(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> HttpAnswer:
        """Call a generated method without deserialisation; any HTTP status is an answer."""
        try:
            response = method(
                *args, _preload_content=False, _request_timeout=self.timeout, **kwargs
            )
        except self.api_errors as exc:
            status = getattr(exc, "status", 0) or 0
            if not status:
                reason = str(getattr(exc, "reason", "") or "").splitlines()
                raise ConfigTrouble(
                    f"TLS failed ({reason[0] if reason else 'unknown reason'}); if a proxy or a "
                    "private CA is in the way, set REQUESTS_CA_BUNDLE or SSL_CERT_FILE"
                ) from None
            return HttpAnswer.of(status, getattr(exc, "headers", None), getattr(exc, "body", b""))
        except (urllib3.exceptions.HTTPError, http.client.HTTPException, OSError) as exc:
            raise ConnectionTrouble(_describe(exc)) from None
        try:
            body = response.data
        except (urllib3.exceptions.HTTPError, http.client.HTTPException, OSError) as exc:
            raise ConnectionTrouble(f"answer cut short: {_describe(exc)}") from None
        finally:
            response.release_conn()
        return HttpAnswer.of(response.status, response.headers, body)

    # -- endpoints ----------------------------------------------------------------------

    def list_page(
        self,
        object_type: str,
        *,
        limit: int,
        after: str | None,
        properties: Sequence[str],
        history: Sequence[str] = (),
        associations: Sequence[str] = (),
        archived: bool = False,
    ) -> HttpAnswer:
        kwargs: dict[str, Any] = {"limit": limit, "properties": list(properties)}
        if after:
            kwargs["after"] = after
        if history:
            kwargs["properties_with_history"] = list(history)
        if associations:
            kwargs["associations"] = list(associations)
        if archived:
            kwargs["archived"] = True
        return self.exchange(self.basic.get_page_with_http_info, object_type, **kwargs)

    def search_page(self, object_type: str, body: dict[str, Any]) -> HttpAnswer:
        return self.exchange(self.search.do_search_with_http_info, object_type, body)

    def batch_read(
        self,
        object_type: str,
        ids: Sequence[str],
        *,
        properties: Sequence[str],
        history: Sequence[str] = (),
        archived: bool = False,
    ) -> HttpAnswer:
        body: dict[str, Any] = {
            "inputs": [{"id": i} for i in ids],
            "properties": list(properties),
        }
        if history:
            body["propertiesWithHistory"] = list(history)
        kwargs = {"archived": True} if archived else {}
        return self.exchange(self.batch.read_with_http_info, object_type, body, **kwargs)

    def association_page(
        self, from_type: str, to_type: str, inputs: Sequence[Mapping[str, str]]
    ) -> HttpAnswer:
        body = {"inputs": [dict(i) for i in inputs]}
        return self.exchange(self.associations.get_page_with_http_info, from_type, to_type, body)

    def owners_page(self, *, limit: int, after: str | None, archived: bool) -> HttpAnswer:
        kwargs: dict[str, Any] = {"limit": limit}
        if after:
            kwargs["after"] = after
        if archived:
            kwargs["archived"] = True
        return self.exchange(self.owners.get_page_with_http_info, **kwargs)

    def account_details(self) -> HttpAnswer:
        """``GET /account-info/v3/details``, which the client has no method for.

        Sent through a generated ApiClient's ``call_api`` rather than ``api_request``:
        the latter ignores ``host`` (it would reach api.hubapi.com from a sandbox), has
        no timeout and prints errors to stdout.
        """
        return self.exchange(
            self.owners.api_client.call_api,
            "/account-info/v3/details",
            "GET",
            header_params={"Accept": "application/json"},
            auth_settings=["oauth2"],
            response_types_map={},
        )


def _describe(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__


# ------------------------------------------------------------------------------ mapping


@dataclass
class MappingContext:
    """What mapping needs beyond the record: where the CRM's UI lives."""

    portal_id: str | None = None
    ui_domain: str = "app.hubspot.com"
    issues: list[dict[str, Any]] = field(default_factory=list)
    """``data_issues`` rows noted while mapping, taken by the page they belong to."""

    def contact_url(self, crm_id: str) -> str | None:
        if not self.portal_id:
            return None
        return f"https://{self.ui_domain}/contacts/{self.portal_id}/record/0-1/{crm_id}"

    def take_issues(self) -> list[dict[str, Any]]:
        taken, self.issues = self.issues, []
        return taken


_TABLE_OF = {"contacts": "leads", "owners": "owners"}


def _instant(
    value: Any,
    object_type: str,
    record_id: str,
    field_name: str,
    ctx: MappingContext | None = None,
) -> str | None:
    """A HubSpot instant in the snapshot's format; a value that is no instant is refused.

    An instant without a time zone (``2026-10-05T10:00:00``) is read as UTC — HubSpot
    stores every datetime in UTC — and kept, with a ``data_issues`` note through ``ctx``,
    so the report says so: refusing it would stop the night's sync for one record.
    """
    if value is None or value == "":
        return None
    try:
        return normalize_instant(str(value))
    except InstantError:
        naive = _naive(str(value))
        if naive is not None:
            if ctx is not None:
                table = _TABLE_OF.get(object_type, "activities")
                ctx.issues.append(
                    naive_instant(table, canonical_id(SOURCE, record_id), SOURCE, field_name, value)
                )
            return naive
        raise RecordError(
            f"HubSpot {object_type} record {record_id} has {field_name}={str(value)[:40]!r}, "
            "which is not an ISO-8601 instant; correct the record in HubSpot (or report it "
            "if HubSpot shows it fine) and run the sync again"
        ) from None


def _naive(text: str) -> str | None:
    """A date-time without an offset, as UTC in the snapshot's format; None if it is not one."""
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        return None
    return format_instant(parsed.replace(tzinfo=UTC))


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text if text != "" else None


def _owner(value: Any) -> str | None:
    text = _text(value)
    return canonical_id(SOURCE, text) if text else None


def _raw(record: Mapping[str, Any], archived: bool) -> str:
    keys = RAW_KEYS_ARCHIVED if archived else RAW_KEYS
    return to_raw_json({k: record[k] for k in keys if k in record})


def _record_id(record: Mapping[str, Any], object_type: str) -> str:
    rid = record.get("id")
    if rid is None or str(rid) == "":
        raise RecordError(f"HubSpot sent a {object_type} record without an id; report this")
    return str(rid)


def map_owner(record: Mapping[str, Any], *, active: bool) -> dict[str, Any]:
    crm_id = _record_id(record, "owners")
    first, last = _text(record.get("firstName")), _text(record.get("lastName"))
    name = " ".join(part for part in (first, last) if part) or None
    teams = record.get("teams") or []
    team = next((t.get("name") for t in teams if isinstance(t, dict) and t.get("primary")), None)
    return {
        "id": canonical_id(SOURCE, crm_id),
        "source": SOURCE,
        "crm_id": crm_id,
        "email": _text(record.get("email")),
        "name": name,
        "team": team,
        "active": 1 if active and not record.get("archived") else 0,
        "created_at": _instant(record.get("createdAt"), "owners", crm_id, "createdAt"),
        "updated_at": _instant(record.get("updatedAt"), "owners", crm_id, "updatedAt"),
        "raw": to_raw_json(record),
    }


def map_contact(
    record: Mapping[str, Any], ctx: MappingContext
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A contact → its ``leads`` row and its complete ``lead_history``."""
    crm_id = _record_id(record, "contacts")
    props = record.get("properties") or {}
    lead_id = canonical_id(SOURCE, crm_id)
    archived = bool(record.get("archived"))
    created = _instant(props.get("createdate"), "contacts", crm_id, "createdate", ctx)
    updated = _instant(props.get("lastmodifieddate"), "contacts", crm_id, "lastmodifieddate", ctx)
    row = {
        "id": lead_id,
        "source": SOURCE,
        "crm_id": crm_id,
        "email": _text(props.get("email")),
        "company": _text(props.get("company")),
        "owner_id": _owner(props.get("hubspot_owner_id")),
        "segment": _text(props.get("industry")),
        "lead_source": _text(props.get("hs_analytics_source")),
        "created_at": created
        or _instant(record.get("createdAt"), "contacts", crm_id, "createdAt", ctx),
        "stage": _text(props.get("lifecyclestage")),
        "status": _text(props.get("hs_lead_status")),
        "is_deleted": 1 if archived else 0,
        "deleted_at": (
            _instant(record.get("archivedAt"), "contacts", crm_id, "archivedAt", ctx)
            if archived
            else None
        ),
        "updated_at": updated
        or _instant(record.get("updatedAt"), "contacts", crm_id, "updatedAt", ctx),
        "url": ctx.contact_url(crm_id),
        "raw": _raw(record, archived),
    }
    history = record.get("propertiesWithHistory") or {}
    return row, map_history(lead_id, crm_id, history, props, ctx=ctx)


def map_history(
    lead_id: str,
    crm_id: str,
    with_history: Mapping[str, Any],
    current: Mapping[str, Any],
    *,
    ctx: MappingContext | None = None,
) -> list[dict[str, Any]]:
    """Property history → ``lead_history`` rows, oldest first.

    HubSpot's entry order is unverified, so entries are sorted here. Two entries of one
    field at the same millisecond collapse to one row (the table's key): the one equal to
    the current value wins if there is one, else the first HubSpot lists.
    """
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for prop, field_name in HISTORY_FIELDS.items():
        entries = with_history.get(prop) or []
        for entry in entries:
            if not isinstance(entry, Mapping):
                continue
            changed = _instant(entry.get("timestamp"), "contacts", crm_id, f"{prop} history", ctx)
            if changed is None:
                continue
            raw_value = _text(entry.get("value"))
            value = _owner(raw_value) if field_name == "owner" else raw_value
            key = (field_name, changed)
            row = {
                "lead_id": lead_id,
                "field": field_name,
                "value": value,
                "changed_at": changed,
                "source_type": _text(entry.get("sourceType")),
            }
            if key not in rows or raw_value == _text(current.get(prop)):
                rows[key] = row
    return sorted(rows.values(), key=lambda r: (r["changed_at"], r["field"]))


def _duration_s(
    spec: ObjectSpec, props: Mapping[str, Any], record_id: str
) -> tuple[float | None, bool]:
    """Duration in seconds and whether a value was present but unusable (a gap)."""
    if spec.kind == "call":
        raw = props.get("hs_call_duration")
        if raw in (None, ""):
            return None, False
        try:
            return float(raw) / 1000, False
        except (TypeError, ValueError):
            return None, True
    if spec.kind == "meeting":
        start, end = props.get("hs_meeting_start_time"), props.get("hs_meeting_end_time")
        if start in (None, "") or end in (None, ""):
            return None, False
        try:
            return (parse_instant(str(end)) - parse_instant(str(start))).total_seconds(), False
        except InstantError:
            return None, True
    return None, False


def map_activity(
    record: Mapping[str, Any],
    spec: ObjectSpec,
    stats: StreamStats,
    ctx: MappingContext | None = None,
) -> dict[str, Any]:
    crm_id = _record_id(record, spec.object_type)
    props = record.get("properties") or {}
    archived = bool(record.get("archived"))
    kind = spec.kind or spec.object_type
    outcome = None
    if spec.kind == "call":
        outcome = _text(props.get("hs_call_disposition"))
    elif spec.kind == "meeting":
        outcome = _text(props.get("hs_meeting_outcome"))
    duration, gap = _duration_s(spec, props, crm_id)
    stats.gaps += int(gap)
    direction = _text(props.get(spec.direction)) if spec.direction else None

    def instant(name: str, value: Any) -> str | None:
        return _instant(value, spec.object_type, crm_id, name, ctx)

    return {
        "id": canonical_id(SOURCE, crm_id),
        "source": SOURCE,
        "crm_id": crm_id,
        "kind": kind,
        "direction": DIRECTIONS.get(direction or ""),
        "outcome": outcome,
        "outcome_label": HUBSPOT_DISPOSITION_LABELS.get(outcome or "")
        if spec.kind == "call"
        else None,
        "status": _text(props.get(spec.status)) if spec.status else None,
        "subject": _text(props.get(spec.subject)) if spec.subject else None,
        "occurred_at": instant("hs_timestamp", props.get("hs_timestamp")),
        "created_at": instant("hs_createdate", props.get("hs_createdate"))
        or instant("createdAt", record.get("createdAt")),
        "updated_at": instant("hs_lastmodifieddate", props.get("hs_lastmodifieddate"))
        or instant("updatedAt", record.get("updatedAt")),
        "owner_id": _owner(props.get("hubspot_owner_id")),
        "duration_s": duration,
        "is_deleted": 1 if archived else 0,
        "raw": _raw(record, archived),
    }


def listed_contact_ids(record: Mapping[str, Any]) -> tuple[list[str], bool]:
    """Contact ids from a list answer's ``associations``, and whether the list was cut."""
    block = (record.get("associations") or {}).get("contacts") or {}
    ids = sorted({str(a["id"]) for a in block.get("results") or [] if a.get("id") is not None})
    truncated = bool((block.get("paging") or {}).get("next"))
    return ids, truncated


def activity_page(
    records: Sequence[Mapping[str, Any]],
    spec: ObjectSpec,
    links: Mapping[str, Sequence[str]],
    stats: StreamStats,
    ctx: MappingContext | None = None,
) -> Page:
    page = Page()
    for record in records:
        row = map_activity(record, spec, stats, ctx)
        page.activities.append(row)
        page.links_for.append(row["id"])
        for contact_id in links.get(row["crm_id"], ()):
            page.links.append(
                {"activity_id": row["id"], "lead_id": canonical_id(SOURCE, contact_id)}
            )
    if ctx is not None:
        page.issues.extend(ctx.take_issues())
    return page


def contact_page(records: Sequence[Mapping[str, Any]], ctx: MappingContext) -> Page:
    page = Page()
    for record in records:
        row, history = map_contact(record, ctx)
        page.leads.append(row)
        page.history_for.append(row["id"])
        page.history.extend(history)
    page.issues.extend(ctx.take_issues())
    return page


# ------------------------------------------------------------------------------ reading


def _results(data: Any) -> bool:
    return isinstance(data, dict) and isinstance(data.get("results"), list)


def _next_after(data: Mapping[str, Any]) -> str | None:
    after = ((data.get("paging") or {}).get("next") or {}).get("after")
    return str(after) if after not in (None, "") else None


@dataclass
class HubSpotReader:
    """The HubSpot calls the streams make, each through ``Api.call`` (throttle + retry)."""

    transport: HubSpotTransport

    def list_page(self, api: Api, spec: ObjectSpec, after: str | None, *, archived: bool) -> Reply:
        associations = () if spec.is_contact else ("contacts",)
        return api.call(
            f"GET /crm/v3/objects/{spec.object_type}" + ("?archived=true" if archived else ""),
            lambda: self.transport.list_page(
                spec.object_type,
                limit=spec.list_limit,
                after=after,
                properties=spec.properties,
                history=spec.history,
                associations=associations,
                archived=archived,
            ),
            expect=_results,
        )

    def ids_page(self, api: Api, spec: ObjectSpec, after: str | None) -> Reply:
        """Archived records, ids and ``archivedAt`` only, at the plain page cap."""
        return api.call(
            f"GET /crm/v3/objects/{spec.object_type}?archived=true",
            lambda: self.transport.list_page(
                spec.object_type,
                limit=LIST_LIMIT,
                after=after,
                properties=(spec.modified,),
                archived=True,
            ),
            expect=_results,
        )

    def search(
        self, api: Api, spec: ObjectSpec, since: str, skip: int, properties: Sequence[str]
    ) -> Reply:
        body: dict[str, Any] = {
            "filterGroups": [
                {
                    "filters": [
                        {
                            "propertyName": spec.modified,
                            "operator": "GTE",
                            "value": str(instant_to_epoch_ms(since)),
                        }
                    ]
                }
            ],
            "sorts": [{"propertyName": spec.modified, "direction": "ASCENDING"}],
            "properties": list(properties),
            "limit": SEARCH_LIMIT,
        }
        if skip:
            body["after"] = str(skip)
        return api.call(
            f"POST /crm/v3/objects/{spec.object_type}/search",
            lambda: self.transport.search_page(spec.object_type, body),
            lanes=("app", "search"),
            expect=_results,
        )

    def read_with_history(
        self, api: Api, spec: ObjectSpec, ids: Sequence[str], *, archived: bool = False
    ) -> list[dict[str, Any]]:
        """Batch read (≤ 50 with history); ids HubSpot no longer has are left out."""
        found: dict[str, dict[str, Any]] = {}
        for chunk in chunked(list(ids), BATCH_HISTORY_LIMIT):
            reply = api.call(
                f"POST /crm/v3/objects/{spec.object_type}/batch/read"
                + ("?archived=true" if archived else ""),
                lambda chunk=chunk: self.transport.batch_read(
                    spec.object_type,
                    chunk,
                    properties=spec.properties,
                    history=spec.history,
                    archived=archived,
                ),
                expect=_results,
            )
            for record in reply.data["results"]:
                found[str(record.get("id"))] = record
        return [found[i] for i in ids if i in found]

    def contact_links(self, api: Api, spec: ObjectSpec, ids: Sequence[str]) -> dict[str, list[str]]:
        """v4 association batch read: engagement id → contact ids (following per-id paging)."""
        links: dict[str, set[str]] = {i: set() for i in ids}
        pending: list[dict[str, str]] = [{"id": i} for i in ids]
        while pending:
            batch, pending = pending[:ASSOCIATION_BATCH_LIMIT], pending[ASSOCIATION_BATCH_LIMIT:]
            reply = api.call(
                f"POST /crm/v4/associations/{spec.object_type}/contacts/batch/read",
                lambda batch=batch: self.transport.association_page(
                    spec.object_type, "contacts", batch
                ),
                expect=_results,
            )
            for result in reply.data["results"]:
                from_id = str((result.get("from") or {}).get("id"))
                for target in result.get("to") or []:
                    if target.get("toObjectId") is not None:
                        links.setdefault(from_id, set()).add(str(target["toObjectId"]))
                after = _next_after(result)
                if after:
                    pending.append({"id": from_id, "after": after})
        return {k: sorted(v) for k, v in links.items()}


# ------------------------------------------------------------------------------ streams


def _lookback_from(instant: str, lookback: timedelta) -> str:
    return format_instant(parse_instant(instant) - lookback)


class OwnersStream(Stream):
    """Active owners, then archived ones (marked inactive); re-read in full every run."""

    name = "owners"

    def __init__(self, reader: HubSpotReader) -> None:
        self.reader = reader

    def open(self, cursor: Cursor | None, *, full: bool, api: Api, store: SnapshotStore) -> Cursor:
        if cursor and cursor.scanning and cursor.mode == "full" and not full:
            return cursor
        return Cursor(mode="full", phase="active", scanning=True)

    def fetch(self, api: Api, cursor: Cursor) -> Batch:
        archived = cursor.phase == "archived"
        reply = api.call(
            "GET /crm/v3/owners/" + ("?archived=true" if archived else ""),
            lambda: self.reader.transport.owners_page(
                limit=OWNERS_LIMIT, after=cursor.after, archived=archived
            ),
            expect=_results,
        )
        return Batch(reply.data["results"], next_after=_next_after(reply.data))

    def to_page(self, batch: Batch, stats: StreamStats) -> Page:
        return Page(owners=[map_owner(r, active=not r.get("archived")) for r in batch.records])

    def advance(self, cursor: Cursor, batch: Batch) -> Advance:
        if batch.next_after:
            return Advance(
                Cursor("full", after=batch.next_after, phase=cursor.phase, scanning=True), False
            )
        if cursor.phase == "active":
            return Advance(Cursor("full", phase="archived", scanning=True), False)
        return Advance(Cursor("complete"), True)

    def can_prefetch(self, cursor: Cursor) -> bool:
        """Its pages need only the CRM: read ahead while the engine writes."""
        return True


class ObjectStream(Stream):
    """Contacts or one engagement type: full list the first time, then changes by search."""

    def __init__(
        self,
        spec: ObjectSpec,
        reader: HubSpotReader,
        ctx: MappingContext,
        *,
        lookback: timedelta,
        now: Callable[[], str],
    ) -> None:
        self.spec = spec
        self.name = spec.stream
        self.reader = reader
        self.ctx = ctx
        self.lookback = lookback
        self.now = now

    def open(self, cursor: Cursor | None, *, full: bool, api: Api, store: SnapshotStore) -> Cursor:
        if (
            full
            or cursor is None
            or cursor.mode not in ("full", "incremental")
            or (cursor.mode == "incremental" and not cursor.since)
        ):
            return Cursor("full", started=self.now(), scanning=True)
        if cursor.scanning or cursor.mode == "full":
            return cursor
        return Cursor("incremental", since=cursor.since, floor=cursor.since, scanning=True)

    def fetch(self, api: Api, cursor: Cursor) -> Batch:
        if cursor.mode == "full":
            reply = self.reader.list_page(api, self.spec, cursor.after, archived=False)
            records = reply.data["results"]
            links: dict[str, list[str]] = {}
            if not self.spec.is_contact:
                links = self._listed_links(api, records)
            return Batch(records, next_after=_next_after(reply.data), extra={"links": links})
        return self._fetch_changes(api, cursor)

    def _listed_links(self, api: Api, records: Sequence[Mapping[str, Any]]) -> dict[str, list[str]]:
        links: dict[str, list[str]] = {}
        cut: list[str] = []
        for record in records:
            ids, truncated = listed_contact_ids(record)
            links[str(record.get("id"))] = ids
            if truncated:
                cut.append(str(record.get("id")))
        if cut:
            links.update(self.reader.contact_links(api, self.spec, cut))
        return links

    def _fetch_changes(self, api: Api, cursor: Cursor) -> Batch:
        if cursor.ties + SEARCH_LIMIT > SEARCH_CAP:
            raise api.fail(
                f"more than {SEARCH_CAP - SEARCH_LIMIT} {self.spec.object_type} share "
                f"{self.spec.modified}={cursor.since}, past HubSpot's search cap; run "
                "'sync --full' to read them by listing"
            )
        properties = (self.spec.modified,) if self.spec.is_contact else self.spec.properties
        reply = self.reader.search(api, self.spec, cursor.since or "", cursor.ties, properties)
        found = reply.data["results"]
        modified = [self._modified(r) for r in found]
        ids = [str(r.get("id")) for r in found]
        if self.spec.is_contact:
            records = self.reader.read_with_history(api, self.spec, ids) if ids else []
            links: dict[str, list[str]] = {}
        else:
            records = found
            links = self.reader.contact_links(api, self.spec, ids) if ids else {}
        total = reply.data.get("total")
        return Batch(
            records,
            next_after=_next_after(reply.data),
            total=int(total) if isinstance(total, int) else None,
            extra={"links": links, "modified": modified, "full_page": len(found) >= SEARCH_LIMIT},
        )

    def _modified(self, record: Mapping[str, Any]) -> str:
        props = record.get("properties") or {}
        rid = str(record.get("id"))
        value = _instant(
            props.get(self.spec.modified), self.spec.object_type, rid, self.spec.modified
        )
        if value is None:
            value = _instant(record.get("updatedAt"), self.spec.object_type, rid, "updatedAt")
        if value is None:
            raise RecordError(
                f"HubSpot {self.spec.object_type} record {rid} came from a search on "
                f"{self.spec.modified} without that property; report this"
            )
        return value

    def to_page(self, batch: Batch, stats: StreamStats) -> Page:
        if self.spec.is_contact:
            return contact_page(batch.records, self.ctx)
        links = batch.extra.get("links", {})
        return activity_page(batch.records, self.spec, links, stats, self.ctx)

    def advance(self, cursor: Cursor, batch: Batch) -> Advance:
        if cursor.mode == "full":
            if batch.next_after:
                return Advance(
                    Cursor("full", after=batch.next_after, started=cursor.started, scanning=True),
                    False,
                )
            since = _lookback_from(cursor.started or self.now(), self.lookback)
            return Advance(Cursor("incremental", since=since), True)
        modified: list[str] = batch.extra.get("modified", [])
        floor = cursor.floor or cursor.since or ""
        last = max(modified) if modified else (cursor.since or floor)
        if modified and (batch.next_after or batch.extra.get("full_page")):
            ties = modified.count(last) + (cursor.ties if last == cursor.since else 0)
            return Advance(
                Cursor("incremental", since=last, ties=ties, floor=floor, scanning=True), False
            )
        # The next run starts a look-back before the newest change seen (search lags
        # writes), but never earlier than this run started: no drifting backwards.
        since = max(floor, _lookback_from(last, self.lookback)) if last else floor
        return Advance(Cursor("incremental", since=since), True)

    def can_prefetch(self, cursor: Cursor) -> bool:
        """Lists and searches need only the CRM (and ``ctx``, which only this stream's
        mapping touches while it runs): read ahead while the engine writes."""
        return True


class ArchivedStream(Stream):
    """Deleted (archived) records of one type, listed every run, marked deleted.

    On the first run (or ``full``) archived contacts are listed with their history; later
    runs list ids only and batch read, with history, just those not yet marked deleted.
    """

    def __init__(self, spec: ObjectSpec, reader: HubSpotReader, ctx: MappingContext) -> None:
        self.spec = spec
        self.name = f"{spec.stream}_archived"
        self.reader = reader
        self.ctx = ctx
        self.store: SnapshotStore | None = None

    def open(self, cursor: Cursor | None, *, full: bool, api: Api, store: SnapshotStore) -> Cursor:
        self.store = store
        if cursor and cursor.scanning and not full:
            return cursor
        phase = "all" if full or cursor is None else "new"
        return Cursor("scan", phase=phase, scanning=True)

    def _already_deleted(self, ids: Sequence[str]) -> set[str]:
        if not ids or self.store is None:
            return set()
        table = "leads" if self.spec.is_contact else "activities"
        wanted = [canonical_id(SOURCE, i) for i in ids]
        marks = ",".join("?" * len(wanted))
        rows = self.store.db.execute(
            f"select crm_id from [{table}] where is_deleted = 1 and id in ({marks})", wanted
        ).fetchall()
        return {str(r[0]) for r in rows}

    def fetch(self, api: Api, cursor: Cursor) -> Batch:
        if cursor.phase == "all" or not self.spec.is_contact:
            reply = self.reader.list_page(api, self.spec, cursor.after, archived=True)
            records = reply.data["results"]
            if cursor.phase != "all":
                done = self._already_deleted([str(r.get("id")) for r in records])
                records = [r for r in records if str(r.get("id")) not in done]
            links: dict[str, list[str]] = {}
            if not self.spec.is_contact:
                links = {str(r.get("id")): listed_contact_ids(r)[0] for r in records}
            return Batch(records, next_after=_next_after(reply.data), extra={"links": links})
        reply = self.reader.ids_page(api, self.spec, cursor.after)
        ids = [str(r.get("id")) for r in reply.data["results"]]
        done = self._already_deleted(ids)
        fresh = [i for i in ids if i not in done]
        records = (
            self.reader.read_with_history(api, self.spec, fresh, archived=True) if fresh else []
        )
        return Batch(records, next_after=_next_after(reply.data))

    def to_page(self, batch: Batch, stats: StreamStats) -> Page:
        records = [{**r, "archived": True} for r in batch.records]
        if self.spec.is_contact:
            return contact_page(records, self.ctx)
        return activity_page(records, self.spec, batch.extra.get("links", {}), stats, self.ctx)

    def advance(self, cursor: Cursor, batch: Batch) -> Advance:
        if batch.next_after:
            return Advance(
                Cursor("scan", after=batch.next_after, phase=cursor.phase, scanning=True), False
            )
        return Advance(Cursor("complete"), True)

    def can_prefetch(self, cursor: Cursor) -> bool:
        """A first (or ``full``) run lists everything and needs only the CRM; later runs
        ask the snapshot which records are already marked deleted, so they do not."""
        return cursor.phase == "all"


# ---------------------------------------------------------------------------- connector


class HubSpotConnector:
    """The HubSpot source: its dialect, its streams in sync order, and the portal lookup."""

    def __init__(
        self,
        access_token: str,
        base_url: str,
        *,
        portal_id: str | None = None,
        options: SyncOptions | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.options = options or SyncOptions()
        self.clock = clock or SystemClock()
        self.dialect = HubSpotDialect(base_url)
        self.transport = HubSpotTransport(
            access_token,
            base_url,
            connect_timeout_s=self.options.connect_timeout_s,
            read_timeout_s=self.options.read_timeout_s,
            ssl_ca_cert=os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("SSL_CERT_FILE"),
        )
        self.reader = HubSpotReader(self.transport)
        self.ctx = MappingContext(portal_id=portal_id)

    def now(self) -> str:
        return format_instant(self.clock.now())

    def streams(self) -> list[Stream]:
        """Owners, then each object type followed by its deletions."""
        streams: list[Stream] = [OwnersStream(self.reader)]
        for spec in (CONTACTS, *ENGAGEMENTS):
            streams.append(
                ObjectStream(
                    spec, self.reader, self.ctx, lookback=self.options.lookback, now=self.now
                )
            )
            streams.append(ArchivedStream(spec, self.reader, self.ctx))
        return streams

    def prepare(self, api: Api) -> None:
        """Learn the portal id (for record URLs) unless HUBSPOT_PORTAL_ID gave it.

        A token without access to account details (403/404) costs the URLs, not the sync.
        """
        if self.ctx.portal_id:
            return
        api.stream = "account"
        try:
            reply = api.call(
                "GET /account-info/v3/details",
                self.transport.account_details,
                expect=lambda d: isinstance(d, dict) and "portalId" in d,
            )
        except RefusedError as exc:
            if exc.status not in (403, 404):
                raise
            log.warning(
                "HubSpot account details unavailable (HTTP %s); leads get no record URL: "
                "set HUBSPOT_PORTAL_ID to have them",
                exc.status,
            )
            return
        self.ctx.portal_id = str(reply.data["portalId"])
        self.ctx.ui_domain = str(reply.data.get("uiDomain") or self.ctx.ui_domain)
