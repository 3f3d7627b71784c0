"""Childcare's report metrics: children by class-age band, hours of care, drop-in days,
peak occupancy per room, the ratio checked and met, the waitlist, the open space's
visitors and after-school child-months; and that sites add up."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hubcore.reports.metrics import Period
from hubcore.reports.operations import site_figures
from hubcore.rooms.models import Room
from plugins.childcare.models import (
    AFTERSCHOOL,
    WAITLISTED,
    Attendance,
    Enrolment,
    HeadCount,
    Reservation,
    Staff,
    StaffAttendance,
)
from plugins.childcare.reports import age_band, report_metrics
from plugins.childcare.testing import care_room, childcare_site, local, make_child

D = dt.date(2026, 5, 12)
MAY = Period.of_month(2026, 5)


def hall(site) -> Room:
    return Room.get((Room.site == site) & (Room.name == "ホール"))


def stay(site, child, day, start, end, room=None, program="dropin") -> Attendance:
    return Attendance.create(site=site, child=child, room=room or care_room(site), day=day,
                             program=program, checked_in_at=local(day, start),
                             checked_out_at=local(day, end) if end else None)


def by_key(rows) -> dict:
    return {(r.metric, tuple(sorted(r.dimensions.items()))): r.value for r in rows}


def seed(site) -> None:
    baby = make_child(site, dt.date(2025, 6, 1))  # class age 0
    two = make_child(site, dt.date(2024, 1, 1))  # class age 2: band 1-2
    three = make_child(site, dt.date(2023, 3, 1))  # class age 3 (早生まれ counts older)
    pupil = make_child(site, dt.date(2017, 5, 1))  # class age 8
    stay(site, baby, D, "09:00", "11:00")
    stay(site, two, D, "09:30", "11:30")
    stay(site, three, D, "10:00", "11:30")  # 3 at once from 10:00 to 11:00
    stay(site, baby, D + dt.timedelta(days=1), "09:00", "10:00")  # the hand-over:
    stay(site, two, D + dt.timedelta(days=1), "10:00", "11:00")  # never 2 at once
    stay(site, three, D + dt.timedelta(days=2), "09:00", "09:30", room=hall(site))
    stay(site, pupil, D, "15:00", "18:00", program=AFTERSCHOOL)
    Enrolment.create(site=site, child=pupil, first_month=dt.date(2026, 4, 1),
                     last_month=dt.date(2026, 9, 1))
    for day, status in ((D, WAITLISTED), (D, WAITLISTED), (D, "booked"),
                        (dt.date(2026, 6, 1), WAITLISTED)):
        Reservation.create(site=site, child=baby, room=care_room(site), day=day,
                           start_at=local(day, "09:00"), end_at=local(day, "12:00"),
                           status=status)
    HeadCount.create(site=site, room=hall(site), day=D, hour=10, children=5, adults=4)
    HeadCount.create(site=site, room=hall(site), day=D, hour=11, children=3, adults=2)
    # One member of staff in 和室 09:00–10:00 on D: 9 o'clock met, 10 and 11 short.
    member = Staff.create(site=site, name="保育 士")
    StaffAttendance.create(site=site, staff=member, room=care_room(site), day=D,
                           checked_in_at=local(D, "09:00"), checked_out_at=local(D, "10:00"))


def test_report_metrics_values(cc_site):
    seed(cc_site)
    rows = report_metrics(cc_site, MAY)
    assert all(r.program == "childcare" and r.label for r in rows)
    got = by_key(rows)
    assert got[("children_served", (("band", "0"),))] == 1
    assert got[("children_served", (("band", "1-2"),))] == 1
    assert got[("children_served", (("band", "3-5"),))] == 1
    assert got[("children_served", (("band", "6+"),))] == 1
    # 2 + 2 + 1.5 + 1 + 1 + 0.5 hours of drop-in care; 3 of after-school care.
    assert got[("dropin_care_hours", ())] == Decimal("8.0")
    assert got[("afterschool_care_hours", ())] == Decimal("3.0")
    assert got[("dropin_days", ())] == 6
    assert got[("peak_occupancy", (("room", "和室"),))] == 3
    assert got[("peak_occupancy", (("room", "ホール"),))] == 1
    assert got[("waitlisted", ())] == 2
    assert got[("hiroba_children", ())] == 8
    assert got[("hiroba_adults", ())] == 6
    assert got[("afterschool_child_months", ())] == 1
    checked, met = got[("ratio_room_hours", ())], got[("ratio_room_hours_met", ())]
    assert checked > met >= 1  # staff for one hour of several with children


def test_fiscal_year_counts_child_months_and_children_once(cc_site):
    seed(cc_site)
    got = by_key(report_metrics(cc_site, Period.of_fiscal_year(2026)))
    assert got[("afterschool_child_months", ())] == 6  # April to September
    assert got[("children_served", (("band", "0"),))] == 1
    assert got[("waitlisted", ())] == 3


def test_an_empty_month_reports_zeros_without_bands(cc_site):
    got = by_key(report_metrics(cc_site, Period.of_month(2026, 7)))
    assert not [k for k in got if k[0] in ("children_served", "peak_occupancy")]
    assert got[("dropin_days", ())] == 0 and got[("dropin_care_hours", ())] == Decimal("0.0")


def test_open_stay_counts_for_the_peak_but_not_for_hours(cc_site):
    a, b = make_child(cc_site, dt.date(2022, 6, 1)), make_child(cc_site, dt.date(2022, 6, 1))
    stay(cc_site, a, D, "09:00", None)  # a forgotten check-out: in care to the day's end
    stay(cc_site, b, D, "15:00", "16:00")
    got = by_key(report_metrics(cc_site, MAY))
    assert got[("peak_occupancy", (("room", "和室"),))] == 2
    assert got[("dropin_care_hours", ())] == Decimal("1.0")


def test_metrics_add_up_across_sites(cc_site):
    seed(cc_site)
    other = childcare_site("second-site")
    seed(other)
    figures = site_figures([cc_site, other], MAY)
    total = figures[cc_site.id]
    total.add(figures[other.id])
    summed = {(m.metric, tuple(sorted(m.dimensions.items()))): m.value
              for m in total.metrics.values() if m.program == "childcare"}
    assert summed[("dropin_days", ())] == 12
    assert summed[("dropin_care_hours", ())] == Decimal("16.0")
    assert summed[("children_served", (("band", "0"),))] == 2
    assert summed[("peak_occupancy", (("room", "和室"),))] == 6  # an upper bound


def test_age_bands():
    assert [age_band(a) for a in (None, 0, 1, 2, 3, 5, 6, 11)] == [
        "?", "0", "1-2", "1-2", "3-5", "3-5", "6+", "6+"]
