"""Salesforce → snapshot: users, leads with their funnel history, conversions, won
opportunities, and tasks and events linked to leads.

Every request goes through ``simple-salesforce`` — ``query`` for a query's first page,
``query_more(nextRecordsUrl, identifier_is_url=True)`` for the next ones (``include_deleted``
makes both ``queryAll``), ``limits()``, and the Bulk API 2.0 client behind ``sf.bulk2`` —
one HTTP exchange per engine ``send``, so the shared engine retries, throttles, counts and
commits page by page exactly as for HubSpot. The library raises on any status ≥ 300 and
parses bodies itself; a response hook on our ``requests.Session`` keeps the raw answer
(status, headers, body), which is what the engine judges: a refusal, a 5xx to retry, a
truncated body, the ``Sforce-Limit-Info`` usage header.

How each stream syncs (all incremental after the first run, all resumable mid-scan):

* **users, leads, tasks, events** — ``queryAll`` ordered by ``SystemModstamp, Id`` from the
  cursor (``>=``, with a look-back on the next run). ``queryAll`` returns deleted records
  too (``IsDeleted = true``, SystemModstamp = deletion): one scan per object sees changes
  and deletions alike, and a lead created and deleted between two syncs arrives whole.
  Users are read with ``query``: a user is deactivated, never deleted.
* **lead_history** — ``LeadHistory`` rows for Status, Owner and leadConverted by
  ``CreatedDate`` (history rows never change once written).
* **lead_conversions** — converted leads whose ``leadConverted`` history row never came:
  the conversion instant falls back to ``ConvertedDate``. Read only up to a look-back
  before the history stream began, so a conversion whose row is still on its way does not
  get a second, coarser instant.
* **opportunities** — won opportunities (``IsWon = true``); the lead converted into one
  gets a ``stage`` event with the opportunity's ``StageName``.

Small deltas page through REST (≤ 2,000 records a page); when a query's first page says
(``totalSize``) that the window holds more than ``bulk_threshold`` records, the window is
read by a Bulk API 2.0 query job instead (unordered CSV pages walked by ``Sforce-Locator``;
the cursor holds the job id and locator, so a killed sync resumes mid-job). A query that
fails with ``QUERY_TIMEOUT`` is asked again for the first half of its date window (a first
sync's window starts at the org's first user, not in 1999), halved until it answers; the
next window then starts where it ended, twice as wide. The look-back, the retries and the
order of commits are the engine's, as for HubSpot.

**Funnel history.** Salesforce records no history row for the values a lead is *created*
with, so the value of Status and Owner at ``CreatedDate`` is derived: the first history
row's ``OldValue`` if there is one, else the lead's current value (a lead created straight
into "Marketing Qualified" has no Status row and still enters MQL at its creation). The
lead and its history arrive in different streams, so the snapshot is where they meet:

* the leads stream writes the current value at ``CreatedDate`` for each field that has no
  change rows yet;
* the history stream, on the first change of a field, writes that change's ``OldValue``
  at ``CreatedDate`` — replacing the leads stream's guess when the lead changed before
  its history was read. Both run in one sync, so the snapshot is right when it ends;
* a lead created after the leads query and changed before the history query (its history
  came first, with no CreatedDate to anchor to) has its history read on its own the next
  run — one query, rarely needed.

Owner changes come as two rows at one instant (the Ids, DataType ``EntityId``; the
names, ``Text``): the Id row is kept, and the value is ``salesforce:{user id}``; an owner
that is a queue (``00G…``) is stored as no owner, since no rep holds the lead.

What is lost on the way, on purpose and documented: ``ConvertedDate`` and ``CloseDate``
are dates, so the fallback conversion instant and the won-opportunity instant are that
date's midnight in UTC (not earlier than the lead's creation / conversion) — up to a day
off; emails logged as tasks carry no direction in Salesforce and are taken as outbound.
"""

from __future__ import annotations

import csv
import io
import logging
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from config.settings import Settings
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
    SyncError,
    SyncOptions,
    SystemClock,
)
from snapshot.instants import InstantError, format_instant, normalize_instant, parse_instant
from snapshot.store import Page, SnapshotStore, canonical_id, to_raw_json

SOURCE = "salesforce"
API_VERSION = "59.0"

log = logging.getLogger(__name__)

USER_PREFIX = "005"
LEAD_PREFIX = "00Q"
CONTACT_PREFIX = "003"

EARLIEST = "1999-01-01T00:00:00.000Z"
"""Lower bound of a first sync's window when a QUERY_TIMEOUT asks for one (no org's data
predates Salesforce)."""

_ID = re.compile(r"^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$")


@dataclass(frozen=True)
class SalesforceOptions(SyncOptions):
    """The engine's knobs plus Salesforce's own; the defaults suit a nightly sync.

    ``ca_bundle`` is a CA file for the instance's TLS (a private CA, the sandbox's
    throwaway one); None means ``REQUESTS_CA_BUNDLE``, ``CURL_CA_BUNDLE``,
    ``SSL_CERT_FILE``, then certifi's bundle. ``batch_size`` is the REST page
    (``Sforce-Query-Options: batchSize``, 200–2,000); a window announcing more than
    ``bulk_threshold`` records goes to the Bulk API, read ``bulk_page_size`` rows a page.
    """

    ca_bundle: str | None = None
    api_version: str = API_VERSION
    batch_size: int = 2000
    bulk_threshold: int = 10_000
    bulk_page_size: int = 50_000
    bulk_poll_s: float = 0.5
    bulk_poll_max_s: float = 10.0
    bulk_wait_s: float = 3600.0

    @classmethod
    def of(cls, options: SyncOptions | None) -> SalesforceOptions:
        """``options`` as Salesforce options (defaults for the Salesforce-only knobs)."""
        if isinstance(options, SalesforceOptions):
            return options
        if options is None:
            return cls()
        return cls(**{f.name: getattr(options, f.name) for f in fields(SyncOptions)})


# ------------------------------------------------------------------------------ objects

FieldKinds = Mapping[str, str]
"""Field name → kind: ``text``, ``bool``, ``int``, ``float``, ``date`` or ``datetime``.
REST answers are typed JSON already; Bulk API CSV is text, coerced by these kinds so that
a record's ``raw`` is the same whichever API delivered it."""

_AUDIT: FieldKinds = {
    "CreatedDate": "datetime",
    "LastModifiedDate": "datetime",
    "SystemModstamp": "datetime",
}


@dataclass(frozen=True)
class SObjectSpec:
    """One query as data: object, fields, the cursor field and fixed conditions."""

    stream: str
    sobject: str
    kinds: FieldKinds
    cursor_field: str = "SystemModstamp"
    include_deleted: bool = True
    where: str | None = None
    essential: tuple[str, ...] = ()
    """Fields the mapping cannot do without, besides ``Id`` and the cursor field. Any
    other field an org does not expose (field-level security, an edition without it) is
    dropped from the query for the run, and its values are read as empty."""

    def without(self, field_name: str) -> SObjectSpec | None:
        """This spec minus an optional field, or None when the field is essential."""
        keep = {"Id", self.cursor_field, *self.essential}
        if field_name in keep or field_name not in self.kinds:
            return None
        kinds = {k: v for k, v in self.kinds.items() if k != field_name}
        return replace(self, kinds=kinds)

    def soql(self, since: str | None, until: str | None, *, ordered: bool = True) -> str:
        """``SELECT … WHERE cursor >= since AND cursor < until ORDER BY cursor, Id``.

        ``since`` is floored to the second (SOQL literals need no fraction; a record a few
        milliseconds earlier is dropped client-side); ``until`` is always a whole second.
        The Bulk API refuses ORDER BY, hence ``ordered=False`` for jobs.
        """
        conditions = [self.where] if self.where else []
        if since:
            conditions.append(f"{self.cursor_field} >= {soql_instant(since)}")
        if until:
            conditions.append(f"{self.cursor_field} < {soql_instant(until)}")
        text = f"SELECT {', '.join(self.kinds)} FROM {self.sobject}"
        if conditions:
            text += " WHERE " + " AND ".join(conditions)
        if ordered:
            text += f" ORDER BY {self.cursor_field} ASC, Id ASC"
        return text

    def from_csv(self, row: Mapping[str, str]) -> dict[str, Any]:
        """A Bulk API CSV row as the REST API would have typed it (``""`` is null)."""
        out: dict[str, Any] = {}
        for name, kind in self.kinds.items():
            out[name] = _typed(row.get(name), kind)
        return out


def _typed(text: str | None, kind: str) -> Any:
    if text is None or text == "":
        return None
    try:
        if kind == "bool":
            return text.strip().lower() == "true"
        if kind == "int":
            return int(float(text))
        if kind == "float":
            return float(text)
        if kind == "datetime":
            # REST's rendering (``…+0000``), so raw does not depend on the API used.
            return format_instant(parse_instant(text))[:-1] + "+0000"
    except (ValueError, InstantError):
        return text  # left for the mapping to judge (a gap or a refused record)
    return text


USERS = SObjectSpec(
    stream="users",
    sobject="User",
    kinds={"Id": "text", "Name": "text", "Email": "text", "IsActive": "bool", **_AUDIT},
    include_deleted=False,
)
LEADS = SObjectSpec(
    stream="leads",
    sobject="Lead",
    kinds={
        "Id": "text",
        "FirstName": "text",
        "LastName": "text",
        "Email": "text",
        "Company": "text",
        "Status": "text",
        "OwnerId": "text",
        "LeadSource": "text",
        "Industry": "text",
        "IsConverted": "bool",
        "ConvertedDate": "date",
        "ConvertedContactId": "text",
        "ConvertedOpportunityId": "text",
        "IsDeleted": "bool",
        **_AUDIT,
    },
    essential=("Status", "OwnerId", "CreatedDate"),
)
HISTORY_FIELDS = ("Status", "Owner", "leadConverted")
LEAD_HISTORY = SObjectSpec(
    stream="lead_history",
    sobject="LeadHistory",
    kinds={
        "Id": "text",
        "LeadId": "text",
        "Field": "text",
        "DataType": "text",
        "OldValue": "text",
        "NewValue": "text",
        "CreatedDate": "datetime",
        "IsDeleted": "bool",
    },
    cursor_field="CreatedDate",
    where="Field IN ({})".format(", ".join(f"'{f}'" for f in HISTORY_FIELDS)),
    essential=("LeadId", "Field", "OldValue", "NewValue"),
)
CONVERSIONS = SObjectSpec(
    stream="lead_conversions",
    sobject="Lead",
    kinds={
        "Id": "text",
        "ConvertedDate": "date",
        "IsDeleted": "bool",
        "CreatedDate": "datetime",
        "SystemModstamp": "datetime",
    },
    where="IsConverted = true",
    essential=("ConvertedDate",),
)
OPPORTUNITIES = SObjectSpec(
    stream="opportunities",
    sobject="Opportunity",
    kinds={"Id": "text", "StageName": "text", "CloseDate": "date", "SystemModstamp": "datetime"},
    include_deleted=False,
    where="IsWon = true",
    essential=("StageName", "CloseDate"),
)
TASKS = SObjectSpec(
    stream="tasks",
    sobject="Task",
    kinds={
        "Id": "text",
        "WhoId": "text",
        "WhatId": "text",
        "OwnerId": "text",
        "Subject": "text",
        "Status": "text",
        "TaskSubtype": "text",
        "CallType": "text",
        "CallDisposition": "text",
        "CallDurationInSeconds": "int",
        "ActivityDate": "date",
        "CompletedDateTime": "datetime",
        "IsClosed": "bool",
        "IsDeleted": "bool",
        **_AUDIT,
    },
    essential=("WhoId", "CreatedDate"),
)
EVENTS = SObjectSpec(
    stream="events",
    sobject="Event",
    kinds={
        "Id": "text",
        "WhoId": "text",
        "WhatId": "text",
        "OwnerId": "text",
        "Subject": "text",
        "ActivityDateTime": "datetime",
        "ActivityDate": "date",
        "StartDateTime": "datetime",
        "EndDateTime": "datetime",
        "DurationInMinutes": "int",
        "IsAllDayEvent": "bool",
        "IsDeleted": "bool",
        **_AUDIT,
    },
    essential=("WhoId", "CreatedDate"),
)

TASK_KINDS = {"Call": "call", "Email": "email", "ListEmail": "email"}
CALL_DIRECTIONS = {"Inbound": "inbound", "Outbound": "outbound"}


# ------------------------------------------------------------------------------ instants


def soql_instant(instant: str) -> str:
    """A SOQL datetime literal (unquoted, UTC, whole seconds, floored)."""
    return parse_instant(instant).strftime("%Y-%m-%dT%H:%M:%SZ")


def whole_second(at: datetime) -> str:
    """``at`` floored to the second, in the snapshot's format."""
    return format_instant(at.replace(microsecond=0))


# ------------------------------------------------------------------------------ dialect


_NO_SUCH_COLUMN = re.compile(r"No such column '(\w+)'")


def missing_column(answer: HttpAnswer | None) -> str | None:
    """The field an INVALID_FIELD answer names (``No such column 'X' on entity …``)."""
    if answer is None or error_code(answer) != "INVALID_FIELD":
        return None
    match = _NO_SUCH_COLUMN.search(answer.message(2000))
    return match.group(1) if match else None


def error_code(answer: HttpAnswer | None) -> str:
    """The ``errorCode`` of a Salesforce error body (a JSON list), or ``""``."""
    if answer is None:
        return ""
    try:
        data = answer.json()
    except (ValueError, UnicodeDecodeError):
        return ""
    if isinstance(data, list) and data and isinstance(data[0], dict):
        return str(data[0].get("errorCode") or "")
    if isinstance(data, dict):
        return str(data.get("errorCode") or "")
    return ""


SESSION_FIX = (
    "Salesforce rejected the session (401 INVALID_SESSION_ID): set SALESFORCE_ACCESS_TOKEN "
    "to a valid session id or use username/password/security token"
)


class SalesforceDialect:
    """How Salesforce states its limits and errors, and what a user does about each."""

    source = SOURCE

    def __init__(self, instance_url: str) -> None:
        self.instance_url = instance_url

    def limits(self, answer: HttpAnswer) -> RateLimits:
        """``Sforce-Limit-Info: api-usage=18/5000``: the org's requests today, of its allowance.

        Read with simple-salesforce's own parser (what fills ``sf.api_usage``).
        """
        from simple_salesforce import Salesforce

        header = answer.headers.get("sforce-limit-info")
        usage = Salesforce.parse_api_usage(header).get("api-usage") if header else None
        if usage is None:
            return RateLimits()
        return RateLimits(
            daily_max=usage.total,
            daily_remaining=max(0, usage.total - usage.used),
            daily_used=usage.used,
        )

    def is_daily_limit(self, answer: HttpAnswer) -> bool:
        return error_code(answer) == "REQUEST_LIMIT_EXCEEDED"

    def short_limit_wait(self, answer: HttpAnswer) -> float | None:
        return None

    def fix_for(self, answer: HttpAnswer, endpoint: str) -> str:
        status, code = answer.status, error_code(answer)
        if status == 401:
            return SESSION_FIX
        if code == "REQUEST_LIMIT_EXCEEDED":
            return (
                "the org's daily API allowance is spent (REQUEST_LIMIT_EXCEEDED); run the sync "
                "again after it resets (Setup > System Overview shows the usage)"
            )
        if status == 403:
            return (
                "the Salesforce user may not do this: give it the API Enabled permission and "
                "read access to User, Lead, LeadHistory, Opportunity, Task and Event"
            )
        if code in ("INVALID_FIELD", "INVALID_TYPE"):
            return (
                "the Salesforce user cannot see a field or object this sync reads; grant it "
                "read access (field-level security), or report this line if it already has it"
            )
        if status == 400:
            return "Salesforce refused the request as malformed; report this line as a bug"
        if status == 404:
            return (
                f"check SALESFORCE_INSTANCE_URL ({self.instance_url}) is your org's instance "
                "(e.g. https://yourdomain.my.salesforce.com)"
            )
        if 300 <= status < 400:
            return (
                f"Salesforce redirected the call; check SALESFORCE_INSTANCE_URL "
                f"({self.instance_url})"
            )
        return "check https://status.salesforce.com and run the sync again later"

    def unreachable_fix(self) -> str:
        return (
            f"check that {self.instance_url} is reachable from this machine (DNS, proxy, "
            "firewall) and https://status.salesforce.com"
        )


# ---------------------------------------------------------------------------- transport


class _TimeoutAdapter(HTTPAdapter):
    """Every request gets a timeout, including the ones simple-salesforce sends without one
    (its Bulk API 2.0 client has no way to pass it). No urllib3 retries: the engine owns
    the retry policy."""

    def __init__(self, timeout: tuple[float, float]) -> None:
        super().__init__(max_retries=0)
        self.timeout = timeout

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        return super().send(request, **kwargs)


def ca_bundle_path(explicit: str | None = None) -> str | bool:
    """The CA file to verify against: ``explicit``, else the environment's, else certifi's."""
    for candidate in (
        explicit,
        os.environ.get("REQUESTS_CA_BUNDLE"),
        os.environ.get("CURL_CA_BUNDLE"),
        os.environ.get("SSL_CERT_FILE"),
    ):
        if candidate:
            return candidate
    return True


def tls_session(
    ca_bundle: str | None, *, timeout: tuple[float, float], proxy_for: str
) -> requests.Session:
    """A ``requests`` session that verifies TLS against the CA *we* choose.

    With ``trust_env`` on, requests lets ``REQUESTS_CA_BUNDLE`` / ``CURL_CA_BUNDLE`` override
    ``session.verify`` on every request (``Session.merge_environment_settings``): a sandbox
    or private CA set on the session would silently give way to the system bundle these
    machines export, and TLS would fail. So ``trust_env`` is off, and what it would have
    read is applied here on purpose: the CA file (``ca_bundle_path``) and the proxies the
    environment names for the instance (``NO_PROXY`` honoured). It also keeps a
    ``~/.netrc`` entry from replacing the ``Authorization: Bearer`` header.
    """
    session = requests.Session()
    session.trust_env = False
    session.verify = ca_bundle_path(ca_bundle)
    session.proxies.update(requests.utils.get_environ_proxies(proxy_for))
    adapter = _TimeoutAdapter(timeout)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


class LoginRefused(Exception):
    """Salesforce refused the username/password/security-token login."""


def _describe(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__


class SalesforceTransport:
    """simple-salesforce on our session, each call turned into one :class:`HttpAnswer`.

    The ``Salesforce`` client is built on first use (a password login is a request, and a
    refused login must be a sync error, not a crash while building the connector).
    """

    def __init__(
        self,
        *,
        instance_url: str | None = None,
        session_id: str | None = None,
        username: str | None = None,
        password: str | None = None,
        security_token: str | None = None,
        domain: str | None = None,
        version: str = API_VERSION,
        ca_bundle: str | None = None,
        timeout: tuple[float, float] = (10.0, 60.0),
    ) -> None:
        if not (instance_url and session_id) and not (username and password and security_token):
            raise ValueError("give instance_url and session_id, or username/password/token")
        self.instance_url = instance_url
        self._credentials: dict[str, Any] = (
            {"session_id": session_id, "instance_url": instance_url}
            if instance_url and session_id
            else {
                "username": username,
                "password": password,
                "security_token": security_token,
                "domain": domain or "login",
            }
        )
        self.version = version
        target = instance_url or f"https://{domain or 'login'}.salesforce.com"
        self.session = tls_session(ca_bundle, timeout=timeout, proxy_for=target)
        self.session.hooks["response"].append(self._remember)
        self._last: requests.Response | None = None
        self._client: Any = None

    def _remember(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self._last = response

    @property
    def logs_in(self) -> bool:
        return "username" in self._credentials

    def connect(self) -> Any:
        """The ``Salesforce`` client; a password login happens here, once."""
        if self._client is not None:
            return self._client
        from simple_salesforce import Salesforce
        from simple_salesforce.exceptions import SalesforceAuthenticationFailed

        try:
            self._client = Salesforce(
                **self._credentials, session=self.session, version=self.version
            )
        except SalesforceAuthenticationFailed as exc:
            said = " ".join(str(getattr(exc, "auth_message", "") or exc).split())
            raise LoginRefused(f"{exc.code}: {said[:200]}") from None
        except requests.exceptions.SSLError as exc:
            raise ConfigTrouble(_tls_hint(exc)) from None
        except requests.exceptions.RequestException as exc:
            raise ConnectionTrouble(_describe(exc)) from None
        return self._client

    @property
    def base_url(self) -> str:
        """``https://host[:port]`` of the instance (record links are built on it)."""
        client = self.connect()
        return f"https://{client.sf_instance}"

    @property
    def session_id(self) -> str:
        return str(self.connect().session_id)

    def exchange(self, call: Callable[[Any], object]) -> HttpAnswer:
        """Run one simple-salesforce call; the answer is what the server sent, whatever it was.

        simple-salesforce raises on any status ≥ 300 and on a body it cannot parse; the
        response hook kept the answer, and the engine decides what it means.
        """
        from simple_salesforce.exceptions import SalesforceError

        client = self.connect()
        self._last = None
        try:
            call(client)
        except requests.exceptions.SSLError as exc:
            raise ConfigTrouble(_tls_hint(exc)) from None
        except (
            requests.exceptions.ConnectionError,
            requests.exceptions.Timeout,
            requests.exceptions.ChunkedEncodingError,
            requests.exceptions.ContentDecodingError,
        ) as exc:
            raise ConnectionTrouble(_describe(exc)) from None
        except (SalesforceError, ValueError, KeyError, IndexError, TypeError):
            # ValueError includes requests' JSONDecodeError (a body cut short): an answer.
            if self._last is None:
                raise
        except requests.exceptions.RequestException as exc:
            raise ConfigTrouble(_describe(exc)) from None
        response = self._last
        if response is None:  # pragma: no cover - every path above sends or raises
            raise ConnectionTrouble("no answer")
        return HttpAnswer.of(response.status_code, response.headers, response.content)

    # -- calls ------------------------------------------------------------------------

    def query(self, soql: str, *, include_deleted: bool, batch_size: int) -> HttpAnswer:
        headers = {"Sforce-Query-Options": f"batchSize={batch_size}"}
        return self.exchange(
            lambda sf: sf.query(soql, include_deleted=include_deleted, headers=headers)
        )

    def query_more(self, next_url: str, *, batch_size: int) -> HttpAnswer:
        headers = {"Sforce-Query-Options": f"batchSize={batch_size}"}
        return self.exchange(
            lambda sf: sf.query_more(next_url, identifier_is_url=True, headers=headers)
        )

    def limits(self) -> HttpAnswer:
        return self.exchange(lambda sf: sf.limits())

    def _bulk(self, sf: Any, sobject: str) -> Any:
        # The Bulk API 2.0 client's per-request methods: ``sf.bulk2.X.query`` would create,
        # poll (sleeping on its own) and page inside one generator, out of the engine's reach.
        return getattr(sf.bulk2, sobject)._client

    def bulk_create(self, sobject: str, soql: str, *, include_deleted: bool) -> HttpAnswer:
        from simple_salesforce.bulk2 import Operation

        operation = Operation.query_all if include_deleted else Operation.query
        return self.exchange(lambda sf: self._bulk(sf, sobject).create_job(operation, soql))

    def bulk_job(self, sobject: str, job_id: str) -> HttpAnswer:
        return self.exchange(lambda sf: self._bulk(sf, sobject).get_job(job_id, True))

    def bulk_results(
        self, sobject: str, job_id: str, locator: str | None, max_records: int
    ) -> HttpAnswer:
        return self.exchange(
            lambda sf: self._bulk(sf, sobject).get_query_results(job_id, locator or "", max_records)
        )


def _tls_hint(exc: BaseException) -> str:
    return (
        f"TLS failed ({_describe(exc)}); if a proxy or a private CA is in the way, set "
        "REQUESTS_CA_BUNDLE or SSL_CERT_FILE to its CA file"
    )


# ------------------------------------------------------------------------------ reading


def _query_shape(data: Any) -> bool:
    return isinstance(data, dict) and isinstance(data.get("records"), list) and "done" in data


def parse_bulk_page(answer: HttpAnswer) -> tuple[list[dict[str, str]], str | None]:
    """A Bulk API 2.0 results page: CSV rows, and the locator of the next page (None: last).

    ``Sforce-NumberOfRecords`` must match the rows read, or the page was cut short: a
    ``ValueError``, which the engine retries like a truncated JSON answer.
    """
    announced = answer.headers.get("sforce-numberofrecords")
    if announced is None or not announced.strip().isdigit():
        raise ValueError("no Sforce-NumberOfRecords header")
    text = answer.body.decode("utf-8").replace("\x00", "")
    rows = list(csv.DictReader(io.StringIO(text, newline=""))) if text.strip() else []
    if len(rows) != int(announced):
        raise ValueError(f"{len(rows)} CSV rows where {announced} were announced")
    locator = answer.headers.get("sforce-locator")
    return rows, (locator if locator not in (None, "", "null") else None)


@dataclass
class SalesforceReader:
    """The Salesforce calls the streams make, each through ``Api.call`` (retry + count)."""

    transport: SalesforceTransport
    options: SalesforceOptions

    def query(self, api: Api, spec: SObjectSpec, soql: str) -> Reply:
        verb = "queryAll" if spec.include_deleted else "query"
        return api.call(
            f"GET /{verb} ({spec.sobject})",
            lambda: self.transport.query(
                soql, include_deleted=spec.include_deleted, batch_size=self.options.batch_size
            ),
            expect=_query_shape,
        )

    def query_more(self, api: Api, spec: SObjectSpec, next_url: str) -> Reply:
        return api.call(
            f"GET nextRecordsUrl ({spec.sobject})",
            lambda: self.transport.query_more(next_url, batch_size=self.options.batch_size),
            expect=_query_shape,
        )

    def records(self, api: Api, spec: SObjectSpec, soql: str) -> list[dict[str, Any]]:
        """Every record of a (small) query, following ``nextRecordsUrl``."""
        reply = self.query(api, spec, soql)
        records = list(reply.data["records"])
        while not reply.data["done"] and reply.data.get("nextRecordsUrl"):
            reply = self.query_more(api, spec, str(reply.data["nextRecordsUrl"]))
            records.extend(reply.data["records"])
        return [_clean(r) for r in records]

    def start_job(self, api: Api, spec: SObjectSpec, soql: str) -> str:
        """Create a Bulk API 2.0 query job and wait until it is ``JobComplete``."""
        reply = api.call(
            f"POST /jobs/query ({spec.sobject})",
            lambda: self.transport.bulk_create(
                spec.sobject, soql, include_deleted=spec.include_deleted
            ),
            expect=lambda d: isinstance(d, dict) and bool(d.get("id")),
        )
        job = str(reply.data["id"])
        delay, waited = self.options.bulk_poll_s, 0.0
        while True:
            status = api.call(
                f"GET /jobs/query/{{id}} ({spec.sobject})",
                lambda: self.transport.bulk_job(spec.sobject, job),
                expect=lambda d: isinstance(d, dict) and "state" in d,
            ).data
            state = str(status["state"])
            if state == "JobComplete":
                return job
            if state in ("Failed", "Aborted"):
                reason = " ".join(str(status.get("errorMessage") or "no reason given").split())
                raise api.fail(
                    f"the Bulk API query job {job} for {spec.sobject} ended {state} "
                    f"({reason[:200]}); run the sync again (it resumes where it stopped)"
                )
            if waited >= self.options.bulk_wait_s:
                raise api.fail(
                    f"the Bulk API query job {job} for {spec.sobject} was still {state} after "
                    f"{waited:.0f}s; run the sync again later (it resumes where it stopped)"
                )
            api.clock.sleep(delay)
            waited += delay
            delay = min(delay * 2, self.options.bulk_poll_max_s)

    def job_page(
        self, api: Api, spec: SObjectSpec, job: str, locator: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        reply = api.call(
            f"GET /jobs/query/{{id}}/results ({spec.sobject})",
            lambda: self.transport.bulk_results(
                spec.sobject, job, locator, self.options.bulk_page_size
            ),
            parse=parse_bulk_page,
        )
        rows, next_locator = reply.data
        return [spec.from_csv(row) for row in rows], next_locator


def _clean(record: Mapping[str, Any]) -> dict[str, Any]:
    """A REST record without its ``attributes`` (type and an API-versioned URL)."""
    return {k: v for k, v in record.items() if k != "attributes"}


# ------------------------------------------------------------------------------ mapping


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text if text != "" else None


def _rid(record: Mapping[str, Any], sobject: str) -> str:
    rid = _text(record.get("Id"))
    if rid is None:
        raise RecordError(f"Salesforce sent a {sobject} record without an Id; report this")
    return rid


def _instant(value: Any, sobject: str, record_id: str, field_name: str) -> str | None:
    """A Salesforce instant (or date, as its midnight UTC) in the snapshot's format."""
    if value is None or value == "":
        return None
    try:
        return normalize_instant(str(value))
    except InstantError:
        raise RecordError(
            f"Salesforce {sobject} record {record_id} has {field_name}={str(value)[:40]!r}, "
            "which is not an ISO-8601 instant; correct the record in Salesforce (or report it "
            "if Salesforce shows it fine) and run the sync again"
        ) from None


def user_ref(value: Any) -> str | None:
    """``salesforce:{id}`` for a user id; None for a queue (00G…), nobody, or anything else."""
    text = _text(value)
    if text and text.startswith(USER_PREFIX) and _ID.match(text):
        return canonical_id(SOURCE, text)
    return None


def _is_id(value: Any) -> bool:
    text = _text(value)
    return bool(text and _ID.match(text))


def map_user(record: Mapping[str, Any]) -> dict[str, Any]:
    rid = _rid(record, "User")
    return {
        "id": canonical_id(SOURCE, rid),
        "source": SOURCE,
        "crm_id": rid,
        "email": _text(record.get("Email")),
        "name": _text(record.get("Name")),
        "team": None,
        "active": 1 if record.get("IsActive") else 0,
        "created_at": _instant(record.get("CreatedDate"), "User", rid, "CreatedDate"),
        "updated_at": _instant(record.get("LastModifiedDate"), "User", rid, "LastModifiedDate")
        or _instant(record.get("SystemModstamp"), "User", rid, "SystemModstamp"),
        "raw": to_raw_json(record),
    }


def map_lead(record: Mapping[str, Any], base_url: str) -> dict[str, Any]:
    rid = _rid(record, "Lead")
    deleted = bool(record.get("IsDeleted"))
    modstamp = _instant(record.get("SystemModstamp"), "Lead", rid, "SystemModstamp")
    created = _instant(record.get("CreatedDate"), "Lead", rid, "CreatedDate")
    if created is None:
        raise RecordError(f"Salesforce Lead record {rid} has no CreatedDate; report this")
    return {
        "id": canonical_id(SOURCE, rid),
        "source": SOURCE,
        "crm_id": rid,
        "email": _text(record.get("Email")),
        "company": _text(record.get("Company")),
        "owner_id": user_ref(record.get("OwnerId")),
        "segment": _text(record.get("Industry")),
        "lead_source": _text(record.get("LeadSource")),
        "created_at": created,
        "stage": None,
        "status": _text(record.get("Status")),
        "is_deleted": 1 if deleted else 0,
        "deleted_at": modstamp if deleted else None,
        "updated_at": modstamp,
        "url": f"{base_url}/lightning/r/Lead/{rid}/view",
        "raw": to_raw_json(record),
    }


@dataclass(frozen=True)
class Change:
    """One LeadHistory row that matters to the funnel, already mapped."""

    lead_id: str
    field: str
    value: str | None
    old: str | None
    at: str
    order: tuple[str, str]


def history_changes(records: Iterable[Mapping[str, Any]]) -> list[Change]:
    """Status, Owner (the Id row of each pair) and leadConverted rows as funnel changes."""
    out: list[Change] = []
    for record in records:
        rid = _rid(record, "LeadHistory")
        lead = _text(record.get("LeadId"))
        at = _instant(record.get("CreatedDate"), "LeadHistory", rid, "CreatedDate")
        if lead is None or at is None:
            continue
        kind = record.get("Field")
        old, new = record.get("OldValue"), record.get("NewValue")
        lead_id = canonical_id(SOURCE, lead)
        if kind == "Status":
            change = Change(lead_id, "status", _text(new), _text(old), at, (at, rid))
        elif kind == "Owner":
            data_type = _text(record.get("DataType"))
            is_id_row = data_type == "EntityId" if data_type else _is_id(new) or _is_id(old)
            if not is_id_row:
                continue
            change = Change(lead_id, "owner", user_ref(new), user_ref(old), at, (at, rid))
        elif kind == "leadConverted":
            change = Change(lead_id, "converted", "true", None, at, (at, rid))
        else:
            continue
        out.append(change)
    return sorted(out, key=lambda c: c.order)


def history_row(lead_id: str, field_name: str, value: str | None, at: str) -> dict[str, Any]:
    return {
        "lead_id": lead_id,
        "field": field_name,
        "value": value,
        "changed_at": at,
        "source_type": None,
    }


def first_changes(changes: Iterable[Change]) -> dict[tuple[str, str], Change]:
    """The earliest status and owner change of each lead among ``changes``."""
    firsts: dict[tuple[str, str], Change] = {}
    for change in changes:
        if change.field not in ("status", "owner"):
            continue
        key = (change.lead_id, change.field)
        if key not in firsts or change.order < firsts[key].order:
            firsts[key] = change
    return firsts


def activity_kind(record: Mapping[str, Any], sobject: str) -> str:
    if sobject == "Event":
        return "meeting"
    return TASK_KINDS.get(str(record.get("TaskSubtype") or ""), "task")


def map_activity(record: Mapping[str, Any], sobject: str, stats: StreamStats) -> dict[str, Any]:
    """A Task or Event → an ``activities`` row (kind, direction, outcome, when)."""
    rid = _rid(record, sobject)

    def instant(name: str) -> str | None:
        return _instant(record.get(name), sobject, rid, name)

    kind = activity_kind(record, sobject)
    direction: str | None = None
    if kind == "call":
        direction = CALL_DIRECTIONS.get(str(record.get("CallType") or ""))
    elif kind == "email":
        direction = "outbound"
    if sobject == "Event":
        occurred = instant("StartDateTime") or instant("ActivityDateTime")
        minutes = record.get("DurationInMinutes")
        duration, gap = _number(minutes, 60.0)
    else:
        occurred = instant("CompletedDateTime") or instant("ActivityDate")
        duration, gap = _number(record.get("CallDurationInSeconds"), 1.0)
    stats.gaps += int(gap)
    created = instant("CreatedDate")
    return {
        "id": canonical_id(SOURCE, rid),
        "source": SOURCE,
        "crm_id": rid,
        "kind": kind,
        "direction": direction,
        "outcome": _text(record.get("CallDisposition")) if sobject == "Task" else None,
        "outcome_label": None,
        "status": _text(record.get("Status")) if sobject == "Task" else None,
        "subject": _text(record.get("Subject")),
        "occurred_at": occurred or created,
        "created_at": created,
        "updated_at": instant("LastModifiedDate") or instant("SystemModstamp"),
        "owner_id": user_ref(record.get("OwnerId")),
        "duration_s": duration,
        "is_deleted": 1 if record.get("IsDeleted") else 0,
        "raw": to_raw_json(record),
    }


def _number(value: Any, scale: float) -> tuple[float | None, bool]:
    """A number times ``scale``, and whether a value was present but unusable (a gap)."""
    if value is None or value == "":
        return None, False
    try:
        return float(value) * scale, False
    except (TypeError, ValueError):
        return None, True


# ------------------------------------------------------------------------- snapshot facts


class SnapshotFacts:
    """What the snapshot already holds that a page's mapping needs (read-only SQL).

    The lead and its history arrive in different streams; these reads are where they
    meet (see the module docstring).
    """

    def __init__(self, store: SnapshotStore) -> None:
        self.db = store.db

    def _rows(self, sql: str, values: Sequence[str], *extra: str) -> list[tuple[Any, ...]]:
        out: list[tuple[Any, ...]] = []
        for start in range(0, len(values), 500):
            chunk = list(values[start : start + 500])
            marks = ",".join("?" * len(chunk))
            out.extend(self.db.execute(sql.format(marks=marks), [*chunk, *extra]).fetchall())
        return out

    def org_start(self) -> str | None:
        """The earliest CreatedDate of a Salesforce user: no record changed before it."""
        row = self.db.execute(
            "select min(created_at) from owners where source = ?", [SOURCE]
        ).fetchone()
        return row[0] if row and row[0] else None

    def created_at(self, lead_ids: Iterable[str]) -> dict[str, str]:
        """Leads already in the snapshot → their ``created_at``."""
        ids = sorted(set(lead_ids))
        rows = self._rows("select id, created_at from leads where id in ({marks})", ids)
        return {r[0]: r[1] for r in rows if r[1]}

    def history(self, lead_ids: Iterable[str], fields: Sequence[str]) -> dict[str, list[Any]]:
        """``(field, changed_at)`` of the leads' history rows for ``fields``."""
        ids = sorted(set(lead_ids))
        out: dict[str, list[Any]] = {}
        names = ",".join(f"'{f}'" for f in fields)
        sql = (
            "select lead_id, field, changed_at from lead_history "
            f"where lead_id in ({{marks}}) and field in ({names})"
        )
        for lead_id, field_name, changed_at in self._rows(sql, ids):
            out.setdefault(lead_id, []).append((field_name, changed_at))
        return out

    def converted_into(self, raw_key: str) -> dict[str, list[str]]:
        """The contact or opportunity (``raw_key``: ``ConvertedContactId`` /
        ``ConvertedOpportunityId``) each converted lead became → those lead ids.

        One scan of the leads a stream run (the streams cache it): the leads stream has
        run by then, and a lookup per page would scan the table once a page.
        """
        sql = (
            f"select json_extract(raw, '$.{raw_key}'), id from leads where source = ? "
            f"and json_extract(raw, '$.{raw_key}') is not null"
        )
        out: dict[str, list[str]] = {}
        for value, lead_id in self.db.execute(sql, [SOURCE]):
            out.setdefault(str(value), []).append(lead_id)
        return out


# ------------------------------------------------------------------------------ streams


class SoqlStream(Stream):
    """One object's changes by a datetime cursor: REST pages, or a Bulk API job if large.

    The cursor (all of it in ``sync_state``): ``since`` = the cursor field of the last
    record committed and ``ties`` = how many committed records share it (a fresh query
    from ``since`` skips them); ``floor`` = where this run began; in a Bulk phase,
    ``started`` = the job window's end, ``job`` its id and ``after`` the next locator.
    The REST query locator (``nextRecordsUrl``) lives only in memory: after a kill the
    next run re-queries from ``since``, cheaper than trusting an expired locator.
    """

    counts_records = True
    """Each record becomes one snapshot row (so ``totalSize`` is the number to expect)."""

    def __init__(
        self,
        spec: SObjectSpec,
        reader: SalesforceReader,
        *,
        options: SalesforceOptions,
        now: Callable[[], datetime],
        ceiling: Callable[[], str | None] | None = None,
    ) -> None:
        self.spec = spec
        self.name = spec.stream
        self.reader = reader
        self.options = options
        self.now = now
        self.ceiling = ceiling
        self.facts: SnapshotFacts | None = None
        self.opened = now()
        self._next_url: str | None = None
        self._until: str | None = None
        self._width: timedelta | None = None
        self._low: str | None = None

    # -- cursor ----------------------------------------------------------------------

    def open(self, cursor: Cursor | None, *, full: bool, api: Api, store: SnapshotStore) -> Cursor:
        self.facts = SnapshotFacts(store)
        self.opened = self.now()
        self._next_url = self._until = self._low = None
        self._width = None
        if full or cursor is None or cursor.mode != "incremental":
            return Cursor("incremental", scanning=True)
        if cursor.scanning:
            return cursor
        return Cursor("incremental", since=cursor.since, floor=cursor.since, scanning=True)

    def _drop_hidden_field(self, exc: RefusedError) -> bool:
        """Leave out an optional field the org refuses (INVALID_FIELD); True to retry."""
        column = missing_column(exc.answer)
        smaller = self.spec.without(column) if column else None
        if smaller is None:
            return False
        log.warning(
            "Salesforce %s has no readable field %s: synced without it (its values stay "
            "empty); grant the integration user read access to keep it",
            self.spec.sobject,
            column,
        )
        self.spec = smaller
        return True

    def _upper(self) -> str | None:
        """The end of the window being read: a narrowed window, the stream's ceiling, or none."""
        if self._until is not None:
            return self._until
        return self.ceiling() if self.ceiling else None

    def _now_second(self) -> str:
        return whole_second(self.now())

    # -- fetch -------------------------------------------------------------------------

    def fetch(self, api: Api, cursor: Cursor) -> Batch:
        if cursor.phase == "bulk":
            return self._fetch_bulk(api, cursor)
        while True:
            fresh = self._next_url is None
            try:
                if fresh:
                    soql = self.spec.soql(cursor.since or self._low, self._upper())
                    reply = self.reader.query(api, self.spec, soql)
                else:
                    reply = self.reader.query_more(api, self.spec, str(self._next_url))
                break
            except RefusedError as exc:
                code = error_code(exc.answer)
                if code == "QUERY_TIMEOUT":
                    self._narrow(api, cursor)
                elif fresh and self._drop_hidden_field(exc):
                    continue
                elif code != "INVALID_QUERY_LOCATOR" or fresh:
                    raise
                self._next_url = None
        data = reply.data
        done = bool(data.get("done"))
        self._next_url = None if done else _text(data.get("nextRecordsUrl"))
        if not done and self._next_url is None:
            raise api.fail(
                f"Salesforce said a {self.spec.sobject} query had more pages but gave no "
                "nextRecordsUrl; run the sync again, and report this line if it repeats"
            )
        size = data.get("totalSize")
        total = size if fresh and self.counts_records and isinstance(size, int) else None
        if fresh and not done and int(size or 0) > self.options.bulk_threshold:
            # Large window: one Bulk API job reads it (this page is not used: the job
            # covers the whole window, and a REST page would only be read twice).
            until = self._upper() or self._now_second()
            self._next_url = self._until = None
            return Batch([], total=total, extra={"bulk_until": until})
        records = [_clean(r) for r in data["records"]]
        if fresh:
            records = self._skip_taken(records, cursor)
        return Batch(
            records,
            total=total,
            extra={**self.hydrate(api, records), "more": not done},
        )

    def _stamp(self, record: Mapping[str, Any]) -> str:
        value = _instant(
            record.get(self.spec.cursor_field),
            self.spec.sobject,
            str(record.get("Id")),
            self.spec.cursor_field,
        )
        if value is None:
            raise RecordError(
                f"Salesforce {self.spec.sobject} record {record.get('Id')} has no "
                f"{self.spec.cursor_field}; report this"
            )
        return value

    def _skip_taken(self, records: list[dict[str, Any]], cursor: Cursor) -> list[dict[str, Any]]:
        """Drop what a fresh query from ``since`` re-reads: records a few milliseconds
        before it (the literal is floored to the second) and the ``ties`` already taken."""
        if not cursor.since:
            return records
        kept: list[dict[str, Any]] = []
        skip = cursor.ties
        for record in records:
            stamp = self._stamp(record)
            if stamp < cursor.since:
                continue
            if stamp == cursor.since and skip > 0:
                skip -= 1
                continue
            kept.append(record)
        return kept

    def _narrow(self, api: Api, cursor: Cursor) -> None:
        """After a QUERY_TIMEOUT: the next query covers the first half of the window.

        A first sync's window starts where the org does (its first user's CreatedDate,
        from the users stream; no SystemModstamp or history row is older), not in 1999.
        """
        assert self.facts is not None
        if not cursor.since and self._low is None:
            self._low = self.facts.org_start() or EARLIEST
        low = parse_instant(cursor.since or self._low or EARLIEST)
        high = parse_instant(self._upper() or self._now_second())
        middle = (low + (high - low) / 2).replace(microsecond=0)
        if middle <= low:
            raise api.fail(
                f"Salesforce timed out (QUERY_TIMEOUT) reading {self.spec.sobject} even for a "
                f"window of a second from {format_instant(low)}; run the sync again later, or "
                "ask Salesforce support for an index on the field"
            )
        self._width = timedelta(seconds=max(1, int((middle - low).total_seconds())))
        self._until = format_instant(middle)
        log.warning(
            "salesforce %s: QUERY_TIMEOUT; reading %s to %s first",
            self.name,
            format_instant(low),
            self._until,
        )

    def _fetch_bulk(self, api: Api, cursor: Cursor) -> Batch:
        job, locator = cursor.job, cursor.after
        if job is None:
            job, locator = self._start_job(api, cursor), None
        try:
            records, next_locator = self.reader.job_page(api, self.spec, job, locator)
        except RefusedError as exc:
            if exc.status != 404 or cursor.job is None:
                raise
            # The job expired (results are kept for days, not forever): run it again.
            log.warning("salesforce %s: bulk job %s is gone; starting over", self.name, job)
            job = self._start_job(api, cursor)
            records, next_locator = self.reader.job_page(api, self.spec, job, None)
        since, until = cursor.since, cursor.started
        records = [
            r
            for r in records
            if (not since or self._stamp(r) >= since) and (not until or self._stamp(r) < until)
        ]
        return Batch(
            records,
            extra={**self.hydrate(api, records), "job": job, "locator": next_locator},
        )

    def _start_job(self, api: Api, cursor: Cursor) -> str:
        soql = self.spec.soql(cursor.since, cursor.started, ordered=False)
        return self.reader.start_job(api, self.spec, soql)

    # -- advance -----------------------------------------------------------------------

    def advance(self, cursor: Cursor, batch: Batch) -> Advance:
        if "bulk_until" in batch.extra:
            return Advance(
                replace(cursor, phase="bulk", started=batch.extra["bulk_until"], job=None),
                False,
            )
        if cursor.phase == "bulk":
            if batch.extra.get("locator"):
                return Advance(
                    replace(cursor, job=batch.extra["job"], after=batch.extra["locator"]), False
                )
            # The job's window is read; REST picks up what changed since it began.
            return Advance(
                Cursor("incremental", since=cursor.started, floor=cursor.floor, scanning=True),
                False,
            )
        since, ties = cursor.since, cursor.ties
        for record in batch.records:
            stamp = self._stamp(record)
            if stamp == since:
                ties += 1
            elif since is None or stamp > since:
                since, ties = stamp, 1
        if batch.extra.get("more"):
            return Advance(
                Cursor("incremental", since=since, ties=ties, floor=cursor.floor, scanning=True),
                False,
            )
        if self._until is not None:
            # A narrowed window is read: the next one starts at its end, twice as wide
            # (halved again if that times out), so sparse years pass in a few queries.
            start = self._until
            width = (self._width or timedelta(0)) * 2
            self._width = width
            upper = self.ceiling() if self.ceiling else None
            end = parse_instant(start) + width
            limit = parse_instant(upper or self._now_second())
            self._until = format_instant(end) if width and end < limit else None
            return Advance(
                Cursor("incremental", since=start, floor=cursor.floor, scanning=True), False
            )
        return Advance(Cursor("incremental", since=self._next_since(cursor.floor)), True)

    def _next_since(self, floor: str | None) -> str:
        """Where the next run starts: a look-back before this scan began (or its ceiling),
        never before where this run started — changes during the scan are read again."""
        upper = self.ceiling() if self.ceiling else None
        start = parse_instant(upper) if upper else self.opened
        since = format_instant(start - self.options.lookback)
        return max(floor, since) if floor else since

    # -- mapping -----------------------------------------------------------------------

    def hydrate(self, api: Api, records: list[dict[str, Any]]) -> dict[str, Any]:
        """Facts the page's mapping needs beyond its records (snapshot reads, rare calls)."""
        return {}


class UsersStream(SoqlStream):
    def to_page(self, batch: Batch, stats: StreamStats) -> Page:
        return Page(owners=[map_user(r) for r in batch.records])


class LeadsStream(SoqlStream):
    """Leads (deleted ones too), and the value each funnel field had at ``CreatedDate``
    when the snapshot holds no change of that field yet."""

    def __init__(self, *args: Any, base_url: Callable[[], str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.base_url = base_url

    def hydrate(self, api: Api, records: list[dict[str, Any]]) -> dict[str, Any]:
        assert self.facts is not None
        ids = [canonical_id(SOURCE, _rid(r, "Lead")) for r in records]
        known = self.facts.created_at(ids)
        history = self.facts.history(ids, ("status", "owner"))
        changed: set[tuple[str, str]] = set()
        for record in records:
            rid = _rid(record, "Lead")
            lead_id = canonical_id(SOURCE, rid)
            created = _instant(record.get("CreatedDate"), "Lead", rid, "CreatedDate")
            for field_name, changed_at in history.get(lead_id, ()):
                if created is not None and changed_at > created:
                    changed.add((lead_id, field_name))
        # A lead created after this stream's query began, and changed before the history
        # stream's, got its change rows without its initial values (the history stream
        # had no CreatedDate for it): read its history now. Rare, a query per lead.
        repairs: dict[str, list[Change]] = {}
        for lead_id in sorted({lead for lead, _ in changed} - set(known)):
            crm_id = lead_id.split(":", 1)[1]
            soql = (
                f"SELECT {', '.join(LEAD_HISTORY.kinds)} FROM LeadHistory "
                f"WHERE LeadId = '{crm_id}' AND {LEAD_HISTORY.where} "
                "ORDER BY CreatedDate ASC, Id ASC"
            )
            repairs[lead_id] = history_changes(self.reader.records(api, LEAD_HISTORY, soql))
        return {"changed": changed, "repairs": repairs}

    def to_page(self, batch: Batch, stats: StreamStats) -> Page:
        page = Page()
        changed: set[tuple[str, str]] = batch.extra.get("changed", set())
        repairs: dict[str, list[Change]] = batch.extra.get("repairs", {})
        base = self.base_url()
        for record in batch.records:
            row = map_lead(record, base)
            page.leads.append(row)
            lead_id, created = row["id"], row["created_at"]
            for field_name, current in (("status", row["status"]), ("owner", row["owner_id"])):
                if (lead_id, field_name) not in changed:
                    if current is not None:
                        page.history.append(history_row(lead_id, field_name, current, created))
                    continue
                first = first_changes(repairs.get(lead_id, ())).get((lead_id, field_name))
                if first is not None and first.at > created:
                    page.history.append(history_row(lead_id, field_name, first.old, created))
        return page


class LeadHistoryStream(SoqlStream):
    """Status, owner and conversion changes; the first change of a field also states the
    value the lead was created with (its ``OldValue``)."""

    counts_records = False

    def hydrate(self, api: Api, records: list[dict[str, Any]]) -> dict[str, Any]:
        assert self.facts is not None
        changes = history_changes(records)
        firsts = first_changes(changes)
        leads = {lead for lead, _ in firsts}
        created = self.facts.created_at(leads)
        stored = self.facts.history(created, ("status", "owner"))
        initial: list[dict[str, Any]] = []
        for (lead_id, field_name), first in firsts.items():
            born = created.get(lead_id)
            if born is None or first.at <= born:
                continue
            earlier = any(
                f == field_name and born < at < first.at for f, at in stored.get(lead_id, ())
            )
            if not earlier:
                initial.append(history_row(lead_id, field_name, first.old, born))
        return {"changes": changes, "initial": initial}

    def to_page(self, batch: Batch, stats: StreamStats) -> Page:
        rows: dict[tuple[str, str, str], dict[str, Any]] = {}
        for row in batch.extra.get("initial", []):
            rows[(row["lead_id"], row["field"], row["changed_at"])] = row
        for change in batch.extra.get("changes", []):
            # Two changes of one field in one second: the later (by Id) is the value.
            row = history_row(change.lead_id, change.field, change.value, change.at)
            rows[(change.lead_id, change.field, change.at)] = row
        return Page(history=list(rows.values()))


class ConversionsStream(SoqlStream):
    """Converted leads without a ``leadConverted`` history row: conversion at the midnight
    (UTC) of ``ConvertedDate`` — a date, so up to a day early or late — never before the
    lead's creation. Bounded above by a look-back before the history stream began, so a
    conversion whose history row is still to be read is not given a second, coarser one."""

    counts_records = False

    def hydrate(self, api: Api, records: list[dict[str, Any]]) -> dict[str, Any]:
        assert self.facts is not None
        ids = [canonical_id(SOURCE, _rid(r, "Lead")) for r in records]
        history = self.facts.history(ids, ("converted",))
        return {"converted": set(history)}

    def to_page(self, batch: Batch, stats: StreamStats) -> Page:
        done: set[str] = batch.extra.get("converted", set())
        page = Page()
        for record in batch.records:
            rid = _rid(record, "Lead")
            lead_id = canonical_id(SOURCE, rid)
            day = _instant(record.get("ConvertedDate"), "Lead", rid, "ConvertedDate")
            created = _instant(record.get("CreatedDate"), "Lead", rid, "CreatedDate")
            if lead_id in done or day is None:
                continue
            at = max(day, created) if created else day
            page.history.append(history_row(lead_id, "converted", "true", at))
        return page


class OpportunitiesStream(SoqlStream):
    """Won opportunities → a ``stage`` event (the StageName, e.g. "Closed Won") on the
    lead converted into each, at CloseDate's midnight UTC but not before the conversion."""

    counts_records = False

    def hydrate(self, api: Api, records: list[dict[str, Any]]) -> dict[str, Any]:
        assert self.facts is not None
        converted_into = self.facts.converted_into("ConvertedOpportunityId") if records else {}
        wanted = {_rid(r, "Opportunity") for r in records}
        leads = {opp: found for opp, found in converted_into.items() if opp in wanted}
        lead_ids = [lead for found in leads.values() for lead in found]
        created = self.facts.created_at(lead_ids)
        converted: dict[str, str] = {}
        for lead_id, rows in self.facts.history(lead_ids, ("converted",)).items():
            converted[lead_id] = min(at for _, at in rows)
        return {"leads": leads, "created": created, "converted": converted}

    def to_page(self, batch: Batch, stats: StreamStats) -> Page:
        leads: dict[str, list[str]] = batch.extra.get("leads", {})
        created: dict[str, str] = batch.extra.get("created", {})
        converted: dict[str, str] = batch.extra.get("converted", {})
        page = Page()
        for record in batch.records:
            rid = _rid(record, "Opportunity")
            stage = _text(record.get("StageName"))
            day = _instant(record.get("CloseDate"), "Opportunity", rid, "CloseDate")
            if stage is None or day is None:
                continue
            for lead_id in leads.get(rid, ()):
                after = converted.get(lead_id) or created.get(lead_id) or day
                page.history.append(history_row(lead_id, "stage", stage, max(day, after)))
        return page


class ActivitiesStream(SoqlStream):
    """Tasks or Events, linked to the lead in ``WhoId`` — or, once Salesforce has moved
    them to the contact a lead was converted into, to that lead."""

    _contacts: dict[str, list[str]] | None = None

    def open(self, cursor: Cursor | None, *, full: bool, api: Api, store: SnapshotStore) -> Cursor:
        self._contacts = None
        return super().open(cursor, full=full, api=api, store=store)

    def hydrate(self, api: Api, records: list[dict[str, Any]]) -> dict[str, Any]:
        assert self.facts is not None
        who = {str(r.get("WhoId") or "") for r in records}
        if self._contacts is None and any(w.startswith(CONTACT_PREFIX) for w in who):
            self._contacts = self.facts.converted_into("ConvertedContactId")
        known = self._contacts or {}
        return {"contacts": {w: known[w] for w in who if w in known}}

    def to_page(self, batch: Batch, stats: StreamStats) -> Page:
        contacts: dict[str, list[str]] = batch.extra.get("contacts", {})
        page = Page()
        for record in batch.records:
            row = map_activity(record, self.spec.sobject, stats)
            page.activities.append(row)
            page.links_for.append(row["id"])
            who = _text(record.get("WhoId")) or ""
            if who.startswith(LEAD_PREFIX):
                lead_ids = [canonical_id(SOURCE, who)]
            else:
                lead_ids = contacts.get(who, [])
            for lead_id in lead_ids:
                page.links.append({"activity_id": row["id"], "lead_id": lead_id})
        return page


# ---------------------------------------------------------------------------- connector


class SalesforceConnector:
    """The Salesforce source: its dialect, its streams in sync order, and the login."""

    def __init__(
        self,
        transport: SalesforceTransport,
        *,
        options: SyncOptions | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.options = SalesforceOptions.of(options)
        self.clock = clock or SystemClock()
        self.transport = transport
        self.dialect = SalesforceDialect(transport.instance_url or "the instance")
        self.reader = SalesforceReader(transport, self.options)
        self._history_stream: LeadHistoryStream | None = None

    @classmethod
    def from_settings(
        cls, settings: Settings, *, options: SyncOptions | None = None, clock: Clock | None = None
    ) -> SalesforceConnector:
        """Session id + instance URL when both are set, else username/password/token."""
        opts = SalesforceOptions.of(options)
        token = settings.salesforce_access_token
        transport_args: dict[str, Any]
        if settings.salesforce_instance_url and token is not None:
            transport_args = {
                "instance_url": settings.salesforce_instance_url.rstrip("/"),
                "session_id": token.reveal(),
            }
        else:
            password, security = settings.salesforce_password, settings.salesforce_security_token
            transport_args = {
                "username": settings.salesforce_username,
                "password": password.reveal() if password else None,
                "security_token": security.reveal() if security else None,
                "domain": settings.salesforce_domain,
                "instance_url": settings.salesforce_instance_url,
            }
        transport = SalesforceTransport(
            **transport_args,
            version=opts.api_version,
            ca_bundle=opts.ca_bundle,
            timeout=(opts.connect_timeout_s, opts.read_timeout_s),
        )
        return cls(transport, options=opts, clock=clock)

    def now(self) -> datetime:
        return self.clock.now()

    def _history_ceiling(self) -> str | None:
        """Conversions are read up to a look-back before the history stream began."""
        if self._history_stream is None:
            return None
        return whole_second(self._history_stream.opened - self.options.lookback)

    def streams(self) -> list[Stream]:
        """Users, leads, their history, conversions, won opportunities, tasks, events."""
        common: dict[str, Any] = {"options": self.options, "now": self.now}
        history = LeadHistoryStream(LEAD_HISTORY, self.reader, **common)
        self._history_stream = history
        return [
            UsersStream(USERS, self.reader, **common),
            LeadsStream(LEADS, self.reader, base_url=lambda: self.transport.base_url, **common),
            history,
            ConversionsStream(CONVERSIONS, self.reader, ceiling=self._history_ceiling, **common),
            OpportunitiesStream(OPPORTUNITIES, self.reader, **common),
            ActivitiesStream(TASKS, self.reader, **common),
            ActivitiesStream(EVENTS, self.reader, **common),
        ]

    def prepare(self, api: Api) -> None:
        """Log in (password logins), then read ``/limits/``: it checks the session before
        any data is asked for, and its ``Sforce-Limit-Info`` tells the engine how much of
        the org's daily allowance is already spent — a sync that would pass its share
        stops here, having spent one request."""
        try:
            self.transport.connect()
        except LoginRefused as exc:
            raise api.fail(
                f"Salesforce refused the login ({exc}): check SALESFORCE_USERNAME, "
                "SALESFORCE_PASSWORD and SALESFORCE_SECURITY_TOKEN, and SALESFORCE_DOMAIN "
                "('test' for a sandbox org, or your My Domain)"
            ) from None
        except (ConnectionTrouble, ConfigTrouble) as exc:
            raise api.fail(f"the Salesforce login could not be reached: {exc}") from None
        if self.transport.logs_in:
            # The session id a login hands back is a credential nobody listed: mask it in
            # every message and log line from here on (the redactor is shared with both).
            api.redactor.secrets = api.redactor.with_secrets([self.transport.session_id]).secrets
        api.call("GET /limits", self.transport.limits, expect=lambda d: isinstance(d, dict))


def build_connector(settings: Settings, options: SyncOptions, clock: Clock) -> SalesforceConnector:
    """The registry's builder (``connectors.sync``)."""
    if not settings.salesforce_configured():  # pragma: no cover - sync_source checks first
        raise SyncError("salesforce is not configured")
    return SalesforceConnector.from_settings(settings, options=options, clock=clock)


__all__ = [
    "SESSION_FIX",
    "SalesforceConnector",
    "SalesforceDialect",
    "SalesforceOptions",
    "SalesforceTransport",
    "build_connector",
    "ca_bundle_path",
    "parse_bulk_page",
    "tls_session",
]
