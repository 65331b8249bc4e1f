"""The command line's choices come from the registries, and a light command stays light."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

from audit.reports import FORMATS
from config.exit_codes import EXIT_ERROR, EXIT_FAIL, EXIT_OK
from config.sources import source_names as known_sources
from tests.cli_helpers import run

ROOT = Path(__file__).resolve().parent.parent


def _listed(names: Iterable[str]) -> str:
    """How argparse lists the choices in an ``invalid choice`` error."""
    return ", ".join(map(repr, names))


def test_exit_codes_are_the_design_contract():
    # docs/CONTRACTS.md: 0 pass or warn; 1 a rule fails (or status is stale); 2 bad input.
    assert (EXIT_OK, EXIT_FAIL, EXIT_ERROR) == (0, 1, 2)


def test_audit_format_choices_are_every_report_format(capsys):
    code, _, err = run(capsys, "audit", "--sla", "x.yaml", "--period", "2026-10", "--format", "x")
    assert code == EXIT_ERROR
    assert f"(choose from {_listed(FORMATS)})" in err


def test_sync_source_choices_are_every_registered_source(capsys):
    code, _, err = run(capsys, "sync", "--source", "nope")
    assert code == EXIT_ERROR
    assert f"(choose from {_listed(known_sources())})" in err


def test_demo_offers_both_sandboxes_besides_every_source(capsys):
    code, _, err = run(capsys, "demo", "--source", "nope")
    assert code == EXIT_ERROR
    assert f"(choose from {_listed([*known_sources(), 'both'])})" in err


def test_check_does_not_load_the_sync_engine():
    # The sources' choices come from config.sources, not from the engine that syncs them.
    probe = (
        "import sys, run_audit\n"
        "code = run_audit.main(['check', '--sla', 'config/sla.example.yaml'])\n"
        "loaded = [m for m in ('connectors.sync', 'connectors.core') if m in sys.modules]\n"
        "print(code, loaded, file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.stderr.strip().endswith("0 []"), done.stderr


def test_a_mistyped_command_gets_a_did_you_mean(capsys):
    code, _, err = run(capsys, "audti", "--sla", "x.yaml")
    assert code == EXIT_ERROR
    assert "invalid choice: 'audti'" in err
    assert "did you mean 'audit'?" in err
    assert len(err.strip().splitlines()) == 1


def test_a_mistyped_choice_gets_a_did_you_mean_and_a_far_one_none(capsys):
    _, _, err = run(capsys, "sync", "--source", "hubspto")
    assert "did you mean 'hubspot'?" in err
    _, _, err = run(capsys, "zzz")
    assert "did you mean" not in err
