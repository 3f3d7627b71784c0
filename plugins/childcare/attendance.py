"""Attendance: children and staff checking in and out, and 親子ひろば head counts.

A check-in records a core visit (``hubcore.reports.record_visit``) in the same
transaction; a check-out records who collected the child, who must be one of the
child's active pickup people (anyone else is refused and nothing is saved), and how
many minutes after the site's closing time it happened (billed as a late fee). A
walk-in (a child with no reservation) books a place from now and checks in on it, both
or neither.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from hubcore import db
from hubcore.calendar.operations import site_zone
from hubcore.db import utcnow, write_transaction
from hubcore.errors import Invalid
from hubcore.i18n import gettext as _
from hubcore.people.models import Person
from hubcore.rooms.models import Room
from hubcore.sites.models import Site
from plugins.childcare import sessions
from plugins.childcare.models import (
    AFTERSCHOOL,
    BOOKED,
    DROPIN,
    HIROBA,
    PROGRAMS,
    Attendance,
    Child,
    Enrolment,
    HeadCount,
    PickupPerson,
    Reservation,
    Settings,
    Staff,
    StaffAttendance,
)
from plugins.childcare.reservations import RESERVABLE, hhmm, reserve
from plugins.childcare.settings import closing_time, get_settings

VISIT_PROGRAM = "childcare"  # the program name of childcare's visits in the core reports

EXPECTED, IN, OUT = "expected", "in", "out"


def _now(at: dt.datetime | None) -> dt.datetime:
    if at is None:
        return utcnow()
    if not isinstance(at, dt.datetime) or at.tzinfo is None:
        raise ValueError("attendance times are time-zone aware datetimes")
    return at


def _day(site: Site, at: dt.datetime) -> dt.date:
    return at.astimezone(site_zone(site)).date()


def _room(site: Site, room: Room | int, field: str = "room_id") -> Room:
    rid = room if isinstance(room, int) else room.id
    q = Room.select().where((Room.id == rid) & (Room.site == site))
    if db.is_postgres():
        q = q.for_update()  # serialises check-ins and head counts of one room
    found = q.first()
    if found is None:
        raise Invalid({field: _("Choose a room of this site.")})
    return found


def _child(site: Site, child: Child | int, lock: bool = False) -> Child:
    cid = child if isinstance(child, int) else child.id
    q = (Child.select(Child, Person).join(Person)
         .where((Child.id == cid) & (Child.site == site)))
    if lock and db.is_postgres():
        q = q.for_update(of=Child)
    found = q.first()
    if found is None:
        raise Invalid({"child_id": _("Choose a child registered at this site.")})
    return found


def session_key(program: str, room_id: int, day: dt.date) -> str:
    """The core visit's session: one per program, room and day."""
    return f"{program}:{room_id}:{day.isoformat()}"


# --- settings --------------------------------------------------------------------


def site_settings(site: Site) -> Settings:
    """The site's childcare settings, or unsaved defaults where none are stored (a read
    never writes; ``settings.get_settings`` stores them inside a write)."""
    return Settings.get_or_none(Settings.site == site) or Settings(site=site)


def closing_at(site: Site, day: dt.date, settings: Settings | None = None) -> dt.datetime:
    s = settings or site_settings(site)
    return dt.datetime.combine(day, closing_time(s), site_zone(site))


def late_minutes(site: Site, day: dt.date, at: dt.datetime,
                 settings: Settings | None = None) -> int:
    """Whole minutes after closing time: 0 at closing exactly and within its first
    minute (the tablet's clock shows minutes; a block starts with the first full one)."""
    seconds = (at - closing_at(site, day, settings)).total_seconds()
    return max(0, int(seconds // 60))


# --- children --------------------------------------------------------------------


def check_in(site: Site, child: Child | int, room: Room | int, at: dt.datetime | None = None,
             reservation: Reservation | int | None = None,
             program: str | None = None) -> Attendance:
    """Check a child in. Refused if the child is in already (today, not checked out).

    With no reservation given, a booked reservation of the child in that room today
    that has no check-in yet is linked. Records the core visit in the same transaction.
    """
    at = _now(at)
    day = _day(site, at)
    with write_transaction():
        child = _child(site, child, lock=True)
        if not child.active:
            raise Invalid({"child_id": _("{child} is no longer registered for childcare.")
                           .format(child=child.person.full_name)})
        res = None
        if reservation is not None:
            res = Reservation.get_or_none(
                (Reservation.id == (reservation if isinstance(reservation, int)
                                    else reservation.id)) & (Reservation.site == site))
            if res is None or res.child_id != child.id or res.status != BOOKED \
                    or res.day != day:
                raise Invalid({"reservation_id": _("This is not a booked place of {child} "
                                                   "today.").format(child=child.person.full_name)})
            program = res.program
        room_row = _room(site, room if room is not None else res.room_id)
        program = program or DROPIN
        if program not in PROGRAMS:
            raise Invalid({"program": _("Choose a program.")})
        open_ = (Attendance.select()
                 .where((Attendance.child == child) & (Attendance.day == day)
                        & Attendance.checked_out_at.is_null()).first())
        if open_ is not None:
            raise Invalid({"child_id": _("{child} is already checked in (since {time}).")
                           .format(child=child.person.full_name,
                                   time=hhmm(site, open_.checked_in_at))})
        if res is None and program in RESERVABLE:
            attended = Attendance.select(Attendance.reservation).where(
                (Attendance.child == child) & (Attendance.day == day)
                & Attendance.reservation.is_null(False))
            res = (Reservation.select()
                   .where((Reservation.child == child) & (Reservation.day == day)
                          & (Reservation.room == room_row.id) & (Reservation.status == BOOKED)
                          & (Reservation.program == program)
                          & Reservation.id.not_in(attended))
                   .order_by(Reservation.start_at).first())
        att = Attendance.create(site=site, child=child, reservation=res, room=room_row,
                                program=program, day=day, checked_in_at=at,
                                lunch=bool(res and res.lunch), snack=bool(res and res.snack))
        from hubcore.reports import record_visit

        record_visit(site, child.person_id, VISIT_PROGRAM, day,
                     session_key(program, room_row.id, day), at)
        return att


def not_authorised(child: Child, who: str = "") -> Invalid:
    return Invalid({"pickup": _("{who} is not authorised to collect {child}.").format(
        who=who or _("This person"), child=child.person.full_name)})


def check_out(site: Site, attendance: Attendance | int, pickup_person_id: int | None,
              at: dt.datetime | None = None, *, name: str = "") -> Attendance:
    """Check a child out, collected by one of the child's active pickup people.

    Anyone else (``pickup_person_id`` None — "someone else", whose ``name`` the message
    may give — or a person of another child, or one no longer active) is refused with
    Invalid on "pickup" and nothing is saved. After the site's closing time the late
    minutes are recorded.
    """
    at = _now(at)
    aid = attendance.id if isinstance(attendance, Attendance) else attendance
    with write_transaction():
        att = db.get_in_site(Attendance, site, aid)
        child = _child(site, att.child_id)
        pickup = None
        if pickup_person_id is not None:
            pickup = PickupPerson.get_or_none(PickupPerson.id == pickup_person_id)
        if pickup is None or pickup.child_id != child.id or not pickup.active:
            raise not_authorised(child, pickup.name if pickup is not None else name)
        if att.checked_out_at is not None:
            raise Invalid({"attendance": _("{child} was checked out at {time}.").format(
                child=child.person.full_name, time=hhmm(site, att.checked_out_at))})
        if at < att.checked_in_at:
            raise Invalid({"at": _("The check-out cannot be before the check-in ({time}).")
                           .format(time=hhmm(site, att.checked_in_at))})
        late = late_minutes(site, att.day, at, get_settings(site))
        changed = (Attendance.update(checked_out_at=at, picked_up_by=pickup.id,
                                     picked_up_name=pickup.name, late_minutes=late)
                   .where((Attendance.id == att.id) & Attendance.checked_out_at.is_null())
                   .execute())
        if not changed:  # another tablet checked the child out a moment ago
            raise Invalid({"attendance": _("{child} was checked out already.").format(
                child=child.person.full_name)})
        return Attendance.get_by_id(att.id)


def dropin_now(site: Site, room_id: int, at: dt.datetime) -> sessions.Sitting | None:
    """The drop-in session running in the room at ``at`` (its start included, its end
    not), if any."""
    for s in sessions.sittings(site, at, at + dt.timedelta(minutes=1), room_id=room_id,
                               kinds=(DROPIN,)):
        if s.start <= at < s.end:
            return s
    return None


def walk_in(site: Site, child: Child | int, room: Room | int, at: dt.datetime | None = None,
            until: dt.time | dt.datetime | str | None = None, lunch: bool = False,
            snack: bool = False) -> Attendance:
    """A child with no reservation arrives at drop-in care: book a place from now (to the
    minute) until ``until`` (default: the end of the drop-in session running now in the
    room) and check the child in on it, in one transaction.

    The place is reserved with ``waitlist=False``, so a full session refuses with the
    reservation's message. Any refusal — the reservation's, or the check-in's (the child
    is in already) — rolls both back: nothing is saved.
    """
    at = _now(at)
    day = _day(site, at)
    start = at.astimezone(site_zone(site)).replace(second=0, microsecond=0)
    with write_transaction():
        # The child, then the room: check_in's lock order, so a walk-in and a check-in of
        # the same child never wait on each other crosswise. reserve and check_in below
        # nest as savepoints and find both locks already held.
        child_row = _child(site, child, lock=True)
        room_row = _room(site, room)
        if until is None:
            sitting = dropin_now(site, room_row.id, start)
            if sitting is None:
                raise Invalid({"room_id": _("{room} has no drop-in session running now.")
                               .format(room=room_row.name)})
            until = sitting.end
        place = reserve(site, child_row, room_row.id, day, start, until, lunch=lunch,
                        snack=snack, program=DROPIN, waitlist=False, now=at)
        return check_in(site, child_row, room_row, at=at, reservation=place)


def walk_in_choices(site: Site, at: dt.datetime | None = None
                    ) -> tuple[list[Child], list[tuple[Room, list[sessions.Sitting]]]]:
    """What the walk-in form offers: active children not in right now (in kana order),
    and rooms with a drop-in session running now or later today, with those sittings."""
    at = _now(at)
    day = _day(site, at)
    inside = (Attendance.select(Attendance.child)
              .where((Attendance.site == site) & (Attendance.day == day)
                     & Attendance.checked_out_at.is_null()))
    children = list(Child.select(Child, Person).join(Person)
                    .where((Child.site == site) & Child.active & Child.id.not_in(inside))
                    .order_by(Person.kana_key, Child.id))
    midnight = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), site_zone(site))
    by_room: dict[int, list[sessions.Sitting]] = {}
    for s in sessions.sittings(site, at, midnight, kinds=(DROPIN,)):
        by_room.setdefault(s.room_id, []).append(s)
    rooms = {r.id: r for r in Room.select().where(Room.id.in_(list(by_room) or [0]))}
    order = sorted(by_room, key=lambda i: (rooms[i].sort_order, rooms[i].name, i))
    return children, [(rooms[i], sorted(by_room[i], key=lambda s: s.start)) for i in order]


@dataclass
class Expected:
    """A child expected (or present) today, with the place and the latest stay."""

    child: Child
    program: str
    room: Room
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    reservation: Reservation | None = None
    attendance: Attendance | None = None

    @property
    def state(self) -> str:
        if self.attendance is None:
            return EXPECTED
        return IN if self.attendance.checked_out_at is None else OUT

    @property
    def key(self) -> str:
        if self.reservation is not None:
            return f"r{self.reservation.id}"
        if self.program == AFTERSCHOOL and self.attendance is None:
            return f"e{self.child.id}"
        return f"a{self.attendance.id}" if self.attendance else f"c{self.child.id}"


def _enrolled(site: Site, day: dt.date) -> list[Child]:
    month = day.replace(day=1)
    return list(Child.select(Child, Person).join(Person).switch(Child).join(Enrolment)
                .where((Enrolment.site == site) & (Enrolment.first_month <= month)
                       & (Enrolment.last_month.is_null() | (Enrolment.last_month >= month))
                       & Child.active)
                .distinct())


def expected_today(site: Site, day: dt.date | None = None) -> list[Expected]:
    """Who is expected on ``day`` (default today) and in what state: booked places of the
    day, children enrolled in the after-school club this month on a day with an
    after-school session, and anyone checked in without either (a walk-in). Each with
    its latest stay: expected, in or out. In order of kana name, those gone home last."""
    day = day or _day(site, utcnow())
    rooms: dict[int, Room] = {}

    def room_of(rid: int) -> Room:
        if rid not in rooms:
            rooms[rid] = Room.get_by_id(rid)
        return rooms[rid]

    out: list[Expected] = []
    reserved = list(Reservation.select(Reservation, Child, Person).join(Child).join(Person)
                    .where((Reservation.site == site) & (Reservation.day == day)
                           & (Reservation.status == BOOKED)))
    for r in reserved:
        out.append(Expected(r.child, r.program, room_of(r.room_id), r.start_at, r.end_at, r))
    club = sessions.sittings(site, day, day + dt.timedelta(days=1), kinds=(AFTERSCHOOL,))
    if club:
        first = min(club, key=lambda s: s.start)
        booked_club = {r.child_id for r in reserved if r.program == AFTERSCHOOL}
        for child in _enrolled(site, day):
            if child.id not in booked_club:
                out.append(Expected(child, AFTERSCHOOL, room_of(first.room_id), first.start,
                                    first.end))
    stays = list(Attendance.select(Attendance, Child, Person).join(Child).join(Person)
                 .where((Attendance.site == site) & (Attendance.day == day))
                 .order_by(Attendance.checked_in_at, Attendance.id))
    by_res = {e.reservation.id: e for e in out if e.reservation is not None}
    by_club = {e.child.id: e for e in out if e.reservation is None}
    for a in stays:  # later stays replace earlier ones: the latest decides the state
        e = by_res.get(a.reservation_id) if a.reservation_id else None
        if e is None and a.program == AFTERSCHOOL:
            e = by_club.get(a.child_id)
        if e is None:
            walk_in = next((x for x in out if x.reservation is None and x.attendance
                            and x.child.id == a.child_id and x.program == a.program), None)
            if walk_in is None:
                out.append(Expected(a.child, a.program, room_of(a.room_id), attendance=a))
                continue
            e = walk_in
        e.attendance = a
    # Gone home last: the desk scrolls past fewer cards; otherwise kana order, so a card
    # keeps its place when the child checks in.
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    out.sort(key=lambda e: (e.state == OUT, e.child.person.kana_key, e.start or far, e.key))
    return out


def present(site: Site, day: dt.date | None = None) -> list[Attendance]:
    """Children checked in and not yet out on ``day``."""
    day = day or _day(site, utcnow())
    return list(Attendance.select().where((Attendance.site == site) & (Attendance.day == day)
                                          & Attendance.checked_out_at.is_null()))


# --- staff -----------------------------------------------------------------------


def _staff(site: Site, staff: Staff | int) -> Staff:
    sid = staff if isinstance(staff, int) else staff.id
    q = Staff.select().where((Staff.id == sid) & (Staff.site == site))
    if db.is_postgres():
        q = q.for_update()  # one desk at a time moves a member of staff
    found = q.first()
    if found is None:
        raise Invalid({"staff_id": _("Choose a member of staff of this site.")})
    return found


def _open_staff(staff: Staff, day: dt.date) -> StaffAttendance | None:
    return (StaffAttendance.select()
            .where((StaffAttendance.staff == staff) & (StaffAttendance.day == day)
                   & StaffAttendance.checked_out_at.is_null()).first())


def staff_check_in(site: Site, staff: Staff | int, room: Room | int,
                   at: dt.datetime | None = None) -> StaffAttendance:
    """A member of staff starts in a room. Refused if they are in a room already."""
    at = _now(at)
    day = _day(site, at)
    with write_transaction():
        member = _staff(site, staff)
        if not member.active:
            raise Invalid({"staff_id": _("{name} is no longer active.").format(
                name=member.name)})
        current = _open_staff(member, day)
        if current is not None:
            raise Invalid({"staff_id": _("{name} is already in {room}.").format(
                name=member.name, room=current.room.name)})
        room_row = _room(site, room)
        return StaffAttendance.create(site=site, staff=member, room=room_row, day=day,
                                      checked_in_at=at)


def staff_check_out(site: Site, staff: Staff | int,
                    at: dt.datetime | None = None) -> StaffAttendance:
    """A member of staff leaves the room they are in."""
    at = _now(at)
    with write_transaction():
        member = _staff(site, staff)
        current = _open_staff(member, _day(site, at))
        if current is None:
            raise Invalid({"staff_id": _("{name} is not checked in.").format(name=member.name)})
        if at < current.checked_in_at:
            raise Invalid({"at": _("The check-out cannot be before the check-in ({time}).")
                           .format(time=hhmm(site, current.checked_in_at))})
        StaffAttendance.update(checked_out_at=at).where(
            StaffAttendance.id == current.id).execute()
        current.checked_out_at = at
        return current


def staff_move(site: Site, staff: Staff | int, room: Room | int,
               at: dt.datetime | None = None) -> StaffAttendance:
    """Move a member of staff to ``room``: out of the room they are in (if any) and into
    the new one at the same moment, in one transaction."""
    at = _now(at)
    with write_transaction():
        member = _staff(site, staff)
        current = _open_staff(member, _day(site, at))
        if current is not None:
            if current.room_id == (room if isinstance(room, int) else room.id):
                return current
            staff_check_out(site, member, at)
        return staff_check_in(site, member, room, at)


@dataclass
class StaffState:
    staff: Staff
    current: StaffAttendance | None  # the room they are in now, if any


def staff_today(site: Site, day: dt.date | None = None) -> list[StaffState]:
    """Active staff of the site (and anyone in today), each with the room they are in."""
    day = day or _day(site, utcnow())
    open_rows = {a.staff_id: a for a in StaffAttendance.select(StaffAttendance, Room)
                 .join(Room).where((StaffAttendance.site == site) & (StaffAttendance.day == day)
                                   & StaffAttendance.checked_out_at.is_null())}
    members = (Staff.select().where((Staff.site == site)
                                    & (Staff.active | Staff.id.in_(list(open_rows) or [0])))
               .order_by(Staff.name_kana, Staff.name, Staff.id))
    return [StaffState(m, open_rows.get(m.id)) for m in members]


# --- 親子ひろば ------------------------------------------------------------------


def change_head_count(site: Site, room: Room | int, day: dt.date, hour: int, *,
                      children: int = 0, adults: int = 0) -> HeadCount:
    """Add (or with negative numbers remove) children and adults who came to the open
    space in ``room`` during ``hour`` of ``day``. A count never goes below 0."""
    if not (isinstance(hour, int) and 0 <= hour <= 23):
        raise Invalid({"hour": _("Choose an hour from 0 to 23.")})
    with write_transaction():
        room_row = _room(site, room)  # locked on PostgreSQL: two counters never lose a tap
        row, _new = HeadCount.get_or_create(site=site, room=room_row, day=day, hour=hour)
        row.children = max(0, row.children + children)
        row.adults = max(0, row.adults + adults)
        HeadCount.update(children=row.children, adults=row.adults).where(
            HeadCount.id == row.id).execute()
        return row


def head_counts(site: Site, day: dt.date, room: Room | int | None = None) -> list[HeadCount]:
    q = HeadCount.select().where((HeadCount.site == site) & (HeadCount.day == day))
    if room is not None:
        q = q.where(HeadCount.room == (room if isinstance(room, int) else room.id))
    return list(q.order_by(HeadCount.room, HeadCount.hour))


def hiroba_rooms(site: Site, day: dt.date) -> list[tuple[Room, list[sessions.Sitting]]]:
    """Rooms with a 親子ひろば session on ``day``, with their sittings."""
    sits = sessions.sittings(site, day, day + dt.timedelta(days=1), kinds=(HIROBA,))
    by_room: dict[int, list[sessions.Sitting]] = {}
    for s in sits:
        by_room.setdefault(s.room_id, []).append(s)
    rooms = {r.id: r for r in Room.select().where(Room.id.in_(list(by_room) or [0]))}
    return [(rooms[rid], by_room[rid]) for rid in sorted(
        by_room, key=lambda i: (rooms[i].sort_order, rooms[i].name))]
