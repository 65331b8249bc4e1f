"""Salesforce's sync knobs: the engine's options, plus the API version, the CA file and the
REST and Bulk API page sizes."""

from __future__ import annotations

from dataclasses import dataclass, fields

from connectors.core import SyncOptions

API_VERSION = "59.0"


@dataclass(frozen=True)
class SalesforceOptions(SyncOptions):
    """The engine's knobs plus Salesforce's own; the defaults suit a nightly sync.

    ``ca_bundle`` is a CA file for the instance's TLS (a private CA, the sandbox's
    throwaway one); None means ``REQUESTS_CA_BUNDLE``, ``CURL_CA_BUNDLE``,
    ``SSL_CERT_FILE``, then certifi's bundle. ``batch_size`` is the REST page
    (``Sforce-Query-Options: batchSize``, 200–2,000); a window announcing more than
    ``bulk_threshold`` records goes to the Bulk API, read ``bulk_page_size`` rows a page.
    """

    ca_bundle: str | None = None
    api_version: str = API_VERSION
    batch_size: int = 2000
    bulk_threshold: int = 10_000
    bulk_page_size: int = 50_000
    bulk_poll_s: float = 0.5
    bulk_poll_max_s: float = 10.0
    bulk_wait_s: float = 3600.0

    @classmethod
    def of(cls, options: SyncOptions | None) -> SalesforceOptions:
        """``options`` as Salesforce options (defaults for the Salesforce-only knobs)."""
        if isinstance(options, SalesforceOptions):
            return options
        if options is None:
            return cls()
        return cls(**{f.name: getattr(options, f.name) for f in fields(SyncOptions)})
