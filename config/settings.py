"""Settings from the environment (and an optional ``.env``), with secrets that never print.

Why a class of our own rather than ``os.environ`` lookups scattered through the code:
every credential passes through one place, held in a :class:`Secret` whose ``repr`` and
``str`` are masked. A settings object can then be logged, put in an exception or shown
by a debugger without leaking a token, and :meth:`Settings.secrets` hands the redactor
the exact strings to scrub from every message.

The ``.env`` file is read with a deliberately small parser (``KEY=VALUE`` lines, ``#``
comments, optional ``export`` and quotes); the real environment always wins, so a cron
job can override a developer's file without editing it.

Which variables each CRM reads, which are secrets and when a CRM counts as configured is
declared in :mod:`config.sources`; this module only reads what the registry lists.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

from config.sources import DEFAULT_HUBSPOT_BASE_URL, SOURCES, EnvVar

__all__ = [
    "DEFAULT_DB",
    "DEFAULT_HUBSPOT_BASE_URL",
    "DEFAULT_MAX_DAILY_SHARE",
    "DEFAULT_MIN_FREE_SHARE",
    "Secret",
    "Settings",
    "SettingsError",
    "parse_dotenv",
]

DEFAULT_DB = "snapshot.db"
DEFAULT_MAX_DAILY_SHARE = 0.5
"""Share of the daily API allowance this tool's own requests may take in 24 hours."""
DEFAULT_MIN_FREE_SHARE = 0.1
"""Share of the account's daily allowance a sync leaves for the org's other integrations:
it stops once less is left, however little of it this tool spent (a 60 %-busy org syncs)."""


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


def _source_value(values: Mapping[str, str], var: EnvVar) -> str | Secret | None:
    """One registered variable's value: masked if secret, else text, its default or None."""
    if var.secret:
        return _secret(values, var.name)
    text = _text(values, var.name) or var.default
    if text is not None and var.url:
        text = text.rstrip("/")
    if text is not None and var.digits_fix is not None and not text.isdigit():
        raise SettingsError(f"{var.name}={text!r} {var.digits_fix}")
    return text


def _share(values: Mapping[str, str]) -> float:
    return _env_share(
        values,
        "SLA_AUDIT_MAX_DAILY_SHARE",
        DEFAULT_MAX_DAILY_SHARE,
        lambda share: 0 < share <= 1,
        "a number above 0 and at most 1 (e.g. 0.5 lets a sync use half the daily API allowance)",
    )


def _free_share(values: Mapping[str, str]) -> float:
    return _env_share(
        values,
        "SLA_AUDIT_MIN_FREE_SHARE",
        DEFAULT_MIN_FREE_SHARE,
        lambda share: 0 <= share < 1,
        "a number from 0 to below 1 (e.g. 0.1 stops a sync while a tenth of the org's daily "
        "API allowance is left)",
    )


def _env_share(
    values: Mapping[str, str],
    name: str,
    default: float,
    allowed: Callable[[float], bool],
    fix: str,
) -> float:
    """A share from the environment (``default`` when unset); out of range: the fix."""
    raw = values.get(name, "").strip()
    if not raw:
        return default
    try:
        share = float(raw)
    except ValueError:
        share = math.nan
    if not allowed(share):  # NaN fails every comparison
        raise SettingsError(f"{name}={raw!r} is not a share: set {fix}")
    return share


@dataclass(frozen=True)
class Settings:
    """Everything the connectors and the CLI read from the environment.

    The two built-in CRMs' variables are fields, under the names their connectors read
    (``settings.hubspot_access_token``). A source registered in :mod:`config.sources`
    without such fields keeps its values in :attr:`others`; read any source's variable
    with :meth:`value`.
    """

    hubspot_access_token: Secret | None = None
    hubspot_base_url: str = DEFAULT_HUBSPOT_BASE_URL
    hubspot_portal_id: str | None = None
    hubspot_service_key: Secret | None = None
    hubspot_client_id: str | None = None
    hubspot_client_secret: Secret | None = None
    hubspot_refresh_token: Secret | None = None
    salesforce_instance_url: str | None = None
    salesforce_access_token: Secret | None = None
    salesforce_username: str | None = None
    salesforce_password: Secret | None = None
    salesforce_security_token: Secret | None = None
    salesforce_domain: str | None = None
    salesforce_consumer_key: str | None = None
    salesforce_consumer_secret: Secret | None = None
    salesforce_private_key_file: str | None = None
    db_path: Path = field(default_factory=lambda: Path(DEFAULT_DB))
    max_daily_share: float = DEFAULT_MAX_DAILY_SHARE
    min_free_share: float = DEFAULT_MIN_FREE_SHARE
    others: tuple[tuple[str, str | Secret], ...] = ()
    """``(VARIABLE, value)`` of registered variables that have no field above."""

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] = os.environ,
        dotenv: Path | None = Path(".env"),
    ) -> Settings:
        """Read the settings; ``environ`` wins over ``dotenv`` (pass ``None`` to skip it)."""
        values = {**_read_dotenv(dotenv), **environ}
        named: dict[str, str | Secret] = {}
        others: list[tuple[str, str | Secret]] = []
        for spec in SOURCES.values():
            for var in spec.env:
                value = _source_value(values, var)
                if value is None:
                    continue
                if var.attribute in _SOURCE_FIELDS:
                    named[var.attribute] = value
                else:
                    others.append((var.name, value))
        return cls(
            **named,
            db_path=Path(_text(values, "SLA_AUDIT_DB") or DEFAULT_DB),
            max_daily_share=_share(values),
            min_free_share=_free_share(values),
            others=tuple(others),
        )

    def value(self, name: str) -> str | Secret | None:
        """The value of a source's variable ``name`` (``"HUBSPOT_ACCESS_TOKEN"``), or None."""
        if name.lower() in _SOURCE_FIELDS:
            value: str | Secret | None = getattr(self, name.lower())
            return value
        return dict(self.others).get(name)

    def source_configured(self, source: str) -> bool:
        """Whether ``source``'s credentials are complete (see ``SourceSpec.configured_when``)."""
        return SOURCES[source].is_configured(self.value)

    def configured_sources(self) -> list[str]:
        """The sources whose credentials are present, in registry order."""
        return [name for name in SOURCES if self.source_configured(name)]

    def secrets(self) -> list[str]:
        """Every credential value, for the redactor; never print this list."""
        held = (self.value(name) for spec in SOURCES.values() for name in spec.secrets)
        return [s.reveal() for s in held if isinstance(s, Secret) and s.reveal()]


_SOURCE_FIELDS: frozenset[str] = frozenset(
    item.name
    for item in fields(Settings)
    if item.name not in ("db_path", "max_daily_share", "others")
)
"""Settings fields that hold a source's variable, named after it in lower case."""
