"""The nap-time rule: nothing loud next to (or in) a room while children nap there.

On SQLite and PostgreSQL. June 2027 has no public holiday, so the test site (holidays
closed, no opening hours) takes every booking; sessions override the hours anyway.
"""

from __future__ import annotations

import datetime as dt

import pytest

from hubcore.calendar import operations as cal
from hubcore.calendar.models import Booking
from hubcore.errors import Invalid
from hubcore.rooms.models import Room
from plugins.childcare.models import NAP, Session
from plugins.childcare.sessions import adopt_booking, cancel_session, create_session
from plugins.childcare.testing import care_room, local, make_session

DAY = dt.date(2027, 6, 8)  # a Tuesday


@pytest.fixture
def rooms(cc_site):
    """和室 (the nap room) next to ホール; 相談室 next to nothing."""
    nap_room = care_room(cc_site)
    hall = Room.get((Room.site == cc_site) & (Room.name == "ホール"))
    quiet = Room.create(site=cc_site, name="相談室", capacity=4)
    cal.set_adjacent(cc_site, nap_room, hall)
    return nap_room, hall, quiet


def book(site, room, start: str, end: str, *, loud: bool = False, day: dt.date = DAY,
         **extra) -> Booking:
    return cal.create_booking(site, {"room": room.id, "title": extra.pop("title", "リトミック"),
                                     "start": local(day, start), "end": local(day, end),
                                     "loud": loud, **extra})


def nap(site, day: dt.date = DAY, start: str = "12:30", end: str = "14:30", **kw):
    return make_session(site, day, NAP, start, end, **kw)


def test_a_loud_booking_next_to_a_nap_is_refused_naming_room_and_time(cc_site, rooms,
                                                                      in_english):
    nap_room, hall, _quiet = rooms
    nap(cc_site)
    before = Booking.select().count()
    with pytest.raises(Invalid) as exc:
        book(cc_site, hall, "14:00", "15:00", loud=True)
    message = exc.value.errors["__all__"]
    assert "和室" in message and "2027-06-08 12:30–14:30" in message
    assert Booking.select().count() == before  # nothing saved
    # The same class, quiet, is fine; so is the loud one after the nap.
    assert book(cc_site, hall, "13:00", "14:00").id
    assert book(cc_site, hall, "14:30", "15:30", loud=True, title="太鼓").id


def test_a_nap_next_to_a_loud_booking_is_refused(cc_site, rooms, in_english):
    nap_room, hall, _quiet = rooms
    book(cc_site, hall, "13:00", "14:00", loud=True, title="太鼓")
    with pytest.raises(Invalid) as exc:
        nap(cc_site)
    message = exc.value.errors["__all__"]
    assert "ホール" in message and "太鼓" in message and "13:00–14:00" in message
    assert Session.select().count() == 0
    assert not cal.occurrences(cc_site, DAY, DAY + dt.timedelta(days=1), room=nap_room)
    # Another day, or a nap that ends before the drums, is fine.
    assert nap(cc_site, DAY + dt.timedelta(days=1)).kind == NAP
    assert nap(cc_site, start="11:00", end="13:00").kind == NAP


def test_other_rooms_quiet_bookings_and_other_sessions_are_not_concerned(cc_site, rooms):
    nap_room, hall, quiet = rooms
    nap(cc_site)
    # 相談室 is next to nothing: loud there is nobody's business.
    assert book(cc_site, quiet, "13:00", "14:00", loud=True).id
    # A drop-in session (not a nap) in the hall during the nap, quiet: fine.
    make_session(cc_site, DAY, "dropin", "12:00", "15:00", room=hall)


def test_no_nap_session_means_no_rule(cc_site, rooms):
    nap_room, hall, _quiet = rooms
    # A drop-in session and a plain booking titled 午睡 are not nap sessions.
    make_session(cc_site, DAY, "dropin", "09:00", "12:00")
    book(cc_site, nap_room, "12:30", "14:30", title="午睡")
    assert book(cc_site, hall, "09:00", "15:00", loud=True, title="運動会の練習").loud


def test_buffers_count_and_a_series_is_refused_for_one_clash(cc_site, rooms, in_english):
    nap_room, hall, _quiet = rooms
    nap(cc_site, DAY + dt.timedelta(weeks=2))
    # 14:45 with 30 minutes of setting up the drums: the noise starts at 14:15.
    with pytest.raises(Invalid):
        book(cc_site, hall, "14:45", "15:30", loud=True, setup_minutes=30,
             day=DAY + dt.timedelta(weeks=2))
    # A weekly loud series meets the nap in its third week only: refused all the same.
    with pytest.raises(Invalid) as exc:
        book(cc_site, hall, "13:00", "14:00", loud=True, rrule="FREQ=WEEKLY;COUNT=4")
    assert "2027-06-22" in exc.value.errors["__all__"]
    assert not Booking.select().where(Booking.loud).exists()


def test_a_cancelled_nap_frees_the_room_next_door(cc_site, rooms):
    nap_room, hall, _quiet = rooms
    weekly = nap(cc_site, rrule="FREQ=WEEKLY;COUNT=3")
    cancel_session(weekly, "this", local(DAY, "12:30"))
    assert book(cc_site, hall, "13:00", "14:00", loud=True).id  # the nap was cancelled
    with pytest.raises(Invalid):  # but the next week's nap is still on
        book(cc_site, hall, "13:00", "14:00", loud=True, day=DAY + dt.timedelta(weeks=1))


def test_moving_a_nap_or_making_a_booking_a_nap_is_checked_too(cc_site, rooms, in_english):
    nap_room, hall, _quiet = rooms
    book(cc_site, hall, "15:00", "16:00", loud=True, title="太鼓")
    session = nap(cc_site)
    # Moving the nap (an existing session: found by its booking) into the drums: refused.
    with pytest.raises(Invalid) as exc:
        cal.move_occurrence(session.booking, local(DAY, "12:30"), local(DAY, "14:30"),
                            local(DAY, "16:30"))
    assert "太鼓" in exc.value.errors["__all__"]
    # A plain calendar booking made a nap session is checked like a new nap.
    plain = book(cc_site, nap_room, "15:00", "16:30", title="午睡(延長)")
    with pytest.raises(Invalid):
        adopt_booking(cc_site, plain, NAP)
    assert Booking.get_by_id(plain.id).program == "calendar"
    quiet = book(cc_site, nap_room, "17:00", "18:00", title="夕方の午睡")
    adopted = adopt_booking(cc_site, quiet, NAP, capacity=6)
    assert adopted.kind == NAP and Booking.get_by_id(quiet.id).program == "childcare"


def test_a_shareable_nap_room_takes_no_loud_booking_during_the_nap(cc_site, rooms):
    _nap_room, hall, _quiet = rooms
    hall.shareable = True
    hall.save()
    create_session(cc_site, NAP, {"room": hall.id, "title": "午睡", "start": local(DAY, "12:30"),
                                  "end": local(DAY, "14:30"), "attendance": 8}, override=True)
    with pytest.raises(Invalid):
        book(cc_site, hall, "13:00", "14:00", loud=True, attendance=5)
    assert book(cc_site, hall, "13:00", "14:00", attendance=5).id  # quietly: fine
