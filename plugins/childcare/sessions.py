"""Childcare sessions: bookings in the core calendar (program "childcare") with a kind.

A session is written through ``hubcore.calendar.operations.create_booking``, so it is
checked against opening hours, conflicts and every plugin's ``validate_booking`` like
any booking, and shows in the calendar and its ICS feeds.
"""

from __future__ import annotations

import contextvars
import datetime as dt
from dataclasses import dataclass
from typing import Any

from hubcore.calendar import operations as cal
from hubcore.calendar.models import Booking
from hubcore.db import get_in_site, write_transaction
from hubcore.errors import Invalid
from hubcore.i18n import gettext as _
from hubcore.sites.models import Site
from plugins.childcare.models import NAP, SESSION_KINDS, CareRoom, Session

PROGRAM = "childcare"  # the calendar program of every session

# The kind of the session being written: validate_booking runs before the Session row
# exists (the booking has no id yet), so create_session says it here.
writing_kind: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "childcare_writing_kind", default=None)


@dataclass(frozen=True)
class Sitting:
    """One occurrence of a session: when and where children can be in care."""

    session_id: int
    booking_id: int
    kind: str
    room_id: int
    start: dt.datetime  # site's zone
    end: dt.datetime
    capacity: int
    recurrence_id: dt.datetime | None = None  # the occurrence (cancel "this one")
    title: str = ""


def create_session(site: Site, kind: str, data: dict[str, Any], *,
                   capacity: int | None = None, override: bool = False,
                   skip_conflicts: bool = False, skip_closed: bool = False,
                   uid: str | None = None):
    """Book a session: ``data`` is a calendar ``BookingIn`` (room, title, start, end,
    rrule…); ``program`` is set to childcare. Returns the ``Session``.

    Raises what ``create_booking`` raises (Invalid, OutsideHours, BookingConflict; the
    nap-time rule's refusal is an Invalid under "__all__"); ``skip_*`` and ``uid`` are
    passed on (the demo books a series around closed days with them).
    """
    if kind not in SESSION_KINDS:
        raise Invalid({"kind": _("Choose the kind of session.")})
    if capacity is not None and capacity < 1:
        raise Invalid({"capacity": _("Enter 1 or more.")})
    token = writing_kind.set(kind)
    try:
        with write_transaction():
            booking = cal.create_booking(site, {**data, "program": PROGRAM,
                                                "loud": bool(data.get("loud")) and kind != NAP},
                                         override=override, skip_conflicts=skip_conflicts,
                                         skip_closed=skip_closed, uid=uid)
            return Session.create(site=site, booking=booking, kind=kind, capacity=capacity)
    finally:
        writing_kind.reset(token)


def adopt_booking(site: Site, booking: Booking, kind: str,
                  capacity: int | None = None) -> Session:
    """Make an existing calendar booking of the site a childcare session of ``kind``
    (its program becomes childcare; checked again like any change, so a nap next to a
    loud booking is refused). A booking that is a session already keeps its kind."""
    if kind not in SESSION_KINDS:
        raise Invalid({"kind": _("Choose the kind of session.")})
    booking = cal.get_booking(site, booking.id)  # NotFound for another site's
    found = Session.get_or_none(Session.booking == booking.id)
    if found is not None:
        return found
    token = writing_kind.set(kind)
    try:
        with write_transaction():
            changes: dict[str, Any] = {"program": PROGRAM}
            if kind == NAP and booking.loud:
                changes["loud"] = False
            booking = cal.update_booking(booking, changes)
            return Session.create(site=site, booking=booking, kind=kind, capacity=capacity)
    finally:
        writing_kind.reset(token)


def get_session(site: Site, session_id: Any) -> Session:
    """The session with this id at ``site``; NotFound for another site's."""
    return get_in_site(Session, site, session_id)


def cancel_session(session: Session, scope: str = "all",
                   recurrence_id: dt.datetime | None = None) -> Session:
    """Cancel a session through the calendar: ``scope`` "all" (the series), "this" (one
    occurrence, ``recurrence_id``) or "following". Reservations stay as they are: staff
    tell the families and cancel them."""
    cal.cancel_booking(session.booking, scope=scope, recurrence_id=recurrence_id)
    return session


def sittings(site: Site, start: dt.datetime | dt.date, end: dt.datetime | dt.date,
             room_id: int | None = None, kinds: tuple[str, ...] | None = None) -> list[Sitting]:
    """Session occurrences overlapping [start, end), with their capacity."""
    occs = cal.occurrences(site, start, end, room=room_id, programs=[PROGRAM])
    if not occs:
        return []
    by_booking = {s.booking_id: s for s in
                  Session.select().where(Session.booking.in_({o.booking_id for o in occs}))}
    room_caps = dict(CareRoom.select(CareRoom.room, CareRoom.capacity)
                     .where(CareRoom.room.in_({o.room_id for o in occs})).tuples())
    out = []
    for o in occs:
        s = by_booking.get(o.booking_id)
        if s is None or (kinds is not None and s.kind not in kinds):
            continue
        cap = s.capacity or room_caps.get(o.room_id) or o.attendance
        out.append(Sitting(s.id, o.booking_id, s.kind, o.room_id, o.start, o.end, cap,
                           o.recurrence_id, o.title))
    return out


def sitting_covering(site: Site, room_id: int, start: dt.datetime, end: dt.datetime,
                     kinds: tuple[str, ...]) -> Sitting | None:
    """The session of one of ``kinds`` in the room that covers [start, end), if any."""
    for s in sittings(site, start, end, room_id=room_id, kinds=kinds):
        if s.start <= start and end <= s.end:
            return s
    return None
