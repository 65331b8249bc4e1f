"""Salesforce's OAuth 2.0 token endpoint (``POST /services/oauth2/token``) for the sandbox org.

Two grants, as Salesforce documents them ("OAuth 2.0 JWT Bearer Flow for Server-to-Server
Integration", "OAuth 2.0 Client Credentials Flow for Server-to-Server Integration"):

* ``grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`` with ``assertion``: a JWT
  signed RS256 whose ``iss`` is the app's consumer key, ``sub`` the username of a user the
  app is pre-authorized for, ``aud`` the login URL (``https://login.salesforce.com`` or
  ``https://test.salesforce.com``) and ``exp`` a future instant in seconds (a number or a
  numeric string, as in Salesforce's own example). The signature is checked against the
  certificate (or public key) uploaded to the app.
* ``grant_type=client_credentials`` with the consumer key and secret in an
  ``Authorization: Basic`` header or as ``client_id`` / ``client_secret`` in the body; the
  session belongs to the app's Run As user.

A granted request answers 200 ``{"access_token", "instance_url", "id", "token_type":
"Bearer", "issued_at", "scope"}`` (and ``signature`` for client credentials); a refused one
400 ``{"error", "error_description"}`` with Salesforce's wording (``invalid_grant`` /
``invalid assertion``, ``audience is invalid``, ``expired authorization code``, ``user
hasn't approved this consumer``; ``invalid_client_id`` / ``client identifier invalid``;
``invalid_client`` / ``invalid client credentials``; ``unsupported_grant_type``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import parse_qs

import jwt
from cryptography import x509
from cryptography.hazmat.primitives.serialization import load_pem_public_key

JWT_GRANT: Final = "urn:ietf:params:oauth:grant-type:jwt-bearer"
LOGIN_URLS: Final = ("https://login.salesforce.com", "https://test.salesforce.com")


@dataclass(frozen=True)
class ConnectedApp:
    """The org's connected app (or External Client App) as the token endpoint sees it."""

    consumer_key: str
    consumer_secret: str | None = None
    """Set: the client credentials flow is enabled, with this secret."""
    certificate: bytes | None = None
    """PEM certificate or public key uploaded for the JWT bearer flow (None: no JWT)."""
    jwt_users: frozenset[str] = frozenset()
    """Usernames the app is pre-authorized for (admin-approved users)."""
    audiences: tuple[str, ...] = LOGIN_URLS
    scope: str = "api"


class Refusal(Exception):
    """A token request refused: 400 with Salesforce's OAuth error body."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = 400

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


@dataclass(frozen=True)
class Grant:
    """A granted token request: the new session id and the answer's body."""

    session_id: str
    body: dict[str, Any]


class TokenEndpoint:
    """Checks one token request against :class:`ConnectedApp` and issues a session id."""

    def __init__(self, app: ConnectedApp, org_id: str, user_id: str) -> None:
        self.app = app
        self.org_id = org_id
        self.user_id = user_id

    def grant(self, headers: dict[str, str], body: bytes, instance_url: str) -> Grant:
        """The grant for one ``POST /services/oauth2/token``, or :class:`Refusal`."""
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        kind = form.get("grant_type")
        if kind == JWT_GRANT:
            self._check_assertion(form.get("assertion", ""))
        elif kind == "client_credentials":
            self._check_client(headers, form)
        else:
            raise Refusal("unsupported_grant_type", "grant type not supported")
        return self._issue(instance_url, with_signature=kind == "client_credentials")

    # ------------------------------------------------------------------ JWT bearer
    def _check_assertion(self, assertion: str) -> None:
        """Identify the app by ``iss``, then check signature, audience, expiry, subject."""
        try:
            unverified = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise Refusal("invalid_grant", "invalid assertion") from None
        app = self.app
        if unverified.get("iss") != app.consumer_key or app.certificate is None:
            raise Refusal("invalid_client_id", "client identifier invalid")
        try:
            claims = jwt.decode(
                assertion,
                _public_key(app.certificate),
                algorithms=["RS256"],
                options={"verify_exp": False, "verify_aud": False, "verify_iat": False},
            )
        except jwt.PyJWTError:
            raise Refusal("invalid_grant", "invalid assertion") from None
        if claims.get("aud") not in app.audiences:
            raise Refusal("invalid_grant", "audience is invalid")
        if _seconds(claims.get("exp")) <= time.time():
            raise Refusal("invalid_grant", "expired authorization code")
        if claims.get("sub") not in app.jwt_users:
            raise Refusal("invalid_grant", "user hasn't approved this consumer")

    # ------------------------------------------------------------ client credentials
    def _check_client(self, headers: dict[str, str], form: dict[str, str]) -> None:
        key, secret = _basic_credentials(headers.get("authorization", ""))
        if key is None:
            key, secret = form.get("client_id"), form.get("client_secret")
        app = self.app
        if key != app.consumer_key:
            raise Refusal("invalid_client_id", "client identifier invalid")
        if app.consumer_secret is None:
            raise Refusal("invalid_grant", "no client credentials user enabled")
        if secret is None or not hmac.compare_digest(secret, app.consumer_secret):
            raise Refusal("invalid_client", "invalid client credentials")

    # ------------------------------------------------------------------ the grant
    def _issue(self, instance_url: str, *, with_signature: bool) -> Grant:
        session_id = f"{self.org_id}!AQ{secrets.token_urlsafe(72)}"
        issued_at = str(int(time.time() * 1000))
        identity = f"https://login.salesforce.com/id/{self.org_id}/{self.user_id}"
        body: dict[str, Any] = {
            "access_token": session_id,
            "scope": self.app.scope,
            "instance_url": instance_url,
            "id": identity,
            "token_type": "Bearer",
            "issued_at": issued_at,
        }
        if with_signature and self.app.consumer_secret is not None:
            # As documented: HMAC-SHA256 of id + issued_at, keyed by the consumer secret.
            digest = hmac.new(
                self.app.consumer_secret.encode(), (identity + issued_at).encode(), hashlib.sha256
            ).digest()
            body["signature"] = base64.b64encode(digest).decode()
        return Grant(session_id, body)


def _public_key(pem: bytes) -> Any:
    if b"BEGIN CERTIFICATE" in pem:
        return x509.load_pem_x509_certificate(pem).public_key()
    return load_pem_public_key(pem)


def _seconds(value: object) -> float:
    """``exp`` as seconds since the epoch (a number or a numeric string); else 0."""
    try:
        return float(str(value))
    except ValueError:
        return 0.0


def _basic_credentials(header: str) -> tuple[str | None, str | None]:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None, None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None, None
    key, _, secret = decoded.partition(":")
    return key, secret
