"""Settings from the environment (and an optional ``.env``), with secrets that never print.

Why a class of our own rather than ``os.environ`` lookups scattered through the code:
every credential passes through one place, held in a :class:`Secret` whose ``repr`` and
``str`` are masked. A settings object can then be logged, put in an exception or shown
by a debugger without leaking a token, and :meth:`Settings.secrets` hands the redactor
the exact strings to scrub from every message.

The ``.env`` file is read with a deliberately small parser (``KEY=VALUE`` lines, ``#``
comments, optional ``export`` and quotes); the real environment always wins, so a cron
job can override a developer's file without editing it.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_HUBSPOT_BASE_URL = "https://api.hubapi.com"
DEFAULT_DB = "snapshot.db"
DEFAULT_MAX_DAILY_SHARE = 0.5


class SettingsError(ValueError):
    """A setting is present but unusable; the message names the variable and the fix."""


class Secret:
    """A credential that shows as ``'********'`` wherever it is printed.

    Call :meth:`reveal` at the single point where a client library needs the value.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    def __str__(self) -> str:
        return "********"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __bool__(self) -> bool:
        return bool(self._value)


def parse_dotenv(text: str) -> dict[str, str]:
    """``KEY=VALUE`` lines → dict; blank lines, ``#`` comments and ``export`` are allowed.

    Values may be wrapped in single or double quotes (kept verbatim inside). An unquoted
    value loses a trailing `` # comment``. Lines without ``=`` are ignored rather than
    fatal: a stray line in a developer's file should not stop a nightly sync.
    """
    values: dict[str, str] = {}
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#") or "=" not in stripped:
            continue
        if stripped.startswith("export "):
            stripped = stripped[len("export ") :].lstrip()
        key, _, value = stripped.partition("=")
        key, value = key.strip(), value.strip()
        if not key:
            continue
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        values[key] = value
    return values


def _read_dotenv(path: Path | None) -> dict[str, str]:
    if path is None or not path.is_file():
        return {}
    try:
        return parse_dotenv(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path} could not be read ({exc}): fix or remove the file") from exc


def _secret(values: Mapping[str, str], name: str) -> Secret | None:
    value = values.get(name, "").strip()
    return Secret(value) if value else None


def _text(values: Mapping[str, str], name: str) -> str | None:
    value = values.get(name, "").strip()
    return value or None


def _share(values: Mapping[str, str]) -> float:
    raw = values.get("SLA_AUDIT_MAX_DAILY_SHARE", "").strip()
    if not raw:
        return DEFAULT_MAX_DAILY_SHARE
    try:
        share = float(raw)
    except ValueError:
        share = math.nan
    if not 0 < share <= 1:
        raise SettingsError(
            f"SLA_AUDIT_MAX_DAILY_SHARE={raw!r} is not a share: set a number above 0 and at "
            "most 1 (e.g. 0.5 lets a sync use half the daily API allowance)"
        )
    return share


@dataclass(frozen=True)
class Settings:
    """Everything the connectors and the CLI read from the environment."""

    hubspot_access_token: Secret | None = None
    hubspot_base_url: str = DEFAULT_HUBSPOT_BASE_URL
    hubspot_portal_id: str | None = None
    salesforce_instance_url: str | None = None
    salesforce_access_token: Secret | None = None
    salesforce_username: str | None = None
    salesforce_password: Secret | None = None
    salesforce_security_token: Secret | None = None
    salesforce_domain: str | None = None
    db_path: Path = field(default_factory=lambda: Path(DEFAULT_DB))
    max_daily_share: float = DEFAULT_MAX_DAILY_SHARE

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] = os.environ,
        dotenv: Path | None = Path(".env"),
    ) -> Settings:
        """Read the settings; ``environ`` wins over ``dotenv`` (pass ``None`` to skip it)."""
        values = {**_read_dotenv(dotenv), **environ}
        portal = _text(values, "HUBSPOT_PORTAL_ID")
        if portal is not None and not portal.isdigit():
            raise SettingsError(
                f"HUBSPOT_PORTAL_ID={portal!r} is not a portal id: set the number shown in "
                "HubSpot's account menu, or unset it"
            )
        return cls(
            hubspot_access_token=_secret(values, "HUBSPOT_ACCESS_TOKEN"),
            hubspot_base_url=(_text(values, "HUBSPOT_BASE_URL") or DEFAULT_HUBSPOT_BASE_URL).rstrip(
                "/"
            ),
            hubspot_portal_id=portal,
            salesforce_instance_url=_text(values, "SALESFORCE_INSTANCE_URL"),
            salesforce_access_token=_secret(values, "SALESFORCE_ACCESS_TOKEN"),
            salesforce_username=_text(values, "SALESFORCE_USERNAME"),
            salesforce_password=_secret(values, "SALESFORCE_PASSWORD"),
            salesforce_security_token=_secret(values, "SALESFORCE_SECURITY_TOKEN"),
            salesforce_domain=_text(values, "SALESFORCE_DOMAIN"),
            db_path=Path(_text(values, "SLA_AUDIT_DB") or DEFAULT_DB),
            max_daily_share=_share(values),
        )

    def hubspot_configured(self) -> bool:
        return self.hubspot_access_token is not None

    def salesforce_configured(self) -> bool:
        token_login = self.salesforce_instance_url and self.salesforce_access_token
        password_login = (
            self.salesforce_username and self.salesforce_password and self.salesforce_security_token
        )
        return bool(token_login or password_login)

    def configured_sources(self) -> list[str]:
        """The sources whose credentials are present, in a stable order."""
        sources = []
        if self.hubspot_configured():
            sources.append("hubspot")
        if self.salesforce_configured():
            sources.append("salesforce")
        return sources

    def secrets(self) -> list[str]:
        """Every credential value, for the redactor; never print this list."""
        held = (
            self.hubspot_access_token,
            self.salesforce_access_token,
            self.salesforce_password,
            self.salesforce_security_token,
        )
        return [s.reveal() for s in held if s is not None and s.reveal()]
