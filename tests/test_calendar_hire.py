"""Room hire: the calendar bills confirmed hours in priced rooms to the organiser's household."""

from __future__ import annotations

import datetime as dt

from hubcore.billing.lines import Month, Payer, TaxCategory
from hubcore.billing.models import Invoice
from hubcore.billing.operations import collect_lines
from hubcore.billing.run import run_month
from hubcore.calendar import operations as ops
from hubcore.calendar.hire import set_hourly_price
from hubcore.people import operations as people
from hubcore.people.schemas import HouseholdIn, PersonIn
from hubcore.rooms import operations as rooms
from hubcore.rooms.schemas import RoomIn


def test_room_hire_is_billed_to_the_organisers_household(site):
    hall = rooms.create_room(site, RoomIn(name="多目的室", capacity=30))
    free = rooms.create_room(site, RoomIn(name="相談室", capacity=4))
    h = people.create_household(site, HouseholdIn(name="佐藤家", name_kana="サトウケ"))
    sato = people.create_person(site, PersonIn(
        family_name="佐藤", given_name="一郎", family_name_kana="サトウ",
        given_name_kana="イチロウ", household_id=h.id))
    set_hourly_price(site, hall, 500, dt.date(2027, 1, 1))
    set_hourly_price(site, hall, 600, dt.date(2027, 4, 15))  # a price revision mid-month
    # Tuesdays 10:00–11:30 in April 2027: 6, 13, 20, 27; the 20th is cancelled.
    b = ops.create_booking(site, {"room": hall.id, "title": "いきいき体操", "organiser": sato.id,
                                  "start": dt.datetime(2027, 4, 6, 10), "attendance": 10,
                                  "end": dt.datetime(2027, 4, 6, 11, 30),
                                  "rrule": "FREQ=WEEKLY;COUNT=4"}, skip_closed=True)
    ops.cancel_booking(b, scope="this", recurrence_id=ops.booking_occurrences(b)[2].recurrence_id)
    # Not billed: a room without a price, and a booking without an organiser.
    ops.create_booking(site, {"room": free.id, "title": "相談", "organiser": sato.id,
                              "start": dt.datetime(2027, 4, 7, 10),
                              "end": dt.datetime(2027, 4, 7, 11)}, skip_closed=True)
    ops.create_booking(site, {"room": hall.id, "title": "町の会議",
                              "start": dt.datetime(2027, 4, 8, 10),
                              "end": dt.datetime(2027, 4, 8, 12)}, skip_closed=True)

    lines = collect_lines(site, Payer.from_key(f"household:{h.id}"), Month.parse("2027-04"))
    # 1.5 h × ¥500 on the 6th and 13th, 1.5 h × ¥600 on the 27th (hand-computed).
    assert [(ln.day.day, ln.amount, str(ln.quantity)) for ln in lines] == [
        (6, 750, "1.5"), (13, 750, "1.5"), (27, 900, "1.5")]
    assert all(ln.program == "calendar" and ln.tax == TaxCategory.STANDARD for ln in lines)

    run_month(site, "2027-04")
    invoice = Invoice.get((Invoice.site == site) & (Invoice.household == h))
    assert invoice.total == 2400


def test_the_demo_bills_room_hire_this_month(database):
    from hubcore.billing.operations import site_today
    from hubcore.demo import load_demo
    from hubcore.sites.operations import get_site

    load_demo()
    school = get_site("midorino-school")
    month = site_today(school).strftime("%Y-%m")
    result = run_month(school, month)
    invoices = list(Invoice.select().where(Invoice.site == school))
    assert invoices and all(i.total >= 0 for i in invoices), result
    # Room hire is the calendar's; the demo's childcare bills its own lines too.
    lines = [ln for i in invoices for ln in i.lines if ln.program == "calendar"]
    assert lines and all("多目的室" in ln.description for ln in lines)
