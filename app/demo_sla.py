"""The demo's SLA file: the example SLA, plus the sandbox CRM's routing rule and time off.

``config/sla.example.yaml`` stays generic: a ``time_off`` block names reps, and the audit
refuses a rep who is no owner of the snapshot, so an example naming the sandbox's reps would
fail on every other CRM (and in every starter file copied from it). The demo instead writes
``demo-sla.yaml`` next to its snapshot: the example word for word, then a short block that
judges routing and declares the days the generated reps were away
(:mod:`sandbox.absences`), read from the CRM the demo served — so it matches that CRM by
construction, ``--now`` and ``--seed`` included, and the ``audit`` the demo suggests uses
the same file.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from app.cli_errors import UserError
from audit.reports.files import private_text_file
from sandbox.absences import DayRange, time_off_yaml
from sandbox.generator import CRM

HEADER = "# Written by `run_audit.py demo`"
"""The first line of the file: a file at that path without it is someone else's."""
ROUTING = "routing: {within: 10m, target: 0.95}"
"""The demo's routing promise: an owner within 10 business minutes for 95 % of MQLs."""
ADDED_KEYS = ("routing", "time_off")


def demo_additions(crms: Sequence[CRM]) -> list[str]:
    """The block appended to the example: the routing rule, and each rep's days away."""
    plan: dict[int, list[DayRange]] = {}
    emails: dict[int, str] = {}
    for crm in crms:  # with ``both`` the two CRMs share reps and absences
        for key, ranges in crm.absences.items():
            plan[key] = sorted(set(plan.get(key, [])) | set(ranges))
            emails[key] = crm.rep(key).email
    lines = [
        "",
        "# ---- Added by the demo to the example above ----",
        "# Routing is judged: a new MQL should have an owner within 10 business minutes.",
        *([ROUTING]),
    ]
    if plan:
        lines.append("# The days the sandbox's reps were away (the generated CRM's time off).")
        lines += time_off_yaml(plan, emails)
    return lines


def demo_sla_text(example: str, crms: Sequence[CRM]) -> str:
    """The example SLA's text with :func:`demo_additions` after it."""
    for key in ADDED_KEYS:
        if re.search(rf"^{key}:", example, re.MULTILINE):
            raise RuntimeError(f"the example SLA already has {key}:; the demo would repeat it")
    intro = [HEADER + " from config/sla.example.yaml; rewritten at each run.", ""]
    return "\n".join([*intro, example.rstrip("\n"), *demo_additions(crms), ""])


def write_demo_sla(path: Path, example: Path, crms: Sequence[CRM]) -> Path:
    """Write the demo's SLA to ``path``; a file there the demo did not write is kept."""
    if path.exists() and not path.read_text(encoding="utf-8").startswith(HEADER):
        raise UserError(
            f"{path} was not written by the demo: the demo will not replace it; "
            "pass another folder with --out"
        )
    with private_text_file(path) as stream:  # owner-only, like the demo's reports
        stream.write(demo_sla_text(example.read_text(encoding="utf-8"), crms))
    return path
