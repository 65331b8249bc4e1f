"""What the HubSpot and Salesforce sandboxes share: an HTTP(S) server on 127.0.0.1 in a thread.

:class:`HttpSandbox` owns the server's life (a context manager: ``start`` on a free port
unless one is given, ``stop`` hangs up on open keep-alive connections), the accepted token,
the request and status counters and the fault queue (:meth:`HttpSandbox.inject`, the fault
log). Each sandbox module keeps what imitates its API: ``handle`` (routes, authentication,
limits, error bodies), its answers (:class:`Answer`) and which faults it knows.

The request handler (:func:`make_handler`) reads the request, asks ``sandbox.handle`` for
``(counter key, answer, fault)`` and writes the answer — none at all (a TCP reset) when the
answer is None, half the body with status 200 when the fault is ``malformed``.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Generic, Protocol, Self, TypeVar

__all__ = ["Answer", "Fault", "HttpSandbox", "TLSServer", "ThreadingServer", "make_handler"]

KindT = TypeVar("KindT", bound=str)


@dataclass
class Fault:
    """One injected misbehaviour, for the next ``remaining`` requests it matches."""

    kind: str
    remaining: int
    path_contains: str
    status: int
    delay_s: float


REDIRECT_FAULTS = frozenset({"redirect", "redirect_away"})
"""Fault kinds both sandboxes answer with ``307 Temporary Redirect``: ``redirect`` to the
same URL on the same host (a load balancer moving a connection, a path normalised), and
``redirect_away`` to the same path on another host, which a client must not follow with
its credentials."""

ELSEWHERE = "https://elsewhere.example"


def redirect_location(kind: str, raw_path: str) -> str:
    """Where a redirect fault of ``kind`` points the request for ``raw_path``."""
    return raw_path if kind == "redirect" else ELSEWHERE + raw_path


class Answer(Protocol):
    """What a sandbox's ``handle`` answers with."""

    status: int
    headers: dict[str, str]

    def content_type_for(self, status: int) -> str | None:
        """The Content-Type header to send with ``status`` (None: none)."""
        ...

    def payload(self) -> bytes: ...


class HttpSandbox(Generic[KindT]):
    """Serve ``handle``'s answers on 127.0.0.1 in a thread; count requests; inject faults.

    Subclasses set :attr:`server_version`, :attr:`fault_kinds` and :attr:`scheme`, and
    implement :meth:`handle`; HTTPS ones override :meth:`_make_server`.
    ``requests`` counts every request received by counter key, ``statuses`` every status
    answered, ``fault_log`` every fault fired (kind, method, path, status, at).
    """

    server_version: ClassVar[str] = "HttpSandbox/1.0"
    fault_kinds: ClassVar[frozenset[str]] = frozenset()
    scheme: ClassVar[str] = "http"

    def __init__(self, token: str, port: int) -> None:
        self.token = token
        self.requests: Counter[str] = Counter()
        self.statuses: Counter[int] = Counter()
        self.fault_log: list[dict[str, Any]] = []
        self._port = port
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()

    # ----------------------------------------------------------------- lifecycle
    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        if self._server is not None:
            return
        server = self._make_server(("127.0.0.1", self._port), make_handler(self))
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        with self._lock:
            connections = list(self._connections)
            self._connections.clear()
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _make_server(
        self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]
    ) -> ThreadingHTTPServer:
        return ThreadingServer(address, handler)

    def _origin(self) -> str:
        """``scheme://127.0.0.1:PORT`` of the running server."""
        if self._server is None:
            raise RuntimeError("the sandbox is not running: use it as a context manager")
        return f"{self.scheme}://127.0.0.1:{self._server.server_address[1]}"

    # ----------------------------------------------------------------- knobs
    @property
    def total_requests(self) -> int:
        return sum(self.requests.values())

    def reset_counters(self) -> None:
        """Forget request counts, statuses and the fault log (not the API's allowances)."""
        with self._lock:
            self._clear_counters()

    def _clear_counters(self) -> None:
        """Under the lock: what :meth:`reset_counters` forgets."""
        self.requests.clear()
        self.statuses.clear()
        self.fault_log.clear()

    def set_token(self, token: str) -> None:
        """Accept only ``token`` from now on (the old one is revoked, its session expired)."""
        self.token = token

    def inject(
        self,
        kind: KindT,
        count: int = 1,
        path_contains: str = "",
        status: int = 503,
        delay_s: float = 2.0,
    ) -> None:
        """Make the next ``count`` requests whose path contains ``path_contains`` misbehave.

        ``kind`` is one of :attr:`fault_kinds` (what each does is the subclass's to say);
        ``status`` is the status of a ``"status"`` fault, ``delay_s`` the wait of a
        ``"slow"`` one.
        """
        if kind not in self.fault_kinds:
            raise ValueError(f"unknown fault kind {kind!r}")
        with self._lock:
            self._faults.append(Fault(kind, count, path_contains, status, delay_s))

    def pending_faults(self) -> int:
        with self._lock:
            return sum(f.remaining for f in self._faults)

    # ----------------------------------------------------------------- request pipeline
    def handle(
        self, method: str, raw_path: str, headers: dict[str, str], body: bytes
    ) -> tuple[str, Answer | None, Fault | None]:
        """Answer one request: (counter key, answer or None for "no answer", fault fired)."""
        raise NotImplementedError

    def _take_fault(
        self, method: str, raw_path: str, accept: Callable[[Fault], bool] | None = None
    ) -> Fault | None:
        """The first pending fault matching the request (and ``accept``), logged and spent."""
        with self._lock:
            for fault in self._faults:
                if fault.remaining <= 0 or fault.path_contains not in raw_path:
                    continue
                if accept is not None and not accept(fault):
                    continue
                fault.remaining -= 1
                self.fault_log.append(
                    {
                        "kind": fault.kind,
                        "method": method,
                        "path": raw_path,
                        "status": fault.status if fault.kind == "status" else None,
                        "at": time.time(),
                    }
                )
                self._faults = [f for f in self._faults if f.remaining > 0]
                return fault
        return None

    def _count(self, key: str) -> None:
        with self._lock:
            self.requests[key] += 1

    def _record_status(self, status: int) -> None:
        with self._lock:
            self.statuses[status] += 1


# --------------------------------------------------------------------------- HTTP plumbing


class ThreadingServer(ThreadingHTTPServer):
    """One daemon thread per connection; a deep backlog for connectors that fan out."""

    daemon_threads = True
    request_queue_size = 128


class TLSServer(ThreadingServer):
    """TLS negotiated in the connection's thread, not the acceptor; quiet about hang-ups."""

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        context: ssl.SSLContext,
    ) -> None:
        super().__init__(address, handler)
        self.context = context

    def finish_request(self, request: Any, client_address: Any) -> None:
        request.settimeout(30)
        try:
            tls = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        try:
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            with contextlib.suppress(OSError):
                tls.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet: a client hanging up mid-answer is normal for fault tests."""


def make_handler(sandbox: HttpSandbox[Any]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = sandbox.server_version
        timeout = 60

        def setup(self) -> None:
            super().setup()
            # Headers and body go out in separate writes: without NODELAY, Nagle and the
            # client's delayed ACK add ~40 ms to every keep-alive answer.
            with contextlib.suppress(OSError):
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with sandbox._lock:
                sandbox._connections.add(self.connection)

        def finish(self) -> None:
            try:
                super().finish()
            except (OSError, ssl.SSLError):
                pass
            finally:
                with sandbox._lock:
                    sandbox._connections.discard(self.connection)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: tests read counters, not logs."""

        def _serve(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            _, answer, fault = sandbox.handle(method, self.path, headers, body)
            if answer is None:
                self._reset()
                return
            payload = answer.payload()
            status = answer.status
            if fault is not None and fault.kind == "malformed":
                payload = payload[: max(1, len(payload) // 2)]
                status = 200
            sandbox._record_status(status)
            self.send_response(status)
            content_type = answer.content_type_for(status)
            if content_type is not None:
                self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.end_headers()
            if payload:
                self.wfile.write(payload)

        def _reset(self) -> None:
            """Close the connection with a TCP reset and no answer at all."""
            self.close_connection = True
            try:
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                self.connection.close()
            except OSError:
                pass

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def do_PUT(self) -> None:
            self._serve("PUT")

        def do_PATCH(self) -> None:
            self._serve("PATCH")

        def do_DELETE(self) -> None:
            self._serve("DELETE")

    return Handler
