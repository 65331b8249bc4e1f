"""The HTML report in a real browser: headless Chromium renders it, we read what it shows.

Why a browser and not only an HTML parser: a Content-Security-Policy that blocks our own
sort script, an SVG the browser refuses, or an escaped name that still runs only show up
when a browser loads the page. Chromium's log (``--enable-logging=stderr``) carries every
console message as a ``CONSOLE`` line, uncaught errors and CSP refusals included; the
rendered DOM (``--dump-dom``) is what the reader sees.

Chromium is Debian's ``chromium`` package; ``.ci/run`` installs it. Without it these tests
skip with the reason, except in CI (``CI`` set), where a missing browser is a failure.
``SLA_AUDIT_SAVE_SCREENSHOT=1`` also writes the screenshot to ``docs/screenshots/report.png``.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from audit.reports import write_report
from audit.result import AuditResult
from tests.test_html_report import audit, build_crm
from tests.test_reports import SCRIPT

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOT = ROOT / "docs" / "screenshots" / "report.png"
DEMO = ROOT / "app" / "demo.py"
WINDOW = (1600, 1200)
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


def screenshot(page: Path, tmp: Path, png: Path) -> Rendered:
    width, height = WINDOW
    return run_chromium(
        page, tmp / "profile-shot", f"--screenshot={png}", f"--window-size={width},{height}"
    )


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
    if os.environ.get("SLA_AUDIT_SAVE_SCREENSHOT") == "1":
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(png, SCREENSHOT)
