"""Room hire (貸室料): what the calendar bills through the core's invoices.

A room with an hourly price in the billing price table (program ``calendar``, code
``room:<id>``) is hired out: each confirmed occurrence in it is billed to the
household of the booking's organiser, hours × the price of that day, tax included.
Rooms without a price, bookings without an organiser or with one outside any
household bill nothing. Prices change with effective dates like every other tariff.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import ROUND_FLOOR, Decimal

from hubcore.billing import LineItem, TaxCategory
from hubcore.billing.operations import PriceBook, add_price
from hubcore.calendar.models import Booking
from hubcore.calendar.operations import occurrences, site_zone
from hubcore.errors import NotFound
from hubcore.people.models import Person
from hubcore.rooms.models import Room
from hubcore.sites.models import Site

PROGRAM = "calendar"


def hire_code(room_id: int) -> str:
    return f"room:{room_id}"


def set_hourly_price(site: Site, room: Room, yen_per_hour: int, valid_from: dt.date,
                     tax: TaxCategory = TaxCategory.STANDARD) -> None:
    """Hire ``room`` out from ``valid_from`` at ``yen_per_hour`` (tax included)."""
    add_price(site, PROGRAM, hire_code(room.id), f"{room.name} 貸室料", yen_per_hour, tax,
              valid_from)


def hire_lines(site: Site, period) -> dict[str, list[LineItem]]:
    """The month's room-hire lines of every household, by payer key (one load per run)."""
    book = PriceBook(site, PROGRAM)
    tz = site_zone(site)
    start = dt.datetime.combine(period.first_day, dt.time(), tz)
    end = dt.datetime.combine(period.last_day + dt.timedelta(days=1), dt.time(), tz)
    occs = [o for o in occurrences(site, start, end) if o.status == "confirmed"]
    if not occs:
        return {}
    ids = sorted({o.booking_id for o in occs})
    households = dict(Booking.select(Booking.id, Person.household)
                      .join(Person, on=(Booking.organiser == Person.id))
                      .where(Booking.id.in_(ids) & Person.household.is_null(False)).tuples())
    out: dict[str, list[LineItem]] = defaultdict(list)
    for o in occs:
        household = households.get(o.booking_id)
        if household is None:
            continue
        try:
            price = book.on(hire_code(o.room_id), o.start.date())
        except NotFound:
            continue  # not a room for hire (on that day)
        hours = (Decimal(int((o.end - o.start).total_seconds())) / 3600).normalize()
        out[f"household:{household}"].append(LineItem(
            program=PROGRAM,
            description=f"{price.label} {o.title} {o.start:%H:%M}–{o.end:%H:%M}",
            amount=int((hours * price.unit_price).to_integral_value(ROUND_FLOOR)),
            tax=TaxCategory(price.tax_category), quantity=hours, unit_price=price.unit_price,
            day=o.start.date(), ref=f"booking:{o.booking_id}:{o.recurrence_id.isoformat()}"))
    return out
