"""Bookings: plain functions over the models, no HTTP.

Every write that can take room time runs in ``write_transaction()`` and locks the
room rows first (SQLite: BEGIN IMMEDIATE; PostgreSQL: SELECT … FOR UPDATE), then
checks opening hours, conflicts and the plugins' rules, then writes the booking and
its occurrence rows. Two people booking the same slot at once: one gets it, the
other a BookingConflict.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from zoneinfo import ZoneInfo

import peewee

from hubcore import db
from hubcore.calendar import recurrence as rec
from hubcore.calendar.hours import HoursRules
from hubcore.calendar.models import Booking, BookingOccurrence, RoomAdjacency, to_utc
from hubcore.calendar.schemas import MAX_BLOCK, MAX_SPAN, BookingIn
from hubcore.db import get_in_site, utcnow, write_transaction
from hubcore.errors import Invalid, NotFound
from hubcore.forms import validate
from hubcore.i18n import gettext as _
from hubcore.people.models import Person
from hubcore.rooms.models import Room
from hubcore.sites.models import Site

log = logging.getLogger(__name__)

Scope = Literal["this", "following", "all"]


# --- what callers get back -------------------------------------------------------


@dataclass(slots=True)
class Occurrence:
    """One occurrence for a calendar view; times in the site's zone."""

    booking_id: int
    recurrence_id: dt.datetime
    room_id: int
    title: str
    program: str
    start: dt.datetime
    end: dt.datetime
    all_day: bool
    status: str
    attendance: int
    moved: bool


@dataclass(frozen=True)
class Slot:
    """An occurrence about to be written, as validate_booking sees it (site's zone)."""

    recurrence_id: dt.datetime
    room_id: int
    start: dt.datetime
    end: dt.datetime
    block_start: dt.datetime  # with setup and cleanup
    block_end: dt.datetime


@dataclass(frozen=True)
class ConflictItem:
    """An existing occurrence in the way; times in the site's zone, without buffers."""

    date: dt.date
    start: dt.datetime
    end: dt.datetime
    title: str
    program: str
    booking_id: int
    room_id: int
    recurrence_id: dt.datetime
    # Start of the occurrence being booked that collides with it.
    requested_start: dt.datetime


class BookingConflict(Exception):
    """The room is taken: ``conflicts`` lists every occurrence in the way.

    Retry with ``skip_conflicts=True`` to book the other dates (the conflicting ones
    become EXDATEs). Nothing was saved.
    """

    def __init__(self, conflicts: list[ConflictItem]):
        self.conflicts = conflicts
        dates = sorted({c.requested_start.date() for c in conflicts})
        super().__init__(_("The room is already booked at {n} of the requested times "
                           "(first on {date}).").format(n=len(dates), date=dates[0].isoformat()))

    @property
    def dates(self) -> list[dt.date]:
        return sorted({c.requested_start.date() for c in self.conflicts})


@dataclass(frozen=True)
class ClosedItem:
    date: dt.date
    start: dt.datetime  # the refused occurrence's start, site's zone
    reason: str


class OutsideHours(Invalid):
    """Occurrences fall outside opening hours, on closed days or holidays.

    A site manager may book anyway with ``override=True``; ``skip_closed=True`` books
    the other dates. Nothing was saved.
    """

    def __init__(self, problems: list[ClosedItem]):
        self.problems = problems
        shown = " ".join(p.reason for p in problems[:3])
        if len(problems) > 3:
            shown += " " + _("({n} more)").format(n=len(problems) - 3)
        super().__init__({"start": shown})


# --- reading -------------------------------------------------------------------------


def get_booking(site: Site, booking_id: int | str) -> Booking:
    """The booking with this id at ``site``; NotFound for another site's."""
    return get_in_site(Booking, site, booking_id)


def site_zone(site: Site) -> ZoneInfo:
    return ZoneInfo(site.timezone or "Asia/Tokyo")


def _aware(value: dt.datetime | dt.date, tz: ZoneInfo) -> dt.datetime:
    if not isinstance(value, dt.datetime):
        return dt.datetime.combine(value, dt.time(0), tz)
    return value.replace(tzinfo=tz) if value.tzinfo is None else value


def _db_time(value: dt.datetime) -> Any:
    """A parameter for raw SQL, stored the way UTCField stores it."""
    return _time_param()(value)


def _sqlite_time(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).replace(tzinfo=None, microsecond=0).isoformat(" ")


def _pg_time(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC).replace(tzinfo=None, microsecond=0)


def _time_param():
    """The converter for this database (picked once per batch of rows)."""
    return _sqlite_time if db.is_sqlite() else _pg_time


def _params(n: int) -> str:
    return ", ".join([db.database.obj.param] * n)


def occurrences(site: Site, start: dt.datetime | dt.date, end: dt.datetime | dt.date,
                room: Room | int | None = None,
                programs: Sequence[str] | None = None) -> list[Occurrence]:
    """Occurrences overlapping [start, end) at ``site``, ordered by start, cancelled
    ones left out. Dates mean midnight in the site's zone, naive times its wall clock.

    One indexed query with its join, read as tuples (a week of 20 rooms needs it fast).
    """
    tz = site_zone(site)
    lo, hi = _aware(start, tz), _aware(end, tz)
    p = db.database.obj.param
    sql = ("SELECT o.booking_id, o.recurrence_id, o.room_id, COALESCE(o.title, b.title), "
           "b.program, o.start_at, o.end_at, b.all_day, b.status, o.attendance, o.moved "
           "FROM booking_occurrence o JOIN booking b ON b.id = o.booking_id "
           f"WHERE o.site_id = {p} AND o.start_at >= {p} AND o.start_at < {p} "
           f"AND o.end_at > {p} AND o.cancelled = {p}")
    args: list[Any] = [site.id, _db_time(lo - MAX_SPAN), _db_time(hi), _db_time(lo), False]
    if room is not None:
        sql += f" AND o.room_id = {p}"
        args.append(room if isinstance(room, int) else room.id)
    if programs is not None:
        if not programs:
            return []
        sql += f" AND b.program IN ({_params(len(programs))})"
        args.extend(programs)
    sql += " ORDER BY o.start_at, o.room_id, o.booking_id"
    out = []
    seen: dict[Any, dt.datetime] = {}  # a week repeats the same few times many times

    def local(value: Any) -> dt.datetime:
        found = seen.get(value)
        if found is None:
            found = seen[value] = to_utc(value).astimezone(tz)
        return found

    for (bid, rid, room_id, title, program, s, e, all_day, status, attendance,
         moved) in db.database.execute_sql(sql, args):
        out.append(Occurrence(bid, local(rid), room_id, title, program, local(s), local(e),
                              bool(all_day), status, attendance, bool(moved)))
    return out


def booking_occurrences(booking: Booking, include_cancelled: bool = False
                        ) -> list[BookingOccurrence]:
    q = BookingOccurrence.select().where(BookingOccurrence.booking == booking)
    if not include_cancelled:
        q = q.where(~BookingOccurrence.cancelled)
    return list(q.order_by(BookingOccurrence.recurrence_id))


def extra_entries(site: Site, start: dt.datetime, end: dt.datetime) -> list[Any]:
    """The read-only entries plugins add through ``calendar_entries``, flattened."""
    out: list[Any] = []
    for answer in site.hooks.calendar_entries(site=site, start=start, end=end):
        out.extend(answer or [])
    return out


# --- rooms next to each other ----------------------------------------------------------


def set_adjacent(site: Site, room_a: Room, room_b: Room, adjacent: bool = True) -> None:
    """Record (or forget) that two rooms of the site are next to each other."""
    a, b = sorted([get_in_site(Room, site, room_a.id).id, get_in_site(Room, site, room_b.id).id])
    if a == b:
        raise Invalid({"room": _("A room is not next to itself.")})
    with write_transaction():
        RoomAdjacency.delete().where((RoomAdjacency.room_a == a)
                                     & (RoomAdjacency.room_b == b)).execute()
        if adjacent:
            RoomAdjacency.create(site=site, room_a=a, room_b=b)


def adjacent_room_ids(room: Room | int) -> set[int]:
    rid = room if isinstance(room, int) else room.id
    q = RoomAdjacency.select(RoomAdjacency.room_a, RoomAdjacency.room_b).where(
        (RoomAdjacency.room_a == rid) | (RoomAdjacency.room_b == rid)).tuples()
    return {b if a == rid else a for a, b in q}


# --- planning a booking's occurrences --------------------------------------------------


@dataclass(slots=True)
class _Occ:
    recurrence_id: dt.datetime  # aware UTC
    start: dt.datetime  # aware UTC
    end: dt.datetime
    room_id: int
    title: str | None = None
    moved: bool = False
    cancelled: bool = False
    block_start: dt.datetime = field(init=False)
    block_end: dt.datetime = field(init=False)

    def set_block(self, setup: int, cleanup: int) -> None:
        self.block_start = self.start - dt.timedelta(minutes=setup)
        self.block_end = self.end + dt.timedelta(minutes=cleanup)


def series_of(b: Booking) -> rec.Series:
    tz = ZoneInfo(b.tzid)
    start = b.start_at.astimezone(tz)
    end = b.end_at.astimezone(tz)
    # The wall-clock length, which every occurrence keeps.
    duration = end.replace(tzinfo=None) - start.replace(tzinfo=None)
    return rec.Series(start, duration, b.rrule, rec.parse_local(b.rdates, tz),
                      rec.parse_dates(b.exdates), b.all_day)


def _bound(start: dt.datetime, now: dt.datetime | None = None) -> dt.datetime:
    """How far occurrence rows go: 18 months past today or past the start, whichever is
    later, at midnight UTC so that reruns on the same day change nothing."""
    base = max(now or utcnow(), start).astimezone(dt.UTC)
    day = dt.datetime.combine(base.date(), dt.time(0), dt.UTC)
    return rec.horizon_from(day)


def _expand(b: Booking, after: dt.datetime | None = None,
            bound: dt.datetime | None = None) -> tuple[list[_Occ], bool, dt.datetime]:
    series = series_of(b)
    bound = bound or _bound(b.start_at)
    try:
        result = rec.expand(series, bound, after=after)
    except rec.RuleError as exc:
        raise Invalid({"rrule": str(exc)}) from None
    occs = []
    for start in result.starts:
        utc = start.astimezone(dt.UTC)
        occs.append(_Occ(utc, utc, series.end_of(start).astimezone(dt.UTC), b.room_id))
    return occs, result.complete, bound


def _local_date(instant: dt.datetime, tz: ZoneInfo) -> dt.date:
    return instant.astimezone(tz).date()


def _apply_overrides(b: Booking, occs: list[_Occ], rows: Iterable[BookingOccurrence]) -> None:
    """Keep per-occurrence changes of an edited series, matched by local date so that a
    cancelled 5月5日 stays cancelled when the series moves from 10:00 to 10:30."""
    tz = ZoneInfo(b.tzid)
    by_date = {_local_date(r.recurrence_id, tz): r for r in rows if r.overridden}
    for o in occs:
        r = by_date.get(_local_date(o.recurrence_id, tz))
        if r is None:
            continue
        o.cancelled, o.title, o.moved = r.cancelled, r.title, r.moved
        if r.moved:
            o.start, o.end, o.room_id = r.start_at, r.end_at, r.room_id


# --- locking, hours, conflicts, plugin rules ---------------------------------------------


def _lock_rooms(room_ids: Iterable[int], site: Site | None = None) -> dict[int, Room]:
    """Read the rooms, locking their rows on PostgreSQL (SQLite: BEGIN IMMEDIATE already
    holds the single writer's lock). Sorted by id, so two writers never deadlock."""
    ids = sorted(set(room_ids))
    sql = (f"SELECT id, site_id, name, capacity, shareable, retired FROM room "
           f"WHERE id IN ({_params(len(ids))})")
    args: list[Any] = list(ids)
    if site is not None:
        sql += f" AND site_id = {db.database.obj.param}"
        args.append(site.id)
    sql += " ORDER BY id" + (" FOR UPDATE" if db.is_postgres() else "")
    # Plain SQL: it runs for every booking, and peewee's query building costs more than it.
    return {rid: Room(id=rid, site=sid, name=name, capacity=cap, shareable=bool(share),
                      retired=bool(retired))
            for rid, sid, name, cap, share, retired in db.database.execute_sql(sql, args)}


@dataclass(slots=True)
class _Row:
    id: int
    booking_id: int
    recurrence_id: dt.datetime
    start: dt.datetime
    end: dt.datetime
    block_start: dt.datetime
    block_end: dt.datetime
    attendance: int
    title: str
    program: str


_CHUNK = 200


def _overlapping(room_id: int, occs: Sequence[_Occ], exclude_bookings: Sequence[int] = (),
                 exclude_rows: Sequence[int] = ()) -> dict[int, list[_Row]]:
    """Live occurrence rows of the room overlapping each occurrence's block (with
    buffers), by index into ``occs``.

    One query per 200 occurrences: a VALUES list of the candidates, each probing the
    (room, block_start) index over a range bounded by MAX_BLOCK. PostgreSQL is told to
    probe per candidate (LATERAL): left to itself it reads all the room's rows and
    hashes them. Titles are read afterwards, and only when something is in the way.
    """
    found: dict[int, list[_Row]] = defaultdict(list)
    pg = db.is_postgres()
    p = db.database.obj.param
    where = (f"o.room_id = {p} AND o.block_start >= cand.lo AND o.block_start < cand.e "
             f"AND o.block_end > cand.s AND o.cancelled = {p}")
    extra: list[Any] = []
    if exclude_bookings:
        where += f" AND o.booking_id NOT IN ({_params(len(exclude_bookings))})"
        extra += list(exclude_bookings)
    if exclude_rows:
        where += f" AND o.id NOT IN ({_params(len(exclude_rows))})"
        extra += list(exclude_rows)
    cols = ("o.id, o.booking_id, o.recurrence_id, o.start_at, o.end_at, o.block_start, "
            "o.block_end, o.attendance, o.title")
    t = _time_param()
    hits = []
    for offset in range(0, len(occs), _CHUNK):
        chunk = occs[offset:offset + _CHUNK]
        lo = [t(o.block_start - MAX_BLOCK) for o in chunk]
        starts = [t(o.block_start) for o in chunk]
        ends = [t(o.block_end) for o in chunk]
        if pg:
            # Array literals written here: psycopg's list dumping was half the query's time.
            lo, starts, ends = ("{" + ",".join(v.isoformat() for v in a) + "}"
                                for a in (lo, starts, ends))
            # Three arrays instead of hundreds of parameters; each candidate probes the
            # index on its own (LATERAL … OFFSET 0 keeps PostgreSQL from flattening it).
            sql = ("SELECT cand.i - 1, o.* FROM unnest(CAST(%s AS timestamp[]), "
                   "CAST(%s AS timestamp[]), CAST(%s AS timestamp[])) WITH ORDINALITY "
                   f"AS cand(lo, s, e, i) CROSS JOIN LATERAL (SELECT {cols} "
                   f"FROM booking_occurrence o WHERE {where} OFFSET 0) AS o")
            args: list[Any] = [lo, starts, ends]
        else:
            values = ", ".join([f"({p}, {p}, {p}, {p})"] * len(chunk))
            sql = (f"WITH cand(i, lo, s, e) AS (VALUES {values}) SELECT cand.i, {cols} "
                   f"FROM cand JOIN booking_occurrence o ON {where}")
            args = [x for i in range(len(chunk)) for x in (i, lo[i], starts[i], ends[i])]
        hits += [(h[0] + offset, *h[1:])
                 for h in db.database.execute_sql(sql, [*args, room_id, False, *extra])]
    if not hits:
        return found
    ids = sorted({h[2] for h in hits})
    names = {bid: (title, program) for bid, title, program in db.database.execute_sql(
        f"SELECT id, title, program FROM booking WHERE id IN ({_params(len(ids))})", ids)}
    for i, oid, bid, rid, s, e, bs, be, att, title in hits:
        found[i].append(_Row(oid, bid, to_utc(rid), to_utc(s), to_utc(e), to_utc(bs),
                             to_utc(be), att, title or names[bid][0], names[bid][1]))
    return found


def _over_capacity(o: _Occ, attendance: int, rows: list[_Row], capacity: int) -> list[_Row]:
    """Rows running at a moment when everyone together exceeds the capacity: a sweep
    over the occurrence's block, so that two groups one after the other don't add up."""
    points = sorted({o.block_start, o.block_end}
                    | {max(r.block_start, o.block_start) for r in rows}
                    | {min(r.block_end, o.block_end) for r in rows})
    over: dict[int, _Row] = {}  # by object: rows of an import preview have no id yet
    for a, b in zip(points, points[1:], strict=False):
        running = [r for r in rows if r.block_start < b and r.block_end > a]
        if attendance + sum(r.attendance for r in running) > capacity:
            over.update((id(r), r) for r in running)
    return list(over.values())


def _conflicts(b: Booking, occs: list[_Occ], rooms: dict[int, Room], tz: ZoneInfo,
               exclude_bookings: Sequence[int] = (), exclude_rows: Sequence[int] = (),
               pending: Sequence[_Row] = ()) -> dict[int, list[ConflictItem]]:
    """Conflicts per index into ``occs`` (live ones only), across every program.
    ``pending``: rows not written yet that count too (an import's earlier events)."""
    out: dict[int, list[ConflictItem]] = {}
    by_room: dict[int, list[int]] = defaultdict(list)
    for i, o in enumerate(occs):
        if not o.cancelled:
            by_room[o.room_id].append(i)
    for room_id, idx in by_room.items():
        room = rooms[room_id]
        subset = [occs[i] for i in idx]
        found = _overlapping(room_id, subset, exclude_bookings, exclude_rows)
        for j, o in enumerate(subset):
            rows = found.get(j, []) + [r for r in pending if r.block_start < o.block_end
                                       and r.block_end > o.block_start]
            if not rows:
                continue
            in_way = _over_capacity(o, b.attendance, rows, room.capacity) if room.shareable \
                else rows
            if in_way:
                out[idx[j]] = [ConflictItem(
                    r.start.astimezone(tz).date(), r.start.astimezone(tz), r.end.astimezone(tz),
                    r.title, r.program, r.booking_id, room_id, r.recurrence_id.astimezone(tz),
                    o.start.astimezone(tz)) for r in sorted(in_way, key=lambda r: r.start)]
    return out


def _hour_problems(site: Site, b: Booking, occs: list[_Occ], rooms: dict[int, Room],
                   tz: ZoneInfo) -> dict[int, ClosedItem]:
    live = [(i, o) for i, o in enumerate(occs) if not o.cancelled]
    if not live:
        return {}
    first = min(o.block_start for _i, o in live).astimezone(tz).date()
    last = max(o.block_end for _i, o in live).astimezone(tz).date()
    rules = {rid: HoursRules.load(site, room, first, last) for rid, room in rooms.items()}
    out = {}
    for i, o in live:
        reason = rules[o.room_id].problem(o.block_start.astimezone(tz),
                                          o.block_end.astimezone(tz), b.all_day)
        if reason:
            out[i] = ClosedItem(o.start.astimezone(tz).date(), o.start.astimezone(tz), reason)
    return out


def _slots(occs: list[_Occ], tz: ZoneInfo) -> list[Slot]:
    return [Slot(o.recurrence_id.astimezone(tz), o.room_id, o.start.astimezone(tz),
                 o.end.astimezone(tz), o.block_start.astimezone(tz), o.block_end.astimezone(tz))
            for o in occs if not o.cancelled]


def _check(site: Site, b: Booking, occs: list[_Occ], *, override: bool, skip_conflicts: bool,
           skip_closed: bool, exclude_bookings: Sequence[int] = (),
           exclude_rows: Sequence[int] = (), extending: bool = False,
           rooms: dict[int, Room] | None = None) -> list[_Occ]:
    """Lock the rooms, then refuse or skip what may not be booked. Returns the
    occurrences to write; skipped dates are added to ``b.exdates``.

    ``extending``: adding rows to a series accepted earlier: nothing is refused, what
    is in the way is skipped, and the plugins' rules are not asked again.
    """
    tz = site_zone(site)
    for o in occs:
        o.set_block(b.setup_minutes, b.cleanup_minutes)
    needed = {o.room_id for o in occs} | {b.room_id}
    if rooms is None or not needed <= set(rooms):
        rooms = _lock_rooms(needed)
    live = sorted((o for o in occs if not o.cancelled), key=lambda o: o.block_start)
    if not extending:
        for room in rooms.values():
            if b.attendance > room.capacity:
                raise Invalid({"attendance": _("{room} holds {n} people at most.")
                               .format(room=room.name, n=room.capacity)})
        if not live:
            raise Invalid({"rrule": _("No occurrence is left to book.")})
        for x, y in zip(live, live[1:], strict=False):
            if y.block_start < x.block_end and x.room_id == y.room_id:
                raise Invalid({"rrule": _("Occurrences of this booking overlap each other "
                                          "({date}).").format(date=y.start.astimezone(tz).date())})
    skip: set[int] = set()
    if not override:
        problems = _hour_problems(site, b, occs, rooms, tz)
        if problems and not extending and (not skip_closed or len(problems) == len(live)):
            raise OutsideHours(sorted(problems.values(), key=lambda p: p.start))
        skip |= set(problems)
    conflicts = _conflicts(b, occs, rooms, tz, exclude_bookings, exclude_rows)
    conflicts = {i: c for i, c in conflicts.items() if i not in skip}
    if conflicts and not extending and (
            not skip_conflicts or len(skip | set(conflicts)) == len(live)):
        raise BookingConflict([c for i in sorted(conflicts) for c in conflicts[i]])
    skip |= set(conflicts)
    if skip:
        days = {_local_date(occs[i].recurrence_id, ZoneInfo(b.tzid)) for i in skip}
        b.exdates = rec.format_dates(rec.parse_dates(b.exdates) | days)
        occs = [o for i, o in enumerate(occs) if i not in skip]
    if not extending:
        messages = [m for answer in site.hooks.validate_booking(
            site=site, booking=b, occurrences=_slots(occs, tz)) for m in (answer or [])]
        if messages:
            raise Invalid({"__all__": " ".join(str(m) for m in messages)})
    return occs


_COLUMNS = ("booking_id", "site_id", "room_id", "recurrence_id", "start_at", "end_at",
            "block_start", "block_end", "attendance", "title", "moved", "cancelled")


def _insert(b: Booking, occs: list[_Occ]) -> None:
    """Write occurrence rows with one prepared statement (peewee's insert_many spends
    ~6 ms building the SQL of a year of weeks; this takes a fraction of that)."""
    if not occs:
        return
    rows = []
    t = _time_param()
    for o in occs:
        o.set_block(b.setup_minutes, b.cleanup_minutes)
        rows.append((b.id, b.site_id, o.room_id, t(o.recurrence_id), t(o.start), t(o.end),
                     t(o.block_start), t(o.block_end), b.attendance, o.title, o.moved,
                     o.cancelled))
    cursor = db.database.cursor()
    try:
        if db.is_postgres():
            # COPY: measured fastest for a year of weeks (executemany pipelines a statement
            # per row; one multi-row INSERT or unnest() were slower still).
            with cursor.copy(f"COPY booking_occurrence ({', '.join(_COLUMNS)}) FROM STDIN"
                             ) as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            cursor.executemany(f"INSERT INTO booking_occurrence ({', '.join(_COLUMNS)}) "
                               f"VALUES ({_params(len(_COLUMNS))})", rows)
    finally:
        cursor.close()


def _notify(site: Site, booking: Booking, change: str) -> None:
    """booking_changed runs after the write; a failing listener never undoes a booking."""
    try:
        site.hooks.booking_changed(site=site, booking=booking, change=change)
    except Exception:
        log.exception("booking_changed failed for booking %s (%s)", booking.id, change)


# --- filling a booking from input --------------------------------------------------------


def new_uid() -> str:
    return f"{uuid.uuid4()}@hubcore"


def _programs() -> set[str]:
    from hubcore.plugins import get_host

    return set(get_host().plugins)


def _room_errors(site: Site, b: Booking, room: Room | None) -> dict[str, str]:
    if room is None or room.site_id != site.id:
        return {"room": _("Choose a room of this site.")}
    if room.retired and (b.id is None or b.room_id != room.id):
        return {"room": _("This room is retired and takes no new bookings.")}
    return {}


def _fill(b: Booking, site: Site, data: BookingIn, tz: ZoneInfo, *, check_rule: bool = True,
          check_room: bool = True) -> None:
    """Copy validated input onto a booking, resolving ids within the site.
    ``check_room=False``: the caller checks the room when it locks it (one query less)."""
    errors: dict[str, str] = {}
    if check_room:
        errors.update(_room_errors(site, b, Room.get_or_none(Room.id == data.room)))
    if data.organiser is not None and not Person.select().where(
            (Person.id == data.organiser) & (Person.site == site)).exists():
        errors["organiser"] = _("Choose a person of this site.")
    if data.program not in _programs():
        errors["program"] = _("Unknown program: {name}").format(name=data.program)
    if errors:
        raise Invalid(errors)
    b.room_id = data.room
    b.title, b.program, b.organiser = data.title, data.program, data.organiser
    b.attendance, b.all_day, b.status = data.attendance, data.all_day, data.status
    b.setup_minutes, b.cleanup_minutes = data.setup_minutes, data.cleanup_minutes
    b.notes, b.loud, b.tzid = data.notes, data.loud, tz.key
    start = _aware(data.start, tz).astimezone(tz)
    end = _aware(data.end, tz).astimezone(tz)
    if data.all_day:
        start = dt.datetime.combine(start.date(), dt.time(0), tz)
        end = dt.datetime.combine(end.date() + dt.timedelta(days=1), dt.time(0), tz)
    b.start_at, b.end_at = start.astimezone(dt.UTC), end.astimezone(dt.UTC)
    try:
        b.rrule = rec.normalise_rule(data.rrule, tz, data.all_day)
    except rec.RuleError as exc:
        raise Invalid({"rrule": str(exc)}) from None
    b.exdates = rec.format_dates(data.exdates)
    if len(data.rdates) > rec.MAX_RDATES:
        raise Invalid({"rdates": _("At most {n} extra dates.").format(n=rec.MAX_RDATES)})
    rdates = [_aware(d, tz) for d in data.rdates]
    if data.all_day:
        rdates = [dt.datetime.combine(d.date(), dt.time(0), tz) for d in rdates]
    b.rdates = rec.format_local(rdates, tz)
    if check_rule and b.rrule:
        series = series_of(b)
        try:
            first = rec.first_start(series, _bound(b.start_at))
        except rec.RuleError as exc:
            raise Invalid({"rrule": str(exc)}) from None
        if first != series.dtstart and series.dtstart not in series.rdates:
            raise Invalid({"rrule": _("The start ({date}) is not one of the repeat rule's "
                                      "dates: start on a day the rule gives.")
                           .format(date=start.date().isoformat())})


def _input(data: BookingIn | dict) -> BookingIn:
    return data if isinstance(data, BookingIn) else validate(BookingIn, data)


def booking_input(b: Booking) -> dict[str, Any]:
    """The booking as BookingIn fields (for edit forms and partial updates)."""
    tz = ZoneInfo(b.tzid)
    start, end = b.start_at.astimezone(tz), b.end_at.astimezone(tz)
    if b.all_day:
        end = end - dt.timedelta(days=1)
    return {
        "room": b.room_id, "title": b.title, "program": b.program,
        "organiser": b.organiser_id, "attendance": b.attendance, "all_day": b.all_day,
        "start": start, "end": end, "setup_minutes": b.setup_minutes,
        "cleanup_minutes": b.cleanup_minutes,
        "status": b.status if b.status != "cancelled" else "confirmed",
        "notes": b.notes, "loud": b.loud, "rrule": b.rrule,
        "exdates": sorted(rec.parse_dates(b.exdates)),
        "rdates": list(rec.parse_local(b.rdates, tz)),
    }


# --- writing ----------------------------------------------------------------------------


def _extend_rooms(site: Site, room_ids: Iterable[int], until: dt.datetime,
                  exclude: int | None = None) -> None:
    """Expand the rooms' open-ended series up to ``until`` before checking a booking that
    reaches further than their rows, so the check sees them (we hold the room lock)."""
    ids = sorted(set(room_ids))
    sql = (f"SELECT id FROM booking WHERE room_id IN ({_params(len(ids))}) "
           f"AND expanded_until < {db.database.obj.param} AND status <> 'cancelled' ORDER BY id")
    found = [i for (i,) in db.database.execute_sql(sql, [*ids, _db_time(until)])
             if i != exclude]
    for other in (Booking.get_by_id(i) for i in found):
        _extend_one(site, other, until)


def create_booking(site: Site, data: BookingIn | dict, *, override: bool = False,
                   skip_conflicts: bool = False, skip_closed: bool = False,
                   uid: str | None = None, sequence: int = 0) -> Booking:
    """Book a room, once or as a series.

    Raises Invalid (input), OutsideHours (opening hours, closed days, holidays: a site
    manager may pass ``override=True``; ``skip_closed=True`` leaves those dates out),
    BookingConflict (the room is taken; ``skip_conflicts=True`` leaves those dates out).
    """
    data = _input(data)
    b = Booking(site=site, uid=uid or new_uid(), sequence=sequence, hours_override=override)
    _fill(b, site, data, site_zone(site), check_room=False)
    return _create(site, b, override=override, skip_conflicts=skip_conflicts,
                   skip_closed=skip_closed)


def _create(site: Site, b: Booking, *, override: bool, skip_conflicts: bool,
            skip_closed: bool, overrides: Iterable[BookingOccurrence] = ()) -> Booking:
    occs, complete, bound = _expand(b)
    _apply_overrides(b, occs, overrides)
    with write_transaction():
        rooms = _lock_rooms({o.room_id for o in occs} | {b.room_id}, site)
        errors = _room_errors(site, b, rooms.get(b.room_id))
        if errors:
            raise Invalid(errors)
        _extend_rooms(site, {o.room_id for o in occs}, max(o.end for o in occs))
        occs = _check(site, b, occs, override=override, skip_conflicts=skip_conflicts,
                      skip_closed=skip_closed, rooms=rooms)
        b.expanded_until = None if complete else bound
        try:
            b.save()
        except peewee.IntegrityError:  # (site, uid) is unique; the transaction is undone
            raise Invalid({"uid": _("A booking with this UID exists already.")}) from None
        _insert(b, occs)
    _notify(site, b, "created")
    return b


def _locked_booking(b: Booking) -> Booking:
    """The booking re-read inside the transaction, after its room's lock."""
    _lock_rooms([b.room_id])
    fresh = Booking.get_by_id(b.id)
    if fresh.status == "cancelled":
        raise Invalid({"status": _("This booking was cancelled and can no longer be changed.")})
    return fresh


def _occurrence_row(b: Booking, recurrence_id: dt.datetime) -> BookingOccurrence:
    row = BookingOccurrence.get_or_none((BookingOccurrence.booking == b)
                                        & (BookingOccurrence.recurrence_id
                                           == recurrence_id.astimezone(dt.UTC)))
    if row is None:
        raise NotFound(f"{b.id}/{recurrence_id.isoformat()}")
    return row


def update_booking(booking: Booking, changes: dict[str, Any], *, scope: Scope = "all",
                   recurrence_id: dt.datetime | None = None, override: bool = False,
                   skip_conflicts: bool = False, skip_closed: bool = False) -> Booking:
    """Change a booking. ``changes`` holds BookingIn fields to change.

    - ``scope="all"``: the whole series. With ``recurrence_id``, ``start``/``end`` are
      that occurrence's new times and the whole series shifts by as much; without it
      they are the series' first occurrence. Single-occurrence changes are kept.
    - ``scope="following"``: the series is split: it ends before ``recurrence_id`` and a
      new booking (returned) starts there with the changes.
    - ``scope="this"``: one occurrence; only ``start``, ``end``, ``room`` and ``title``.
    """
    if scope == "this":
        if recurrence_id is None:
            raise Invalid({"scope": _("Say which occurrence to change.")})
        extra = set(changes) - {"start", "end", "room", "title"}
        if extra:
            raise Invalid({sorted(extra)[0]: _("Only the time, room and title of a single "
                                               "occurrence can be changed.")})
        return move_occurrence(booking, recurrence_id, changes.get("start"), changes.get("end"),
                               room=changes.get("room"), title=changes.get("title"),
                               override=override)
    if scope == "following" and recurrence_id is not None:
        series = series_of(booking)
        if recurrence_id.astimezone(dt.UTC) > series.dtstart.astimezone(dt.UTC):
            return _split(booking, changes, recurrence_id, override=override,
                          skip_conflicts=skip_conflicts, skip_closed=skip_closed)
    if scope not in ("all", "following"):
        raise Invalid({"scope": _("Unknown scope: {scope}").format(scope=scope)})
    return _update_all(booking, changes, recurrence_id, override=override,
                       skip_conflicts=skip_conflicts, skip_closed=skip_closed)


def _shifted(b: Booking, changes: dict[str, Any], recurrence_id: dt.datetime | None,
             tz: ZoneInfo) -> dict[str, Any]:
    """Input for the whole series when ``start``/``end`` name one occurrence's new times."""
    current = booking_input(b)
    merged = {**current, **changes}
    if recurrence_id is None or not ({"start", "end"} & set(changes)):
        return merged
    row = _occurrence_row(b, recurrence_id)
    occ_start, occ_end = row.start_at.astimezone(tz), row.end_at.astimezone(tz)
    new_start = _aware(changes.get("start", occ_start), tz).astimezone(tz)
    new_end = _aware(changes.get("end", new_start + (occ_end - occ_start)), tz).astimezone(tz)
    shift = new_start.replace(tzinfo=None) - occ_start.replace(tzinfo=None)
    first = current["start"].replace(tzinfo=None) + shift
    merged["start"] = first.replace(tzinfo=tz)
    merged["end"] = (first + (new_end.replace(tzinfo=None) - new_start.replace(tzinfo=None))
                     ).replace(tzinfo=tz)
    if b.all_day:
        merged["end"] -= dt.timedelta(days=1)
    return merged


def _update_all(booking: Booking, changes: dict[str, Any], recurrence_id: dt.datetime | None,
                *, override: bool, skip_conflicts: bool, skip_closed: bool) -> Booking:
    site = booking.site
    with write_transaction():
        b = _locked_booking(booking)
        tz = ZoneInfo(b.tzid)
        data = _input(_shifted(b, changes, recurrence_id, tz))
        _fill(b, site, data, tz)
        b.hours_override = b.hours_override or override
        rows = booking_occurrences(b, include_cancelled=True)
        occs, complete, bound = _expand(b)
        _apply_overrides(b, occs, rows)
        _lock_rooms({o.room_id for o in occs} | {b.room_id})
        _extend_rooms(site, {o.room_id for o in occs}, max(o.end for o in occs), exclude=b.id)
        occs = _check(site, b, occs, override=override, skip_conflicts=skip_conflicts,
                      skip_closed=skip_closed, exclude_bookings=[b.id])
        b.expanded_until = None if complete else bound
        b.sequence += 1
        b.updated_at = utcnow()
        b.save()
        BookingOccurrence.delete().where(BookingOccurrence.booking == b).execute()
        _insert(b, occs)
    _notify(site, b, "updated")
    return b


def _count_before(b: Booking, instant: dt.datetime) -> int:
    series = rec.Series(series_of(b).dtstart, series_of(b).duration, b.rrule, (), frozenset(),
                        b.all_day)
    return len(rec.expand(series, instant - dt.timedelta(seconds=1),
                          limit=rec.MAX_OCCURRENCES * 10).starts)


def _split(booking: Booking, changes: dict[str, Any], recurrence_id: dt.datetime, *,
           override: bool, skip_conflicts: bool, skip_closed: bool) -> Booking:
    site = booking.site
    with write_transaction():
        old = _locked_booking(booking)
        tz = ZoneInfo(old.tzid)
        row = _occurrence_row(old, recurrence_id)
        cut = row.recurrence_id
        cut_day = _local_date(cut, tz)
        # The new series starts where the rule put that occurrence.
        rule_start = cut.astimezone(tz)
        duration = series_of(old).duration
        fields = booking_input(old)
        fields["start"], fields["end"] = rule_start, rule_start + duration
        if old.all_day:
            fields["end"] -= dt.timedelta(days=1)
        if old.rrule and "rrule" not in changes:
            count = rec.rule_count(old.rrule)
            left = None if count is None else count - _count_before(old, cut)
            fields["rrule"] = rec.with_count(old.rrule, left)
        fields["exdates"] = [d for d in fields["exdates"] if d >= cut_day]
        fields["rdates"] = [d for d in fields["rdates"] if d >= cut]
        merged = {**fields, **changes}
        if {"start", "end"} & set(changes):
            start = _aware(changes.get("start", row.start_at), tz).astimezone(tz)
            merged["start"] = start
            merged["end"] = _aware(changes.get("end", start + duration), tz)
        new = Booking(site=site, uid=new_uid(), split_from=old,
                      hours_override=old.hours_override or override)
        _fill(new, site, _input(merged), tz)
        later = [r for r in booking_occurrences(old, include_cancelled=True)
                 if r.recurrence_id >= cut]
        # The old series ends before the cut; its later rows go to the new one.
        old.rrule = rec.until_before(old.rrule, cut, tz, old.all_day) if old.rrule else ""
        old.exdates = rec.format_dates(d for d in rec.parse_dates(old.exdates) if d < cut_day)
        old.rdates = rec.format_local([d for d in rec.parse_local(old.rdates, tz) if d < cut], tz)
        old.expanded_until = None
        old.sequence += 1
        old.updated_at = utcnow()
        old.save()
        BookingOccurrence.delete().where((BookingOccurrence.booking == old)
                                         & (BookingOccurrence.recurrence_id >= cut)).execute()
        new = _create(site, new, override=override, skip_conflicts=skip_conflicts,
                      skip_closed=skip_closed, overrides=later)
    _notify(site, old, "updated")
    return new


def move_occurrence(booking: Booking, recurrence_id: dt.datetime,
                    start: dt.datetime | dt.date | None = None,
                    end: dt.datetime | dt.date | None = None, *, room: Room | int | None = None,
                    title: str | None = None, override: bool = False) -> Booking:
    """Move one occurrence (new times and/or another room of the site) or retitle it.
    Its RECURRENCE-ID stays; the ICS feed shows it as an override of the series."""
    site = booking.site
    tz = site_zone(site)
    with write_transaction():
        b = _locked_booking(booking)
        row = _occurrence_row(b, recurrence_id)
        if row.cancelled:
            raise Invalid({"start": _("This occurrence was cancelled.")})
        room_id = row.room_id
        if room is not None:
            target = Room.get_or_none((Room.id == (room if isinstance(room, int) else room.id))
                                      & (Room.site == site))
            if target is None:
                raise Invalid({"room": _("Choose a room of this site.")})
            if target.retired and target.id != row.room_id:
                raise Invalid({"room": _("This room is retired and takes no new bookings.")})
            room_id = target.id
        old_start, old_end = row.start_at, row.end_at
        new_start = _aware(start, tz).astimezone(dt.UTC) if start is not None else old_start
        if b.all_day and start is not None:
            new_start = dt.datetime.combine(new_start.astimezone(tz).date(), dt.time(0), tz
                                            ).astimezone(dt.UTC)
        if end is not None:
            new_end = _aware(end, tz).astimezone(dt.UTC)
            if b.all_day:
                new_end = dt.datetime.combine(new_end.astimezone(tz).date() + dt.timedelta(days=1),
                                              dt.time(0), tz).astimezone(dt.UTC)
        else:
            new_end = (new_start.astimezone(tz) + (old_end.astimezone(tz).replace(tzinfo=None)
                       - old_start.astimezone(tz).replace(tzinfo=None))).astimezone(dt.UTC)
        if new_end <= new_start:
            raise Invalid({"end": _("The end must be after the start.")})
        if new_end - new_start > MAX_SPAN:
            raise Invalid({"end": _("A booking lasts {days} days at most; book a longer period "
                                    "as a repeating booking.").format(days=MAX_SPAN.days)})
        if title is not None:
            title = title.strip()
            if not title or len(title) > 200:
                raise Invalid({"title": _("Title is required.")})
        series = series_of(b)
        rule_end = series.end_of(row.recurrence_id.astimezone(series.tz)).astimezone(dt.UTC)
        moved = (new_start, new_end, room_id) != (row.recurrence_id, rule_end, b.room_id)
        o = _Occ(row.recurrence_id, new_start, new_end, room_id, title or row.title, moved=moved)
        # A manager's earlier override still covers an occurrence that keeps its time.
        unchanged = (new_start, new_end) == (old_start, old_end)
        _check(site, b, [o], override=override or (b.hours_override and unchanged),
               skip_conflicts=False, skip_closed=False, exclude_rows=[row.id])
        o.set_block(b.setup_minutes, b.cleanup_minutes)
        BookingOccurrence.update(start_at=o.start, end_at=o.end, block_start=o.block_start,
                                 block_end=o.block_end, room=o.room_id, title=o.title,
                                 moved=o.moved).where(BookingOccurrence.id == row.id).execute()
        b.sequence += 1
        b.updated_at = utcnow()
        b.save()
    _notify(site, b, "updated")
    return b


def cancel_booking(booking: Booking, *, scope: Scope = "all",
                   recurrence_id: dt.datetime | None = None) -> Booking:
    """Cancel the whole booking, one occurrence, or this and the following ones."""
    site = booking.site
    with write_transaction():
        b = _locked_booking(booking)
        tz = ZoneInfo(b.tzid)
        if scope != "all" and recurrence_id is None:
            raise Invalid({"scope": _("Say which occurrence to cancel.")})
        if scope == "following" and recurrence_id.astimezone(dt.UTC) <= b.start_at:
            scope = "all"
        if scope == "all":
            b.status = "cancelled"
            BookingOccurrence.update(cancelled=True).where(
                BookingOccurrence.booking == b).execute()
        elif scope == "this":
            row = _occurrence_row(b, recurrence_id)
            BookingOccurrence.update(cancelled=True).where(
                BookingOccurrence.id == row.id).execute()
        elif scope == "following":
            cut = _occurrence_row(b, recurrence_id).recurrence_id
            b.rrule = rec.until_before(b.rrule, cut, tz, b.all_day) if b.rrule else ""
            b.rdates = rec.format_local([d for d in rec.parse_local(b.rdates, tz) if d < cut], tz)
            b.expanded_until = None
            BookingOccurrence.delete().where((BookingOccurrence.booking == b)
                                             & (BookingOccurrence.recurrence_id >= cut)).execute()
        else:
            raise Invalid({"scope": _("Unknown scope: {scope}").format(scope=scope)})
        b.sequence += 1
        b.updated_at = utcnow()
        b.save()
    _notify(site, b, "cancelled" if b.status == "cancelled" else "updated")
    return b


# --- extending open-ended series -------------------------------------------------------------


@dataclass
class Extended:
    booking_id: int
    added: int
    skipped: list[dt.date]  # dates left out (conflict or closed), now EXDATEs


def _extend_one(site: Site, b: Booking, bound: dt.datetime) -> Extended:
    """Add rows after ``b.expanded_until`` up to ``bound`` (the caller holds the lock).

    The series was accepted when it was booked. What is in the way of the new rows (a
    closed day added since, or another open-ended series) is skipped, becomes an
    EXDATE and is reported; bookings made later never are, because rooms are extended
    before a booking reaching past their rows is checked.
    """
    occs, complete, _bound_ = _expand(b, after=b.expanded_until, bound=bound)
    before = rec.parse_dates(b.exdates)
    if occs:
        occs = _check(site, b, occs, override=b.hours_override, skip_conflicts=True,
                      skip_closed=True, exclude_bookings=[b.id], extending=True)
    skipped = sorted(rec.parse_dates(b.exdates) - before)
    b.expanded_until = None if complete else bound
    if skipped:
        b.sequence += 1
        b.updated_at = utcnow()
    b.save()
    _insert(b, occs)
    return Extended(b.id, len(occs), skipped)


def extend_series(now: dt.datetime | None = None) -> list[Extended]:
    """Give every open-ended series occurrence rows up to the horizon (18 months from
    today). Idempotent: a second run on the same day adds nothing. One transaction per
    booking, so a run killed half way is finished by the next."""
    bound = _bound(now or utcnow(), now)
    ids = [b.id for b in Booking.select(Booking.id).where(
        (Booking.expanded_until < bound) & (Booking.status != "cancelled")).order_by(Booking.id)]
    out = []
    for bid in ids:
        with write_transaction():
            b = Booking.get_by_id(bid)
            _lock_rooms([b.room_id])
            b = Booking.get_by_id(bid)  # re-read under the lock
            if b.expanded_until is None or b.expanded_until >= bound or b.status == "cancelled":
                continue
            result = _extend_one(b.site, b, bound)
        if result.added or result.skipped:
            _notify(b.site, b, "extended")
        out.append(result)
    return out
