"""ICS feeds (parsed back and expanded by recurring-ical-events) and ICS import."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import icalendar
import pytest
import recurring_ical_events

from hubcore.calendar import hours, ics
from hubcore.calendar import operations as ops
from hubcore.calendar.models import Booking, BookingOccurrence, CalendarFeed
from hubcore.errors import Invalid, NotFound
from hubcore.people.models import Person
from hubcore.rooms.models import Room
from hubcore.testing import make_site

TOKYO = ZoneInfo("Asia/Tokyo")
NOW = dt.datetime(2027, 3, 1, tzinfo=dt.UTC)  # the feed's "now": everything below is in it

# Messages are asserted in English; Japanese (the default) is checked by test_i18n.
pytestmark = pytest.mark.usefixtures("in_english")


def T(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=TOKYO)


def book(site, room, start, end, **fields):
    flags = {k: fields.pop(k) for k in ("override", "skip_conflicts", "skip_closed")
             if k in fields}
    return ops.create_booking(site, {"room": room.id, "title": fields.pop("title", "予定"),
                                     "start": start, "end": end, **fields}, **flags)


def person(site, family="佐藤", given="花子") -> Person:
    return Person.create(site=site, family_name=family, given_name=given,
                         family_name_kana="サトウ", given_name_kana="ハナコ",
                         kana_key="サトウハナコ", search_text=family + given)


def expanded(data: bytes, lo: dt.datetime, hi: dt.datetime) -> list[tuple]:
    """What a calendar app shows: the feed parsed and expanded by recurring-ical-events."""
    cal = icalendar.Calendar.from_ical(data)
    out = []
    for event in recurring_ical_events.of(cal).between(lo, hi):
        if str(event.get("STATUS", "")) == "CANCELLED":
            continue
        start, end = event.start, event.end
        if not isinstance(start, dt.datetime):
            start = dt.datetime.combine(start, dt.time(0), TOKYO)
            end = dt.datetime.combine(end, dt.time(0), TOKYO)
        out.append((start.astimezone(TOKYO), end.astimezone(TOKYO), str(event["SUMMARY"])))
    return sorted(out)


def app_view(site, lo, hi, room=None, booking_ids=None) -> list[tuple]:
    return sorted((o.start, o.end, o.title) for o in ops.occurrences(site, lo, hi, room=room)
                  if booking_ids is None or o.booking_id in booking_ids)


@pytest.fixture
def hub(site):
    hours.set_holidays_closed(site, False)
    a = Room.create(site=site, name="多目的室", capacity=30)
    b = Room.create(site=site, name="和室", capacity=12)
    return site, a, b


def _busy_calendar(site, a, b):
    organiser = person(site)
    series = book(site, a, "2027-04-06T10:00", "2027-04-06T11:30", title="親子ひろば",
                  rrule="FREQ=WEEKLY;BYDAY=TU,TH;COUNT=12", exdates=["2027-04-15"],
                  rdates=["2027-04-17T10:00"], organiser=organiser.id)
    book(site, a, "2027-04-13T13:00", "2027-04-13T15:00", title="空き家相談",
         rrule="FREQ=MONTHLY;BYDAY=2TU")  # endless: expanded to the horizon
    book(site, b, "2027-04-09", "2027-04-10", all_day=True, title="作品展")
    book(site, b, "2027-04-12T09:30", "2027-04-12T10:00", title="仮予約", status="pending",
         organiser=organiser.id)
    gone = book(site, b, "2027-04-14T09:00", "2027-04-14T10:00", title="取り消し")
    ops.cancel_booking(gone)
    yoga = book(site, a, "2027-04-05T18:00", "2027-04-05T19:00", title="ヨガ",
                rrule="FREQ=WEEKLY;UNTIL=20270628")
    ops.move_occurrence(yoga, T("2027-04-12 18:00"), T("2027-04-12 19:00"))
    ops.move_occurrence(yoga, T("2027-04-19 18:00"), room=b)  # into the other room
    ops.cancel_booking(yoga, scope="this", recurrence_id=T("2027-04-26 18:00"))
    ops.update_booking(yoga, {"title": "ヨガ(特別回)"}, scope="this",
                       recurrence_id=T("2027-05-03 18:00"))
    ops.update_booking(yoga, {"start": T("2027-05-31 19:00"), "end": T("2027-05-31 20:00")},
                       scope="following", recurrence_id=T("2027-05-31 18:00"))
    talk = book(site, a, "2027-04-21T13:00", "2027-04-21T14:00", title="面談")
    ops.move_occurrence(talk, T("2027-04-21 13:00"), T("2027-04-22 15:00"), room=b)
    return organiser, series


def test_every_feed_expands_to_what_the_app_shows(hub):
    site, a, b = hub
    organiser, series = _busy_calendar(site, a, b)
    lo, hi = T("2027-04-01 00:00"), T("2028-04-01 00:00")
    feeds = {
        "site": (ics.create_feed(site, "site")[1], None, None),
        "room a": (ics.create_feed(site, "room", a)[1], a, None),
        "room b": (ics.create_feed(site, "room", b)[1], b, None),
        "person": (ics.create_feed(site, "person", organiser)[1], None,
                   {x.id for x in Booking.select().where(Booking.organiser == organiser)}),
    }
    for name, (token, room, ids) in feeds.items():
        data = ics.feed_ics(ics.feed_for_token(token), now=NOW)
        theirs, ours = expanded(data, lo, hi), app_view(site, lo, hi, room, ids)
        assert theirs == ours, name
        assert ours, name
    whole = ics.feed_ics(ics.feed_for_token(feeds["site"][0]), now=NOW)
    assert (T("2027-04-19 18:00"), T("2027-04-19 19:00"), "ヨガ") in expanded(whole, lo, hi)
    assert len([x for x in expanded(whole, lo, hi) if x[2] == "空き家相談"]) == 12
    assert [x[:2] for x in expanded(whole, lo, hi) if x[2] == "面談"] == [
        (T("2027-04-22 15:00"), T("2027-04-22 16:00"))]


def test_feed_is_rfc5545_with_series_kept_as_rules(hub):
    site, a, b = hub
    _busy_calendar(site, a, b)
    token = ics.create_feed(site, "site")[1]
    data = ics.feed_ics(ics.feed_for_token(token), now=NOW)
    text = data.decode()
    assert text.startswith("BEGIN:VCALENDAR\r\n") and "\r\nVERSION:2.0\r\n" in text
    cal = icalendar.Calendar.from_ical(data)
    assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == ["Asia/Tokyo"]
    events = cal.walk("VEVENT")
    assert all(e.get("UID") and e.get("DTSTAMP") and e.get("DTSTART") for e in events)
    masters = {str(e["SUMMARY"]): e for e in events if e.get("RECURRENCE-ID") is None}
    oyako = masters["親子ひろば"]
    assert oyako["RRULE"].to_ical() == b"FREQ=WEEKLY;COUNT=12;BYDAY=TU,TH"  # not expanded
    assert oyako["DTSTART"].params["TZID"] == "Asia/Tokyo"
    assert [d.dt for d in oyako["EXDATE"].dts] == [T("2027-04-15 10:00")]
    assert [d.dt for d in oyako["RDATE"].dts] == [T("2027-04-17 10:00")]
    [yoga] = [e for e in events if e.get("RECURRENCE-ID") is None
              and e.decoded("DTSTART") == T("2027-04-05 18:00")]
    overrides = [e for e in events if e.get("RECURRENCE-ID") is not None
                 and e["UID"] == yoga["UID"]]
    assert {e.decoded("RECURRENCE-ID") for e in overrides} == {
        T("2027-04-12 18:00"), T("2027-04-19 18:00"), T("2027-05-03 18:00")}
    assert T("2027-04-26 18:00") in [d.dt for x in (yoga["EXDATE"] if isinstance(
        yoga["EXDATE"], list) else [yoga["EXDATE"]]) for d in x.dts]
    assert "UNTIL=20270531T085959Z" in yoga["RRULE"].to_ical().decode()
    assert masters["取り消し"]["STATUS"] == "CANCELLED"
    assert masters["仮予約"]["STATUS"] == "TENTATIVE"
    assert masters["作品展"].decoded("DTSTART") == dt.date(2027, 4, 9)
    assert masters["作品展"].decoded("DTEND") == dt.date(2027, 4, 11)  # exclusive
    # Stable UIDs; SEQUENCE goes up with every change.
    again = icalendar.Calendar.from_ical(ics.feed_ics(ics.feed_for_token(token), now=NOW))
    assert {str(e["UID"]) for e in again.walk("VEVENT")} == {str(e["UID"]) for e in events}
    assert int(yoga["SEQUENCE"]) == 5


def test_feed_tokens_are_hashed_and_revocable(hub):
    site, a, _b = hub
    feed, token = ics.create_feed(site, "room", a, label="掲示板用")
    stored = CalendarFeed.get_by_id(feed.id)
    assert token not in stored.token_hash and len(stored.token_hash) == 64
    assert ics.feed_for_token(token).id == feed.id
    with pytest.raises(NotFound):
        ics.feed_for_token(token + "x")
    other = make_site("other", municipality="other-town")
    with pytest.raises(NotFound):
        ics.revoke_feed(other, feed.id)
    with pytest.raises(NotFound):
        ics.create_feed(other, "room", a)
    ics.revoke_feed(site, feed.id)
    with pytest.raises(NotFound):
        ics.feed_for_token(token)
    assert [f.id for f in ics.list_feeds(site)] == [feed.id]  # kept, revoked


# --- import ---------------------------------------------------------------------------------

UID = "3k5l2m1n0o9p8q7r6s5t4u3v2w@google.com"


def google_export(extra: str = "") -> bytes:
    """Shaped like a Google Calendar export (CRLF, VTIMEZONE, VALARM, overrides)."""
    text = f"""BEGIN:VCALENDAR
PRODID:-//Google Inc//Google Calendar 70.9054//EN
VERSION:2.0
CALSCALE:GREGORIAN
METHOD:PUBLISH
X-WR-CALNAME:みどり野 子育てサークル
X-WR-TIMEZONE:Asia/Tokyo
BEGIN:VTIMEZONE
TZID:Asia/Tokyo
X-LIC-LOCATION:Asia/Tokyo
BEGIN:STANDARD
TZOFFSETFROM:+0900
TZOFFSETTO:+0900
TZNAME:JST
DTSTART:19700101T000000
END:STANDARD
END:VTIMEZONE
BEGIN:VEVENT
DTSTART;TZID=Asia/Tokyo:20270406T100000
DTEND;TZID=Asia/Tokyo:20270406T113000
RRULE:FREQ=WEEKLY;WKST=SU;UNTIL=20270629T145959Z;BYDAY=TU
EXDATE;TZID=Asia/Tokyo:20270504T100000
DTSTAMP:20261120T010203Z
UID:{UID}
CREATED:20261101T000000Z
DESCRIPTION:持ち物:バスタオル\\, 水筒
LAST-MODIFIED:20261110T000000Z
LOCATION:
SEQUENCE:2
STATUS:CONFIRMED
SUMMARY:ベビーマッサージ
TRANSP:OPAQUE
BEGIN:VALARM
ACTION:DISPLAY
DESCRIPTION:This is an event reminder
TRIGGER:-P0DT0H30M0S
END:VALARM
END:VEVENT
BEGIN:VEVENT
DTSTART;TZID=Asia/Tokyo:20270420T130000
DTEND;TZID=Asia/Tokyo:20270420T143000
DTSTAMP:20261120T010203Z
UID:{UID}
RECURRENCE-ID;TZID=Asia/Tokyo:20270420T100000
SEQUENCE:3
STATUS:CONFIRMED
SUMMARY:ベビーマッサージ(午後)
END:VEVENT
BEGIN:VEVENT
DTSTART;TZID=Asia/Tokyo:20270511T100000
DTEND;TZID=Asia/Tokyo:20270511T113000
DTSTAMP:20261120T010203Z
UID:{UID}
RECURRENCE-ID;TZID=Asia/Tokyo:20270511T100000
STATUS:CANCELLED
SUMMARY:ベビーマッサージ
END:VEVENT
BEGIN:VEVENT
DTSTART:20270408T010000Z
DTEND:20270408T030000Z
DTSTAMP:20261120T010203Z
UID:single-8f2a@google.com
SUMMARY:絵本の読み聞かせ
END:VEVENT
BEGIN:VEVENT
DTSTART;VALUE=DATE:20270409
DTEND;VALUE=DATE:20270410
DTSTAMP:20261120T010203Z
UID:allday-77c1@google.com
SUMMARY:遠足(部屋は物置に)
END:VEVENT
BEGIN:VEVENT
DTSTART;TZID=Asia/Tokyo:20270415T190000
DTEND;TZID=Asia/Tokyo:20270415T203000
RRULE:FREQ=MONTHLY;BYMONTHDAY=15
DTSTAMP:20261120T010203Z
UID:meeting-0c3d@google.com
SUMMARY:運営会議
END:VEVENT
BEGIN:VEVENT
DTSTART;TZID=Asia/Tokyo:20270416T100000
DTEND;TZID=Asia/Tokyo:20270416T110000
DTSTAMP:20261120T010203Z
UID:cancelled-1b9e@google.com
STATUS:CANCELLED
SUMMARY:中止になった会
END:VEVENT
{extra}END:VCALENDAR
"""
    return text.replace("\n", "\r\n").encode()


def test_preview_shows_what_will_be_booked_and_what_is_in_the_way(hub):
    site, a, _b = hub
    book(site, a, "2027-04-13T11:00", "2027-04-13T12:00", title="先約")
    hours.add_closed_day(site, dt.date(2027, 6, 15), dt.date(2027, 6, 15), "館内点検")
    preview = ics.preview_import(site, a, google_export())
    items = {i.uid: i for i in preview.items}
    massage = items[UID]
    # 4/6–6/29 Tuesdays: 13 minus EXDATE 5/4 minus cancelled 5/11.
    assert (massage.status, massage.occurrences, massage.title) == ("new", 11, "ベビーマッサージ")
    assert [(c.title, c.date) for c in massage.conflicts] == [("先約", dt.date(2027, 4, 13))]
    assert items["cancelled-1b9e@google.com"].status == "cancelled"
    meeting = items["meeting-0c3d@google.com"]
    assert [p.date for p in meeting.closed] == [dt.date(2027, 6, 15)]
    assert "館内点検" in meeting.closed[0].reason
    assert items["single-8f2a@google.com"].start == T("2027-04-08 10:00")
    assert not preview.clean
    assert Booking.select().count() == 1  # preview writes nothing


def test_commit_is_all_or_nothing(hub):
    site, a, _b = hub
    book(site, a, "2027-06-29T11:00", "2027-06-29T12:00", title="先約")
    with pytest.raises(ops.BookingConflict) as exc:
        ics.commit_import(site, a, google_export())
    assert exc.value.conflicts[0].title == "先約"
    assert Booking.select().count() == 1 and BookingOccurrence.select().count() == 1


def test_commit_books_the_file_as_the_file_says(hub):
    site, a, _b = hub
    data = google_export()
    preview = ics.preview_import(site, a, data)
    assert preview.clean
    created = ics.commit_import(site, a, data)
    assert len(created) == 4  # the cancelled event is left out
    lo, hi = T("2027-04-01 00:00"), T("2028-04-01 00:00")
    assert app_view(site, lo, hi) == expanded(data, lo, hi)
    massage = Booking.get((Booking.site == site) & (Booking.uid == UID))
    assert massage.sequence == 2 and "水筒" in massage.notes and massage.program == "calendar"
    moved = BookingOccurrence.get(BookingOccurrence.recurrence_id == T("2027-04-20 10:00"))
    assert moved.moved and moved.title == "ベビーマッサージ(午後)"
    # Importing the same file again books nothing twice.
    again = ics.preview_import(site, a, data)
    assert {i.status for i in again.items} == {"exists", "cancelled"}
    assert ics.commit_import(site, a, data) == []
    # The import round-trips through our own feed.
    token = ics.create_feed(site, "room", a)[1]
    assert expanded(ics.feed_ics(ics.feed_for_token(token), now=NOW), lo, hi) == \
        expanded(data, lo, hi)


def test_skip_conflicts_on_import_and_conflicts_inside_the_file(hub):
    site, a, _b = hub
    clash = """BEGIN:VEVENT
DTSTART;TZID=Asia/Tokyo:20270408T103000
DTEND;TZID=Asia/Tokyo:20270408T113000
DTSTAMP:20261120T010203Z
UID:clash-in-file@example.org
SUMMARY:重なる予定
END:VEVENT
"""
    preview = ics.preview_import(site, a, google_export(clash))
    items = {i.uid: i for i in preview.items}
    assert [c.title for c in items["clash-in-file@example.org"].conflicts] == ["絵本の読み聞かせ"]
    with pytest.raises(ops.BookingConflict):
        ics.commit_import(site, a, google_export(clash))
    assert Booking.select().count() == 0
    # Skipping cannot help a single event whose one date is taken.
    with pytest.raises(ops.BookingConflict):
        ics.commit_import(site, a, google_export(clash), skip_conflicts=True)


@pytest.mark.parametrize("data,needle", [
    (b"\x89PNG\r\n\x1a\n\x00\x00", "not UTF-8"),
    (b"hello, world", "no BEGIN:VCALENDAR"),
    (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n", "no events"),
    (google_export("BEGIN:VEVENT\nthis is not a content line\nEND:VEVENT\n"), "error"),
    (google_export("BEGIN:VEVENT\nUID:x@y\nSUMMARY:開始なし\nEND:VEVENT\n"), "has no start"),
    (google_export("BEGIN:VEVENT\nUID:h@y\nDTSTART:20270410T010000Z\nDTEND:20270410T020000Z\n"
                   "RRULE:FREQ=HOURLY\nSUMMARY:毎時\nEND:VEVENT\n"), "daily, weekly"),
])
def test_a_malformed_file_is_refused_and_changes_nothing(hub, data, needle):
    site, a, _b = hub
    for call in (ics.preview_import, ics.commit_import):
        with pytest.raises(Invalid) as exc:
            call(site, a, data)
        assert needle in exc.value.errors["file"]
    assert Booking.select().count() == 0


def test_import_limits(hub, monkeypatch):
    site, a, _b = hub
    with pytest.raises(Invalid) as exc:
        ics.preview_import(site, a, b"BEGIN:VCALENDAR\r\n" + b"X" * (2 * 1024 * 1024))
    assert "2 MB" in exc.value.errors["file"]
    # An endless daily rule is expanded to the horizon only, never forever.
    start = (ops.utcnow() - dt.timedelta(days=3 * 365)).strftime("%Y%m%d")
    endless = (f"BEGIN:VEVENT\nUID:daily@y\nDTSTART;TZID=Asia/Tokyo:{start}T060000\n"
               f"DTEND;TZID=Asia/Tokyo:{start}T063000\nRRULE:FREQ=DAILY\nSUMMARY:朝\n"
               "END:VEVENT\n")
    with pytest.raises(Invalid) as exc:  # 4.5 years of days: more than one event may hold
        ics.preview_import(site, a, google_export(endless))
    assert "more than 1000 occurrences" in exc.value.errors["file"]
    # A rule that matches no day (30 February) is refused at once; dateutil alone would
    # search for one until the year 9999.
    never = ("BEGIN:VEVENT\nUID:feb30@y\nDTSTART;TZID=Asia/Tokyo:20270410T060000\n"
             "DTEND;TZID=Asia/Tokyo:20270410T063000\nRRULE:FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=30\n"
             "SUMMARY:ない日\nEND:VEVENT\n")
    with pytest.raises(Invalid) as exc:
        ics.preview_import(site, a, google_export(never))
    assert "gives no date at all" in exc.value.errors["file"]
    monkeypatch.setattr(ics, "MAX_IMPORT_OCCURRENCES", 20)
    with pytest.raises(Invalid) as exc:
        ics.preview_import(site, a, google_export())
    assert "more than 20 occurrences" in exc.value.errors["file"]


def test_import_into_another_sites_room_is_not_found(hub):
    site, _a, _b = hub
    other = make_site("other", municipality="other-town")
    their_room = Room.create(site=other, name="会議室", capacity=5)
    with pytest.raises(NotFound):
        ics.preview_import(site, their_room, google_export())
    with pytest.raises(NotFound):
        ics.commit_import(site, their_room, google_export())


# --- property: any series the app accepts, a calendar app expands the same way -----------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_RULES = st.one_of(
    st.builds(lambda days, n: f"FREQ=WEEKLY;BYDAY={','.join(days)};COUNT={n}",
              st.lists(st.sampled_from(["MO", "TU", "WE", "TH", "FR", "SA", "SU"]),
                       min_size=1, max_size=3, unique=True), st.integers(1, 20)),
    st.builds(lambda nth, day, n: f"FREQ=MONTHLY;BYDAY={nth}{day};COUNT={n}",
              st.sampled_from(["1", "2", "3", "4", "-1"]),
              st.sampled_from(["MO", "TU", "WE", "TH", "FR"]), st.integers(1, 12)),
    st.builds(lambda md, until: f"FREQ=MONTHLY;BYMONTHDAY={md};UNTIL={until}",
              st.integers(1, 28), st.sampled_from(["20271231", "20280630"])),
    st.builds(lambda i: f"FREQ=DAILY;INTERVAL={i};COUNT=15", st.integers(1, 9)),
)


@settings(max_examples=40, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rule=_RULES, hour=st.integers(0, 22), minutes=st.sampled_from([30, 60, 90]),
       skip=st.integers(0, 5), extra=st.booleans(), cancel=st.integers(0, 4))
def test_any_accepted_series_round_trips_through_ics(hub, rule, hour, minutes, skip, extra,
                                                     cancel):
    site, a, _b = hub
    BookingOccurrence.delete().execute()
    Booking.delete().execute()
    # Start on the rule's first date in April 2027 (the app refuses a start off the rule).
    from hubcore.calendar import recurrence as rec

    probe = rec.Series(T("2027-04-01 00:00").replace(hour=hour), dt.timedelta(minutes=minutes),
                       rec.normalise_rule(rule.split(";COUNT")[0].split(";UNTIL")[0], TOKYO,
                                          False))
    first = rec.expand(probe, T("2027-06-01 00:00"), limit=100).starts[0]
    start = first.replace(tzinfo=None)
    end = start + dt.timedelta(minutes=minutes)
    days = rec.expand(rec.Series(first, dt.timedelta(minutes=minutes),
                                 rec.normalise_rule(rule, TOKYO, False)),
                      T("2029-01-01 00:00")).starts
    fields = {"rrule": rule}
    if skip and len(days) > skip:
        fields["exdates"] = [days[skip].date()]
    if extra:
        fields["rdates"] = [(start + dt.timedelta(days=1000)).isoformat()]
    b = book(site, a, start.isoformat(), end.isoformat(), **fields)
    rows = ops.booking_occurrences(b)
    if cancel and len(rows) > cancel:
        ops.cancel_booking(b, scope="this", recurrence_id=rows[cancel].recurrence_id)
    if len(rows) > 1 and cancel != len(rows) - 1:
        ops.move_occurrence(b, rows[-1].recurrence_id,
                            rows[-1].start_at + dt.timedelta(minutes=15))
    token = ics.create_feed(site, "site")[1]
    # Occurrence rows reach the horizon (18 months ahead); the rule goes on beyond it.
    lo = T("2027-03-01 00:00")
    hi = Booking.get_by_id(b.id).expanded_until or T("2030-01-01 00:00")
    data = ics.feed_ics(ics.feed_for_token(token), now=NOW)
    assert expanded(data, lo, hi) == app_view(site, lo, hi)
