"""Report writers: format an :class:`~audit.result.AuditResult`, never recompute it.

Rules compute (measured, target, status, evidence); these writers only choose how it looks.
One entry point, :func:`write_report`, serves the command line:

- ``table`` — rich tables on a terminal, plain aligned text elsewhere (cron mail);
- ``json`` — the docs/CONTRACTS.md contract, exact floats;
- ``csv`` — a folder of ``summary.csv``, ``reps.csv``, ``violations.csv``, ``pending.csv``
  (and ``trend.csv`` when the audit has a trend);
- ``html`` — one self-contained page with charts for the monthly review (to a file, or to
  the stream when no ``out`` is given);
- ``xlsx`` — one Excel workbook with the CSV folder's tables as typed sheets (to a file).

Files and folders are created owner-only: reports hold customer data.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from audit.report_formats import FORMATS, Format
from audit.reports.csv_report import write_csv_folder
from audit.reports.errors import ReportError
from audit.reports.files import private_text_file
from audit.reports.json_report import render_json, write_json
from audit.reports.table import render_plain, write_table
from audit.result import AuditResult

__all__ = [
    "FORMATS",
    "Format",
    "ReportError",
    "check_destination",
    "render_html",
    "render_json",
    "render_plain",
    "write_report",
]


def write_report(
    result: AuditResult,
    fmt: Format,
    out: Path | None = None,
    *,
    stream: TextIO | None = None,
    color: bool | None = None,
) -> list[Path]:
    """Write ``result`` as ``fmt`` to ``out`` (a file; a folder for csv) or to ``stream``.

    ``stream`` defaults to the *current* ``sys.stdout`` (looked up per call, so redirection
    and test capture work). ``color=None`` means colour only when writing to a terminal;
    files get plain text unless ``color=True``. Returns the paths written (empty for a
    stream). Raises :class:`ReportError` for a request that cannot be met, with the fix.
    """
    check_destination(fmt, out, stream=stream)
    if out is None:
        target = sys.stdout if stream is None else stream
        _write_text(result, fmt, target, color=_is_terminal(target) if color is None else color)
        return []
    if fmt == "csv":
        return write_csv_folder(result, Path(out))
    if fmt == "xlsx":
        from audit.reports.xlsx_report import write_xlsx  # openpyxl loads only when asked

        return [write_xlsx(result, Path(out))]
    path = Path(out)
    with private_text_file(path) as file:
        _write_text(result, fmt, file, color=bool(color))
    return [path]


def check_destination(fmt: str, out: Path | None, *, stream: TextIO | None = None) -> None:
    """Refuse a format/destination pair that cannot work, with the fix (:class:`ReportError`).

    The command line calls this before auditing, so a missing ``--out`` is said at once
    rather than after a long audit; :func:`write_report` calls it again for other callers.
    """
    if fmt not in FORMATS:
        raise ReportError(f"unknown report format {fmt!r}: use one of {', '.join(FORMATS)}")
    if out is not None:
        return
    if fmt == "csv":
        raise ReportError("--format csv writes a folder: pass --out DIR")
    if fmt == "xlsx":
        raise ReportError("--format xlsx writes a workbook file: pass --out report.xlsx")
    target = sys.stdout if stream is None else stream
    if fmt == "html" and _is_terminal(target):
        raise ReportError(
            "--format html writes a page to open in a browser: pass --out report.html"
        )


def _write_text(result: AuditResult, fmt: Format, stream: TextIO, *, color: bool) -> None:
    if fmt == "json":
        write_json(result, stream)
    elif fmt == "html":
        from audit.reports.html_report import write_html

        write_html(result, stream)
    else:
        write_table(result, stream, color=color)


def render_html(result: AuditResult) -> str:
    """The HTML report as text (its module, templates and Jinja2 load only when asked)."""
    from audit.reports.html_report import render_html as render

    return render(result)


def _is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())
