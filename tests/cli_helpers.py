"""Running the command line in-process, as the CLI tests do."""

from __future__ import annotations

import pytest

from run_audit import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``main(args)`` → (exit code, stdout, stderr); argparse's own exits become codes too."""
    try:
        code = main(list(args))
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err
