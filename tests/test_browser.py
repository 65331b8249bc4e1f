"""The HTML report in a real browser: headless Chromium renders it, we read what it shows.

Why a browser and not only an HTML parser: a Content-Security-Policy that blocks our own
sort script, an SVG the browser refuses, or an escaped name that still runs only show up
when a browser loads the page. Chromium's log (``--enable-logging=stderr``) carries every
console message as a ``CONSOLE`` line, uncaught errors and CSP refusals included; the
rendered DOM (``--dump-dom``) is what the reader sees.

Phone and paper (issue 16, item 7): the page is loaded in a 390 px frame and measured, and
printed to PDF (``--print-to-pdf``), whose pages are read back with pypdf.

Chromium is Debian's ``chromium`` package; ``.ci/run`` installs it. Without it these tests
skip with the reason, except in CI (``CI`` set), where a missing browser is a failure.
``SLA_AUDIT_SAVE_SCREENSHOT=1`` also writes the demo's screenshots (1600 and 390 px wide) and
its PDF to ``docs/screenshots/``.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pytest

from audit.reports import write_report
from audit.result import AuditResult
from audit.rules import RULE_TITLES
from tests.test_html_report import audit, build_crm
from tests.test_reports import SCRIPT

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "docs" / "screenshots"
SCREENSHOT = SHOTS / "report.png"
DEMO = ROOT / "app" / "demo.py"
WINDOW = (1600, 1200)
PHONE = (390, 2400)
A4_LANDSCAPE_PT = (842, 595)
TIMEOUT_S = 120


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no"}


CANDIDATES: tuple[str, ...] = ("/usr/bin/chromium",)


def chromium() -> str:
    """The Chromium binary, or a skip (a failure in CI) that says how to get it."""
    found = shutil.which("chromium") or next(
        (path for path in CANDIDATES if Path(path).exists()), None
    )
    if found:
        return found
    if in_ci():
        pytest.fail("Chromium is missing in CI: .ci/run must install the Debian package chromium")
    pytest.skip("Chromium is not installed (apt-get install chromium); CI runs these tests")


@dataclass
class Rendered:
    dom: str
    log: str

    def console(self) -> list[str]:
        """Console messages and uncaught errors from the page (not Chromium's own noise)."""
        return [line for line in self.log.splitlines() if ":CONSOLE" in line or "Uncaught" in line]


def run_chromium(page: Path, profile: Path, *extra: str) -> Rendered:
    """Load ``page`` in a fresh headless Chromium profile that talks to no network."""
    command = [
        chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        "--enable-logging=stderr",
        "--v=0",
        *extra,
        page.resolve().as_uri(),
    ]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=TIMEOUT_S, check=False, cwd=page.parent
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return Rendered(done.stdout, done.stderr)


def dump_dom(page: Path, tmp: Path, *extra: str) -> Rendered:
    return run_chromium(page, tmp / "profile-dom", "--dump-dom", *extra)


def screenshot(page: Path, tmp: Path, png: Path, window: tuple[int, int] = WINDOW) -> Rendered:
    width, height = window
    return run_chromium(
        page,
        tmp / "profile-shot",
        f"--screenshot={png}",
        f"--window-size={width},{height}",
        "--hide-scrollbars",
    )


def print_pdf(page: Path, tmp: Path, pdf: Path) -> Rendered:
    """The page as Chromium prints it: the page's own @page size, no header or footer."""
    return run_chromium(
        page, tmp / "profile-pdf", f"--print-to-pdf={pdf}", "--no-pdf-header-footer"
    )


def pdf_pages(pdf: Path) -> list[str]:
    """Each page's text, ligatures unfolded ("ﬁ" → "fi") and whitespace collapsed."""
    pypdf = pytest.importorskip("pypdf")
    reader = pypdf.PdfReader(pdf)
    return [
        " ".join(unicodedata.normalize("NFKC", page.extract_text()).split())
        for page in reader.pages
    ]


def pdf_page_size(pdf: Path) -> tuple[int, int]:
    pypdf = pytest.importorskip("pypdf")
    box = pypdf.PdfReader(pdf).pages[0].mediabox
    return round(float(box.width)), round(float(box.height))


def framed(page: Path, name: str, src: str, width: int, script: str) -> Rendered:
    """Load ``src`` in a same-origin frame ``width`` px wide; ``script`` writes into #out.

    The report's Content-Security-Policy runs only its own script, so measurements are
    taken from a wrapper page that frames it (``--allow-file-access-from-files`` lets a
    file:// page read a file:// frame).
    """
    wrapper = page.parent / name
    wrapper.write_text(
        f"""<!doctype html><html><body style="margin:0">
<iframe id="r" src="{src}" style="width:{width}px;height:900px;border:0"></iframe>
<pre id="out"></pre><script>
window.addEventListener("load", function () {{
  var doc = document.getElementById("r").contentDocument;
  var out = [];
{script}
  document.getElementById("out").textContent = out.join("\\n");
}});
</script></body></html>""",
        encoding="utf-8",
    )
    return dump_dom(wrapper, page.parent, "--allow-file-access-from-files", "--hide-scrollbars")


def out_lines(shown: Rendered) -> dict[str, str]:
    text = re.search(r'<pre id="out">(.*?)</pre>', shown.dom, re.S).group(1)
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", header[16:24])


def text_of(dom: str) -> str:
    """Visible text of a dumped DOM: tags dropped, the script and style left out."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", dom, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))


# --- the tiny CRM's report --------------------------------------------------------------


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> tuple[AuditResult, Path]:
    folder = tmp_path_factory.mktemp("browser")
    result = audit(build_crm(folder / "s.db"), trend=2)
    page = folder / "report.html"
    write_report(result, "html", page)
    return result, page


def test_report_renders_without_console_errors_and_shows_the_key_figures(report, tmp_path):
    result, page = report
    shown = dump_dom(page, tmp_path)
    seen = text_of(shown.dom)

    assert shown.console() == []
    assert "October 2026" in seen and result.status.upper() in seen
    assert "38 MQLs delivered" in seen and "40 needed this month" in seen
    speed = result.rule("speed_to_lead")
    assert f"{speed.measured * 100:.1f}%" in seen
    assert f"Violations ({len(result.violations)})" in seen
    assert "SLA 5m" in seen  # the histogram's SLA line label, drawn as SVG text
    assert shown.dom.count("<svg") >= 3 + len(result.rules)  # charts, bullets, sparklines


def test_screenshot_is_a_full_window_png(report, tmp_path):
    _, page = report
    png = tmp_path / "report.png"
    shown = screenshot(page, tmp_path, png)

    assert shown.console() == []
    assert png_size(png) == WINDOW
    assert png.stat().st_size > 50_000  # a blank page compresses to a few kilobytes
    if os.environ.get("SLA_AUDIT_SAVE_SCREENSHOT") == "1" and not DEMO.exists():
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(png, SCREENSHOT)


def test_rep_table_sorts_when_a_heading_is_clicked(report, tmp_path):
    # A wrapper page clicks the headings of the report (in a same-origin iframe, which
    # --allow-file-access-from-files permits for file:// pages) and writes the order out.
    _, page = report
    wrapper = page.parent / "click.html"
    wrapper.write_text(
        """<!doctype html><html><body><iframe id="r" src="report.html"></iframe><pre id="out">
</pre><script>
window.addEventListener("load", function () {
  var table = document.getElementById("r").contentDocument.getElementById("reps-table");
  var buttons = table.tHead.rows[0].querySelectorAll("button");
  function reps() {
    return Array.prototype.map.call(table.tBodies[0].rows, function (row) {
      return row.cells[0].textContent;
    }).join(",");
  }
  var out = ["initial=" + reps()];
  buttons[0].click(); out.push("rep-ascending=" + reps());
  buttons[0].click(); out.push("rep-descending=" + reps());
  out.push("aria=" + buttons[0].parentNode.getAttribute("aria-sort"));
  document.getElementById("out").textContent = out.join("\\n");
});
</script></body></html>""",
        encoding="utf-8",
    )
    shown = dump_dom(wrapper, tmp_path, "--allow-file-access-from-files")
    lines = dict(
        line.split("=", 1)
        for line in re.search(r'<pre id="out">(.*?)</pre>', shown.dom, re.S).group(1).split()
    )

    assert shown.console() == []
    reps = lines["initial"].split(",")
    assert lines["rep-ascending"].split(",") == sorted(reps)
    assert lines["rep-descending"].split(",") == sorted(reps, reverse=True)
    assert lines["aria"] == "descending"


# --- phone and paper (issue 16, item 7) --------------------------------------------------

PHONE_CHECK = """
  var width = doc.documentElement.clientWidth;
  out.push("client=" + width);
  out.push("scroll=" + doc.documentElement.scrollWidth);
  var loose = [];
  Array.prototype.forEach.call(doc.querySelectorAll("main *, header *"), function (el) {
    if (el.closest(".scroll")) return;  // a wide table scrolls inside its card
    var right = el.getBoundingClientRect().right;
    if (right > width + 0.5) loose.push(el.tagName + "." + el.className + ":" + Math.round(right));
  });
  out.push("overflowing=" + loose.slice(0, 5).join(" "));
  var bare = Array.prototype.filter.call(doc.querySelectorAll("table"), function (t) {
    return !t.closest(".scroll");
  });
  out.push("unwrapped-tables=" + bare.length);
  var svg = doc.querySelector("#speed-to-lead svg").getBoundingClientRect();
  out.push("chart-right=" + Math.round(svg.right));
"""


def test_page_fits_a_390_px_phone_with_wide_tables_scrolling_in_their_card(report, tmp_path):
    _, page = report
    shown = framed(page, "phone.html", "report.html", PHONE[0], PHONE_CHECK)
    got = out_lines(shown)

    assert shown.console() == []
    assert int(got["client"]) == PHONE[0]
    assert int(got["scroll"]) <= PHONE[0], got["overflowing"]  # no sideways page scroll
    assert got["overflowing"] == ""
    assert got["unwrapped-tables"] == "0"
    assert int(got["chart-right"]) <= PHONE[0]  # the charts scale down to the phone
    png = tmp_path / "phone.png"
    assert screenshot(page, tmp_path, png, PHONE).console() == []
    assert png_size(png) == PHONE


def test_rule_link_filters_the_violations_to_that_rule(report, tmp_path):
    result, page = report
    coverage = len(result.rule("coverage").violations)
    reps = len({v.rep for v in result.rule("coverage").violations})
    check = """
  var rows = doc.querySelectorAll("#violations tr[data-rule]");
  var shown = Array.prototype.filter.call(rows, function (r) { return r.offsetParent !== null; });
  out.push("shown=" + shown.map(function (r) { return r.getAttribute("data-rule"); }).join(","));
  out.push("status=" + doc.getElementById("filter-status").textContent);
"""
    got = out_lines(framed(page, "filter.html", "report.html#only-coverage", 1200, check))

    assert coverage and got["shown"].split(",") == ["coverage"] * coverage
    assert got["status"] == (
        f"Showing Coverage only: {coverage} rows from {reps} reps on this page. Show all"
    )


def test_printed_a4_landscape_has_verdict_and_every_rule_card_on_page_one(report, tmp_path):
    result, page = report
    pdf = tmp_path / "report.pdf"
    assert print_pdf(page, tmp_path, pdf).console() == []
    pages = pdf_pages(pdf)

    assert pdf_page_size(pdf) == A4_LANDSCAPE_PT
    first = pages[0]
    assert result.status.upper() in first and "The SLA arithmetic" in first
    assert "38 MQLs delivered 40 needed this month" in first
    for rule in result.rules:  # whole cards: title, figure and the counts line closing it
        assert RULE_TITLES[rule.id] in first, rule.id
        assert f"{rule.judged} judged · {rule.pending} pending" in first, rule.id
    heading = f"Violations ({len(result.violations)})"
    starts = [i for i, text in enumerate(pages) if heading in text]
    assert len(starts) == 1 and starts[0] >= 1 and pages[starts[0]].startswith(heading)
    for text in pages:  # interactive hints are not printed; collapsed rows are stated
        assert "Click a column heading" not in text and "Show: all" not in text
        assert not re.search(r"show all \d", text)
    assert re.search(r"\d+ more not printed: see the page or violations.csv", pages[starts[0]])


def test_hostile_crm_names_show_as_text_and_run_nothing(tmp_path):
    result = audit(build_crm(tmp_path / "s.db", hostile=True), trend=0)
    page = tmp_path / "hostile.html"
    write_report(result, "html", page)
    shown = dump_dom(page, tmp_path)

    assert shown.console() == []  # an injected script would run or be refused: both log
    assert shown.dom.count("<script>") == 1  # only ours
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in shown.dom
    assert SCRIPT in text_of(shown.dom).replace("&lt;", "<").replace("&gt;", ">")


def test_console_check_catches_a_script_error(tmp_path):
    # The assertion "no console errors" is only worth something if it can fail.
    page = tmp_path / "broken.html"
    page.write_text("<!doctype html><p>x</p><script>missingFunction();</script>")

    assert any("Uncaught ReferenceError" in line for line in dump_dom(page, tmp_path).console())


def test_missing_chromium_skips_locally_but_fails_in_ci(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setattr(sys.modules[__name__], "CANDIDATES", ())

    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install chromium"):
        chromium()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="missing in CI"):
        chromium()


# --- the demo's report -------------------------------------------------------


def test_demo_report_renders_in_chromium(tmp_path):
    chromium()
    out = tmp_path / "demo"
    done = subprocess.run(
        [sys.executable, str(ROOT / "run_audit.py"), "demo", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode in (0, 1), done.stderr[-2000:]  # pass or breach, not an error
    page = out / "report.html"
    assert page.exists(), f"the demo wrote no report.html into {out}"
    shown = dump_dom(page, tmp_path)
    seen = text_of(shown.dom)

    assert shown.console() == []
    for words in ("The SLA arithmetic", "Rules: measured vs target", "Funnel", "Speed to lead"):
        assert words in seen
    assert re.search(r"\b(PASS|WARN|FAIL|N/A)\b", seen)
    png = tmp_path / "demo.png"
    assert screenshot(page, tmp_path, png).console() == []
    assert png_size(png) == WINDOW
    phone = tmp_path / "demo-390.png"
    assert screenshot(page, tmp_path, phone, PHONE).console() == []
    pdf = tmp_path / "demo.pdf"
    assert print_pdf(page, tmp_path, pdf).console() == []
    pages = pdf_pages(pdf)
    assert "Rules: measured vs target" in pages[0] and "Violations (" not in pages[0]
    if os.environ.get("SLA_AUDIT_SAVE_SCREENSHOT") == "1":
        SHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(png, SCREENSHOT)
        shutil.copyfile(phone, SHOTS / "report-390.png")
        shutil.copyfile(pdf, SHOTS / "report-print.pdf")
