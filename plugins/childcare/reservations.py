"""Reservations: a place for a child in a session, or a place on the waitlist.

A room's capacity is the capacity of the session (sitting) the place lies in, counted
as the peak number of booked children present at the same moment (a sweep, not a sum:
9–12 and 13–17 share one place). Every write that counts places locks the room first
(BEGIN IMMEDIATE on SQLite, ``SELECT … FOR UPDATE`` of the room row on PostgreSQL) and
counts inside the same transaction, so two staff can never both take the last place.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from hubcore import db
from hubcore.calendar.operations import site_zone
from hubcore.db import utcnow, write_transaction
from hubcore.errors import Invalid
from hubcore.forms import nfkc
from hubcore.i18n import N_
from hubcore.i18n import gettext as _
from hubcore.people.models import Person
from hubcore.rooms.models import Room
from hubcore.sites.models import Site
from hubcore.sites.operations import site_today  # noqa: F401  (res.site_today)
from plugins.childcare import sessions
from plugins.childcare.models import (
    AFTERSCHOOL,
    BOOKED,
    CANCELLED,
    DROPIN,
    WAITLISTED,
    Child,
    Reservation,
)

# Programs with places to reserve, each inside a session of its own kind.
RESERVABLE = (DROPIN, AFTERSCHOOL)


class ReservationIn(BaseModel):
    """The reservation form (staff enter a guardian's request)."""

    model_config = ConfigDict(extra="forbid")

    child_id: int = Field(title=N_("Child"), gt=0)
    room_id: int = Field(title=N_("Room"), gt=0)
    day: dt.date = Field(title=N_("Day"))
    start: dt.time = Field(title=N_("Start time"))
    end: dt.time = Field(title=N_("End time"))
    lunch: bool = Field(False, title=N_("Lunch"))
    snack: bool = Field(False, title=N_("Snack"))
    program: Literal["dropin", "afterschool"] = Field(DROPIN, title=N_("Program"))
    # Put the request on the waitlist when the session is full (else refuse it).
    waitlist: bool = Field(False, title=N_("Waitlist if full"))
    notes: str = Field("", title=N_("Notes"), max_length=300)

    @field_validator("child_id", "room_id", "day", "start", "end", mode="before")
    @classmethod
    def _half_width(cls, v):
        return nfkc(v)

    @field_validator("lunch", "snack", "waitlist", mode="before")
    @classmethod
    def _checkbox(cls, v):
        return True if v == "on" else v


# --- time helpers ----------------------------------------------------------------


def _at(site: Site, day: dt.date, value: dt.time | dt.datetime | str) -> dt.datetime:
    """A time on ``day`` (``dt.time`` or "HH:MM": the site's wall clock; a datetime: as
    given, naive meaning the site's zone), aware in the site's zone."""
    tz = site_zone(site)
    if isinstance(value, str):
        value = dt.time.fromisoformat(value)
    if isinstance(value, dt.time):
        return dt.datetime.combine(day, value.replace(tzinfo=None), tz)
    return value.replace(tzinfo=tz) if value.tzinfo is None else value.astimezone(tz)


def _local(site: Site, value: dt.datetime) -> dt.datetime:
    return value.astimezone(site_zone(site))


def hhmm(site: Site, value: dt.datetime) -> str:
    return _local(site, value).strftime("%H:%M")


# --- counting --------------------------------------------------------------------


def peak(spans: Iterable[tuple[dt.datetime, dt.datetime]]) -> int:
    """The most spans running at one moment. Spans are half-open: one ending at 12:00
    and another starting at 12:00 never meet."""
    events = []
    for start, end in spans:
        events.append((start, 1))
        events.append((end, -1))
    # At the same instant an end (-1) sorts before a start (+1).
    events.sort()
    now = best = 0
    for _t, step in events:
        now += step
        best = max(best, now)
    return best


def _booked_spans(room_id: int, day: dt.date, start: dt.datetime, end: dt.datetime,
                  exclude: int | None = None) -> list[tuple[dt.datetime, dt.datetime]]:
    q = (Reservation.select(Reservation.start_at, Reservation.end_at)
         .where((Reservation.room == room_id) & (Reservation.day == day)
                & (Reservation.status == BOOKED) & (Reservation.start_at < end)
                & (Reservation.end_at > start)))
    if exclude is not None:
        q = q.where(Reservation.id != exclude)
    return list(q.tuples())


def _fits(room_id: int, day: dt.date, start: dt.datetime, end: dt.datetime, capacity: int,
          exclude: int | None = None) -> bool:
    """Whether one more child fits in [start, end) next to the booked ones."""
    return peak([*_booked_spans(room_id, day, start, end, exclude), (start, end)]) <= capacity


def _lock_room(site: Site, room_id: int) -> Room:
    """The room, its row locked until the transaction ends on PostgreSQL; on SQLite the
    caller's BEGIN IMMEDIATE already holds the only write lock. NotFound-like Invalid for
    a room of another site."""
    q = Room.select().where((Room.id == room_id) & (Room.site == site))
    if db.is_postgres():
        q = q.for_update()
    room = q.first()
    if room is None:
        raise Invalid({"room_id": _("Choose a room of this site.")})
    return room


# --- writing ---------------------------------------------------------------------


def _child_name(child: Child) -> str:
    return child.person.full_name


def reserve(site: Site, child: Child | int, room: Room | int, day: dt.date,
            start: dt.time | dt.datetime | str, end: dt.time | dt.datetime | str, *,
            lunch: bool = False, snack: bool = False, program: str = DROPIN,
            waitlist: bool = True, notes: str = "",
            now: dt.datetime | None = None) -> Reservation:
    """Reserve a place for ``child`` in ``room`` on ``day`` from ``start`` to ``end``.

    The place must lie inside a session of the program in that room. When the session is
    full the request goes on the waitlist (status "waitlisted", in order of request), or
    is refused when ``waitlist`` is False. A child never holds two overlapping
    reservations (booked or waitlisted). Raises Invalid naming the field.
    """
    child = _child_of(site, child)
    room_id = room if isinstance(room, int) else room.id
    if program not in RESERVABLE:
        raise Invalid({"program": _("Choose drop-in care or the after-school club.")})
    start_at, end_at = _at(site, day, start), _at(site, day, end)
    if start_at.date() != day:
        raise Invalid({"start": _("The place must start on the day chosen.")})
    if end_at <= start_at:
        raise Invalid({"end": _("The end must be after the start.")})
    if not child.active:
        raise Invalid({"child_id": _("{child} is no longer registered for childcare.")
                       .format(child=_child_name(child))})
    with write_transaction():
        room_row = _lock_room(site, room_id)
        sitting = sessions.sitting_covering(site, room_id, start_at, end_at, kinds=(program,))
        if sitting is None:
            raise Invalid({"start": _("{room} has no {program} session covering {start}–{end} "
                                      "on this day.").format(
                room=room_row.name, program=program_label(program),
                start=start_at.strftime("%H:%M"), end=end_at.strftime("%H:%M"))})
        clash = (Reservation.select()
                 .where((Reservation.child == child) & (Reservation.day == day)
                        & (Reservation.status != CANCELLED) & (Reservation.start_at < end_at)
                        & (Reservation.end_at > start_at))
                 .first())
        if clash is not None:
            raise Invalid({"start": _("{child} already has a reservation from {start} to {end} "
                                      "on this day.").format(
                child=_child_name(child), start=hhmm(site, clash.start_at),
                end=hhmm(site, clash.end_at))})
        status = BOOKED
        if not _fits(room_id, day, start_at, end_at, sitting.capacity):
            if not waitlist:
                raise Invalid({"start": _("{room} is full from {start} to {end} ({n} children "
                                          "at once).").format(
                    room=room_row.name, start=start_at.strftime("%H:%M"),
                    end=end_at.strftime("%H:%M"), n=sitting.capacity)})
            status = WAITLISTED
        stamp = now or utcnow()
        return Reservation.create(site=site, child=child, room=room_id, program=program,
                                  day=day, start_at=start_at, end_at=end_at, status=status,
                                  lunch=lunch, snack=snack, notes=notes, requested_at=stamp,
                                  created_at=stamp)


def cancel(site: Site, reservation: Reservation | int) -> list[Reservation]:
    """Cancel a reservation (booked or waitlisted) and, in the same transaction, move up
    waitlisted requests of that room and day that now fit. Returns the ones moved up.
    Cancelling a cancelled reservation changes nothing."""
    rid = reservation.id if isinstance(reservation, Reservation) else reservation
    with write_transaction():
        _lock_room(site, db.get_in_site(Reservation, site, rid).room_id)
        # Read again under the lock: another desk may have cancelled it meanwhile.
        r = db.get_in_site(Reservation, site, rid)
        if r.status == CANCELLED:
            return []
        was_booked = r.status == BOOKED
        Reservation.update(status=CANCELLED).where(Reservation.id == r.id).execute()
        if isinstance(reservation, Reservation):
            reservation.status = CANCELLED
        return _promote(site, r.room_id, r.day) if was_booked else []


def _promote(site: Site, room_id: int, day: dt.date) -> list[Reservation]:
    """Book waitlisted requests of a room and day that fit, in order of request.

    Rule: first come, first served among those that fit. Each request in turn is booked
    if a place is free for its whole span; one that does not fit (a longer stay) stays on
    the waitlist and does not block a later one that fits (a shorter or other-time stay),
    so no free place is left empty while someone waiting could use it. The caller holds
    the room's lock.
    """
    moved = []
    waiting = (Reservation.select()
               .where((Reservation.room == room_id) & (Reservation.day == day)
                      & (Reservation.status == WAITLISTED))
               .order_by(Reservation.requested_at, Reservation.id))
    waiting = list(waiting)
    # The room's sessions of the day, read once for the whole waitlist.
    day_sittings = sessions.sittings(site, day, day + dt.timedelta(days=1),
                                     room_id=room_id) if waiting else []
    for w in waiting:
        sitting = next((s for s in day_sittings if s.kind == w.program
                        and s.start <= w.start_at and w.end_at <= s.end), None)
        if sitting is None or not _fits(room_id, day, w.start_at, w.end_at, sitting.capacity):
            continue
        Reservation.update(status=BOOKED).where(Reservation.id == w.id).execute()
        w.status = BOOKED
        moved.append(w)
    return moved


def promote_waitlist(site: Site, room: Room | int, day: dt.date) -> list[Reservation]:
    """Move up whoever fits now (e.g. after a session's capacity was raised)."""
    room_id = room if isinstance(room, int) else room.id
    with write_transaction():
        _lock_room(site, room_id)
        return _promote(site, room_id, day)


def _child_of(site: Site, child: Child | int) -> Child:
    cid = child if isinstance(child, int) else child.id
    found = (Child.select(Child, Person).join(Person)
             .where((Child.id == cid) & (Child.site == site)).first())
    if found is None:
        raise Invalid({"child_id": _("Choose a child registered at this site.")})
    return found


def get_reservation(site: Site, raw_id) -> Reservation:
    return db.get_in_site(Reservation, site, raw_id)


# --- reading ---------------------------------------------------------------------


def program_label(program: str) -> str:
    return {DROPIN: _("drop-in care"), AFTERSCHOOL: _("after-school club"),
            "hiroba": _("parent-and-child space")}.get(program, program)


@dataclass
class RoomDay:
    """A room's reservations on a day: its sessions, the booked places and the waitlist."""

    room: Room
    sittings: list[sessions.Sitting] = field(default_factory=list)
    booked: list[Reservation] = field(default_factory=list)
    waitlisted: list[Reservation] = field(default_factory=list)

    @property
    def capacity(self) -> int:
        return max((s.capacity for s in self.sittings), default=0)

    @property
    def peak(self) -> int:
        return peak((r.start_at, r.end_at) for r in self.booked)


def day_reservations(site: Site, day: dt.date,
                     kinds: tuple[str, ...] = RESERVABLE) -> list[RoomDay]:
    """Each room with a session of ``kinds`` or a reservation on ``day``: its booked
    places by start, its waitlist in order of request. Cancelled ones are left out."""
    sits = sessions.sittings(site, day, day + dt.timedelta(days=1), kinds=kinds)
    rows = list(Reservation.select(Reservation, Child, Person)
                .join(Child).join(Person)
                .where((Reservation.site == site) & (Reservation.day == day)
                       & (Reservation.status != CANCELLED))
                .order_by(Reservation.start_at, Person.kana_key, Reservation.id))
    room_ids = {s.room_id for s in sits} | {r.room_id for r in rows}
    rooms = {r.id: r for r in Room.select().where(Room.id.in_(room_ids))} if room_ids else {}
    out = {rid: RoomDay(rooms[rid]) for rid in sorted(
        room_ids, key=lambda i: (rooms[i].sort_order, rooms[i].name, i))}
    for s in sits:
        out[s.room_id].sittings.append(s)
    for r in rows:
        (out[r.room_id].booked if r.status == BOOKED else out[r.room_id].waitlisted).append(r)
    for rd in out.values():
        rd.waitlisted.sort(key=lambda r: (r.requested_at, r.id))
    return list(out.values())


def waitlist_count(site: Site, day: dt.date) -> int:
    return (Reservation.select()
            .where((Reservation.site == site) & (Reservation.day == day)
                   & (Reservation.status == WAITLISTED)).count())
