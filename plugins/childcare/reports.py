"""Childcare's figures for the cross-program report (the ``report_metrics`` hook).

Every value is a count or a sum that adds up across sites: the municipality's report
adds the rows of its sites with the same metric and dimensions. No person's own data
leaves here, only counts. A handful of queries per site and period.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

import peewee

from hubcore.calendar.models import to_utc
from hubcore.calendar.operations import site_zone
from hubcore.db import utcnow
from hubcore.i18n import gettext as _
from hubcore.people.models import Person
from hubcore.reports import MetricRow
from hubcore.reports.metrics import Period
from hubcore.rooms.models import Room
from hubcore.sites.models import Site
from plugins.childcare.ages import class_age
from plugins.childcare.models import (
    AFTERSCHOOL,
    DROPIN,
    HIROBA,
    WAITLISTED,
    Attendance,
    Child,
    Enrolment,
    HeadCount,
    Reservation,
)
from plugins.childcare.settings import PROGRAM

# Class-age bands of "children served": fixed codes, the same at every site, so that
# the municipality's report can add them up (the ratio bands differ per town).
AGE_BANDS: tuple[tuple[int, int | None, str], ...] = (
    (0, 0, "0"), (1, 2, "1-2"), (3, 5, "3-5"), (6, None, "6+"))
UNKNOWN_BAND = "?"


def age_band(age: int | None) -> str:
    if age is None:
        return UNKNOWN_BAND
    for low, high, code in AGE_BANDS:
        if age >= low and (high is None or age <= high):
            return code
    return AGE_BANDS[0][2]  # a birth date in the future: counted with the youngest


def _hours(seconds: float) -> Decimal:
    return (Decimal(int(seconds)) / 3600).quantize(Decimal("0.1"), ROUND_HALF_UP)


def _peak(spans: list[tuple[dt.datetime, dt.datetime]]) -> int:
    """The most spans that overlap at one moment; one ending as another starts is not
    an overlap (the room holds one child at the hand-over)."""
    events = sorted([(s, 1) for s, _e in spans] + [(e, -1) for _s, e in spans],
                    key=lambda ev: (ev[0], ev[1]))
    now = best = 0
    for _t, step in events:
        now += step
        best = max(best, now)
    return best


def _months_enrolled(first: dt.date, last: dt.date | None, months: list[int]) -> list[int]:
    lo = first.year * 100 + first.month
    hi = last.year * 100 + last.month if last else 999912
    return [m for m in months if lo <= m <= hi]


def report_metrics(site: Site, period: Period) -> list[MetricRow]:
    tz = site_zone(site)
    now = utcnow()
    # The class age is the same all through a school year, and a report's period (a
    # month or a fiscal year) lies within one: the age on its first day is the child's.
    rows = (Attendance.select(Attendance.child, Attendance.program, Attendance.day,
                              Attendance.checked_in_at, Attendance.checked_out_at,
                              Attendance.room, Room.name, Person.birth_date)
            .join(Child, on=Attendance.child == Child.id)
            .join(Person, on=Child.person == Person.id)
            .switch(Attendance).join(Room, on=Attendance.room == Room.id)
            .where((Attendance.site == site) & (Attendance.program != HIROBA)
                   & Attendance.day.between(period.first, period.last))
            .tuples())
    served: dict[str, set[int]] = defaultdict(set)
    seconds: dict[str, float] = defaultdict(float)
    dropin_days: set[tuple[int, dt.date]] = set()
    spans: dict[tuple[int, dt.date], list[tuple[dt.datetime, dt.datetime]]] = defaultdict(list)
    room_names: dict[int, str] = {}
    for child_id, program, day, start, end, room_id, room_name, birth in rows:
        start, end = to_utc(start), to_utc(end)
        served[age_band(class_age(birth, period.first))].add(child_id)
        if end is not None:
            seconds[program] += max(0.0, (end - start).total_seconds())
        else:
            # Not checked out: present until now (today) or the end of its day (a past
            # day's forgotten check-out), as on the ratio board; no care hours counted.
            midnight = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tz)
            end = max(start, min(midnight, now))
        if program == DROPIN:
            dropin_days.add((child_id, day))
        spans[(room_id, day)].append((start, end))
        room_names[room_id] = room_name

    # After-school enrolment: the children are served whether or not they came.
    child_months: set[tuple[int, int]] = set()
    first_month = period.first.replace(day=1)
    enrolments = (Enrolment.select(Enrolment.child, Enrolment.first_month,
                                   Enrolment.last_month, Person.birth_date)
                  .join(Child, on=Enrolment.child == Child.id)
                  .join(Person, on=Child.person == Person.id)
                  .where((Enrolment.site == site) & (Enrolment.first_month <= period.last)
                         & (Enrolment.last_month.is_null()
                            | (Enrolment.last_month >= first_month)))
                  .tuples())
    for child_id, first, last, birth in enrolments:
        months = _months_enrolled(first, last, period.months)
        if months:
            served[age_band(class_age(birth, period.first))].add(child_id)
            child_months.update((child_id, m) for m in months)

    waitlisted = (Reservation.select().where(
        (Reservation.site == site) & (Reservation.status == WAITLISTED)
        & Reservation.day.between(period.first, period.last)).count())
    kids, adults = (HeadCount.select(peewee.fn.COALESCE(peewee.fn.SUM(HeadCount.children), 0),
                                     peewee.fn.COALESCE(peewee.fn.SUM(HeadCount.adults), 0))
                    .where((HeadCount.site == site)
                           & HeadCount.day.between(period.first, period.last)).tuples()[0])

    def row(metric: str, value, label: str, unit: str = "", **dims: str) -> MetricRow:
        return MetricRow(PROGRAM, metric, value, label, unit, dims)

    children, hours = _("children"), _("hours")
    out = [row("children_served", len(served[code]), _("Children served, by class age"),
               children, band=code)
           for code in [*(c for _lo, _hi, c in AGE_BANDS), UNKNOWN_BAND] if served[code]]
    out += [
        row("dropin_care_hours", _hours(seconds[DROPIN]), _("Hours of drop-in care"), hours),
        row("afterschool_care_hours", _hours(seconds[AFTERSCHOOL]),
            _("Hours of after-school care"), hours),
        row("dropin_days", len(dropin_days), _("Days of drop-in care (child-days)")),
    ]
    # The peak per room is the most children present at once on any day of the period.
    # Summed across sites (rooms of the same name) it is an upper bound, not a moment.
    peaks: dict[int, int] = defaultdict(int)
    for (room_id, _day), room_spans in spans.items():
        peaks[room_id] = max(peaks[room_id], _peak(room_spans))
    out += [row("peak_occupancy", n, _("Most children present at once"), children,
                room=room_names[rid])
            for rid, n in sorted(peaks.items(), key=lambda kv: (room_names[kv[0]], kv[0]))]
    out += _ratio_rows(site, period, row)
    out += [
        row("waitlisted", waitlisted, _("Reservations on the waitlist")),
        row("hiroba_children", int(kids), _("Parent-and-child space: children"), children),
        row("hiroba_adults", int(adults), _("Parent-and-child space: adults")),
        row("afterschool_child_months", len(child_months),
            _("After-school club: enrolled child-months")),
    ]
    return out


def _ratio_rows(site: Site, period: Period, row) -> list[MetricRow]:
    from plugins.childcare.board import ratio_summary

    checked, met = ratio_summary(site, period.first, period.last)
    return [row("ratio_room_hours", checked, _("Room-hours with children (ratio checked)"),
                _("hours")),
            row("ratio_room_hours_met", met, _("Room-hours the staff ratio was met"),
                _("hours"))]
