"""Delivering ``watch``'s alerts through apprise, exactly once, and never printing a URL.

A channel's apprise URL (Slack, Microsoft Teams, ``mailto://`` SMTP, ``json://`` webhooks
…) holds its secret, so it is read from the environment variable the SLA names
(``channels.<name>.url_env``) and goes nowhere else: not into an error line, a log
record, the snapshot or a report. Apprise's own log (which writes URLs, tokens included,
at debug level) is held back while it sends; a failure is reported as its one warning
line with the URL's parts blanked out.

The outbox protocol is :mod:`snapshot.alerts_log`'s: intent committed, then the call,
then the result. Per-lead alerts due for one channel go out as one message (a channel
gets one message per run, not one per lead); each daily digest is its own message.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from app.alerts_message import Message, batch_message
from app.cli_errors import UserError
from config.sla import SLA
from snapshot.alerts_log import due, mark_result, mark_sending
from snapshot.store import SnapshotStore

BATCH = 50
"""Per-lead alerts in one message at most (a first run after a long pause may owe more)."""

Send = Callable[[str, Message], str | None]
"""Deliver one message to one apprise URL; None when delivered, else the error's line."""


def channel_urls(sla: SLA, environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """Each declared channel's URL from its environment variable; one line per problem.

    Raises :class:`UserError` naming the key (``channels.inbound-slack.url_env: …``) for a
    variable that is not set or a URL apprise cannot use — never the URL itself.
    """
    urls: dict[str, str] = {}
    for name, channel in sla.channels.items():
        key = f"channels.{name}.url_env"
        url = environ.get(channel.url_env, "").strip()
        if not url:
            raise UserError(f"{key}: {channel.url_env} is not set")
        if not _usable(url):
            raise UserError(
                f"{key}: the URL in {channel.url_env} is not one apprise can send to; see "
                "https://appriseit.com/ for each service's URL (slack://, msteams://, "
                "mailto://, json://)"
            )
        urls[name] = url
    return urls


def _usable(url: str) -> bool:
    import apprise

    with _apprise_quiet():
        return apprise.Apprise.instantiate(url) is not None


@contextmanager
def _apprise_quiet(captured: list[str] | None = None) -> Any:
    """Keep apprise's and urllib3's records (which carry URLs) out of our logs.

    With ``captured``, apprise's warnings are kept there for the failure's one line.
    """
    loggers = [logging.getLogger(name) for name in ("apprise", "urllib3")]
    saved = [(lg.propagate, lg.level) for lg in loggers]
    handler = _Collect(captured) if captured is not None else None
    for lg in loggers:
        lg.propagate = False
    if handler is not None:
        loggers[0].addHandler(handler)
        loggers[0].setLevel(logging.WARNING)
    try:
        yield
    finally:
        for lg, (propagate, level) in zip(loggers, saved, strict=True):
            lg.propagate, lg.level = propagate, level
        if handler is not None:
            loggers[0].removeHandler(handler)


class _Collect(logging.Handler):
    def __init__(self, into: list[str]) -> None:
        super().__init__(logging.WARNING)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(record.getMessage())


def scrub(text: str, url: str) -> str:
    """``text`` without the URL or any of its parts that could be a secret."""
    parts = urlsplit(url)
    secrets = {url, parts.password or "", parts.username or "", parts.path, parts.query}
    secrets |= {unquote(piece) for piece in parts.path.split("/")}
    secrets |= {value for _, value in parse_qsl(parts.query)}
    for secret in sorted((s for s in secrets if len(s) >= 4), key=len, reverse=True):
        text = text.replace(secret, "…")
    return re.sub(r"\s+", " ", text).strip()


def apprise_send(url: str, message: Message) -> str | None:
    """Send with apprise: HTML to services that take it (e-mail), plain text elsewhere."""
    import apprise
    from apprise import NotifyFormat

    captured: list[str] = []
    with _apprise_quiet(captured):
        service = apprise.Apprise.instantiate(url)
        if service is None:
            return "the channel's URL is not one apprise can send to"
        formats = service.notify_format  # one format, or the formats a service takes
        html = NotifyFormat.HTML in (formats if isinstance(formats, tuple) else (formats,))
        ok = service.notify(
            body=message.html if html else message.text,
            title=message.title,
            body_format=NotifyFormat.HTML if html else NotifyFormat.TEXT,
        )
    if ok:
        return None
    return scrub(captured[-1], url) if captured else "the channel refused the message"


RETRY_WAITS_S: tuple[float, ...] = (2.0, 8.0)
"""Waits before a failed delivery's second and third tries within one run (exponential
backoff: a webhook that is restarting gets time). After them the alert stays in the outbox
as failed, and later runs try again (up to their own cap)."""


def _send_with_backoff(send: Send, url: str, message: Message) -> str | None:
    """``send``, tried again after each of :data:`RETRY_WAITS_S`; the last error or None."""
    error: str | None = None
    for attempt, wait in enumerate((0.0, *RETRY_WAITS_S)):
        if attempt:
            sleep(wait)
        try:
            error = send(url, message)
        except Exception as exc:  # a library bug must not leave the row "sending" for ever
            error = scrub(f"{type(exc).__name__}: {exc}", url)
        if error is None:
            return None
    return error


def sleep(seconds: float) -> None:
    """``time.sleep``, named here so tests can make the backoff instant."""
    time.sleep(seconds)


@dataclass
class Delivery:
    """What one run's deliveries did."""

    delivered: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    """Channel → the last error's line (one line per channel in the run's output)."""


def deliver(
    store: SnapshotStore, urls: Mapping[str, str], kinds: Sequence[str], send: Send
) -> Delivery:
    """Deliver every due alert of ``kinds``: per-lead alerts batched per channel."""
    result = Delivery()
    batches: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in due(store, kinds):
        if row["channel"] not in urls:
            continue  # a channel removed from the SLA: its rows wait for it to return
        if row["kind"] == "digest":
            _deliver_rows(store, urls, [row], send, result)
        else:
            batches[row["channel"]].append(row)
    for rows in batches.values():
        for start in range(0, len(rows), BATCH):
            _deliver_rows(store, urls, rows[start : start + BATCH], send, result)
    return result


def _deliver_rows(
    store: SnapshotStore,
    urls: Mapping[str, str],
    rows: list[dict[str, Any]],
    send: Send,
    result: Delivery,
) -> None:
    channel = rows[0]["channel"]
    keys = [(r["kind"], r["rule"], r["subject"], r["channel"]) for r in rows]
    message = batch_message(rows[0]["team"], [(r["title"], r["text"], r["html"]) for r in rows])
    mark_sending(store, keys)
    error = _send_with_backoff(send, urls[channel], message)
    mark_result(store, keys, error)
    if error is None:
        result.delivered += len(rows)
    else:
        result.failed[channel] = error
