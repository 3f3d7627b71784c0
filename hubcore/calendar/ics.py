"""ICS (RFC 5545): secret feeds per site, room and person; import of a file into a room.

Feeds keep series as series (RRULE, RDATE, EXDATE) with moved occurrences as
RECURRENCE-ID overrides and cancelled ones as EXDATE, so a calendar app shows what
``occurrences()`` shows. Imports expand only to the horizon and are all or nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import x_wr_timezone

from hubcore.calendar import operations as ops
from hubcore.calendar import recurrence as rec
from hubcore.calendar.models import FEED_KINDS, Booking, BookingOccurrence, CalendarFeed
from hubcore.calendar.schemas import MAX_SPAN, BookingIn
from hubcore.db import get_in_site, utcnow, write_transaction
from hubcore.errors import Invalid, NotFound
from hubcore.forms import validate
from hubcore.i18n import gettext as _
from hubcore.people.models import Person
from hubcore.rooms.models import Room
from hubcore.sites.models import Site

PRODID = "-//hubcore//calendar//JA"
FEED_HISTORY = dt.timedelta(days=180)  # bookings that ended longer ago leave the feed
MAX_IMPORT_BYTES = 2 * 1024 * 1024
MAX_IMPORT_EVENTS = 2000
MAX_IMPORT_OCCURRENCES = 20_000


# --- feeds ------------------------------------------------------------------------------


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_feed(site: Site, kind: str, target: Room | Person | None = None,
                label: str = "") -> tuple[CalendarFeed, str]:
    """A new secret feed; returns it and its token, which is shown once and never
    stored (only its sha256 is)."""
    if kind not in FEED_KINDS:
        raise Invalid({"kind": _("Unknown feed kind: {kind}").format(kind=kind)})
    room = person = None
    if kind == "room":
        room = get_in_site(Room, site, getattr(target, "id", target))
    elif kind == "person":
        person = get_in_site(Person, site, getattr(target, "id", target))
    token = secrets.token_urlsafe(32)
    with write_transaction():
        feed = CalendarFeed.create(site=site, kind=kind, room=room, person=person,
                                   token_hash=_hash(token), label=label[:200])
    return feed, token


def feed_for_token(token: str) -> CalendarFeed:
    """The live feed of a token, or NotFound (unknown and revoked alike)."""
    feed = CalendarFeed.get_or_none((CalendarFeed.token_hash == _hash(token))
                                    & CalendarFeed.revoked_at.is_null())
    if feed is None:
        raise NotFound("feed")
    return feed


def list_feeds(site: Site) -> list[CalendarFeed]:
    return list(CalendarFeed.select().where(CalendarFeed.site == site)
                .order_by(CalendarFeed.created_at))


def revoke_feed(site: Site, feed_id: int | str) -> CalendarFeed:
    feed = get_in_site(CalendarFeed, site, feed_id)
    with write_transaction():
        if feed.revoked_at is None:
            feed.revoked_at = utcnow()
            feed.save()
    return feed


def feed_ics(feed: CalendarFeed, now: dt.datetime | None = None) -> bytes:
    """The feed's calendar as ICS bytes."""
    site = feed.site
    since = (now or utcnow()) - FEED_HISTORY
    occ = BookingOccurrence
    if feed.kind == "room":
        name = feed.room.name
        own = Booking.select(Booking.id).where(Booking.room == feed.room_id)
        visible_room = feed.room_id
        # Occurrences of other rooms' series moved into this room.
        guests = list(occ.select().join(Booking).where(
            (occ.room == feed.room_id) & (Booking.room != feed.room_id) & ~occ.cancelled
            & (Booking.status != "cancelled") & (occ.end_at >= since)))
    elif feed.kind == "person":
        name = feed.person.full_name
        own = Booking.select(Booking.id).where((Booking.site == site)
                                               & (Booking.organiser == feed.person_id))
        visible_room, guests = None, []
    else:
        name = site.name
        own = Booking.select(Booking.id).where(Booking.site == site)
        visible_room, guests = None, []
    ids = occ.select(occ.booking).distinct().where(occ.booking.in_(own) & (occ.end_at >= since))
    bookings = list(Booking.select().where(Booking.id.in_(ids)).order_by(Booking.id))
    return calendar_bytes(site, name, bookings, visible_room, guests)


def _dt_value(instant: dt.datetime, tz: ZoneInfo, all_day: bool) -> dt.date | dt.datetime:
    local = instant.astimezone(tz)
    return local.date() if all_day else local


def calendar_bytes(site: Site, name: str, bookings: list[Booking],
                   visible_room: int | None = None,
                   guests: list[BookingOccurrence] = ()) -> bytes:
    """ICS for ``bookings``; with ``visible_room``, occurrences moved to another room
    become EXDATEs and ``guests`` (moved in from elsewhere) standalone events."""
    cal = icalendar.Calendar()
    cal.add("PRODID", PRODID)
    cal.add("VERSION", "2.0")
    cal.add("CALSCALE", "GREGORIAN")
    cal.add("X-WR-CALNAME", name)
    cal.add("X-WR-TIMEZONE", site.timezone)
    rows_by_booking: dict[int, list[BookingOccurrence]] = defaultdict(list)
    if bookings:
        for r in BookingOccurrence.select().where(
                BookingOccurrence.booking.in_([b.id for b in bookings])):
            rows_by_booking[r.booking_id].append(r)
    rooms = {r.id: r.name for r in Room.select(Room.id, Room.name).where(Room.site == site)}
    for b in bookings:
        for event in _events(b, rows_by_booking[b.id], rooms, visible_room):
            cal.add_component(event)
    for row in guests:
        cal.add_component(_guest_event(row, rooms))
    cal.add_missing_timezones()
    return cal.to_ical()


def _base_event(b: Booking, uid: str, title: str, room_name: str) -> icalendar.Event:
    event = icalendar.Event()
    event.add("UID", uid)
    event.add("DTSTAMP", b.updated_at)
    event.add("CREATED", b.created_at)
    event.add("LAST-MODIFIED", b.updated_at)
    event.add("SEQUENCE", b.sequence)
    event.add("SUMMARY", title)
    event.add("LOCATION", room_name)
    event.add("CATEGORIES", [b.program])
    event.add("X-HUBCORE-PROGRAM", b.program)
    event.add("STATUS", {"confirmed": "CONFIRMED", "pending": "TENTATIVE"}.get(b.status,
                                                                                "CANCELLED"))
    return event


def _events(b: Booking, rows: list[BookingOccurrence], rooms: dict[int, str],
            visible_room: int | None) -> list[icalendar.Event]:
    tz = ZoneInfo(b.tzid)
    series = ops.series_of(b)
    if not (b.rrule or series.rdates):
        return _single_event(b, rows, rooms, visible_room, tz)
    master = _base_event(b, b.uid, b.title, rooms.get(b.room_id, ""))
    master.add("DTSTART", _dt_value(b.start_at, tz, b.all_day))
    master.add("DTEND", _dt_value(b.end_at, tz, b.all_day))
    out = [master]
    if b.rrule:
        master.add("RRULE", icalendar.vRecur.from_ical(b.rrule))
    if series.rdates:
        master.add("RDATE", [_dt_value(d, tz, b.all_day) for d in series.rdates])
    exdates = [_dt_value(dt.datetime.combine(d, series.dtstart.timetz()), tz, b.all_day)
               for d in sorted(series.exdates)]
    if b.status != "cancelled":
        for r in sorted(rows, key=lambda r: r.recurrence_id):
            hidden = visible_room is not None and r.room_id != visible_room
            if r.cancelled or hidden:
                exdates.append(_dt_value(r.recurrence_id, tz, b.all_day))
            elif r.moved or r.title is not None:
                override = _base_event(b, b.uid, r.title or b.title, rooms.get(r.room_id, ""))
                override.add("RECURRENCE-ID", _dt_value(r.recurrence_id, tz, b.all_day))
                override.add("DTSTART", _dt_value(r.start_at, tz, b.all_day))
                override.add("DTEND", _dt_value(r.end_at, tz, b.all_day))
                out.append(override)
    if exdates:
        master.add("EXDATE", sorted(set(exdates)))
    return out


def _single_event(b: Booking, rows: list[BookingOccurrence], rooms: dict[int, str],
                  visible_room: int | None, tz: ZoneInfo) -> list[icalendar.Event]:
    """A booking without recurrence: one VEVENT with its occurrence's own times."""
    row = rows[0] if rows else None
    if row is not None and visible_room is not None and row.room_id != visible_room:
        return []  # moved to another room: that room's feed shows it
    start, end = (row.start_at, row.end_at) if row else (b.start_at, b.end_at)
    event = _base_event(b, b.uid, (row.title if row else None) or b.title,
                        rooms.get(row.room_id if row else b.room_id, ""))
    event.add("DTSTART", _dt_value(start, tz, b.all_day))
    event.add("DTEND", _dt_value(end, tz, b.all_day))
    if row is not None and row.cancelled:
        event["STATUS"] = "CANCELLED"
    return [event]


def _guest_event(row: BookingOccurrence, rooms: dict[int, str]) -> icalendar.Event:
    b = row.booking
    tz = ZoneInfo(b.tzid)
    uid = f"{b.uid}-{row.recurrence_id:%Y%m%dT%H%M%SZ}"
    event = _base_event(b, uid, row.title or b.title, rooms.get(row.room_id, ""))
    event.add("DTSTART", _dt_value(row.start_at, tz, b.all_day))
    event.add("DTEND", _dt_value(row.end_at, tz, b.all_day))
    return event


# --- import ------------------------------------------------------------------------------


@dataclass
class _Override:
    """A RECURRENCE-ID override read from a file, shaped like an occurrence row."""

    recurrence_id: dt.datetime
    start_at: dt.datetime
    end_at: dt.datetime
    room_id: int
    title: str | None
    moved: bool
    cancelled: bool

    @property
    def overridden(self) -> bool:
        return True


@dataclass
class ImportItem:
    """One event of the file as it would be booked (times in the site's zone)."""

    uid: str
    title: str
    start: dt.datetime
    end: dt.datetime
    all_day: bool
    rrule: str
    occurrences: int
    # "new" (will be booked), "exists" (this UID is booked already: left out),
    # "cancelled" (cancelled in the file: left out)
    status: str
    conflicts: list[ops.ConflictItem] = field(default_factory=list)
    closed: list[ops.ClosedItem] = field(default_factory=list)
    booking: Booking | None = field(default=None, repr=False)
    overrides: list[_Override] = field(default_factory=list, repr=False)


@dataclass
class ImportPreview:
    items: list[ImportItem]

    @property
    def new(self) -> list[ImportItem]:
        return [i for i in self.items if i.status == "new"]

    @property
    def total_occurrences(self) -> int:
        return sum(i.occurrences for i in self.new)

    @property
    def clean(self) -> bool:
        """True when committing needs no skip or override."""
        return not any(i.conflicts or i.closed for i in self.new)


def _refuse(message: str) -> Invalid:
    return Invalid({"file": message})


def _parse(data: bytes) -> list[icalendar.Calendar]:
    if len(data) > MAX_IMPORT_BYTES:
        raise _refuse(_("The file is larger than {mb} MB.").format(
            mb=MAX_IMPORT_BYTES // (1024 * 1024)))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _refuse(_("The file is not UTF-8 text: is it a calendar file (.ics)?")) from None
    if "BEGIN:VCALENDAR" not in text.upper():
        raise _refuse(_("This is not a calendar file (.ics): it has no BEGIN:VCALENDAR."))
    try:
        cals = icalendar.Calendar.from_ical(text, multiple=True)
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise _refuse(_("The calendar file cannot be read: {error}").format(error=exc)) from None
    out = []
    for cal in cals:
        for component in cal.walk():
            if component.errors:
                where, error = component.errors[0]
                raise _refuse(_("The calendar file has an error in {part}: {error}").format(
                    part=component.name, error=error))
        # Google exports UTC times with X-WR-TIMEZONE meaning the zone to show them in.
        out.append(x_wr_timezone.to_standard(cal))
    return out


def _event_zone(value: dt.date | dt.datetime, site_tz: ZoneInfo) -> ZoneInfo:
    if isinstance(value, dt.datetime) and isinstance(value.tzinfo, ZoneInfo):
        return value.tzinfo
    # Floating times mean the site's wall clock; custom VTIMEZONEs are read in its zone.
    return site_tz


def _as_local(value: dt.date | dt.datetime, tz: ZoneInfo) -> dt.datetime:
    if not isinstance(value, dt.datetime):
        return dt.datetime.combine(value, dt.time(0), tz)
    return value.replace(tzinfo=tz) if value.tzinfo is None else value.astimezone(tz)


def _dates_of(prop: Any) -> list[dt.date | dt.datetime]:
    if prop is None:
        return []
    out = []
    for item in prop if isinstance(prop, list) else [prop]:
        for d in item.dts:
            value = d.dt
            out.append(value[0] if isinstance(value, tuple) else value)  # PERIOD: its start
    return out


def _event_label(event: icalendar.Event) -> str:
    return str(event.get("SUMMARY") or event.get("UID") or "?")


def _item(site: Site, room: Room, master: icalendar.Event, overrides: list[icalendar.Event],
          uid: str) -> ImportItem:
    site_tz = ops.site_zone(site)
    label = _event_label(master)
    if master.get("DTSTART") is None:
        raise _refuse(_("Event “{event}” has no start.").format(event=label))
    start_value = master.decoded("DTSTART")
    all_day = not isinstance(start_value, dt.datetime)
    tz = _event_zone(start_value, site_tz)
    start = _as_local(start_value, tz)
    if master.get("DTEND") is not None:
        end = _as_local(master.decoded("DTEND"), tz)
    elif master.get("DURATION") is not None:
        end = start + master.decoded("DURATION")
    elif all_day:
        end = start + dt.timedelta(days=1)
    else:
        raise _refuse(_("Event “{event}” has no end.").format(event=label))
    rules = master.get("RRULE")
    if isinstance(rules, list):
        raise _refuse(_("Event “{event}” has more than one repeat rule.").format(event=label))
    rule = rules.to_ical().decode() if rules is not None else ""
    exdates = {_as_local(d, tz).date() for d in _dates_of(master.get("EXDATE"))}
    rdates = [_as_local(d, tz) for d in _dates_of(master.get("RDATE"))]
    title = str(master.get("SUMMARY") or "").strip()[:200] or _("(no title)")
    fields = {
        "room": room.id, "title": title, "all_day": all_day,
        "start": start, "end": end - dt.timedelta(days=1) if all_day else end,
        "status": "pending" if str(master.get("STATUS", "")).upper() == "TENTATIVE"
        else "confirmed",
        "notes": str(master.get("DESCRIPTION") or "")[:2000], "rrule": rule,
        "exdates": sorted(exdates), "rdates": rdates,
    }
    try:
        data = validate(BookingIn, fields)
        b = Booking(site=site, uid=uid[:255], sequence=int(master.get("SEQUENCE", 0) or 0))
        ops._fill(b, site, data, tz, check_rule=False)
        series = ops.series_of(b)
        try:
            first = rec.first_start(series, ops._bound(b.start_at))
        except rec.RuleError as exc:
            raise Invalid({"rrule": str(exc)}) from None
        if rule and first != series.dtstart:
            # RFC 5545 counts DTSTART as an occurrence even off the rule; so do apps.
            b.rdates = rec.format_local([*series.rdates, series.dtstart], tz)
        occs, _complete, _bound = ops._expand(b)
    except Invalid as exc:
        raise _refuse(_("Event “{event}” cannot be booked: {error}").format(
            event=label, error=" ".join(exc.errors.values()))) from None
    item = ImportItem(uid, title, start.astimezone(site_tz), end.astimezone(site_tz), all_day,
                      b.rrule, len(occs), "new", booking=b)
    for o in overrides:
        rid = _as_local(o.decoded("RECURRENCE-ID"), tz)
        cancelled = str(o.get("STATUS", "")).upper() == "CANCELLED"
        o_start = _as_local(o.decoded("DTSTART"), tz) if o.get("DTSTART") else rid
        if o.get("DTEND") is not None:
            o_end = _as_local(o.decoded("DTEND"), tz)
        elif o.get("DURATION") is not None:
            o_end = o_start + o.decoded("DURATION")
        else:
            o_end = o_start + (end.replace(tzinfo=None) - start.replace(tzinfo=None))
        if not dt.timedelta(0) < o_end - o_start <= MAX_SPAN:
            raise _refuse(_("Event “{event}” has an occurrence that ends before it starts or "
                            "lasts more than {days} days.").format(event=label,
                                                                   days=MAX_SPAN.days))
        o_title = str(o.get("SUMMARY") or "").strip()[:200] or None
        item.overrides.append(_Override(
            rid.astimezone(dt.UTC), o_start.astimezone(dt.UTC), o_end.astimezone(dt.UTC),
            room.id, o_title if o_title != title else None,
            moved=(o_start, o_end) != (rid, rid + (end - start)), cancelled=cancelled))
    return item


def _items(site: Site, room: Room, data: bytes) -> list[ImportItem]:
    events: dict[str, list[icalendar.Event]] = defaultdict(list)
    for cal in _parse(data):
        for event in cal.walk("VEVENT"):
            uid = str(event.get("UID") or "").strip()
            if not uid:
                # No UID (some exporters): derive one, so a second import finds it.
                raw = f"{event.get('DTSTART').to_ical() if event.get('DTSTART') else ''}" \
                      f"|{event.get('SUMMARY', '')}"
                uid = "import-" + hashlib.sha256(raw.encode()).hexdigest()[:32]
            events[uid].append(event)
    if not events:
        raise _refuse(_("The calendar file has no events."))
    if len(events) > MAX_IMPORT_EVENTS:
        raise _refuse(_("The file has more than {n} events.").format(n=MAX_IMPORT_EVENTS))
    existing = {u for (u,) in Booking.select(Booking.uid).where(
        (Booking.site == site) & Booking.uid.in_([u[:255] for u in events])).tuples()}
    items, total = [], 0
    for uid, group in events.items():
        masters = [e for e in group if e.get("RECURRENCE-ID") is None]
        overrides = [e for e in group if e.get("RECURRENCE-ID") is not None]
        if len(masters) != 1:
            raise _refuse(_("Event {uid} appears {n} times without RECURRENCE-ID.").format(
                uid=uid, n=len(masters)))
        master = masters[0]
        item = _item(site, room, master, overrides, uid)
        if str(master.get("STATUS", "")).upper() == "CANCELLED":
            item.status = "cancelled"
        elif uid[:255] in existing:
            item.status = "exists"
        else:
            total += item.occurrences
            if total > MAX_IMPORT_OCCURRENCES:
                raise _refuse(_("The file has more than {n} occurrences within the next "
                                "18 months.").format(n=MAX_IMPORT_OCCURRENCES))
        items.append(item)
    items.sort(key=lambda i: i.start)
    return items


def preview_import(site: Site, room: Room, data: bytes) -> ImportPreview:
    """What importing ``data`` into ``room`` would book and what is in the way, without
    writing anything. Events conflicting with each other inside the file count too."""
    room = get_in_site(Room, site, room.id)
    items = _items(site, room, data)
    tz = ops.site_zone(site)
    rooms = {room.id: room}
    pending: list[ops._Row] = []
    for item in items:
        if item.status != "new":
            continue
        b = item.booking
        occs, _complete, _bound = ops._expand(b)
        ops._apply_overrides(b, occs, item.overrides)
        for o in occs:
            o.set_block(b.setup_minutes, b.cleanup_minutes)
        problems = ops._hour_problems(site, b, occs, rooms, tz)
        found = ops._conflicts(b, occs, rooms, tz, pending=pending)
        item.closed = [problems[i] for i in sorted(problems)]
        item.conflicts = [c for i in sorted(found) for c in found[i]]
        item.occurrences = sum(1 for o in occs if not o.cancelled)
        pending += [ops._Row(0, 0, o.recurrence_id, o.start, o.end, o.block_start, o.block_end,
                             b.attendance, b.title, b.program)
                    for i, o in enumerate(occs)
                    if not o.cancelled and i not in found and i not in problems]
    return ImportPreview(items)


def commit_import(site: Site, room: Room, data: bytes, *, skip_conflicts: bool = False,
                  skip_closed: bool = False, override: bool = False) -> list[Booking]:
    """Book every new event of ``data`` in ``room``, all or nothing, in one transaction.
    Raises what create_booking raises for the first event in the way."""
    room = get_in_site(Room, site, room.id)
    items = _items(site, room, data)
    created = []
    with write_transaction():
        ops._lock_rooms([room.id])
        for item in items:
            if item.status != "new":
                continue
            b = item.booking
            b.hours_override = override
            created.append(ops._create(site, b, override=override, skip_conflicts=skip_conflicts,
                                       skip_closed=skip_closed, overrides=item.overrides))
    return created


__all__ = ["ImportItem", "ImportPreview", "calendar_bytes", "commit_import", "create_feed",
           "feed_for_token", "feed_ics", "list_feeds", "preview_import", "revoke_feed"]
