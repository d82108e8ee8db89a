"""A real headless Chromium for the web interface's tests, and axe-core to audit its pages.

Chromium and chromedriver are Debian's (`scripts/install-deps`), driven by Selenium with no
network beyond loopback: background networking, component updates, sync and QUIC are off, and
every browser gets a fresh profile. axe-core comes from the npm registry, installed with npm
once into the test environment (`<venv>/berth-npm`), never committed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

__all__ = ["AXE_VERSION", "Browser", "axe_source", "new_chromium"]

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
AXE_VERSION = "4.10.3"
_NPM_DIR = Path(sys.prefix) / "berth-npm"
_BLOCKING_IMPACTS = {"serious", "critical"}


def axe_source() -> str:
    """axe-core's browser script, installed from the npm registry on first use.

    Raises:
        subprocess.CalledProcessError: npm could not install it (the test fails: it never skips).
    """
    script = _NPM_DIR / "node_modules" / "axe-core" / "axe.min.js"
    if not script.is_file():
        _NPM_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["npm", "install", "--prefix", str(_NPM_DIR), "--no-audit", "--no-fund",
             "--no-save", f"axe-core@{AXE_VERSION}"],
            check=True, capture_output=True, timeout=300,
        )
    return script.read_text()


def new_chromium(profile: Path) -> WebDriver:
    """A headless Chromium with a fresh profile directory."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                 f"--user-data-dir={profile}", "--window-size=1280,900"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    return driver


class Browser:
    """One person at a browser: open pages, audit them, keep screenshots.

    Args:
        driver: the Chromium session.
        base_url: the hub, `http://127.0.0.1:PORT`.
        shots: the directory screenshots go to.
        axe: axe-core's script.
    """

    def __init__(self, driver: WebDriver, base_url: str, shots: Path, axe: str) -> None:
        self.driver = driver
        self.base_url = base_url
        self.shots = shots
        self.axe = axe

    def open(self, path: str) -> None:
        self.driver.get(self.base_url + path)

    def find(self, css: str) -> Any:
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def find_all(self, css: str) -> list[Any]:
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def wait_for(self, css: str, timeout: float = 10) -> Any:
        return WebDriverWait(self.driver, timeout).until(
            lambda driver: driver.find_element(By.CSS_SELECTOR, css)
        )

    def navigate(self, action: Callable[[], object], timeout: float = 10) -> None:
        """Do what loads a new page (a click, Enter in a form) and wait until it replaced this one.

        Waiting for an element is not enough when the next page has it too. The old page is
        marked with a script global, which the new page's fresh global scope lacks; commands
        sent while the page is being swapped may fail in transient ways (a node "does not
        belong to the document"), so those are retried until the timeout.
        """
        self.driver.execute_script("window.berthOldPage = true")
        action()
        WebDriverWait(self.driver, timeout, ignored_exceptions=(WebDriverException,)).until(
            lambda driver: driver.execute_script(
                "return window.berthOldPage === undefined && document.readyState !== 'loading'"))
        self.wait_for("body")

    @property
    def path(self) -> str:
        return self.driver.current_url.removeprefix(self.base_url)

    @property
    def text(self) -> str:
        return self.find("body").text

    def screenshot(self, name: str) -> Path:
        path = self.shots / f"{name}.png"
        self.driver.save_screenshot(str(path))
        return path

    def audit(self, name: str) -> list[dict[str, Any]]:
        """Screenshot the page and run axe-core on it; the serious and critical violations."""
        self.screenshot(name)
        self.driver.execute_script(self.axe)
        result = self.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "axe.run(document, {resultTypes: ['violations']})"
            ".then(r => done(JSON.stringify(r.violations)))"
            ".catch(e => done(JSON.stringify([{id: 'axe-error', impact: 'critical',"
            " help: String(e), nodes: []}])));"
        )
        violations = json.loads(result)
        return [
            {"id": v["id"], "impact": v["impact"], "help": v["help"],
             "targets": [n.get("target") for n in v["nodes"]][:5]}
            for v in violations
            if v.get("impact") in _BLOCKING_IMPACTS
        ]

    def assert_accessible(self, name: str) -> None:
        violations = self.audit(name)
        assert not violations, f"{name} ({self.path}): {violations}"
