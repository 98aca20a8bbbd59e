"""The report in a real headless Chromium: no console errors, no network, sorting, gallery images.

Skipped when no Chromium is installed, unless CI_REQUIRE_BROWSER=1 (set by .ci/run), where a
missing browser fails the test. Set REPORT_SCREENSHOTS=DIR to keep the screenshots to look at.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from harness.report.build_report import write_report
from harness.report.runs import LoadedRun
from tests.report.conftest import XSS_QUERY
from tests.report.headless_chromium import HeadlessChromium, find_chromium

pytestmark = pytest.mark.slow

ROW_NAMES_JS = "Array.from(document.querySelectorAll('#overall tbody tr')).map(r => r.cells[1].textContent.trim())"


@pytest.fixture
def chromium() -> str:
    binary = find_chromium()
    if binary is None:
        if os.environ.get("CI_REQUIRE_BROWSER") == "1":
            pytest.fail("CI_REQUIRE_BROWSER=1 but no chromium found (.ci/run installs Debian's chromium)")
        pytest.skip("no chromium on PATH: install Debian's `chromium` to run the browser check")
    return binary


def _assert_not_blank(path: Path) -> None:
    pixels = np.asarray(Image.open(path).convert("L"), dtype=np.float64)
    assert pixels.std() > 10.0, f"screenshot {path} looks blank (pixel std {pixels.std():.1f})"


def _keep(path: Path) -> None:
    folder = os.environ.get("REPORT_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(folder) / path.name)


def test_report_in_headless_chromium(chromium: str, xss_run: LoadedRun, tmp_path: Path) -> None:
    out = tmp_path / "leaderboards"
    write_report([xss_run], out)
    with HeadlessChromium(chromium) as browser:
        browser.call("Page.setLifecycleEventsEnabled", enabled=True)
        browser.goto((out / "index.html").as_uri())
        assert browser.evaluate("document.title").startswith("IDG leaderboard")
        plots = browser.evaluate("Array.from(document.images).map(i => i.complete && i.naturalWidth > 0)")
        assert plots and all(plots)

        before = browser.evaluate(ROW_NAMES_JS)
        assert before[0].startswith("pixel-diff")
        # A real click on the "Model" header sorts by name, ascending; a second click reverses.
        browser.evaluate("document.querySelector('#overall thead th:nth-child(2)').click()")
        ascending = browser.evaluate(ROW_NAMES_JS)
        assert ascending == sorted(before, key=str.lower) and ascending != before
        browser.evaluate("document.querySelector('#overall thead th:nth-child(2)').click()")
        assert browser.evaluate(ROW_NAMES_JS) == sorted(before, key=str.lower, reverse=True)
        # Numeric sort on Acc@0.5 (column 4): ascending puts the best model last.
        browser.evaluate("document.querySelector('#overall thead th:nth-child(4)').click()")
        assert browser.evaluate(ROW_NAMES_JS)[-1].startswith("pixel-diff")

        browser.call("Emulation.setDeviceMetricsOverride", width=1280, height=2400, deviceScaleFactor=1, mobile=False)
        shot = browser.screenshot(tmp_path / "leaderboard.png")
        _assert_not_blank(shot)
        _keep(shot)

        gallery_pages = sorted((out / "galleries" / "center-prior").glob("*-1.html"))
        assert gallery_pages
        for page in gallery_pages:
            browser.goto(page.as_uri())
            images = browser.evaluate("Array.from(document.images).map(i => i.complete && i.naturalWidth > 0)")
            assert images and all(images), f"{page.name}: an image did not render"
        page_text = "\n".join(
            (browser.goto(p.as_uri()), browser.evaluate("document.body.innerText"))[1]
            for p in sorted((out / "galleries").rglob("*-1.html"))
        )
        assert XSS_QUERY in page_text  # shown as text, not run
        shot = browser.screenshot(tmp_path / "gallery.png")
        _assert_not_blank(shot)
        _keep(shot)

        assert browser.events.errors == []
        allowed = {p.as_uri() for p in out.rglob("*.html")}
        assert [url for url in browser.events.requests if url not in allowed] == []
