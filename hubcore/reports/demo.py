"""Demo visits (``hubcore demo``): attendance at the demo's past calendar bookings.

The demo has no program plugin, so its only activities are the calendar's demo
bookings (program "calendar"). For each occurrence that has already taken place,
some of the site's demo people who plausibly go to it (small children to 親子ひろば,
elderly people to デイサービス, everyone to こども食堂) are recorded as visits of
that booking's program, with the occurrence as the session. Invented like the rest
of the demo; deterministic, and idempotent like ``record_visits``.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from zoneinfo import ZoneInfo

from hubcore.calendar.models import Booking, BookingOccurrence
from hubcore.db import utcnow
from hubcore.reports.visits import VisitIn, booking_session, record_visits

Ages = Callable[[int], bool]

# The calendar demo's booking keys (calendar/demo.py) → who comes.
WHO: dict[str, Ages] = {
    "oyako": lambda a: a <= 5 or 25 <= a <= 45,
    "day-service": lambda a: a >= 65,
    "nap": lambda a: a <= 5,
    "kodomo-shokudo": lambda a: True,
    "cooking": lambda a: a >= 19,
    "homework": lambda a: 6 <= a <= 17 or a >= 65,  # retired teachers help
    "kosodate-soudan": lambda a: 20 <= a <= 49,
    "taiso": lambda a: a >= 60,
    "telework": lambda a: 19 <= a <= 64,
    "akiya": lambda a: a >= 19,
    "engawa-cafe": lambda a: True,
}


def load(site, people) -> int:
    """Record the demo visits of ``site``; returns how many were new."""
    rng = random.Random(f"visits-{site.slug}")
    tz_now = utcnow()
    tz = ZoneInfo(site.timezone or "Asia/Tokyo")
    prefix = f"demo-{site.slug}-"
    bookings = {b.id: b for b in Booking.select().where(
        (Booking.site == site) & Booking.uid.startswith(prefix))}
    if not bookings or not people:
        return 0
    occurrences = (BookingOccurrence.select()
                   .where(BookingOccurrence.booking.in_(list(bookings))
                          & (BookingOccurrence.start_at < tz_now) & ~BookingOccurrence.cancelled)
                   .order_by(BookingOccurrence.start_at))
    visits = []
    for o in occurrences:
        b = bookings[o.booking_id]
        key = b.uid.removeprefix(prefix).removesuffix("@hubcore")
        local = o.start_at.astimezone(tz)
        who = WHO.get(key, lambda a: True)
        fits = [p for p in people if p.birth_date and who(p.age_on(local.date()))]
        if not fits:
            continue
        n = min(len(fits), max(1, round(b.attendance * rng.uniform(0.5, 0.9))))
        for p in rng.sample(fits, n):
            visits.append(VisitIn(p.id, b.program, booking_session(b.id, o.recurrence_id),
                                  local.date(), o.start_at))
    return record_visits(site, visits)
