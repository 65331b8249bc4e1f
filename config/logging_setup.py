"""Logs on stderr for people (default, ``--verbose``) or for machines (``--log-json``).

Stdout carries results (tables, reports, summary lines); everything else goes to stderr
through one handler installed here, so a cron job can keep the two apart.

* default: warnings and errors only (retries, a stream that came up short), as text;
* ``--verbose``: everything down to debug, as text with the logger's name;
* ``--log-json``: one JSON object a line from INFO up — a record per finished stream
  (records, requests, retries, pages, duration), per retry, per sync run and per command
  — so a log shipper can graph a sync without parsing sentences.

Every record passes a :class:`~config.redact.RedactingFilter` holding the known
secrets, whatever logger it comes from (client libraries included): a credential cannot
reach the log even at debug level.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, TextIO

from config.redact import RedactingFilter, Redactor

EVENT_ATTRIBUTE = "event"
"""``log.info(msg, extra={"event": {...}})``: fields a JSON line carries besides the message."""

_MARK = "_sla_audit_handler"


class JsonLinesFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message and the record's event."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        event = getattr(record, EVENT_ATTRIBUTE, None)
        if isinstance(event, dict):
            line.update({k: v for k, v in event.items() if k not in line})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        text = json.dumps(line, default=str, ensure_ascii=False)
        # Event fields bypass the filter's message rewrite: redact the whole line once more.
        return self.redactor(text)


class TextFormatter(logging.Formatter):
    """Plain lines; with ``verbose`` the level and logger name lead, for grepping."""

    def __init__(self, redactor: Redactor, *, verbose: bool) -> None:
        fmt = "%(levelname)s %(name)s: %(message)s" if verbose else "%(message)s"
        super().__init__(fmt)
        self.redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        return self.redactor(super().format(record))


def configure_logging(
    *,
    verbose: bool = False,
    json_lines: bool = False,
    secrets: Iterable[str] = (),
    stream: TextIO | None = None,
) -> logging.Handler:
    """Install the one stderr handler (replacing any this function installed before)."""
    redactor = Redactor(secrets)
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    setattr(handler, _MARK, True)
    handler.addFilter(RedactingFilter(redactor))
    if json_lines:
        handler.setFormatter(JsonLinesFormatter(redactor))
        level = logging.DEBUG if verbose else logging.INFO
    else:
        handler.setFormatter(TextFormatter(redactor, verbose=verbose))
        level = logging.DEBUG if verbose else logging.WARNING
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _MARK, False)]:
        root.removeHandler(old)
    handler.setLevel(level)
    root.addHandler(handler)
    root.setLevel(min(level, root.level) if root.level != logging.NOTSET else level)
    # Client libraries log every connection at debug/info: noise in cron mail, detail
    # under --verbose.
    for name in ("urllib3", "hubspot", "simple_salesforce", "requests"):
        logging.getLogger(name).setLevel(logging.NOTSET if verbose else logging.WARNING)
    return handler


def event(name: str, **fields: Any) -> dict[str, Any]:
    """``extra=`` for a structured record: ``log.info(msg, extra=event("sync", ...))``."""
    return {EVENT_ATTRIBUTE: {"event": name, **fields}}
