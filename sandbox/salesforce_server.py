"""A fake Salesforce REST API on https://127.0.0.1, serving a generated :class:`~.generator.CRM`.

It imitates Salesforce *as documented* (REST API and Bulk API 2.0 query jobs), so that the
real ``simple-salesforce`` and our connector talk to it as to an org:

* ``GET  /services/data/vXX.X/query?q=…`` and ``/queryAll?q=…`` (SOQL, see :mod:`.soql`),
  ``GET /services/data/vXX.X/query/{locator}`` (and ``queryAll/{locator}``) for the next
  batch; ``GET /services/data/vXX.X/limits``; ``GET /services/data/`` (versions);
  ``GET /services/data/vXX.X/sobjects/{sObject}/describe`` (:mod:`.salesforce_describe`).
* ``POST /services/data/vXX.X/jobs/query`` (create a query / queryAll job),
  ``GET …/jobs/query/{id}`` (job info), ``GET …/jobs/query/{id}/results?maxRecords&locator``
  (CSV), ``PATCH`` (abort) and ``DELETE`` on a job, ``GET …/jobs/query`` (all jobs).

The objects and their ids are :mod:`.salesforce_model`'s. Behaviour worth knowing:

* HTTPS with a throwaway CA (:mod:`.tls`): give :attr:`SalesforceSandbox.ca_path` to the
  client — :func:`sandbox_session` makes a ``requests.Session`` that trusts it and ignores
  ``REQUESTS_CA_BUNDLE`` (``trust_env = False``). :meth:`SalesforceSandbox.client` returns a
  ready ``simple_salesforce.Salesforce``.
* ``Authorization: Bearer <session id>`` (or ``OAuth <session id>``); anything else is 401
  ``[{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]``.
* Logins: ``POST /services/oauth2/token`` with the JWT bearer or client credentials grant
  of the ``oauth_app`` (:mod:`.salesforce_oauth`) issues a new session id, which replaces
  the one accepted so far; ``logins`` counts the sessions issued. Not an API call, no
  ``Sforce-Limit-Info``. simple-salesforce posts it to ``https://{domain}.salesforce.com``:
  a test routes that host here at the HTTP layer.
* Sessions expire: with ``session_requests`` (authorised requests a session serves) or
  ``session_seconds`` (its lifetime) set, the session then answers 401 INVALID_SESSION_ID
  until a new one is issued (by a login, or :meth:`SalesforceSandbox.set_token`).
* Every authorised request counts one API call; every answer carries
  ``Sforce-Limit-Info: api-usage=N/<daily_limit>``; ``/limits`` reports ``DailyApiRequests``
  ``{"Max", "Remaining"}``. Once the count reaches ``daily_limit`` requests are refused with
  403 ``REQUEST_LIMIT_EXCEEDED`` ("TotalRequests Limit exceeded.") and not counted.
  (Salesforce's allowance is a rolling 24 h with some tolerance; here it is a plain counter —
  :meth:`SalesforceSandbox.reset_api_usage` starts a new day.)
* Query paging: ``Sforce-Query-Options: batchSize=N`` (clamped to 200…2000, default 2000)
  on the query — or on a queryMore, which then wins; ``nextRecordsUrl`` is
  ``/services/data/vXX.X/query/01g…-<offset>`` for query *and* queryAll (as documented: the
  locator remembers it was a queryAll); ``totalSize`` counts every row of the result. The
  result set is fixed when the query runs (later CRM changes do not move its pages). A
  locator works as long as the sandbox keeps it (the ``max_cursors`` most recently used;
  Salesforce keeps them two days, with no limit on open cursors since API 56.0); an unknown
  one is 400 ``INVALID_QUERY_LOCATOR``.
* ``query`` never returns rows with ``IsDeleted = true``; ``queryAll`` does.
* Bulk 2.0: creating a job runs the query (errors are the REST SOQL errors, 400); the job
  answers ``UploadComplete`` on creation, ``InProgress`` to its first
  ``bulk_polls_in_progress`` info requests (default 0) and ``JobComplete`` after; results
  before that are 400. Results are CSV with every value quoted, nulls empty, booleans
  ``true``/``false``, datetimes ``2026-10-05T14:03:00.000Z`` (``bulk_datetime_suffix`` — the
  REST API writes ``+0000``; Salesforce does not document the Bulk format, so connectors
  should accept both), headers ``Sforce-NumberOfRecords`` and ``Sforce-Locator`` (``null``
  on the last page). ``maxRecords`` defaults to ``bulk_default_max_records``.
* Faults (:meth:`SalesforceSandbox.inject`) fire before authentication and are not counted
  as API calls; ``query_timeout`` with ``query_timeout_over_days`` set fires only on a
  REST query whose date window is wider than that many days (see :func:`_window_days`).

Changes made through the CRM's helpers show on the next query (``CRM.version`` rebuilds the
org lazily).
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final, Literal
from urllib.parse import parse_qs, urlsplit

import numpy as np
from simple_salesforce import Salesforce

from sandbox.generator import CRM
from sandbox.http_sandbox import (
    REDIRECT_FAULTS,
    Fault,
    HttpSandbox,
    TLSServer,
    redirect_location,
)
from sandbox.salesforce_describe import describe
from sandbox.salesforce_model import INTEGRATION_USER_ID, Org, build_org, sf_id
from sandbox.salesforce_oauth import ConnectedApp, Refusal, TokenEndpoint
from sandbox.soql import (
    BoundQuery,
    SoqlError,
    aggregate_record,
    bind,
    epoch_ms,
    execute,
    parse,
    render_records,
    time_window_ms,
)
from sandbox.tls import sandbox_ca, sandbox_session

__all__ = ["ConnectedApp", "FaultKind", "SalesforceSandbox", "sandbox_session"]

FaultKind = Literal[
    "status",
    "reset",
    "slow",
    "malformed",
    "unauthorized",
    "request_limit",
    "query_timeout",
    "redirect",
    "redirect_away",
]

#: Objects big enough for ``query_timeout_over_days`` to apply to (the rest answer at once).
LARGE_OBJECTS: Final = frozenset(
    {"Lead", "LeadHistory", "Task", "Event", "Opportunity", "Contact", "Account"}
)
MIN_BATCH: Final = 200
MAX_BATCH: Final = 2000
CURSOR_PREFIX: Final = "01g"
JOB_PREFIX: Final = "750"
_DAY_MS: Final = 86_400_000
_RELEASES: Final = {
    "57.0": "Spring '23",
    "58.0": "Summer '23",
    "59.0": "Winter '24",
    "60.0": "Spring '24",
    "61.0": "Summer '24",
    "62.0": "Winter '25",
}
_LIMIT_MESSAGE: Final = "TotalRequests Limit exceeded."
_TIMEOUT_MESSAGE: Final = "Your query request was running for too long."
ORG_ID: Final = sf_id("00D", 1)
TOKEN_PATH: Final = "/services/oauth2/token"


class ApiError(Exception):
    """An answer other than 2xx with Salesforce's error body (a JSON list)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.body = [{"message": message, "errorCode": code}]


@dataclass
class _Answer:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json;charset=UTF-8"

    def content_type_for(self, status: int) -> str | None:
        return None if status == 204 else self.content_type

    def payload(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        return json.dumps(self.body, separators=(",", ":")).encode()


@dataclass
class _Cursor:
    bound: BoundQuery
    positions: np.ndarray
    batch: int
    version: str


@dataclass
class _Job:
    id: str
    operation: str
    bound: BoundQuery
    positions: np.ndarray
    version: str
    created: str
    delimiter: str
    line_ending: str
    column_delimiter: str
    line_ending_name: str
    polls: int = 0
    state: str = "UploadComplete"


_DELIMITERS: Final = {
    "COMMA": ",",
    "TAB": "\t",
    "PIPE": "|",
    "SEMICOLON": ";",
    "CARET": "^",
    "BACKQUOTE": "`",
}
_LINE_ENDINGS: Final = {"LF": "\n", "CRLF": "\r\n"}


def _sf_datetime(at: datetime) -> str:
    at = at.astimezone(UTC)
    return f"{at:%Y-%m-%dT%H:%M:%S}.{at.microsecond // 1000:03d}+0000"


def _window_days(bound: BoundQuery, org: Org) -> float:
    """How many days of data ``bound`` asks for: from its lower bound on any datetime or
    date field (none: infinity) to its upper bound, or the org's latest instant."""
    low, high = time_window_ms(bound)
    if low is None:
        return math.inf
    top = high if high is not None else float(epoch_ms(org.now))
    return max(0.0, (top - low) / _DAY_MS)


def _encode_locator(offset: int) -> str:
    return base64.b64encode(str(offset).encode()).decode().rstrip("=")


def _decode_locator(locator: str) -> int:
    padded = locator + "=" * (-len(locator) % 4)
    try:
        return int(base64.b64decode(padded, validate=True).decode())
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise ApiError(400, "INVALIDLOCATOR", f"Invalid locator: {locator}") from None


class SalesforceSandbox(HttpSandbox[FaultKind]):
    """A Salesforce org imitation serving ``crm`` over HTTPS on 127.0.0.1, in its own thread.

    Use it as a context manager. ``requests`` counts every request received, keyed
    ``"METHOD /services/data/vXX.X/<resource template>"`` — for example
    ``"GET /services/data/v59.0/query"``, ``"GET /services/data/v59.0/query/<locator>"``,
    ``"POST /services/data/v59.0/jobs/query"``, ``"GET /services/data/v59.0/jobs/query/<id>"``,
    ``"GET /services/data/v59.0/jobs/query/<id>/results"``, ``"GET /services/data/v59.0/limits"``.

    Faults (:meth:`inject`): ``status``: answer ``status`` with a Salesforce error body (500
    UNKNOWN_EXCEPTION, 502/503/504 SERVER_UNAVAILABLE…); ``reset``: close the connection
    with a TCP reset and no answer; ``slow``: wait ``delay_s`` then answer normally;
    ``malformed``: 200 with the body cut in half; ``unauthorized``: 401 INVALID_SESSION_ID;
    ``request_limit``: 403 REQUEST_LIMIT_EXCEEDED; ``query_timeout``: 400 QUERY_TIMEOUT —
    with ``query_timeout_over_days`` set, only REST queries wider than that fire it;
    ``redirect`` / ``redirect_away``: 307 to the same URL, on this host or on another.
    """

    server_version = "SalesforceSandbox/1.0"
    fault_kinds = frozenset(FaultKind.__args__)  # type: ignore[attr-defined]
    scheme = "https"

    def __init__(
        self,
        crm: CRM,
        token: str = "sandbox-session",
        version: str = "59.0",
        daily_limit: int = 15_000,
        *,
        api_usage: int = 0,
        query_timeout_over_days: float | None = None,
        max_batch_size: int = MAX_BATCH,
        max_cursors: int = 64,
        max_jobs: int = 256,
        bulk_polls_in_progress: int = 0,
        bulk_default_max_records: int = 50_000,
        bulk_datetime_suffix: str = "Z",
        reparent_on_conversion: bool = True,
        owner_history: Literal["both", "ids"] = "both",
        oauth_app: ConnectedApp | None = None,
        session_requests: int | None = None,
        session_seconds: float | None = None,
        port: int = 0,
    ) -> None:
        super().__init__(token, port)
        self.oauth_app = oauth_app
        self.session_requests = session_requests
        self.session_seconds = session_seconds
        self.logins = 0
        self._session_served = 0
        self._session_began = time.monotonic()
        self.crm = crm
        self.version = version
        self.daily_limit = daily_limit
        self.query_timeout_over_days = query_timeout_over_days
        self.max_batch_size = max(MIN_BATCH, min(MAX_BATCH, max_batch_size))
        self.max_cursors = max_cursors
        self.max_jobs = max_jobs
        self.bulk_polls_in_progress = bulk_polls_in_progress
        self.bulk_default_max_records = bulk_default_max_records
        self.bulk_datetime_suffix = bulk_datetime_suffix
        self.reparent_on_conversion = reparent_on_conversion
        self.owner_history: Literal["both", "ids"] = owner_history
        self._api_usage = api_usage
        self._org: Org | None = None
        self._org_lock = threading.Lock()
        self._cursors: OrderedDict[str, _Cursor] = OrderedDict()
        self._jobs: OrderedDict[str, _Job] = OrderedDict()
        self._jobs_created = 0
        self._serial = 0
        self._ca = sandbox_ca()

    # ----------------------------------------------------------------- lifecycle
    def _make_server(
        self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]
    ) -> ThreadingHTTPServer:
        """HTTPS; the org is built first so the first request is not slow."""
        self.org()
        return TLSServer(address, handler, self._ca.server_context)

    # ----------------------------------------------------------------- addresses
    @property
    def instance_url(self) -> str:
        """``https://127.0.0.1:PORT`` — simple-salesforce's ``instance_url``."""
        return self._origin()

    @property
    def ca_path(self) -> str:
        """PEM file of the throwaway CA that signed the sandbox's certificate."""
        return self._ca.ca_path

    @property
    def session_id(self) -> str:
        """The session id (access token) the sandbox accepts now."""
        return self.token

    @property
    def base_path(self) -> str:
        return f"/services/data/v{self.version}"

    def client(self, **kwargs: Any) -> Salesforce:
        """A real ``simple_salesforce.Salesforce`` connected to this sandbox."""
        return Salesforce(
            session_id=self.session_id,
            instance_url=self.instance_url,
            session=sandbox_session(self.ca_path),
            version=self.version,
            **kwargs,
        )

    # ----------------------------------------------------------------- knobs
    def set_token(self, token: str) -> None:
        """Accept only ``token`` from now on, as a fresh session (its lifetime restarts)."""
        with self._lock:
            self.token = token
            self._session_served = 0
            self._session_began = time.monotonic()

    @property
    def api_usage(self) -> int:
        """API calls counted today (what ``Sforce-Limit-Info`` reports)."""
        return self._api_usage

    @api_usage.setter
    def api_usage(self, value: int) -> None:
        with self._lock:
            self._api_usage = value

    def reset_api_usage(self) -> None:
        """A new day: the whole daily allowance is available again."""
        self.api_usage = 0

    def org(self) -> Org:
        """The org for the CRM's current version (rebuilt lazily after changes)."""
        with self._org_lock:
            org = self._org
            if org is None or org.version != self.crm.version:
                org = build_org(
                    self.crm,
                    reparent_on_conversion=self.reparent_on_conversion,
                    owner_history=self.owner_history,
                )
                self._org = org
            return org

    # ----------------------------------------------------------------- pipeline
    def _fault_for(self, method: str, raw_path: str, *, query_timeout: bool) -> Fault | None:
        """The first pending fault matching the request. Width-dependent query timeouts are
        taken only by the query handler (``query_timeout=True``)."""

        def accept(fault: Fault) -> bool:
            wants_window = (
                fault.kind == "query_timeout" and self.query_timeout_over_days is not None
            )
            return wants_window == query_timeout

        return self._take_fault(method, raw_path, accept)

    def _limit_headers(self) -> dict[str, str]:
        return {"Sforce-Limit-Info": f"api-usage={self._api_usage}/{self.daily_limit}"}

    def handle(
        self, method: str, raw_path: str, headers: dict[str, str], body: bytes
    ) -> tuple[str, _Answer | None, Fault | None]:
        """Answer one request: (counter key, answer or None for "no answer", fault fired)."""
        parts = urlsplit(raw_path)
        query = parse_qs(parts.query, keep_blank_values=True)
        key, route = self._route(method, parts.path)
        self._count(key)
        if key == "GET /services/data":
            # The versions list needs no session and is no API call.
            answer = self._versions(query, headers, body, raw_path)
            answer.headers.update(self._limit_headers())
            return key, answer, None
        fault = self._fault_for(method, raw_path, query_timeout=False)
        answer = self._faulty(fault, raw_path) if fault is not None else None
        if fault is not None and fault.kind == "reset":
            return key, None, fault
        if answer is None and key == f"POST {TOKEN_PATH}":
            return key, self._token(headers, body), fault  # a login: no API call
        if answer is None:
            answer = self._authorised(route, query, headers, body, raw_path)
        answer.headers.update(self._limit_headers())
        return key, answer, fault

    def _faulty(self, fault: Fault, raw_path: str) -> _Answer | None:
        kind = fault.kind
        if kind == "slow":
            time.sleep(fault.delay_s)
            return None
        if kind in ("reset", "malformed"):
            return None
        if kind == "unauthorized":
            return _error(ApiError(401, "INVALID_SESSION_ID", "Session expired or invalid"))
        if kind in REDIRECT_FAULTS:
            return _Answer(307, None, {"Location": redirect_location(kind, raw_path)})
        if kind == "request_limit":
            return _error(ApiError(403, "REQUEST_LIMIT_EXCEEDED", _LIMIT_MESSAGE))
        if kind == "query_timeout":
            return _error(ApiError(400, "QUERY_TIMEOUT", _TIMEOUT_MESSAGE))
        return _error(_status_error(fault.status))

    def _authorised(
        self,
        route: Callable[[dict[str, list[str]], dict[str, str], bytes, str], _Answer] | None,
        query: dict[str, list[str]],
        headers: dict[str, str],
        body: bytes,
        raw_path: str,
    ) -> _Answer:
        auth = headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        if scheme.lower() not in ("bearer", "oauth") or not self._session_lives(token.strip()):
            return _error(ApiError(401, "INVALID_SESSION_ID", "Session expired or invalid"))
        with self._lock:
            if self._api_usage >= self.daily_limit:
                refused = True
            else:
                refused = False
                self._api_usage += 1
        if refused:
            return _error(ApiError(403, "REQUEST_LIMIT_EXCEEDED", _LIMIT_MESSAGE))
        try:
            if route is None:
                raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
            return route(query, headers, body, raw_path)
        except SoqlError as error:
            return _Answer(400, error.body())
        except ApiError as error:
            return _error(error)

    def _session_lives(self, token: str) -> bool:
        """Whether ``token`` is the current session and has not expired (counts one use)."""
        with self._lock:
            if token != self.token:
                return False
            self._session_served += 1
            served = self.session_requests
            if served is not None and self._session_served > served:
                return False
            lifetime = self.session_seconds
            return lifetime is None or time.monotonic() - self._session_began < lifetime

    def _token(self, headers: dict[str, str], body: bytes) -> _Answer:
        """``POST /services/oauth2/token``: a new session, or Salesforce's OAuth error."""
        if self.oauth_app is None:
            return _Answer(400, Refusal("invalid_client_id", "client identifier invalid").body())
        endpoint = TokenEndpoint(self.oauth_app, ORG_ID, INTEGRATION_USER_ID)
        try:
            grant = endpoint.grant(headers, body, self.instance_url)
        except Refusal as refusal:
            return _Answer(refusal.status, refusal.body())
        self.set_token(grant.session_id)
        with self._lock:
            self.logins += 1
        return _Answer(200, grant.body, {"Cache-Control": "no-cache,must-revalidate,max-age=0"})

    # ----------------------------------------------------------------- routing
    def _route(
        self, method: str, path: str
    ) -> tuple[str, Callable[[dict[str, list[str]], dict[str, str], bytes, str], _Answer] | None]:
        segments = [s for s in path.split("/") if s]
        if segments[:2] != ["services", "data"]:
            return f"{method} {path}", None
        if len(segments) == 2:
            return f"{method} /services/data", self._versions if method == "GET" else None
        ver_seg = segments[2]
        rest = segments[3:]
        base = f"/services/data/{ver_seg}"
        if not (ver_seg.startswith("v") and ver_seg[1:].replace(".", "", 1).isdigit()):
            return f"{method} {path}", None
        version = ver_seg[1:]
        n = len(rest)
        if n >= 1 and rest[0] in ("query", "queryAll") and method == "GET":
            include_deleted = rest[0] == "queryAll"
            if n == 1:
                return f"GET {base}/{rest[0]}", lambda q, h, b, raw: self._query(
                    version, q, h, include_deleted, raw
                )
            if n == 2:
                locator = rest[1]
                return f"GET {base}/{rest[0]}/<locator>", lambda q, h, b, raw: self._query_more(
                    locator, h
                )
        if n == 3 and rest[0] == "sobjects" and rest[2] == "describe" and method == "GET":
            sobject = rest[1]
            return f"GET {base}/sobjects/<name>/describe", lambda q, h, b, raw: self._describe(
                sobject, version
            )
        if rest == ["limits"] and method == "GET":
            return f"GET {base}/limits", lambda q, h, b, raw: self._limits()
        if rest[:2] == ["jobs", "query"]:
            if n == 2 and method == "POST":
                return f"POST {base}/jobs/query", lambda q, h, b, raw: self._create_job(version, b)
            if n == 2 and method == "GET":
                return f"GET {base}/jobs/query", lambda q, h, b, raw: self._list_jobs()
            if n == 3:
                job_id = rest[2]
                if method == "GET":
                    return f"GET {base}/jobs/query/<id>", lambda q, h, b, raw: self._job_info(
                        job_id
                    )
                if method == "PATCH":
                    return f"PATCH {base}/jobs/query/<id>", lambda q, h, b, raw: self._abort_job(
                        job_id, b
                    )
                if method == "DELETE":
                    return f"DELETE {base}/jobs/query/<id>", lambda q, h, b, raw: self._delete_job(
                        job_id
                    )
            if n == 4 and rest[3] == "results" and method == "GET":
                job_id = rest[2]
                return (
                    f"GET {base}/jobs/query/<id>/results",
                    lambda q, h, b, raw: self._job_results(job_id, q),
                )
        return f"{method} {path}", None

    # ----------------------------------------------------------------- REST query
    def _batch_size(self, headers: dict[str, str], default: int) -> int:
        options = headers.get("sforce-query-options", "")
        for part in options.replace(";", ",").split(","):
            name, _, value = part.partition("=")
            if name.strip().lower() == "batchsize":
                try:
                    size = int(value.strip())
                except ValueError:
                    continue
                return max(MIN_BATCH, min(self.max_batch_size, size))
        return default

    def _query(
        self,
        version: str,
        query: dict[str, list[str]],
        headers: dict[str, str],
        include_deleted: bool,
        raw_path: str,
    ) -> _Answer:
        texts = query.get("q")
        if not texts or not texts[0].strip():
            raise ApiError(400, "MALFORMED_QUERY", "A query string has to be specified")
        org = self.org()
        bound = bind(parse(texts[0]), org.tables)
        self._maybe_time_out(bound, org, raw_path)
        positions = _compact(execute(bound, include_deleted))
        if bound.count:
            return _Answer(200, {"totalSize": len(positions), "done": True, "records": []})
        if bound.aggregates:
            record = aggregate_record(bound, positions, version)
            return _Answer(200, {"totalSize": 1, "done": True, "records": [record]})
        batch = self._batch_size(headers, self.max_batch_size)
        cursor = _Cursor(bound, positions, batch, version)
        cursor_id = ""
        if len(positions) > batch:
            with self._lock:
                self._serial += 1
                cursor_id = sf_id(CURSOR_PREFIX, self._serial)
                self._cursors[cursor_id] = cursor
                while len(self._cursors) > self.max_cursors:
                    self._cursors.popitem(last=False)
        return _Answer(200, self._page(cursor, cursor_id, 0, batch))

    def _maybe_time_out(self, bound: BoundQuery, org: Org, raw_path: str) -> None:
        days = self.query_timeout_over_days
        if days is None or bound.table.name not in LARGE_OBJECTS:
            return
        if _window_days(bound, org) <= days:
            return
        if self._fault_for("GET", raw_path, query_timeout=True) is not None:
            raise ApiError(400, "QUERY_TIMEOUT", _TIMEOUT_MESSAGE)

    def _page(self, cursor: _Cursor, cursor_id: str, start: int, batch: int) -> dict[str, Any]:
        total = len(cursor.positions)
        stop = min(total, start + batch)
        bound = cursor.bound
        records = render_records(
            bound.table, bound.fields, cursor.positions[start:stop], cursor.version
        )
        page: dict[str, Any] = {"totalSize": total, "done": stop >= total}
        if stop < total:
            page["nextRecordsUrl"] = f"/services/data/v{cursor.version}/query/{cursor_id}-{stop}"
        page["records"] = records
        return page

    def _query_more(self, locator: str, headers: dict[str, str]) -> _Answer:
        cursor_id, _, offset_text = locator.rpartition("-")
        with self._lock:
            cursor = self._cursors.get(cursor_id)
            if cursor is not None:
                self._cursors.move_to_end(cursor_id)
        if cursor is None or not offset_text.isdigit():
            raise ApiError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        offset = int(offset_text)
        if offset > len(cursor.positions):
            raise ApiError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        batch = self._batch_size(headers, cursor.batch)
        return _Answer(200, self._page(cursor, cursor_id, offset, batch))

    # ----------------------------------------------------------------- limits, versions
    def _describe(self, sobject: str, version: str) -> _Answer:
        found = describe(sobject, version)
        if found is None:
            raise ApiError(404, "NOT_FOUND", f"The requested resource does not exist: {sobject}")
        return _Answer(200, found)

    def _limits(self) -> _Answer:
        with self._lock:
            used = self._api_usage
            jobs = self._jobs_created
        return _Answer(
            200,
            {
                "DailyApiRequests": {"Max": self.daily_limit, "Remaining": self.daily_limit - used},
                "DailyBulkApiBatches": {"Max": 15_000, "Remaining": 15_000},
                "DailyBulkV2QueryFileStorageMB": {"Max": 976_562, "Remaining": 976_562},
                "DailyBulkV2QueryJobs": {"Max": 10_000, "Remaining": 10_000 - jobs},
                "DataStorageMB": {"Max": 1024, "Remaining": 1000},
                "FileStorageMB": {"Max": 1024, "Remaining": 1024},
            },
        )

    def _versions(
        self, _q: dict[str, list[str]], _h: dict[str, str], _b: bytes, _raw: str
    ) -> _Answer:
        versions = sorted({*_RELEASES, self.version}, key=float)
        return _Answer(
            200,
            [
                {
                    "label": _RELEASES.get(v, f"v{v}"),
                    "url": f"/services/data/v{v}",
                    "version": v,
                }
                for v in versions
            ],
        )

    # ----------------------------------------------------------------- Bulk API 2.0
    def _create_job(self, version: str, body: bytes) -> _Answer:
        try:
            payload = json.loads(body or b"null")
        except ValueError:
            raise ApiError(400, "JSON_PARSER_ERROR", "Invalid JSON in the request body") from None
        if not isinstance(payload, dict):
            raise ApiError(400, "JSON_PARSER_ERROR", "The request body must be a JSON object")
        operation = payload.get("operation")
        if operation not in ("query", "queryAll"):
            raise ApiError(400, "INVALIDJOB", f"Invalid operation for a query job: {operation!r}")
        text = payload.get("query")
        if not isinstance(text, str) or not text.strip():
            raise ApiError(400, "INVALIDJOB", "A query job needs a query")
        column_delimiter = str(payload.get("columnDelimiter") or "COMMA")
        line_ending = str(payload.get("lineEnding") or "LF")
        if column_delimiter not in _DELIMITERS or line_ending not in _LINE_ENDINGS:
            raise ApiError(400, "INVALIDJOB", "Invalid columnDelimiter or lineEnding")
        org = self.org()
        bound = bind(parse(text), org.tables)
        if bound.count or bound.offset:
            raise ApiError(
                400,
                "API_ERROR",
                "Bulk API query jobs do not support COUNT() or OFFSET",
            )
        positions = _compact(execute(bound, operation == "queryAll"))
        with self._lock:
            self._serial += 1
            self._jobs_created += 1
            job_id = sf_id(JOB_PREFIX, self._serial)
            job = _Job(
                id=job_id,
                operation=operation,
                bound=bound,
                positions=positions,
                version=version,
                created=_sf_datetime(datetime.now(UTC)),
                delimiter=_DELIMITERS[column_delimiter],
                line_ending=_LINE_ENDINGS[line_ending],
                column_delimiter=column_delimiter,
                line_ending_name=line_ending,
            )
            self._jobs[job_id] = job
            while len(self._jobs) > self.max_jobs:
                self._jobs.popitem(last=False)
        return _Answer(200, self._job_json(job, detailed=False))

    def _job_json(self, job: _Job, detailed: bool) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": job.id,
            "operation": job.operation,
            "object": job.bound.table.name,
            "createdById": INTEGRATION_USER_ID,
            "createdDate": job.created,
            "systemModstamp": job.created,
            "state": job.state,
            "concurrencyMode": "Parallel",
            "contentType": "CSV",
            "apiVersion": float(job.version),
        }
        if detailed:
            out["jobType"] = "V2Query"
        out["lineEnding"] = job.line_ending_name
        out["columnDelimiter"] = job.column_delimiter
        if detailed:
            complete = job.state == "JobComplete"
            out["numberRecordsProcessed"] = len(job.positions) if complete else 0
            out["retries"] = 0
            out["totalProcessingTime"] = 25 if complete else 0
        return out

    def _job(self, job_id: str) -> _Job:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
        return job

    def _job_info(self, job_id: str) -> _Answer:
        job = self._job(job_id)
        with self._lock:
            if job.state in ("UploadComplete", "InProgress"):
                if job.polls < self.bulk_polls_in_progress:
                    job.polls += 1
                    job.state = "InProgress"
                else:
                    job.state = "JobComplete"
        return _Answer(200, self._job_json(job, detailed=True))

    def _list_jobs(self) -> _Answer:
        with self._lock:
            jobs = list(self._jobs.values())
        return _Answer(
            200,
            {
                "done": True,
                "records": [self._job_json(job, detailed=True) for job in jobs],
                "nextRecordsUrl": None,
            },
        )

    def _abort_job(self, job_id: str, body: bytes) -> _Answer:
        job = self._job(job_id)
        try:
            state = json.loads(body or b"{}").get("state")
        except (ValueError, AttributeError):
            state = None
        if state != "Aborted":
            raise ApiError(400, "INVALIDJOBSTATE", f"Invalid state for a query job: {state!r}")
        with self._lock:
            if job.state != "JobComplete":
                job.state = "Aborted"
        return _Answer(200, self._job_json(job, detailed=False))

    def _delete_job(self, job_id: str) -> _Answer:
        self._job(job_id)
        with self._lock:
            self._jobs.pop(job_id, None)
        return _Answer(204, None)

    def _job_results(self, job_id: str, query: dict[str, list[str]]) -> _Answer:
        job = self._job(job_id)
        with self._lock:
            if job.state != "JobComplete" and job.polls >= self.bulk_polls_in_progress:
                job.state = "JobComplete" if job.state != "Aborted" else job.state
            state = job.state
        if state != "JobComplete":
            raise ApiError(400, "API_ERROR", f"Job {job_id} is not complete (state {state})")
        max_records = self.bulk_default_max_records
        if query.get("maxRecords"):
            try:
                max_records = int(query["maxRecords"][0])
            except ValueError:
                max_records = 0
            if max_records < 1:
                raise ApiError(400, "INVALIDREQUEST", "maxRecords must be a positive integer")
        start = _decode_locator(query["locator"][0]) if query.get("locator") else 0
        total = len(job.positions)
        if not 0 <= start <= total:
            raise ApiError(400, "INVALIDLOCATOR", "Invalid locator")
        stop = min(total, start + max_records)
        table = job.bound.table
        page = job.positions[start:stop]
        columns = [
            table.render_csv(spec.name, page, self.bulk_datetime_suffix)
            for spec in job.bound.fields
        ]
        buffer = io.StringIO()
        writer = csv.writer(
            buffer,
            delimiter=job.delimiter,
            lineterminator=job.line_ending,
            quoting=csv.QUOTE_ALL,
        )
        writer.writerow([spec.name for spec in job.bound.fields])
        writer.writerows(zip(*columns, strict=True) if columns else [])
        headers = {
            "Sforce-NumberOfRecords": str(stop - start),
            "Sforce-Locator": _encode_locator(stop) if stop < total else "null",
        }
        return _Answer(
            200, buffer.getvalue().encode(), headers, content_type="text/csv; charset=UTF-8"
        )


def _compact(positions: np.ndarray) -> np.ndarray:
    """Row positions as int32: cursors and jobs keep them until evicted."""
    return positions.astype(np.int32) if positions.size else positions


def _error(error: ApiError) -> _Answer:
    return _Answer(error.status, error.body)


def _status_error(status: int) -> ApiError:
    if status == 500:
        return ApiError(
            500,
            "UNKNOWN_EXCEPTION",
            "An unexpected error occurred. Please include this ErrorId if you contact "
            "support: 1706374857-42424 (-1234567890)",
        )
    if status in (502, 503, 504):
        return ApiError(status, "SERVER_UNAVAILABLE", "Server temporarily unavailable")
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    return ApiError(status, phrase.upper().replace(" ", "_"), phrase)
