"""The JSON report: :meth:`AuditResult.to_dict`, the contract of DESIGN.md, as it is.

Floats are written as Python's shortest round-tripping repr, never rounded, so a figure in
the JSON is exactly the figure the audit computed and a later run can be compared to it.
Non-ASCII names stay readable (UTF-8, not ``\\u`` escapes).

Layout: the report's outer two levels are indented; each element below them (a rule, a
violation, a trend month) is one line. ``json.dumps(indent=2)`` of the whole report would
fall back to the pure-Python encoder, 3× slower on a large month (110k violations); one
line per element goes through the C encoder and reads (and greps) as well.
"""

from __future__ import annotations

import json
from typing import Any, TextIO

from audit.result import AuditResult

#: Containers this deep (the document is 0) are expanded one element per line.
EXPANDED_LEVELS = 2


def render_json(result: AuditResult) -> str:
    """The report as text, ending in a newline."""
    return _dumps(result.to_dict(), 0) + "\n"


def _dumps(value: Any, level: int) -> str:
    if level >= EXPANDED_LEVELS or not isinstance(value, dict | list) or not value:
        return json.dumps(value, ensure_ascii=False)
    inner = "\n" + "  " * (level + 1)
    if isinstance(value, dict):
        items = [_key(key) + ": " + _dumps(item, level + 1) for key, item in value.items()]
        opening, closing = "{", "}"
    else:
        items = [_dumps(item, level + 1) for item in value]
        opening, closing = "[", "]"
    return opening + inner + ("," + inner).join(items) + "\n" + "  " * level + closing


def write_json(result: AuditResult, stream: TextIO) -> None:
    """Write the report to an open text stream."""
    stream.write(render_json(result))


def _key(key: Any) -> str:
    """A member name as ``json.dumps`` writes it (a number or ``None`` key included)."""
    if isinstance(key, str):
        return json.dumps(key, ensure_ascii=False)
    return json.dumps({key: None}, ensure_ascii=False)[1 : -len(": null}")]
