"""The command line's small manners: a reader that goes away (``status | head``) ends it quietly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from config.exit_codes import EXIT_CLOSED_PIPE

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
