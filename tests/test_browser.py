"""What a person looks at, in a real browser: the simulation report and the sequence of operations.

Both HTML pages are opened in headless Chromium at the width of a laptop screen (1,400 px). A
script added to a copy of each page measures the layout the browser made, and the test reads
the measurements back from the page (`--dump-dom`): no table wider than the column it sits in
(its last columns would be cut off or scrolled out of sight), no cell whose content spills out
of it, every column of sentences at least a readable width, every image drawn and inside the
page. A screenshot of each page is taken as well (`--screenshot`), for a person to look at.

Chromium is found as `chromium`, `chromium-browser` or `google-chrome`; without it the tests
are skipped with a reason, and under CI=true they fail (`.ci/run` installs it).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from hpdsl import cli

RULES = Path(__file__).resolve().parent.parent / "rules"
WIDTH = 1400  # px: a laptop screen
PROSE_MIN_PX = 150  # px: a column of sentences narrower than this reads a few words a line

# Runs in the page after it is laid out; writes what it measured into <body data-layout="...">.
MEASURE = """
<script>
(function () {
  const PROSE_MIN_PX = @PROSE@;
  const problems = [];
  const where = (node) => {  // the heading above a table, to say which one
    for (let at = node.parentElement; at; at = at.previousElementSibling) {
      if (/^H[1-6]$/.test(at.tagName)) return '"' + at.textContent.trim() + '"';
    }
    return node.tagName;
  };
  for (const table of document.querySelectorAll('table')) {
    const box = table.parentElement.getBoundingClientRect();
    const outer = table.closest('main') || document.body;
    const limit = Math.min(box.right, outer.getBoundingClientRect().right);
    const right = table.getBoundingClientRect().right;
    if (right > limit + 1) {
      problems.push('table under ' + where(table) + ' is ' + Math.round(right - limit) +
                    ' px wider than the page column it sits in');
    }
    for (const cell of table.querySelectorAll('td, th')) {
      if (cell.scrollWidth > cell.clientWidth + 1) {
        problems.push('cell "' + cell.textContent.trim().slice(0, 40) + '" spills out of its column');
      }
      if (cell.classList.contains('prose') && cell.clientWidth < PROSE_MIN_PX) {
        problems.push('column of sentences only ' + cell.clientWidth + ' px wide: "' +
                      cell.textContent.trim().slice(0, 40) + '"');
      }
    }
  }
  for (const image of document.querySelectorAll('img')) {
    if (!image.complete || image.naturalWidth === 0) {
      problems.push('image not drawn: ' + (image.alt || image.src.slice(0, 40)));
    }
    if (image.getBoundingClientRect().right > document.documentElement.clientWidth + 1) {
      problems.push('image cut off at the right: ' + image.alt);
    }
  }
  if (document.documentElement.scrollWidth > document.documentElement.clientWidth + 1) {
    problems.push('the page scrolls sideways: ' + document.documentElement.scrollWidth + ' px');
  }
  document.body.setAttribute('data-layout', JSON.stringify({
    problems: problems,
    tables: document.querySelectorAll('table').length,
    images: document.querySelectorAll('img').length,
    prose: document.querySelectorAll('td.prose').length,
  }));
})();
</script>
""".replace("@PROSE@", str(PROSE_MIN_PX))


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    if os.environ.get("CI") == "true":
        pytest.fail("no Chromium on PATH: .ci/run installs Debian's chromium package")
    pytest.skip("no Chromium on PATH (install Debian's chromium package to run the browser tests)")


def _browse(page: Path, *extra: str, profile: Path) -> subprocess.CompletedProcess[str]:
    command = [
        _chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        f"--window-size={WIDTH},1000",
        *extra,
        page.resolve().as_uri(),
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def measure(page: Path, tmp_path: Path) -> dict[str, object]:
    """The layout Chromium made of `page`, measured by MEASURE in a copy of it."""
    probe = tmp_path / f"measured-{page.name}"
    text = page.read_text(encoding="utf-8")
    assert "</body>" in text
    probe.write_text(text.replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    done = _browse(probe, "--dump-dom", profile=tmp_path / "profile-dom")
    assert done.returncode == 0, done.stderr[-2000:]
    found = re.search(r'<body[^>]*data-layout="([^"]*)"', done.stdout)
    assert found is not None, "the page's script did not run: " + done.stdout[:500]
    import html

    result: dict[str, object] = json.loads(html.unescape(found.group(1)))
    return result


def screenshot(page: Path, tmp_path: Path, height: int) -> Path:
    shot = tmp_path / f"{page.stem}.png"
    done = _browse(
        page,
        f"--screenshot={shot}",
        f"--window-size={WIDTH},{height}",
        profile=tmp_path / "profile-shot",
    )
    assert done.returncode == 0 and shot.exists(), done.stderr[-2000:]
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 20_000  # a drawn page, not a blank one
    keep = os.environ.get("HPDSL_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / shot.name)
    return shot


@pytest.mark.heavy
def test_the_sequence_of_operations_fits_the_screen(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["doc", str(RULES), "-o", str(tmp_path / "site")]) == 0
    capsys.readouterr()
    page = tmp_path / "site" / "rules.html"
    layout = measure(page, tmp_path)
    assert layout["problems"] == []
    assert int(str(layout["tables"])) > 20 and int(str(layout["prose"])) > 50
    screenshot(page, tmp_path, 3000)


@pytest.mark.heavy
def test_the_simulation_report_fits_the_screen(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    arguments = ["simulate", str(RULES), "-o", str(out), "--days", "2", "--start", "2024-01-08"]
    assert cli.main([*arguments, "--trend-format", "none", "-q"]) == 0
    capsys.readouterr()
    page = out / "report.html"
    layout = measure(page, tmp_path)
    assert layout["problems"] == []
    assert layout["images"] == 3 and int(str(layout["tables"])) >= 3
    screenshot(page, tmp_path, 2400)


def test_a_table_too_wide_for_its_column_is_seen(tmp_path: Path) -> None:
    """The measurement can fail: a table of long unbreakable cells in a narrow page is reported."""
    page = tmp_path / "wide.html"
    cells = "".join(f"<td>{'x' * 80}</td>" for _ in range(6))
    sentence = "the column of sentences squeezed to the width of its longest word " * 3
    page.write_text(
        "<!DOCTYPE html><html><body><main style='width: 600px'><div style='overflow-x: auto'>"
        f"<table><tr>{cells}<td class='prose'>{sentence}</td></tr></table></div></main></body></html>",
        encoding="utf-8",
    )
    problems = [str(p) for p in measure(page, tmp_path)["problems"]]  # type: ignore[attr-defined]
    assert any("wider than the page column" in p for p in problems), problems
    assert any("column of sentences only" in p for p in problems), problems
