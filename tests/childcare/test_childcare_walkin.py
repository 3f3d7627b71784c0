"""Walk-ins at the front desk: a child with no reservation arrives at drop-in care. A place
is booked from now and the child checked in on it, both or neither — a full session, a
child already in or no session running refuses and saves nothing."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from hubcore.errors import Invalid
from hubcore.people.operations import create_person_from_parts
from hubcore.reports.models import Visit
from hubcore.rooms.models import Room
from hubcore.testing import make_user
from plugins.childcare import attendance as att
from plugins.childcare import reservations as res
from plugins.childcare.models import Attendance, Child, Reservation
from plugins.childcare.sessions import create_session
from plugins.childcare.testing import care_room, local, make_child, make_household, make_session

DAY = dt.date(2027, 6, 8)  # a Tuesday
HX = {"HX-Request": "true"}
BASE = "/s/test-site/childcare/"


def hall(site) -> Room:
    return Room.get((Room.site == site) & (Room.name == "ホール"))


def kid(site, family: str, kana: str) -> Child:
    """A child whose family name's kana decides the 五十音 order."""
    person = create_person_from_parts(site, household=make_household(site), family_name=family,
                                      given_name="ゆい", family_name_kana=kana,
                                      given_name_kana="ユイ", birth_date=dt.date(2023, 5, 1),
                                      relationship="子")
    return Child.create(site=site, person=person)


def saved() -> tuple[int, int, int]:
    return Reservation.select().count(), Attendance.select().count(), Visit.select().count()


@pytest.fixture
def child(cc_site):
    return make_child(cc_site, dt.date(2023, 8, 1))


# --- the operation ---------------------------------------------------------------


def test_walk_in_books_from_this_minute_and_checks_in(cc_site, child):
    make_session(cc_site, DAY, start="09:00", end="17:00")
    at = local(DAY, "10:07") + dt.timedelta(seconds=42)
    a = att.walk_in(cc_site, child, care_room(cc_site), at=at, lunch=True)
    place = Reservation.get()
    assert a.reservation_id == place.id and a.checked_in_at == at and a.day == DAY
    assert (place.status, place.program, place.day) == ("booked", "dropin", DAY)
    assert (res.hhmm(cc_site, place.start_at), res.hhmm(cc_site, place.end_at)) == (
        "10:07", "17:00")  # from the minute, to the end of the session
    assert place.lunch and not place.snack and a.lunch and not a.snack
    assert Visit.get().person_id == child.person_id
    # The card shows the place, checked in.
    (card,) = att.expected_today(cc_site, DAY)
    assert (card.reservation.id, card.state) == (place.id, att.IN)


def test_walk_in_until_a_time(cc_site, child):
    make_session(cc_site, DAY, start="09:00", end="17:00")
    att.walk_in(cc_site, child, care_room(cc_site), at=local(DAY, "13:00"), until="15:30",
                snack=True)
    place = Reservation.get()
    assert res.hhmm(cc_site, place.end_at) == "15:30" and place.snack
    assert Attendance.get().snack


def test_full_session_refuses_and_saves_nothing(cc_site, child, in_english):
    make_session(cc_site, DAY, start="09:00", end="17:00", capacity=1)
    other = make_child(cc_site, dt.date(2022, 9, 1))
    res.reserve(cc_site, other, care_room(cc_site), DAY, "09:00", "17:00")
    before = saved()
    with pytest.raises(Invalid) as exc:
        att.walk_in(cc_site, child, care_room(cc_site), at=local(DAY, "10:00"))
    assert "和室 is full from 10:00 to 17:00 (1 children at once)." in exc.value.errors["start"]
    assert saved() == before == (1, 0, 0)
    assert not Reservation.select().where(Reservation.child == child).exists()


def test_child_already_in_refuses_and_leaves_no_reservation(cc_site, child, in_english):
    """The place is reserved first, then the check-in refuses: the place goes too."""
    make_session(cc_site, DAY, start="09:00", end="17:00")
    att.check_in(cc_site, child, care_room(cc_site), local(DAY, "09:00"))  # no place
    assert saved() == (0, 1, 1)
    with pytest.raises(Invalid) as exc:
        att.walk_in(cc_site, child, care_room(cc_site), at=local(DAY, "11:00"))
    assert "already checked in (since 09:00)" in exc.value.errors["child_id"]
    assert saved() == (0, 1, 1)


def test_outside_any_session_refuses(cc_site, child, in_english):
    make_session(cc_site, DAY, start="09:00", end="12:00")
    make_session(cc_site, DAY, start="13:00", end="17:00")
    for hhmm in ("08:59", "12:00", "12:30", "17:00"):
        with pytest.raises(Invalid) as exc:
            att.walk_in(cc_site, child, care_room(cc_site), at=local(DAY, hhmm))
        assert exc.value.errors == {"room_id": "和室 has no drop-in session running now."}
    with pytest.raises(Invalid) as exc:  # until past the end of the session
        att.walk_in(cc_site, child, care_room(cc_site), at=local(DAY, "11:00"), until="14:00")
    assert "no drop-in care session covering 11:00–14:00" in exc.value.errors["start"]
    with pytest.raises(Invalid) as exc:  # until before now
        att.walk_in(cc_site, child, care_room(cc_site), at=local(DAY, "11:00"), until="10:00")
    assert list(exc.value.errors) == ["end"]
    with pytest.raises(Invalid) as exc:  # a room with no session at all
        att.walk_in(cc_site, child, hall(cc_site), at=local(DAY, "10:00"))
    assert list(exc.value.errors) == ["room_id"]
    assert saved() == (0, 0, 0)
    # In the afternoon session, from its first minute: to its end.
    att.walk_in(cc_site, child, care_room(cc_site), at=local(DAY, "13:00"))
    assert res.hhmm(cc_site, Reservation.get().end_at) == "17:00"


def test_walk_in_choices(cc_site):
    make_session(cc_site, DAY, start="08:00", end="10:00", room=hall(cc_site))  # over by 11
    make_session(cc_site, DAY, start="09:00", end="12:00")
    make_session(cc_site, DAY, start="14:00", end="17:00")  # later today
    make_session(cc_site, DAY, kind="hiroba", start="10:00", end="12:00", room=hall(cc_site))
    yamada, abe, sato = kid(cc_site, "山田", "ヤマダ"), kid(cc_site, "阿部", "アベ"), \
        kid(cc_site, "佐藤", "サトウ")
    gone = kid(cc_site, "伊藤", "イトウ")
    Child.update(active=False).where(Child.id == gone.id).execute()
    att.check_in(cc_site, sato, care_room(cc_site), local(DAY, "10:30"))
    children, rooms = att.walk_in_choices(cc_site, local(DAY, "11:00"))
    assert [c.id for c in children] == [abe.id, yamada.id]  # 五十音; not in, still active
    ((room, sits),) = rooms
    assert room.id == care_room(cc_site).id
    assert [(res.hhmm(cc_site, s.start), res.hhmm(cc_site, s.end)) for s in sits] == [
        ("09:00", "12:00"), ("14:00", "17:00")]
    # Once home, a child may come back as a walk-in.
    stay = Attendance.get(Attendance.child == sato)
    Attendance.update(checked_out_at=local(DAY, "11:30")).where(
        Attendance.id == stay.id).execute()
    children, _rooms = att.walk_in_choices(cc_site, local(DAY, "12:00"))
    assert [c.id for c in children] == [abe.id, sato.id, yamada.id]


# --- the tablet ------------------------------------------------------------------


def all_day(site, day: dt.date, capacity: int | None = None):
    """A drop-in session covering the whole day, so "now" is always inside it."""
    room = care_room(site)
    return create_session(site, "dropin", {
        "room": room.id, "title": "一時預かり", "start": local(day, "00:00"),
        "end": local(day + dt.timedelta(days=1), "00:00"), "rrule": ""},
        capacity=capacity, override=True)


@pytest.fixture
def today(cc_site):
    return res.site_today(cc_site)


@pytest.fixture
def web(cc_site, client):
    client.cookies.set("lang", "en")
    return client


def walkin_select(page: str) -> str:
    return re.search(r'<select id="walkin-child".*?</select>', page, re.S).group(0)


def test_tablet_walk_in_appears_checked_in(web, cc_site, child, today):
    all_day(cc_site, today)
    page = web.get(BASE + "tablet/")
    assert page.status_code == 200 and 'id="walkin-form"' in page.text
    assert not re.search(r"<script(?![^>]*\bsrc=)", page.text) and "style=" not in page.text
    assert f'value="{child.id}"' in walkin_select(page.text)
    assert f'<option value="{care_room(cc_site).id}" >和室 00:00–00:00</option>' in page.text
    r = web.post(BASE + "tablet/walkin/", headers=HX, data={
        "child_id": str(child.id), "room_id": str(care_room(cc_site).id), "lunch": "on"})
    assert r.status_code == 200 and "<html" not in r.text
    assert "checked in at" in r.text and "walk-in, until 00:00" in r.text
    place, stay = Reservation.get(), Attendance.get()
    assert stay.reservation_id == place.id and place.lunch and place.status == "booked"
    assert f'id="card-r{place.id}" data-state="in" data-child="{child.id}"' in r.text
    # The child is in now: no longer offered, so the form says there is no one left.
    assert 'id="walkin-form"' not in r.text and "No other registered child" in r.text
    # Without htmx: back to the tablet.
    other = make_child(cc_site, dt.date(2022, 9, 1))
    r = web.post(BASE + "tablet/walkin/", follow_redirects=False, data={
        "child_id": str(other.id), "room_id": str(care_room(cc_site).id), "until": "23:45"})
    assert r.status_code == 303 and r.headers["location"] == BASE + "tablet/"
    assert res.hhmm(cc_site, Reservation.get(Reservation.child == other).end_at) == "23:45"


def test_tablet_full_session_refuses_in_the_form(web, cc_site, child, today):
    all_day(cc_site, today, capacity=1)
    other = make_child(cc_site, dt.date(2022, 9, 1))
    res.reserve(cc_site, other, care_room(cc_site), today, local(today, "00:00"),
                local(today + dt.timedelta(days=1), "00:00"))
    r = web.post(BASE + "tablet/walkin/", headers=HX, data={
        "child_id": str(child.id), "room_id": str(care_room(cc_site).id), "snack": "on"})
    assert r.status_code == 422
    error = re.search(r'<p class="tablet-refusal" role="alert" id="walkin-error">(.*?)</p>',
                      r.text, re.S)
    assert error and "和室 is full from" in error.group(1)
    assert f'<option value="{child.id}" selected>' in r.text  # the form keeps its choices
    assert 'name="snack" value="on" checked' in r.text
    assert saved() == (1, 0, 0)
    r = web.post(BASE + "tablet/walkin/", data={  # no htmx: the whole page, 422
        "child_id": str(child.id), "room_id": str(care_room(cc_site).id)})
    assert r.status_code == 422 and "<html" in r.text and 'id="walkin-error"' in r.text
    assert saved() == (1, 0, 0)


def test_tablet_child_already_in_refuses_without_a_place(web, cc_site, child, today):
    all_day(cc_site, today)
    att.check_in(cc_site, child, care_room(cc_site))  # in, with no place
    assert f'value="{child.id}"' not in web.get(BASE + "tablet/").text.split(
        'id="walkin"')[1]
    r = web.post(BASE + "tablet/walkin/", headers=HX, data={  # e.g. a second desk's form
        "child_id": str(child.id), "room_id": str(care_room(cc_site).id)})
    assert r.status_code == 422 and "already checked in" in r.text
    assert saved() == (0, 1, 1)


def test_tablet_outside_any_session_and_bad_input(web, cc_site, child, today):
    all_day(cc_site, today)
    r = web.post(BASE + "tablet/walkin/", headers=HX, data={
        "child_id": str(child.id), "room_id": str(hall(cc_site).id)})
    assert r.status_code == 422
    assert re.search(r'id="room_id-error"[^>]*>ホール has no drop-in session running now.<',
                     r.text)
    cases = [({}, "child_id"),
             ({"child_id": str(child.id), "room_id": "x"}, "room_id"),
             ({"child_id": str(child.id), "room_id": str(care_room(cc_site).id),
               "until": "25:00"}, "until")]
    for data, field in cases:
        r = web.post(BASE + "tablet/walkin/", headers=HX, data=data)
        assert r.status_code == 422 and f'id="{field}-error"' in r.text, (field, r.text)
    assert saved() == (0, 0, 0)


def test_no_session_today_shows_no_form(web, cc_site, child, today):
    make_session(cc_site, today + dt.timedelta(days=1))
    page = web.get(BASE + "tablet/", headers=HX)
    assert 'id="walkin-form"' not in page.text
    assert "No drop-in session is open for the rest of today." in page.text


def test_viewer_cannot_walk_in(cc_site, login_as, child, today):
    all_day(cc_site, today)
    make_user("viewer@cc.example.jp", ("viewer", cc_site))
    viewer = login_as("viewer@cc.example.jp")
    r = viewer.post(BASE + "tablet/walkin/", headers=HX, data={
        "child_id": str(child.id), "room_id": str(care_room(cc_site).id)})
    assert r.status_code == 403
    assert saved() == (0, 0, 0)
    make_user("staff@cc.example.jp", ("staff", cc_site))
    staff = login_as("staff@cc.example.jp")
    r = staff.post(BASE + "tablet/walkin/", headers=HX, data={
        "child_id": str(child.id), "room_id": str(care_room(cc_site).id)})
    assert r.status_code == 200 and saved() == (1, 1, 1)
