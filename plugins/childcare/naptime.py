"""The nap-time rule (午睡): nothing loud next to a room where children sleep.

Rooms next to each other are the core calendar's room data (``set_adjacent``). A
booking marked loud (music, sports) is refused where a nap session runs at the same
time in a room next to it, and a nap session is refused where a loud booking already
runs next door. The room itself counts too: a shareable nap room takes no loud
booking during the nap. Times are compared with buffers (setup and cleanup): the
drums are set up before the class starts.

Called by the core inside the booking's write transaction, after the room lock.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from hubcore import db
from hubcore.calendar.models import Booking, RoomAdjacency, to_utc
from hubcore.calendar.operations import Slot, site_zone
from hubcore.calendar.schemas import MAX_BLOCK
from hubcore.i18n import gettext as _
from hubcore.rooms.models import Room
from hubcore.sites.models import Site
from plugins.childcare import sessions
from plugins.childcare.models import NAP, Session


def validate_booking(site: Site, booking: Booking, occurrences: Sequence[Slot]
                     ) -> list[str] | None:
    """Messages refusing ``booking`` under the nap-time rule, or None.

    No query at all for a quiet booking that is not a nap session (most bookings).
    """
    if not occurrences:
        return None
    nap = _is_nap(booking)
    loud = bool(booking.loud) and not nap
    if not (nap or loud):
        return None
    near = _neighbourhood({s.room_id for s in occurrences})
    rooms = set().union(*near.values())
    lo = min(s.block_start for s in occurrences)
    hi = max(s.block_end for s in occurrences)
    rows = _rows(site, rooms, lo, hi, want_naps=loud, exclude=booking.id)
    clashes = _clashes(occurrences, near, rows)
    if not clashes:
        return None
    return [_message(site, clashes, nap)]


def _is_nap(booking: Booking) -> bool:
    """A nap session being created (``writing_kind``) or an existing one being changed."""
    kind = sessions.writing_kind.get()
    if kind is None and booking.id is not None:
        kind = (Session.select(Session.kind).where(Session.booking == booking.id)
                .scalar())
    return kind == NAP


def _neighbourhood(room_ids: set[int]) -> dict[int, set[int]]:
    """Each room with the rooms next to it (and itself), in one query."""
    near = {rid: {rid} for rid in room_ids}
    q = RoomAdjacency.select(RoomAdjacency.room_a, RoomAdjacency.room_b).where(
        RoomAdjacency.room_a.in_(list(room_ids)) | RoomAdjacency.room_b.in_(list(room_ids)))
    for a, b in q.tuples():
        if a in near:
            near[a].add(b)
        if b in near:
            near[b].add(a)
    return near


def _time(value: dt.datetime) -> Any:
    """A parameter for raw SQL, stored the way UTCField stores it."""
    utc = value.astimezone(dt.UTC).replace(tzinfo=None, microsecond=0)
    return utc.isoformat(" ") if db.is_sqlite() else utc


# (room_id, block_start, block_end, start, end, title), times aware UTC
_RowT = tuple[int, dt.datetime, dt.datetime, dt.datetime, dt.datetime, str]


def _rows(site: Site, rooms: set[int], lo: dt.datetime, hi: dt.datetime, *,
          want_naps: bool, exclude: int | None) -> list[_RowT]:
    """Live occurrences in ``rooms`` whose block overlaps [lo, hi): nap sessions
    (``want_naps``) or loud bookings. One query on the (room, block_start) index."""
    p = db.database.obj.param
    rp = ", ".join([p] * len(rooms))
    if want_naps:
        join = f"JOIN childcare_session s ON s.booking_id = o.booking_id AND s.kind = {p} "
        args: list[Any] = [NAP]
        which = ""
    else:
        join, args, which = "", [], f"AND b.loud = {p} "
    sql = ("SELECT o.room_id, o.block_start, o.block_end, o.start_at, o.end_at, "
           "COALESCE(o.title, b.title) FROM booking_occurrence o "
           f"JOIN booking b ON b.id = o.booking_id {join}"
           f"WHERE o.site_id = {p} AND o.room_id IN ({rp}) AND o.block_start >= {p} "
           f"AND o.block_start < {p} AND o.block_end > {p} AND o.cancelled = {p} "
           f"AND b.status <> {p} {which}")
    args += [site.id, *sorted(rooms), _time(lo - MAX_BLOCK), _time(hi), _time(lo), False,
             "cancelled"]
    if not want_naps:
        args.append(True)
    if exclude is not None:
        sql += f"AND o.booking_id <> {p} "
        args.append(exclude)
    return [(room, to_utc(bs), to_utc(be), to_utc(s), to_utc(e), title)
            for room, bs, be, s, e, title in db.database.execute_sql(sql + "ORDER BY 2", args)]


def _clashes(slots: Sequence[Slot], near: dict[int, set[int]], rows: list[_RowT]
             ) -> list[tuple[Slot, _RowT]]:
    """Pairs of a slot and a row next to it whose blocks overlap, in time order.

    Rows are sorted per room by block start; a block lasts MAX_BLOCK at most, so each
    slot looks only at the rows that start within that distance (a year of weekly
    slots against a year of naps stays linear).
    """
    by_room: dict[int, list[_RowT]] = defaultdict(list)
    for r in rows:
        by_room[r[0]].append(r)
    starts = {room: [r[1] for r in rs] for room, rs in by_room.items()}
    out = []
    for s in sorted(slots, key=lambda s: s.block_start):
        s_lo, s_hi = s.block_start.astimezone(dt.UTC), s.block_end.astimezone(dt.UTC)
        for room in near.get(s.room_id, ()):
            rs = by_room.get(room)
            if not rs:
                continue
            first = bisect.bisect_left(starts[room], s_lo - MAX_BLOCK)
            last = bisect.bisect_left(starts[room], s_hi)
            out += [(s, r) for r in rs[first:last] if r[2] > s_lo]
    return out


def _message(site: Site, clashes: list[tuple[Slot, _RowT]], nap: bool) -> str:
    tz = site_zone(site)
    _slot, row = clashes[0]
    room = Room.get_by_id(row[0]).name
    start, end = row[3].astimezone(tz), row[4].astimezone(tz)
    when = f"{start.date().isoformat()} {start:%H:%M}–{end:%H:%M}"
    if nap:
        text = _("{room} has a loud booking (“{title}”) on {when}, during this nap time. "
                 "Choose another time or room.").format(room=room, title=row[5], when=when)
    else:
        text = _("Children nap in {room} on {when}: nothing loud next door then. "
                 "Choose another time or room.").format(room=room, when=when)
    more = len({s.recurrence_id for s, _r in clashes}) - 1
    if more:
        text += " " + _("({n} more)").format(n=more)
    return text
