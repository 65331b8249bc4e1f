"""Settings: environment over .env, secrets that never print, sources that say what is set."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.settings import Secret, Settings, SettingsError, parse_dotenv

TOKEN = "pat-na1-11111111-2222-3333-4444-555555555555"


def test_defaults_when_nothing_is_set(tmp_path: Path) -> None:
    settings = Settings.from_env({}, dotenv=tmp_path / "missing.env")
    assert settings.hubspot_base_url == "https://api.hubapi.com"
    assert settings.db_path == Path("snapshot.db")
    assert settings.max_daily_share == 0.5
    assert settings.min_free_share == 0.1
    assert settings.configured_sources() == []
    assert settings.secrets() == []


def test_environment_wins_over_dotenv(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        "# local development\n"
        "export HUBSPOT_ACCESS_TOKEN='from-dotenv-token'\n"
        'HUBSPOT_BASE_URL="http://127.0.0.1:9999/"\n'
        "SLA_AUDIT_DB=local.db  # comment\n"
        "not a setting line\n",
        encoding="utf-8",
    )
    settings = Settings.from_env({"HUBSPOT_ACCESS_TOKEN": TOKEN}, dotenv=dotenv)
    assert settings.hubspot_access_token == Secret(TOKEN)
    assert settings.hubspot_base_url == "http://127.0.0.1:9999"
    assert settings.db_path == Path("local.db")
    assert settings.configured_sources() == ["hubspot"]


def test_secrets_never_show_in_repr_or_str() -> None:
    settings = Settings.from_env(
        {
            "HUBSPOT_ACCESS_TOKEN": TOKEN,
            "SALESFORCE_USERNAME": "ana@acme.example",
            "SALESFORCE_PASSWORD": "hunter2-long-password",
            "SALESFORCE_SECURITY_TOKEN": "sectoken-123456",
        },
        dotenv=None,
    )
    for text in (repr(settings), str(settings), f"{settings.hubspot_access_token}"):
        assert TOKEN not in text
        assert "hunter2-long-password" not in text
    assert sorted(settings.secrets()) == sorted([TOKEN, "hunter2-long-password", "sectoken-123456"])
    assert settings.configured_sources() == ["hubspot", "salesforce"]


def test_salesforce_token_login_counts_as_configured() -> None:
    settings = Settings.from_env(
        {
            "SALESFORCE_INSTANCE_URL": "https://acme.my.salesforce.com",
            "SALESFORCE_ACCESS_TOKEN": "00D!x",
        },
        dotenv=None,
    )
    assert settings.configured_sources() == ["salesforce"]


@pytest.mark.parametrize("share", ["0", "1.5", "half", "-0.1"])
def test_a_daily_share_outside_zero_to_one_is_refused_with_the_fix(share: str) -> None:
    with pytest.raises(SettingsError, match="SLA_AUDIT_MAX_DAILY_SHARE"):
        Settings.from_env({"SLA_AUDIT_MAX_DAILY_SHARE": share}, dotenv=None)


def test_portal_id_must_be_a_number() -> None:
    with pytest.raises(SettingsError, match="HUBSPOT_PORTAL_ID"):
        Settings.from_env({"HUBSPOT_PORTAL_ID": "acme"}, dotenv=None)
    assert Settings.from_env({"HUBSPOT_PORTAL_ID": "123"}, dotenv=None).hubspot_portal_id == "123"


def test_dotenv_parser_keeps_quoted_hashes() -> None:
    assert parse_dotenv("A='x # y'\nB=z # c\n=nokey\n") == {"A": "x # y", "B": "z"}


@pytest.mark.parametrize("share", ["1", "-0.1", "ten percent", "nan"])
def test_a_free_share_that_is_no_share_is_refused(share: str) -> None:
    with pytest.raises(SettingsError, match="SLA_AUDIT_MIN_FREE_SHARE"):
        Settings.from_env({"SLA_AUDIT_MIN_FREE_SHARE": share}, dotenv=None)


def test_a_free_share_of_zero_lets_a_sync_use_the_allowance_to_its_end() -> None:
    assert Settings.from_env({"SLA_AUDIT_MIN_FREE_SHARE": "0"}, dotenv=None).min_free_share == 0
