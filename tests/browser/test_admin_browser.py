"""In a real headless Chromium: the municipality administrator switches programs per site,
with the confirmation dialog, and the grid updates without a page reload."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from hubcore.testing import browser_login

pytestmark = pytest.mark.browser

TESTS = Path(__file__).resolve().parent.parent

# The demo switches every installed optional plugin on, but hubcore itself ships none.
# This is imported by every Python process started with it on PYTHONPATH (`hubcore demo`
# and uvicorn of live_server), so they have the test plugins garden and kitchen
# (kitchen needs garden) installed as if from entry points.
SITECUSTOMIZE = f"""
import sys
sys.path.insert(0, {str(TESTS)!r})
from hubcore.plugins import get_host
from testplugins import garden, kitchen
get_host().register(garden)
get_host().register(kitchen)
"""


@pytest.fixture
def server(request, db_url, monkeypatch, tmp_path) -> str:
    """live_server (the demo over the test's database) with garden and kitchen installed.
    Started from here, after PYTHONPATH is set (db_url is named so it is parametrised)."""
    boot = tmp_path / "boot"
    boot.mkdir()
    (boot / "sitecustomize.py").write_text(SITECUSTOMIZE)
    monkeypatch.setenv("PYTHONPATH", str(boot))  # live_server hands os.environ on
    return request.getfixturevalue("live_server")


def town_admin() -> tuple[str, str]:
    from hubcore.demo import DEMO_ACCOUNTS

    return next((email, password) for email, _name, role, place, password in DEMO_ACCOUNTS
                if role == "municipality_admin" and place == "midorino")


def log_in(page: Page, base: str, next_path: str) -> None:
    browser_login(page, base, *town_admin(), path=next_path)
    expect(page).to_have_url(re.compile(re.escape(next_path) + "$"))


def cell_button(page: Page, scope: str, plugin: str):
    return page.locator(f'[data-cell="{scope}:{plugin}"] button')


def test_switch_a_program_off_and_on_for_a_site(server, page: Page):
    log_in(page, server, "/m/midorino/")
    page.locator('a[href="/m/midorino/plugins/"]').click()
    expect(page).to_have_url(re.compile(r"/m/midorino/plugins/$"))
    page.evaluate("window.__noReload = 'still here'")  # survives only without a reload

    kitchen = cell_button(page, "midorino-school", "kitchen")
    garden = cell_button(page, "midorino-school", "garden")
    expect(kitchen).to_have_attribute("aria-pressed", "true")
    expect(garden).to_have_attribute("aria-pressed", "true")

    # Garden is needed by kitchen here: refused in place, after the confirmation.
    dialogs: list[str] = []

    def accept(dialog) -> None:
        dialogs.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    garden.click()
    expect(page.locator("#plugin-error")).to_contain_text("台所")
    expect(page.locator("#plugin-error")).to_contain_text("菜園")
    expect(garden).to_have_attribute("aria-pressed", "true")
    assert dialogs and "菜園" in dialogs[0]

    # Kitchen off: the dialog says the data is kept; the cell changes in place.
    page.once("dialog", accept)
    kitchen.click()
    expect(kitchen).to_have_attribute("aria-pressed", "false")
    expect(page.locator("#plugin-grid .flash")).to_contain_text("台所")
    expect(page.locator("#plugin-error")).to_have_count(0)
    assert len(dialogs) == 2 and "台所" in dialogs[1]
    # The other site is untouched.
    expect(cell_button(page, "ekimae-engawa", "kitchen")).to_have_attribute("aria-pressed",
                                                                              "true")

    # And on again: no confirmation needed to switch on.
    kitchen.click()
    expect(kitchen).to_have_attribute("aria-pressed", "true")
    assert len(dialogs) == 2
    assert page.evaluate("window.__noReload") == "still here"

    # Stored: a full reload shows the same, and the audit log has both switches.
    page.reload()
    expect(cell_button(page, "midorino-school", "kitchen")).to_have_attribute("aria-pressed",
                                                                              "true")
    page.goto(server + "/m/midorino/audit/?site=midorino-school&lang=en")
    rows = page.locator("tr[data-action^='plugin_']").filter(
        has_text=re.compile(r"kitchen|Kitchen|台所"))
    expect(rows).to_have_count(3)  # the demo switched it on, then off and on again


def test_dismissing_the_confirmation_changes_nothing(server, page: Page):
    log_in(page, server, "/m/midorino/plugins/")
    kitchen = cell_button(page, "ekimae-engawa", "kitchen")
    page.once("dialog", lambda d: d.dismiss())
    kitchen.click()
    page.reload()
    expect(cell_button(page, "ekimae-engawa", "kitchen")).to_have_attribute("aria-pressed",
                                                                              "true")
