"""The core's calendar: bookings of rooms by every program, holidays, ICS."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class CalendarEntry:
    """A read-only entry a plugin shows in the calendar (``calendar_entries`` hook)."""

    title: str
    start: dt.datetime
    end: dt.datetime
    program: str
    room_id: int | None = None
    all_day: bool = False
    url: str | None = None
