"""``inspect --write-sla F``: a starter SLA file whose funnel is the portal's own values.

A RevOps lead should edit an SLA file, not write one: the funnel is mapped from the values
the CRM itself lists (each with its label in a comment, so a renamed value is still
recognisable), and everything else is ``config/sla.example.yaml`` word for word, comments
included — the example's funnel block replaced by this source's, and the recycle reasons
narrowed to this source's recycling statuses.

Values are recognised by their internal value *or* label (``marketingqualifiedlead``,
"MQL - Marketing Qualified"); hidden and inactive values are left out. A portal where no
value reads like an MQL gets no file: the one stage the audit cannot do without would be a
guess.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

from app.cli_errors import UserError
from connectors.core.metadata import Choice, PortalMetadata

EXAMPLE = Path(__file__).resolve().parent.parent / "config" / "sla.example.yaml"

MQL = re.compile(r"marketing.?qualified|\bmql\b", re.IGNORECASE)
SQL = re.compile(r"sales.?qualified|\bsql\b", re.IGNORECASE)
OPPORTUNITY = re.compile(r"opportunit", re.IGNORECASE)
CUSTOMER = re.compile(r"\bcustomer", re.IGNORECASE)
RECYCLED = re.compile(
    r"unqualif|disqualif|not.?qualif|bad.?timing|recycl|nurtur|not.?converted", re.IGNORECASE
)

SALESFORCE_CUSTOMER = (
    "    # The connector records a won opportunity of a converted lead as its stage\n"
    "    # (the opportunity's StageName) at the close: use your org's won stage.\n"
    '    customer:    {stage: ["Closed Won"]}\n'
)
"""Salesforce leads have no customer status; the example's won-opportunity line is kept."""


def reading(choices: Sequence[Choice], pattern: re.Pattern[str]) -> list[Choice]:
    """The offered values whose internal value or label matches ``pattern``."""
    return [
        c for c in choices if not c.hidden and (pattern.search(c.value) or pattern.search(c.label))
    ]


def funnel_mapping(meta: PortalMetadata) -> dict[str, dict[str, list[Choice] | bool]]:
    """Canonical stage → field → the portal's values (``converted: True`` for Salesforce)."""
    mapping: dict[str, dict[str, list[Choice] | bool]] = {}
    stages, statuses = meta.stages, meta.statuses
    mql = reading(stages, MQL)
    mapping["mql"] = {"stage": mql} if mql else {"status": reading(statuses, MQL)}
    if meta.source == "salesforce":
        sql = reading(statuses, SQL) + [c for c in statuses if c.converted and not c.hidden]
        mapping["sql"] = {"status": list(dict.fromkeys(sql)), "converted": True}
    else:
        mapping["sql"] = {"stage": reading(stages, SQL)}
        mapping["opportunity"] = {"stage": reading(stages, OPPORTUNITY)}
        mapping["customer"] = {"stage": reading(stages, CUSTOMER)}
    mapping["recycled"] = {"status": reading(statuses, RECYCLED)}
    for stage in list(mapping):
        mapping[stage] = {k: v for k, v in mapping[stage].items() if v}
        if not mapping[stage]:
            del mapping[stage]
    if "mql" not in mapping:
        raise UserError(
            f"no lifecycle stage or lead status of this {meta.source} reads like an MQL "
            "(e.g. marketingqualifiedlead, 'Marketing Qualified'): no starter file written; "
            "write funnel.mql yourself from the values inspect lists"
        )
    return mapping


def funnel_block(meta: PortalMetadata) -> str:
    """The ``funnel:`` block for ``meta.source``: one value a line, its label in a comment."""
    lines = ["funnel:", f"  {meta.source}:"]
    for stage, fields in funnel_mapping(meta).items():
        lines.append(f"    {stage}:")
        for field, values in fields.items():
            if values is True:
                lines.append(f"      {field}: true   # the moment the lead was converted counts")
                continue
            lines.append(f"      {field}:")
            for choice in values if isinstance(values, list) else []:
                lines.append(f"        - {json.dumps(choice.value)}   # {_label_note(choice)}")
        if stage == "sql" and meta.source == "salesforce":
            lines.extend(SALESFORCE_CUSTOMER.rstrip("\n").split("\n"))
    return "\n".join(lines) + "\n"


def _label_note(choice: Choice) -> str:
    note = f"label: {choice.label}"
    return note + " (converted)" if choice.converted else note


def recycle_reasons(meta: PortalMetadata) -> list[str]:
    """The recycling statuses, which the example's ``reasons`` list names for both CRMs."""
    return [c.value for c in reading(meta.statuses, RECYCLED)]


def _top_level_block(lines: list[str], key: str) -> tuple[int, int] | None:
    """Where the top-level block ``key`` (its line and the indented ones after) lies."""
    start = next((n for n, line in enumerate(lines) if line.rstrip() == key), None)
    if start is None:
        return None
    end = start + 1
    while end < len(lines) and lines[end].startswith((" ", "\t")):
        end += 1
    return start, end


def _commented_out(lines: list[str], key: str, why: str) -> list[str]:
    """The top-level block ``key`` turned into comments, with why.

    The example's teams name the demo's reps; a portal's own reps are in ``inspect``'s
    Owners list, and a starter must not audit a team of people the portal never had.
    """
    found = _top_level_block(lines, key)
    if found is None:
        return lines
    start, end = found
    block = [f"# {line}" if line.strip() else line for line in lines[start:end]]
    return [*lines[:start], f"# ({why})\n", *block, *lines[end:]]


def starter_text(meta: PortalMetadata, example: str, where: str) -> str:
    """The example SLA with this source's funnel and recycle reasons, and a header."""
    lines = example.splitlines(keepends=True)
    found = _top_level_block(lines, "funnel:")
    if found is None:
        raise UserError(f"{EXAMPLE} has no top-level 'funnel:' block to replace")
    lines[found[0] : found[1]] = [funnel_block(meta)]
    lines = _commented_out(lines, "teams:", "the example's teams are the demo's reps: name yours")
    lines = [line.replace("; both are shown here.", ".") for line in lines]
    reasons = recycle_reasons(meta)
    for n, line in enumerate(lines):
        if line.startswith("    reasons:"):
            lines[n] = (
                f"    reasons: {json.dumps(reasons, ensure_ascii=False)}\n" if reasons else ""
            )
    header = (
        f"# Starter SLA for the {meta.source} at {where}, written by\n"
        f"#     python run_audit.py inspect --source {meta.source} --write-sla FILE\n"
        "# The funnel below uses the CRM's own internal values (labels in the comments);\n"
        "# everything else is the example's: change the numbers to what was signed.\n#\n"
    )
    return header + "".join(lines)


def write_starter(path: Path, meta: PortalMetadata, where: str) -> None:
    """Write the starter file; an existing file is never replaced (one line, exit 2)."""
    if path.exists():
        raise UserError(f"{path} already exists: choose a new file name (inspect never overwrites)")
    text = starter_text(meta, EXAMPLE.read_text(encoding="utf-8"), where)
    try:
        with path.open("x", encoding="utf-8") as handle:
            handle.write(text)
    except FileExistsError:
        raise UserError(
            f"{path} already exists: choose a new file name (inspect never overwrites)"
        ) from None
    except OSError as exc:
        raise UserError(f"{path} could not be written ({exc.strerror}): check the folder") from None
