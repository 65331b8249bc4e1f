"""The commands ``demo`` and ``sandbox`` suggest next, written so they run as printed.

A suggestion a newcomer pastes must work from where they stand: the program is
``python run_audit.py`` in a checkout and ``sla-audit`` elsewhere, the example SLA file is
``config/sla.example.yaml`` only when that path is the packaged example, and every word is
quoted for the shell.
"""

from __future__ import annotations

import shlex
from importlib import resources
from pathlib import Path

EXAMPLE_SLA = Path("config") / "sla.example.yaml"


def example_sla_path() -> Path:
    """The example SLA file shipped with the package (``config/sla.example.yaml``)."""
    return Path(str(resources.files("config") / "sla.example.yaml"))


def example_sla_argument() -> str:
    """The example SLA's path as the user would type it here: relative in a checkout."""
    packaged = example_sla_path()
    try:
        if EXAMPLE_SLA.is_file() and EXAMPLE_SLA.samefile(packaged):
            return str(EXAMPLE_SLA)
    except OSError:
        pass
    return str(packaged)


def program() -> str:
    """``python run_audit.py`` where the script is at hand, else the installed entry point."""
    return "python run_audit.py" if Path("run_audit.py").is_file() else "sla-audit"


def command(*words: str) -> str:
    """One command line: the program, then ``words`` quoted for a POSIX shell."""
    return " ".join([program(), *(shlex.quote(word) for word in words)])


def export_line(name: str, value: str) -> str:
    """``export NAME=value``, the value quoted for a POSIX shell."""
    return f"export {name}={shlex.quote(value)}"
