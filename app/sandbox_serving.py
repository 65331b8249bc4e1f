"""The fake CRMs on 127.0.0.1, started the same way for ``demo`` and for ``sandbox``.

Each sandbox CRM is described by the environment variables a shell would export to reach
it (its URL and its own fake token), and the settings the sync uses are read from exactly
those variables with :meth:`Settings.from_env`. So what ``sandbox`` prints for the user to
export is, by construction, what ``demo`` syncs with: the two cannot drift apart.

With ``both``, marketing's CRM (HubSpot) and sales' CRM (Salesforce) each hold half of the
leads, generated with different seeds; the reps are the same people (same emails), so a
report shows one row per rep across both CRMs.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.cli_errors import UserError
from config.settings import Settings
from config.sources import source_names
from connectors.core import SyncOptions
from connectors.salesforce import SalesforceOptions
from sandbox.generator import CRM, generate_crm
from sandbox.hubspot_server import HubSpotSandbox
from sandbox.salesforce_server import SalesforceSandbox

BOTH = "both"
"""The extra ``--source``: marketing in the HubSpot sandbox, sales in Salesforce."""
SANDBOX_ORDER = ("hubspot", "salesforce")
"""Port offsets: HubSpot listens on ``--port``, Salesforce on the port after it."""
MIN_LEADS = 50
"""The generator's smallest CRM; with ``both`` each CRM gets half of ``--size``."""


@dataclass(frozen=True)
class ServedCRM:
    """One sandbox CRM running: how to reach it, and what it holds."""

    source: str
    title: str
    origin: str
    """``http://127.0.0.1:PORT`` (HubSpot) or ``https://127.0.0.1:PORT`` (Salesforce)."""
    crm: CRM
    env: tuple[tuple[str, str], ...]
    """The variables a shell exports to reach it; the token is the sandbox's own fake one."""
    ca_path: str | None
    """PEM of the throwaway CA that signed its certificate (HTTPS only)."""

    @property
    def settings(self) -> Settings:
        """The settings a sync reads from :attr:`env` (and nothing else)."""
        return Settings.from_env(dict(self.env), dotenv=None)

    @property
    def options(self) -> SyncOptions | None:
        """Salesforce trusts the sandbox's CA; HubSpot's sandbox speaks plain HTTP."""
        return SalesforceOptions(ca_bundle=self.ca_path) if self.ca_path else None


def source_list(source: str) -> list[str]:
    """``"both"`` → both sandbox CRMs, in port order; any other name → itself."""
    return list(SANDBOX_ORDER) if source == BOTH else [source]


def check_size(source: str, size: int) -> None:
    """A size the generator accepts for every CRM served (``both`` halves it)."""
    share = size // len(source_list(source))
    if not MIN_LEADS <= share <= 1_000_000:
        least = MIN_LEADS * len(source_list(source))
        raise UserError(f"--size {size} is out of range: pass {least} to 1000000 leads")


def port_for(source: str, port: int) -> int:
    """HubSpot on ``port``, Salesforce on ``port + 1``; 0 (any free port) stays 0."""
    return port + SANDBOX_ORDER.index(source) if port else 0


@contextmanager
def serve_crms(
    source: str, size: int, seed: int, end: datetime, *, port: int = 0
) -> Iterator[list[ServedCRM]]:
    """Generate and serve the CRM(s) of ``source`` (``hubspot``, ``salesforce`` or ``both``).

    ``port`` 0 takes free ports (the demo); a fixed port that is taken is a
    :class:`UserError` naming ``--port``. The servers stop when the block ends.
    """
    check_size(source, size)
    names = source_list(source)
    with ExitStack() as stack:
        served: list[ServedCRM] = []
        for offset, name in enumerate(names):
            crm = generate_crm(
                size=size // len(names),
                seed=seed + offset,
                end=end,
                speed_pays=True,
                absences=True,
            )
            served.append(_serve_one(stack, name, crm, port_for(name, port)))
        yield served


def _serve_one(stack: ExitStack, name: str, crm: CRM, port: int) -> ServedCRM:
    if name == "hubspot":
        hub = _start(stack, HubSpotSandbox(crm, port=port), port)
        env = (("HUBSPOT_BASE_URL", hub.base_url), ("HUBSPOT_ACCESS_TOKEN", hub.token))
        return ServedCRM(name, "HubSpot", hub.base_url, crm, env, None)
    if name == "salesforce":
        sf = _start(stack, SalesforceSandbox(crm, port=port), port)
        env = (
            ("SALESFORCE_INSTANCE_URL", sf.instance_url),
            ("SALESFORCE_ACCESS_TOKEN", sf.session_id),
        )
        return ServedCRM(name, "Salesforce", sf.instance_url, crm, env, sf.ca_path)
    raise UserError(
        f"there is no sandbox for {name!r}: use one of {', '.join([*source_names(), BOTH])}"
    )


def _start(stack: ExitStack, sandbox: Any, port: int) -> Any:
    """Enter ``sandbox``; a port that cannot be had is the user's to change."""
    try:
        return stack.enter_context(sandbox)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise UserError(
                f"port {port} is already in use (a sandbox still running?): "
                f"pick another with --port, e.g. --port {port + 10}"
            ) from None
        if exc.errno == errno.EACCES:
            raise UserError(
                f"port {port} needs privileges: pick one above 1023 with --port"
            ) from None
        raise
