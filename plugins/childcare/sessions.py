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
from hubcore.db import write_transaction
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


def create_session(site: Site, kind: str, data: dict[str, Any], *,
                   capacity: int | None = None, override: bool = False):
    """Book a session: ``data`` is a calendar ``BookingIn`` (room, title, start, end,
    rrule…); ``program`` is set to childcare. Returns the ``Session``."""
    if kind not in SESSION_KINDS:
        raise Invalid({"kind": _("Choose the kind of session.")})
    if capacity is not None and capacity < 1:
        raise Invalid({"capacity": _("Enter 1 or more.")})
    token = writing_kind.set(kind)
    try:
        with write_transaction():
            booking = cal.create_booking(site, {**data, "program": PROGRAM,
                                                "loud": bool(data.get("loud")) and kind != NAP},
                                         override=override)
            return Session.create(site=site, booking=booking, kind=kind, capacity=capacity)
    finally:
        writing_kind.reset(token)


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
        out.append(Sitting(s.id, o.booking_id, s.kind, o.room_id, o.start, o.end, cap))
    return out


def sitting_covering(site: Site, room_id: int, start: dt.datetime, end: dt.datetime,
                     kinds: tuple[str, ...]) -> Sitting | None:
    """The session of one of ``kinds`` in the room that covers [start, end), if any."""
    for s in sittings(site, start, end, room_id=room_id, kinds=kinds):
        if s.start <= start and end <= s.end:
            return s
    return None
