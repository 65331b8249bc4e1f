"""Salesforce logins against the sandbox org over real HTTPS: OAuth JWT bearer and client
credentials, a session that expires mid-sync and is renewed once, refused logins named
by their flow, and a bare session id that expires — with no secret in any line or file.

simple-salesforce posts its logins to ``https://{domain}.salesforce.com``; the tests route
that one host to the sandbox at the HTTP layer (:class:`ToSandbox`, mounted on the
transport's own session), keeping path, headers and body, over TLS checked against the
sandbox's CA. Nothing in the product knows about it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from requests.adapters import HTTPAdapter

import connectors.salesforce.transport as transport_module
from config.settings import Settings
from connectors.salesforce import SESSION_FIX, SalesforceOptions
from connectors.sync import SyncError, SyncSummary, sync_source
from sandbox.generator import CRM
from sandbox.salesforce_server import ConnectedApp, SalesforceSandbox
from snapshot.store import SnapshotStore
from tests.conftest import expected_salesforce_snapshot, snapshot_rows

CONSUMER_KEY = "3MVG9sandboxConsumerKey.sla_audit_integration"
CONSUMER_SECRET = "F00DSECRETconsumer0123456789ABCDEF"
USERNAME = "integration@acme.example"
TOKEN = "POST /services/oauth2/token"
LOGIN_HOSTS = ("https://test.salesforce.com", "https://acme.my.salesforce.com")


class ToSandbox(HTTPAdapter):
    """Sends a request addressed to a login host to the sandbox instead: real HTTPS, the
    same path, query, headers and body (what a DNS entry pointing there would do)."""

    def __init__(self, origin: str) -> None:
        super().__init__(max_retries=0)
        self.origin = origin

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        parts = urlsplit(request.url or "")
        request.url = self.origin + parts.path + (f"?{parts.query}" if parts.query else "")
        return super().send(request, **kwargs)


@pytest.fixture
def route_logins(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[SalesforceSandbox]]:
    """Every transport built while the test runs sends its logins to ``target[0]``."""
    target: list[SalesforceSandbox] = []
    real = transport_module.tls_session

    def routed(*args: Any, **kwargs: Any) -> requests.Session:
        session = real(*args, **kwargs)
        for host in LOGIN_HOSTS:
            session.mount(host, ToSandbox(target[0].instance_url))
        return session

    monkeypatch.setattr(transport_module, "tls_session", routed)
    yield target


def rsa_key_and_certificate() -> tuple[bytes, bytes]:
    """A private key (PEM) and the self-signed certificate one would upload to the app."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sla-audit")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return pem, certificate.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="module")
def key_pair() -> tuple[bytes, bytes]:
    return rsa_key_and_certificate()


def jwt_app(certificate: bytes) -> ConnectedApp:
    return ConnectedApp(CONSUMER_KEY, certificate=certificate, jwt_users=frozenset({USERNAME}))


def jwt_env(tmp_path: Path, private_key: bytes) -> dict[str, str]:
    key_file = tmp_path / "sla-audit.key"
    key_file.write_bytes(private_key)
    return {
        "SALESFORCE_USERNAME": USERNAME,
        "SALESFORCE_CONSUMER_KEY": CONSUMER_KEY,
        "SALESFORCE_PRIVATE_KEY_FILE": str(key_file),
        "SALESFORCE_DOMAIN": "test",
    }


CLIENT_ENV = {
    "SALESFORCE_CONSUMER_KEY": CONSUMER_KEY,
    "SALESFORCE_CONSUMER_SECRET": CONSUMER_SECRET,
    "SALESFORCE_DOMAIN": "acme.my",
}


def sync(sandbox: SalesforceSandbox, store: SnapshotStore, env: dict[str, str]) -> SyncSummary:
    settings = Settings.from_env(env, dotenv=None)
    options = SalesforceOptions(ca_bundle=sandbox.ca_path)
    return sync_source("salesforce", store, settings, options=options)


def assert_no_secret(texts: list[str], store: SnapshotStore, *secrets: str) -> None:
    """No secret in ``texts`` (error lines, log output) nor in the snapshot file's bytes."""
    store.db.conn.commit()
    stored = Path(store.path).read_bytes()
    for secret in secrets:
        assert secret
        for text in texts:
            assert secret not in text
        assert secret.encode() not in stored


# ------------------------------------------------------------------------- logins


def test_a_jwt_bearer_login_then_a_full_sync(
    crm: CRM,
    store: SnapshotStore,
    tmp_path: Path,
    key_pair: tuple[bytes, bytes],
    route_logins: list[SalesforceSandbox],
    caplog: pytest.LogCaptureFixture,
) -> None:
    private_key, certificate = key_pair
    caplog.set_level(logging.DEBUG)
    with SalesforceSandbox(crm, oauth_app=jwt_app(certificate)) as sandbox:
        route_logins.append(sandbox)
        summary = sync(sandbox, store, jwt_env(tmp_path, private_key))

        assert snapshot_rows(store) == expected_salesforce_snapshot(
            sandbox.org(), sandbox.instance_url
        )
        assert summary.records == 9 + 120 + 420 + 6
        assert (sandbox.requests[TOKEN], sandbox.logins, sandbox.statuses[401]) == (1, 1, 0)
        key_text = private_key.decode().splitlines()[1]
        assert_no_secret([caplog.text], store, sandbox.token, key_text)


def test_a_client_credentials_login_then_a_full_sync(
    crm: CRM,
    store: SnapshotStore,
    route_logins: list[SalesforceSandbox],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    app = ConnectedApp(CONSUMER_KEY, consumer_secret=CONSUMER_SECRET)
    with SalesforceSandbox(crm, oauth_app=app) as sandbox:
        route_logins.append(sandbox)
        summary = sync(sandbox, store, CLIENT_ENV)

        assert snapshot_rows(store) == expected_salesforce_snapshot(
            sandbox.org(), sandbox.instance_url
        )
        assert summary.records == 9 + 120 + 420 + 6
        assert sandbox.requests[TOKEN] == 1
        assert_no_secret([caplog.text], store, sandbox.token, CONSUMER_SECRET)


def test_a_session_that_expires_mid_sync_is_renewed_once_and_the_rows_are_complete(
    crm: CRM,
    store: SnapshotStore,
    tmp_path: Path,
    key_pair: tuple[bytes, bytes],
    route_logins: list[SalesforceSandbox],
    caplog: pytest.LogCaptureFixture,
) -> None:
    private_key, certificate = key_pair
    caplog.set_level(logging.DEBUG)
    app = jwt_app(certificate)
    # A full sync makes 8 API calls; the first session serves 5 of them.
    with SalesforceSandbox(crm, oauth_app=app, session_requests=5) as sandbox:
        route_logins.append(sandbox)
        summary = sync(sandbox, store, jwt_env(tmp_path, private_key))
        first_session_served = 5

        assert snapshot_rows(store) == expected_salesforce_snapshot(
            sandbox.org(), sandbox.instance_url
        )
        assert summary.records == 9 + 120 + 420 + 6
        assert sandbox.statuses[401] == 1
        assert sandbox.requests[TOKEN] == sandbox.logins == 2
        # two logins, nine calls answered (the ninth: the Lead describe for labels, issue 15)
        assert sandbox.statuses[200] == 2 + 9
        assert sandbox.api_usage == first_session_served + 4  # + the Lead describe (labels)
        assert "the session expired; logged in again (JWT bearer-token)" in caplog.text
        assert_no_secret([caplog.text], store, sandbox.token)


def test_a_session_refused_right_after_a_new_login_is_the_error(
    crm: CRM,
    store: SnapshotStore,
    route_logins: list[SalesforceSandbox],
) -> None:
    app = ConnectedApp(CONSUMER_KEY, consumer_secret=CONSUMER_SECRET)
    with SalesforceSandbox(crm, oauth_app=app, session_requests=0) as sandbox:
        route_logins.append(sandbox)
        with pytest.raises(SyncError) as stopped:
            sync(sandbox, store, CLIENT_ENV)

        message = str(stopped.value)
        assert message.startswith("salesforce sync failed in setup: GET /limits answered HTTP 401")
        assert "the client credentials login had just handed out" in message
        assert "\n" not in message
        # One login, one call, one new login, the call repeated once — no more.
        assert (sandbox.requests[TOKEN], sandbox.statuses[401]) == (2, 2)
        assert_no_secret([message], store, sandbox.token, CONSUMER_SECRET)


# ------------------------------------------------------------------ refused logins


def test_a_jwt_signed_with_the_wrong_key_is_one_line_naming_the_flow(
    crm: CRM,
    store: SnapshotStore,
    tmp_path: Path,
    key_pair: tuple[bytes, bytes],
    route_logins: list[SalesforceSandbox],
) -> None:
    _, certificate = key_pair
    other_key, _ = rsa_key_and_certificate()
    with SalesforceSandbox(crm, oauth_app=jwt_app(certificate)) as sandbox:
        route_logins.append(sandbox)
        with pytest.raises(SyncError) as stopped:
            sync(sandbox, store, jwt_env(tmp_path, other_key))

        message = str(stopped.value)
        assert message.startswith(
            "salesforce sync failed in setup: Salesforce refused the JWT bearer-token login "
            "(invalid_grant: invalid assertion): check SALESFORCE_CONSUMER_KEY"
        )
        assert "SALESFORCE_PRIVATE_KEY_FILE" in message and "\n" not in message
        assert (sandbox.requests[TOKEN], sandbox.logins) == (1, 0)  # never retried
        assert sandbox.total_requests == 1
        assert_no_secret([message], store, other_key.decode().splitlines()[1])


def test_a_wrong_consumer_secret_is_one_line_naming_the_flow(
    crm: CRM, store: SnapshotStore, route_logins: list[SalesforceSandbox]
) -> None:
    app = ConnectedApp(CONSUMER_KEY, consumer_secret="the-real-secret-0123456789")
    with SalesforceSandbox(crm, oauth_app=app) as sandbox:
        route_logins.append(sandbox)
        with pytest.raises(SyncError) as stopped:
            sync(sandbox, store, CLIENT_ENV)

        message = str(stopped.value)
        assert message.startswith(
            "salesforce sync failed in setup: Salesforce refused the client credentials login "
            "(invalid_client: invalid client credentials): check SALESFORCE_CONSUMER_KEY and "
            "SALESFORCE_CONSUMER_SECRET"
        )
        assert "Run As" in message and "\n" not in message
        assert sandbox.total_requests == 1
        assert_no_secret([message], store, CONSUMER_SECRET, "the-real-secret-0123456789")


def test_a_missing_key_file_names_the_variable_not_a_traceback(
    crm: CRM, store: SnapshotStore, tmp_path: Path, route_logins: list[SalesforceSandbox]
) -> None:
    env = jwt_env(tmp_path, b"unused")
    env["SALESFORCE_PRIVATE_KEY_FILE"] = str(tmp_path / "absent.key")
    with SalesforceSandbox(crm) as sandbox:
        route_logins.append(sandbox)
        with pytest.raises(SyncError) as stopped:
            sync(sandbox, store, env)

    message = str(stopped.value)
    assert "SALESFORCE_PRIVATE_KEY_FILE" in message and "absent.key" in message
    assert "cannot be read (No such file or directory)" in message
    assert sandbox.total_requests == 0


def test_client_credentials_at_the_generic_login_host_asks_for_the_my_domain(
    crm: CRM, store: SnapshotStore
) -> None:
    env = {**CLIENT_ENV, "SALESFORCE_DOMAIN": "login"}
    with SalesforceSandbox(crm) as sandbox, pytest.raises(SyncError) as stopped:
        sync(sandbox, store, env)

    message = str(stopped.value)
    assert message.startswith("salesforce is not configured: the client credentials flow")
    assert "SALESFORCE_DOMAIN" in message and CONSUMER_SECRET not in message


# ------------------------------------------------------------- a bare session id


def test_a_bare_session_id_that_expires_mid_sync_says_what_to_set(
    crm: CRM, store: SnapshotStore
) -> None:
    session_id = "00D5g000004ZxYb!AQ8AQBareSessionIdThatExpires.k2Vq9TzL7mWcR4pX"
    with SalesforceSandbox(crm, token=session_id, session_requests=3) as sandbox:
        env = {
            "SALESFORCE_INSTANCE_URL": sandbox.instance_url,
            "SALESFORCE_ACCESS_TOKEN": session_id,
        }
        with pytest.raises(SyncError) as stopped:
            sync(sandbox, store, env)

        message = str(stopped.value)
        assert message.endswith(SESSION_FIX)
        assert "expired" in message and "SALESFORCE_PRIVATE_KEY_FILE" in message
        assert "SALESFORCE_CONSUMER_SECRET" in message and "\n" not in message
        assert (sandbox.requests[TOKEN], sandbox.statuses[401]) == (0, 1)
        assert_no_secret([message], store, session_id)


def test_when_several_logins_are_complete_jwt_bearer_is_used(
    crm: CRM,
    store: SnapshotStore,
    tmp_path: Path,
    key_pair: tuple[bytes, bytes],
    route_logins: list[SalesforceSandbox],
) -> None:
    private_key, certificate = key_pair
    # The app allows only JWT: any other login would be refused.
    with SalesforceSandbox(
        crm, token="an-old-session-id-0123456789", oauth_app=jwt_app(certificate)
    ) as sandbox:
        route_logins.append(sandbox)
        env = {
            **jwt_env(tmp_path, private_key),
            "SALESFORCE_CONSUMER_SECRET": CONSUMER_SECRET,
            "SALESFORCE_PASSWORD": "a-password-0123",
            "SALESFORCE_SECURITY_TOKEN": "a-security-token-0123",
            "SALESFORCE_INSTANCE_URL": sandbox.instance_url,
            "SALESFORCE_ACCESS_TOKEN": "an-old-session-id-0123456789",
        }
        sync(sandbox, store, env)

        assert sandbox.logins == 1
        assert sandbox.requests["POST /services/Soap/u/59.0"] == 0
