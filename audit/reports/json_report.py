"""The JSON report: :meth:`AuditResult.to_dict`, the contract of DESIGN.md, as it is.

Floats are written as Python's shortest round-tripping repr, never rounded, so a figure in
the JSON is exactly the figure the audit computed and a later run can be compared to it.
Non-ASCII names stay readable (UTF-8, not ``\\u`` escapes).
"""

from __future__ import annotations

import json
from typing import TextIO

from audit.result import AuditResult


def render_json(result: AuditResult) -> str:
    """The report as text, ending in a newline."""
    return json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n"


def write_json(result: AuditResult, stream: TextIO) -> None:
    """Write the report to an open text stream."""
    stream.write(render_json(result))
