"""No double booking under real concurrency: parallel processes, SQLite and PostgreSQL.

Each worker is a fresh process with its own connection (forked from a forkserver that
never opened the database, with hubcore imported once); all warm up, wait at a barrier
and then book the same room at the same hour. Threads alone would not show it.
"""

from __future__ import annotations

import multiprocessing as mp

import pytest

from hubcore.calendar import hours
from hubcore.rooms.models import Room

WORKERS = 12


def _book(url: str, site_id: int, room_id: int, fields: dict, barrier, results) -> None:
    from hubcore import db

    db.configure(url)
    from hubcore.calendar import operations as ops
    from hubcore.sites.models import Site

    with db.database.connection_context():
        site = Site.get_by_id(site_id)
        data = {"room": room_id, "start": "2027-04-06T10:00", "end": "2027-04-06T12:00",
                **fields}
        # Warm up (plugin discovery, first queries, holiday tables) so that all workers
        # reach the write at the same moment: the race is then real.
        warm = ops.Booking(site=site)
        ops._fill(warm, site, ops.BookingIn.model_validate(data), ops.site_zone(site))
        ops._expand(warm)
        ops.occurrences(site, warm.start_at, warm.end_at)
        barrier.wait(timeout=60)
        try:
            booking = ops.create_booking(site, data)
            results.put(("ok", booking.id))
        except ops.BookingConflict as exc:
            results.put(("conflict", len(exc.conflicts)))
        except Exception as exc:  # noqa: BLE001 - reported to the test, which fails on it
            results.put(("error", repr(exc)))


def _race(db_url: str, site, room: Room, make_fields) -> list[tuple[str, object]]:
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["hubcore.calendar.operations", "hubcore.plugins"])
    barrier, results = ctx.Barrier(WORKERS), ctx.Queue()
    procs = [ctx.Process(target=_book, args=(db_url, site.id, room.id, make_fields(i), barrier,
                                             results)) for i in range(WORKERS)]
    for p in procs:
        p.start()
    out = [results.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    return out


@pytest.fixture
def open_site(site):
    hours.set_holidays_closed(site, False)
    return site


def test_one_of_many_simultaneous_bookings_wins(database, open_site):
    room = Room.create(site=open_site, name="和室", capacity=20)
    results = _race(database, open_site, room, lambda i: {"title": f"予約{i}"})
    kinds = sorted(k for k, _ in results)
    assert [r for r in results if r[0] == "error"] == []
    assert kinds.count("ok") == 1 and kinds.count("conflict") == WORKERS - 1


def test_one_of_many_simultaneous_yearly_series_wins(database, open_site):
    room = Room.create(site=open_site, name="和室", capacity=20)
    results = _race(database, open_site, room,
                    lambda i: {"title": f"週一{i}", "rrule": "FREQ=WEEKLY;COUNT=52"})
    assert [r for r in results if r[0] == "error"] == []
    assert sorted(k for k, _ in results).count("ok") == 1


def test_shareable_capacity_holds_under_concurrency(database, open_site):
    # 12 groups of 3 into a room for 10: exactly three fit, whoever comes first.
    hall = Room.create(site=open_site, name="多目的室", capacity=10, shareable=True)
    results = _race(database, open_site, hall, lambda i: {"title": f"班{i}", "attendance": 3})
    assert [r for r in results if r[0] == "error"] == []
    assert sorted(k for k, _ in results).count("ok") == 3
