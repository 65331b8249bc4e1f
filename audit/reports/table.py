"""The table report: what a person reads in a terminal or a cron mail.

The sections are built once as plain data (:class:`Grid`) and drawn two ways:

- on a terminal (or ``color=True``), as rich tables with coloured statuses;
- otherwise as plain text: no ANSI codes, no box characters, columns padded to their
  widest cell so a cron mail lines up in any monospace font and diffs cleanly night to
  night.

Shares show as percentages with one decimal, counts as integers, a missing value as "—";
instants in the SLA's time zone with their offset, durations as "2 h 12 min (business)".
Every CRM-supplied string is passed through :func:`display.clean` and drawn as rich
``Text`` (never markup), so a lead called ``[red]x`` or one holding an escape character
cannot restyle the report.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.style import Style
from rich.table import Table
from rich.text import Text

from audit.names import lead_words, rep_words
from audit.reports import attribution, display, words
from audit.reports.grid import Cell, Grid, status_cell, title
from audit.reports.ordering import (
    reps_too_few,
    reps_worst_first,
    rules_with_violations,
    sort_violations,
    violation_total,
)
from audit.reports.rep_figures import counts_and_interval, too_few_title
from audit.reports.rule_facts import rep_unit, rule_unit
from audit.reports.teams import groups_worst_first, team_of_rep
from audit.result import AuditResult, RepRow, TeamRow, Violation
from audit.wording import local_instant

TOP_VIOLATIONS = 20
NO_DATA = display.status_word("no_data")
DETAILS_LIMIT = 100
COLUMN_GAP = "  "


def header_cells(result: AuditResult) -> list[Cell]:
    """The header line: which SLA, which month (and how much of it the data covers), as of
    when in the SLA's time zone, and the verdict."""
    coverage = words.coverage_note(result)
    return [
        Cell("SLA ", "bold"),
        Cell(display.clean(result.sla), "bold"),
        Cell(f" · period {display.clean(result.period)}"),
        *([Cell(f" ({coverage})", "yellow")] if coverage else []),
        Cell(f" · as of {local_instant(result.as_of, result.timezone)}"),
        *([Cell(f" ({display.clean(result.timezone)})")] if result.timezone else []),
        Cell(" · status "),
        status_cell(result.status),
    ]


def top_lines(result: AuditResult) -> list[Cell]:
    """What a reader must see before any figure: a month still running is provisional."""
    banner = words.provisional_banner(result)
    return [Cell(banner, "bold yellow")] if banner else []


def rules_grid(result: AuditResult) -> Grid:
    """One row per rule with its verdict and figures."""
    grid = Grid(
        "Rules",
        ("rule", "status", "measured", "target", "judged", "pending", "details"),
        numeric=frozenset({2, 3, 4, 5}),
        nowrap=frozenset({1, 2, 3, 4, 5}),
    )
    for rule in result.rules:
        unit = rule_unit(rule.id)
        grid.rows.append(
            (
                Cell(title(rule.id)),
                status_cell(rule.status),
                Cell(display.measure(rule.measured, unit)),
                Cell(display.measure(rule.target, unit)),
                Cell(str(rule.judged)),
                Cell(str(rule.pending)),
                Cell(display.details(rule.details, limit=DETAILS_LIMIT)),
            )
        )
    return grid


def reps_grid(result: AuditResult) -> Grid:
    """Reps as rows, worst first; one column per rule that reports reps.

    With teams in the SLA, a ``team`` column follows the rep ("(no team)" for a rep in
    none; empty for ``unassigned``). Reps with too few judged handoffs are not here:
    :func:`too_few_grid`.
    """
    return _rep_grid(result, "Reps (worst first)", reps_worst_first(result.reps))


def too_few_grid(result: AuditResult) -> Grid | None:
    """The reps too few handoffs to rank, by name, with the same columns; None when none."""
    reps = reps_too_few(result.reps)
    if not reps:
        return None
    return _rep_grid(result, too_few_title(result.rep_min_judged), reps)


def _rep_grid(result: AuditResult, heading: str, reps: list[tuple[str, list[RepRow]]]) -> Grid:
    rule_ids = [rule.id for rule in result.rules if rule.reps]
    teams = team_of_rep(result.teams) if result.teams else None
    lead = ("rep", "team") if teams is not None else ("rep",)
    first = len(lead)
    grid = Grid(
        heading,
        (*lead, "rules with violations", "violations", *(title(r) for r in rule_ids)),
        numeric=frozenset(range(first, len(rule_ids) + first + 2)),
        nowrap=frozenset(range(first)),
    )
    for rep, rep_rows in reps:
        rows = {r.rule: r for r in rep_rows}
        total = violation_total(rep_rows)
        team = [] if teams is None else [Cell(display.clean(teams.get(rep, "")))]
        name = next((r.rep_name for r in rep_rows if r.rep_name), None)
        grid.rows.append(
            (
                Cell(display.clean(rep_words(rep, name))),
                *team,
                Cell(str(rules_with_violations(rep_rows))),
                Cell(str(total), "red" if total else ""),
                *(rep_cell(rows.get(rule_id), rule_id) for rule_id in rule_ids),
            )
        )
    return grid


def teams_grid(result: AuditResult) -> Grid:
    """Teams as rows, worst first, then each rep in no team, then ``unassigned``.

    Each rule's figure is the team's own (pooled over its reps' handoffs; for MQLs per rep,
    the share of its reps in range), so the column's unit is the rule's.
    """
    rule_ids = list(dict.fromkeys(row.rule for row in result.teams))
    grid = Grid(
        "Teams (worst first)",
        ("team", "manager", "reps", "rules with violations", "violations", *map(title, rule_ids)),
        numeric=frozenset(range(2, len(rule_ids) + 5)),
        nowrap=frozenset({0, 1}),
    )
    for group in groups_worst_first(result.teams):
        rows = group.by_rule()
        grid.rows.append(
            (
                Cell(display.clean(group.label)),
                Cell(display.clean(group.manager) if group.manager else display.MISSING),
                Cell(str(len(group.reps)) if group.team is not None else ""),
                Cell(str(group.rules_with_violations)),
                Cell(str(group.violations), "red" if group.violations else ""),
                *(team_cell(rows.get(rule_id), rule_id) for rule_id in rule_ids),
            )
        )
    return grid


def team_cell(row: TeamRow | None, rule_id: str) -> Cell:
    """A team's figure for a rule in the rule's unit; "no data" when nothing was judged."""
    if row is None:
        return Cell("")
    if row.measured is None and row.judged == 0:
        return Cell(NO_DATA, "dim")
    return Cell(display.measure(row.measured, rule_unit(rule_id)), "red" if row.violations else "")


def rep_cell(row: RepRow | None, rule_id: str) -> Cell:
    """A rep's figure for a rule, a share with its counts and 95 % interval ("75.0% (3/4,
    30–95%)"); blank when the rule has no row for that rep."""
    if row is None:
        return Cell("")
    text = display.measure(row.measured, rep_unit(rule_id))
    evidence = counts_and_interval(row)
    if evidence:
        text += f" ({evidence})"
    return Cell(text, "red" if row.violations else "")


def violations_grid(result: AuditResult, *, inline_links: bool = False) -> Grid:
    """The first violations in the CSV's order (worst rep first), with what is left out.

    Plain text prints each CRM link in its own column (a mail client makes it clickable).
    On a terminal (``inline_links``) the lead id itself is the link: a URL column would
    take half of an 80-column screen.
    """
    violations = sort_violations(result.violations)
    shown = violations[:TOP_VIOLATIONS]
    headers: tuple[str, ...] = ("rule", "rep", "lead", "handoff at", "reason")
    attributed = attribution.any_attributed(violations)
    if attributed:
        headers = (*headers, attribution.HEADER.lower())
    grid = Grid(
        f"Violations ({len(violations)}), worst rep first",
        headers if inline_links else (*headers, "link"),
        nowrap=frozenset({1, 2, 3}),
        footer=rest_words(violations, len(shown)),
    )
    for v in shown:
        link = display.clean(v.url) if v.url else ""
        cells = [
            Cell(title(v.rule)),
            Cell(display.clean(rep_words(v.rep, v.rep_name))),
            Cell(
                display.clean(lead_words(v.lead_name, v.company, v.email, v.crm_id)),
                Style(link=link) if inline_links and link else "",
            ),
            Cell(local_instant(v.handoff_at, result.timezone)),
            Cell(display.clean(v.reason)),
        ]
        if attributed:
            cells.append(Cell(v.attributed_to))
        if not inline_links:
            cells.append(Cell(link or display.MISSING))
        grid.rows.append(cells)
    return grid


def rest_words(violations: list[Violation], shown: int) -> str | None:
    """``… and 10 more violations from 3 reps (of 5); all 30 in violations.csv``, or None."""
    more = len(violations) - shown
    if more <= 0:
        return None
    reps = len({v.rep for v in violations[shown:]})
    total_reps = len({v.rep for v in violations})
    noun = "violation" if more == 1 else "violations"
    rep_noun = "rep" if reps == 1 else "reps"
    return (
        f"… and {more} more {noun} from {reps} {rep_noun} (of {total_reps}); all "
        f"{len(violations)} are in violations.csv (--format csv)"
    )


def notes_lines(result: AuditResult) -> list[str]:
    """Data notes, plus a pointer to pending handoffs (listed in pending.csv)."""
    lines = [display.clean(note) for note in result.data_notes]
    pending = len(result.pending)
    if pending:
        noun = "handoff" if pending == 1 else "handoffs"
        lines.append(
            f"{pending} {noun} pending: outcome not known as of "
            f"{local_instant(result.as_of, result.timezone)}"
            "; listed in pending.csv (--format csv)"
        )
    return lines


def grids(result: AuditResult, *, inline_links: bool = False) -> list[Grid]:
    """The tabular sections in reading order."""
    from audit.reports.speed_outcome_text import speed_outcome_grids  # it builds on Grid

    teams = [teams_grid(result)] if result.teams else []
    ranked, too_few = reps_grid(result), too_few_grid(result)
    if too_few is not None:
        ranked.empty = "none with enough judged handoffs to rank"
    return [
        rules_grid(result),
        *teams,
        ranked,
        *([too_few] if too_few is not None else []),
        *speed_outcome_grids(result),
        violations_grid(result, inline_links=inline_links),
    ]


# --- plain text -------------------------------------------------------------------------


def render_plain(result: AuditResult) -> str:
    """The whole report as plain text (no ANSI, stable columns), ending in a newline."""
    header = "".join(c.text for c in header_cells(result))
    blocks = ["\n".join([*(c.text for c in top_lines(result)), header])]
    blocks += [plain_grid(grid) for grid in grids(result)]
    notes = notes_lines(result)
    if notes:
        blocks.append("\n".join(["Data notes", *(f"- {line}" for line in notes)]))
    return "\n\n".join(blocks) + "\n"


def plain_grid(grid: Grid) -> str:
    """A titled, padded text table; numeric columns right-aligned."""
    if not grid.rows:
        return f"{grid.title}\n{grid.empty}"
    texts = [list(grid.headers), *([c.text for c in row] for row in grid.rows)]
    widths = [max(cell_len(line[i]) for line in texts) for i in range(len(grid.headers))]
    rule_line = ["-" * w for w in widths]
    lines = [grid.title, plain_row(texts[0], widths, grid.numeric), plain_row(rule_line, widths)]
    lines += [plain_row(line, widths, grid.numeric) for line in texts[1:]]
    if grid.footer:
        lines.append(grid.footer)
    return "\n".join(lines)


def plain_row(
    cells: Sequence[str], widths: Sequence[int], numeric: frozenset[int] = frozenset()
) -> str:
    """Cells padded to their column widths, trailing blanks trimmed.

    Widths are terminal cells, not characters: a CJK name takes two cells per character
    and would otherwise push every later column out of line.
    """
    padded = []
    for i, (text, width) in enumerate(zip(cells, widths, strict=True)):
        fill = " " * (width - cell_len(text))
        padded.append(fill + text if i in numeric else text + fill)
    return COLUMN_GAP.join(padded).rstrip()


# --- rich -------------------------------------------------------------------------------


def print_rich(result: AuditResult, console: Console) -> None:
    """The whole report as rich tables on ``console``."""
    for line in top_lines(result):
        console.print(Text(line.text, style=line.style))
    console.print(Text.assemble(*((c.text, c.style) for c in header_cells(result))))
    for grid in grids(result, inline_links=True):
        console.print()
        console.print(rich_grid(grid))
        if grid.footer:
            console.print(Text(grid.footer, style="dim"))
    notes = notes_lines(result)
    if notes:
        console.print()
        console.print(Text("Data notes", style="bold"))
        for line in notes:
            console.print(Text(f"- {line}"))


def rich_grid(grid: Grid) -> Table | Text:
    """A rich table for one grid (a dim "none" line when it has no rows)."""
    if not grid.rows:
        return Text.assemble((grid.title, "bold"), ("\n" + grid.empty, "dim"))
    table = Table(
        title=grid.title,
        title_justify="left",
        title_style="bold",
        header_style="bold",
        box=box.SIMPLE_HEAD,
    )
    for i, header in enumerate(grid.headers):
        table.add_column(
            header,
            justify="right" if i in grid.numeric else "left",
            no_wrap=i in grid.nowrap,
        )
    for row in grid.rows:
        table.add_row(*(Text(c.text, style=c.style) for c in row))
    return table


def write_table(result: AuditResult, stream: TextIO, *, color: bool) -> None:
    """Write the table report: rich when ``color``, plain text otherwise."""
    if not color:
        stream.write(render_plain(result))
        return
    console = Console(file=stream, force_terminal=True, highlight=False, emoji=False)
    print_rich(result, console)
