"""The ways this tool logs in to Salesforce, and which one a set of settings chooses.

Each way is a :class:`Login`: the arguments of simple-salesforce's own login
(``simple_salesforce.login.SalesforceLogin`` — the function ``Salesforce(...)`` calls),
the name of the flow for error lines, and the variables a user checks when it is refused.
A session id given as is (``SALESFORCE_ACCESS_TOKEN``) is a login too, one that cannot be
repeated: it expires after the org's session timeout (two hours by default) and the
sync then stops with the variables to set for a lasting login.

When several are complete, the first of these is used (lasting logins before a bare
session id, and the password login — SOAP ``login()``, disabled by default in orgs created
from Winter '26 and retiring in Summer '27 — only before it):

1. **JWT bearer** — ``SALESFORCE_USERNAME``, ``SALESFORCE_CONSUMER_KEY``,
   ``SALESFORCE_PRIVATE_KEY_FILE`` (and ``SALESFORCE_DOMAIN``, ``login`` by default,
   ``test`` for a sandbox org);
2. **client credentials** — ``SALESFORCE_CONSUMER_KEY``, ``SALESFORCE_CONSUMER_SECRET``
   and ``SALESFORCE_DOMAIN`` set to the org's My Domain (``acme.my``);
3. **username/password** — ``SALESFORCE_USERNAME``, ``SALESFORCE_PASSWORD``,
   ``SALESFORCE_SECURITY_TOKEN`` (and ``SALESFORCE_DOMAIN``);
4. **session id** — ``SALESFORCE_INSTANCE_URL`` and ``SALESFORCE_ACCESS_TOKEN``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from config.settings import Secret, Settings
from connectors.core import SyncError

JWT = "JWT bearer-token"
"""Written so, never "bearer <word>": the redactor masks the word after "bearer " as a token."""
CLIENT_CREDENTIALS = "client credentials"
PASSWORD = "username/password"
SESSION = "session id"

LASTING_LOGINS = (
    "SALESFORCE_USERNAME, SALESFORCE_CONSUMER_KEY and SALESFORCE_PRIVATE_KEY_FILE (JWT "
    "bearer-token), or SALESFORCE_CONSUMER_KEY, SALESFORCE_CONSUMER_SECRET and "
    "SALESFORCE_DOMAIN (client credentials)"
)
"""The variables of the logins that last a night, for the expired-session error."""


@dataclass(frozen=True)
class Login:
    """One way to log in: simple-salesforce's login arguments, named for error lines."""

    flow: str
    arguments: dict[str, Any] = field(repr=False)
    """``SalesforceLogin``'s keyword arguments; for a session id, ``session_id`` and
    ``instance_url``. Holds secrets: never printed (``repr`` leaves it out)."""
    check: str
    """What a user checks when Salesforce refuses this login."""

    @property
    def repeatable(self) -> bool:
        """Whether a new session can be had when this one expires (not a bare session id)."""
        return self.flow != SESSION

    @property
    def domain(self) -> str:
        return str(self.arguments.get("domain") or "login")


def _value(settings: Settings, name: str) -> str | None:
    value = settings.value(name)
    if isinstance(value, Secret):
        return value.reveal() or None
    return value or None


def login_from_settings(settings: Settings) -> Login:
    """The login the settings choose (the module's order), or :class:`SyncError` if none."""
    get = lambda name: _value(settings, f"SALESFORCE_{name}")  # noqa: E731
    username, key, domain = get("USERNAME"), get("CONSUMER_KEY"), get("DOMAIN")
    key_file, secret = get("PRIVATE_KEY_FILE"), get("CONSUMER_SECRET")
    if username and key and key_file:
        return Login(
            JWT,
            {
                "username": username,
                "consumer_key": key,
                "privatekey_file": key_file,
                "domain": domain or "login",
            },
            "check SALESFORCE_CONSUMER_KEY (the app's consumer key), SALESFORCE_USERNAME (a "
            "user the app is pre-authorized for), SALESFORCE_PRIVATE_KEY_FILE (the key of the "
            "certificate uploaded to the app) and SALESFORCE_DOMAIN ('login', or 'test' for a "
            "sandbox org)",
        )
    if key and secret:
        return _client_credentials(key, secret, domain)
    password, token = get("PASSWORD"), get("SECURITY_TOKEN")
    if username and password and token:
        return Login(
            PASSWORD,
            {
                "username": username,
                "password": password,
                "security_token": token,
                "domain": domain or "login",
            },
            "check SALESFORCE_USERNAME, SALESFORCE_PASSWORD and SALESFORCE_SECURITY_TOKEN, and "
            "SALESFORCE_DOMAIN ('test' for a sandbox org, or your My Domain)",
        )
    instance_url, session_id = get("INSTANCE_URL"), get("ACCESS_TOKEN")
    if instance_url and session_id:
        return Login(
            SESSION,
            {"session_id": session_id, "instance_url": instance_url.rstrip("/")},
            "set SALESFORCE_ACCESS_TOKEN to a valid session id",
        )
    raise SyncError("salesforce is not configured: no complete set of SALESFORCE_ variables")


def _client_credentials(key: str, secret: str, domain: str | None) -> Login:
    """Client credentials are asked of the org's own My Domain: ``login`` and ``test``
    refuse the flow (simple-salesforce does not even try them)."""
    if not domain or domain in ("login", "test"):
        raise SyncError(
            "salesforce is not configured: the client credentials flow logs in at the org's "
            f"My Domain; set SALESFORCE_DOMAIN to it (e.g. 'acme.my', or "
            f"'acme--uat.sandbox.my' for a sandbox org), not {domain or 'unset'!r}"
        )
    return Login(
        CLIENT_CREDENTIALS,
        {"consumer_key": key, "consumer_secret": secret, "domain": domain},
        "check SALESFORCE_CONSUMER_KEY and SALESFORCE_CONSUMER_SECRET (the app's consumer "
        "key and secret), that the app enables the client credentials flow with a Run As "
        "user, and SALESFORCE_DOMAIN (your My Domain, e.g. 'acme.my')",
    )
