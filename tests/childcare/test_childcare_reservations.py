"""Reservations: capacity as a peak (a sweep), the waitlist and its promotion, refusals,
and the last place under real concurrency (parallel processes, SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import multiprocessing as mp

import pytest

from hubcore.errors import Invalid
from hubcore.rooms.models import Room
from plugins.childcare import reservations as res
from plugins.childcare.models import BOOKED, CANCELLED, WAITLISTED, Reservation
from plugins.childcare.testing import care_room, childcare_site, local, make_child, make_session

DAY = dt.date(2027, 6, 8)  # a Tuesday
BIRTH = dt.date(2024, 5, 1)


def kids(site, n):
    return [make_child(site, BIRTH) for _ in range(n)]


def at(hhmm: str) -> dt.datetime:
    """A request time on the day before, for waitlist order."""
    return local(DAY - dt.timedelta(days=1), hhmm)


def test_capacity_is_the_peak_not_the_sum(cc_site):
    make_session(cc_site, DAY, capacity=2)
    room = care_room(cc_site)
    a, b, c, d, e = kids(cc_site, 5)
    # a (9–12) and b (13–17) never meet: they share one place; c takes the other.
    assert res.reserve(cc_site, a, room, DAY, "09:00", "12:00").status == BOOKED
    assert res.reserve(cc_site, b, room, DAY, "13:00", "17:00").status == BOOKED
    assert res.reserve(cc_site, c, room, DAY, "09:00", "17:00").status == BOOKED
    # 10–11: a and c are there already.
    assert res.reserve(cc_site, d, room, DAY, "10:00", "11:00").status == WAITLISTED
    # 12–13: a leaves at 12:00 and b comes at 13:00 (half-open spans): only c is there.
    assert res.reserve(cc_site, e, room, DAY, "12:00", "13:00").status == BOOKED
    assert res.peak([(local(DAY, "09:00"), local(DAY, "12:00")),
                     (local(DAY, "12:00"), local(DAY, "13:00"))]) == 1


def test_full_without_waitlist_is_refused_and_nothing_saved(cc_site, in_english):
    make_session(cc_site, DAY, capacity=1)
    room = care_room(cc_site)
    a, b = kids(cc_site, 2)
    res.reserve(cc_site, a, room, DAY, "09:00", "12:00")
    with pytest.raises(Invalid) as exc:
        res.reserve(cc_site, b, room, DAY, "11:00", "13:00", waitlist=False)
    assert "full" in exc.value.errors["start"]
    assert Reservation.select().where(Reservation.child == b).count() == 0


def test_times_are_aware_in_the_site_zone(cc_site):
    make_session(cc_site, DAY)
    child = make_child(cc_site, BIRTH)
    r = res.reserve(cc_site, child, care_room(cc_site), DAY, dt.time(9, 30), "12:15",
                    lunch=True)
    r = Reservation.get_by_id(r.id)
    assert r.start_at == local(DAY, "09:30") and r.end_at == local(DAY, "12:15")
    assert r.start_at.utcoffset() == dt.timedelta(0)  # stored and read back as UTC
    assert res.hhmm(cc_site, r.start_at) == "09:30" and r.lunch and not r.snack


def test_a_child_cannot_hold_two_overlapping_reservations(cc_site, in_english):
    make_session(cc_site, DAY)
    room = care_room(cc_site)
    child = make_child(cc_site, BIRTH)
    res.reserve(cc_site, child, room, DAY, "09:00", "12:00")
    with pytest.raises(Invalid) as exc:
        res.reserve(cc_site, child, room, DAY, "11:00", "13:00")
    assert "already has a reservation from 09:00 to 12:00" in exc.value.errors["start"]
    # Touching is not overlapping; a waitlisted request counts as held too.
    assert res.reserve(cc_site, child, room, DAY, "12:00", "13:00").status == BOOKED


def test_waitlisted_request_blocks_an_overlapping_one_of_the_same_child(cc_site):
    make_session(cc_site, DAY, capacity=1)
    room = care_room(cc_site)
    a, b = kids(cc_site, 2)
    res.reserve(cc_site, a, room, DAY, "09:00", "17:00")
    assert res.reserve(cc_site, b, room, DAY, "09:00", "12:00").status == WAITLISTED
    with pytest.raises(Invalid):
        res.reserve(cc_site, b, room, DAY, "10:00", "11:00")


def test_outside_a_dropin_session_is_refused(cc_site, in_english):
    make_session(cc_site, DAY, start="09:00", end="17:00")
    make_session(cc_site, DAY + dt.timedelta(days=1), kind="afterschool",
                 start="14:00", end="18:00")
    room = care_room(cc_site)
    hall = Room.get((Room.site == cc_site) & (Room.name == "ホール"))
    child = make_child(cc_site, BIRTH)
    cases = [(room, DAY, "08:30", "10:00"),  # starts before the session
             (room, DAY, "16:00", "17:30"),  # ends after it
             (hall, DAY, "10:00", "11:00"),  # no session in that room
             (room, DAY + dt.timedelta(days=1), "14:00", "15:00")]  # an after-school one
    for where, day, start, end in cases:
        with pytest.raises(Invalid) as exc:
            res.reserve(cc_site, child, where, day, start, end)
        assert "has no drop-in care session covering" in exc.value.errors["start"]
    with pytest.raises(Invalid) as exc:
        res.reserve(cc_site, child, room, DAY, "12:00", "11:00")
    assert list(exc.value.errors) == ["end"]
    assert Reservation.select().count() == 0


def test_refuses_children_and_rooms_of_another_site(cc_site):
    make_session(cc_site, DAY)
    other = childcare_site("other-site")
    stranger = make_child(other, BIRTH)
    child = make_child(cc_site, BIRTH)
    with pytest.raises(Invalid) as exc:
        res.reserve(cc_site, stranger, care_room(cc_site), DAY, "09:00", "10:00")
    assert list(exc.value.errors) == ["child_id"]
    with pytest.raises(Invalid) as exc:
        res.reserve(cc_site, child, care_room(other), DAY, "09:00", "10:00")
    assert list(exc.value.errors) == ["room_id"]
    child.active = False
    child.save()
    with pytest.raises(Invalid):
        res.reserve(cc_site, child, care_room(cc_site), DAY, "09:00", "10:00")


def test_cancel_moves_up_the_waitlist_in_request_order(cc_site):
    make_session(cc_site, DAY, capacity=1)
    room = care_room(cc_site)
    a, w1, w2 = kids(cc_site, 3)
    booked = res.reserve(cc_site, a, room, DAY, "09:00", "17:00", now=at("08:00"))
    # w2 is written first but asked later: the order is by request time.
    second = res.reserve(cc_site, w2, room, DAY, "09:00", "12:00", now=at("10:00"))
    first = res.reserve(cc_site, w1, room, DAY, "09:00", "12:00", now=at("09:00"))
    assert (first.status, second.status) == (WAITLISTED, WAITLISTED)
    [rd] = res.day_reservations(cc_site, DAY)
    assert [r.id for r in rd.waitlisted] == [first.id, second.id]
    moved = res.cancel(cc_site, booked)
    assert [r.id for r in moved] == [first.id]
    statuses = {r.id: r.status for r in Reservation.select()}
    assert statuses == {booked.id: CANCELLED, first.id: BOOKED, second.id: WAITLISTED}
    # Cancelling again changes nothing and moves no one.
    assert res.cancel(cc_site, booked.id) == []
    assert Reservation.get_by_id(second.id).status == WAITLISTED


def test_a_request_that_does_not_fit_does_not_block_a_later_one(cc_site):
    make_session(cc_site, DAY, capacity=1)
    room = care_room(cc_site)
    a, b, long_, short = kids(cc_site, 4)
    morning = res.reserve(cc_site, a, room, DAY, "09:00", "12:00", now=at("08:00"))
    res.reserve(cc_site, b, room, DAY, "13:00", "17:00", now=at("08:01"))
    whole_day = res.reserve(cc_site, long_, room, DAY, "09:00", "17:00", now=at("09:00"))
    ten = res.reserve(cc_site, short, room, DAY, "10:00", "11:00", now=at("10:00"))
    assert (whole_day.status, ten.status) == (WAITLISTED, WAITLISTED)
    moved = res.cancel(cc_site, morning)
    # The whole day still clashes with b's afternoon; 10–11 fits and moves up.
    assert [r.id for r in moved] == [ten.id]
    assert Reservation.get_by_id(whole_day.id).status == WAITLISTED
    assert Reservation.get_by_id(ten.id).status == BOOKED


def test_cancelling_a_waitlisted_request_moves_no_one(cc_site):
    make_session(cc_site, DAY, capacity=1)
    room = care_room(cc_site)
    a, b, c = kids(cc_site, 3)
    res.reserve(cc_site, a, room, DAY, "09:00", "12:00")
    wb = res.reserve(cc_site, b, room, DAY, "09:00", "12:00", now=at("09:00"))
    wc = res.reserve(cc_site, c, room, DAY, "09:00", "12:00", now=at("10:00"))
    assert res.cancel(cc_site, wb) == []
    assert Reservation.get_by_id(wb.id).status == CANCELLED
    [rd] = res.day_reservations(cc_site, DAY)
    assert [r.id for r in rd.waitlisted] == [wc.id] and len(rd.booked) == 1


def test_day_list_by_room_with_capacity_and_peak(cc_site):
    make_session(cc_site, DAY, capacity=3)
    room = care_room(cc_site)
    a, b = kids(cc_site, 2)
    ra = res.reserve(cc_site, a, room, DAY, "13:00", "15:00")
    rb = res.reserve(cc_site, b, room, DAY, "09:00", "12:00")
    [rd] = res.day_reservations(cc_site, DAY)
    assert rd.room.id == room.id and rd.capacity == 3 and rd.peak == 1
    assert [r.id for r in rd.booked] == [rb.id, ra.id]  # by start
    assert res.day_reservations(cc_site, DAY + dt.timedelta(days=1)) == []
    assert res.waitlist_count(cc_site, DAY) == 0


# --- the last place under real concurrency ---------------------------------------

WORKERS = 8


def _reserve(url: str, site_id: int, child_id: int, room_id: int, barrier, results) -> None:
    from hubcore import db

    db.configure(url)
    from hubcore.sites.models import Site
    from plugins.childcare import reservations as ops

    with db.database.connection_context():
        site = Site.get_by_id(site_id)
        # Warm up (plugin discovery, first queries) so that all reach the write together.
        ops.sessions.sitting_covering(site, room_id, local(DAY, "09:00"), local(DAY, "12:00"),
                                      kinds=("dropin",))
        ops.day_reservations(site, DAY)
        barrier.wait(timeout=60)
        try:
            r = ops.reserve(site, child_id, room_id, DAY, "09:00", "12:00", waitlist=False)
            results.put(("ok", r.id))
        except Invalid as exc:
            results.put(("full", str(exc)))
        except Exception as exc:  # noqa: BLE001 - reported to the test, which fails on it
            results.put(("error", repr(exc)))


def test_two_desks_never_both_get_the_last_place(cc_site, database):
    make_session(cc_site, DAY, capacity=2)
    room = care_room(cc_site)
    first = make_child(cc_site, BIRTH)
    res.reserve(cc_site, first, room, DAY, "10:00", "11:00")  # one place is left
    children = kids(cc_site, WORKERS)
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["hubcore.calendar.operations", "hubcore.plugins"])
    barrier, results = ctx.Barrier(WORKERS), ctx.Queue()
    procs = [ctx.Process(target=_reserve, args=(database, cc_site.id, c.id, room.id, barrier,
                                                results)) for c in children]
    for p in procs:
        p.start()
    out = [results.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    assert [r for r in out if r[0] == "error"] == []
    assert sorted(k for k, _ in out).count("ok") == 1
    assert Reservation.select().where(Reservation.status == BOOKED).count() == 2
    [rd] = res.day_reservations(cc_site, DAY)
    assert rd.peak == 2 == rd.capacity
