"""``sandbox``: a newcomer pastes the printed exports and runs the printed commands for real.

The sandbox runs as its own process, as a user would start it in a first terminal; the
commands it suggests run as further processes with only its exports for credentials.
"""

from __future__ import annotations

import os
import select
import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.sandbox_command import ca_bundle
from tests.cli_helpers import run

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = str(ROOT / "run_audit.py")
READY = "Serving until Ctrl-C."
CRM_VARIABLES = ("HUBSPOT_", "SALESFORCE_", "SLA_AUDIT_")


def free_port_pair() -> int:
    """A port whose successor was free a moment ago too (Salesforce listens there)."""
    for _ in range(50):
        with socket.socket() as first:
            first.bind(("127.0.0.1", 0))
            port = first.getsockname()[1]
            if port >= 65534:
                continue
            with socket.socket() as second:
                try:
                    second.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
        return port
    raise RuntimeError("no two adjacent free ports")


def clean_env() -> dict[str, str]:
    """This environment without any CRM credentials or snapshot path; this checkout first."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(CRM_VARIABLES)}
    env["PYTHONPATH"] = str(ROOT)
    return env


def read_until_ready(child: subprocess.Popen[bytes], timeout: float = 60) -> str:
    """The sandbox's stdout up to the line that says it serves (it keeps running).

    Read from the descriptor itself: a buffered reader would swallow what ``select`` saw.
    """
    assert child.stdout is not None
    fd, data, deadline = child.stdout.fileno(), b"", time.monotonic() + timeout
    while READY.encode() not in data:
        if child.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"sandbox not ready (exit {child.poll()}): {data.decode()}")
        if select.select([fd], [], [], 0.5)[0]:
            data += os.read(fd, 65536)
    return data.decode()


def printed_commands(text: str) -> tuple[dict[str, str], list[list[str]]]:
    """The ``export`` lines as variables, and the suggested commands as argument lists."""
    exports, commands = {}, []
    for line in text.splitlines():
        words = shlex.split(line) if line.startswith(("export ", "sla-audit ")) else []
        if words[:1] == ["export"]:
            name, _, value = words[1].partition("=")
            exports[name] = value
        elif words[:1] == ["sla-audit"]:
            commands.append(words[1:])
    return exports, commands


def test_printed_exports_and_commands_sync_and_report_against_both_fake_crms(tmp_path):
    port = free_port_pair()
    sandbox = subprocess.Popen(
        [
            sys.executable,
            SCRIPT,
            "sandbox",
            "--source",
            "both",
            "--size",
            "100",
            "--port",
            f"{port}",
        ],
        cwd=tmp_path,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        text = read_until_ready(sandbox)
        exports, commands = printed_commands(text)
        assert exports["HUBSPOT_BASE_URL"] == f"http://127.0.0.1:{port}"
        assert exports["SALESFORCE_INSTANCE_URL"] == f"https://127.0.0.1:{port + 1}"
        assert exports["HUBSPOT_ACCESS_TOKEN"] == "sandbox-token"  # its own fake token
        assert exports["SLA_AUDIT_DB"] == str((tmp_path / "sla-sandbox/snapshot.db").resolve())
        assert [c[0] for c in commands] == ["sync", "status", "nightly", "audit"]
        env = {**clean_env(), **exports}
        done = {}
        for words in commands[:3]:  # sync, status, nightly: the trial the README shows
            done[words[0]] = subprocess.run(
                [sys.executable, SCRIPT, *words],
                cwd=tmp_path,
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
            )
        assert done["sync"].returncode == 0, done["sync"].stderr
        assert done["sync"].stdout.startswith("hubspot: ")
        assert "\nsalesforce: " in done["sync"].stdout  # over HTTPS, trusting the printed CA
        assert done["status"].returncode == 0, done["status"].stdout  # both fresh
        assert done["status"].stdout.count("last successful: ok at") == 2
        assert done["nightly"].returncode in (0, 1), done["nightly"].stderr  # pass or fail
        assert "hubspot ok" in done["nightly"].stdout
        assert "salesforce ok" in done["nightly"].stdout
        assert list((tmp_path / "sla-sandbox" / "reports").glob("*/report.json"))
    finally:
        sandbox.send_signal(signal.SIGTERM)
        out, err = sandbox.communicate(timeout=30)
    assert sandbox.returncode == 0
    assert (out, err) == (b"", b"")  # a quiet stop


def test_a_taken_port_is_one_line_naming_port(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, _, err = run(capsys, "sandbox", "--size", "50", "--port", str(port))
    assert code == 2
    assert f"port {port} is already in use" in err and "--port" in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "sla-sandbox").exists()  # nothing touched when it cannot serve


def test_ca_file_trusts_the_sandbox_then_what_the_shell_trusted(tmp_path, monkeypatch):
    sandbox_pem = tmp_path / "sandbox.pem"
    sandbox_pem.write_text("SANDBOX CA\n", encoding="ascii")
    earlier = tmp_path / "corporate.pem"
    earlier.write_text("CORPORATE CA\n", encoding="ascii")
    target = tmp_path / "ca.pem"
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(earlier))
    ca_bundle(str(sandbox_pem), target)
    assert target.read_text(encoding="ascii") == "SANDBOX CA\n\nCORPORATE CA\n"
    # Restarted in a shell that exported the file itself: certifi's bundle, not a loop.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(target))
    ca_bundle(str(sandbox_pem), target)
    text = target.read_text(encoding="utf-8")
    assert text.startswith("SANDBOX CA\n") and "CORPORATE" not in text
    assert text.count("BEGIN CERTIFICATE") > 10
