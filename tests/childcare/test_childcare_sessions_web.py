"""The sessions page: this and next week's sessions, booking a weekly session, the
calendar's refusals as field messages (422, nothing saved), cancelling, and roles.

On SQLite and PostgreSQL. Booked in June 2027 (no public holiday); messages are
asserted in English (?lang=en).
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from hubcore.calendar import hours
from hubcore.calendar import operations as cal
from hubcore.calendar.models import Booking, BookingOccurrence
from hubcore.db import utcnow
from hubcore.rooms.models import Room
from hubcore.testing import user_client
from plugins.childcare.models import NAP, Session
from plugins.childcare.testing import care_room, local, make_session

PAGE = "/s/test-site/childcare/sessions/"
EN = PAGE + "?lang=en"
HX = {"HX-Request": "true"}


@pytest.fixture
def web(cc_site, client):
    """The manager's client, the nap room 和室 next to ホール."""
    cal.set_adjacent(cc_site, care_room(cc_site), hall(cc_site))
    return client


def hall(site) -> Room:
    return Room.get((Room.site == site) & (Room.name == "ホール"))


def form(room, **extra) -> dict:
    return {"kind": "dropin", "room": str(room.id), "first_day": "2027-06-07",
            "start_time": "09:00", "end_time": "17:00", **extra}


def no_inline_code(html: str) -> None:
    assert 'style="' not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)


def test_book_a_weekly_session_from_the_form(web, cc_site):
    room = care_room(cc_site)
    page = web.get(EN)
    assert page.status_code == 200 and 'id="session-form"' in page.text
    no_inline_code(page.text)
    # Mondays and Wednesdays from Tuesday 8 June until the end of June: the series starts
    # on the first ticked weekday after the first day.
    r = web.post(PAGE, data={**form(room, first_day="2027-06-08", capacity="8"),
                             "weekdays": ["WE", "MO"], "until": "2027-06-30"},
                 follow_redirects=False)
    assert r.status_code == 303, r.text
    session = Session.get()
    assert session.kind == "dropin" and session.capacity == 8
    b = session.booking
    assert b.program == "childcare" and b.title and b.attendance == 8
    assert "BYDAY=MO,WE" in b.rrule and "UNTIL" in b.rrule
    days = [o.start.date().isoformat() for o in
            cal.occurrences(cc_site, dt.date(2027, 6, 1), dt.date(2027, 8, 1))]
    assert days == ["2027-06-09", "2027-06-14", "2027-06-16", "2027-06-21", "2027-06-23",
                    "2027-06-28", "2027-06-30"]
    assert all(o.start.hour == 9 and o.end.hour == 17 for o in
               cal.occurrences(cc_site, dt.date(2027, 6, 1), dt.date(2027, 8, 1)))
    # The title defaults to the kind's name in the page's language.
    r = web.post(EN, data=form(room, kind="hiroba", first_day="2027-07-05"),
                 follow_redirects=False)
    assert r.status_code == 303
    assert Session.get(Session.kind == "hiroba").booking.title == "Parent and child space"


def test_this_and_next_weeks_sessions_are_listed(web, cc_site):
    today = utcnow().astimezone(cal.site_zone(cc_site)).date()
    make_session(cc_site, today, "dropin", "09:00", "12:00", capacity=7)
    make_session(cc_site, today + dt.timedelta(days=30), "dropin", "09:00", "12:00")
    page = web.get(EN)
    # The one a month ahead is not shown.
    assert page.text.count('<tr data-kind="dropin">') == 1
    assert "9:00–12:00" in page.text and "Today" in page.text
    row = re.search(r'<tr data-kind="dropin">.*?</tr>', page.text, re.S).group(0)
    assert "和室" in row and ">7<" in row


def test_refusals_are_field_messages_and_nothing_is_saved(web, cc_site):
    room = care_room(cc_site)
    cal.create_booking(cc_site, {"room": room.id, "title": "デイサービス",
                                 "start": local(dt.date(2027, 6, 9), "11:00"),
                                 "end": local(dt.date(2027, 6, 9), "14:00")})
    # Another booking in the room on one of the days.
    r = web.post(EN, data={**form(room), "weekdays": ["MO", "WE"], "until": "2027-06-30"},
                 headers=HX)
    assert r.status_code == 422
    assert r.text.lstrip().startswith("<form")  # the form alone, for htmx to swap in
    assert 'id="room-error"' in r.text and "デイサービス" in r.text
    # The nap-time rule: drums next door during the nap.
    cal.create_booking(cc_site, {"room": hall(cc_site).id, "title": "太鼓", "loud": True,
                                 "start": local(dt.date(2027, 6, 14), "13:00"),
                                 "end": local(dt.date(2027, 6, 14), "14:00")})
    r = web.post(EN, data=form(room, kind=NAP, first_day="2027-06-14", start_time="12:30",
                               end_time="14:30"))
    assert r.status_code == 422 and "<html" in r.text  # a whole page without htmx
    error = re.search(r'id="room-error"[^>]*>([^<]*)<', r.text).group(1)
    assert "ホール" in error and "太鼓" in error
    # A loud session next to a nap: the message is at the loud box.
    make_session(cc_site, dt.date(2027, 6, 15), NAP, "12:30", "14:30")
    r = web.post(EN, data=form(hall(cc_site), first_day="2027-06-15", loud="on",
                               title="リトミック"))
    assert r.status_code == 422 and 'id="loud-error"' in r.text
    # An end before the start.
    r = web.post(EN, data=form(room, first_day="2027-07-05", end_time="08:00"))
    assert r.status_code == 422 and 'id="end_time-error"' in r.text
    assert Session.select().count() == 1  # only the nap made directly above
    assert not Booking.select().where(Booking.title == "リトミック").exists()


def test_opening_hours_and_the_managers_override(web, cc_site):
    hours.set_opening_hours(cc_site, [(d, dt.time(9), dt.time(17)) for d in range(5)])
    room = care_room(cc_site)
    late = form(room, start_time="17:00", end_time="19:00", first_day="2027-06-08")
    r = web.post(EN, data=late)
    assert r.status_code == 422 and 'id="start_time-error"' in r.text
    assert "Outside opening hours" in r.text  # the manager is offered the override
    assert Session.select().count() == 0
    r = web.post(EN, data={**late, "override": "on"}, follow_redirects=False)
    assert r.status_code == 303 and Session.select().count() == 1
    assert Session.get().booking.hours_override


def test_cancel_one_day_or_the_series(web, cc_site):
    session = make_session(cc_site, dt.date(2027, 6, 7), "dropin", rrule="FREQ=WEEKLY;COUNT=3")
    url = f"{PAGE}{session.id}/cancel/"
    # 9:00 local is 0:00 UTC: the second Monday's RECURRENCE-ID.
    r = web.post(url, data={"scope": "this", "occurrence": "20270614T000000Z"},
                 follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("?done=cancelled")
    live = [o.start.date() for o in cal.occurrences(cc_site, dt.date(2027, 6, 1),
                                                    dt.date(2027, 7, 1))]
    assert live == [dt.date(2027, 6, 7), dt.date(2027, 6, 21)]
    assert web.post(url, data={"scope": "this"}).status_code == 422  # which one?
    r = web.post(url, data={"scope": "all"}, headers=HX)
    assert r.status_code == 204 and r.headers["HX-Redirect"].startswith(PAGE)
    assert Booking.get_by_id(session.booking_id).status == "cancelled"
    assert not BookingOccurrence.select().where(
        (BookingOccurrence.booking == session.booking_id) & ~BookingOccurrence.cancelled).exists()
    other = make_session(cc_site, dt.date(2027, 6, 8), "dropin")
    assert web.post(f"{PAGE}{other.id + 100}/cancel/", data={"scope": "all"}).status_code == 404


@pytest.mark.parametrize("role, can_book", [("staff", False), ("viewer", False)])
def test_staff_and_viewers_see_the_sessions_but_do_not_book(cc_site, settings, role, can_book):
    room = care_room(cc_site)
    session = make_session(cc_site, dt.date(2027, 6, 8), "dropin")
    with user_client(settings, (role, cc_site), email=f"{role}@t.jp") as c:
        page = c.get(PAGE)
        assert page.status_code == 200 and ('id="session-form"' in page.text) == can_book
        assert "Every day of the series" not in c.get(EN).text
        assert c.post(PAGE, data=form(room)).status_code == 403
        assert c.post(f"{PAGE}{session.id}/cancel/", data={"scope": "all"}).status_code == 403
    assert Session.select().count() == 1
    assert Booking.get_by_id(session.booking_id).status != "cancelled"
