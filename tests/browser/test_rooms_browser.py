"""In a real headless Chromium: the dashboard, and adding a room without a page reload."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from hubcore.testing import browser_login

pytestmark = pytest.mark.browser


def test_add_a_room_from_the_dashboard_without_reload(live_server, page: Page):
    browser_login(page, live_server, "manager@example.jp", "demo-manager-2026",
                  "/s/midorino-school/")
    expect(page.locator("h1")).to_contain_text("旧みどり野小学校")
    page.get_by_role("link", name=re.compile("^(部屋|Rooms)$")).first.click()
    expect(page).to_have_url(re.compile(r"/s/midorino-school/rooms/$"))
    # A marker on window survives only if the page is not reloaded.
    page.evaluate("window.__noReload = 'still here'")
    rows = page.locator("#room-rows tr")
    before = rows.count()

    # Empty name and a bad capacity: refused in place, with the fields named.
    page.locator("#room-capacity").fill("たくさん")
    page.locator("#room-form button[type=submit]").click()
    expect(page.locator("#name-error")).to_be_visible()
    expect(page.locator("#capacity-error")).to_be_visible()
    assert rows.count() == before

    page.locator("#room-name").fill("音楽室(旧音楽教室)")
    page.locator("#room-capacity").fill("２５")  # full-width digits are accepted
    page.locator("#room-floor").fill("3F")
    page.locator("input[name=features][value=projector]").check()
    page.locator("#room-form button[type=submit]").click()

    new_row = page.locator("#room-rows tr", has_text="音楽室(旧音楽教室)")
    expect(new_row).to_be_visible()
    expect(new_row).to_contain_text("25")
    expect(rows).to_have_count(before + 1)
    expect(page.locator("#room-form .flash")).to_be_visible()
    expect(page.locator("#room-name")).to_have_value("")  # a fresh form for the next room
    assert page.evaluate("window.__noReload") == "still here"

    # And it is really stored: a full reload still lists it.
    page.reload()
    expect(page.locator("#room-rows tr", has_text="音楽室(旧音楽教室)")).to_be_visible()


def test_unknown_site_is_a_404_page(live_server, page: Page):
    browser_login(page, live_server, "staff@example.jp", "demo-staff-2026")
    response = page.goto(live_server + "/s/no-such-hub/")
    assert response is not None and response.status == 404
    expect(page.locator("h1")).to_be_visible()
