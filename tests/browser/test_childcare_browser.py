"""In a real headless Chromium, on the demo: the front-desk tablet checks a child in,
refuses a pickup by someone not authorised (the child stays in), and checks the child
out with an authorised person — all without a page reload.

The child, its two pickup people, a drop-in session today and the child's place in it
are written into the live server's database before the page opens, in a room of their
own so that the demo's sessions are not in the way.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import Page, expect

from hubcore.testing import browser_login

pytestmark = pytest.mark.browser

SITE = "/s/midorino-school/"


def staff() -> tuple[str, str]:
    from hubcore.demo import DEMO_ACCOUNTS

    return next((email, password) for email, _n, role, place, password in DEMO_ACCOUNTS
                if role == "staff" and place == "midorino-school")


def _booked_child(db_url: str) -> dict[str, int | str]:
    from hubcore import db
    from hubcore.rooms.models import Room
    from hubcore.sites.models import Site
    from plugins.childcare import reservations
    from plugins.childcare.models import CareRoom, PickupPerson
    from plugins.childcare.testing import make_child, make_session

    db.configure(db_url)
    try:
        with db.database.connection_context():
            site = Site.get(Site.slug == "midorino-school")
            room = Room.create(site=site, name="テスト保育室", capacity=10, sort_order=99)
            CareRoom.create(room=room, capacity=5)
            today = reservations.site_today(site)
            make_session(site, today, "dropin", "08:00", "18:00", room=room)
            child = make_child(site, dt.date(today.year - 3, 5, 5), given="ひかり")
            mother = PickupPerson.create(child=child, name="佐藤 みどり", relation="母",
                                         note="赤い自転車")
            PickupPerson.create(child=child, name="佐藤 茂", relation="祖父", note="白髪、眼鏡")
            reservations.reserve(site, child, room, today, "09:00", "15:00")
            return {"child": child.id, "name": child.person.full_name, "mother": mother.id}
    finally:
        db.database.obj.close_all()


def _stay(db_url: str, child_id: int):
    from hubcore import db
    from plugins.childcare.models import Attendance

    db.configure(db_url)
    try:
        with db.database.connection_context():
            return Attendance.get(Attendance.child == child_id)
    finally:
        db.database.obj.close_all()


def _settled(page: Page) -> None:
    """Wait until htmx has finished its requests, swaps and settling."""
    page.wait_for_function("() => document.querySelectorAll('.htmx-request, .htmx-swapping, "
                           ".htmx-settling, .htmx-added').length === 0")


def test_tablet_check_in_refused_pickup_and_check_out(live_server, db_url, page: Page,
                                                       tmp_path):
    data = _booked_child(db_url)
    browser_login(page, live_server, *staff(), path=SITE + "childcare/tablet/")
    expect(page).to_have_url(re.compile(re.escape(SITE) + r"childcare/tablet/$"))
    page.evaluate("window.__noReload = 'still here'")
    card = page.locator(f'li.tablet-card[data-child="{data["child"]}"]')
    expect(card).to_have_attribute("data-state", "expected")
    expect(card).to_contain_text(str(data["name"]))

    # A big touch target: at least 48 px high.
    check_in = card.locator("form button[type=submit]")
    box = check_in.bounding_box()
    assert box is not None and box["height"] >= 48
    check_in.click()
    expect(card).to_have_attribute("data-state", "in")
    expect(page.locator("#tablet-message")).to_contain_text(str(data["name"]))

    # Check out: the chooser shows the authorised people with how to recognise them. (A
    # tap before htmx has processed the swapped-in card follows the link as a plain page,
    # which works too, but this test is about the screen without reloads: let it settle.)
    _settled(page)
    card.locator("a.tablet-button").click()
    chooser = page.locator("#pickup")
    expect(chooser).to_be_visible()
    expect(chooser).to_contain_text("佐藤 みどり")
    expect(chooser).to_contain_text("赤い自転車")
    expect(chooser).to_contain_text("祖父")

    # Someone else: refused on screen in red, and the child is still in.
    page.locator("#other-name").fill("知らない 人")
    _settled(page)
    page.locator("#pickup-other").click()
    refusal = page.locator("#pickup-refusal")
    expect(refusal).to_be_visible()
    expect(refusal).to_contain_text("知らない 人")
    expect(refusal).to_contain_text(str(data["name"]))
    colour = refusal.evaluate("e => getComputedStyle(e).color")
    red, green, blue = (int(x) for x in re.findall(r"\d+", colour)[:3])
    assert red > 120 and green < 80 and blue < 80, colour
    expect(card).to_have_attribute("data-state", "in")
    assert _stay(db_url, int(data["child"])).checked_out_at is None
    page.screenshot(path=str(tmp_path / "refused.png"), full_page=True)

    # An authorised person: out, with who collected the child.
    _settled(page)
    page.locator(f'button[data-pickup="{data["mother"]}"]').click()
    expect(card).to_have_attribute("data-state", "out")
    expect(card).to_contain_text("佐藤 みどり")
    expect(page.locator("#pickup")).to_have_count(0)
    assert page.evaluate("window.__noReload") == "still here"
    stay = _stay(db_url, int(data["child"]))
    assert stay.checked_out_at is not None and stay.picked_up_by_id == data["mother"]
    page.screenshot(path=str(tmp_path / "out.png"), full_page=True)
