"""The HTML report in headless Chromium: charts and tables render, and the console shows no error.

Uses Debian's `chromium` and `chromium-driver` through selenium, with the driver
path given, so selenium downloads nothing. Locally the test skips when the browser
is missing; under CI (CI or GOVDSL_REQUIRE_BROWSER=1 set) it fails instead.
"""

from __future__ import annotations

import os
import shutil

import pytest

from govdsl.report.html import render_html
from report_cases import compas_results, mixed_results

REQUIRED = bool(os.environ.get("CI")) or os.environ.get("GOVDSL_REQUIRE_BROWSER") == "1"

# Flags that keep Chromium from contacting any host and let it run as root in a container.
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-sync",
    "--disable-domain-reliability",
    "--no-pings",
    "--window-size=1280,2000",
]


def unavailable(reason: str):
    if REQUIRED:
        pytest.fail(f"{reason}; CI needs it: apt-get install -y chromium chromium-driver, pip install selenium")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        unavailable("selenium is not installed")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if chromium is None or driver_path is None:
        unavailable("chromium or chromedriver is not installed")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
    yield driver
    driver.quit()


def open_report(browser, results, folder):
    page = folder / "report.html"
    page.write_text(render_html(results), encoding="utf-8")
    browser.get_log("browser")  # drop entries of earlier pages
    browser.get(page.as_uri())
    browser.execute_script("document.querySelectorAll('details').forEach(d => d.open = true)")
    return browser


def severe_console_entries(browser) -> list[dict]:
    return [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]


def chart_sizes(browser) -> list[list[int]]:
    return browser.execute_script(
        "return Array.from(document.querySelectorAll('img.chart'))"
        ".map(img => [img.complete ? 1 : 0, img.naturalWidth, img.getBoundingClientRect().height]);"
    )


def test_compas_report_renders(browser, tmp_path):
    results = compas_results()
    open_report(browser, results, tmp_path)
    assert browser.title.startswith("govdsl check: compas-recidivism")
    sizes = chart_sizes(browser)
    checks_with_groups = sum(1 for c in results.controls for check in c.checks if check.groups)
    assert len(sizes) == checks_with_groups + 1
    for complete, natural_width, height in sizes:
        assert complete == 1
        assert natural_width > 0  # the SVG decoded
        assert height > 50
    tables = browser.execute_script("return document.querySelectorAll('table.groups tbody tr').length")
    assert tables == sum(len(check.groups) for c in results.controls for check in c.checks)
    assert browser.execute_script("return document.querySelectorAll('details.clause').length") == 3
    assert severe_console_entries(browser) == []


def test_hostile_text_stays_text(browser, tmp_path):
    open_report(browser, mixed_results(tmp_path), tmp_path)
    # An alert would leave a dialog open, and the next command would raise.
    assert browser.execute_script("return document.querySelectorAll('script, b[onmouseover], img[onerror]').length") == 0
    heading = browser.execute_script("return document.querySelector('#controls details summary').textContent")
    assert "<script>alert('title')</script>" in heading
    assert all(complete == 1 and width > 0 for complete, width, _ in chart_sizes(browser))
    assert severe_console_entries(browser) == []


def test_console_check_catches_blocked_load(browser, tmp_path):
    # The report's Content Security Policy blocks any load from a host, and Chromium logs the violation.
    page = tmp_path / "report.html"
    text = render_html(compas_results()).replace("</body>", '<img alt="" src="http://127.0.0.1:9/x.png"></body>')
    page.write_text(text, encoding="utf-8")
    browser.get_log("browser")
    browser.get(page.as_uri())
    entries = severe_console_entries(browser)
    assert any("Content Security Policy" in entry["message"] for entry in entries)
