"""Contexts of the calendar pages: views, the booking dialog, feeds, import, settings.

Routes (routes.py) parse the request and call these; nothing here writes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from markupsafe import escape
from starlette.requests import Request

from hubcore import db
from hubcore.calendar import hours as hours_mod
from hubcore.calendar import operations as ops
from hubcore.calendar import views as v
from hubcore.calendar.forms import REPEATS
from hubcore.calendar.models import BookingOccurrence
from hubcore.calendar.periods import list_periods
from hubcore.db import utcnow
from hubcore.i18n import current_language
from hubcore.i18n import gettext as _
from hubcore.people.models import Person
from hubcore.plugins import get_host
from hubcore.rooms.operations import list_rooms
from hubcore.sites.models import Site
from hubcore.web import can, site_url

VIEWS = ("week", "day", "month")


def base_url(site: Site) -> str:
    return site_url(site, "calendar")


def today(site: Site) -> dt.date:
    return utcnow().astimezone(ops.site_zone(site)).date()


@dataclass(frozen=True, slots=True)
class RoomRow:
    id: int
    name: str
    capacity: int


def rooms_of(site: Site) -> list[RoomRow]:
    """The site's rooms in use, in list_rooms' order; plain SQL because every calendar
    page needs them and peewee's query building and model objects cost more."""
    p = db.database.obj.param
    return [RoomRow(*r) for r in db.database.execute_sql(
        f"SELECT id, name, capacity FROM room WHERE site_id = {p} AND retired = {p} "
        "ORDER BY sort_order, name", [site.id, False])]


def program_label(name: str) -> str:
    if name == "calendar":
        return _("General")
    plugin = get_host().plugins.get(name)
    if plugin is None:
        return name
    return plugin.meta.label_ja if current_language.get() == "ja" else plugin.meta.label_en


def programs(site: Site) -> list[tuple[str, str]]:
    """(name, label) of the programs that can book at the site: the core's general
    bookings and every optional plugin on here."""
    from hubcore.sites.operations import enabled_plugins

    names = ["calendar", *sorted(enabled_plugins(site))]
    return [(n, program_label(n)) for n in names]


class Filters:
    """The view's query: date, room, programs; builds links that keep the rest."""

    def __init__(self, request: Request, site: Site, rooms: list[RoomRow]):
        q = request.query_params
        self.site = site
        self.today = today(site)
        try:
            self.date = dt.date.fromisoformat(q.get("date", ""))
        except ValueError:
            self.date = self.today
        ids = {r.id for r in rooms}
        room = q.get("room", "")
        self.room = int(room) if room.isdigit() and int(room) in ids else None
        self.programs = [p for p in q.getlist("program") if p]

    def url(self, view: str = "week", **changes: Any) -> str:
        params: dict[str, Any] = {"date": self.date.isoformat(), "room": self.room,
                                  "program": self.programs, **changes}
        pairs = []
        for k, value in params.items():
            for item in value if isinstance(value, list) else [value]:
                if item not in (None, ""):
                    pairs.append((k, item.isoformat() if isinstance(item, dt.date) else item))
        path = base_url(self.site) + ("" if view == "week" else f"{view}/")
        return path + ("?" + urlencode(pairs) if pairs else "")


def _booking_url(site: Site):
    base = str(escape(base_url(site)))  # Entry.html puts these URLs in as they are
    rids: dict[dt.datetime, str] = {}  # a week repeats the same few times many times

    def url(o: ops.Occurrence) -> str:
        rid = rids.get(o.recurrence_id)
        if rid is None:
            rid = rids[o.recurrence_id] = v.rid_text(o.recurrence_id)
        return f"{base}b/{o.booking_id}/?o={rid}"

    return url


def _slot_url(site: Site, room: int | None):
    base = base_url(site) + "new/?date="
    fixed = f"&room={room}" if room else ""

    def url(col: v.Column, start: dt.datetime, end: dt.datetime) -> str:
        r = f"&room={col.room_id}" if col.room_id else fixed
        return (f"{base}{col.date.isoformat()}"
                f"&start_time={start.hour:02d}:{start.minute:02d}"
                f"&end_time={end.hour:02d}:{end.minute:02d}{r}")

    return url


def _entries(site: Site, start: dt.date, end: dt.date, f: Filters,
             rooms: list[RoomRow]) -> list[v.Entry]:
    tz = ops.site_zone(site)
    occs = ops.occurrences(site, start, end, room=f.room, programs=f.programs or None)
    extra = ops.extra_entries(site, dt.datetime.combine(start, dt.time(0), tz),
                              dt.datetime.combine(end, dt.time(0), tz))
    if f.programs:
        extra = [x for x in extra if x.program in f.programs]
    if f.room is not None:
        extra = [x for x in extra if x.room_id == f.room]
    names = {r.id: r.name for r in rooms}
    return v.entries_for(occs, extra, names, _booking_url(site), tz)


def _other_sites(request: Request) -> list[Site]:
    """The sites the user may switch to; none to ask for when their only role is at
    this site (the common case, spared a query)."""
    from hubcore.sites.operations import list_sites

    principal = request.state.principal
    grants = principal.grants
    if len(grants) == 1 and grants[0].site_id is not None:
        return []
    sites = list_sites(visible_to=principal)
    return sites if len(sites) > 1 else []


def _common(request: Request, site: Site, view: str, f: Filters, rooms: list[RoomRow],
            title: str, prev: dt.date, nxt: dt.date) -> dict[str, Any]:
    return {
        "nav": "calendar", "view": view, "f": f, "rooms": rooms, "title": title,
        "programs": programs(site), "sites": _other_sites(request),
        "prev_url": f.url(view, date=prev), "next_url": f.url(view, date=nxt),
        "today_url": f.url(view, date=f.today),
        "view_urls": {name: f.url(name) for name in VIEWS},
        "base": base_url(site), "back": f.url(view),
        "can_book": can(request, "calendar.book"),
        "can_manage": can(request, "calendar.manage"), "long_date": v.long_date,
    }


def week_context(request: Request) -> dict[str, Any]:
    site = request.state.site
    rooms = rooms_of(site)
    f = Filters(request, site, rooms)
    first = v.monday(f.date)
    days = [first + dt.timedelta(days=i) for i in range(7)]
    entries = _entries(site, first, first + dt.timedelta(days=7), f, rooms)
    room = next((r for r in rooms if r.id == f.room), None)
    columns, hours = v.day_columns(site, days, f.today, room)
    grid = v.build_grid(columns, entries, lambda e, day: day.isoformat(),
                        _slot_url(site, f.room), hours, ops.site_zone(site), list_periods(site))
    last = days[-1]
    title = f"{v.long_date(first)} – {v.long_date(last)}"
    return {**_common(request, site, "week", f, rooms, title, first - dt.timedelta(days=7),
                      first + dt.timedelta(days=7)),
            "grid": grid, "room": room, "show_room": room is None}


def day_context(request: Request) -> dict[str, Any]:
    site = request.state.site
    rooms = rooms_of(site)
    f = Filters(request, site, rooms)
    day = f.date
    shown = [r for r in rooms if f.room is None or r.id == f.room]
    entries = _entries(site, day, day + dt.timedelta(days=1), f, rooms)
    [info] = hours_mod.day_info(site, day, day)
    columns = [v.Column(f"r{r.id}", r.name, day, room_id=r.id, holiday=info.holiday,
                        closed_names=info.closed_names, closed=info.closed)
               for r in shown]
    if any(e.room_id is None for e in entries):
        columns.append(v.Column("other", _("No room"), day, holiday=info.holiday,
                                closed_names=info.closed_names, closed=info.closed))
    grid = v.build_grid(columns, entries,
                        lambda e, _day: f"r{e.room_id}" if e.room_id else "other",
                        _slot_url(site, None), v.site_hours_range(hours_mod.opening_hours(site)),
                        ops.site_zone(site), list_periods(site))
    return {**_common(request, site, "day", f, rooms, v.long_date(day),
                      day - dt.timedelta(days=1), day + dt.timedelta(days=1)),
            "grid": grid, "info": info, "show_room": False,
            "hours": ", ".join(f"{v.hm(o)}–{v.hm(c)}" for o, c in info.hours)}


def month_context(request: Request) -> dict[str, Any]:
    site = request.state.site
    rooms = rooms_of(site)
    f = Filters(request, site, rooms)
    first = f.date.replace(day=1)
    start = v.monday(first)
    nxt = (first + dt.timedelta(days=32)).replace(day=1)
    end = v.monday(nxt - dt.timedelta(days=1)) + dt.timedelta(days=7)
    entries = _entries(site, start, end, f, rooms)
    weeks = v.month_days(site, first, entries, f.today)
    prev = (first - dt.timedelta(days=1)).replace(day=1)
    return {**_common(request, site, "month", f, rooms, v.month_label(first), prev, nxt),
            "weeks": weeks, "weekdays": [v.weekday_name(d) for d in
                                         (start + dt.timedelta(days=i) for i in range(7))],
            "show_room": f.room is None}


# --- the booking dialog ----------------------------------------------------------------


def safe_back(site: Site, back: str | None, day: dt.date | None = None) -> str:
    """Where to go after saving: the calendar view the dialog was opened from (never
    another site's or an outside URL), moved to ``day``."""
    from urllib.parse import parse_qsl, urlsplit

    base = base_url(site)
    if not back or not back.startswith(base) or "//" in back or "\\" in back:
        back = base
    if day is None:
        return back
    parts = urlsplit(back)
    query = [(k, val) for k, val in parse_qsl(parts.query) if k != "date"]
    query.append(("date", day.isoformat()))
    return parts.path + "?" + urlencode(query)


def form_context(request: Request, site: Site, **extra: Any) -> dict[str, Any]:
    """What the booking form needs besides values and errors."""
    people: list[Person] = []
    if can(request, "people.view"):
        people = list(Person.select(Person.id, Person.family_name, Person.given_name)
                      .where(Person.site == site).order_by(Person.kana_key, Person.id))
    return {"rooms": list_rooms(site), "programs": programs(site), "people": people,
            "repeats": REPEATS, "base": base_url(site),
            "can_override": can(request, "calendar.override"), "errors": {},
            "conflicts": [], "problems": [], "program_label": program_label, "v": v,
            **extra}


def occurrence_of(booking, rid: dt.datetime | None) -> ops.Occurrence | None:
    """The occurrence of ``booking`` with this RECURRENCE-ID (or its first live one),
    in the site's zone; None when there is none."""
    q = BookingOccurrence.select().where(BookingOccurrence.booking == booking)
    if rid is not None:
        q = q.where(BookingOccurrence.recurrence_id == rid)
    else:
        q = q.where(~BookingOccurrence.cancelled).order_by(BookingOccurrence.recurrence_id)
    row = q.first()
    if row is None:
        return None
    tz = ops.site_zone(booking.site)
    return ops.Occurrence(booking.id, row.recurrence_id.astimezone(tz), row.room_id,
                          row.title or booking.title, booking.program,
                          row.start_at.astimezone(tz), row.end_at.astimezone(tz),
                          booking.all_day, "cancelled" if row.cancelled else booking.status,
                          booking.attendance, row.moved)


def is_series(booking) -> bool:
    return bool(booking.rrule or booking.rdates)


def conflict_rows(conflicts: list[ops.ConflictItem], rooms: dict[int, str]) -> list[dict]:
    return [{"date": c.date, "start": v.hm(c.start), "end": v.hm(c.end), "title": c.title,
             "program": program_label(c.program), "program_name": c.program,
             "room": rooms.get(c.room_id, ""), "requested": c.requested_start}
            for c in conflicts]


def feed_url(request: Request, site: Site, token: str) -> str:
    return str(request.base_url).rstrip("/") + base_url(site) + f"feed/{token}.ics"


def webcal(url: str) -> str:
    """The same URL for calendar apps: webcal:// opens a subscription dialog."""
    return "webcal://" + url.split("://", 1)[1]
