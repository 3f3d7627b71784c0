"""The overview, reservations and the front-desk tablet over HTTP: htmx answers, 422s
with nothing saved, and what each role may do."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from hubcore.rooms.models import Room
from hubcore.testing import make_user
from plugins.childcare import attendance as att
from plugins.childcare import reservations as res
from plugins.childcare.models import (
    Attendance,
    HeadCount,
    PickupPerson,
    Reservation,
    Settings,
    Staff,
    StaffAttendance,
)
from plugins.childcare.testing import care_room, childcare_site, make_child, make_session

HX = {"HX-Request": "true"}
BASE = "/s/test-site/childcare/"


@pytest.fixture
def today(cc_site):
    return res.site_today(cc_site)


@pytest.fixture
def web(cc_site, client):
    client.cookies.set("lang", "en")
    return client


@pytest.fixture
def as_role(cc_site, login_as):
    def make(role: str):
        make_user(f"{role}@cc.example.jp", (role, cc_site))
        c = login_as(f"{role}@cc.example.jp")
        c.cookies.set("lang", "en")
        return c

    return make


@pytest.fixture
def booked_child(cc_site, today):
    """A child with a drop-in place today and two authorised pickup people."""
    make_session(cc_site, today, start="08:00", end="18:00", capacity=1)
    child = make_child(cc_site, dt.date(2023, 4, 10))
    PickupPerson.create(child=child, name="佐藤 花子", relation="母", note="眼鏡、白い軽自動車")
    PickupPerson.create(child=child, name="佐藤 一郎", relation="祖父", note="杖をついている")
    res.reserve(cc_site, child, care_room(cc_site), today, "09:00", "12:00")
    return child


def form(**values) -> dict:
    return {k: str(v) for k, v in values.items()}


# --- overview --------------------------------------------------------------------


def test_overview_counts_and_links_by_role(web, as_role, booked_child):
    page = web.get(BASE)
    assert page.status_code == 200
    assert re.search(r'data-count="expected"><span class="cc-count">1<', page.text)
    everything = ("tablet/", "reservations/", "children/", "board/", "sessions/", "settings/",
                  "relief/")
    for path in everything:
        assert f'href="{BASE}{path}"' in page.text
    viewer = as_role("viewer").get(BASE)
    assert viewer.status_code == 200
    for path in everything:
        shown = path in ("reservations/", "children/", "board/", "sessions/")
        assert (f'href="{BASE}{path}"' in viewer.text) == shown, path
    staff = as_role("staff").get(BASE)
    assert f'href="{BASE}tablet/"' in staff.text
    assert f'href="{BASE}settings/"' not in staff.text and f'href="{BASE}relief/"' not in staff.text


# --- reservations ----------------------------------------------------------------


def test_reserve_waitlist_and_cancel_moves_up(web, cc_site, booked_child, today):
    other = make_child(cc_site, dt.date(2022, 9, 1))
    room = care_room(cc_site)
    page = web.get(BASE + f"reservations/?day={today.isoformat()}")
    assert page.status_code == 200 and booked_child.person.full_name in page.text
    data = form(child_id=other.id, room_id=room.id, day=today, start="10:00", end="11:00",
                lunch="on", waitlist="on")
    r = web.post(BASE + "reservations/", data=data, headers=HX)
    assert r.status_code == 201
    assert "is on the waitlist" in r.text and 'id="reservations"' in r.text
    assert 'data-position="1"' in r.text  # first on the waitlist
    waiting = Reservation.get(Reservation.child == other)
    assert waiting.status == "waitlisted" and waiting.lunch
    first = Reservation.get(Reservation.child == booked_child)
    r = web.post(BASE + f"reservations/{first.id}/cancel/", headers=HX)
    assert r.status_code == 200
    assert f"Moved up from the waitlist: {other.person.full_name}." in r.text
    assert Reservation.get_by_id(waiting.id).status == "booked"
    # Without htmx: a redirect back to the day.
    r = web.post(BASE + f"reservations/{waiting.id}/cancel/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith(f"?day={today}")


def test_reserve_refusals_are_422_and_save_nothing(web, cc_site, booked_child, today):
    other = make_child(cc_site, dt.date(2022, 9, 1))
    room = care_room(cc_site)
    cases = [
        ({}, "child_id"),
        (form(child_id=other.id, room_id=room.id, day=today, start="07:00", end="09:00"),
         "start"),  # before the session
        (form(child_id=other.id, room_id=room.id, day=today, start="10:00", end="09:00"),
         "end"),
        (form(child_id=other.id, room_id=room.id, day=today, start="10:00", end="11:00"),
         "start"),  # full, and the waitlist not ticked
        (form(child_id=other.id, room_id=room.id, day="2027-13-01", start="10:00",
              end="11:00"), "day"),
    ]
    for data, field in cases:
        r = web.post(BASE + "reservations/", data=data, headers=HX)
        assert r.status_code == 422, data
        assert f'id="{field}-error"' in r.text, (field, r.text)
    assert Reservation.select().count() == 1
    r = web.post(BASE + "reservations/", data=cases[1][0])  # no htmx: the whole page
    assert r.status_code == 422 and "<html" in r.text


def test_reservation_of_another_site_is_not_found(web, cc_site, today):
    other = childcare_site("other-site")
    make_session(other, today)
    child = make_child(other, dt.date(2023, 1, 1))
    theirs = res.reserve(other, child, care_room(other), today, "09:00", "10:00")
    assert web.post(BASE + f"reservations/{theirs.id}/cancel/", headers=HX).status_code == 404
    assert Reservation.get_by_id(theirs.id).status == "booked"


def test_viewer_reads_but_cannot_write(as_role, cc_site, booked_child, today):
    viewer = as_role("viewer")
    page = viewer.get(BASE + "reservations/")
    assert page.status_code == 200 and 'id="reservation-form"' not in page.text
    r = viewer.post(BASE + "reservations/", data=form(
        child_id=booked_child.id, room_id=care_room(cc_site).id, day=today, start="13:00",
        end="14:00"), headers=HX)
    assert r.status_code == 403
    first = Reservation.get()
    assert viewer.post(BASE + f"reservations/{first.id}/cancel/").status_code == 403
    assert viewer.get(BASE + "tablet/").status_code == 403
    r = viewer.post(BASE + "tablet/checkin/", data=form(child_id=booked_child.id,
                                                        room_id=care_room(cc_site).id))
    assert r.status_code == 403
    assert Reservation.select().count() == 1 and Reservation.get().status == "booked"
    assert Attendance.select().count() == 0


# --- the tablet ------------------------------------------------------------------


def test_tablet_check_in_refused_pickup_then_out(web, cc_site, booked_child):
    Settings.update(closing_time="00:00").execute()  # every pickup today is "late"
    page = web.get(BASE + "tablet/")
    assert page.status_code == 200
    assert 'href="/static/childcare/tablet.css"' in page.text
    assert not re.search(r"<script(?![^>]*\bsrc=)", page.text) and "style=" not in page.text
    assert f'data-child="{booked_child.id}"' in page.text and 'data-state="expected"' in page.text
    r = web.post(BASE + "tablet/checkin/", headers=HX, data=form(
        child_id=booked_child.id, room_id=care_room(cc_site).id,
        reservation_id=Reservation.get().id, program="dropin"))
    assert r.status_code == 200 and 'data-state="in"' in r.text and "checked in at" in r.text
    stay = Attendance.get()
    assert stay.reservation_id == Reservation.get().id
    # Twice: refused on screen.
    r = web.post(BASE + "tablet/checkin/", headers=HX, data=form(
        child_id=booked_child.id, room_id=care_room(cc_site).id))
    assert r.status_code == 422 and "already checked in" in r.text
    # The chooser lists the authorised people with their relation and how to know them.
    r = web.get(BASE + f"tablet/checkout/{stay.id}/", headers=HX)
    assert r.status_code == 200
    for text in ("佐藤 花子", "母", "眼鏡、白い軽自動車", "佐藤 一郎", "祖父", "Someone else"):
        assert text in r.text
    # Someone else: refused in red, nothing saved.
    r = web.post(BASE + f"tablet/checkout/{stay.id}/", headers=HX,
                 data=form(pickup="other", other_name="山田 太郎"))
    assert r.status_code == 422
    assert 'class="tablet-refusal"' in r.text
    assert f"山田 太郎 is not authorised to collect {booked_child.person.full_name}." in r.text
    stay = Attendance.get_by_id(stay.id)
    assert (stay.checked_out_at, stay.picked_up_name) == (None, "")
    # An authorised person: out, and the late minutes shown as recorded.
    mother = PickupPerson.get(PickupPerson.name == "佐藤 花子")
    r = web.post(BASE + f"tablet/checkout/{stay.id}/", headers=HX,
                 data=form(pickup=mother.id))
    assert r.status_code == 200 and "went home with 佐藤 花子" in r.text
    stay = Attendance.get_by_id(stay.id)
    assert stay.checked_out_at is not None and stay.picked_up_by_id == mother.id
    assert stay.late_minutes == att.late_minutes(cc_site, stay.day, stay.checked_out_at)
    if stay.late_minutes:  # 0 only in the first minute after midnight
        assert f"Late pickup: {stay.late_minutes} minutes after closing." in r.text
        assert f'data-late="{stay.late_minutes}"' in r.text
    assert 'data-state="out"' in r.text


def test_tablet_without_htmx_redirects_and_renders_whole_pages(web, cc_site, booked_child):
    r = web.post(BASE + "tablet/checkin/", follow_redirects=False, data=form(
        child_id=booked_child.id, room_id=care_room(cc_site).id))
    assert r.status_code == 303 and r.headers["location"] == BASE + "tablet/"
    stay = Attendance.get()
    page = web.get(BASE + f"tablet/checkout/{stay.id}/")
    assert page.status_code == 200 and "<html" in page.text and 'id="pickup"' in page.text
    r = web.post(BASE + f"tablet/checkout/{stay.id}/", data=form(pickup="other"))
    assert r.status_code == 422 and "This person is not authorised" in r.text


def test_tablet_checkout_of_another_site_is_not_found(web, cc_site, today):
    other = childcare_site("other-site")
    child = make_child(other, dt.date(2023, 1, 1))
    pickup = PickupPerson.create(child=child, name="他人", relation="母")
    stay = att.check_in(other, child, care_room(other))
    assert web.get(BASE + f"tablet/checkout/{stay.id}/").status_code == 404
    r = web.post(BASE + f"tablet/checkout/{stay.id}/", data=form(pickup=pickup.id), headers=HX)
    assert r.status_code == 404
    assert Attendance.get_by_id(stay.id).checked_out_at is None


def test_tablet_staff_tab_in_move_out(web, cc_site):
    member = Staff.create(site=cc_site, name="高橋 美咲", name_kana="タカハシ ミサキ")
    room = care_room(cc_site)
    hall = Room.get((Room.site == cc_site) & (Room.name == "ホール"))
    make_session(cc_site, res.site_today(cc_site), room=hall)  # the hall is used today
    page = web.get(BASE + "tablet/staff/", headers=HX)
    assert page.status_code == 200 and "高橋 美咲" in page.text and "<html" not in page.text
    r = web.post(BASE + "tablet/staff/", headers=HX, data=form(staff_id=member.id,
                                                               room_id=room.id))
    assert r.status_code == 200 and "is in 和室" in r.text
    r = web.post(BASE + "tablet/staff/", headers=HX, data=form(staff_id=member.id,
                                                               room_id=hall.id))
    assert r.status_code == 200 and "is in ホール" in r.text
    rows = list(StaffAttendance.select().order_by(StaffAttendance.id))
    assert [(x.room_id, x.checked_out_at is None) for x in rows] == [(room.id, False),
                                                                     (hall.id, True)]
    r = web.post(BASE + "tablet/staff/", headers=HX, data=form(staff_id=member.id, out="1"))
    assert r.status_code == 200 and "checked out" in r.text
    r = web.post(BASE + "tablet/staff/", headers=HX, data=form(staff_id=member.id, out="1"))
    assert r.status_code == 422 and "is not checked in" in r.text
    assert web.post(BASE + "tablet/staff/", headers=HX, data={}).status_code == 422


def test_tablet_hiroba_counter(web, cc_site):
    today = res.site_today(cc_site)
    hall = Room.get((Room.site == cc_site) & (Room.name == "ホール"))
    make_session(cc_site, today, kind="hiroba", start="10:00", end="12:00", room=hall)
    page = web.get(BASE + "tablet/hiroba/?hour=10", headers=HX)
    assert page.status_code == 200 and "ホール" in page.text
    assert "?hour=11" in page.text  # the hours of the session are offered
    # Without an hour: now, kept within the session's hours.
    page = web.get(BASE + "tablet/hiroba/", headers=HX)
    assert re.search(r'\?hour=1[01]"[^>]*aria-current="true"', page.text)

    def tap(who, delta):
        return web.post(BASE + "tablet/hiroba/", headers=HX, data=form(
            room_id=hall.id, hour=10, who=who, delta=delta))

    assert tap("children", 1).status_code == 200
    assert tap("children", 1).status_code == 200
    r = tap("adults", 1)
    assert re.search(r'data-count="children">2<', r.text)
    assert re.search(r'data-count="adults">1<', r.text)
    tap("adults", -1)
    r = tap("adults", -1)
    assert re.search(r'data-count="adults">0<', r.text)
    assert tap("pets", 1).status_code == 422
    row = HeadCount.get()
    assert (row.day, row.hour, row.children, row.adults) == (today, 10, 2, 0)
