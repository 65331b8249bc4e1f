"""simple-salesforce on a ``requests`` session we control: TLS verified against the CA we
choose, a timeout on every request, and each call turned into the one HTTP answer the
engine judges (simple-salesforce raises on any status ≥ 300; a response hook keeps what
the server sent)."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from connectors.core import ConfigTrouble, ConnectionTrouble, HttpAnswer
from connectors.salesforce.auth import JWT, Login
from connectors.salesforce.dialect import error_code
from connectors.salesforce.options import API_VERSION
from connectors.salesforce.redirects import SameHostSession

log = logging.getLogger(__name__)


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
    session = SameHostSession()
    session.trust_env = False
    session.verify = ca_bundle_path(ca_bundle)
    session.proxies.update(requests.utils.get_environ_proxies(proxy_for))
    adapter = _TimeoutAdapter(timeout)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


class LoginRefused(Exception):
    """Salesforce refused a login: one line naming the flow, what Salesforce said, and
    what the user checks."""

    def __init__(self, login: Login, said: str) -> None:
        super().__init__(f"Salesforce refused the {login.flow} login ({said}): {login.check}")


def _describe(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__


class SalesforceTransport:
    """simple-salesforce on our session, each call turned into one :class:`HttpAnswer`.

    The ``Salesforce`` client is built on first use (a login is a request, and a refused
    login must be a sync error, not a crash while building the connector). Logins go
    through simple-salesforce's own ``SalesforceLogin`` and the client is then built on
    the session id it returned, so that renewing an expired session is this class's
    job, done once per expiry (:meth:`exchange`) — the client's built-in renewal retries
    up to three times, not at all for Bulk API 2.0 calls, and tells nobody the new id.
    """

    def __init__(
        self,
        login: Login,
        *,
        version: str = API_VERSION,
        ca_bundle: str | None = None,
        timeout: tuple[float, float] = (10.0, 60.0),
    ) -> None:
        self.login = login
        self.instance_url: str | None = login.arguments.get("instance_url")
        self.version = version
        target = self.instance_url or f"https://{login.domain}.salesforce.com"
        self.session = tls_session(ca_bundle, timeout=timeout, proxy_for=target)
        self.session.hooks["response"].append(self._remember)
        self.on_session: Callable[[str], None] | None = None
        """Told every session id a login hands back (the connector masks it from then on)."""
        self.logins = 0
        """Logins made (the first, and one per expired session)."""
        self._last: requests.Response | None = None
        self._client: Any = None
        self._renewing = threading.Lock()

    def _remember(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self._last = response

    def connect(self) -> Any:
        """The ``Salesforce`` client; the login happens here, once."""
        if self._client is None:
            self._client = self._log_in()
        return self._client

    def _log_in(self) -> Any:
        from simple_salesforce import Salesforce

        if not self.login.repeatable:
            return Salesforce(**self.login.arguments, session=self.session, version=self.version)
        session_id, instance = self._new_session()
        self.logins += 1
        if self.on_session is not None:
            self.on_session(session_id)
        self.instance_url = f"https://{instance}"
        return Salesforce(
            session_id=session_id, instance=instance, session=self.session, version=self.version
        )

    def _new_session(self) -> tuple[str, str]:
        """``(session id, instance host)`` from simple-salesforce's login for our flow."""
        from jwt.exceptions import PyJWTError
        from simple_salesforce.exceptions import SalesforceAuthenticationFailed
        from simple_salesforce.login import SalesforceLogin

        _check_key_file(self.login.arguments.get("privatekey_file"))
        try:
            session_id, instance = SalesforceLogin(
                **self.login.arguments, session=self.session, sf_version=self.version
            )
        except SalesforceAuthenticationFailed as exc:
            said = " ".join(str(getattr(exc, "auth_message", "") or exc).split())
            raise LoginRefused(self.login, f"{exc.code}: {said[:200]}") from None
        except requests.exceptions.SSLError as exc:
            raise ConfigTrouble(_tls_hint(exc)) from None
        except requests.exceptions.RequestException as exc:
            raise ConnectionTrouble(_describe(exc)) from None
        except (PyJWTError, ValueError, TypeError) as exc:
            if self.login.flow != JWT:
                raise
            # The JWT flow signs before sending; the key's own text is never shown.
            raise ConfigTrouble(
                f"the key in SALESFORCE_PRIVATE_KEY_FILE cannot sign a JWT "
                f"({type(exc).__name__}): use the RSA private key (PEM) of the certificate "
                "uploaded to the app"
            ) from None
        return str(session_id), str(instance)

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

        A 401 INVALID_SESSION_ID on a login that can be repeated (not a bare session id)
        means the session expired mid-sync: log in again once and repeat the call; a
        second 401 is the answer the engine judges. A refused new login ends the sync.
        """
        client = self.connect()
        answer = self._exchange_once(client, call)
        if answer.status != 401 or not self.login.repeatable:
            return answer
        if error_code(answer) != "INVALID_SESSION_ID":
            return answer
        return self._exchange_once(self._renew(client), call)

    def _renew(self, expired: Any) -> Any:
        """A client on a new session (one login, even when several calls saw it expire)."""
        with self._renewing:
            if self._client is expired:
                try:
                    self._client = self._log_in()
                except LoginRefused as exc:
                    raise ConfigTrouble(f"the session expired, and {exc}") from None
                log.info("salesforce: the session expired; logged in again (%s)", self.login.flow)
            return self._client

    def _exchange_once(self, client: Any, call: Callable[[Any], object]) -> HttpAnswer:
        """One call: simple-salesforce raises on any status ≥ 300 and on a body it cannot
        parse; the response hook kept the answer, and the engine decides what it means."""
        from simple_salesforce.exceptions import SalesforceError

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

    def describe(self, sobject: str) -> HttpAnswer:
        """``GET /sobjects/{sobject}/describe``: the object's fields, picklists with labels."""
        return self.exchange(lambda sf: getattr(sf, sobject).describe())

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


def _check_key_file(path: str | None) -> None:
    """A missing or unreadable key file is a setting to fix, named (its content never is)."""
    if path is None:
        return
    try:
        with open(path, "rb"):
            pass
    except OSError as exc:
        raise ConfigTrouble(
            f"SALESFORCE_PRIVATE_KEY_FILE ({path}) cannot be read ({exc.strerror or exc}): "
            "set it to the PEM file of the private key whose certificate the app holds"
        ) from None


def _tls_hint(exc: BaseException) -> str:
    return (
        f"TLS failed ({_describe(exc)}); if a proxy or a private CA is in the way, set "
        "REQUESTS_CA_BUNDLE or SSL_CERT_FILE to its CA file"
    )
