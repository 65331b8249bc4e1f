"""The CSV report: a folder of four files that open cleanly in Excel and Google Sheets.

- ``summary.csv`` — one row per rule; every row repeats the SLA, period, as-of and overall
  status so a filtered or pasted row still says what it belongs to. ``unit`` says whether
  ``measured`` and ``target`` are a count or a share.
- ``reps.csv`` — one row per rep per rule.
- ``violations.csv`` — one row per violating handoff, by rep, then handoff time, then rule;
  the instants behind each violation follow as extra columns (one per instant name).
- ``pending.csv`` — handoffs not decidable yet as of the audit's as-of, in the same order.
- ``trend.csv`` — only with ``--trend N``: one row per month per rule, the earlier months
  (each audited as of its own end) oldest first, then the audited period itself, so a
  spreadsheet chart of a rule needs no second file.

Conventions a reader relies on:

- Shares are fractions 0–1 (0.82, not 82%), written exactly as computed; counts are whole
  numbers. Numbers are never quoted, so spreadsheets read them as numbers.
- Instants are the snapshot's UTC ISO-8601 text, unchanged.
- An empty cell means "no value" (None).
- UTF-8 with a byte-order mark (Excel otherwise guesses the legacy code page and mangles
  "João"), CRLF line endings (the csv module's default dialect).
- A text cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return is prefixed
  with ``'``: CRM values are typed by outsiders, and a lead named ``=HYPERLINK(…)`` must
  stay text instead of running as a formula (CSV injection).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from audit.reports.files import ensure_private_folder, private_text_file
from audit.reports.ordering import rule_rank, sort_pending, sort_rep_rows, sort_violations
from audit.reports.rule_facts import rule_title, rule_unit
from audit.result import AuditResult, Violation

ENCODING = "utf-8-sig"
FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")

RULE_FIGURE_COLUMNS = (
    "rule",
    "title",
    "status",
    "unit",
    "measured",
    "target",
    "judged",
    "pending",
)
"""A rule's figures, as both the summary and the trend list them."""
SUMMARY_COLUMNS = (
    "sla",
    "period",
    "as_of",
    "overall_status",
    *RULE_FIGURE_COLUMNS,
    "details",
)
REPS_COLUMNS = ("rep", "rule", "measured", "judged", "pending", "violations")
VIOLATION_COLUMNS = (
    "rule",
    "rep",
    "lead",
    "crm_id",
    "source",
    "kind",
    "handoff_at",
    "reason",
    "url",
)
PENDING_COLUMNS = ("rule", "rep", "lead", "crm_id", "handoff_at", "decided_by", "url")
TREND_COLUMNS = ("period", "as_of", *RULE_FIGURE_COLUMNS)

Row = Sequence[Any]


def spreadsheet_cell(value: Any) -> Any:
    """A value as a spreadsheet should see it.

    Real numbers stay numbers (so ``-0.5`` is written bare, not quoted or prefixed); text
    that a spreadsheet would run as a formula gets a leading ``'``; None becomes empty.
    Booleans are text ("true"/"false"): Excel would otherwise show Python's "True".
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def flatten_details(details: Mapping[str, Any], prefix: str = "") -> str:
    """Details as ``key=value`` pairs joined by "; " (nested maps as ``key.sub=value``).

    Numbers keep Python's exact repr, booleans are true/false, lists are JSON, None is
    ``key=`` (nothing). Empty for no details.
    """
    return "; ".join(_detail_pairs(details, prefix))


def _detail_pairs(details: Mapping[str, Any], prefix: str) -> Iterable[str]:
    for key, value in details.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            yield from _detail_pairs(value, f"{name}.")
        elif value is None:
            yield f"{name}="
        elif isinstance(value, bool):
            yield f"{name}={'true' if value else 'false'}"
        elif isinstance(value, list | tuple):
            yield f"{name}={json.dumps(value, ensure_ascii=False)}"
        else:
            yield f"{name}={value}"


def summary_rows(result: AuditResult) -> list[Row]:
    """One row per rule, in the audit's rule order."""
    head = (result.sla, result.period, result.as_of, result.status)
    return [
        (
            *head,
            rule.id,
            rule_title(rule.id) or rule.id,
            rule.status,
            rule_unit(rule.id),
            rule.measured,
            rule.target,
            rule.judged,
            rule.pending,
            flatten_details(rule.details),
        )
        for rule in result.rules
    ]


def rep_rows(result: AuditResult) -> list[Row]:
    """One row per rep per rule, by rep then rule."""
    return [
        (r.rep, r.rule, r.measured, r.judged, r.pending, r.violations)
        for r in sort_rep_rows(result.reps)
    ]


def instant_columns(violations: Iterable[Violation]) -> list[str]:
    """The instant names used by any violation, in first-seen order (a stable header)."""
    seen: dict[str, None] = {}
    for violation in violations:
        seen.update(dict.fromkeys(violation.instants))
    return list(seen)


def violation_header(instants: Sequence[str]) -> list[str]:
    """Fixed columns, then one per instant (prefixed ``instant.`` only on a name clash)."""
    return [
        *VIOLATION_COLUMNS,
        *(f"instant.{i}" if i in VIOLATION_COLUMNS else i for i in instants),
    ]


def violation_rows(violations: Sequence[Violation], instants: Sequence[str]) -> list[Row]:
    """One row per violation in reading order; a missing instant is an empty cell."""
    return [
        (
            v.rule,
            v.rep,
            v.lead,
            v.crm_id,
            v.source,
            v.kind,
            v.handoff_at,
            v.reason,
            v.url,
            *(v.instants.get(name) for name in instants),
        )
        for v in sort_violations(violations)
    ]


def pending_rows(result: AuditResult) -> list[Row]:
    """One row per pending handoff in reading order."""
    return [
        (p.rule, p.rep, p.lead, p.crm_id, p.handoff_at, p.decided_by, p.url)
        for p in sort_pending(result.pending)
    ]


def trend_rows(result: AuditResult) -> list[Row]:
    """Each trend month's rules (oldest first), then the audited period's, in rule order."""
    months: list[tuple[str, str, dict[str, dict[str, Any]]]] = [
        (month.period, month.as_of, month.rules) for month in result.trend
    ]
    months.append((result.period, result.as_of, {r.id: r.to_dict() for r in result.rules}))
    rows: list[Row] = []
    for period, as_of, rules in months:
        for rule_id in sorted(rules, key=rule_rank):
            got = rules[rule_id]
            rows.append(
                (
                    period,
                    as_of,
                    rule_id,
                    rule_title(rule_id) or rule_id,
                    got.get("status"),
                    rule_unit(rule_id),
                    got.get("measured"),
                    got.get("target"),
                    got.get("judged"),
                    got.get("pending"),
                )
            )
    return rows


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Row]) -> Path:
    """Write one CSV file (BOM, CRLF, neutralised cells, owner-only)."""
    with private_text_file(path, encoding=ENCODING, newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(header)
        writer.writerows([spreadsheet_cell(c) for c in row] for row in rows)
    return path


def write_csv_folder(result: AuditResult, folder: Path) -> list[Path]:
    """Write the CSV files into ``folder`` (created owner-only if missing).

    Four always; ``trend.csv`` as well when the result carries a trend.
    """
    ensure_private_folder(folder)
    violations = result.violations
    instants = instant_columns(violations)
    paths = [
        write_csv(folder / "summary.csv", SUMMARY_COLUMNS, summary_rows(result)),
        write_csv(folder / "reps.csv", REPS_COLUMNS, rep_rows(result)),
        write_csv(
            folder / "violations.csv",
            violation_header(instants),
            violation_rows(violations, instants),
        ),
        write_csv(folder / "pending.csv", PENDING_COLUMNS, pending_rows(result)),
    ]
    if result.trend:
        paths.append(write_csv(folder / "trend.csv", TREND_COLUMNS, trend_rows(result)))
    return paths
