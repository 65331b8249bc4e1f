"""The CRMs the tool can sync, each declared once, as data.

Everything that differs between sources and is not API plumbing lives in one
:class:`SourceSpec`: the environment variables it reads (and which are secrets), when its
credentials count as complete, the hint printed when they are not, and how the SLA file
names its fields. Settings, the SLA model and the sync command all read this registry, so a
third CRM is one entry in :data:`SOURCES` plus one folder ``connectors/<name>/`` whose
module exports ``build_connector(settings, options, clock)``.

This module imports nothing else of the project: the settings and the SLA model import it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

DEFAULT_HUBSPOT_BASE_URL = "https://api.hubapi.com"


@dataclass(frozen=True)
class EnvVar:
    """One environment variable a source reads.

    The value lands in ``Settings`` under the variable's lower-cased name
    (``HUBSPOT_ACCESS_TOKEN`` → ``settings.hubspot_access_token``); a secret is held in a
    masked ``Secret`` and handed to the redactor.
    """

    name: str
    secret: bool = False
    default: str | None = None
    """Used when the variable is unset or blank."""
    url: bool = False
    """A base URL: a trailing ``/`` is dropped so that paths join cleanly."""
    digits_fix: str | None = None
    """When set, the value must be all digits; the error reads ``NAME='value' <digits_fix>``."""

    @property
    def attribute(self) -> str:
        """The name of the value in ``Settings``."""
        return self.name.lower()


@dataclass(frozen=True)
class SourceSpec:
    """Everything one CRM needs outside its connector package."""

    name: str
    """The name on the command line, in the SLA file's ``funnel`` and in snapshot ids."""
    title: str
    """The name in sentences (``HubSpot``)."""
    funnel_fields: dict[str, str]
    """How ``check`` names the funnel's ``stage`` and ``status`` fields in this CRM."""
    mql_example: str
    """An ``mql`` stage in this CRM's own values, for the error when a funnel lacks one."""
    env: tuple[EnvVar, ...]
    configured_when: tuple[tuple[str, ...], ...]
    """Ways to log in: the source is configured when every variable of one group is set."""
    missing_hint: str
    """What to set when no group is complete; follows ``<name> is not configured: ``."""
    converts_leads: bool = False
    """Whether a lead can be converted (``converted: true`` in the funnel)."""

    @property
    def secrets(self) -> tuple[str, ...]:
        """The names of the variables that hold credentials."""
        return tuple(var.name for var in self.env if var.secret)

    def is_configured(self, value: Callable[[str], object]) -> bool:
        """Whether one login group is complete; ``value(name)`` is a variable's value."""
        return any(all(value(name) for name in group) for group in self.configured_when)


HUBSPOT = SourceSpec(
    name="hubspot",
    title="HubSpot",
    funnel_fields={"stage": "lifecycle stage", "status": "lead status"},
    mql_example="{stage: [marketingqualifiedlead]}",
    env=(
        EnvVar("HUBSPOT_ACCESS_TOKEN", secret=True),
        EnvVar("HUBSPOT_SERVICE_KEY", secret=True),
        EnvVar("HUBSPOT_CLIENT_ID"),
        EnvVar("HUBSPOT_CLIENT_SECRET", secret=True),
        EnvVar("HUBSPOT_REFRESH_TOKEN", secret=True),
        EnvVar("HUBSPOT_BASE_URL", default=DEFAULT_HUBSPOT_BASE_URL, url=True),
        EnvVar(
            "HUBSPOT_PORTAL_ID",
            digits_fix="is not a portal id: set the number shown in HubSpot's account menu, "
            "or unset it",
        ),
    ),
    # Three kinds of credential; exactly one may be set (connectors.hubspot.auth refuses two).
    configured_when=(
        ("HUBSPOT_SERVICE_KEY",),
        ("HUBSPOT_CLIENT_ID", "HUBSPOT_CLIENT_SECRET", "HUBSPOT_REFRESH_TOKEN"),
        ("HUBSPOT_ACCESS_TOKEN",),
    ),
    missing_hint=(
        "set one kind of credential: HUBSPOT_SERVICE_KEY (a service key), or "
        "HUBSPOT_CLIENT_ID, HUBSPOT_CLIENT_SECRET and HUBSPOT_REFRESH_TOKEN (OAuth), "
        "or HUBSPOT_ACCESS_TOKEN (a legacy private-app token); and HUBSPOT_BASE_URL if not "
        "https://api.hubapi.com; in the environment or in .env"
    ),
)

SALESFORCE = SourceSpec(
    name="salesforce",
    title="Salesforce",
    funnel_fields={"stage": "stage", "status": "lead status"},
    mql_example='{status: ["Marketing Qualified"]}',
    env=(
        EnvVar("SALESFORCE_INSTANCE_URL"),
        EnvVar("SALESFORCE_ACCESS_TOKEN", secret=True),
        EnvVar("SALESFORCE_USERNAME"),
        EnvVar("SALESFORCE_PASSWORD", secret=True),
        EnvVar("SALESFORCE_SECURITY_TOKEN", secret=True),
        EnvVar("SALESFORCE_DOMAIN"),
        EnvVar("SALESFORCE_CONSUMER_KEY"),
        EnvVar("SALESFORCE_CONSUMER_SECRET", secret=True),
        EnvVar("SALESFORCE_PRIVATE_KEY_FILE"),
    ),
    # In the order a login is chosen when several are complete (connectors.salesforce.auth):
    # JWT bearer, client credentials, username/password (SOAP login(), disabled by default
    # in orgs created from Winter '26, retiring in Summer '27), a bare session id.
    configured_when=(
        ("SALESFORCE_USERNAME", "SALESFORCE_CONSUMER_KEY", "SALESFORCE_PRIVATE_KEY_FILE"),
        ("SALESFORCE_CONSUMER_KEY", "SALESFORCE_CONSUMER_SECRET", "SALESFORCE_DOMAIN"),
        ("SALESFORCE_USERNAME", "SALESFORCE_PASSWORD", "SALESFORCE_SECURITY_TOKEN"),
        ("SALESFORCE_INSTANCE_URL", "SALESFORCE_ACCESS_TOKEN"),
    ),
    missing_hint=(
        "set SALESFORCE_USERNAME, SALESFORCE_CONSUMER_KEY and SALESFORCE_PRIVATE_KEY_FILE "
        "(OAuth JWT bearer; SALESFORCE_DOMAIN=test for a sandbox org), or "
        "SALESFORCE_CONSUMER_KEY, SALESFORCE_CONSUMER_SECRET and SALESFORCE_DOMAIN (your My "
        "Domain, e.g. acme.my; OAuth client credentials), or, for orgs that still allow it, "
        "SALESFORCE_USERNAME, SALESFORCE_PASSWORD and SALESFORCE_SECURITY_TOKEN, or "
        "SALESFORCE_INSTANCE_URL and SALESFORCE_ACCESS_TOKEN (a session id, which expires), "
        "in the environment or in .env"
    ),
    converts_leads=True,
)

SOURCES: dict[str, SourceSpec] = {spec.name: spec for spec in (HUBSPOT, SALESFORCE)}
"""Every source, by name, in the order commands list and sync them.

Read at call time everywhere (never copied at import), so a test can add a source with
``monkeypatch.setitem(SOURCES, ...)``.
"""


def source_names() -> list[str]:
    """The registered sources' names, in registry order."""
    return list(SOURCES)


NO_CREDENTIALS = (
    "no CRM credentials found: for HubSpot set HUBSPOT_SERVICE_KEY, an OAuth app's "
    "HUBSPOT_CLIENT_ID/HUBSPOT_CLIENT_SECRET/HUBSPOT_REFRESH_TOKEN or a private-app "
    "HUBSPOT_ACCESS_TOKEN; for Salesforce an app's SALESFORCE_CONSUMER_KEY with "
    "SALESFORCE_PRIVATE_KEY_FILE and SALESFORCE_USERNAME (JWT) or SALESFORCE_CONSUMER_SECRET "
    "and SALESFORCE_DOMAIN (client credentials); the README's credentials sections say more"
)
"""What ``sync``, ``nightly`` and ``watch`` say when no source is configured."""
