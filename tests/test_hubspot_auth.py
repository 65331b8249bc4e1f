"""HubSpot's three credential kinds, against the sandbox over real HTTP: a service key, an
OAuth app whose access tokens expire mid-sync, and one clear line when one is refused.

The OAuth sandbox and the sync share one :class:`VirtualClock`: a progress callback moves
it forward between pages, so a 30-minute token expires mid-sync without anyone waiting,
and the number of token requests is exact.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from config.redact import Redactor
from config.settings import Settings
from connectors.core import Api, run_sync
from connectors.hubspot import HubSpotConnector
from connectors.hubspot.auth import OAuthClient
from connectors.sync import SyncError, sync_source
from sandbox.generator import CRM
from sandbox.hubspot_oauth import OAuthApp
from sandbox.hubspot_server import HubSpotSandbox
from snapshot.store import SnapshotStore
from tests.cli_helpers import run
from tests.conftest import PORTAL_ID, VirtualClock, expected_snapshot, snapshot_rows

CLIENT_ID = "5f0c1d2e-7a8b-4c9d-8e0f-0123456789ab"
CLIENT_SECRET = "9a8b7c6d-1111-4222-8333-444455556666"
REFRESH_TOKEN = "na1-7e3f-0c2a-4b6d-9e8f-a1b2c3d4e5f6"
SERVICE_KEY = "svc-na1-4d3c2b1a-0f9e-4d7c-8b5a-493827160514"
LIFETIME_S = 1800
"""HubSpot's access-token lifetime; renewed 300 s (five minutes) before it ends."""


def oauth_env(sandbox: HubSpotSandbox, **override: str) -> dict[str, str]:
    return {
        "HUBSPOT_CLIENT_ID": CLIENT_ID,
        "HUBSPOT_CLIENT_SECRET": CLIENT_SECRET,
        "HUBSPOT_REFRESH_TOKEN": REFRESH_TOKEN,
        "HUBSPOT_BASE_URL": sandbox.base_url,
        **override,
    }


def oauth_settings(sandbox: HubSpotSandbox, **override: str) -> Settings:
    return Settings.from_env(oauth_env(sandbox, **override), dotenv=None)


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def oauth_sandbox(crm: CRM, clock: VirtualClock) -> Iterator[HubSpotSandbox]:
    """An OAuth app whose every refresh hands back a new refresh token (and revokes the old)."""
    app = OAuthApp(CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, LIFETIME_S, rotate_refresh_token=True)
    with HubSpotSandbox(crm, portal_id=PORTAL_ID, oauth=app, clock=clock.now) as sandbox:
        yield sandbox


def after_first_page_of(
    jumps: dict[str, Callable[[], None]],
) -> Callable[[str, int, int | None], None]:
    """A progress callback running ``jumps[stream]`` once, after that stream's first page."""
    pending = dict(jumps)

    def progress(stream: str, done: int, total: int | None) -> None:
        if done > 0 and stream in pending:
            pending.pop(stream)()

    return progress


def secrets_of(sandbox: HubSpotSandbox) -> list[str]:
    """Every credential the run held: the app's secret and each token the sandbox issued."""
    assert sandbox.oauth is not None
    return [CLIENT_SECRET, *sandbox.oauth.refresh_tokens, *sandbox.oauth.issued]


# ------------------------------------------------------------------------ service key


def test_a_service_key_syncs_the_whole_portal(crm: CRM, store: SnapshotStore) -> None:
    with HubSpotSandbox(crm, portal_id=PORTAL_ID, service_key=SERVICE_KEY) as sandbox:
        settings = Settings.from_env(
            {"HUBSPOT_SERVICE_KEY": SERVICE_KEY, "HUBSPOT_BASE_URL": sandbox.base_url},
            dotenv=None,
        )
        summary = sync_source("hubspot", store, settings)

    assert snapshot_rows(store) == expected_snapshot(crm)
    assert sandbox.bearer_kinds == {"service-key": summary.requests}
    assert SERVICE_KEY in settings.secrets()


def test_a_refused_service_key_is_one_line_naming_it_exit_2(
    crm: CRM, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with HubSpotSandbox(crm, service_key="svc-na1-the-key-hubspot-knows") as sandbox:
        monkeypatch.setenv("HUBSPOT_SERVICE_KEY", SERVICE_KEY)
        monkeypatch.setenv("HUBSPOT_BASE_URL", sandbox.base_url)
        monkeypatch.chdir(tmp_path)
        code, out, err = run(capsys, "sync", "--db", str(tmp_path / "s.db"))

    assert code == 2 and out == ""
    (line,) = err.strip().splitlines()
    assert "answered HTTP 401" in line
    assert "HubSpot refused the service key (HUBSPOT_SERVICE_KEY): copy an active key" in line
    assert SERVICE_KEY not in err


# ------------------------------------------------------------------------------ OAuth


def test_oauth_tokens_expiring_mid_sync_are_renewed_before_hubspot_refuses_them(
    crm: CRM, store: SnapshotStore, oauth_sandbox: HubSpotSandbox, clock: VirtualClock
) -> None:
    def advance(seconds: float) -> Callable[[], None]:
        return lambda: setattr(clock, "t", clock.t + seconds)

    # The first token is obtained at t=0 (valid until 1800, renewed from 1500). After the
    # first contacts page 1600 s pass: the token still works, but has under five minutes
    # left, so the next request renews it first (valid until 3400, renewed from 3100).
    # After the first emails page 2000 s pass: past its expiry, renewed again before use.
    progress = after_first_page_of({"contacts": advance(1600), "emails": advance(2000)})
    summary = sync_source("hubspot", store, oauth_settings(oauth_sandbox), clock=clock,
                          progress=progress)  # fmt: skip

    assert oauth_sandbox.oauth is not None
    assert oauth_sandbox.oauth.token_requests == 3  # the first, and one per jump
    assert oauth_sandbox.statuses[401] == 0  # never sent an expired token
    # Each refresh used the refresh token the one before handed back (the sandbox revokes
    # the old one: a client keeping HUBSPOT_REFRESH_TOKEN would get BAD_REFRESH_TOKEN).
    assert len(oauth_sandbox.oauth.refresh_tokens) == 4
    assert oauth_sandbox.bearer_kinds == {"oauth": summary.requests}
    assert snapshot_rows(store) == expected_snapshot(crm)


def test_a_401_for_a_token_still_in_date_renews_it_once_and_repeats_the_request(
    crm: CRM, store: SnapshotStore, oauth_sandbox: HubSpotSandbox, clock: VirtualClock
) -> None:
    assert oauth_sandbox.oauth is not None
    progress = after_first_page_of({"calls": oauth_sandbox.oauth.expire_all})

    summary = sync_source("hubspot", store, oauth_settings(oauth_sandbox), clock=clock,
                          progress=progress)  # fmt: skip

    assert oauth_sandbox.statuses[401] == 1  # EXPIRED_AUTHENTICATION, once
    assert oauth_sandbox.oauth.token_requests == 2  # the first, and one after the 401
    assert summary.retries == 0  # renewed and repeated within the same attempt
    assert snapshot_rows(store) == expected_snapshot(crm)


def test_a_second_401_after_renewing_is_the_error_naming_oauth(
    store: SnapshotStore, oauth_sandbox: HubSpotSandbox, clock: VirtualClock
) -> None:
    oauth_sandbox.inject("unauthorized", count=2, path_contains="/crm/v3/objects/emails")

    with pytest.raises(SyncError) as failed:
        sync_source("hubspot", store, oauth_settings(oauth_sandbox), clock=clock)

    message = str(failed.value)
    assert "\n" not in message
    assert message.startswith(
        "hubspot sync failed in emails: GET /crm/v3/objects/emails answered HTTP 401"
    )
    assert (
        "HubSpot refused the access token obtained by OAuth (HUBSPOT_CLIENT_ID, "
        "HUBSPOT_CLIENT_SECRET, HUBSPOT_REFRESH_TOKEN)" in message
    )
    assert oauth_sandbox.oauth is not None and oauth_sandbox.oauth.token_requests == 2
    assert not any(secret in message for secret in secrets_of(oauth_sandbox))


def test_a_busy_token_endpoint_is_retried_like_any_overloaded_call(
    crm: CRM, store: SnapshotStore, oauth_sandbox: HubSpotSandbox, clock: VirtualClock
) -> None:
    oauth_sandbox.inject("status", count=1, path_contains="/oauth/v1/token", status=503)

    summary = sync_source("hubspot", store, oauth_settings(oauth_sandbox), clock=clock)

    assert oauth_sandbox.oauth is not None and oauth_sandbox.oauth.token_requests == 1
    assert oauth_sandbox.requests["POST /oauth/v1/token"] == 2  # the 503, then the token
    assert summary.retries == 1
    assert snapshot_rows(store) == expected_snapshot(crm)


@pytest.mark.parametrize(
    ("override", "code"),
    [
        ({"HUBSPOT_REFRESH_TOKEN": "na1-0000-revoked-refresh-token"}, "BAD_REFRESH_TOKEN"),
        ({"HUBSPOT_CLIENT_SECRET": "wrong-secret-000000"}, "BAD_REFRESH_TOKEN"),
        ({"HUBSPOT_CLIENT_ID": "not-this-app"}, "BAD_CLIENT_ID"),
    ],
)
def test_a_refused_refresh_is_one_line_naming_the_refresh_token_exit_2(
    oauth_sandbox: HubSpotSandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    override: dict[str, str],
    code: str,
) -> None:
    for name, value in oauth_env(oauth_sandbox, **override).items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)

    exit_code, out, err = run(capsys, "sync", "--db", str(tmp_path / "s.db"))

    assert exit_code == 2 and out == ""
    (line,) = err.strip().splitlines()
    # The first request (the account details) asks for the first access token.
    assert line.startswith(
        "error: hubspot sync failed in account: HubSpot refused the refresh token (OAuth: "
        "HUBSPOT_REFRESH_TOKEN, for HUBSPOT_CLIENT_ID with HUBSPOT_CLIENT_SECRET): "
    )
    assert f"POST /oauth/v1/token answered HTTP 400 {code} (" in line
    assert not any(v in err for v in (REFRESH_TOKEN, CLIENT_SECRET, *override.values()))
    assert oauth_sandbox.oauth is not None and oauth_sandbox.oauth.token_requests == 1


def test_no_token_reaches_the_logs_the_error_or_the_snapshot(
    oauth_sandbox: HubSpotSandbox,
    clock: VirtualClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Three tokens in one run (the first, one before expiry, one after a 401), then a
    # failing second run: every line of a --verbose JSON log and the error are searched.
    assert oauth_sandbox.oauth is not None
    for name, value in oauth_env(oauth_sandbox).items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    db = tmp_path / "snapshot.db"
    store = SnapshotStore(db)
    redactor = Redactor(oauth_settings(oauth_sandbox).secrets())
    connector = HubSpotConnector(
        OAuthClient(CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN), oauth_sandbox.base_url, clock=clock
    )
    jump = lambda: setattr(clock, "t", clock.t + 2000)  # noqa: E731
    progress = after_first_page_of({"contacts": jump, "calls": oauth_sandbox.oauth.expire_all})
    run_sync(connector, store, Api(connector.dialect, clock=clock, redactor=redactor),
             progress=progress)  # fmt: skip
    store.close()
    assert oauth_sandbox.oauth.token_requests == 3
    # Registered with the run's redactor as they arrived (the settings knew none of them).
    assert set(oauth_sandbox.oauth.issued) | set(oauth_sandbox.oauth.refresh_tokens[1:]) <= set(
        redactor.secrets
    )

    # This app rotates refresh tokens: the next run starts from the one last handed back.
    monkeypatch.setenv("HUBSPOT_REFRESH_TOKEN", oauth_sandbox.oauth.valid_refresh_token)
    oauth_sandbox.inject("unauthorized", count=2, path_contains="/crm/v3/owners")
    code, out, err = run(capsys, "--verbose", "--log-json", "sync", "--db", str(db), "--full")

    assert code == 2
    records = [json.loads(line) for line in err.strip().splitlines() if line.startswith("{")]
    token_lines = [r["message"] for r in records if r.get("event") == "oauth_token"]
    assert token_lines == [  # readable: no word masked
        "hubspot: access token obtained by OAuth (valid 1800 s)",
        "hubspot: access token refreshed (refused) by OAuth (valid 1800 s)",
    ]
    assert "HTTP 401" in err
    leaked = [s for s in secrets_of(oauth_sandbox) if s in err or s in out]
    assert leaked == []
    for path in tmp_path.glob("snapshot.db*"):
        data = path.read_bytes()
        assert not [s for s in secrets_of(oauth_sandbox) if s.encode() in data], path


# ----------------------------------------------------------------- which kind is used


def test_two_kinds_set_is_refused_with_one_line_naming_both_exit_2(
    hubspot_sandbox: HubSpotSandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", hubspot_sandbox.token)
    monkeypatch.setenv("HUBSPOT_SERVICE_KEY", SERVICE_KEY)
    monkeypatch.setenv("HUBSPOT_BASE_URL", hubspot_sandbox.base_url)
    monkeypatch.chdir(tmp_path)

    code, out, err = run(capsys, "sync", "--db", str(tmp_path / "s.db"))

    # Read through the redactor, as printed: the sentence survives it whole.
    assert (code, out, err) == (
        2,
        "",
        "error: hubspot has more than one kind of credential set, a service key "
        "(HUBSPOT_SERVICE_KEY) and a private-app token (HUBSPOT_ACCESS_TOKEN): keep one kind "
        "and unset the other's variables\n",
    )
    assert hubspot_sandbox.total_requests == 0


@pytest.mark.parametrize(
    "environ",
    [{}, {"HUBSPOT_CLIENT_ID": CLIENT_ID, "HUBSPOT_REFRESH_TOKEN": REFRESH_TOKEN}],
    ids=["nothing", "OAuth without its secret"],
)
def test_missing_credentials_name_the_three_kinds(
    store: SnapshotStore, environ: dict[str, str]
) -> None:
    with pytest.raises(SyncError) as failed:
        sync_source("hubspot", store, Settings.from_env(environ, dotenv=None))

    message = str(failed.value)
    assert message.startswith("hubspot is not configured: set one kind of credential:")
    for name in (
        "HUBSPOT_SERVICE_KEY",
        "HUBSPOT_CLIENT_ID",
        "HUBSPOT_CLIENT_SECRET",
        "HUBSPOT_REFRESH_TOKEN",
        "HUBSPOT_ACCESS_TOKEN",
    ):
        assert name in message


def test_the_oauth_variables_that_are_secrets_are_masked() -> None:
    settings = Settings.from_env(
        {
            "HUBSPOT_CLIENT_ID": CLIENT_ID,
            "HUBSPOT_CLIENT_SECRET": CLIENT_SECRET,
            "HUBSPOT_REFRESH_TOKEN": REFRESH_TOKEN,
        },
        dotenv=None,
    )
    assert sorted(settings.secrets()) == sorted([CLIENT_SECRET, REFRESH_TOKEN])
    assert CLIENT_SECRET not in repr(settings) and REFRESH_TOKEN not in repr(settings)
    assert settings.configured_sources() == ["hubspot"]


# ---------------------------------------------------------------- the sandbox's side


def test_the_sandbox_token_endpoint_takes_a_form_and_answers_as_documented(
    oauth_sandbox: HubSpotSandbox,
) -> None:
    url = oauth_sandbox.base_url + "/oauth/v1/token"
    form = {
        "grant_type": "refresh_token",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "refresh_token": REFRESH_TOKEN,
    }
    as_json = requests.post(url, json=form, timeout=10)
    assert as_json.status_code == 400 and as_json.json()["category"] == "VALIDATION_ERROR"

    answer = requests.post(url, data=form, timeout=10)
    assert answer.status_code == 200
    body = answer.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == LIFETIME_S
    assert body["refresh_token"] != REFRESH_TOKEN  # this app rotates them
    contacts = oauth_sandbox.base_url + "/crm/v3/objects/contacts"
    bearer = {"Authorization": f"Bearer {body['access_token']}"}
    assert requests.get(contacts, headers=bearer, timeout=10).status_code == 200

    again = requests.post(url, data=form, timeout=10)  # the old refresh token, now revoked
    assert again.status_code == 400
    assert again.json()["status"] == "BAD_REFRESH_TOKEN"

    assert oauth_sandbox.oauth is not None
    oauth_sandbox.oauth.expire_all()
    expired = requests.get(contacts, headers=bearer, timeout=10)
    assert expired.status_code == 401
    assert expired.json()["category"] == "EXPIRED_AUTHENTICATION"
    assert expired.json()["message"] == (
        "The OAuth token used to make this call expired 0 second(s) ago."
    )


def test_the_sandbox_accepts_its_token_and_service_key_side_by_side(crm: CRM) -> None:
    with HubSpotSandbox(crm, service_key=SERVICE_KEY) as sandbox:
        url = sandbox.base_url + "/crm/v3/owners/"
        for token in (sandbox.token, SERVICE_KEY, "svc-na1-unknown-key-000"):
            requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert sandbox.bearer_kinds == {"private-app": 1, "service-key": 1}
        assert sandbox.statuses[401] == 1
