"""Real receivers for ``watch``'s alerts: an SMTP server (aiosmtpd) and a JSON webhook.

Both listen on 127.0.0.1 and keep what they received, so a test reads back the e-mails
(subject, recipients, plain and HTML parts) and the webhook payloads exactly as a mail
client or Slack would get them.
"""

from __future__ import annotations

import email
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

SMTP_PASSWORD = "Sm7pS3cretPassw0rd"
WEBHOOK_TOKEN = "T0kenB2xQ9zWebhookSecret"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Mailbox:
    """What the SMTP server accepted: one (envelope recipients, parsed message) per mail."""

    port: int
    mails: list[tuple[list[str], EmailMessage]] = field(default_factory=list)

    def url(self, to: str = "maria@acme.example") -> str:
        return (
            f"mailto://alerts:{SMTP_PASSWORD}@127.0.0.1:{self.port}"
            f"?from=alerts@acme.example&to={to}&mode=insecure"
        )

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        self.mails.append((list(envelope.rcpt_tos), message))  # type: ignore[arg-type]
        return "250 OK"


def parts(message: EmailMessage) -> dict[str, str]:
    """The mail's text parts by content type (``text/plain``, ``text/html``)."""
    return {
        part.get_content_type(): part.get_content()
        for part in message.walk()
        if not part.is_multipart()
    }


def _authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
    ok = isinstance(data, LoginPassword) and data.password.decode() == SMTP_PASSWORD
    return AuthResult(success=ok)


@contextmanager
def smtp_server() -> Iterator[Mailbox]:
    box = Mailbox(free_port())
    controller = Controller(
        box,
        hostname="127.0.0.1",
        port=box.port,
        authenticator=_authenticate,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


@dataclass
class Webhook:
    """A JSON webhook: answers each POST with the next of ``codes`` (then 200)."""

    port: int = 0
    codes: list[int] = field(default_factory=list)
    payloads: list[dict[str, Any]] = field(default_factory=list)
    """Payloads answered 200 (delivered)."""
    refused: int = 0
    hangs: int = 0
    """How many of the first POSTs hang (HANG_S seconds, then a 504 nobody waits for)."""

    def url(self) -> str:
        return f"json://127.0.0.1:{self.port}/hooks/{WEBHOOK_TOKEN}"


HANG_S = 3.0
"""How long a hanging webhook keeps a request: longer than the test's read timeout."""


@contextmanager
def webhook_server(codes: list[int] | None = None, hangs: int = 0) -> Iterator[Webhook]:
    hook = Webhook(codes=list(codes or []), hangs=hangs)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if hook.hangs:
                hook.hangs -= 1
                hook.refused += 1
                time.sleep(HANG_S)
                self.send_response(504)
                self.end_headers()
                return
            code = hook.codes.pop(0) if hook.codes else 200
            if code == 200 and self.path == f"/hooks/{WEBHOOK_TOKEN}":
                hook.payloads.append(json.loads(body))
            else:
                hook.refused += 1
            self.send_response(code)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    hook.port = server.server_port
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hook
    finally:
        server.shutdown()
        server.server_close()
