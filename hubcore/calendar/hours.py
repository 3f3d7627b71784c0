"""Opening hours, closed days and Japanese public holidays."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache

import holidays

from hubcore.calendar.models import CalendarSettings, ClosedDay, OpeningHours
from hubcore.db import database, get_in_site, is_sqlite, write_transaction
from hubcore.errors import Invalid
from hubcore.i18n import gettext as _
from hubcore.rooms.models import Room
from hubcore.sites.models import Site

Interval = tuple[dt.time, dt.time]


def _param(day: dt.date):
    return day.isoformat() if is_sqlite() else day  # as peewee's DateField stores it


@lru_cache(maxsize=32)
def _holidays_of(year: int) -> dict[dt.date, str]:
    return dict(holidays.country_holidays("JP", language="ja", years=year))


def holiday_name(day: dt.date) -> str | None:
    """The Japanese name of the public holiday on ``day`` (振替休日 included), or None."""
    return _holidays_of(day.year).get(day)


def holidays_closed(site: Site) -> bool:
    row = CalendarSettings.get_or_none(CalendarSettings.site == site)
    return True if row is None else row.holidays_closed


def set_holidays_closed(site: Site, closed: bool) -> None:
    with write_transaction():
        CalendarSettings.insert(site=site, holidays_closed=closed).on_conflict(
            conflict_target=[CalendarSettings.site],
            update={CalendarSettings.holidays_closed: closed}).execute()


def _check_intervals(hours: list[tuple[int, dt.time, dt.time]]) -> None:
    by_day: dict[int, list[Interval]] = defaultdict(list)
    for weekday, opens, closes in hours:
        if not 0 <= weekday <= 6:
            raise Invalid({"weekday": _("The weekday must be 0 (Monday) to 6 (Sunday).")})
        if closes != dt.time(0) and closes <= opens:
            raise Invalid({"closes": _("The closing time must be after the opening time.")})
        by_day[weekday].append((opens, closes))
    for intervals in by_day.values():
        intervals.sort()
        for (_o1, c1), (o2, _c2) in zip(intervals, intervals[1:], strict=False):
            if c1 == dt.time(0) or c1 > o2:
                raise Invalid({"opens": _("Opening hours of one weekday overlap.")})


def set_opening_hours(site: Site, hours: list[tuple[int, dt.time, dt.time]],
                      room: Room | None = None) -> None:
    """Replace the opening hours of the site (or of one room, which then ignores the
    site's). ``hours`` are (weekday 0=Monday, opens, closes); a weekday without an
    entry is closed; closes 00:00 means midnight. An empty list for a room falls back
    to the site's hours; for a site, it means no limit."""
    _check_intervals(hours)
    if room is not None:
        get_in_site(Room, site, room.id)
    with write_transaction():
        q = OpeningHours.delete().where(OpeningHours.site == site)
        q = q.where(OpeningHours.room == room) if room else q.where(OpeningHours.room.is_null())
        q.execute()
        if hours:
            OpeningHours.insert_many(
                [{"site": site, "room": room, "weekday": w, "opens": o, "closes": c}
                 for w, o, c in hours]).execute()


def opening_hours(site: Site, room: Room | None = None) -> dict[int, list[Interval]]:
    """Weekday → intervals in force for the room (its own, else the site's); {} = no limit."""
    rows = list(OpeningHours.select().where(OpeningHours.site == site)
                .order_by(OpeningHours.weekday, OpeningHours.opens))
    own = [r for r in rows if room is not None and r.room_id == room.id]
    chosen = own or [r for r in rows if r.room_id is None]
    out: dict[int, list[Interval]] = {}
    for r in chosen:
        out.setdefault(r.weekday, []).append((r.opens, r.closes))
    return out


def add_closed_day(site: Site, start: dt.date, end: dt.date, name: str) -> ClosedDay:
    name = name.strip()
    if not name:
        raise Invalid({"name": _("Give the closed days a name (e.g. 年末年始).")})
    if end < start:
        raise Invalid({"end_date": _("The last closed day is before the first.")})
    with write_transaction():
        row, _created = ClosedDay.get_or_create(site=site, start_date=start, end_date=end,
                                                defaults={"name": name})
    return row


def remove_closed_day(site: Site, closed_id: int | str) -> None:
    row = get_in_site(ClosedDay, site, closed_id)
    with write_transaction():
        row.delete_instance()


def closed_days(site: Site, start: dt.date, end: dt.date) -> list[ClosedDay]:
    return list(ClosedDay.select().where((ClosedDay.site == site) & (ClosedDay.start_date <= end)
                                         & (ClosedDay.end_date >= start))
                .order_by(ClosedDay.start_date))


@dataclass
class DayInfo:
    date: dt.date
    holiday: str | None  # 祝日 name in Japanese
    closed_names: list[str] = field(default_factory=list)  # the site's closed days
    closed: bool = False  # no booking without a manager's override
    hours: list[Interval] = field(default_factory=list)  # the site's; [] = closed or no limit


def day_info(site: Site, start_date: dt.date, end_date: dt.date) -> list[DayInfo]:
    """Holiday and closed-day names, and the site's hours, per date (both ends included)."""
    rules = HoursRules.load(site, None, start_date, end_date)
    out = []
    day = start_date
    while day <= end_date:
        holiday = holiday_name(day)
        names = rules.closed_names(day)
        hours = rules.hours.get(day.weekday(), [])
        closed = bool(names) or (holiday is not None and rules.holidays_closed) or (
            bool(rules.hours) and not hours)
        out.append(DayInfo(day, holiday, names, closed, hours))
        day += dt.timedelta(days=1)
    return out


@dataclass
class HoursRules:
    """Everything needed to say whether occurrences fall inside opening hours."""

    hours: dict[int, list[Interval]]
    closed: list[ClosedDay]
    holidays_closed: bool

    @classmethod
    def load(cls, site: Site, room: Room | None, start: dt.date, end: dt.date) -> HoursRules:
        """One plain query for the three small tables: it runs under every booking's
        write lock, where peewee's query building and extra round trips would be most
        of the cost. Values come back as text from both databases."""
        p = database.obj.param
        sql = ("SELECT 'h', room_id, weekday, CAST(opens AS TEXT), CAST(closes AS TEXT), NULL "
               f"FROM opening_hours WHERE site_id = {p} "
               "UNION ALL SELECT 'c', NULL, NULL, CAST(start_date AS TEXT), "
               f"CAST(end_date AS TEXT), name FROM closed_day WHERE site_id = {p} "
               f"AND start_date <= {p} AND end_date >= {p} "
               "UNION ALL SELECT 's', NULL, NULL, NULL, NULL, CAST(holidays_closed AS TEXT) "
               f"FROM calendar_settings WHERE site_id = {p}")
        rows = database.execute_sql(sql, [site.id, site.id, _param(end), _param(start),
                                          site.id]).fetchall()
        opening = sorted((r for r in rows if r[0] == "h"), key=lambda r: (r[2], r[3]))
        own = [r for r in opening if room is not None and r[1] == room.id]
        hours: dict[int, list[Interval]] = {}
        for _kind, _room, weekday, opens, closes, _x in own or [r for r in opening
                                                                 if r[1] is None]:
            hours.setdefault(weekday, []).append((dt.time.fromisoformat(opens),
                                                  dt.time.fromisoformat(closes)))
        closed = [ClosedDay(start_date=dt.date.fromisoformat(a), end_date=dt.date.fromisoformat(b),
                            name=n) for kind, _r, _w, a, b, n in rows if kind == "c"]
        flag = [r[5] for r in rows if r[0] == "s"]
        return cls(hours, closed, not flag or flag[0].lower() in ("1", "true", "t"))

    def closed_names(self, day: dt.date) -> list[str]:
        return [c.name for c in self.closed if c.start_date <= day <= c.end_date]

    def problem(self, start: dt.datetime, end: dt.datetime, all_day: bool) -> str | None:
        """Why an occurrence (local times, buffers included) may not be booked, or None."""
        last = (end - dt.timedelta(microseconds=1)).date()
        day = start.date()
        while day <= last:
            names = self.closed_names(day)
            if names:
                return _("{date}: the site is closed ({name}).").format(
                    date=day.isoformat(), name="、".join(names))
            holiday = holiday_name(day)
            if holiday and self.holidays_closed:
                return _("{date} is a public holiday ({name}).").format(
                    date=day.isoformat(), name=holiday)
            if self.hours and not self.hours.get(day.weekday()):
                return _("{date}: the site is closed on this weekday.").format(
                    date=day.isoformat())
            day += dt.timedelta(days=1)
        if all_day or not self.hours:
            return None
        intervals = self.hours.get(start.weekday(), [])
        for opens, closes in intervals:
            close_at = (dt.datetime.combine(start.date(), closes, start.tzinfo)
                        if closes != dt.time(0) else
                        dt.datetime.combine(start.date() + dt.timedelta(days=1), dt.time(0),
                                            start.tzinfo))
            if dt.datetime.combine(start.date(), opens, start.tzinfo) <= start and end <= close_at:
                return None
        shown = ", ".join(f"{o:%H:%M}–{c:%H:%M}" for o, c in intervals)
        return _("{date} {start}–{end} is outside the opening hours ({hours}).").format(
            date=start.date().isoformat(), start=f"{start:%H:%M}", end=f"{end:%H:%M}",
            hours=shown)
