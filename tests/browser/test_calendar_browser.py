"""In a real headless Chromium on the demo hub: book a weekly series from an empty slot,
see it four weeks running, move one occurrence, run into a conflict, and the roles'
limits; with the keyboard where a person would use it."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import Page, expect

from hubcore.calendar.hours import holiday_name
from hubcore.testing import browser_login

pytestmark = pytest.mark.browser

CAL = "/s/midorino-school/calendar/"
WEEKDAYS_JA = "月火水木金土日"


def ja(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日({WEEKDAYS_JA[day.weekday()]})"


def quiet_tuesday() -> dt.date:
    """A Tuesday at least two weeks ahead starting four open weeks (no 祝日, no 年末年始:
    the demo hub is closed then)."""
    day = dt.date.today() + dt.timedelta(days=14)
    day += dt.timedelta(days=(1 - day.weekday()) % 7)
    while True:
        weeks = [day + dt.timedelta(weeks=i) for i in range(4)]
        if not any(holiday_name(d) or holiday_name(d + dt.timedelta(days=1))
                   or (d.month, d.day) >= (12, 28) or (d.month == 1 and d.day <= 4)
                   for d in weeks):
            return day
        day += dt.timedelta(weeks=1)


def entries(page: Page, title: str):
    return page.locator(".tg-col a.ce", has_text=title)


def test_book_a_weekly_series_move_one_and_meet_a_conflict(live_server, page: Page):
    browser_login(page, live_server, "manager@example.jp", "demo-manager-2026", CAL)
    tuesday = quiet_tuesday()
    page.goto(f"{live_server}{CAL}?date={tuesday}")
    # Only 相談室 (the filter applies as soon as it changes).
    page.locator("#cal-room").select_option(label="相談室")
    page.wait_for_url(re.compile(r"room=\d+"))
    expect(page.locator("h1")).to_contain_text("相談室")

    # An empty slot is a link: reach it with the keyboard and open the dialog with Enter.
    slot = page.locator(f'a.slot[aria-label*="{ja(tuesday)} 9:00〜10:00"]')
    slot.focus()
    page.keyboard.press("Enter")
    dialog = page.locator("#cal-dialog")
    expect(dialog).to_be_visible()
    expect(page.locator("#b-title")).to_be_focused()
    # Esc closes it and nothing is booked; open it again with a tap.
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    slot.click()
    expect(dialog).to_be_visible()
    expect(page.locator("#b-start")).to_have_value("09:00")
    expect(page.locator("#b-room option:checked")).to_have_text(re.compile("相談室"))
    page.locator("#b-title").fill("将棋教室")
    page.locator("#b-repeat").select_option("weekly")
    page.locator("#b-count").fill("4")
    page.locator("#booking-form button.primary").click()
    expect(dialog).to_be_hidden()

    # Four Tuesdays in a row, each in its week.
    for week in range(4):
        day = tuesday + dt.timedelta(weeks=week)
        expect(page.locator(".tg-colhead").nth(1)).to_contain_text(f"{day.month}/{day.day}")
        expect(page.locator(".tg-col").nth(1).locator("a.ce", has_text="将棋教室")
               ).to_contain_text("9:00–10:00")
        if week < 3:
            page.locator("a[rel=next]").click()
    page.locator("a[rel=next]").click()
    expect(entries(page, "将棋教室")).to_have_count(0)  # the fifth week has none

    # Move the second one to Wednesday 10:30, this one only.
    second = tuesday + dt.timedelta(weeks=1)
    page.goto(f"{live_server}{CAL}?date={second}&room="
              + re.search(r"room=(\d+)", page.url)[1])
    entries(page, "将棋教室").click()
    expect(dialog).to_be_visible()
    expect(page.locator("input[name=scope][value=this]")).to_be_checked()
    page.locator("#b-date").fill((second + dt.timedelta(days=1)).isoformat())
    page.locator("#b-start").fill("10:30")
    page.locator("#b-end").fill("11:30")
    page.locator("#booking-form button.primary").click()
    expect(dialog).to_be_hidden()
    moved = page.locator(".tg-col").nth(2).locator("a.ce", has_text="将棋教室")
    expect(moved).to_contain_text("10:30–11:30")
    expect(page.locator(".tg-col").nth(1).locator("a.ce", has_text="将棋教室")).to_have_count(0)
    page.locator("a[rel=next]").click()
    expect(page.locator(".tg-col").nth(1).locator("a.ce", has_text="将棋教室")
           ).to_contain_text("9:00–10:00")

    # Double-book: a weekly series at 9:30 from the first Tuesday runs into it.
    page.goto(f"{live_server}{CAL}?date={tuesday}&room="
              + re.search(r"room=(\d+)", page.url)[1])
    page.locator(f'a.slot[aria-label*="{ja(tuesday)} 11:00〜12:00"]').click()
    expect(dialog).to_be_visible()
    page.locator("#b-title").fill("囲碁の会")
    page.locator("#b-start").fill("09:30")
    page.locator("#b-end").fill("10:30")
    page.locator("#b-repeat").select_option("weekly")
    page.locator("#b-count").fill("4")
    page.locator("#booking-form button.primary").click()
    conflicts = page.locator("#conflicts")
    expect(conflicts).to_be_visible()
    rows = conflicts.locator("tbody tr")
    expect(rows).to_have_count(3)  # weeks 1, 3 and 4: the second one was moved away
    expect(rows.first).to_contain_text(ja(tuesday))
    expect(rows.first).to_contain_text("9:00–10:00")
    expect(rows.first).to_contain_text("将棋教室")
    expect(rows.first.locator(".chip")).to_be_visible()  # the program
    # Book the other date instead: only the second week is free.
    conflicts.locator("button[name=skip_conflicts]").click()
    expect(dialog).to_be_hidden()
    page.locator("a[rel=next]").click()
    expect(entries(page, "囲碁の会")).to_contain_text("9:30–10:30")
    page.locator("a[rel=prev]").click()
    expect(entries(page, "囲碁の会")).to_have_count(0)


def test_holidays_are_named_in_japanese_and_the_month_view(live_server, page: Page):
    browser_login(page, live_server, "manager@example.jp", "demo-manager-2026", CAL)
    year = dt.date.today().year + 1
    page.goto(f"{live_server}{CAL}?date={year}-05-04")
    heads = page.locator(".tg-colhead")
    expect(heads.filter(has_text="憲法記念日")).to_have_count(1)
    expect(heads.filter(has_text="こどもの日")).to_have_count(1)
    page.get_by_role("link", name=re.compile("^(Month|対象月|月)$")).click()
    expect(page.locator(".cal-month")).to_be_visible()
    expect(page.locator(".cal-month .holiday", has_text="みどりの日")).to_have_count(1)
    # Targets big enough for a finger on a 1024×768 tablet.
    box = page.locator(".cal-month .md-day").first.bounding_box()
    assert box["height"] >= 44 and box["width"] >= 44


def test_viewer_sees_the_calendar_and_cannot_book(live_server, page: Page):
    browser_login(page, live_server, "viewer@example.jp", "demo-viewer-2026", CAL)
    expect(page.locator(".tg")).to_be_visible()
    expect(page.locator("a.slot")).to_have_count(0)
    page.locator(".tg-col a.ce").first.click()
    expect(page.locator("#cal-dialog")).to_be_visible()
    expect(page.locator("#booking-form")).to_have_count(0)  # details only
    page.keyboard.press("Escape")
    answer = page.goto(f"{live_server}{CAL}new/")
    assert answer.status == 403


def test_staff_is_not_offered_the_override(live_server, page: Page):
    browser_login(page, live_server, "staff@example.jp", "demo-staff-2026", CAL)
    sunday = quiet_tuesday() + dt.timedelta(days=5)
    page.goto(f"{live_server}{CAL}new/?date={sunday}&start_time=10:00&end_time=11:00")
    page.locator("#b-title").fill("日曜の会")
    room = page.locator("#b-room option", has_text="図書コーナー").get_attribute("value")
    page.locator("#b-room").select_option(room)
    page.locator("#booking-form button.primary").click()
    refusal = page.locator("#closed-problems")
    expect(refusal).to_be_visible()
    expect(refusal.locator("button[name=override]")).to_have_count(0)
