"""The ratio board's operations: who is present now, the day grid, the forecast, the report."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from hubcore.rooms.models import Room
from plugins.childcare import board
from plugins.childcare.models import (
    BOOKED,
    CANCELLED,
    WAITLISTED,
    Attendance,
    Enrolment,
    Reservation,
    Staff,
    StaffAttendance,
)
from plugins.childcare.ratios import Band, set_rules
from plugins.childcare.testing import care_room, local, make_child, make_session

DAY = dt.date(2026, 6, 10)  # a Wednesday of school year 2026
# Birth dates giving these class ages in school year 2026.
BORN = {0: dt.date(2025, 6, 1), 1: dt.date(2024, 6, 1), 2: dt.date(2023, 6, 1),
        3: dt.date(2022, 6, 1), 4: dt.date(2021, 6, 1), 7: dt.date(2018, 6, 1)}
_staff_names = itertools.count(1)


def child(site, age: int | None):
    return make_child(site, BORN[age] if age is not None else None)


def attend(site, kid, start: str, end: str | None = None, day: dt.date = DAY, room=None):
    return Attendance.create(site=site, child=kid, room=room or care_room(site), day=day,
                             checked_in_at=local(day, start),
                             checked_out_at=local(day, end) if end else None)


def children_in(site, ages, start: str, end: str | None = None, day: dt.date = DAY,
                room=None) -> None:
    for age in ages:
        attend(site, child(site, age), start, end, day, room)


def on_duty(site, start: str, end: str | None = None, day: dt.date = DAY, room=None,
            qualified: bool = True):
    member = Staff.create(site=site, name=f"職員{next(_staff_names)}", qualified=qualified)
    return StaffAttendance.create(site=site, staff=member, room=room or care_room(site), day=day,
                                  checked_in_at=local(day, start),
                                  checked_out_at=local(day, end) if end else None)


def hall(site) -> Room:
    return Room.get((Room.site == site) & (Room.name == "ホール"))


def hour(h: int, day: dt.date = DAY) -> dt.datetime:
    return local(day, f"{h:02d}:00")


# --- now ----------------------------------------------------------------------------------


def test_now_counts_who_is_checked_in_at_that_moment(cc_site):
    children_in(cc_site, [0, 0, 0], "09:00")  # still here
    children_in(cc_site, [0], "09:00", "09:59")  # gone before 10:00
    children_in(cc_site, [0], "10:01", "12:00")  # not yet here at 10:00
    children_in(cc_site, [1, 2], "08:30", "10:00")  # leaves exactly at 10:00: gone
    on_duty(cc_site, "08:00")
    on_duty(cc_site, "08:00", "09:30")
    status = board.now_status(cc_site, local(DAY, "10:00"))
    (room,) = status.rooms  # the care room only: nobody is in ホール
    assert room.room.name == "和室"
    assert room.children == 3 and [b.children for b in room.bands] == [3, 0, 0, 0]
    assert (room.staff, room.required, room.short) == (1, 1, 0)
    assert status.short_rooms == []


def test_now_says_how_many_staff_are_short(cc_site):
    children_in(cc_site, [0, 0, 0, 0, 1, 1], "09:00")
    on_duty(cc_site, "08:30")
    room = board.now_status(cc_site, local(DAY, "11:00")).rooms[0]
    # 4/3 + 2/6 = 5/3 → 2 staff under the safe rule; one is here.
    assert (room.children, room.staff, room.required, room.short) == (6, 1, 2, 1)
    assert board.now_status(cc_site, local(DAY, "11:00")).policy.rounding == "sum"


def test_now_shows_another_room_only_when_someone_is_in_it(cc_site):
    children_in(cc_site, [7] * 3, "14:00", room=hall(cc_site))
    status = board.now_status(cc_site, local(DAY, "15:00"))
    by_name = {r.room.name: r for r in status.rooms}
    assert set(by_name) == {"和室", "ホール"}
    assert (by_name["ホール"].children, by_name["ホール"].short) == (3, 1)
    assert by_name["和室"].required == 0  # an empty room needs nobody


def test_now_uses_the_municipality_minimum_and_counts_a_missing_birth_date_as_youngest(cc_site):
    set_rules(cc_site.municipality, dt.date(2026, 4, 1), [Band(0, 0, 3), Band(1, None, 6)],
              minimum_staff=2)
    children_in(cc_site, [None, None, None, None], "09:00")
    on_duty(cc_site, "09:00")
    room = board.now_status(cc_site, local(DAY, "09:30")).rooms[0]
    assert room.bands[0].children == 4  # the youngest band: 3:1
    assert (room.required, room.short) == (2, 1)
    assert board.now_status(cc_site, local(DAY, "09:30")).policy.from_municipality


# --- the day grid -----------------------------------------------------------------------------


def test_the_grid_catches_a_short_moment_inside_an_hour(cc_site):
    children_in(cc_site, [0, 0, 0, 0], "09:00", "12:00")  # need 2 staff all morning
    on_duty(cc_site, "09:00", "12:00")
    on_duty(cc_site, "09:00", "10:20")  # steps out at 10:20…
    on_duty(cc_site, "10:45", "12:00")  # …the next one arrives at 10:45
    grid = board.day_grid(cc_site, DAY)
    room = care_room(cc_site)
    assert grid.hours == (hour(9), hour(10), hour(11))
    nine, ten, eleven = (grid.cell(room.id, hour(h)) for h in (9, 10, 11))
    # On the hour marks (10:00 and 11:00) two staff were there: only the change points
    # inside the hour show the gap.
    assert nine.met and eleven.met
    assert not ten.met and ten.short_by == 1 and ten.short_at == local(DAY, "10:20")
    assert (ten.children, ten.staff, ten.required) == (4, 1, 2)
    assert grid.short_cells == [ten]


def test_a_child_arriving_before_the_staff_makes_the_hour_short(cc_site):
    children_in(cc_site, [1] * 6, "13:00", "15:00")
    on_duty(cc_site, "13:00", "15:00")
    children_in(cc_site, [1], "13:40", "15:00")  # the 7th one-year-old: 2 staff needed
    on_duty(cc_site, "13:50", "15:00")
    grid = board.day_grid(cc_site, DAY)
    one, two = grid.cell(care_room(cc_site).id, hour(13)), grid.cell(care_room(cc_site).id,
                                                                       hour(14))
    assert not one.met and one.short_at == local(DAY, "13:40") and one.required == 2
    assert two.met and (two.children, two.staff) == (7, 2)


def test_the_grid_shows_the_peak_by_band_and_the_hours_of_sessions(cc_site):
    make_session(cc_site, DAY, "dropin", "08:00", "17:00")
    children_in(cc_site, [0, 0, 1], "09:00", "11:00")
    children_in(cc_site, [2, 3, 4], "10:30", "12:00")
    children_in(cc_site, [4], "07:30", "08:15")  # before the session: the grid starts at 7
    on_duty(cc_site, "07:30", "17:00")
    on_duty(cc_site, "09:00", "12:00")
    grid = board.day_grid(cc_site, DAY)
    assert grid.hours[0] == hour(7) and grid.hours[-1] == hour(16)
    cell = grid.cell(care_room(cc_site).id, hour(10))
    assert cell.children == 6  # the busiest moment: 10:30–11:00
    assert [b.children for b in cell.bands] == [2, 2, 1, 1]
    # 2/3 + 2/6 + 1/15 + 1/25 = 1.107 → 2, and two were there.
    assert (cell.required, cell.staff, cell.met) == (2, 2, True)
    staff_only = grid.cell(care_room(cc_site).id, hour(15))
    assert (staff_only.children, staff_only.required, staff_only.staff_most) == (0, 0, 1)
    assert staff_only.met
    early = grid.cell(care_room(cc_site).id, hour(7))  # a child 7:30–8:15, staff from 7:30
    assert (early.children, early.staff, early.staff_most) == (1, 1, 1)
    assert grid.peak_children == 6


def test_an_open_stay_runs_until_now_today_and_to_midnight_on_a_past_day(cc_site):
    children_in(cc_site, [3], "09:10")  # never checked out
    on_duty(cc_site, "09:00", "10:00")
    today = board.day_grid(cc_site, DAY, now=local(DAY, "11:30"))
    assert today.hours == (hour(9), hour(10), hour(11))
    assert not today.cell(care_room(cc_site).id, hour(11)).met  # alone since 10:00
    later = board.day_grid(cc_site, DAY, now=local(DAY + dt.timedelta(days=2), "09:00"))
    assert later.hours[-1] == hour(23)  # a forgotten check-out shows, it does not vanish


def test_the_grid_of_an_empty_day_has_no_hours(cc_site):
    grid = board.day_grid(cc_site, DAY)
    assert grid.hours == () and grid.cells == {} and [r.name for r in grid.rooms] == ["和室"]


def test_the_grid_uses_the_rules_of_its_own_day(cc_site):
    march, april = dt.date(2024, 3, 29), dt.date(2024, 4, 1)
    # Sixteen children of the 3歳 class on each day: 20:1 before April 2024, 15:1 from then.
    for day, born in ((march, dt.date(2019, 6, 1)), (april, dt.date(2020, 6, 1))):
        for _ in range(16):
            attend(cc_site, make_child(cc_site, born), "09:00", "10:00", day=day)
        on_duty(cc_site, "09:00", "10:00", day=day)
    room = care_room(cc_site).id
    before = board.day_grid(cc_site, march).cell(room, hour(9, march))
    after = board.day_grid(cc_site, april).cell(room, hour(9, april))
    assert [b.children for b in before.bands] == [b.children for b in after.bands] == [
        0, 0, 16, 0]
    assert before.met and before.required == 1
    assert not after.met and after.required == 2


# --- the forecast ----------------------------------------------------------------------------


def reserve(site, kid, start: str, end: str, status: str = BOOKED, day: dt.date = DAY,
            room=None, program: str = "dropin"):
    return Reservation.create(site=site, child=kid, room=room or care_room(site), day=day,
                              start_at=local(day, start), end_at=local(day, end),
                              status=status, program=program)


def test_the_forecast_counts_booked_reservations_only(cc_site):
    for age in (0, 0, 0):
        reserve(cc_site, child(cc_site, age), "09:00", "12:00")
    reserve(cc_site, child(cc_site, 0), "10:30", "13:00")  # the 4th baby from 10:30
    reserve(cc_site, child(cc_site, 0), "09:00", "12:00", status=WAITLISTED)
    reserve(cc_site, child(cc_site, 0), "09:00", "12:00", status=CANCELLED)
    reserve(cc_site, child(cc_site, 0), "09:00", "12:00", day=DAY + dt.timedelta(days=1))
    grid = board.forecast(cc_site, DAY)
    room = care_room(cc_site).id
    assert grid.forecast and grid.hours == (hour(9), hour(10), hour(11), hour(12))
    nine, ten, twelve = (grid.cell(room, hour(h)) for h in (9, 10, 12))
    assert (nine.children, nine.required, nine.staff) == (3, 1, None)
    assert (ten.children, ten.required) == (4, 2)  # the peak after 10:30
    assert (twelve.children, twelve.required) == (1, 1)
    assert grid.peak_required == 2


def test_the_forecast_expects_the_enrolled_club_children_during_club_sessions(cc_site):
    make_session(cc_site, DAY, "afterschool", "14:00", "18:00", room=hall(cc_site))
    june, may, july = dt.date(2026, 6, 1), dt.date(2026, 5, 1), dt.date(2026, 7, 1)
    for _ in range(26):  # 26 school children (4歳+ band, 25:1)
        Enrolment.create(site=cc_site, child=child(cc_site, 7), first_month=may)
    Enrolment.create(site=cc_site, child=child(cc_site, 7), first_month=july)  # not yet
    Enrolment.create(site=cc_site, child=child(cc_site, 7), first_month=may, last_month=may)
    Enrolment.create(site=cc_site, child=child(cc_site, 7), first_month=june, last_month=june)
    reserve(cc_site, child(cc_site, 1), "09:00", "11:00")
    grid = board.forecast(cc_site, DAY)
    cell = grid.cell(hall(cc_site).id, hour(15))
    assert (cell.children, cell.required) == (27, 2)
    assert grid.cell(care_room(cc_site).id, hour(9)).children == 1
    assert grid.cell(hall(cc_site).id, hour(9)) is None
    assert [r.name for r in grid.rooms] == ["和室", "ホール"]
    # No club session the next day: nobody from the club is expected.
    assert board.forecast(cc_site, DAY + dt.timedelta(days=1)).cells == {}


def test_a_club_reservation_stands_in_for_the_enrolment(cc_site):
    make_session(cc_site, DAY, "afterschool", "14:00", "18:00", room=hall(cc_site))
    kid = child(cc_site, 7)
    Enrolment.create(site=cc_site, child=kid, first_month=dt.date(2026, 4, 1))
    reserve(cc_site, kid, "15:00", "17:00", room=hall(cc_site), program="afterschool")
    stays = board.expected_stays(cc_site, DAY)
    assert [(s.start, s.end) for s in stays] == [(local(DAY, "15:00"), local(DAY, "17:00"))]


# --- the report: how often the ratio was met ---------------------------------------------


def test_ratio_summary_counts_room_hours_with_children_and_those_met(cc_site):
    d1, d2, d3 = DAY, DAY + dt.timedelta(days=1), DAY + dt.timedelta(days=2)
    # Day 1: 9–12 with 4 babies; 2 staff except 10:20–10:45 → 3 room-hours, 2 met.
    children_in(cc_site, [0] * 4, "09:00", "12:00", day=d1)
    on_duty(cc_site, "09:00", "12:00", day=d1)
    on_duty(cc_site, "09:00", "10:20", day=d1)
    on_duty(cc_site, "10:45", "12:00", day=d1)
    # Day 2: a child 9–10 and 14:30–15:10 (three room-hours; 10–14 nobody), staff all day;
    # and three school children in ホール 15–16 with nobody there.
    kid = child(cc_site, 2)
    attend(cc_site, kid, "09:00", "10:00", day=d2)
    attend(cc_site, kid, "14:30", "15:10", day=d2)
    on_duty(cc_site, "08:00", "18:00", day=d2)
    children_in(cc_site, [7] * 3, "15:00", "16:00", day=d2, room=hall(cc_site))
    # Day 3: "now" is 8:00, before anyone came.
    children_in(cc_site, [0], "09:00", "10:00", day=d3)
    now = local(d3, "08:00")
    assert board.ratio_summary(cc_site, d1, d3, now=now) == (3 + 3 + 1, 2 + 3)
    assert board.ratio_summary(cc_site, d2, d2, now=now) == (4, 3)
    assert board.ratio_summary(cc_site, d3, d3, now=now) == (0, 0)
    assert board.ratio_summary(cc_site, d1, d3, now=local(d3, "23:00")) == (8, 5)


def test_ratio_summary_with_the_real_clock_counts_past_days(cc_site):
    children_in(cc_site, [4], "09:00", "10:00")
    on_duty(cc_site, "09:00", "10:00")
    assert board.ratio_summary(cc_site, DAY, DAY) == (1, 1)
    assert board.ratio_summary(cc_site, DAY + dt.timedelta(days=1), DAY) == (0, 0)


@pytest.mark.parametrize("rounding", ["sum", "band_tenth"])
def test_ratio_summary_uses_the_municipality_rounding(cc_site, rounding):
    set_rules(cc_site.municipality, dt.date(2026, 4, 1),
              [Band(0, 0, 3), Band(1, 2, 6), Band(3, 3, 15), Band(4, None, 25)], rounding=rounding)
    children_in(cc_site, [4] * 26, "09:00", "10:00")  # 1.04 staff: 2 (safe), 1 (tenths)
    on_duty(cc_site, "09:00", "10:00")
    present, met = board.ratio_summary(cc_site, DAY, DAY)
    assert (present, met) == (1, 0 if rounding == "sum" else 1)


def _queries(caplog, fn):
    """The SQL statements ``fn`` sends (peewee logs each one at DEBUG)."""
    caplog.clear()
    with caplog.at_level("DEBUG", logger="peewee"):
        result = fn()
    return result, [r for r in caplog.records if r.name == "peewee"]


def test_the_month_report_and_the_day_grid_load_their_rows_at_once(cc_site, caplog):
    for n in range(20):  # twenty days, each with two children and one member of staff
        day = DAY + dt.timedelta(days=n)
        children_in(cc_site, [1, 2], "09:00", "11:00", day=day)
        on_duty(cc_site, "09:00", "11:00", day=day)
    last = DAY + dt.timedelta(days=19)
    summary, sql = _queries(caplog, lambda: board.ratio_summary(cc_site, DAY, last))
    assert summary == (40, 40)
    assert 2 <= len(sql) <= 4  # the rules (2), the range's attendance (2), however long
    grid, sql = _queries(caplog, lambda: board.day_grid(cc_site, DAY))
    assert len(grid.cells) == 2 and 3 <= len(sql) <= 9
