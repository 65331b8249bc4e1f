"""Which HubSpot credential a sync sends, and an OAuth access token kept fresh all night.

Three kinds, each named in the environment (:data:`config.sources.HUBSPOT`):

* a **service key** (``HUBSPOT_SERVICE_KEY``): HubSpot's replacement for private apps,
  sent as ``Authorization: Bearer`` like a private-app token, scoped the same way;
* an **OAuth app** (``HUBSPOT_CLIENT_ID``, ``HUBSPOT_CLIENT_SECRET``,
  ``HUBSPOT_REFRESH_TOKEN``): the refresh token is exchanged for access tokens that last
  about 30 minutes, through ``hubspot-api-client``'s ``oauth.tokens_api``;
* a **legacy private-app token** (``HUBSPOT_ACCESS_TOKEN``): still honoured, but HubSpot no
  longer lets new ones be created.

Exactly one kind may be set. With two, which one a night's run uses would hang on a rule
nobody remembers when one of them is revoked, so the sync refuses and names them.

An OAuth access token is renewed *before* it expires (when less than a quarter of its
life, at most five minutes, is left), and once more if HubSpot answers 401 anyway (a
clock out of step, a token revoked early); the request is then repeated once. Every token
obtained is handed to the run's redactor the moment it arrives, so none can reach a log
line, an error or the snapshot.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from config.logging_setup import event
from config.redact import Redactor
from config.settings import Secret, Settings
from config.sources import HUBSPOT
from connectors.core import ConnectionTrouble, HttpAnswer, SyncError

log = logging.getLogger("connectors.hubspot")

TOKEN_ENDPOINT = "POST /oauth/v1/token"
"""The call ``oauth.tokens_api.create`` makes (hubspot-api-client 12)."""

REFRESH_MARGIN_S = 300.0
"""Renew an access token this long before it expires (less for short-lived tokens)."""


@dataclass(frozen=True)
class CredentialKind:
    """One way to log in to HubSpot, as errors and hints name it."""

    name: str
    """``service key``: what HubSpot refused, in a sentence."""
    variables: tuple[str, ...]
    holder: str
    """What lacks a scope on a 403 (``the service key``)."""
    refused_fix: str
    """What to do when HubSpot answers 401 to this kind."""

    def refused(self) -> str:
        """The fix for a 401, naming the kind and its variables."""
        return f"HubSpot refused the {self.name} ({', '.join(self.variables)}): {self.refused_fix}"


SERVICE_KEY = CredentialKind(
    "service key",
    ("HUBSPOT_SERVICE_KEY",),
    "the service key",
    "copy an active key from HubSpot > Development > Keys > Service keys (a rotated or "
    "deleted key stops working at once)",
)
OAUTH = CredentialKind(
    "access token obtained by OAuth",
    ("HUBSPOT_CLIENT_ID", "HUBSPOT_CLIENT_SECRET", "HUBSPOT_REFRESH_TOKEN"),
    "the app behind HUBSPOT_CLIENT_ID",
    "a token just obtained with the refresh token was refused too: check the app is still "
    "installed in this portal and HUBSPOT_BASE_URL points at its data centre",
)
PRIVATE_APP = CredentialKind(
    "private-app token",
    ("HUBSPOT_ACCESS_TOKEN",),
    "the private app",
    "set it to a valid legacy private-app token (HubSpot > Settings > Integrations > "
    "Private apps), or move to a service key (HUBSPOT_SERVICE_KEY)",
)
KINDS = (SERVICE_KEY, OAUTH, PRIVATE_APP)
"""Wording note: the redactor masks the word after "OAuth " (an ``Authorization: OAuth …``
header), so no message here puts a word right after "OAuth"."""


class Attachable(Protocol):
    """What a token source needs from the run's :class:`~connectors.core.Api`."""

    redactor: Redactor

    def fail(self, what: str) -> SyncError: ...


class TokenEndpointBusy(Exception):
    """The token endpoint answered 429 or 5xx: the request's attempt ends with that answer,
    so the engine retries it (and the refresh) as it retries any overloaded call."""

    def __init__(self, answer: HttpAnswer) -> None:
        super().__init__(f"HTTP {answer.status}")
        self.answer = answer


@dataclass(frozen=True)
class StaticToken:
    """A private-app token or a service key: the same bearer token all night."""

    value: str
    kind: CredentialKind = PRIVATE_APP

    def token(self) -> str:
        return self.value

    def renew(self, stale: str) -> bool:
        """Nothing to renew: a 401 is the answer."""
        return False

    def attach(self, api: Attachable) -> None:
        """Already in the redactor (``Settings.secrets``)."""


@dataclass(frozen=True)
class OAuthClient:
    """The three OAuth variables, before any token is asked for."""

    client_id: str
    client_secret: str
    refresh_token: str


TokenRequest = Callable[[Mapping[str, str]], HttpAnswer]
"""Sends the token endpoint's form fields (``grant_type``, …) and returns its answer."""


class OAuthSession:
    """The current OAuth access token: obtained on first use, renewed before expiry and on
    a 401. Thread-safe: a prefetching worker and the engine share it, and only one of them
    refreshes while the other waits for the new token."""

    kind = OAUTH

    def __init__(
        self, client: OAuthClient, request: TokenRequest, monotonic: Callable[[], float]
    ) -> None:
        self.client = client
        self.refresh_token = client.refresh_token
        """The refresh token in use: HubSpot may hand back a new one, used from then on
        (the variable itself is not rewritten)."""
        self.token_requests = 0
        self._request = request
        self._monotonic = monotonic
        self._access: str | None = None
        self._renew_at = math.inf
        self._lock = threading.Lock()
        self._api: Attachable | None = None
        self._obtained: list[str] = []

    def attach(self, api: Attachable) -> None:
        """Report to ``api``: tokens go into its redactor, a refusal becomes its error line."""
        self._api = api
        self._register(self._obtained)

    def token(self) -> str:
        """A token with time left, refreshing first when it is close to expiry."""
        with self._lock:
            if self._access is None or self._monotonic() >= self._renew_at:
                self._refresh("expiring" if self._access else "first")
            assert self._access is not None
            return self._access

    def renew(self, stale: str) -> bool:
        """HubSpot refused ``stale`` with a 401: refresh unless another thread already has."""
        with self._lock:
            if self._access == stale:
                self._refresh("refused")
        return True

    def _refresh(self, reason: str) -> None:
        """Ask for a new access token (under the lock); its life counts from the asking."""
        self.token_requests += 1
        asked_at = self._monotonic()
        answer = self._request(
            {
                "grant_type": "refresh_token",
                "client_id": self.client.client_id,
                "client_secret": self.client.client_secret,
                "refresh_token": self.refresh_token,
            }
        )
        if answer.status == 429 or answer.status >= 500:
            raise TokenEndpointBusy(answer)
        if not 200 <= answer.status < 300:
            raise self._fail(_refusal(answer))
        access, lifetime, rotated = _read_tokens(answer)
        self._register([access, *([rotated] if rotated else [])])
        self._access = access
        if rotated and rotated != self.refresh_token:
            if self.refresh_token == self.client.refresh_token:
                log.warning(
                    "hubspot: HubSpot handed back a new refresh token; this run uses it, but "
                    "HUBSPOT_REFRESH_TOKEN is not rewritten: if the next run's refresh is "
                    "refused, install the app again and set the new refresh token"
                )
            self.refresh_token = rotated
        margin = min(REFRESH_MARGIN_S, lifetime / 4) if lifetime else 0.0
        self._renew_at = asked_at + lifetime - margin if lifetime else math.inf
        log.info(
            "hubspot: access token %s by OAuth (valid %s s)",
            "obtained" if reason == "first" else f"refreshed ({reason})",
            f"{lifetime:g}" if lifetime else "unstated",
            extra=event("oauth_token", source="hubspot", reason=reason, expires_in_s=lifetime),
        )

    def _register(self, secrets: Iterable[str]) -> None:
        fresh = [s for s in secrets if s]
        self._obtained.extend(s for s in fresh if s not in self._obtained)
        if self._api is not None and fresh:
            redactor = self._api.redactor
            redactor.secrets = redactor.with_secrets(fresh).secrets

    def _fail(self, what: str) -> SyncError:
        if self._api is not None:
            return self._api.fail(what)
        known = (self.client.client_secret, self.client.refresh_token, *self._obtained)
        return SyncError(Redactor(known)(f"hubspot sync failed: {what}"))


def _read_tokens(answer: HttpAnswer) -> tuple[str, float, str | None]:
    """``(access_token, expires_in, new refresh token or None)`` of a 2xx token answer.

    A 2xx without an access token is a broken answer, retried like a cut-short one.
    """
    try:
        data: Any = answer.json()
    except (ValueError, UnicodeDecodeError):
        data = None
    access = data.get("access_token") if isinstance(data, dict) else None
    if not isinstance(access, str) or not access:
        raise ConnectionTrouble(f"{TOKEN_ENDPOINT} answered HTTP {answer.status} without a token")
    expires = data.get("expires_in")
    lifetime = float(expires) if isinstance(expires, int | float) and expires > 0 else 0.0
    rotated = data.get("refresh_token")
    return access, lifetime, rotated if isinstance(rotated, str) and rotated else None


def _refusal(answer: HttpAnswer) -> str:
    """One line for a refused refresh: HubSpot's code and message, and what to do."""
    try:
        data: Any = answer.json()
    except (ValueError, UnicodeDecodeError):
        data = None
    code = ""
    if isinstance(data, dict):
        status = data.get("status") if data.get("status") != "error" else None
        code = str(status or data.get("error") or data.get("category") or "")
    said = f"{code} ({answer.message()})" if code else f"({answer.message()})"
    return (
        "HubSpot refused the refresh token (OAuth: HUBSPOT_REFRESH_TOKEN, for HUBSPOT_CLIENT_ID "
        f"with HUBSPOT_CLIENT_SECRET): {TOKEN_ENDPOINT} answered HTTP {answer.status} {said}: "
        "check the three come from the same app; if the app was uninstalled or the token "
        "revoked, install the app again and set the new refresh token"
    )


# ----------------------------------------------------------------------- from settings


def _text(settings: Settings, name: str) -> str | None:
    value = settings.value(name)
    if isinstance(value, Secret):
        return value.reveal() or None
    return value or None


def credential_from(settings: Settings) -> StaticToken | OAuthClient:
    """The one credential kind set in ``settings``; :class:`SyncError` if several are."""
    present = [k for k in KINDS if any(_text(settings, v) for v in k.variables)]
    if len(present) > 1:
        names = " and ".join(f"a {k.name} ({', '.join(k.variables)})" for k in present)
        raise SyncError(
            f"hubspot has more than one kind of credential set, {names}: keep one kind "
            "and unset the other's variables"
        )
    values = [_text(settings, v) for v in present[0].variables] if present else []
    if not present or not all(values):  # pragma: no cover - sync_source checks first
        raise SyncError(f"hubspot is not configured: {HUBSPOT.missing_hint}")
    if present[0] is OAUTH:
        client_id, secret, refresh = (str(v) for v in values)
        return OAuthClient(client_id, secret, refresh)
    return StaticToken(str(values[0]), present[0])


def token_source(
    credential: str | StaticToken | OAuthClient,
    request: TokenRequest,
    monotonic: Callable[[], float],
) -> StaticToken | OAuthSession:
    """What the transport asks for a bearer token; a bare string is a private-app token."""
    if isinstance(credential, str):
        return StaticToken(credential)
    if isinstance(credential, OAuthClient):
        return OAuthSession(credential, request, monotonic)
    return credential
