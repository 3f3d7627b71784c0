"""The calendar's pages: views, the booking dialog (conflicts, closed days, override,
scopes), feeds over HTTP, import through the web, settings, role refusals.

On SQLite and PostgreSQL. Pages are asked for in English (?lang=en) where a message
is asserted; Japanese holiday names come from the holidays library either way.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import icalendar
import pytest

from hubcore.calendar import hours, ics
from hubcore.calendar import operations as ops
from hubcore.calendar.models import Booking, BookingOccurrence, CalendarFeed
from hubcore.calendar.periods import list_periods
from hubcore.rooms.models import Room
from hubcore.testing import make_site, user_client

TOKYO = ZoneInfo("Asia/Tokyo")
CAL = "/s/test-site/calendar/"
HX = {"HX-Request": "true"}


@pytest.fixture
def rooms(site):
    hours.set_holidays_closed(site, True)
    return (Room.create(site=site, name="多目的室", capacity=30),
            Room.create(site=site, name="和室", capacity=12))


def form(room, **extra) -> dict:
    return {"title": "親子ひろば", "room": str(room.id), "date": "2027-06-07",
            "start_time": "10:00", "end_time": "12:00", "back": CAL + "?date=2027-06-07",
            **extra}


def starts(site, booking=None) -> list[str]:
    return [f"{o.start:%Y-%m-%d %H:%M}" for o in ops.occurrences(
        site, dt.date(2027, 1, 1), dt.date(2028, 1, 1))
        if booking is None or o.booking_id == booking.id]


def no_inline_code(html: str) -> None:
    """The CSP forbids inline styles and scripts: pages must not need them."""
    assert 'style="' not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)


# --- views -------------------------------------------------------------------------------


def test_week_day_and_month_show_bookings_holidays_and_closed_days(client, site, rooms):
    a, b = rooms
    hours.add_closed_day(site, dt.date(2027, 5, 6), dt.date(2027, 5, 6), "館内点検")
    ops.create_booking(site, {"room": a.id, "title": "親子ひろば", "rrule": "FREQ=WEEKLY;COUNT=3",
                              "start": "2027-05-04T10:00", "end": "2027-05-04T12:00"},
                       skip_closed=True)  # 5/4 is みどりの日: left out
    ops.create_booking(site, {"room": b.id, "title": "囲碁", "start": "2027-05-07T13:00",
                              "end": "2027-05-07T15:30"})
    r = client.get(CAL + "?date=2027-05-05&lang=en")
    assert r.status_code == 200
    no_inline_code(r.text)
    assert "憲法記念日" in r.text and "こどもの日" in r.text and "館内点検" in r.text
    assert r.text.count('class="ce ') == 1 and "囲碁" in r.text  # 5/11 is next week
    assert "13:00–15:30" in r.text
    # 13:00 is row 21 from 08:00 in 15-minute rows; 2.5 hours span 10 rows.
    assert re.search(r'class="cl r-21 s-10 ln-1">\s*<a class="ce r-1 s-10 lc-1"', r.text)
    week2 = client.get(CAL + "?date=2027-05-11")
    assert "親子ひろば" in week2.text and "多目的室" in week2.text
    # One room: only its bookings.
    only_b = client.get(CAL + f"?date=2027-05-11&room={b.id}")
    assert "親子ひろば" not in only_b.text.split('class="tg ')[1]
    # The day view has the rooms as columns.
    day = client.get(CAL + "day/?date=2027-05-11")
    assert day.status_code == 200 and f'id="col-r{a.id}"' in day.text
    assert f'id="col-r{b.id}"' in day.text and "親子ひろば" in day.text
    month = client.get(CAL + "month/?date=2027-05-01")
    assert month.status_code == 200
    no_inline_code(month.text)
    assert month.text.count("親子ひろば") == 2 and "囲碁" in month.text
    assert "こどもの日" in month.text


def test_program_filter_and_plugin_entries(client, site, rooms):
    a, _b = rooms
    ops.create_booking(site, {"room": a.id, "title": "一般の会", "start": "2027-06-07T10:00",
                              "end": "2027-06-07T11:00"})
    r = client.get(CAL + "?date=2027-06-07&program=calendar")
    assert "一般の会" in r.text
    r = client.get(CAL + "?date=2027-06-07&program=childcare")
    assert "一般の会" not in r.text


def test_school_periods_are_the_time_labels(client, site, rooms):
    r = client.post(CAL + "settings/", data={"periods": "1限 8:50-9:35\n２限 ９:４５-10:30",
                                              "holidays_closed": "on"})
    assert r.status_code == 200
    assert [(p.name, p.starts) for p in list_periods(site)] == [
        ("1限", dt.time(8, 50)), ("2限", dt.time(9, 45))]
    page = client.get(CAL + "?date=2027-06-07")
    assert '<div class="tl' in page.text and "1限" in page.text and "8:50–9:35" in page.text
    # A slot is a period: booking it proposes the period's times.
    assert "start_time=08:50&amp;end_time=09:35" in page.text
    bad = client.post(CAL + "settings/?lang=en", data={"periods": "1限 10:00-9:00"})
    assert bad.status_code == 422 and "ends before it starts" in bad.text
    assert len(list_periods(site)) == 2


# --- the booking dialog -------------------------------------------------------------------


def test_new_booking_dialog_and_create(client, site, rooms):
    a, _b = rooms
    r = client.get(CAL + f"new/?date=2027-06-07&start_time=10:00&end_time=11:00&room={a.id}",
                   headers=HX)
    assert r.status_code == 200 and "<html" not in r.text  # a fragment for the dialog
    assert 'id="booking-form"' in r.text and 'value="10:00"' in r.text
    assert re.search(rf'<option value="{a.id}" selected', r.text)
    # Without htmx it is a whole page.
    assert "<html" in client.get(CAL + "new/").text
    r = client.post(CAL + "new/", data=form(a, repeat="weekly", repeat_count="4"), headers=HX)
    assert r.status_code == 204
    assert r.headers["HX-Redirect"] == CAL + "?date=2027-06-07"
    b = Booking.get(Booking.title == "親子ひろば")
    assert b.rrule == "FREQ=WEEKLY;COUNT=4"
    assert starts(site, b) == ["2027-06-07 10:00", "2027-06-14 10:00", "2027-06-21 10:00",
                               "2027-06-28 10:00"]
    # A plain form post answers with a redirect.
    r = client.post(CAL + "new/", data=form(a, date="2027-06-08"), follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == CAL + "?date=2027-06-08"
    # An outside address in "back" is ignored.
    r = client.post(CAL + "new/", data=form(a, date="2027-06-09", back="https://evil.example/"),
                    headers=HX)
    assert r.headers["HX-Redirect"] == CAL + "?date=2027-06-09"


def test_invalid_form_is_422_with_the_fields(client, site, rooms):
    a, _b = rooms
    r = client.post(CAL + "new/?lang=en", data=form(a, title="", end_time="09:00"), headers=HX)
    assert r.status_code == 422
    assert 'id="title-error"' in r.text and 'id="end_time-error"' in r.text
    r = client.post(CAL + "new/?lang=en", data=form(a, date="someday"), headers=HX)
    assert r.status_code == 422 and 'id="date-error"' in r.text
    assert Booking.select().count() == 0


def test_conflict_lists_every_occurrence_and_offers_the_other_dates(client, site, rooms):
    a, _b = rooms
    ops.create_booking(site, {"room": a.id, "title": "体操", "start": "2027-06-14T11:00",
                              "end": "2027-06-14T12:30"})
    ops.create_booking(site, {"room": a.id, "title": "書道", "start": "2027-06-28T09:00",
                              "end": "2027-06-28T10:30"})
    data = form(a, repeat="weekly", repeat_count="4")
    r = client.post(CAL + "new/?lang=en", data=data, headers=HX)
    assert r.status_code == 422
    conflicts = r.text.split('id="conflicts"')[1].split("</table>")[0]
    rows = re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td>", conflicts)
    assert rows == [("Mon 2027-06-14", "11:00–12:30", "体操"),
                    ("Mon 2027-06-28", "9:00–10:30", "書道")]
    assert 'data-plugin="calendar"' in conflicts  # the program, as a chip
    assert 'name="skip_conflicts" value="1"' in r.text
    assert Booking.select().count() == 2
    r = client.post(CAL + "new/", data={**data, "skip_conflicts": "1"}, headers=HX)
    assert r.status_code == 204
    b = Booking.get(Booking.title == "親子ひろば")
    assert starts(site, b) == ["2027-06-07 10:00", "2027-06-21 10:00"]


def test_closed_day_is_refused_with_the_reason_and_only_managers_override(client, site, rooms,
                                                                          settings):
    a, _b = rooms
    hours.set_opening_hours(site, [(d, dt.time(9), dt.time(21)) for d in range(6)])
    sunday = form(a, date="2027-06-13")
    r = client.post(CAL + "new/?lang=en", data=sunday, headers=HX)
    assert r.status_code == 422 and "closed on this weekday" in r.text
    assert 'name="override" value="1"' in r.text  # the manager is offered an override
    holiday = form(a, date="2027-07-19")  # 海の日
    r = client.post(CAL + "new/?lang=en", data=holiday, headers=HX)
    assert r.status_code == 422 and "海の日" in r.text
    with user_client(settings, ("staff", site), email="staff@test.example.jp") as staff:
        r = staff.post(CAL + "new/?lang=en", data=sunday, headers=HX)
        assert r.status_code == 422 and 'name="override"' not in r.text
        assert "Only a site manager" in r.text
        r = staff.post(CAL + "new/", data={**sunday, "override": "1"}, headers=HX)
        assert r.status_code == 403
    assert Booking.select().count() == 0
    r = client.post(CAL + "new/", data={**sunday, "override": "1"}, headers=HX)
    assert r.status_code == 204
    assert Booking.get().hours_override


def _series(site, room):
    return ops.create_booking(site, {"room": room.id, "title": "ヨガ", "start": "2027-06-07T18:00",
                                     "end": "2027-06-07T19:00", "rrule": "FREQ=WEEKLY;COUNT=4"})


def _rid(day: str, time: str = "18:00") -> str:
    local = dt.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=TOKYO)
    return local.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def test_detail_dialog_offers_the_scopes(client, site, rooms):
    a, _b = rooms
    b = _series(site, a)
    r = client.get(CAL + f"b/{b.id}/?o={_rid('2027-06-14')}", headers=HX)
    assert r.status_code == 200
    assert 'value="2027-06-14"' in r.text and 'value="18:00"' in r.text
    for scope in ("this", "following", "all"):
        assert f'name="scope" value="{scope}"' in r.text
    assert "cancel/" in r.text
    assert client.get(CAL + f"b/{b.id}/?o=20000101T000000Z").status_code == 200  # the first
    assert client.get(CAL + "b/999999/").status_code == 404


def test_move_one_occurrence_this_and_following_and_all(client, site, rooms):
    a, b_room = rooms
    b = _series(site, a)
    base = {**form(a, title="ヨガ", start_time="18:00", end_time="19:00"), "repeat": "custom",
            "rrule": "FREQ=WEEKLY;COUNT=4"}
    # Move the second one to Tuesday 19:00 in the other room.
    r = client.post(CAL + f"b/{b.id}/", headers=HX, data={
        **base, "o": _rid("2027-06-14"), "scope": "this", "date": "2027-06-15",
        "start_time": "19:00", "end_time": "20:00", "room": str(b_room.id)})
    assert r.status_code == 204, r.text
    assert r.headers["HX-Redirect"].endswith("date=2027-06-15")
    assert starts(site, b) == ["2027-06-07 18:00", "2027-06-15 19:00", "2027-06-21 18:00",
                               "2027-06-28 18:00"]
    # Changing more than the time of a single occurrence is refused, with the reason.
    r = client.post(CAL + f"b/{b.id}/?lang=en", headers=HX, data={
        **base, "o": _rid("2027-06-21"), "scope": "this", "date": "2027-06-21",
        "attendance": "5"})
    assert r.status_code == 422 and "this and following" in r.text.lower()
    # This and the following: from the third on, an hour later.
    r = client.post(CAL + f"b/{b.id}/", headers=HX, data={
        **base, "o": _rid("2027-06-21"), "scope": "following", "date": "2027-06-21",
        "start_time": "19:00", "end_time": "20:00"})
    assert r.status_code == 204, r.text
    assert starts(site) == ["2027-06-07 18:00", "2027-06-15 19:00", "2027-06-21 19:00",
                            "2027-06-28 19:00"]
    # All: a new title for the first series.
    r = client.post(CAL + f"b/{b.id}/", headers=HX, data={
        **base, "o": _rid("2027-06-07"), "scope": "all", "title": "ヨガ(初級)",
        "rrule": Booking.get_by_id(b.id).rrule})
    assert r.status_code == 204, r.text
    assert Booking.get_by_id(b.id).title == "ヨガ(初級)"
    # No scope: refused.
    r = client.post(CAL + f"b/{b.id}/", headers=HX, data={**base, "o": _rid("2027-06-07")})
    assert r.status_code == 422


def test_moving_onto_another_booking_shows_the_conflict(client, site, rooms):
    a, _b = rooms
    b = _series(site, a)
    ops.create_booking(site, {"room": a.id, "title": "会議", "start": "2027-06-15T18:00",
                              "end": "2027-06-15T20:00"})
    r = client.post(CAL + f"b/{b.id}/", headers=HX, data={
        **form(a, title="ヨガ"), "repeat": "custom", "rrule": "FREQ=WEEKLY;COUNT=4",
        "o": _rid("2027-06-14"), "scope": "this", "date": "2027-06-15",
        "start_time": "18:30", "end_time": "19:30"})
    assert r.status_code == 422 and 'id="conflicts"' in r.text and "会議" in r.text
    # One occurrence cannot skip itself: no "other dates" offer.
    assert 'name="skip_conflicts"' not in r.text


def test_cancel_this_one_and_all(client, site, rooms):
    a, _b = rooms
    b = _series(site, a)
    r = client.post(CAL + f"b/{b.id}/cancel/", headers=HX,
                    data={"o": _rid("2027-06-14"), "scope": "this", "back": CAL})
    assert r.status_code == 204
    assert len(starts(site, b)) == 3
    r = client.post(CAL + f"b/{b.id}/cancel/", headers=HX, data={"o": _rid("2027-06-07")})
    assert r.status_code == 422  # no scope chosen
    r = client.post(CAL + f"b/{b.id}/cancel/", headers=HX,
                    data={"o": _rid("2027-06-21"), "scope": "following"})
    assert r.status_code == 204 and starts(site, b) == ["2027-06-07 18:00"]
    r = client.post(CAL + f"b/{b.id}/cancel/", headers=HX,
                    data={"o": _rid("2027-06-07"), "scope": "all"})
    assert r.status_code == 204 and starts(site, b) == []
    assert Booking.get_by_id(b.id).status == "cancelled"


def test_viewer_sees_but_cannot_book(site, rooms, settings):
    a, _b = rooms
    b = _series(site, a)
    with user_client(settings, ("viewer", site), email="viewer@test.example.jp") as viewer:
        page = viewer.get(CAL + "?date=2027-06-07")
        assert page.status_code == 200 and "ヨガ" in page.text
        assert 'class="slot' not in page.text  # no empty slots to book
        detail = viewer.get(CAL + f"b/{b.id}/", headers=HX)
        assert detail.status_code == 200 and 'id="booking-form"' not in detail.text
        assert viewer.get(CAL + "new/").status_code == 403
        assert viewer.post(CAL + "new/", data=form(a), headers=HX).status_code == 403
        assert viewer.post(CAL + f"b/{b.id}/cancel/", data={"scope": "all"},
                           headers=HX).status_code == 403
        assert viewer.get(CAL + "feeds/").status_code == 403
        assert viewer.get(CAL + "import/").status_code == 403
    assert Booking.get_by_id(b.id).status == "confirmed"


def test_another_sites_booking_is_not_found(client, site, rooms):
    other = make_site("other-site", municipality="other-town")
    room = Room.create(site=other, name="別室", capacity=5)
    b = ops.create_booking(other, {"room": room.id, "title": "秘密", "start": "2027-06-07T10:00",
                                   "end": "2027-06-07T11:00"})
    assert client.get(CAL + f"b/{b.id}/").status_code == 404
    assert client.post(CAL + f"b/{b.id}/cancel/", data={"scope": "all"},
                       headers=HX).status_code == 404
    # Nor can this site's form book another site's room.
    r = client.post(CAL + "new/", data=form(room), headers=HX)
    assert r.status_code == 422 and 'id="room-error"' in r.text


# --- feeds --------------------------------------------------------------------------------


def test_feeds_are_created_fetched_over_http_and_revoked(client, anonymous_client, site, rooms):
    a, _b = rooms
    ops.create_booking(site, {"room": a.id, "title": "親子ひろば", "start": "2027-06-07T10:00",
                              "end": "2027-06-07T12:00", "rrule": "FREQ=WEEKLY;COUNT=4"})
    page = client.post(CAL + "feeds/", data={"kind": "room", "room": str(a.id),
                                             "label": "スタッフ用"})
    assert page.status_code == 201
    url = re.search(r'<code class="secret feed-url" id="feed-url">(.*?)</code>', page.text)[1]
    assert url.startswith("http://testserver" + CAL + "feed/") and url.endswith(".ics")
    assert "webcal://testserver" + CAL + "feed/" in page.text
    path = url.removeprefix("http://testserver")
    r = anonymous_client.get(path)  # no cookie: the token alone decides
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/calendar")
    cal = icalendar.Calendar.from_ical(r.content)
    [event] = cal.walk("VEVENT")
    assert str(event["SUMMARY"]) == "親子ひろば" and str(event["LOCATION"]) == "多目的室"
    assert event["RRULE"]["COUNT"] == [4]
    # The token of this site does not open under another site's address.
    other = make_site("other-site", municipality="other-town")
    assert anonymous_client.get(path.replace("test-site", other.slug)).status_code == 404
    assert anonymous_client.get(CAL + "feed/not-a-token.ics").status_code == 404
    # The site feed and a person's feed are made the same way; a bad kind is refused.
    assert client.post(CAL + "feeds/", data={"kind": "site"}).status_code == 201
    assert client.post(CAL + "feeds/", data={"kind": "person"}).status_code == 422
    assert client.post(CAL + "feeds/", data={"kind": "nonsense"}).status_code == 422
    listing = client.get(CAL + "feeds/")
    assert "スタッフ用" in listing.text and url not in listing.text  # shown once only
    feed = CalendarFeed.get(CalendarFeed.label == "スタッフ用")
    r = client.post(CAL + f"feeds/{feed.id}/revoke/", follow_redirects=False)
    assert r.status_code == 303
    assert anonymous_client.get(path).status_code == 404


# --- import -------------------------------------------------------------------------------


def ics_file(*events: str) -> bytes:
    body = "".join(f"BEGIN:VEVENT\r\n{e.strip()}\r\nEND:VEVENT\r\n".replace("\n", "\r\n")
                   .replace("\r\r\n", "\r\n") for e in events)
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n" + body
            + "END:VCALENDAR\r\n").encode()


SERIES = """UID:massage@example.com
DTSTAMP:20270101T000000Z
DTSTART;TZID=Asia/Tokyo:20270608T100000
DTEND;TZID=Asia/Tokyo:20270608T110000
RRULE:FREQ=WEEKLY;COUNT=3
SUMMARY:ベビーマッサージ"""
SINGLE = """UID:reading@example.com
DTSTAMP:20270101T000000Z
DTSTART;TZID=Asia/Tokyo:20270610T140000
DTEND;TZID=Asia/Tokyo:20270610T150000
SUMMARY:読み聞かせ"""


def _upload(client, room, data: bytes, lang: str = "en"):
    return client.post(CAL + f"import/?lang={lang}", data={"room": str(room.id)},
                       files={"file": ("export.ics", data, "text/calendar")})


def test_import_preview_then_commit(client, site, rooms):
    a, _b = rooms
    r = _upload(client, a, ics_file(SERIES, SINGLE))
    assert r.status_code == 200 and 'id="import-preview"' in r.text
    assert "ベビーマッサージ" in r.text and "読み聞かせ" in r.text
    assert Booking.select().count() == 0  # the preview writes nothing
    data = re.search(r'name="data" value="([^"]+)"', r.text)[1]
    r = client.post(CAL + "import/commit/", data={"room": str(a.id), "data": data})
    assert r.status_code == 200 and 'id="import-done"' in r.text
    assert Booking.select().count() == 2 and BookingOccurrence.select().count() == 4
    # Importing the same file again books nothing new.
    r = _upload(client, a, ics_file(SERIES, SINGLE))
    assert "Already booked" in r.text


def test_import_is_all_or_nothing_with_the_conflicts_shown(client, site, rooms):
    a, _b = rooms
    ops.create_booking(site, {"room": a.id, "title": "先約", "start": "2027-06-15T10:30",
                              "end": "2027-06-15T11:30"})
    r = _upload(client, a, ics_file(SERIES, SINGLE))
    assert r.status_code == 200
    preview = r.text.split('id="import-preview"')[1]
    assert "先約" in preview and 'name="skip_conflicts"' in preview
    data = re.search(r'name="data" value="([^"]+)"', r.text)[1]
    r = client.post(CAL + "import/commit/?lang=en", data={"room": str(a.id), "data": data})
    assert r.status_code == 422 and 'id="import-failed"' in r.text and "先約" in r.text
    assert Booking.select().count() == 1  # nothing imported, not even the free event
    r = client.post(CAL + "import/commit/", data={"room": str(a.id), "data": data,
                                                  "skip_conflicts": "1"})
    assert r.status_code == 200 and Booking.select().count() == 3


@pytest.mark.parametrize("data", [
    b"not a calendar at all",
    "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:壊れた\r\n".encode(),
    ics_file("UID:x@example.com\nDTSTART:20270608T100000\nDTEND:20270607T100000\nSUMMARY:逆"),
    "\xff\xfe壊れ".encode("utf-16"),
])
def test_a_malformed_file_gets_a_message_and_changes_nothing(client, site, rooms, data):
    a, _b = rooms
    r = _upload(client, a, data, lang="ja")
    assert r.status_code == 422 and 'id="import-error"' in r.text
    message = re.search(r'id="import-error"><p><strong>(.*?)</strong> (.*?)</p>', r.text)
    assert message and message[2].strip()
    assert Booking.select().count() == 0


def test_import_needs_a_room_and_a_file(client, site, rooms):
    a, _b = rooms
    r = client.post(CAL + "import/", data={"room": str(a.id)},
                    files={"file": ("", b"", "text/calendar")})
    assert r.status_code == 422
    r = client.post(CAL + "import/", files={"file": ("x.ics", ics_file(SINGLE), "text/calendar")})
    assert r.status_code == 422 and 'id="room-error"' in r.text


# --- settings -----------------------------------------------------------------------------


def test_settings_hours_closed_days_and_adjacent_rooms(client, site, rooms):
    a, b = rooms
    data = {f"opens_{w}": "09:00" for w in range(5)} | {f"closes_{w}": "17:00" for w in range(5)}
    r = client.post(CAL + "settings/", data=data)
    assert r.status_code == 200
    assert hours.opening_hours(site)[0] == [(dt.time(9), dt.time(17))]
    assert 5 not in hours.opening_hours(site) and not hours.holidays_closed(site)
    r = client.post(CAL + "settings/", data={"opens_0": "09:00"})
    assert r.status_code == 422 and 'id="opens_0-error"' in r.text
    r = client.post(CAL + "settings/closed/", data={"start_date": "2027-12-29",
                                                   "end_date": "2028-01-03", "name": "年末年始"})
    assert r.status_code == 200 and "年末年始" in r.text
    [closed] = hours.closed_days(site, dt.date(2027, 12, 1), dt.date(2028, 1, 31))
    assert client.post(CAL + "settings/closed/", data={"start_date": "2027-12-29"}
                       ).status_code == 422  # no name
    r = client.post(CAL + "settings/closed/", data={"remove": str(closed.id)})
    assert r.status_code == 200 and not hours.closed_days(site, dt.date(2027, 12, 1),
                                                          dt.date(2028, 1, 31))
    r = client.post(CAL + "settings/adjacent/", data={"room_a": str(a.id), "room_b": str(b.id),
                                                      "adjacent": "1"})
    assert r.status_code == 200 and ops.adjacent_room_ids(a) == {b.id}
    r = client.post(CAL + "settings/adjacent/", data={"room_a": str(a.id), "room_b": str(a.id)})
    assert r.status_code == 422


def test_staff_books_but_does_not_manage(site, rooms, settings):
    a, _b = rooms
    with user_client(settings, ("staff", site), email="staff@test.example.jp") as staff:
        assert staff.post(CAL + "new/", data=form(a), headers=HX).status_code == 204
        for path in ("feeds/", "import/", "settings/"):
            assert staff.get(CAL + path).status_code == 403
        assert staff.post(CAL + "feeds/", data={"kind": "site"}).status_code == 403
        assert staff.post(CAL + "settings/", data={}).status_code == 403


def test_site_switch_goes_only_where_the_user_may(client, site):
    other = make_site("other-site", municipality="test-town")  # the manager's municipality
    hidden = make_site("hidden-site", municipality="far-town")
    r = client.get(CAL + f"switch/?to={other.slug}", follow_redirects=False)
    assert r.headers["location"] == f"/s/{other.slug}/calendar/"
    r = client.get(CAL + f"switch/?to={hidden.slug}", follow_redirects=False)
    assert r.headers["location"] == CAL
    r = client.get(CAL + "switch/?to=nowhere", follow_redirects=False)
    assert r.headers["location"] == CAL
    assert ics.list_feeds(site) == []
