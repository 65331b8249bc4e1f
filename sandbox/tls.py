"""A throwaway certificate authority for sandboxes that must speak HTTPS on 127.0.0.1.

simple-salesforce always builds ``https://`` URLs from the instance host, so the sandbox
Salesforce serves real TLS with a certificate for 127.0.0.1 / localhost issued by a CA
made with ``trustme`` for this process only. Clients trust it through :func:`sandbox_session`
(or by pointing ``verify`` / ``REQUESTS_CA_BUNDLE`` at :attr:`SandboxCA.ca_path`).

What a reader could get wrong: on these machines ``REQUESTS_CA_BUNDLE`` is set, and
requests lets that environment variable override ``session.verify`` unless
``session.trust_env`` is False — so a session that sets ``verify=ca_path`` but keeps
``trust_env`` fails certificate checks against the sandbox.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import ssl
import tempfile
import threading
from dataclasses import dataclass

import requests
import trustme


@dataclass(frozen=True)
class SandboxCA:
    """The CA (its PEM on disk) and a server context for 127.0.0.1 and localhost."""

    ca_path: str
    server_context: ssl.SSLContext


_lock = threading.Lock()
_shared: SandboxCA | None = None


def sandbox_ca() -> SandboxCA:
    """The process-wide throwaway CA (made on first use; its PEM is removed at exit)."""
    global _shared
    with _lock:
        if _shared is None:
            ca = trustme.CA(organization_name="sla-audit sandbox")
            cert = ca.issue_cert("127.0.0.1", "localhost")
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            cert.configure_cert(context)
            handle, path = tempfile.mkstemp(prefix="sandbox-ca-", suffix=".pem")
            os.close(handle)
            ca.cert_pem.write_to_path(path)
            atexit.register(_remove, path)
            _shared = SandboxCA(path, context)
        return _shared


def _remove(path: str) -> None:
    with contextlib.suppress(OSError):
        os.remove(path)


def sandbox_session(ca_path: str) -> requests.Session:
    """A requests session that trusts ``ca_path`` and ignores REQUESTS_CA_BUNDLE, proxies
    and .netrc from the environment (``trust_env = False``), for tests and the demo."""
    session = requests.Session()
    session.verify = ca_path
    session.trust_env = False
    return session
