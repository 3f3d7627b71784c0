"""Attendance: check-in (with its core visit), check-out by authorised people only, late
minutes at the closing boundary, who is expected today, staff, 親子ひろば head counts."""

from __future__ import annotations

import datetime as dt

import pytest

from hubcore.errors import Invalid
from hubcore.reports.models import Visit
from hubcore.rooms.models import Room
from plugins.childcare import attendance as att
from plugins.childcare import reservations as res
from plugins.childcare.models import (
    Attendance,
    Enrolment,
    HeadCount,
    PickupPerson,
    Settings,
    Staff,
    StaffAttendance,
)
from plugins.childcare.testing import care_room, local, make_child, make_session

DAY = dt.date(2027, 6, 8)  # a Tuesday
BIRTH = dt.date(2023, 8, 1)


@pytest.fixture
def child(cc_site):
    return make_child(cc_site, BIRTH)


@pytest.fixture
def mother(child):
    return PickupPerson.create(child=child, name="佐藤 花子", relation="母",
                               note="眼鏡、白い軽自動車")


def hall(site) -> Room:
    return Room.get((Room.site == site) & (Room.name == "ホール"))


def stay(site, child, hhmm="09:00", **kw) -> Attendance:
    return att.check_in(site, child, care_room(site), local(DAY, hhmm), **kw)


def test_check_in_records_a_core_visit(cc_site, child):
    make_session(cc_site, DAY)
    r = res.reserve(cc_site, child, care_room(cc_site), DAY, "09:00", "12:00", lunch=True)
    a = stay(cc_site, child, "09:05")
    assert a.reservation_id == r.id and a.program == "dropin" and a.day == DAY
    assert a.lunch and not a.snack  # meals come from the reservation
    visit = Visit.get()
    assert (visit.person_id, visit.program, visit.day) == (child.person_id, "childcare", DAY)
    assert visit.session == f"dropin:{care_room(cc_site).id}:2027-06-08"


def test_check_in_twice_is_refused(cc_site, child, in_english):
    stay(cc_site, child, "09:00")
    with pytest.raises(Invalid) as exc:
        stay(cc_site, child, "09:10")
    assert "already checked in (since 09:00)" in exc.value.errors["child_id"]
    assert Attendance.select().count() == 1 and Visit.select().count() == 1


def test_check_in_takes_a_place_of_today_only(cc_site, child):
    make_session(cc_site, DAY + dt.timedelta(days=1))
    r = res.reserve(cc_site, child, care_room(cc_site), DAY + dt.timedelta(days=1),
                    "09:00", "12:00")
    with pytest.raises(Invalid) as exc:
        stay(cc_site, child, reservation=r.id)
    assert list(exc.value.errors) == ["reservation_id"]
    with pytest.raises(ValueError):  # a programming error, not a user's
        att.check_in(cc_site, child, care_room(cc_site), dt.datetime(2027, 6, 8, 9))
    assert Attendance.select().count() == 0


def test_check_out_by_an_authorised_person(cc_site, child, mother):
    a = stay(cc_site, child)
    done = att.check_out(cc_site, a, mother.id, local(DAY, "16:30"))
    assert done.checked_out_at == local(DAY, "16:30")
    assert (done.picked_up_by_id, done.picked_up_name, done.late_minutes) == \
        (mother.id, "佐藤 花子", 0)
    # A second check-out of the same stay is refused.
    with pytest.raises(Invalid):
        att.check_out(cc_site, a, mother.id, local(DAY, "16:40"))


@pytest.mark.parametrize("who", ["nobody", "other child's", "inactive"])
def test_pickup_refusal_saves_nothing(cc_site, child, mother, in_english, who):
    a = stay(cc_site, child)
    settings_rows = Settings.select().count()
    other = make_child(cc_site, BIRTH)
    grandpa = PickupPerson.create(child=other, name="鈴木 一郎", relation="祖父")
    aunt = PickupPerson.create(child=child, name="佐藤 陽子", relation="叔母", active=False)
    pickup = {"nobody": None, "other child's": grandpa.id, "inactive": aunt.id}[who]
    with pytest.raises(Invalid) as exc:
        att.check_out(cc_site, a, pickup, local(DAY, "19:00"), name="山田 太郎")
    expected = {"nobody": "山田 太郎", "other child's": "鈴木 一郎", "inactive": "佐藤 陽子"}[who]
    assert exc.value.errors["pickup"] == \
        f"{expected} is not authorised to collect {child.person.full_name}."
    row = Attendance.get_by_id(a.id)
    assert (row.checked_out_at, row.picked_up_by_id, row.picked_up_name, row.late_minutes) == \
        (None, None, "", 0)
    assert Settings.select().count() == settings_rows


@pytest.mark.parametrize(("out", "late"), [("17:59", 0), ("18:00", 0), ("18:00:59", 0),
                                            ("18:01", 1), ("18:25", 25), ("19:10", 70)])
def test_late_minutes_at_the_closing_boundary(cc_site, child, mother, out, late):
    Settings.delete().execute()
    Settings.create(site=cc_site, closing_time="18:00")
    a = stay(cc_site, child)
    when = dt.datetime.combine(DAY, dt.time.fromisoformat(out), local(DAY, "00:00").tzinfo)
    assert att.check_out(cc_site, a, mother.id, when).late_minutes == late


def test_settings_are_made_with_defaults_on_first_check_out(cc_site, child, mother):
    Settings.delete().execute()  # e.g. a site switched on before settings existed
    a = stay(cc_site, child)
    assert att.check_out(cc_site, a, mother.id, local(DAY, "18:30")).late_minutes == 30
    assert Settings.get(Settings.site == cc_site).closing_time == "18:00"


def test_expected_today_with_states(cc_site, mother):
    make_session(cc_site, DAY)  # drop-in 9–17 in the care room
    make_session(cc_site, DAY, kind="afterschool", start="14:00", end="18:00",
                 room=hall(cc_site))
    room = care_room(cc_site)
    booked = mother.child
    later = make_child(cc_site, BIRTH, given="あお")
    waiting = make_child(cc_site, BIRTH)
    club = make_child(cc_site, dt.date(2018, 5, 1))
    left = make_child(cc_site, dt.date(2018, 5, 1))
    walk_in = make_child(cc_site, BIRTH)
    Enrolment.create(site=cc_site, child=club, first_month=dt.date(2027, 4, 1))
    Enrolment.create(site=cc_site, child=left, first_month=dt.date(2027, 4, 1),
                     last_month=dt.date(2027, 5, 1))  # left the club in May
    r1 = res.reserve(cc_site, booked, room, DAY, "09:00", "12:00")
    res.reserve(cc_site, later, room, DAY, "13:00", "16:00")
    make_session(cc_site, DAY + dt.timedelta(days=1), capacity=1)
    res.reserve(cc_site, waiting, room, DAY + dt.timedelta(days=1), "09:00", "12:00")
    a = att.check_in(cc_site, booked, room, local(DAY, "09:02"))
    att.check_out(cc_site, a, mother.id, local(DAY, "12:00"))
    att.check_in(cc_site, walk_in, room, local(DAY, "10:00"))
    att.check_in(cc_site, club, hall(cc_site), local(DAY, "14:10"), program="afterschool")
    entries = att.expected_today(cc_site, DAY)
    states = {e.child.id: (e.program, e.state) for e in entries}
    assert states == {booked.id: ("dropin", "out"), later.id: ("dropin", "expected"),
                      walk_in.id: ("dropin", "in"), club.id: ("afterschool", "in")}
    assert next(e for e in entries if e.child.id == booked.id).reservation.id == r1.id
    # The next day: no after-school session, so the club is not expected; only the
    # child with a place is.
    assert [(e.child.id, e.state) for e in
            att.expected_today(cc_site, DAY + dt.timedelta(days=1))] == [(waiting.id, "expected")]
    assert len(att.present(cc_site, DAY)) == 2


def test_club_children_expected_only_on_days_with_a_club_session(cc_site):
    club = make_child(cc_site, dt.date(2018, 5, 1))
    Enrolment.create(site=cc_site, child=club, first_month=dt.date(2027, 6, 1))
    assert att.expected_today(cc_site, DAY) == []
    make_session(cc_site, DAY, kind="afterschool", start="14:00", end="18:00")
    [e] = att.expected_today(cc_site, DAY)
    assert (e.child.id, e.state, att.hhmm(cc_site, e.start)) == (club.id, "expected", "14:00")
    # Enrolled from July: not expected in June.
    Enrolment.update(first_month=dt.date(2027, 7, 1)).execute()
    assert att.expected_today(cc_site, DAY) == []


def test_staff_in_move_and_out(cc_site, in_english):
    member = Staff.create(site=cc_site, name="高橋 美咲")
    room, other = care_room(cc_site), hall(cc_site)
    att.staff_check_in(cc_site, member, room, local(DAY, "08:30"))
    with pytest.raises(Invalid) as exc:
        att.staff_check_in(cc_site, member, other, local(DAY, "09:00"))
    assert "already in 和室" in exc.value.errors["staff_id"]
    moved = att.staff_move(cc_site, member, other, local(DAY, "10:00"))
    rows = list(StaffAttendance.select().order_by(StaffAttendance.id))
    assert [(r.room_id, r.checked_in_at, r.checked_out_at) for r in rows] == [
        (room.id, local(DAY, "08:30"), local(DAY, "10:00")),
        (other.id, local(DAY, "10:00"), None)]
    assert moved.id == rows[1].id
    [state] = att.staff_today(cc_site, DAY)
    assert state.current.room_id == other.id
    att.staff_check_out(cc_site, member, local(DAY, "17:00"))
    with pytest.raises(Invalid):
        att.staff_check_out(cc_site, member, local(DAY, "17:05"))
    assert att.staff_today(cc_site, DAY)[0].current is None


def test_head_counts_never_go_below_zero(cc_site):
    room = care_room(cc_site)
    att.change_head_count(cc_site, room, DAY, 10, children=1)
    att.change_head_count(cc_site, room, DAY, 10, children=1, adults=1)
    row = att.change_head_count(cc_site, room, DAY, 10, adults=-1)
    assert (row.children, row.adults) == (2, 0)
    row = att.change_head_count(cc_site, room, DAY, 10, adults=-1)
    assert (row.children, row.adults) == (2, 0)
    att.change_head_count(cc_site, room, DAY, 11, adults=1)
    assert [(h.hour, h.children, h.adults) for h in att.head_counts(cc_site, DAY)] == \
        [(10, 2, 0), (11, 0, 1)]
    with pytest.raises(Invalid):
        att.change_head_count(cc_site, room, DAY, 24, children=1)
    assert HeadCount.select().count() == 2
