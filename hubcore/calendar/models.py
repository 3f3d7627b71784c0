"""Bookings of rooms, their occurrences as rows, opening hours, closed days, feeds.

Times are stored as naive UTC (``UTCField``) so that SQLite's text comparison and
PostgreSQL's ``timestamp`` order them the same way; Python always sees them aware.
"""

from __future__ import annotations

import datetime as dt

import peewee

from hubcore.db import BaseModel, is_sqlite, utcnow
from hubcore.people.models import Person
from hubcore.rooms.models import Room
from hubcore.sites.models import Site

STATUSES = ("confirmed", "pending", "cancelled")


class UTCField(peewee.DateTimeField):
    """A point in time, stored as naive UTC and read back aware (UTC)."""

    def db_value(self, value):
        if value is None:
            return None
        if isinstance(value, dt.datetime):
            if value.tzinfo is None:
                raise ValueError("UTCField needs a time-zone aware datetime")
            value = value.astimezone(dt.UTC).replace(tzinfo=None, microsecond=0)
            # One text shape on SQLite, so that string comparison is time order.
            return value.isoformat(" ") if is_sqlite() else value
        return super().db_value(value)

    def python_value(self, value):
        return to_utc(value)


def to_utc(value) -> dt.datetime | None:
    """A stored time (text on SQLite, naive datetime on PostgreSQL) as aware UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Booking(BaseModel):
    """A booking of one room: a single event or a recurring series (RFC 5545)."""

    site = peewee.ForeignKeyField(Site, backref="bookings", on_delete="RESTRICT")
    room = peewee.ForeignKeyField(Room, backref="bookings", on_delete="RESTRICT")
    title = peewee.CharField(max_length=200)
    # "calendar" for the core, else the name of the plugin whose activity this is.
    program = peewee.CharField(max_length=100, default="calendar")
    organiser = peewee.ForeignKeyField(Person, null=True, backref="organised_bookings",
                                       on_delete="SET NULL")
    attendance = peewee.IntegerField(default=1)
    all_day = peewee.BooleanField(default=False)
    # The first occurrence (DTSTART/DTEND); for all-day bookings local midnights.
    start_at = UTCField()
    end_at = UTCField()
    # The zone the series is expanded in (wall clock): the site's, or an import's own.
    tzid = peewee.CharField(max_length=64, default="Asia/Tokyo")
    setup_minutes = peewee.IntegerField(default=0)
    cleanup_minutes = peewee.IntegerField(default=0)
    status = peewee.CharField(max_length=10, default="confirmed")
    notes = peewee.TextField(default="")
    # Makes noise (music, sports): plugins' validate_booking rules may look at it.
    loud = peewee.BooleanField(default=False)
    # RRULE value without the "RRULE:" prefix; "" for a single event.
    rrule = peewee.TextField(default="")
    # EXDATE as local dates (YYYYMMDD, comma separated): robust to a change of time.
    exdates = peewee.TextField(default="")
    # RDATE as local wall-clock datetimes (YYYYMMDDTHHMMSS, comma separated).
    rdates = peewee.TextField(default="")
    # Occurrence rows exist up to here; None when the whole series is expanded.
    expanded_until = UTCField(null=True)
    # A site manager allowed it outside opening hours / on closed days.
    hours_override = peewee.BooleanField(default=False)
    uid = peewee.CharField(max_length=255)
    sequence = peewee.IntegerField(default=0)
    # "This and following" edits end a series and start this one.
    split_from = peewee.ForeignKeyField("self", null=True, backref="continuations",
                                        on_delete="SET NULL")
    created_at = UTCField(default=utcnow)
    updated_at = UTCField(default=utcnow)

    class Meta:
        table_name = "booking"
        indexes = ((("site", "uid"), True), (("site", "organiser"), False))


# Series not fully expanded yet, per room: read under the room's lock by every booking.
# Partial: nearly every booking has none, and a full index would look useless to SQLite.
Booking.add_index(Booking.index(Booking.room, Booking.expanded_until,
                                where=Booking.expanded_until.is_null(False)))


class BookingOccurrence(BaseModel):
    """One occurrence of a booking, expanded from its rule (Indico's model).

    Site, room and attendance are copied from the booking so that the conflict and
    week-view queries read one indexed table.
    """

    # No single-column indexes: the composite ones below lead with these columns, and
    # every index costs each of a series' many inserts.
    booking = peewee.ForeignKeyField(Booking, backref="occurrence_rows", on_delete="CASCADE",
                                     index=False)
    site = peewee.ForeignKeyField(Site, on_delete="RESTRICT", index=False)
    room = peewee.ForeignKeyField(Room, on_delete="RESTRICT", index=False)
    # RECURRENCE-ID: the start the rule gave this occurrence (stays when it is moved).
    recurrence_id = UTCField()
    start_at = UTCField()
    end_at = UTCField()
    # With setup and cleanup buffers: what conflicts are computed on.
    block_start = UTCField()
    block_end = UTCField()
    attendance = peewee.IntegerField()
    # Per-occurrence title; None means the booking's.
    title = peewee.CharField(max_length=200, null=True)
    moved = peewee.BooleanField(default=False)
    cancelled = peewee.BooleanField(default=False)

    class Meta:
        table_name = "booking_occurrence"
        indexes = (
            (("booking", "recurrence_id"), True),
            (("room", "block_start", "block_end"), False),
            (("site", "start_at"), False),
        )

    @property
    def overridden(self) -> bool:
        return self.moved or self.cancelled or self.title is not None


class OpeningHours(BaseModel):
    """An opening interval on a weekday (0 = Monday). Rows of a room replace the site's."""

    site = peewee.ForeignKeyField(Site, on_delete="CASCADE")
    room = peewee.ForeignKeyField(Room, null=True, on_delete="CASCADE")
    weekday = peewee.SmallIntegerField()
    opens = peewee.TimeField()
    # 00:00 means midnight at the end of the day.
    closes = peewee.TimeField()

    class Meta:
        table_name = "opening_hours"
        indexes = ((("site", "room", "weekday"), False),)


class ClosedDay(BaseModel):
    """The site is closed from start_date to end_date inclusive, e.g. 年末年始."""

    site = peewee.ForeignKeyField(Site, on_delete="CASCADE")
    start_date = peewee.DateField()
    end_date = peewee.DateField()
    name = peewee.CharField(max_length=100)

    class Meta:
        table_name = "closed_day"
        indexes = ((("site", "start_date"), False),)


class CalendarSettings(BaseModel):
    """Per-site calendar settings; a site without a row has the defaults."""

    site = peewee.ForeignKeyField(Site, unique=True, on_delete="CASCADE")
    holidays_closed = peewee.BooleanField(default=True)

    class Meta:
        table_name = "calendar_settings"


class RoomAdjacency(BaseModel):
    """Two rooms next to each other (sound carries). Stored once, smaller id first."""

    site = peewee.ForeignKeyField(Site, on_delete="CASCADE")
    room_a = peewee.ForeignKeyField(Room, on_delete="CASCADE", backref="+")
    room_b = peewee.ForeignKeyField(Room, on_delete="CASCADE", backref="+")

    class Meta:
        table_name = "room_adjacency"
        indexes = ((("room_a", "room_b"), True),)


class CalendarPeriod(BaseModel):
    """A named time of day used as the calendar's time labels, e.g. a former school's
    1限 08:50–09:35. A site without rows shows plain hours."""

    site = peewee.ForeignKeyField(Site, on_delete="CASCADE")
    position = peewee.SmallIntegerField()
    name = peewee.CharField(max_length=20)
    starts = peewee.TimeField()
    ends = peewee.TimeField()

    class Meta:
        table_name = "calendar_period"
        indexes = ((("site", "position"), True),)


FEED_KINDS = ("site", "room", "person")


class CalendarFeed(BaseModel):
    """A secret ICS feed URL. Only the token's sha256 is kept; revoked feeds stay."""

    site = peewee.ForeignKeyField(Site, on_delete="CASCADE")
    kind = peewee.CharField(max_length=10)
    room = peewee.ForeignKeyField(Room, null=True, on_delete="CASCADE")
    person = peewee.ForeignKeyField(Person, null=True, on_delete="CASCADE")
    token_hash = peewee.CharField(max_length=64, unique=True)
    label = peewee.CharField(max_length=200, default="")
    created_at = UTCField(default=utcnow)
    revoked_at = UTCField(null=True)

    class Meta:
        table_name = "calendar_feed"


MODELS = [Booking, BookingOccurrence, OpeningHours, ClosedDay, CalendarSettings,
          RoomAdjacency, CalendarFeed, CalendarPeriod]
