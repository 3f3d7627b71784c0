"""The childcare demo (``hubcore demo``): rows at both hubs, today's reservations with a
waitlist, every age band, and data the operations would have accepted.

On SQLite and PostgreSQL. The demo is built around the day it is loaded, so nothing
here depends on the date or hour the test runs at.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import pytest

from hubcore.calendar import operations as cal
from hubcore.calendar.models import Booking
from hubcore.db import utcnow
from hubcore.errors import Invalid
from hubcore.reports.models import Visit
from hubcore.rooms.models import Room
from hubcore.sites.models import Site
from plugins.childcare import sessions
from plugins.childcare.ages import class_age
from plugins.childcare.models import (
    AFTERSCHOOL,
    BOOKED,
    DROPIN,
    HIROBA,
    NAP,
    WAITLISTED,
    Attendance,
    CareRoom,
    Child,
    EmergencyContact,
    Enrolment,
    HeadCount,
    HouseholdRelief,
    PickupPerson,
    Reservation,
    Session,
    Settings,
    Staff,
    StaffAttendance,
)
from plugins.childcare.ratios import policy_on
from plugins.childcare.reservations import peak

HUBS = ("midorino-school", "ekimae-engawa")


@pytest.fixture
def demo(database):
    from hubcore.demo import load_demo

    load_demo()
    return {slug: Site.get(Site.slug == slug) for slug in HUBS}


def today_of(site) -> dt.date:
    return utcnow().astimezone(cal.site_zone(site)).date()


def test_both_hubs_have_children_sessions_and_places_today_and_tomorrow(demo):
    for site in demo.values():
        children = list(Child.select().where(Child.site == site))
        assert len(children) >= 10
        # Every band of the staff ratios (class ages 0, 1–2, 3, 4+) has children.
        today = today_of(site)
        policy = policy_on(site.municipality, today)
        bands = {policy.band_of(class_age(c.person.birth_date, today)) for c in children}
        assert bands == set(policy.bands), site.slug
        assert sum(c.photo_consent for c in children) > len(children) / 2
        assert any(c.allergies for c in children)
        ids = [c.id for c in children]
        # Guardians from the household, and someone from outside with a note to know them.
        pickups = list(PickupPerson.select().where(PickupPerson.child.in_(ids)))
        assert {p.child_id for p in pickups} == set(ids)
        outside = [p for p in pickups if p.person_id is None]
        assert outside and all(p.note and p.relation for p in outside)
        assert {c for (c,) in EmergencyContact.select(EmergencyContact.child)
                .where(EmergencyContact.child.in_(ids)).tuples()} == set(ids)
        assert CareRoom.select().join(Room).where(Room.site == site).count() == 2
        assert Staff.select().where(Staff.site == site).count() >= 3
        assert StaffAttendance.select().where(StaffAttendance.site == site).count() > 20
        assert Settings.get(Settings.site == site).relief_payer is not None
        kinds = {s.kind for s in Session.select().where(Session.site == site)}
        assert {DROPIN, HIROBA} <= kinds
        assert HeadCount.select().where(HeadCount.site == site).exists()
    school = demo["midorino-school"]
    assert {AFTERSCHOOL, NAP} <= {s.kind for s in Session.select().where(Session.site == school)}
    assert Enrolment.select().where(Enrolment.site == school).count() >= 3
    assert {r.bracket for r in HouseholdRelief.select()} == {"welfare", "exempt"}
    # Today is full with a waitlist, tomorrow is booked.
    for slug, site in demo.items():
        today = today_of(site)
        res = list(Reservation.select().where((Reservation.site == site)
                                              & (Reservation.day >= today)))
        statuses = {(r.day, r.status) for r in res}
        assert (today, BOOKED) in statuses and (today, WAITLISTED) in statuses, slug
        assert (today + dt.timedelta(days=1), BOOKED) in statuses, slug
        # Drop-in care is on today and tomorrow, on a closed day too (special opening).
        for day in (today, today + dt.timedelta(days=1)):
            assert sessions.sittings(site, day, day + dt.timedelta(days=1), kinds=(DROPIN,))


def test_what_the_operations_would_accept_the_nap_rule_and_loading_again(demo):
    from plugins.childcare.demo import load_demo_data

    now = utcnow()
    for site in demo.values():
        by_room_day = defaultdict(list)
        for r in Reservation.select().where(Reservation.site == site):
            by_room_day[r.room_id, r.day].append(r)
        for (room_id, _day), rows in by_room_day.items():
            booked = [r for r in rows if r.status == BOOKED]
            for r in rows:
                sitting = sessions.sitting_covering(site, room_id, r.start_at, r.end_at,
                                                    (r.program,))
                assert sitting is not None, (r.day, r.start_at)
            cap = sitting.capacity
            assert peak((r.start_at, r.end_at) for r in booked) <= cap
            for w in (r for r in rows if r.status == WAITLISTED):
                # It did not fit, and everyone booked asked before it.
                assert peak([*((r.start_at, r.end_at) for r in booked),
                             (w.start_at, w.end_at)]) > cap
                assert all(r.requested_at <= w.requested_at for r in booked)
        stays = list(Attendance.select().where(Attendance.site == site))
        assert len(stays) > 30
        pickups = {p.id: p.child_id for p in PickupPerson.select()}
        closing = dt.time.fromisoformat(Settings.get(Settings.site == site).closing_time)
        tz = cal.site_zone(site)
        for a in stays:
            assert a.checked_in_at <= now
            if a.checked_out_at is not None:
                assert a.checked_in_at < a.checked_out_at <= now
                assert pickups[a.picked_up_by_id] == a.child_id  # an authorised person
                closes = dt.datetime.combine(a.day, closing, tz)
                late = max(0, int((a.checked_out_at - closes).total_seconds() // 60))
                assert a.late_minutes == late
            if a.reservation_id is not None:
                assert a.reservation.child_id == a.child_id and a.reservation.status == BOOKED
        assert any(a.late_minutes > 0 for a in stays)  # one late pickup
        assert any(a.lunch for a in stays) and any(a.snack for a in stays)
        # Each stay is a core visit of childcare, so the cross-program report counts it.
        visits = Visit.select().where((Visit.site == site) & (Visit.program == "childcare"))
        assert visits.count() >= len(stays)
    # The calendar demo's 午睡 is the nap session, next to the hall above it.

    school = demo["midorino-school"]
    nap = Session.get((Session.site == school) & (Session.kind == NAP))
    assert nap.booking.program == "childcare"
    assert nap.booking.uid == "demo-midorino-school-nap@hubcore"  # the calendar demo's
    hall = Room.get((Room.site == school) & (Room.name == "多目的室(旧3年1組)"))
    assert nap.booking.room_id in cal.adjacent_room_ids(hall)
    first = next(o for o in cal.occurrences(school, today_of(school) + dt.timedelta(days=1),
                                            today_of(school) + dt.timedelta(days=15))
                 if o.booking_id == nap.booking_id)
    with pytest.raises(Invalid):  # a loud hire of the hall during the nap
        cal.create_booking(school, {"room": hall.id, "title": "和太鼓", "loud": True,
                                    "start": first.start, "end": first.end, "attendance": 5},
                           override=True)
    counts = (Child.select().count(), Booking.select().count(), Attendance.select().count())
    for site in demo.values():
        load_demo_data(site, list(site.people))
    assert (Child.select().count(), Booking.select().count(),
            Attendance.select().count()) == counts
