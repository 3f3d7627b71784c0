"""What the calendar pages show, computed before rendering: columns, time rows, entries.

The Content-Security-Policy allows no style="" attributes, so an entry's place in a
time grid is a set of classes (hubcore.css, calendar section): ``r-N`` is its first
grid row, ``s-N`` how many rows it spans (rows are STEP minutes), ``ln-N`` the number
of lanes of an overlap cluster and ``lc-N`` an entry's lane in it. Overlapping
entries form a cluster with its own lanes, so one busy hour does not narrow the day.
Everything here is plain Python over tuples: the week of 20 rooms renders hundreds
of entries, and this runs on every page view.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup, escape

from hubcore.calendar import hours as hours_mod
from hubcore.calendar import operations as ops
from hubcore.calendar.periods import Period
from hubcore.i18n import N_, current_language
from hubcore.i18n import gettext as _

STEP = 15  # minutes per grid row
ROWS_PER_HOUR = 60 // STEP
MAX_ROWS = 24 * ROWS_PER_HOUR
MAX_LANES = 12  # more overlapping entries share the last lane (a shareable hall)
DEFAULT_HOURS = (8, 21)
WEEKDAYS = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))
WEEKDAYS_JA = "月火水木金土日"


@functools.lru_cache(maxsize=256)
def _escaped(text: str) -> Markup:
    return escape(text)


def weekday_name(day: dt.date) -> str:
    if current_language.get() == "ja":
        return WEEKDAYS_JA[day.weekday()]
    return _(WEEKDAYS[day.weekday()])


def day_label(day: dt.date) -> str:
    """6/7(月) in Japanese, Mon 6/7 in English."""
    if current_language.get() == "ja":
        return f"{day.month}/{day.day}({WEEKDAYS_JA[day.weekday()]})"
    return f"{_(WEEKDAYS[day.weekday()])} {day.month}/{day.day}"


def long_date(day: dt.date) -> str:
    if current_language.get() == "ja":
        return f"{day.year}年{day.month}月{day.day}日({WEEKDAYS_JA[day.weekday()]})"
    return f"{_(WEEKDAYS[day.weekday()])} {day.isoformat()}"


def month_label(day: dt.date) -> str:
    if current_language.get() == "ja":
        return f"{day.year}年{day.month}月"
    return f"{day:%B %Y}"


def monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def hm(t: dt.datetime | dt.time) -> str:
    return f"{t.hour}:{t.minute:02d}"


def rid_text(instant: dt.datetime) -> str:
    """An occurrence's RECURRENCE-ID in URLs: compact UTC, as in ICS."""
    return instant.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def parse_rid(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    try:
        return dt.datetime.strptime(text, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
    except ValueError:
        return None


# --- the grid ----------------------------------------------------------------------------


@dataclass(slots=True)
class Entry:
    """An occurrence (or a plugin's read-only entry) placed in one column."""

    title: str
    program: str
    start: dt.datetime  # the occurrence's own times (a piece may show less of it)
    end: dt.datetime
    room: str
    href: str | None
    booking: bool  # a booking (opens the dialog) rather than a plugin's entry
    room_id: int | None = None
    all_day: bool = False
    status: str = "confirmed"
    moved: bool = False
    row: int = 1
    span: int = 1
    lane: int = 1
    time: str = ""

    def html(self, show_room: bool) -> str:
        """The entry in a time grid, as safe HTML (title and room escaped; the rest is
        ours). Built here, not in the template: a busy week has hundreds, and one
        f-string each renders several times faster than ten template expressions
        (docs/benchmarks.md, calendar week page)."""
        cls = f"ce r-{self.row} s-{self.span} lc-{self.lane}"
        if self.status != "confirmed":
            cls += " " + self.status
        if self.moved:
            cls += " moved"
        # Room names come escaped (Markup) from entries_for.
        room = f" <i>{self.room}</i>" if show_room and self.room else ""
        text = f"<b>{self.time}</b> {escape(self.title)}{room}"
        program = _escaped(self.program)
        if self.href is None:
            return f'<span class="{cls}" data-plugin="{program}">{text}</span>'
        if self.booking:  # our own URL: the escaped base, digits and letters
            return f'<a class="{cls}" data-plugin="{program}" href="{self.href}">{text}</a>'
        return (f'<a class="{cls}" data-plugin="{program}" href="{escape(self.href)}" '
                f'hx-boost="false">{text}</a>')


@dataclass(slots=True)
class Cluster:
    """Entries of a column that overlap each other (directly or through others)."""

    row: int
    end: int  # first row after it
    entries: list[Entry] = field(default_factory=list)
    lanes: int = 1

    @property
    def span(self) -> int:
        return self.end - self.row


@dataclass(slots=True)
class SlotLink:
    row: int
    span: int
    start: dt.datetime
    end: dt.datetime
    label: str  # what a screen reader hears
    href: str

    def html(self) -> str:
        """Safe HTML: the URL and the label are escaped."""
        return (f'<a class="slot r-{self.row} s-{self.span}" href="{escape(self.href)}" '
                f'aria-label="{escape(self.label)}"></a>')


@dataclass(slots=True)
class Column:
    key: str
    label: str
    date: dt.date
    room_id: int | None = None
    holiday: str | None = None
    closed_names: list[str] = field(default_factory=list)
    closed: bool = False
    hours: str = ""
    today: bool = False
    clusters: list[Cluster] = field(default_factory=list)
    all_day: list[Entry] = field(default_factory=list)
    slots: list[SlotLink] = field(default_factory=list)
    pieces: list[Entry] = field(default_factory=list)

    def body_html(self, can_book: bool, show_room: bool) -> Markup:
        """The column's empty-slot links and its clusters of entries, as one string: the
        week of 20 rooms has hundreds of them (see Entry.html)."""
        parts = [s.html() for s in self.slots] if can_book else []
        for cl in self.clusters:
            parts.append(f'<div class="cl r-{cl.row} s-{cl.span} ln-{cl.lanes}">')
            parts.extend(e.html(show_room) for e in cl.entries)
            parts.append("</div>")
        return Markup("".join(parts))


@dataclass(slots=True)
class TimeLabel:
    row: int
    span: int
    text: str
    sub: str = ""


@dataclass
class Grid:
    columns: list[Column]
    labels: list[TimeLabel]
    rows: int
    first_minute: int  # minutes after midnight of row 1


def _place(col: Column) -> None:
    """Give the column's pieces rows, clusters and lanes."""
    pieces = sorted(col.pieces, key=lambda e: (e.row, -e.span))
    clusters: list[Cluster] = []
    lane_ends: list[int] = []
    for e in pieces:
        if not clusters or e.row >= clusters[-1].end:
            clusters.append(Cluster(e.row, e.row + e.span))
            lane_ends = []
        cl = clusters[-1]
        cl.end = max(cl.end, e.row + e.span)
        for i, end in enumerate(lane_ends):
            if end <= e.row:
                lane_ends[i] = e.row + e.span
                e.lane = i + 1
                break
        else:
            if len(lane_ends) < MAX_LANES:
                lane_ends.append(e.row + e.span)
                e.lane = len(lane_ends)
            else:
                e.lane = MAX_LANES
                lane_ends[-1] = max(lane_ends[-1], e.row + e.span)
        cl.lanes = max(cl.lanes, e.lane)
        cl.entries.append(e)
    for cl in clusters:
        for e in cl.entries:
            e.row = e.row - cl.row + 1  # rows inside the cluster's own grid
    col.clusters = clusters
    col.pieces = []


def build_grid(columns: list[Column], entries: list[Entry], column_of, slot_href,
               site_hours: tuple[int, int] | None, tz: Any,
               periods: list[Period] = ()) -> Grid:
    """Place ``entries`` in ``columns``.

    ``column_of(entry, day)`` names the column key an entry's piece on ``day``
    belongs to (or None: not shown). ``slot_href(column, start, end)`` is the
    link of an empty slot. The rows run from the site's opening (or 08:00) to its
    closing (or 21:00), stretched to show every entry.
    """
    by_key = {c.key: c for c in columns}
    days = sorted({c.date for c in columns})
    # (column, entry, start minute, end minute) of each piece: an entry is cut at
    # midnight, so one crossing it is in two columns.
    raw: list[tuple[Column, Entry, int, int]] = []
    one_day = dt.timedelta(days=1)
    for entry in entries:
        start, end = entry.start, entry.end
        if entry.all_day:
            for day in days:
                day_start = dt.datetime.combine(day, dt.time(0), start.tzinfo)
                if start < day_start + one_day and end > day_start:
                    col = by_key.get(column_of(entry, day))
                    if col is not None:
                        col.all_day.append(entry)
            continue
        day = start.date()
        if end.date() == day:  # the usual: within one day
            col = by_key.get(column_of(entry, day))
            if col is not None:
                end_min = end.hour * 60 + end.minute if end.date() == day else 24 * 60
                raw.append((col, entry, start.hour * 60 + start.minute, end_min))
            continue
        while True:
            day_start = dt.datetime.combine(day, dt.time(0), start.tzinfo)
            if day_start >= end:
                break
            col = by_key.get(column_of(entry, day))
            if col is not None:
                s, e = max(start, day_start), min(end, day_start + one_day)
                if e > s:
                    raw.append((col, entry, s.hour * 60 + s.minute,
                                e.hour * 60 + e.minute if e.date() == s.date() else 24 * 60))
            day += one_day
    lo, hi = (site_hours or DEFAULT_HOURS)
    lo, hi = lo * 60, hi * 60
    for p in periods:
        lo = min(lo, p.starts.hour * 60)
        hi = max(hi, math.ceil((p.ends.hour * 60 + p.ends.minute) / 60) * 60)
    if raw:
        lo = min(lo, min(r[2] for r in raw) // 60 * 60)
        hi = max(hi, math.ceil(max(r[3] for r in raw) / 60) * 60)
    rows = (hi - lo) // STEP
    seen: set[int] = set()
    for col, entry, start_min, end_min in raw:
        row = (start_min - lo) // STEP + 1
        span = max(1, -(-(end_min - lo) // STEP) + 1 - row)
        if id(entry) in seen:  # its second piece: a copy of its own
            entry = Entry(entry.title, entry.program, entry.start, entry.end, entry.room,
                          entry.href, entry.booking, entry.room_id, False, entry.status,
                          entry.moved, time=entry.time)
        seen.add(id(entry))
        entry.row, entry.span = row, span
        col.pieces.append(entry)
    for col in columns:
        _place(col)
    labels: list[TimeLabel] = []
    if periods:
        spans = [((p.starts.hour * 60 + p.starts.minute - lo) // STEP + 1,
                  max(1, math.ceil((p.ends.hour * 60 + p.ends.minute - lo) / STEP)
                      - (p.starts.hour * 60 + p.starts.minute - lo) // STEP),
                  p) for p in periods]
        labels = [TimeLabel(row, span, p.name, f"{hm(p.starts)}–{hm(p.ends)}")
                  for row, span, p in spans]
        slot_times = [(row, span, p.starts, p.ends) for row, span, p in spans]
    else:
        labels = [TimeLabel((m - lo) // STEP + 1, ROWS_PER_HOUR, f"{m // 60}:00")
                  for m in range(lo, hi, 60)]
        slot_times = [((m - lo) // STEP + 1, ROWS_PER_HOUR, dt.time(m // 60),
                       dt.time((m + 60) // 60) if m + 60 < 24 * 60 else dt.time(23, 59))
                      for m in range(lo, hi, 60)]
    template = _("Book {place} {date} {start}–{end}")
    times = [(row, span, a, b, hm(a), hm(b)) for row, span, a, b in slot_times]
    for col in columns:
        place = col.label if col.room_id else ""
        day = long_date(col.date)
        for row, span, a, b, a_text, b_text in times:
            start = dt.datetime.combine(col.date, a, tz)
            end = dt.datetime.combine(col.date, b, tz)
            label = template.format(place=place, date=day, start=a_text, end=b_text)
            col.slots.append(SlotLink(row, span, start, end, label.replace("  ", " "),
                                      slot_href(col, start, end)))
    return Grid(columns, labels, rows, lo)


def site_hours_range(opening: dict[int, list[tuple[dt.time, dt.time]]]) -> tuple[int, int] | None:
    """The earliest opening and latest closing hour over the week, or None (no limit)."""
    pairs = [pair for intervals in opening.values() for pair in intervals]
    if not pairs:
        return None
    lo = min(o.hour for o, _c in pairs)
    hi = max(24 if c == dt.time(0) else c.hour + (1 if c.minute else 0) for _o, c in pairs)
    return lo, hi


def day_columns(site, days: list[dt.date], today: dt.date, room=None
                ) -> tuple[list[Column], tuple[int, int] | None]:
    """One column per day, with its holiday, closed days and the room's (else the
    site's) hours; and the hours the grid should show. One query for all of it."""
    rules = hours_mod.HoursRules.load(site, room, days[0], days[-1])
    out = []
    for day in days:
        holiday = hours_mod.holiday_name(day)
        names = rules.closed_names(day)
        intervals = rules.hours.get(day.weekday(), [])
        closed = bool(names) or (holiday is not None and rules.holidays_closed) or (
            bool(rules.hours) and not intervals)
        out.append(Column(day.isoformat(), day_label(day), day, holiday=holiday,
                          closed_names=names, closed=closed,
                          hours=", ".join(f"{hm(o)}–{hm(c)}" for o, c in intervals),
                          today=day == today))
    return out, site_hours_range(rules.hours)


def entries_for(occs: list[ops.Occurrence], extra: list[Any], rooms: dict[int, str],
                booking_url, tz: Any) -> list[Entry]:
    """Occurrences and plugins' read-only entries (CalendarEntry) as Entry objects.

    Room names are escaped once here (Markup), not once per entry; the times' text
    is made once per distinct pair: a week repeats the same few times many times."""
    names = {rid: escape(name) for rid, name in rooms.items()}
    times: dict[tuple[dt.datetime, dt.datetime], str] = {}
    out = []
    for o in occs:
        text = ""
        if not o.all_day:
            text = times.get((o.start, o.end))
            if text is None:
                text = times[(o.start, o.end)] = f"{hm(o.start)}–{hm(o.end)}"
        out.append(Entry(o.title, o.program, o.start, o.end, names.get(o.room_id, ""),
                         booking_url(o), True, o.room_id, o.all_day, o.status, o.moved,
                         time=text))
    for x in extra:
        start, end = x.start.astimezone(tz), x.end.astimezone(tz)
        out.append(Entry(x.title, x.program, start, end, names.get(x.room_id, ""), x.url,
                         False, x.room_id, x.all_day,
                         time="" if x.all_day else f"{hm(start)}–{hm(end)}"))
    if extra:
        out.sort(key=lambda e: e.start)
    return out


@dataclass(slots=True)
class MonthDay:
    date: dt.date
    in_month: bool
    holiday: str | None
    closed_names: list[str]
    closed: bool
    today: bool
    entries: list[Entry]
    more: int = 0


def month_days(site, first: dt.date, entries: list[Entry], today: dt.date,
               per_day: int = 4) -> list[list[MonthDay]]:
    """Weeks (Monday first) covering the month of ``first``, each day with its entries."""
    start = monday(first)
    nxt = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    end = monday(nxt - dt.timedelta(days=1)) + dt.timedelta(days=7)
    info = {d.date: d for d in hours_mod.day_info(site, start, end - dt.timedelta(days=1))}
    by_day: dict[dt.date, list[Entry]] = {}
    for e in entries:
        day = e.start.date()
        last = (e.end - dt.timedelta(microseconds=1)).date()
        while day <= last:
            by_day.setdefault(day, []).append(e)
            day += dt.timedelta(days=1)
    weeks = []
    day = start
    while day < end:
        week = []
        for _i in range(7):
            i = info[day]
            found = by_day.get(day, [])
            week.append(MonthDay(day, day.month == first.month, i.holiday, i.closed_names,
                                 i.closed, day == today, found[:per_day],
                                 max(0, len(found) - per_day)))
            day += dt.timedelta(days=1)
        weeks.append(week)
    return weeks
