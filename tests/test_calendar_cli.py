"""`hubcore calendar …`: the horizon job, ICS import, feed tokens."""

from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner

from hubcore.calendar import hours, ics
from hubcore.calendar import operations as ops
from hubcore.calendar.cli import calendar
from hubcore.calendar.models import Booking, BookingOccurrence, CalendarFeed
from hubcore.rooms.models import Room


@pytest.fixture
def run(database, monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", database)
    monkeypatch.setenv("HUBCORE_INSTANCE", str(tmp_path / "inst"))

    def invoke(*args: str):
        result = CliRunner().invoke(calendar, list(args), catch_exceptions=False)
        return result

    return invoke


def test_the_command_is_registered_on_hubcore():
    import click

    from hubcore.plugins import get_host

    group = click.Group()
    get_host().pm.hook.register_commands(cli=group)
    assert {"extend", "import", "feed-create", "feed-revoke"} <= set(group.commands["calendar"]
                                                                     .commands)


def test_extend_is_idempotent(run, site):
    room = Room.create(site=site, name="和室", capacity=10)
    start = (ops.utcnow() + dt.timedelta(days=2)).date()
    b = ops.create_booking(site, {"room": room.id, "title": "朝活", "rrule": "FREQ=WEEKLY",
                                  "start": f"{start}T07:00", "end": f"{start}T08:00"},
                           override=True)
    # As if the job had not run for two months: the horizon is behind.
    rows = BookingOccurrence.select().where(BookingOccurrence.booking == b)
    last = max(r.recurrence_id for r in rows)
    cut = last - dt.timedelta(days=60)
    BookingOccurrence.delete().where((BookingOccurrence.booking == b)
                                     & (BookingOccurrence.recurrence_id > cut)).execute()
    Booking.update(expanded_until=cut).where(Booking.id == b.id).execute()
    first = run("extend")
    assert first.exit_code == 0 and "1 series extended" in first.output, first.output
    assert rows.count() >= 76
    second = run("extend")
    assert "0 series extended, 0 occurrence(s) added" in second.output


def test_import_preview_then_commit(run, site, tmp_path):
    hours.set_holidays_closed(site, False)
    room = Room.create(site=site, name="和室", capacity=10)
    path = tmp_path / "club.ics"
    path.write_bytes(b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\n"
                     b"UID:a@x\r\nDTSTART;TZID=Asia/Tokyo:20270406T100000\r\n"
                     b"DTEND;TZID=Asia/Tokyo:20270406T110000\r\nRRULE:FREQ=WEEKLY;COUNT=3\r\n"
                     b"SUMMARY:\xe5\xb0\x86\xe6\xa3\x8b\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    preview = run("import", site.slug, str(room.id), str(path))
    assert preview.exit_code == 0 and "new" in preview.output and "(3×)" in preview.output
    assert Booking.select().count() == 0
    done = run("import", site.slug, str(room.id), str(path), "--commit")
    assert done.exit_code == 0 and "1 booking(s) imported" in done.output
    bad = CliRunner().invoke(calendar, ["import", site.slug, "999", str(path)])
    assert bad.exit_code != 0 and "no room 999" in bad.output


def test_feed_create_and_revoke(run, site):
    room = Room.create(site=site, name="和室", capacity=10)
    r = run("feed-create", site.slug, "--room", str(room.id), "--label", "掲示板")
    assert r.exit_code == 0, r.output
    token = r.output.rsplit(": ", 1)[1].strip()
    feed = ics.feed_for_token(token)
    assert feed.kind == "room" and feed.room_id == room.id
    assert run("feed-revoke", site.slug, str(feed.id)).exit_code == 0
    assert CalendarFeed.get_by_id(feed.id).revoked_at is not None
