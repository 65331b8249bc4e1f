"""The HubSpot sandbox's OAuth side: ``POST /oauth/v1/token`` and which access tokens hold.

As HubSpot documents its OAuth tokens API (v1, and the v3 path with the same body):

* the request is form-encoded (``application/x-www-form-urlencoded``); ``grant_type=
  refresh_token`` with ``client_id``, ``client_secret`` and ``refresh_token`` answers
  ``{"token_type": "bearer", "access_token", "refresh_token", "expires_in", "hub_id",
  "scopes", "token_use"}``; ``expires_in`` is seconds (HubSpot: 1800);
* an unknown client id answers 400 ``{"status": "BAD_CLIENT_ID", "message": "missing or
  unknown client id"}``; a refresh token this client did not issue (or a wrong secret)
  400 ``{"status": "BAD_REFRESH_TOKEN", "message": "missing or invalid refresh token"}``;
  a body that is not a form, or another grant, 400 ``VALIDATION_ERROR``;
* an access token used at or after its expiry answers 401 ``EXPIRED_AUTHENTICATION``,
  "The OAuth token used to make this call expired N second(s) ago.", with the expiry in
  ``context``; an access token stays valid until then even after a refresh.

``rotate_refresh_token`` hands back a new refresh token with every access token and
revokes the one just used, to check a client carries the new one through the run.
Expiry runs on the sandbox's clock, so a test sharing that clock with the sync can make
tokens expire mid-sync without waiting.
"""

from __future__ import annotations

import secrets
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

TOKEN_PATHS = frozenset({"/oauth/v1/token", "/oauth/v3/token"})

SCOPES = (
    "crm.objects.contacts.read",
    "crm.objects.owners.read",
    "sales-email-read",
)


@dataclass
class OAuthApp:
    """The OAuth app installed in the sandbox portal, and how its tokens behave."""

    client_id: str
    client_secret: str
    refresh_token: str
    token_lifetime_s: int = 1800
    rotate_refresh_token: bool = False


@dataclass
class TokenIssuer:
    """Issues access tokens for one :class:`OAuthApp` and judges the bearer tokens sent."""

    app: OAuthApp
    clock: Callable[[], datetime]
    portal_id: int
    token_requests: int = 0
    """Every ``POST`` to the token endpoint, answered or refused."""
    issued: dict[str, datetime] = field(default_factory=dict)
    """Access token → its expiry, in the order issued."""
    refresh_tokens: list[str] = field(default_factory=list)
    """Every refresh token the app has had (the first is ``app.refresh_token``)."""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self.refresh_tokens.append(self.app.refresh_token)

    @property
    def valid_refresh_token(self) -> str:
        return self.refresh_tokens[-1]

    def exchange(self, content_type: str, body: bytes) -> tuple[int, dict[str, Any]]:
        """Answer one token request: ``(status, JSON body)``."""
        with self._lock:
            self.token_requests += 1
            if not content_type.lower().startswith("application/x-www-form-urlencoded"):
                return 400, _validation("the token endpoint takes a form-encoded body")
            form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
            if form.get("grant_type") != "refresh_token":
                return 400, _validation("grant_type must be refresh_token or authorization_code")
            if form.get("client_id") != self.app.client_id:
                return 400, v1_error("BAD_CLIENT_ID", "missing or unknown client id")
            if (
                form.get("client_secret") != self.app.client_secret
                or form.get("refresh_token") != self.valid_refresh_token
            ):
                return 400, v1_error("BAD_REFRESH_TOKEN", "missing or invalid refresh token")
            return 200, self._issue()

    def _issue(self) -> dict[str, Any]:
        access = "C" + secrets.token_urlsafe(60)
        self.issued[access] = self.clock() + timedelta(seconds=self.app.token_lifetime_s)
        if self.app.rotate_refresh_token:
            self.refresh_tokens.append(str(uuid.uuid4()))
        return {
            "token_type": "bearer",
            "access_token": access,
            "refresh_token": self.valid_refresh_token,
            "expires_in": self.app.token_lifetime_s,
            "hub_id": self.portal_id,
            "scopes": list(SCOPES),
            "token_use": "access_token",
        }

    def expiry(self, token: str) -> datetime | None:
        """When ``token`` expires (or expired); None if this app never issued it."""
        with self._lock:
            return self.issued.get(token)

    def expire_all(self) -> None:
        """Every access token issued so far expires now (one revoked early, a clock
        running fast): the next call with one is a 401, as after a real expiry."""
        with self._lock:
            now = self.clock()
            self.issued = {token: min(at, now) for token, at in self.issued.items()}


def expired_body(expiry: datetime, now: datetime) -> dict[str, Any]:
    """HubSpot's 401 for an access token past its expiry."""
    ago = max(0, int((now - expiry).total_seconds()))
    return {
        "status": "error",
        "message": f"The OAuth token used to make this call expired {ago} second(s) ago.",
        "correlationId": str(uuid.uuid4()),
        "category": "EXPIRED_AUTHENTICATION",
        "context": {"expire time": [expiry.isoformat(timespec="milliseconds")]},
    }


def v1_error(status: str, message: str) -> dict[str, Any]:
    return {
        "status": status,
        "message": message,
        "correlationId": str(uuid.uuid4()),
        "requestId": uuid.uuid4().hex,
    }


def _validation(message: str) -> dict[str, Any]:
    return {
        "status": "error",
        "message": message,
        "correlationId": str(uuid.uuid4()),
        "category": "VALIDATION_ERROR",
    }
