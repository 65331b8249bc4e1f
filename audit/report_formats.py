"""The report formats' names, apart from the writers.

The command line lists them in ``--format`` choices for every command it parses; reading
them from here keeps ``sync`` and ``watch`` from importing the report writers, and with
them the SLA model (about 0.4 s of pydantic model building), before they start.
"""

from __future__ import annotations

from typing import Literal, get_args

Format = Literal["table", "json", "csv", "html", "xlsx"]
FORMATS: tuple[str, ...] = get_args(Format)
