"""In a real headless Chromium, on the demo: the municipality's cross-program report
shows its SVG charts (no script or inline style needed), and its CSV link downloads a
UTF-8 file with a BOM that parses back."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from playwright.sync_api import Page, expect

from hubcore.testing import browser_login

pytestmark = pytest.mark.browser


def town_admin() -> tuple[str, str]:
    from hubcore.demo import DEMO_ACCOUNTS

    return next((email, password) for email, _name, role, place, password in DEMO_ACCOUNTS
                if role == "municipality_admin" and place == "midorino")


def test_municipal_report_charts_and_csv(live_server, page: Page):
    # The demo's visits are of the four weeks before it was loaded (today).
    week_ago = dt.date.today() - dt.timedelta(days=7)
    fiscal_year = week_ago.year if week_ago.month >= 4 else week_ago.year - 1
    month = f"{week_ago:%Y-%m}"
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error"
            and "Failed to load resource" not in m.text else None)
    missing: list[str] = []
    page.on("response", lambda r: missing.append(r.url) if r.status >= 400
            and not r.url.endswith("/favicon.ico") else None)
    browser_login(page, live_server, *town_admin(), path="/m/midorino/")
    page.goto(f"{live_server}/m/midorino/reports/?period=FY{fiscal_year}")
    expect(page.locator("h1")).to_contain_text("みどり野町")

    # The demo's visits (attendance at its past calendar bookings) are counted.
    people = page.locator("#fig-people dd")
    expect(people).not_to_have_text("0")
    for chart in ("chart-bands", "chart-programs", "chart-places", "chart-months"):
        svg = page.locator(f"#{chart} svg")
        expect(svg).to_be_visible()
        assert svg.locator("rect").count() >= 1, chart
        box = svg.bounding_box()
        assert box and box["width"] > 200 and box["height"] > 20, chart
    expect(page.locator("#report-rows tbody tr")).to_have_count(2)  # the two demo hubs

    # A month of its own: the month picker submits the same page.
    page.locator("#report-month").fill(month)
    page.locator("#report-month").press("Enter")
    expect(page).to_have_url(re.compile(f"period={month}"))
    expect(page.locator("#fig-visits dd")).not_to_have_text("0")

    with page.expect_download() as info:
        page.locator("#report-csv").click()
    download = info.value
    assert download.suggested_filename.startswith(f"report-midorino-{month}")
    data = open(download.path(), "rb").read()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    figures = {(r[1], r[3]) for r in rows[1:]}
    assert ("midorino", "people") in figures and ("midorino-school", "visits") in figures
    assert not problems, problems  # nothing refused by the Content-Security-Policy
    assert not missing, missing
