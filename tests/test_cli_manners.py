"""The command line's small manners: a closed pipe ends quietly, no HTML on a terminal."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli_errors import stdout_reader_gone
from app.commands import COMMANDS
from audit.reports import write_report
from audit.reports.errors import ReportError
from audit.result import AuditResult
from config.exit_codes import EXIT_CLOSED_PIPE, EXIT_ERROR
from tests.cli_helpers import run

ROOT = Path(__file__).resolve().parent.parent


def run_with_stdout_closed(*args: str) -> tuple[int, str]:
    """Run the CLI with its standard output's reader gone before it prints anything."""
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "run_audit.py"), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    err = process.stderr.read()
    return process.wait(timeout=60), err


def test_a_closed_pipe_ends_a_command_quietly():
    code, err = run_with_stdout_closed("check", "--sla", "config/sla.example.yaml")
    assert err == ""  # no "unexpected BrokenPipeError", no "Exception ignored"
    assert code == EXIT_CLOSED_PIPE == 141


@pytest.mark.parametrize("args", [("--help",), ("audit", "--help")])
def test_help_into_a_closed_pipe_says_nothing_either(args):
    code, err = run_with_stdout_closed(*args)
    assert err == ""
    assert code == 0


class Terminal(io.StringIO):
    """A stream that says it is a terminal, as sys.stdout does in an interactive shell."""

    def isatty(self) -> bool:
        return True


def empty_result() -> AuditResult:
    return AuditResult("SLA", "2026-10", "2026-11-01T03:00:00.000Z", "UTC", [])


def test_html_is_not_poured_onto_a_terminal():
    terminal = Terminal()
    with pytest.raises(ReportError, match=r"pass --out report\.html"):
        write_report(empty_result(), "html", None, stream=terminal)
    assert terminal.getvalue() == ""


def test_html_still_goes_to_a_redirected_stdout():
    redirected = io.StringIO()
    write_report(empty_result(), "html", None, stream=redirected)
    assert redirected.getvalue().lstrip().lower().startswith("<!doctype html>")


def test_a_broken_pipe_that_is_not_stdout_is_still_an_error(monkeypatch, capsys):
    # A CRM socket can raise BrokenPipeError too: that must not pass for a closed stdout.
    def lost_connection(args: object) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setitem(COMMANDS, "status", lost_connection)
    code, _, err = run(capsys, "status")
    assert code == EXIT_ERROR
    assert "unexpected BrokenPipeError" in err


def test_stdout_reader_gone_tells_a_closed_pipe_from_an_open_one(monkeypatch):
    read_end, write_end = os.pipe()
    with os.fdopen(write_end, "w") as stdout:
        monkeypatch.setattr(sys, "stdout", stdout)
        assert not stdout_reader_gone()  # someone still reads
        os.close(read_end)
        assert stdout_reader_gone()


def test_a_format_that_needs_out_is_refused_before_the_audit_runs(tmp_path, capsys):
    """csv/xlsx without --out: the fix at once, before the SLA file or snapshot are read."""
    from run_audit import main

    for fmt, fix in (("xlsx", "--out report.xlsx"), ("csv", "--out DIR")):
        code = main(
            [
                "audit",
                "--sla",
                str(tmp_path / "missing.yaml"),
                "--period",
                "2026-10",
                "--format",
                fmt,
            ]
        )
        err = capsys.readouterr().err
        assert code == 2
        assert fix in err and "missing.yaml" not in err
