"""Calendar: recurrence, single-occurrence changes, splits, hours, conflicts, hooks.

Every test that touches the database runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import types
from zoneinfo import ZoneInfo

import pytest

from hubcore.calendar import CalendarEntry, hours
from hubcore.calendar import operations as ops
from hubcore.calendar import recurrence as rec
from hubcore.calendar.models import Booking, BookingOccurrence
from hubcore.errors import Invalid, NotFound
from hubcore.hookspecs import hookimpl
from hubcore.people.models import Person
from hubcore.plugins import PluginMeta
from hubcore.rooms.models import Room
from hubcore.testing import make_site, registered

TOKYO = ZoneInfo("Asia/Tokyo")

# Messages are asserted in English; Japanese (the default) is checked by test_i18n.
pytestmark = pytest.mark.usefixtures("in_english")


def T(text: str) -> dt.datetime:
    """A Tokyo wall-clock time: T("2027-04-06 10:00")."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=TOKYO)


def make_room(site, name="和室", capacity=20, shareable=False) -> Room:
    return Room.create(site=site, name=name, capacity=capacity, shareable=shareable)


def book(site, room, start, end, **fields) -> Booking:
    flags = {k: fields.pop(k) for k in ("override", "skip_conflicts", "skip_closed")
             if k in fields}
    data = {"room": room.id, "title": fields.pop("title", "体操"), "start": start, "end": end,
            **fields}
    return ops.create_booking(site, data, **flags)


def starts(site, booking=None, lo="2027-01-01", hi="2029-01-01", room=None) -> list[str]:
    occ = ops.occurrences(site, dt.date.fromisoformat(lo), dt.date.fromisoformat(hi), room=room)
    return [o.start.strftime("%Y-%m-%d %H:%M") for o in occ
            if booking is None or o.booking_id == booking.id]


@pytest.fixture
def room(site):
    return make_room(site)


@pytest.fixture
def no_holidays(site):
    """Most tests are about something else than 祝日: let the site open on them."""
    hours.set_holidays_closed(site, False)
    return site


# --- recurrence ---------------------------------------------------------------------------


def test_single_booking_is_stored_utc_and_shown_in_the_site_zone(site, room):
    b = book(site, room, "2027-04-06T10:00", "2027-04-06T12:00")
    stored = Booking.get_by_id(b.id)
    assert stored.start_at == dt.datetime(2027, 4, 6, 1, 0, tzinfo=dt.UTC)
    [o] = ops.occurrences(site, dt.date(2027, 4, 6), dt.date(2027, 4, 7))
    assert (o.start, o.end) == (T("2027-04-06 10:00"), T("2027-04-06 12:00"))
    assert o.start.tzinfo == TOKYO and o.booking_id == b.id and o.program == "calendar"
    assert stored.uid.endswith("@hubcore") and stored.sequence == 0


def test_weekly_on_chosen_days_with_count(no_holidays, room):
    b = book(no_holidays, room, "2027-04-06T10:00", "2027-04-06T11:00",
             rrule="FREQ=WEEKLY;BYDAY=TU,TH;COUNT=5")
    assert starts(no_holidays, b) == ["2027-04-06 10:00", "2027-04-08 10:00", "2027-04-13 10:00",
                                      "2027-04-15 10:00", "2027-04-20 10:00"]
    assert Booking.get_by_id(b.id).expanded_until is None  # complete


def test_monthly_by_date_until(no_holidays, room):
    b = book(no_holidays, room, "2027-04-15T18:00", "2027-04-15T20:00",
             rrule="FREQ=MONTHLY;UNTIL=20270915")
    assert [s[:10] for s in starts(no_holidays, b)] == [
        "2027-04-15", "2027-05-15", "2027-06-15", "2027-07-15", "2027-08-15", "2027-09-15"]
    # A date UNTIL of a timed series is stored as RFC 5545 wants it: UTC.
    assert Booking.get_by_id(b.id).rrule == "FREQ=MONTHLY;UNTIL=20270915T145959Z"


def test_second_tuesday_of_the_month(no_holidays, room):
    rule = rec.build_rrule("MONTHLY", monthly="weekday", start=dt.date(2027, 4, 13), count=4)
    assert rule == "FREQ=MONTHLY;BYDAY=2TU;COUNT=4"  # 第2火曜
    b = book(no_holidays, room, "2027-04-13T10:00", "2027-04-13T12:00", rrule=rule)
    assert [s[:10] for s in starts(no_holidays, b)] == [
        "2027-04-13", "2027-05-11", "2027-06-08", "2027-07-13"]
    last = rec.build_rrule("MONTHLY", monthly="weekday", start=dt.date(2027, 4, 29))
    assert last == "FREQ=MONTHLY;BYDAY=-1TH"  # the 5th Thursday is "the last" one


def test_exdate_and_rdate(no_holidays, room):
    b = book(no_holidays, room, "2027-04-05T10:00", "2027-04-05T11:00",
             rrule="FREQ=WEEKLY;COUNT=4", exdates=["2027-04-12"], rdates=["2027-04-14T15:00"])
    assert starts(no_holidays, b) == ["2027-04-05 10:00", "2027-04-14 15:00",
                                      "2027-04-19 10:00", "2027-04-26 10:00"]
    # The extra date lasts as long as the others.
    occ = [o for o in ops.occurrences(no_holidays, dt.date(2027, 4, 14), dt.date(2027, 4, 15))]
    assert occ[0].end == T("2027-04-14 16:00")


def test_all_day_booking_covers_whole_local_days(no_holidays, room):
    b = book(no_holidays, room, "2027-04-05", "2027-04-06", all_day=True, title="展示会")
    [o] = ops.occurrences(no_holidays, dt.date(2027, 4, 1), dt.date(2027, 4, 30))
    assert o.all_day and (o.start, o.end) == (T("2027-04-05 00:00"), T("2027-04-07 00:00"))
    with pytest.raises(ops.BookingConflict):
        book(no_holidays, room, "2027-04-06T23:00", "2027-04-06T23:30")
    assert b.id


def test_the_longest_booking_is_a_week_and_is_still_found_at_its_end(no_holidays, room):
    with pytest.raises(Invalid) as exc:
        book(no_holidays, room, "2027-04-05", "2027-04-12", all_day=True)  # 8 days
    assert "7 days" in exc.value.errors["end"]
    book(no_holidays, room, "2027-04-05T08:00", "2027-04-12T08:00", title="合宿",
         setup_minutes=240, cleanup_minutes=240)
    # The conflict probe looks back far enough for a week plus both buffers.
    with pytest.raises(ops.BookingConflict):
        book(no_holidays, room, "2027-04-12T11:00", "2027-04-12T12:00")
    book(no_holidays, room, "2027-04-12T12:00", "2027-04-12T13:00")
    week = ops.occurrences(no_holidays, T("2027-04-12 07:00"), T("2027-04-12 07:30"))
    assert [o.title for o in week] == ["合宿"]


@pytest.mark.parametrize("rule,start,expected", [
    # RFC 5545 3.8.5.3: every other week on MO, WE, FR until 24 Dec 1997 (EDT → EST).
    ("FREQ=WEEKLY;INTERVAL=2;UNTIL=19971224T000000Z;WKST=SU;BYDAY=MO,WE,FR",
     dt.datetime(1997, 9, 1, 9, 0),
     ["09-01", "09-03", "09-05", "09-15", "09-17", "09-19", "09-29", "10-01", "10-03", "10-13",
      "10-15", "10-17", "10-27", "10-29", "10-31", "11-10", "11-12", "11-14", "11-24", "11-26",
      "11-28", "12-08", "12-10", "12-12", "12-22"]),
    # Monthly on the first and last day of the month for 10 occurrences.
    ("FREQ=MONTHLY;COUNT=10;BYMONTHDAY=1,-1", dt.datetime(1997, 9, 30, 9, 0),
     ["09-30", "10-01", "10-31", "11-01", "11-30", "12-01", "12-31", "01-01", "01-31",
      "02-01"]),
    # Monthly on the second-to-last Monday of the month for 6 months.
    ("FREQ=MONTHLY;COUNT=6;BYDAY=-2MO", dt.datetime(1997, 9, 22, 9, 0),
     ["09-22", "10-20", "11-17", "12-22", "01-19", "02-16"]),
])
def test_rfc5545_examples_in_wall_clock_time(rule, start, expected):
    ny = ZoneInfo("America/New_York")
    series = rec.Series(start.replace(tzinfo=ny), dt.timedelta(hours=1),
                        rec.normalise_rule(rule, ny, False))
    result = rec.expand(series, dt.datetime(1999, 1, 1, tzinfo=dt.UTC))
    assert [s.strftime("%m-%d") for s in result.starts] == expected
    assert {s.strftime("%H:%M") for s in result.starts} == {"09:00"}  # across the DST change
    assert result.complete


def test_rules_that_cannot_be_used_are_refused(site, room):
    for rule, needle in [("FREQ=HOURLY", "daily, weekly"), ("FREQ=WEEKLY;COUNT=2;UNTIL=20270501",
                                                             "not both"),
                         ("FREQ=WEEKLY;BYDAY=XX", "not valid"), ("nonsense", "not valid"),
                         ("FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=30", "no date at all"),
                         ("FREQ=DAILY;BYMONTHDAY=30", "weekdays and months only"),
                         ("FREQ=YEARLY;BYWEEKNO=20", "not supported")]:
        with pytest.raises(Invalid) as exc:
            book(site, room, "2027-04-06T10:00", "2027-04-06T11:00", rrule=rule)
        assert needle in exc.value.errors["rrule"], rule
    with pytest.raises(Invalid) as exc:  # 2027-04-06 is a Tuesday
        book(site, room, "2027-04-06T10:00", "2027-04-06T11:00", rrule="FREQ=WEEKLY;BYDAY=WE")
    assert "not one of the repeat rule's dates" in exc.value.errors["rrule"]
    with pytest.raises(Invalid) as exc:  # monthly on the 31st, only in February: never
        book(site, room, "2027-01-31T10:00", "2027-01-31T11:00", rrule="FREQ=MONTHLY;BYMONTH=2")
    assert "no date at all" in exc.value.errors["rrule"]
    assert Booking.select().count() == 0 and BookingOccurrence.select().count() == 0


def test_invalid_input_names_each_field(site, room):
    with pytest.raises(Invalid) as exc:
        ops.create_booking(site, {"room": room.id, "title": "", "start": "2027-04-06T10:00",
                                  "end": "2027-04-06T09:00", "attendance": "0"})
    assert set(exc.value.errors) == {"title", "end", "attendance"}
    with pytest.raises(Invalid) as exc:
        book(site, room, "2027-04-06T10:00", "2027-04-06T11:00", attendance=21)
    assert "20" in exc.value.errors["attendance"]
    with pytest.raises(Invalid) as exc:
        book(site, room, "2027-04-06T10:00", "2027-04-06T11:00", program="no-such-plugin")
    assert set(exc.value.errors) == {"program"}
    # Full-width digits from a Japanese keyboard are fine.
    ok = book(site, room, "2027-04-06T10:00", "2027-04-06T11:00", attendance="１２")
    assert ok.attendance == 12
    # A UID is unique within the site.
    data = {"room": room.id, "title": "x", "start": "2027-04-07T10:00", "end": "2027-04-07T11:00"}
    ops.create_booking(site, data, uid="same@example.org")
    with pytest.raises(Invalid) as exc:
        ops.create_booking(site, {**data, "start": "2027-04-08T10:00", "end": "2027-04-08T11:00"},
                           uid="same@example.org")
    assert set(exc.value.errors) == {"uid"}
    assert Booking.select().where(Booking.uid == "same@example.org").count() == 1


def test_endless_series_is_expanded_to_the_horizon_and_extended_idempotently(site, room):
    now = ops.utcnow()
    start = (now.astimezone(TOKYO) + dt.timedelta(days=1)).date()
    b = book(site, room, f"{start}T07:00", f"{start}T08:00", rrule="FREQ=WEEKLY",
             override=True)
    b = Booking.get_by_id(b.id)
    assert b.expanded_until is not None
    rows = BookingOccurrence.select().where(BookingOccurrence.booking == b).count()
    assert 76 <= rows <= 80  # 18 months of weeks (holidays skipped: manager's override)
    assert ops.extend_series(now) == []  # nothing to do today
    later = now + dt.timedelta(days=70)
    [result] = ops.extend_series(later)
    assert result.booking_id == b.id and 9 <= result.added <= 11
    assert ops.extend_series(later) == []  # run twice, same result
    total = BookingOccurrence.select().where(BookingOccurrence.booking == b).count()
    assert total == rows + result.added


def test_extension_skips_what_is_in_the_way_now(site, room):
    now = ops.utcnow()
    start = (now.astimezone(TOKYO) + dt.timedelta(days=1)).date()
    b = book(site, room, f"{start}T07:00", f"{start}T08:00", rrule="FREQ=WEEKLY",
             override=True)
    horizon = Booking.get_by_id(b.id).expanded_until.astimezone(TOKYO).date()
    # A closed week added after the series was booked, beyond its rows.
    hours.add_closed_day(site, horizon + dt.timedelta(days=1), horizon + dt.timedelta(days=8),
                         "改修工事")
    # The manager's override covered closed days when it was booked; a plain booking's
    # extension leaves them out.
    Booking.update(hours_override=False).where(Booking.id == b.id).execute()
    hours.set_holidays_closed(site, False)
    [result] = ops.extend_series(now + dt.timedelta(days=30))
    assert len(result.skipped) == 1 and result.skipped[0] > horizon
    fresh = Booking.get_by_id(b.id)
    assert result.skipped[0].strftime("%Y%m%d") in fresh.exdates and fresh.sequence == 1


def test_a_booking_beyond_the_horizon_still_sees_endless_series(site, room):
    now = ops.utcnow()
    start = (now.astimezone(TOKYO) + dt.timedelta(days=1)).date()
    book(site, room, f"{start}T07:00", f"{start}T08:00", rrule="FREQ=DAILY", override=True)
    far = start + dt.timedelta(days=3 * 365)
    with pytest.raises(ops.BookingConflict):
        book(site, room, f"{far}T07:30", f"{far}T09:00", override=True)


# --- changing one, following, all ---------------------------------------------------------


@pytest.fixture
def weekly(no_holidays, room):
    return book(no_holidays, room, "2027-04-06T10:00", "2027-04-06T11:00",
                rrule="FREQ=WEEKLY;COUNT=6", title="体操教室")


def test_move_one_occurrence(no_holidays, room, weekly):
    rid = T("2027-04-13 10:00")
    ops.move_occurrence(weekly, rid, T("2027-04-14 15:00"), T("2027-04-14 16:30"))
    assert starts(no_holidays, weekly)[1] == "2027-04-14 15:00"
    row = BookingOccurrence.get((BookingOccurrence.booking == weekly)
                                & (BookingOccurrence.recurrence_id == rid))
    assert row.moved and row.recurrence_id == rid
    assert Booking.get_by_id(weekly.id).sequence == 1
    # The old slot is free, the new one taken.
    book(no_holidays, room, "2027-04-13T10:00", "2027-04-13T11:00", title="空いた枠")
    with pytest.raises(ops.BookingConflict):
        book(no_holidays, room, "2027-04-14T16:00", "2027-04-14T17:00")
    # Moving onto another booking is refused; onto its own next occurrence too.
    with pytest.raises(ops.BookingConflict):
        ops.move_occurrence(weekly, T("2027-04-20 10:00"), T("2027-04-13 10:30"))
    with pytest.raises(ops.BookingConflict):
        ops.move_occurrence(weekly, T("2027-04-20 10:00"), T("2027-04-27 10:30"))


def test_move_one_occurrence_to_another_room_and_retitle(no_holidays, room, weekly):
    hall = make_room(no_holidays, "多目的室", 30)
    ops.update_booking(weekly, {"room": hall.id, "title": "体操教室(多目的室)"}, scope="this",
                       recurrence_id=T("2027-04-20 10:00"))
    in_hall = ops.occurrences(no_holidays, dt.date(2027, 4, 1), dt.date(2027, 5, 30), room=hall)
    assert [(o.start, o.title) for o in in_hall] == [(T("2027-04-20 10:00"),
                                                      "体操教室(多目的室)")]
    assert len(starts(no_holidays, weekly, room=room)) == 5
    with pytest.raises(Invalid):
        ops.update_booking(weekly, {"attendance": 3}, scope="this",
                           recurrence_id=T("2027-04-20 10:00"))


def test_cancel_one_following_and_all(no_holidays, room, weekly):
    ops.cancel_booking(weekly, scope="this", recurrence_id=T("2027-04-13 10:00"))
    assert "2027-04-13 10:00" not in starts(no_holidays, weekly)
    row = BookingOccurrence.get((BookingOccurrence.booking == weekly)
                                & (BookingOccurrence.recurrence_id == T("2027-04-13 10:00")))
    assert row.cancelled  # kept, with its RECURRENCE-ID
    book(no_holidays, room, "2027-04-13T10:00", "2027-04-13T11:00")  # the slot is free
    ops.cancel_booking(weekly, scope="following", recurrence_id=T("2027-04-27 10:00"))
    assert starts(no_holidays, weekly) == ["2027-04-06 10:00", "2027-04-20 10:00"]
    assert "UNTIL=20270427T005959Z" in Booking.get_by_id(weekly.id).rrule
    ops.cancel_booking(weekly)
    fresh = Booking.get_by_id(weekly.id)
    assert fresh.status == "cancelled" and fresh.sequence == 3
    assert starts(no_holidays, weekly) == []
    with pytest.raises(Invalid):
        ops.update_booking(fresh, {"title": "復活"})


def test_this_and_following_splits_the_series(no_holidays, room, weekly):
    ops.move_occurrence(weekly, T("2027-05-04 10:00"), T("2027-05-04 13:00"))
    new = ops.update_booking(weekly, {"start": T("2027-04-20 14:00"), "end": T("2027-04-20 15:30"),
                                      "title": "午後の体操"},
                             scope="following", recurrence_id=T("2027-04-20 10:00"))
    old = Booking.get_by_id(weekly.id)
    assert new.id != old.id and new.split_from_id == old.id and new.uid != old.uid
    assert old.rrule == "FREQ=WEEKLY;UNTIL=20270420T005959Z" and old.sequence == 2
    assert new.rrule == "FREQ=WEEKLY;COUNT=4"  # 6 minus the 2 before the split
    assert starts(no_holidays, old) == ["2027-04-06 10:00", "2027-04-13 10:00"]
    # The occurrence moved before the split stays moved, now in the new series.
    assert starts(no_holidays, new) == ["2027-04-20 14:00", "2027-04-27 14:00",
                                        "2027-05-04 13:00", "2027-05-11 14:00"]
    assert {o.title for o in ops.occurrences(no_holidays, dt.date(2027, 4, 19),
                                             dt.date(2027, 6, 1))} == {"午後の体操"}


def test_change_all_keeps_single_changes_and_bumps_sequence(no_holidays, room, weekly):
    ops.cancel_booking(weekly, scope="this", recurrence_id=T("2027-04-13 10:00"))
    # Shifting the whole series by half an hour, from its third occurrence.
    b = ops.update_booking(weekly, {"start": T("2027-04-20 10:30"), "end": T("2027-04-20 11:30")},
                           recurrence_id=T("2027-04-20 10:00"))
    assert starts(no_holidays, b) == ["2027-04-06 10:30", "2027-04-20 10:30", "2027-04-27 10:30",
                                      "2027-05-04 10:30", "2027-05-11 10:30"]
    assert Booking.get_by_id(b.id).sequence == 2
    b = ops.update_booking(b, {"title": "体操", "attendance": 15})
    assert {(o.title, o.attendance) for o in ops.occurrences(
        no_holidays, dt.date(2027, 4, 1), dt.date(2027, 6, 1))} == {("体操", 15)}


# --- opening hours, closed days, holidays ------------------------------------------------------


def test_outside_opening_hours_is_refused_unless_overridden(site, room):
    hours.set_opening_hours(site, [(d, dt.time(9), dt.time(17)) for d in range(5)])
    with pytest.raises(ops.OutsideHours) as exc:
        book(site, room, "2027-04-06T16:00", "2027-04-06T18:00")
    assert "outside the opening hours (09:00–17:00)" in exc.value.errors["start"]
    with pytest.raises(ops.OutsideHours):  # setup time counts: staff must be in the building
        book(site, room, "2027-04-06T09:00", "2027-04-06T10:00", setup_minutes=30)
    with pytest.raises(ops.OutsideHours) as exc:  # Saturday: closed
        book(site, room, "2027-04-10T10:00", "2027-04-10T11:00")
    assert "closed on this weekday" in exc.value.errors["start"]
    b = book(site, room, "2027-04-06T16:00", "2027-04-06T18:00", override=True)
    assert Booking.get_by_id(b.id).hours_override
    # A room's own hours replace the site's.
    hours.set_opening_hours(site, [(5, dt.time(10), dt.time(0))], room=room)
    book(site, room, "2027-04-10T20:00", "2027-04-10T23:59")
    with pytest.raises(ops.OutsideHours):
        book(site, room, "2027-04-07T10:00", "2027-04-07T11:00")
    with pytest.raises(Invalid):
        hours.set_opening_hours(site, [(0, dt.time(12), dt.time(9))])


def test_closed_days_and_holidays_are_refused_with_their_names(site, room):
    hours.add_closed_day(site, dt.date(2027, 12, 29), dt.date(2028, 1, 3), "年末年始")
    with pytest.raises(ops.OutsideHours) as exc:
        book(site, room, "2027-12-30T10:00", "2027-12-30T12:00")
    assert "年末年始" in exc.value.errors["start"]
    with pytest.raises(ops.OutsideHours) as exc:
        book(site, room, "2027-01-11T10:00", "2027-01-11T12:00")
    assert "成人の日" in exc.value.errors["start"]
    assert exc.value.problems[0].date == dt.date(2027, 1, 11)
    book(site, room, "2027-01-11T10:00", "2027-01-11T12:00", override=True)
    hours.set_holidays_closed(site, False)
    book(site, room, "2027-01-11T13:00", "2027-01-11T14:00")
    with pytest.raises(ops.OutsideHours):  # closed days still are
        book(site, room, "2028-01-02T10:00", "2028-01-02T12:00")


def test_skip_closed_leaves_holidays_out_as_exdates(site, room):
    # Mondays in 2027 from July: 海の日 7/19 and 敬老の日 9/20 are Mondays.
    b = book(site, room, "2027-07-05T10:00", "2027-07-05T11:00",
             rrule="FREQ=WEEKLY;UNTIL=20270930", skip_closed=True)
    dates = [s[:10] for s in starts(site, b)]
    assert "2027-07-19" not in dates and "2027-09-20" not in dates and len(dates) == 11
    assert Booking.get_by_id(b.id).exdates == "20270719,20270920"


def test_day_info_names_holidays_and_closed_days(site):
    hours.add_closed_day(site, dt.date(2026, 12, 29), dt.date(2027, 1, 3), "年末年始")
    hours.set_opening_hours(site, [(d, dt.time(9), dt.time(21)) for d in range(6)])
    days = {d.date: d for d in hours.day_info(site, dt.date(2026, 12, 28), dt.date(2027, 1, 11))}
    new_year = days[dt.date(2027, 1, 1)]
    assert new_year.holiday == "元日"
    assert new_year.closed_names == ["年末年始"] and new_year.closed
    assert days[dt.date(2027, 1, 11)].holiday == "成人の日" and days[dt.date(2027, 1, 11)].closed
    assert not days[dt.date(2026, 12, 28)].closed
    assert days[dt.date(2026, 12, 28)].hours == [(dt.time(9), dt.time(21))]
    assert days[dt.date(2027, 1, 10)].closed  # a Sunday
    # 振替休日 and 国民の休日 (shared/domain/calendar.md).
    assert hours.holiday_name(dt.date(2026, 5, 6)) == "振替休日"
    assert hours.holiday_name(dt.date(2026, 9, 22)) == "国民の休日"


# --- conflicts ------------------------------------------------------------------------------


def test_exclusive_room_conflicts_include_buffers(site, room):
    book(site, room, "2027-04-06T10:00", "2027-04-06T12:00", cleanup_minutes=30)
    with pytest.raises(ops.BookingConflict):
        book(site, room, "2027-04-06T12:15", "2027-04-06T13:00")
    book(site, room, "2027-04-06T12:30", "2027-04-06T13:00")  # touching is fine
    with pytest.raises(ops.BookingConflict):  # its own setup reaches back into 12:30–13:00
        book(site, room, "2027-04-06T13:10", "2027-04-06T14:00", setup_minutes=15)
    book(site, room, "2027-04-06T13:10", "2027-04-06T14:00", setup_minutes=10)


def test_shareable_room_counts_the_peak_not_the_sum(site):
    hall = make_room(site, "多目的室", capacity=20, shareable=True)
    book(site, hall, "2027-04-06T10:00", "2027-04-06T11:00", attendance=10, title="A")
    book(site, hall, "2027-04-06T11:00", "2027-04-06T12:00", attendance=10, title="B")
    # Overlaps both, but never more than 20 at once (10 + 10).
    book(site, hall, "2027-04-06T10:00", "2027-04-06T12:00", attendance=10, title="C")
    with pytest.raises(ops.BookingConflict) as exc:
        book(site, hall, "2027-04-06T11:30", "2027-04-06T12:30", attendance=1, title="D")
    assert {c.title for c in exc.value.conflicts} == {"B", "C"}
    book(site, hall, "2027-04-06T12:00", "2027-04-06T13:00", attendance=10, title="E")


def test_shareable_room_counts_buffers(site):
    hall = make_room(site, "多目的室", capacity=20, shareable=True)
    book(site, hall, "2027-04-06T10:00", "2027-04-06T11:00", attendance=15, cleanup_minutes=30)
    with pytest.raises(ops.BookingConflict):
        book(site, hall, "2027-04-06T11:15", "2027-04-06T12:00", attendance=10)
    book(site, hall, "2027-04-06T11:15", "2027-04-06T12:00", attendance=5)


def test_conflicts_across_programs_list_every_occurrence(no_holidays, room):
    module = _program_plugin("nursery")
    with registered(module):
        nap = book(no_holidays, room, "2027-04-06T12:30", "2027-04-06T14:30", title="午睡",
                   program="nursery", rrule="FREQ=WEEKLY;BYDAY=TU,TH;COUNT=4")
        with pytest.raises(ops.BookingConflict) as exc:
            book(no_holidays, room, "2027-04-06T14:00", "2027-04-06T15:00", title="将棋",
                 rrule="FREQ=WEEKLY;BYDAY=TU;COUNT=3")
    conflicts = exc.value.conflicts
    assert [(c.date, c.start, c.end, c.title, c.program, c.booking_id) for c in conflicts] == [
        (dt.date(2027, 4, 6), T("2027-04-06 12:30"), T("2027-04-06 14:30"), "午睡", "nursery",
         nap.id),
        (dt.date(2027, 4, 13), T("2027-04-13 12:30"), T("2027-04-13 14:30"), "午睡", "nursery",
         nap.id)]
    assert exc.value.dates == [dt.date(2027, 4, 6), dt.date(2027, 4, 13)]
    assert "2 of the requested times" in str(exc.value)
    assert Booking.select().count() == 1


def test_skip_conflicts_books_the_other_dates_with_exdates(no_holidays, room):
    book(no_holidays, room, "2027-04-13T10:30", "2027-04-13T11:30", title="先約")
    b = book(no_holidays, room, "2027-04-06T10:00", "2027-04-06T11:00",
             rrule="FREQ=WEEKLY;COUNT=4", skip_conflicts=True)
    assert [s[:10] for s in starts(no_holidays, b)] == ["2027-04-06", "2027-04-20", "2027-04-27"]
    assert Booking.get_by_id(b.id).exdates == "20270413"
    with pytest.raises(ops.BookingConflict):  # nothing left to book
        book(no_holidays, room, "2027-04-13T10:00", "2027-04-13T11:00", skip_conflicts=True)


def test_pending_bookings_hold_the_room_cancelled_ones_do_not(site, room):
    b = book(site, room, "2027-04-06T10:00", "2027-04-06T11:00", status="pending")
    with pytest.raises(ops.BookingConflict):
        book(site, room, "2027-04-06T10:00", "2027-04-06T11:00")
    ops.cancel_booking(b)
    book(site, room, "2027-04-06T10:00", "2027-04-06T11:00")


# --- queries -------------------------------------------------------------------------------


def test_occurrences_filters_by_room_and_program(no_holidays, room):
    hall = make_room(no_holidays, "多目的室", 30)
    with registered(_program_plugin("nursery")):
        book(no_holidays, room, "2027-04-06T10:00", "2027-04-06T11:00", program="nursery")
        book(no_holidays, hall, "2027-04-06T10:00", "2027-04-06T11:00")
        book(no_holidays, hall, "2027-04-13T10:00", "2027-04-13T11:00")
        week = (dt.date(2027, 4, 5), dt.date(2027, 4, 12))
        assert len(ops.occurrences(no_holidays, *week)) == 2
        assert [o.room_id for o in ops.occurrences(no_holidays, *week, room=hall)] == [hall.id]
        assert [o.program for o in ops.occurrences(no_holidays, *week,
                                                   programs=["nursery"])] == ["nursery"]
        assert ops.occurrences(no_holidays, *week, programs=[]) == []
        # Naive times are the site's wall clock; the window is [start, end).
        assert len(ops.occurrences(no_holidays, dt.datetime(2027, 4, 6, 11, 0),
                                   dt.datetime(2027, 4, 6, 12, 0))) == 0
        assert len(ops.occurrences(no_holidays, dt.datetime(2027, 4, 6, 10, 59),
                                   dt.datetime(2027, 4, 6, 12, 0))) == 2


def test_another_sites_ids_are_not_found_or_refused(site, room):
    other = make_site("other", municipality="other-town")
    their_room = make_room(other, "会議室")
    theirs = book(other, their_room, "2027-04-06T10:00", "2027-04-06T11:00")
    with pytest.raises(NotFound):
        ops.get_booking(site, theirs.id)
    with pytest.raises(NotFound):
        ops.get_booking(site, "1 OR 1=1")
    assert ops.get_booking(other, theirs.id).id == theirs.id
    with pytest.raises(Invalid) as exc:
        book(site, their_room, "2027-04-06T10:00", "2027-04-06T11:00")
    assert set(exc.value.errors) == {"room"}
    person = Person.create(site=other, family_name="山田", given_name="花子",
                           family_name_kana="ヤマダ", given_name_kana="ハナコ",
                           kana_key="ヤマダハナコ", search_text="山田花子")
    with pytest.raises(Invalid) as exc:
        book(site, room, "2027-04-06T10:00", "2027-04-06T11:00", organiser=person.id)
    assert set(exc.value.errors) == {"organiser"}
    with pytest.raises(Invalid):
        ops.move_occurrence(ops.get_booking(other, theirs.id), T("2027-04-06 10:00"),
                            room=room.id)
    # The other site's booking does not collide with this site's rooms.
    assert not ops.occurrences(site, dt.date(2027, 4, 1), dt.date(2027, 5, 1))


# --- hooks ----------------------------------------------------------------------------------


def _program_plugin(name: str, **hooks) -> types.ModuleType:
    module = types.ModuleType(name)
    module.PLUGIN = PluginMeta(name=name, label_ja=name, label_en=name, colour="#f59e0b")
    for hook, fn in hooks.items():
        setattr(module, hook, hookimpl(fn))
    return module


def test_plugin_rules_notifications_and_entries(database):
    seen: list[tuple[str, str]] = []

    def validate_booking(site, booking, occurrences):
        # 午睡 in the nursery: nothing loud in the rooms next to it at the same time.
        if not booking.loud:
            return None
        nursery = Room.get((Room.site == site) & (Room.name == "和室"))
        if booking.room_id not in ops.adjacent_room_ids(nursery):
            return None
        naps = ops.occurrences(site, min(o.block_start for o in occurrences),
                               max(o.block_end for o in occurrences), room=nursery,
                               programs=["nursery"])
        clash = [o for o in occurrences for n in naps
                 if o.block_start < n.end and o.block_end > n.start]
        return [f"お昼寝の時間です({clash[0].start:%m/%d %H:%M})。"] if clash else None

    def booking_changed(site, booking, change):
        seen.append((booking.title, change))
        if booking.title == "壊れた通知":
            raise RuntimeError("mail server down")

    def calendar_entries(site, start, end):
        return [CalendarEntry("避難訓練", start, start + dt.timedelta(hours=1), "nursery")]

    module = _program_plugin("nursery", validate_booking=validate_booking,
                             booking_changed=booking_changed, calendar_entries=calendar_entries)
    with registered(module):
        site = make_site("nap", plugins=("nursery",))
        nursery, music = make_room(site, "和室"), make_room(site, "音楽室")
        ops.set_adjacent(site, nursery, music)
        assert ops.adjacent_room_ids(music) == {nursery.id}
        book(site, nursery, "2027-04-06T12:30", "2027-04-06T14:30", title="午睡",
             program="nursery")
        with pytest.raises(Invalid) as exc:
            book(site, music, "2027-04-06T14:00", "2027-04-06T15:00", title="太鼓", loud=True)
        assert "お昼寝" in exc.value.errors["__all__"]
        book(site, music, "2027-04-06T14:00", "2027-04-06T15:00", title="読み聞かせ")
        broken = book(site, music, "2027-04-06T16:00", "2027-04-06T17:00", title="壊れた通知")
        assert broken.id  # a failing listener does not undo the booking
        ops.cancel_booking(broken)
        entries = ops.extra_entries(site, T("2027-04-06 00:00"), T("2027-04-07 00:00"))
        assert [e.title for e in entries] == ["避難訓練"]
        # Off for a site, the plugin's hooks are not called there.
        plain = make_site("plain", municipality="plain-town")
        book(plain, make_room(plain, "和室"), "2027-04-06T10:00", "2027-04-06T11:00",
             title="他の拠点")
        assert ops.extra_entries(plain, T("2027-04-06 00:00"), T("2027-04-07 00:00")) == []
    assert seen == [("午睡", "created"), ("読み聞かせ", "created"), ("壊れた通知", "created"),
                    ("壊れた通知", "cancelled")]


# --- demo ---------------------------------------------------------------------------------


def test_demo_week_is_loaded_once(database):
    from hubcore.calendar import demo
    from hubcore.demo import load_demo
    from hubcore.sites.models import Site

    load_demo()
    school = Site.get(Site.slug == "midorino-school")
    tz = ops.site_zone(school)
    today = ops.utcnow().astimezone(tz).date()
    monday = today - dt.timedelta(days=today.weekday())
    week = ops.occurrences(school, monday + dt.timedelta(days=7), monday + dt.timedelta(days=14))
    titles = {o.title for o in week}
    assert {"親子ひろば", "デイサービス 昼食とレクリエーション", "こども食堂"} <= titles
    assert all(o.start.weekday() == 3 and o.start.hour == 17 for o in week
               if o.title == "こども食堂")
    assert all(o.start.weekday() != 6 for o in week)  # closed on Sundays
    count = Booking.select().count()
    people = list(Person.select().where(Person.site == school))
    demo.load(school, people)
    assert Booking.select().count() == count
    info = hours.day_info(school, dt.date(today.year, 12, 30), dt.date(today.year, 12, 31))
    assert all(d.closed_names == ["年末年始"] for d in info)
