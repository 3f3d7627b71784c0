"""The ratio board: children present by class age against the staff present, per room.

A stay is a child's or a staff member's time in a room (check-in to check-out). The
ratio must hold at every moment, so an hour is judged at each change point inside it
(its start and every arrival and departure), never only on the hour mark: a child who
arrives at 10:40 while one member of staff steps out makes 10:00–11:00 short.

Every function loads what it needs in a few queries (the day, or the report's whole
range, at once) and works on those rows in memory.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import peewee

from hubcore.calendar.operations import site_zone
from hubcore.db import utcnow
from hubcore.people.models import Person
from hubcore.rooms.models import Room
from hubcore.sites.models import Site
from plugins.childcare import sessions
from plugins.childcare.ages import class_age
from plugins.childcare.models import (
    AFTERSCHOOL,
    BOOKED,
    DROPIN,
    HIROBA,
    NAP,
    Attendance,
    CareRoom,
    Child,
    Enrolment,
    Reservation,
    StaffAttendance,
)
from plugins.childcare.ratios import Band, PolicyBook, RatioPolicy, band_counts, required_staff

# Session kinds during which children are in care (the grid shows their hours). The
# parent-and-child space is left out: guardians stay with their children there.
CARE_KINDS = (DROPIN, AFTERSCHOOL, NAP)
HOUR = dt.timedelta(hours=1)


@dataclass(frozen=True)
class Stay:
    """A child's or a staff member's time in a room; ``end`` is exclusive."""

    room_id: int
    start: dt.datetime
    end: dt.datetime
    class_age: int | None = None  # children only; None: no birth date (youngest band)

    def covers(self, t: dt.datetime) -> bool:
        return self.start <= t < self.end

    def overlaps(self, start: dt.datetime, end: dt.datetime) -> bool:
        return self.start < end and start < self.end


@dataclass(frozen=True)
class BandCount:
    band: Band
    children: int


@dataclass(frozen=True)
class RoomRef:
    id: int
    name: str


@dataclass(frozen=True)
class RoomNow:
    """One room at one moment."""

    room: RoomRef
    bands: tuple[BandCount, ...]
    staff: int
    required: int

    @property
    def children(self) -> int:
        return sum(b.children for b in self.bands)

    @property
    def short(self) -> int:
        """How many more staff the room needs right now (0: the ratio holds)."""
        return max(0, self.required - self.staff)


@dataclass(frozen=True)
class NowStatus:
    at: dt.datetime  # the site's zone
    policy: RatioPolicy
    rooms: tuple[RoomNow, ...]

    @property
    def short_rooms(self) -> list[RoomNow]:
        return [r for r in self.rooms if r.short]


@dataclass(frozen=True)
class HourCell:
    """A room in one hour: the busiest moment, the fewest staff, and whether the ratio
    held at every moment. ``staff`` is None in a forecast (there is no staff rota)."""

    room_id: int
    start: dt.datetime  # the hour, site's zone
    bands: tuple[BandCount, ...]  # at the busiest moment
    staff: int | None  # fewest present while children were there (no children: the most)
    required: int  # the most needed at any moment
    short_by: int = 0  # the largest gap at any moment
    short_at: dt.datetime | None = None  # the first moment it was short
    staff_most: int | None = None  # the most present at any moment

    @property
    def children(self) -> int:
        return sum(b.children for b in self.bands)

    @property
    def met(self) -> bool:
        return self.short_by == 0


@dataclass(frozen=True)
class Grid:
    """A day's rooms × hours: what happened (attendance) or what is expected (forecast)."""

    day: dt.date
    policy: RatioPolicy
    rooms: tuple[RoomRef, ...]
    hours: tuple[dt.datetime, ...]  # hour starts, site's zone
    cells: dict[tuple[int, dt.datetime], HourCell] = field(default_factory=dict)
    forecast: bool = False

    def cell(self, room_id: int, hour: dt.datetime) -> HourCell | None:
        return self.cells.get((room_id, hour))

    @property
    def rows(self) -> list[tuple[dt.datetime, list[HourCell | None]]]:
        return [(h, [self.cell(r.id, h) for r in self.rooms]) for h in self.hours]

    @property
    def short_cells(self) -> list[HourCell]:
        return [c for c in self.cells.values() if not c.met]

    @property
    def peak_required(self) -> int:
        return max((c.required for c in self.cells.values()), default=0)

    @property
    def peak_children(self) -> int:
        return max((c.children for c in self.cells.values()), default=0)


# --- evaluation ------------------------------------------------------------------------


def _counts(policy: RatioPolicy, ages: Iterable[int | None]) -> tuple[BandCount, ...]:
    return tuple(BandCount(b, n) for b, n in band_counts(policy, ages).items())


def room_at(policy: RatioPolicy, room: RoomRef, children: Sequence[Stay],
            staff: Sequence[Stay], at: dt.datetime) -> RoomNow:
    """The room at the moment ``at``."""
    bands = _counts(policy, [c.class_age for c in children if c.covers(at)])
    need = required_staff({b.band: b.children for b in bands}, policy.rounding,
                          policy.minimum_staff)
    return RoomNow(room, bands, sum(1 for s in staff if s.covers(at)), need)


class _Need:
    """The staff needed for a count per band, remembered per count (a day repeats the
    same few counts many times; required_staff works on exact fractions)."""

    def __init__(self, policy: RatioPolicy):
        self.policy = policy
        self.index = {b: i for i, b in enumerate(policy.bands)}
        self._seen: dict[tuple[int, ...], int] = {}

    def __call__(self, counts: tuple[int, ...]) -> int:
        need = self._seen.get(counts)
        if need is None:
            need = self._seen[counts] = required_staff(
                dict(zip(self.policy.bands, counts, strict=True)), self.policy.rounding,
                self.policy.minimum_staff)
        return need


def room_cells(policy: RatioPolicy, room_id: int, hours: Sequence[dt.datetime],
               children: Sequence[Stay], staff: Sequence[Stay] | None,
               need: _Need | None = None) -> dict[dt.datetime, HourCell]:
    """The room's cells for ``hours`` (consecutive hour starts) in one sweep over its
    stays: at each hour start and each arrival or departure the counts per band and the
    staff present are known, and every such moment is judged. Hours nobody was in are
    left out. ``staff`` None: a forecast, only the staff required."""
    if not hours:
        return {}
    need = need or _Need(policy)
    lo, hi = hours[0], hours[-1] + HOUR
    band_of = [need.index[policy.band_of(c.class_age)] for c in children]
    events: list[tuple[dt.datetime, int, int]] = []  # (time, +1/-1, band index or -1: staff)
    for c, band in zip(children, band_of, strict=True):
        events += ((c.start, 1, band), (c.end, -1, band))
    for s in staff or ():
        events += ((s.start, 1, -1), (s.end, -1, -1))
    events.sort(key=lambda e: e[0])
    points = sorted({*hours, *(t for t, _step, _b in events if lo < t < hi)})
    counts = [0] * len(policy.bands)
    present = 0
    acc: dict[int, dict] = {}
    i = 0
    for t in points:
        while i < len(events) and events[i][0] <= t:  # stays are [start, end)
            _t, step, band = events[i]
            if band < 0:
                present += step
            else:
                counts[band] += step
            i += 1
        total = sum(counts)
        if not total and not present:
            continue
        key = tuple(counts)
        required = need(key)
        h = int((t - lo) // HOUR)
        a = acc.get(h)
        if a is None:
            a = acc[h] = {"peak": key, "peak_n": total, "required": required, "fewest": None,
                          "most": present, "short_by": 0, "short_at": None}
        elif total > a["peak_n"]:
            a["peak"], a["peak_n"] = key, total
        a["required"] = max(a["required"], required)
        a["most"] = max(a["most"], present)
        if total:
            a["fewest"] = present if a["fewest"] is None else min(a["fewest"], present)
        if staff is not None and required - present > a["short_by"]:
            a["short_by"] = required - present
            if a["short_at"] is None:
                a["short_at"] = t.astimezone(hours[0].tzinfo)  # stays are UTC
    out = {}
    for h, a in acc.items():
        start = hours[h]
        bands = tuple(BandCount(b, n) for b, n in zip(policy.bands, a["peak"], strict=True))
        if staff is None:
            out[start] = HourCell(room_id, start, bands, None, a["required"])
        else:
            fewest = a["most"] if a["fewest"] is None else a["fewest"]
            out[start] = HourCell(room_id, start, bands, fewest, a["required"], a["short_by"],
                                  a["short_at"], a["most"])
    return out


def hour_cell(policy: RatioPolicy, room_id: int, start: dt.datetime,
              children: Sequence[Stay], staff: Sequence[Stay] | None) -> HourCell | None:
    """The room from ``start`` for an hour, judged at every change point; None when
    nobody was there. ``staff`` None: a forecast, only the staff required."""
    return room_cells(policy, room_id, [start], children, staff).get(start)


# --- loading -----------------------------------------------------------------------------


def _local_midnight(day: dt.date, tz: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tz)


def _end(day: dt.date, start: dt.datetime, end: dt.datetime | None,
         until: dt.datetime | None, tz: ZoneInfo) -> dt.datetime:
    """Where a stay ends on the board: nothing after ``until`` (now) counts, and a stay
    without a check-out runs until now today and to the end of a past day (a forgotten
    check-out then shows as a long stay rather than vanishing)."""
    if end is None:
        end = _local_midnight(day + dt.timedelta(days=1), tz)
    if until is not None:
        end = min(end, until)
    return max(end, start)


def child_stays(site: Site, first: dt.date, last: dt.date,
                until: dt.datetime | None = None) -> dict[dt.date, list[Stay]]:
    """Children's stays from ``first`` to ``last`` by day, with their class age (one query)."""
    tz = site_zone(site)
    rows = (Attendance.select(Attendance.day, Attendance.room, Attendance.checked_in_at,
                              Attendance.checked_out_at, Person.birth_date)
            .join(Child).join(Person)
            .where((Attendance.site == site) & (Attendance.day >= first)
                   & (Attendance.day <= last) & (Attendance.program != HIROBA))
            .tuples())
    out: dict[dt.date, list[Stay]] = defaultdict(list)
    for day, room_id, start, end, birth in rows:
        out[day].append(Stay(room_id, start, _end(day, start, end, until, tz),
                             class_age(birth, day)))
    return out


def staff_stays(site: Site, first: dt.date, last: dt.date,
                until: dt.datetime | None = None) -> dict[dt.date, list[Stay]]:
    """Staff members' stays from ``first`` to ``last`` by day (one query)."""
    tz = site_zone(site)
    rows = (StaffAttendance.select(StaffAttendance.day, StaffAttendance.room,
                                   StaffAttendance.checked_in_at, StaffAttendance.checked_out_at)
            .where((StaffAttendance.site == site) & (StaffAttendance.day >= first)
                   & (StaffAttendance.day <= last))
            .tuples())
    out: dict[dt.date, list[Stay]] = defaultdict(list)
    for day, room_id, start, end in rows:
        out[day].append(Stay(room_id, start, _end(day, start, end, until, tz)))
    return out


def rooms_of(site: Site, also: Iterable[int] = ()) -> tuple[RoomRef, ...]:
    """The site's care rooms (not retired) and any other room named in ``also``, care
    rooms first, each group in the site's room order."""
    also = set(also)
    where = (CareRoom.id.is_null(False) & ~Room.retired)
    if also:
        where = where | Room.id.in_(sorted(also))
    rows = (Room.select(Room.id, Room.name, CareRoom.id)
            .join(CareRoom, on=(CareRoom.room == Room.id), join_type=peewee.JOIN.LEFT_OUTER)
            .where((Room.site == site) & where)
            .order_by(Room.sort_order, Room.name, Room.id).tuples())
    # Care rooms first, then a room used for care that day without being one.
    return tuple(RoomRef(i, n) for i, n, care in sorted(rows, key=lambda r: r[2] is None))


def _by_room(stays: Iterable[Stay]) -> dict[int, list[Stay]]:
    out: dict[int, list[Stay]] = defaultdict(list)
    for s in stays:
        out[s.room_id].append(s)
    return out


def _hours(day: dt.date, tz: ZoneInfo, spans: Iterable[tuple[dt.datetime, dt.datetime]]
           ) -> tuple[dt.datetime, ...]:
    """The day's hours from the first start to the last end among ``spans``."""
    lo, hi = _local_midnight(day, tz), _local_midnight(day + dt.timedelta(days=1), tz)
    first = last = None
    for start, end in spans:
        start, end = max(start, lo), min(end, hi)
        if start >= end:
            continue
        first = start if first is None else min(first, start)
        last = end if last is None else max(last, end)
    if first is None or last is None:
        return ()
    h = first.astimezone(tz).replace(minute=0, second=0, microsecond=0)
    out = []
    while h < last:
        out.append(h)
        h = h + HOUR
    return tuple(out)


def _grid(site: Site, day: dt.date, policy: RatioPolicy, children: list[Stay],
          staff: list[Stay] | None, sittings: Sequence[sessions.Sitting]) -> Grid:
    tz = site_zone(site)
    everyone = [*children, *(staff or [])]
    rooms = rooms_of(site, {s.room_id for s in everyone} | {s.room_id for s in sittings})
    hours = _hours(day, tz, [(s.start, s.end) for s in everyone]
                   + [(s.start, s.end) for s in sittings])
    kids, crew = _by_room(children), _by_room(staff or [])
    need = _Need(policy)
    cells = {}
    for room in rooms:
        for h, c in room_cells(policy, room.id, hours, kids.get(room.id, []),
                               None if staff is None else crew.get(room.id, []), need).items():
            cells[(room.id, h)] = c
    return Grid(day, policy, rooms, hours, cells, forecast=staff is None)


# --- what the pages and reports ask -----------------------------------------------------


def site_now(site: Site) -> dt.datetime:
    return utcnow().astimezone(site_zone(site))


def now_status(site: Site, at: dt.datetime | None = None) -> NowStatus:
    """Each care room (and any other room with someone checked in) at the moment ``at``:
    children per band, staff present, staff required and how many short."""
    tz = site_zone(site)
    at = (at or utcnow()).astimezone(tz)
    day = at.date()
    policy = PolicyBook.load(site.municipality_id, upto=day).on(day)
    kids = [s for s in child_stays(site, day, day).get(day, []) if s.covers(at)]
    crew = [s for s in staff_stays(site, day, day).get(day, []) if s.covers(at)]
    kid_rooms, crew_rooms = _by_room(kids), _by_room(crew)
    rooms = rooms_of(site, set(kid_rooms) | set(crew_rooms))
    return NowStatus(at, policy, tuple(
        room_at(policy, r, kid_rooms.get(r.id, []), crew_rooms.get(r.id, []), at)
        for r in rooms))


def day_grid(site: Site, day: dt.date, now: dt.datetime | None = None) -> Grid:
    """Rooms × hours of ``day`` from attendance: the busiest moment of each hour, the
    fewest staff, the staff required and whether the ratio held at every moment."""
    until = now or utcnow()
    policy = PolicyBook.load(site.municipality_id, upto=day).on(day)
    children = child_stays(site, day, day, until).get(day, [])
    staff = staff_stays(site, day, day, until).get(day, [])
    care = sessions.sittings(site, day, day + dt.timedelta(days=1), kinds=CARE_KINDS)
    return _grid(site, day, policy, children, staff, care)


def expected_stays(site: Site, day: dt.date,
                   afterschool: Sequence[sessions.Sitting] | None = None) -> list[Stay]:
    """The children expected on ``day``: booked reservations, and the after-school club's
    enrolled children during the club's sessions that day.

    Enrolments name no room: where two club sessions run at once, a child is expected in
    the first of them only. A child with a booked after-school reservation that day is
    expected as the reservation says instead.
    """
    if afterschool is None:
        afterschool = sessions.sittings(site, day, day + dt.timedelta(days=1),
                                        kinds=(AFTERSCHOOL,))
    rows = (Reservation.select(Reservation.child, Reservation.room, Reservation.program,
                               Reservation.start_at, Reservation.end_at, Person.birth_date)
            .join(Child).join(Person)
            .where((Reservation.site == site) & (Reservation.day == day)
                   & (Reservation.status == BOOKED))
            .tuples())
    out: list[Stay] = []
    reserved_club: set[int] = set()
    for child_id, room_id, program, start, end, birth in rows:
        out.append(Stay(room_id, start, end, class_age(birth, day)))
        if program == AFTERSCHOOL:
            reserved_club.add(child_id)
    if not afterschool:
        return out
    month = day.replace(day=1)
    enrolled = (Enrolment.select(Enrolment.child, Person.birth_date)
                .join(Child).join(Person)
                .where((Enrolment.site == site) & (Enrolment.first_month <= month)
                       & (Enrolment.last_month.is_null() | (Enrolment.last_month >= month))
                       & Child.active)
                .distinct().tuples())
    ordered = sorted(afterschool, key=lambda s: (s.start, s.room_id))
    for child_id, birth in enrolled:
        if child_id in reserved_club:
            continue
        mine: list[Stay] = []
        for s in ordered:
            if not any(m.overlaps(s.start, s.end) for m in mine):
                mine.append(Stay(s.room_id, s.start, s.end, class_age(birth, day)))
        out += mine
    return out


def forecast(site: Site, day: dt.date) -> Grid:
    """Rooms × hours of ``day`` from what is booked: the children expected by band and
    the staff the ratio requires (there is no staff rota to compare with)."""
    policy = PolicyBook.load(site.municipality_id, upto=day).on(day)
    care = sessions.sittings(site, day, day + dt.timedelta(days=1), kinds=CARE_KINDS)
    club = [s for s in care if s.kind == AFTERSCHOOL]
    return _grid(site, day, policy, expected_stays(site, day, club), None, care)


def ratio_summary(site: Site, first: dt.date, last: dt.date,
                  now: dt.datetime | None = None) -> tuple[int, int]:
    """(room-hours with children present, room-hours in which the ratio held at every
    moment) from ``first`` to ``last``, days to come left out. Two queries for the
    attendance of the whole range, two for the municipality's rules."""
    now = now or utcnow()
    tz = site_zone(site)
    last = min(last, now.astimezone(tz).date())
    if last < first:
        return 0, 0
    book = PolicyBook.load(site.municipality_id, upto=last)
    children = child_stays(site, first, last, now)
    staff = staff_stays(site, first, last, now)
    present = met = 0
    needs: dict[RatioPolicy, _Need] = {}  # per policy: its remembered counts
    for day, kids in children.items():
        policy = book.on(day)
        need = needs.get(policy) or needs.setdefault(policy, _Need(policy))
        crew = _by_room(staff.get(day, []))
        for room_id, room_kids in _by_room(kids).items():
            hours = _hours(day, tz, [(k.start, k.end) for k in room_kids])
            cells = room_cells(policy, room_id, hours, room_kids, crew.get(room_id, []), need)
            for cell in cells.values():
                if not cell.children:
                    continue  # an hour between two stays: nobody to look after
                present += 1
                met += cell.met
    return present, met
