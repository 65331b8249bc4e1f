"""``run_audit.py sandbox``: serve the fake CRMs until Ctrl-C, so ``sync`` can be tried for real.

The demo runs everything in one go; the sandbox leaves the commands to the user. It
generates a CRM whose history runs up to the current hour (so ``nightly``'s month to date
has data), serves it on fixed ports of 127.0.0.1 and prints the ``export`` lines for a
second terminal and the commands to try there. Choices, each for the person pasting:

* **Exports that stay true.** The ports are fixed (``--port``, Salesforce on the next one)
  and the tokens are the sandbox's own fake ones, so lines pasted yesterday still work
  after a restart. A taken port is one line and exit 2, naming ``--port``.
* **Salesforce's TLS.** The fake Salesforce speaks HTTPS with a throwaway CA. Its
  certificate goes to ``sla-sandbox/ca.pem`` (the same path every run), followed by the CAs
  the shell trusted already, so ``REQUESTS_CA_BUNDLE`` pointing there breaks nothing else.
* **A snapshot of its own.** ``SLA_AUDIT_DB`` points at ``sla-sandbox/snapshot.db``, so a
  trial never writes into the user's real ``snapshot.db``; it is emptied at each start,
  because each start generates a new CRM (its history ends at a new hour) and two
  generated CRMs must not mix in one snapshot.
* **Quiet stop.** Ctrl-C or SIGTERM stops the servers and exits 0 with no output.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from app.demo import current_hour, latest_closed_month
from app.next_steps import command, example_sla_argument, example_sla_path, export_line
from app.sandbox_serving import ServedCRM, check_size, serve_crms
from audit.reports.files import ensure_private_folder
from config.exit_codes import EXIT_OK
from config.sla import load_sla

FOLDER = Path("sla-sandbox")
"""The trial's own files: the snapshot, the CA file, the nightly reports."""


def ca_bundle(sandbox_ca: str, target: Path) -> Path:
    """Write the sandbox's CA, then the CAs already trusted, to ``target``; return it.

    "Already trusted" is the file ``REQUESTS_CA_BUNDLE`` or ``SSL_CERT_FILE`` names (unless
    it is ``target`` itself, from an earlier run), else certifi's bundle.
    """
    import certifi

    trusted = [os.environ.get("REQUESTS_CA_BUNDLE"), os.environ.get("SSL_CERT_FILE")]
    earlier = next((Path(p) for p in trusted if p and Path(p).is_file()), None)
    if earlier is None or (target.exists() and earlier.resolve() == target.resolve()):
        earlier = Path(certifi.where())
    target.write_bytes(Path(sandbox_ca).read_bytes() + b"\n" + earlier.read_bytes())
    return target


def empty_snapshot(db: Path) -> None:
    """Remove the trial snapshot and its SQLite sidecars left by an earlier start."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)


def exports(served: Iterable[ServedCRM], folder: Path) -> list[tuple[str, str]]:
    """Every variable the second terminal needs, the fake tokens included (never a real one)."""
    variables: list[tuple[str, str]] = []
    for crm in served:
        variables += crm.env
        if crm.ca_path:
            bundle = ca_bundle(crm.ca_path, folder / "ca.pem")
            variables.append(("REQUESTS_CA_BUNDLE", str(bundle.resolve())))
    variables.append(("SLA_AUDIT_DB", str((folder / "snapshot.db").resolve())))
    return variables


def try_next(source: str, folder: Path, period: str) -> list[str]:
    """The commands to run in the second terminal once the exports are pasted."""
    sla = example_sla_argument()
    sync = command("sync") if source == "both" else command("sync", "--source", source)
    return [
        sync,
        command("status"),
        command("nightly", "--sla", sla, "--out-root", str(folder / "reports")),
        command("audit", "--sla", sla, "--period", period),
    ]


def describe(served: list[ServedCRM], variables: list[tuple[str, str]], steps: list[str]) -> str:
    """The text printed once the sandbox listens."""
    lines = []
    for crm in served:
        span = f"up to {crm.crm.end:%Y-%m-%d %H:%M} UTC"
        if crm.crm.start is not None:
            span = f"from {crm.crm.start:%Y-%m-%d} {span}"
        lines.append(
            f"sandbox: fake {crm.title} on {crm.origin}: {len(crm.crm.leads)} leads and "
            f"{len(crm.crm.activities)} activities, {span}"
        )
    lines += ["", "In a second terminal, in this folder, paste:", ""]
    lines += [export_line(name, value) for name, value in variables]
    lines += ["", "then try:", "", *steps, ""]
    lines.append(
        "The tokens are the sandbox's own fake ones. SLA_AUDIT_DB keeps the trial out of "
        "your snapshot.db; it starts empty at each start. Serving until Ctrl-C."
    )
    return "\n".join(lines)


@contextmanager
def stop_signals() -> Iterator[threading.Event]:
    """An event set by SIGINT (Ctrl-C) or SIGTERM; the previous handlers come back after.

    Installed before the exports are printed, so a stop sent as soon as they appear is
    still a quiet one.
    """
    stop = threading.Event()
    handled = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in handled}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run_sandbox(source: str, *, port: int, size: int, seed: int, folder: Path = FOLDER) -> int:
    """Serve the sandbox CRM(s) of ``source`` on ``port`` (and the next) until stopped."""
    check_size(source, size)
    end = current_hour()
    period = latest_closed_month(end, load_sla(example_sla_path())).label
    with serve_crms(source, size, seed, end, port=port) as served, stop_signals() as stop:
        # Only once the ports are ours: a second start by mistake leaves the first's files.
        ensure_private_folder(folder)
        empty_snapshot(folder / "snapshot.db")
        text = describe(served, exports(served, folder), try_next(source, folder, period))
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
        while not stop.wait(0.5):
            pass
    return EXIT_OK
