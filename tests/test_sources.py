"""The source registry: one entry in config/sources.py is all a new CRM needs outside its folder.

A fake third CRM ("Pipedrive") is registered for the length of a test; the settings, the
SLA file and the sync command must all know it without any other change.
"""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

from config.settings import Secret, Settings
from config.sla import SLAError, parse_sla, summarize
from config.sources import SOURCES, EnvVar, SourceSpec, source_names
from connectors.core import Clock, Connector, SyncError, SyncOptions
from connectors.sync import known_sources, sync_source
from snapshot.store import SnapshotStore

TOKEN = "pd-api-token-0123456789"

PIPEDRIVE = SourceSpec(
    name="pipedrive",
    title="Pipedrive",
    funnel_fields={"stage": "deal stage", "status": "label"},
    mql_example="{status: [MQL]}",
    env=(
        EnvVar("PIPEDRIVE_API_TOKEN", secret=True),
        EnvVar("PIPEDRIVE_COMPANY_DOMAIN", default="acme", url=True),
    ),
    configured_when=(("PIPEDRIVE_API_TOKEN",),),
    missing_hint="set PIPEDRIVE_API_TOKEN to a personal API token",
)


@pytest.fixture
def pipedrive(monkeypatch: pytest.MonkeyPatch) -> SourceSpec:
    monkeypatch.setitem(SOURCES, "pipedrive", PIPEDRIVE)
    return PIPEDRIVE


def _sla(funnel: dict[str, object]) -> dict[str, object]:
    return {"name": "Test SLA", "timezone": "Europe/Berlin", "funnel": funnel}


def test_the_built_in_sources_are_hubspot_then_salesforce() -> None:
    assert source_names() == ["hubspot", "salesforce"]
    assert known_sources() == ["hubspot", "salesforce"]


def test_each_built_in_secret_is_a_settings_field_of_the_same_name() -> None:
    # Connectors read settings.<variable in lower case>; a typo in the registry would
    # otherwise park the value in Settings.others where no connector looks.
    field_names = set(Settings.__dataclass_fields__)
    for spec in SOURCES.values():
        for var in spec.env:
            assert var.attribute in field_names, var.name


def test_a_registered_source_is_a_known_source(pipedrive: SourceSpec) -> None:
    assert known_sources() == ["hubspot", "salesforce", "pipedrive"]


def test_a_registered_source_reads_its_variables_and_hides_its_secret(
    pipedrive: SourceSpec,
) -> None:
    settings = Settings.from_env(
        {"PIPEDRIVE_API_TOKEN": TOKEN, "HUBSPOT_ACCESS_TOKEN": "pat-na1-hub"}, dotenv=None
    )
    assert settings.configured_sources() == ["hubspot", "pipedrive"]
    assert settings.value("PIPEDRIVE_API_TOKEN") == Secret(TOKEN)
    assert settings.value("PIPEDRIVE_COMPANY_DOMAIN") == "acme"  # the default
    assert sorted(settings.secrets()) == sorted(["pat-na1-hub", TOKEN])
    assert TOKEN not in repr(settings)


def test_a_registered_source_without_its_token_is_not_configured(pipedrive: SourceSpec) -> None:
    settings = Settings.from_env({"PIPEDRIVE_COMPANY_DOMAIN": "acme.example/"}, dotenv=None)
    assert settings.configured_sources() == []
    assert settings.value("PIPEDRIVE_COMPANY_DOMAIN") == "acme.example"  # trailing / dropped


def test_a_registered_source_is_accepted_as_a_funnel_key(pipedrive: SourceSpec) -> None:
    sla = parse_sla(_sla({"pipedrive": {"mql": {"status": ["MQL"]}}}))
    assert list(sla.funnel) == ["pipedrive"]
    assert "An MQL handoff is Pipedrive label MQL." in summarize(sla)


@pytest.mark.parametrize(
    ("funnel", "problem"),
    [
        pytest.param(
            {"pipedrive": {"sql": {"status": ["SQL"]}}},
            "funnel.pipedrive.mql: missing; every source needs an mql stage, such as "
            "mql: {status: [MQL]}",
            id="a-registered-source-without-mql-gets-its-own-example",
        ),
        pytest.param(
            {"pipedrive": {"mql": {"status": ["MQL"]}, "sql": {"converted": True}}},
            "funnel.pipedrive.sql.converted: only Salesforce leads convert; remove it or move "
            "the stage under salesforce",
            id="only-converting-sources-may-use-converted",
        ),
        pytest.param(
            {"pipedrve": {"mql": {"status": ["MQL"]}}},
            "funnel.pipedrve: unknown source; did you mean pipedrive? "
            "Sources are hubspot, salesforce and pipedrive",
            id="an-unknown-source-lists-the-registered-ones",
        ),
    ],
)
def test_a_funnel_mistake_about_a_registered_source_is_one_problem(
    pipedrive: SourceSpec, funnel: dict[str, object], problem: str
) -> None:
    with pytest.raises(SLAError) as caught:
        parse_sla(_sla(funnel))
    assert caught.value.problems == [problem]


def test_sync_without_credentials_prints_the_registered_hint(
    pipedrive: SourceSpec, tmp_path: Path
) -> None:
    with pytest.raises(SyncError) as caught:
        sync_source("pipedrive", SnapshotStore(tmp_path / "s.db"), Settings())
    assert str(caught.value) == (
        "pipedrive is not configured: set PIPEDRIVE_API_TOKEN to a personal API token"
    )


def test_sync_builds_the_connector_from_the_sources_package(
    pipedrive: SourceSpec, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    built: list[tuple[Settings, SyncOptions]] = []

    def build_connector(settings: Settings, options: SyncOptions, clock: Clock) -> Connector:
        built.append((settings, options))
        raise SyncError("pipedrive: stop here, the registry found the builder")

    package = types.ModuleType("connectors.pipedrive")
    package.build_connector = build_connector  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "connectors.pipedrive", package)
    settings = Settings.from_env({"PIPEDRIVE_API_TOKEN": TOKEN}, dotenv=None)
    options = SyncOptions()
    with pytest.raises(SyncError, match="the registry found the builder"):
        sync_source("pipedrive", SnapshotStore(tmp_path / "s.db"), settings, options=options)
    assert built == [(settings, options)]
