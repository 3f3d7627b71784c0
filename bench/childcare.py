"""Time of the childcare plugin's operations at one busy site, on SQLite and PostgreSQL.

    python bench/childcare.py                          # SQLite and PostgreSQL, 20 rounds
    python bench/childcare.py --db sqlite --repeat 50
    python bench/childcare.py --db postgresql --profile run_month   # + a cProfile of one

For each database: a fresh database (SQLite: a temp file; PostgreSQL: a private
throwaway cluster with default durability, fsync and synchronous_commit on, on this
machine, as bench/calendar_booking.py starts it), then one busy site, set up untimed:

- childcare switched on (``settings.on_enabled`` seeds the default prices), closing
  time 19:00, sibling discount 50 %, relief as a discount billed to the town's office;
- 3 care rooms of 20 children (by class age 0–1, 2–3, 4–5); drop-in sessions in each,
  weekdays 8:00–19:00 through October 2026 (``sessions.create_session``, weekly RRULE,
  override=True);
- 120 children aged 0–5 in 90 households (30 with two children), 150 guardians, every
  guardian an authorised pickup person and a grandparent for a third of the children;
  15 households with a relief bracket (``HouseholdRelief``, the town's brackets);
- 14 staff, checked in to the rooms on every weekday in shifts;
- October 2026 in full: every child on ~10 weekdays, at most 19 children booked in a
  room at once, every booking a checked-out stay (~1,200) with lunch/snack as booked,
  a few late pickups, the core visits recorded; written in bulk with the models.

The busy day is Wednesday 2026-10-14: the 0–1 room has 19 of its 20 places booked for
the whole middle of the day and three requests on the waitlist. Then, each operation
repeated (--repeat, after 2 warm-up rounds), wall-clock time in this process, median
and 90th percentile in ms:

- reserve: ``reservations.reserve`` of one more child 9:00–17:00 into that room on the
  busy day (room lock, session lookup, clash query, capacity sweep, insert): it gets
  the last place.
- cancel + promotion: ``reservations.cancel`` of that place, which moves the first
  waitlisted request up. Untimed afterwards: the cancelled row deleted and the
  promoted request put back on the waitlist, so every round sees the same data.
- check in / check out: ``attendance.check_in`` of a child with a booked place that
  day (links the reservation, records the core visit) and ``attendance.check_out`` by
  an authorised pickup person. Untimed afterwards: the stay and its visit removed.
- tablet list: ``attendance.expected_today`` for the busy day (55 children).
- board now: ``board.now_status`` at 11:00 of the busy day; day grid:
  ``board.day_grid`` of the busy day; forecast: ``board.forecast`` of the day after.
- compute month: ``billing.compute_month`` for October (a new ``Month`` each round, so
  ``period.memo`` caches nothing).
- run_month first / rerun: ``hubcore.billing.run.run_month`` of October for the whole
  site (91 payers: 90 households and the relief payer), every enabled program's
  lines. "first": every draft is created (the drafts are deleted, untimed, before each
  round); "rerun": nothing changed, every draft left as it is.
- report metrics: ``reports.report_metrics(site, Period.of_month(2026, 10))``.

The table also gives the SQL statements one call sends (peewee's execute_sql, so
BEGIN and COMMIT are not counted), and the machine and its load average before and
after: other work on the machine shows in the 90th percentile first. On PostgreSQL the
set-up ends with ANALYZE (what autovacuum would have done by then).

--profile NAME also prints the top of a cProfile (10 calls; run_month: 1) of one of the
reading operations (tablet, board_now, day_grid, forecast, compute_month, run_month,
rerun, report) for each database after the timings.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import datetime as dt
import io
import os
import platform
import pstats
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from calendar_booking import Postgres  # noqa: E402  (a sibling script)

TOKYO = ZoneInfo("Asia/Tokyo")
YEAR, MONTH = 2026, 10
FIRST, LAST = dt.date(YEAR, MONTH, 1), dt.date(YEAR, MONTH, 31)
BUSY = dt.date(YEAR, MONTH, 14)  # a Wednesday
NEXT = BUSY + dt.timedelta(days=1)
WEEKDAYS = [FIRST + dt.timedelta(days=i) for i in range((LAST - FIRST).days + 1)
            if (FIRST + dt.timedelta(days=i)).weekday() < 5]
CAPACITY = 20
MOST_BOOKED = 19  # children booked in a room at once: one place left on every day
ROOMS = [("ひよこ組", (0, 1)), ("うさぎ組", (2, 3)), ("きりん組", (4, 5))]
FAMILIES = [("佐藤", "サトウ"), ("鈴木", "スズキ"), ("高橋", "タカハシ"), ("田中", "タナカ"),
            ("伊藤", "イトウ"), ("渡辺", "ワタナベ"), ("山本", "ヤマモト"), ("中村", "ナカムラ"),
            ("小林", "コバヤシ"), ("加藤", "カトウ"), ("吉田", "ヨシダ"), ("山田", "ヤマダ"),
            ("佐々木", "ササキ"), ("山口", "ヤマグチ"), ("松本", "マツモト")]
GIVEN = [("はな", "ハナ"), ("ゆい", "ユイ"), ("そら", "ソラ"), ("はると", "ハルト"),
         ("めい", "メイ"), ("りく", "リク"), ("あおい", "アオイ"), ("ひなた", "ヒナタ"),
         ("さくら", "サクラ"), ("ゆうと", "ユウト"), ("こはる", "コハル"), ("れん", "レン")]
BRACKETS = (("welfare", "生活保護世帯", 3000), ("exempt", "住民税非課税世帯", 2400),
            ("low_income", "所得割 77,101円未満の世帯", 2100),
            ("other", "その他 町長が認める世帯", 1500))

OPS = [("reserve", "reserve (last place)"), ("cancel", "cancel + waitlist promotion"),
       ("check_in", "check in (links the place, core visit)"),
       ("check_out", "check out (authorised pickup)"),
       ("tablet", "tablet list: expected_today"), ("board_now", "board now: now_status"),
       ("day_grid", "board: day_grid"), ("forecast", "board: forecast of the next day"),
       ("compute_month", "billing.compute_month"),
       ("run_month", "run_month, first (all drafts created)"),
       ("rerun", "run_month, rerun (nothing changed)"),
       ("report", "report_metrics, one month")]
PROFILABLE = ["tablet", "board_now", "day_grid", "forecast", "compute_month", "run_month",
              "rerun", "report"]


def at(day: dt.date, hhmm: str) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.fromisoformat(hhmm), TOKYO)


def _insert(model, rows: list[dict]) -> None:
    for i in range(0, len(rows), 200):
        model.insert_many(rows[i:i + 200]).execute()


# --- the busy site ------------------------------------------------------------------


def build_site(rng: random.Random) -> dict:
    """Everything described in the module docstring; returns what the timings need."""
    from hubcore import db
    from hubcore.billing.models import Organisation
    from hubcore.people.operations import create_household_from_parts, create_person_from_parts
    from hubcore.reports import VisitIn, record_visits
    from hubcore.rooms.models import Room
    from hubcore.testing import make_site
    from plugins.childcare import sessions
    from plugins.childcare.ages import class_age
    from plugins.childcare.attendance import VISIT_PROGRAM, session_key
    from plugins.childcare.models import (
        BOOKED,
        CANCELLED,
        DROPIN,
        WAITLISTED,
        Attendance,
        CareRoom,
        Child,
        HouseholdRelief,
        PickupPerson,
        ReliefBracket,
        Reservation,
        Settings,
        Staff,
        StaffAttendance,
    )

    # make_site switches childcare on: plugin_enabled → settings.on_enabled seeds prices.
    site = make_site("busy-nursery", municipality="busy-town", name="にぎわい保育拠点",
                     plugins=("childcare",))
    payer = Organisation.create(municipality=site.municipality, name="にぎわい町 こども家庭課",
                                name_kana="ニギワイチョウ コドモカテイカ", kind="municipality")
    Settings.update(closing_time="19:00", sibling_discount_percent=50, relief_mode="discount",
                    relief_payer=payer).where(Settings.site == site).execute()
    for code, label, yen in BRACKETS:
        ReliefBracket.create(municipality=site.municipality, code=code, label=label,
                             amount=yen, valid_from=dt.date(2024, 4, 1))

    rooms = []
    for order, (name, _ages) in enumerate(ROOMS):
        room = Room.create(site=site, name=name, capacity=CAPACITY, sort_order=order)
        CareRoom.create(room=room, capacity=CAPACITY)
        sessions.create_session(site, DROPIN, {
            "room": room.id, "title": f"一時預かり {name}", "attendance": CAPACITY,
            "start": at(FIRST, "08:00"), "end": at(FIRST, "19:00"),
            "rrule": "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;UNTIL=20261031T235959Z"},
            override=True)
        rooms.append(room)

    # Households and children: 20 children of each class age 0–5 (40 per room).
    ages = [a for a in range(6) for _ in range(20)]
    rng.shuffle(ages)
    sizes = [2] * 30 + [1] * 60
    rng.shuffle(sizes)
    school_april = dt.date(YEAR, 4, 1)
    households, children = [], []  # children: (Child, household id, room index)
    pickups: list[dict] = []
    with db.database.atomic():
        for h, size in enumerate(sizes):
            family, kana = FAMILIES[h % len(FAMILIES)]
            household = create_household_from_parts(
                site, name=f"{family}家{h:03d}", name_kana=f"{kana}ケ",
                address=f"にぎわい町{h % 12 + 1}丁目{h + 1}")
            households.append(household)
            guardians = [create_person_from_parts(
                site, household=household, family_name=family, given_name="花子",
                family_name_kana=kana, given_name_kana="ハナコ", birth_date=dt.date(1990, 5, 5),
                relationship="母", phone=f"090-0000-{h:04d}")]
            if h % 3 != 2:
                guardians.append(create_person_from_parts(
                    site, household=household, family_name=family, given_name="太郎",
                    family_name_kana=kana, given_name_kana="タロウ",
                    birth_date=dt.date(1988, 8, 8), relationship="父"))
            for k in range(size):
                age = ages.pop()
                birth = dt.date(school_april.year - age - 1, 4, 2) + dt.timedelta(
                    days=rng.randint(0, 364))
                given, gkana = GIVEN[(h * 2 + k) % len(GIVEN)]
                person = create_person_from_parts(
                    site, household=household, family_name=family, given_name=given,
                    family_name_kana=kana, given_name_kana=gkana, birth_date=birth,
                    relationship="子")
                assert class_age(birth, BUSY) == age
                child = Child.create(site=site, person=person, photo_consent=True)
                children.append((child, household.id, age // 2))
                for g in guardians:
                    pickups.append({"child": child, "person": g, "name": g.full_name,
                                    "relation": g.relationship, "phone": g.phone})
                if len(children) % 3 == 0:
                    pickups.append({"child": child, "person": None, "name": f"{family} 祖母",
                                    "relation": "祖母", "note": "紺色の帽子"})
        _insert(PickupPerson, pickups)
        relief = rng.sample(households, 15)
        for i, household in enumerate(relief):
            HouseholdRelief.create(household=household, bracket=BRACKETS[i % 4][0],
                                   valid_from=dt.date(2026, 4, 1))
    pickup_of: dict[int, list[int]] = defaultdict(list)
    for pid, cid in PickupPerson.select(PickupPerson.id, PickupPerson.child).tuples():
        pickup_of[cid].append(pid)

    # Days: each household picks ~10 weekdays; every room-day keeps ≤ MOST_BOOKED children.
    by_household: dict[int, list[tuple]] = defaultdict(list)
    for c in children:
        by_household[c[1]].append(c)
    fill = {(r, d): 0 for r in range(len(ROOMS)) for d in WEEKDAYS}
    days_of: dict[int, list[dt.date]] = {}
    order = list(by_household)
    rng.shuffle(order)
    for hid in order:
        kids = by_household[hid]
        need = defaultdict(int)
        for _c, _h, r in kids:
            need[r] += 1
        free = [d for d in WEEKDAYS
                if all(fill[(r, d)] + n <= MOST_BOOKED for r, n in need.items())]
        # The busy day first for the 0–1 room, then the emptiest days.
        free.sort(key=lambda d: (not (d == BUSY and 0 in need),
                                 sum(fill[(r, d)] for r in need), rng.random()))
        chosen = free[:rng.randint(9, 11)]
        for d in chosen:
            for r, n in need.items():
                fill[(r, d)] += n
        days_of[hid] = sorted(chosen)
    assert fill[(0, BUSY)] == MOST_BOOKED, fill[(0, BUSY)]

    # Reservations (booked, all covering 10:00–15:00, so the busy room's peak is 19) and
    # their stays; a few extra cancelled requests; the busy room's waitlist.
    res_rows, stay_rows = [], []
    late_left = 12
    expected = None  # a booked place on the busy day with no check-in yet (check_in)
    for hid, days in days_of.items():
        for day in days:
            for child, _h, r in by_household[hid]:
                start = at(day, rng.choice(("08:00", "08:30", "09:00", "09:30", "10:00")))
                end = at(day, rng.choice(("15:00", "16:00", "17:00", "18:00", "19:00")))
                if r != 0 and rng.random() < 0.15:  # a morning only: a half day
                    start, end = at(day, "08:30"), at(day, "12:30")
                lunch, snack = rng.random() < 0.85, end >= at(day, "15:00") and \
                    rng.random() < 0.8
                requested = at(day, "08:00") - dt.timedelta(days=rng.randint(1, 14))
                res_rows.append({"site": site, "child": child, "room": rooms[r], "program": DROPIN,
                                 "day": day, "start_at": start, "end_at": end,
                                 "status": BOOKED, "lunch": lunch, "snack": snack,
                                 "requested_at": requested, "created_at": requested})
                if expected is None and day == BUSY and r == 1:
                    expected = (child, rooms[r])
                    continue  # not in yet
                t_in = start + dt.timedelta(minutes=rng.randint(-10, 15))
                t_out = end - dt.timedelta(minutes=rng.randint(0, 20))
                if late_left and end.hour == 19 and rng.random() < 0.1:
                    t_out = end + dt.timedelta(minutes=rng.randint(5, 40))
                    late_left -= 1
                late = max(0, int((t_out - at(day, "19:00")).total_seconds() // 60))
                pid = rng.choice(pickup_of[child.id])
                stay_rows.append(({"site": site, "child": child, "room": rooms[r],
                                   "program": DROPIN, "day": day, "checked_in_at": t_in,
                                   "checked_out_at": t_out, "picked_up_by": pid,
                                   "picked_up_name": "", "late_minutes": late,
                                   "lunch": lunch, "snack": snack}, len(res_rows) - 1))
            if rng.random() < 0.05:  # a cancelled extra day of one of the children
                child, _h, r = by_household[hid][0]
                other = rng.choice([d for d in WEEKDAYS if d not in days])
                res_rows.append({"site": site, "child": child, "room": rooms[r],
                                 "program": DROPIN, "day": other,
                                 "start_at": at(other, "09:00"), "end_at": at(other, "17:00"),
                                 "status": CANCELLED, "requested_at": at(other, "07:00"),
                                 "created_at": at(other, "07:00")})
    busy_kids = {c.id for hid, days in days_of.items() if BUSY in days
                 for c, _h, r in by_household[hid]}
    room0_free = [c for c, _h, r in children if r == 0 and c.id not in busy_kids]
    reserve_child, *waiting = room0_free[:4]
    for j, child in enumerate(waiting):
        stamp = at(BUSY, "07:00") - dt.timedelta(days=3 - j)
        res_rows.append({"site": site, "child": child, "room": rooms[0], "program": DROPIN,
                         "day": BUSY, "start_at": at(BUSY, "10:00"), "end_at": at(BUSY, "15:00"),
                         "status": WAITLISTED, "lunch": True, "requested_at": stamp,
                         "created_at": stamp})
    with db.database.atomic():
        _insert(Reservation, res_rows)
    ids = {(cid, day, start): rid for rid, cid, day, start in Reservation.select(
        Reservation.id, Reservation.child, Reservation.day, Reservation.start_at)
        .where(Reservation.site == site).tuples()}
    names = dict(PickupPerson.select(PickupPerson.id, PickupPerson.name).tuples())
    stays = []
    for stay, index in stay_rows:
        r = res_rows[index]
        stay["reservation"] = ids[(r["child"].id, r["day"], r["start_at"])]
        stay["picked_up_name"] = names[stay["picked_up_by"]]
        stays.append(stay)
    with db.database.atomic():
        _insert(Attendance, stays)
    by_day: dict[dt.date, list] = defaultdict(list)
    for s in stays:
        c = s["child"]
        by_day[s["day"]].append(VisitIn(c.person_id, VISIT_PROGRAM,
                                        session_key(DROPIN, s["room"].id, s["day"]), s["day"],
                                        s["checked_in_at"]))
    for day in sorted(by_day):
        record_visits(site, by_day[day])

    # Staff: 14 on the roster; per room and weekday early, middle and late shifts.
    roster = [Staff.create(site=site, name=f"職員 {i + 1:02d}", name_kana=f"ショクイン {i + 1:02d}",
                           qualified=i % 5 != 4) for i in range(14)]
    shifts = {0: [("07:45", "16:45"), ("07:45", "16:45"), ("09:00", "18:00"),
                  ("10:15", "19:15"), ("10:15", "19:15")],
              1: [("07:45", "16:45"), ("09:00", "18:00"), ("10:15", "19:15")],
              2: [("07:45", "16:45"), ("10:15", "19:15")]}
    staff_rows = []
    for n, day in enumerate(WEEKDAYS):
        crew = roster[n % 4:] + roster[:n % 4]
        k = 0
        for r, plan in shifts.items():
            for start, end in plan:
                staff_rows.append({"site": site, "staff": crew[k], "room": rooms[r], "day": day,
                                   "checked_in_at": at(day, start),
                                   "checked_out_at": at(day, end)})
                k += 1
    _insert(StaffAttendance, staff_rows)

    checked_out = sum(1 for s in stays if s["checked_out_at"] is not None)
    return {"site": site, "rooms": rooms, "reserve_child": reserve_child,
            "expected": expected, "pickup_of": pickup_of,
            "counts": {"children": len(children), "households": len(households),
                       "reservations": len(res_rows), "stays": checked_out,
                       "late": sum(1 for s in stays if s["late_minutes"]),
                       "siblings": sum(1 for s in sizes if s == 2),
                       "staff rows": len(staff_rows)}}


# --- timing ---------------------------------------------------------------------------


QUERIES = {"n": 0, "last": 0}  # statements sent (BEGIN/COMMIT not counted)


def _count_queries(database) -> None:
    """Count the SQL statements peewee sends (one increment per statement)."""
    send = database.execute_sql

    def counted(sql, params=None):
        QUERIES["n"] += 1
        return send(sql, params)

    database.execute_sql = counted


def _timed(fn) -> float:
    before = QUERIES["n"]
    t0 = time.perf_counter()
    fn()
    ms = (time.perf_counter() - t0) * 1000
    QUERIES["last"] = QUERIES["n"] - before
    return ms


def _series(fn, repeat: int, before=None, after=None) -> list[float]:
    """``repeat`` timings of ``fn`` after two warm-up rounds; ``before``/``after`` untimed."""
    out = []
    for i in range(repeat + 2):
        if before is not None:
            before()
        ms = _timed(fn)
        if after is not None:
            after()
        if i >= 2:
            out.append(ms)
    return out


def run(url: str, repeat: int, profile: str | None) -> dict:
    from hubcore import db
    from hubcore.billing import Month
    from hubcore.billing.models import Invoice, InvoiceLine
    from hubcore.billing.run import run_month
    from hubcore.migrations import migrate
    from hubcore.plugins import get_host
    from hubcore.reports.metrics import Period
    from hubcore.reports.visits import remove_visits
    from plugins.childcare import attendance, billing, board, reports, reservations
    from plugins.childcare.attendance import VISIT_PROGRAM, session_key
    from plugins.childcare.models import BOOKED, DROPIN, WAITLISTED, Attendance, Reservation

    db.configure(url)
    migrate(get_host())
    _count_queries(db.database.obj)
    out: dict = {"ms": {}, "notes": {}, "queries": {}}
    queries = out["queries"]
    with db.database.connection_context():
        t0 = time.perf_counter()
        data = build_site(random.Random(2026))
        if db.is_postgres():
            db.database.execute_sql("ANALYZE")  # what autovacuum would have done by now
        out["setup_s"] = time.perf_counter() - t0
        out["counts"] = data["counts"]
        site, rooms = data["site"], data["rooms"]
        notes = out["notes"]

        # reserve and cancel: one round = reserve (timed), cancel (timed), undo (untimed).
        made: list[Reservation] = []
        statuses: list[str] = []
        promoted: list[list[int]] = []

        def reserve():
            made.append(reservations.reserve(site, data["reserve_child"], rooms[0], BUSY,
                                             "09:00", "17:00", lunch=True, snack=True))
            statuses.append(made[-1].status)

        def cancel():
            promoted.append([r.id for r in reservations.cancel(site, made[-1])])

        def undo_reserve():
            Reservation.delete().where(Reservation.id == made[-1].id).execute()
            if promoted and promoted[-1]:
                Reservation.update(status=WAITLISTED).where(
                    Reservation.id.in_(promoted[-1])).execute()

        res_ms, cancel_ms = [], []
        for i in range(repeat + 2):
            a = _timed(reserve)
            queries["reserve"] = QUERIES["last"]
            b = _timed(cancel)
            queries["cancel"] = QUERIES["last"]
            undo_reserve()
            if i >= 2:
                res_ms.append(a)
                cancel_ms.append(b)
        out["ms"]["reserve"], out["ms"]["cancel"] = res_ms, cancel_ms
        notes["reserve"] = statuses[-1]
        notes["cancel"] = f"{len(promoted[-1])} moved up"
        assert set(statuses) == {BOOKED} and {len(p) for p in promoted} == {1}, (statuses,
                                                                                promoted)

        # check in / check out of the child expected on the busy day.
        child, room = data["expected"]
        pickup = data["pickup_of"][child.id][0]
        stay: list[Attendance] = []
        in_ms, out_ms = [], []
        for i in range(repeat + 2):
            a = _timed(lambda: stay.append(attendance.check_in(site, child, room,
                                                               at=at(BUSY, "09:05"))))
            queries["check_in"] = QUERIES["last"]
            b = _timed(lambda: attendance.check_out(site, stay[-1], pickup,
                                                    at=at(BUSY, "17:10")))
            queries["check_out"] = QUERIES["last"]
            assert stay[-1].reservation_id is not None
            Attendance.delete().where(Attendance.id == stay[-1].id).execute()
            remove_visits(site, VISIT_PROGRAM, session_key(DROPIN, room.id, BUSY),
                          [child.person_id])
            if i >= 2:
                in_ms.append(a)
                out_ms.append(b)
        out["ms"]["check_in"], out["ms"]["check_out"] = in_ms, out_ms

        box: dict = {}
        calls = {
            "tablet": lambda: box.__setitem__("tablet", attendance.expected_today(site, BUSY)),
            "board_now": lambda: box.__setitem__("now", board.now_status(
                site, at=at(BUSY, "11:00"))),
            "day_grid": lambda: box.__setitem__("grid", board.day_grid(site, BUSY)),
            "forecast": lambda: box.__setitem__("forecast", board.forecast(site, NEXT)),
            "compute_month": lambda: box.__setitem__("bill", billing.compute_month(
                site, Month(YEAR, MONTH))),
            "report": lambda: box.__setitem__("report", reports.report_metrics(
                site, Period.of_month(YEAR, MONTH))),
        }
        for name, fn in calls.items():
            out["ms"][name] = _series(fn, repeat)
            queries[name] = QUERIES["last"]
        notes["tablet"] = f"{len(box['tablet'])} children"
        now = box["now"]
        notes["board_now"] = (f"{sum(r.children for r in now.rooms)} children, "
                              f"{sum(r.staff for r in now.rooms)} staff")
        notes["day_grid"] = f"{len(box['grid'].cells)} cells"
        notes["forecast"] = f"{len(box['forecast'].cells)} cells"
        bill = box["bill"]
        negative = sum(1 for v in bill.lines.values() for li in v if li.amount < 0)
        notes["compute_month"] = (f"{sum(len(v) for v in bill.lines.values())} lines: "
                                  f"{negative - len(bill.relief)} sibling discounts, "
                                  f"{len(bill.relief)} relief child-days")
        notes["report"] = f"{len(box['report'])} rows"

        def clear_invoices():
            with db.database.atomic():
                ids = Invoice.select(Invoice.id).where(Invoice.site == site)
                InvoiceLine.delete().where(InvoiceLine.invoice.in_(ids)).execute()
                Invoice.delete().where(Invoice.site == site).execute()

        results = []
        out["ms"]["run_month"] = _series(lambda: results.append(run_month(site, "2026-10")),
                                         repeat, before=clear_invoices)
        queries["run_month"] = QUERIES["last"]
        notes["run_month"] = f"{results[-1].created} invoices"
        results.clear()
        out["ms"]["rerun"] = _series(lambda: results.append(run_month(site, "2026-10")), repeat)
        queries["rerun"] = QUERIES["last"]
        notes["rerun"] = f"{results[-1].unchanged} unchanged"
        out["invoice_lines"] = InvoiceLine.select().join(Invoice).where(
            Invoice.site == site).count()

        if profile:
            fns = {**calls, "run_month": lambda: run_month(site, "2026-10"),
                   "rerun": lambda: run_month(site, "2026-10")}
            if profile == "run_month":
                clear_invoices()
            prof = cProfile.Profile()
            prof.enable()
            for _ in range(1 if profile == "run_month" else 10):
                fns[profile]()
            prof.disable()
            text = io.StringIO()
            pstats.Stats(prof, stream=text).sort_stats("cumulative").print_stats(30)
            pstats.Stats(prof, stream=text).sort_stats("tottime").print_stats(15)
            out["profile"] = text.getvalue()
    db.database.obj.close_all()
    return out


# --- the machine and the table ----------------------------------------------------------


def machine() -> str:
    cpu = "?"
    with contextlib.suppress(OSError):  # no /proc (not Linux): lscpu below, or unknown
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    if cpu == "?" and shutil.which("lscpu"):
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name"):
                cpu = line.split(":", 1)[1].strip()
    return (f"{platform.platform()}, {platform.machine()}, {os.cpu_count()} cores ({cpu}), "
            f"Python {platform.python_version()}")


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _stats(ms: list[float]) -> str:
    ms = sorted(ms)
    p90 = ms[max(0, int(len(ms) * 0.9 + 0.5) - 1)]
    return f"{statistics.median(ms):7.2f} / {p90:7.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--repeat", type=int, default=20, help="timed rounds (after 2 warm-up)")
    parser.add_argument("--profile", choices=PROFILABLE,
                        help="also print a cProfile of this reading operation")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    print(f"load average at start: {_load()}", flush=True)
    engines = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    results: dict[str, dict] = {}
    pg = None
    try:
        for engine in engines:
            if engine == "sqlite":
                tmp = Path(tempfile.mkdtemp(prefix="hubcore-bench-"))
                url = f"sqlite:///{tmp / 'childcare.sqlite3'}"
            else:
                pg = Postgres()
                url = pg.new_database(pg.start(), "childcare_bench")
            print(f"{engine}: setting up and timing ...", file=sys.stderr, flush=True)
            results[engine] = run(url, args.repeat, args.profile)
            if engine == "sqlite":
                shutil.rmtree(tmp, ignore_errors=True)
            else:
                pg.stop()
                pg = None
    finally:
        if pg is not None:
            pg.stop()
    first = next(iter(results.values()))
    print(f"data: {', '.join(f'{k} {v:,}' for k, v in first['counts'].items())}; "
          f"busy day {BUSY}, month {YEAR}-{MONTH:02d}")
    for engine, r in results.items():
        print(f"{engine}: set-up {r['setup_s']:.1f} s, invoice lines after the run "
              f"{r['invoice_lines']:,}")
    print(f"\ntimes in ms, median / 90th percentile of {args.repeat} rounds "
          f"(after 2 warm-up rounds), in-process; SQL statements sent by one call "
          f"(BEGIN/COMMIT not counted; a/b where the databases differ)\n")
    print("| operation | " + " | ".join(results) + " | SQL statements | result |")
    print("| --- | " + " | ".join("---:" for _ in results) + " | ---: | --- |")
    for key, label in OPS:
        cells = " | ".join(_stats(r["ms"][key]) for r in results.values())
        counts = "/".join(str(n) for n in dict.fromkeys(r["queries"][key]
                                                         for r in results.values()))
        print(f"| {label} | {cells} | {counts} | {first['notes'].get(key, '')} |")
    print(f"\nload average at the end: {_load()}")
    for engine, r in results.items():
        if r.get("profile"):
            print(f"\n== cProfile of {args.profile} on {engine}\n{r['profile']}")


if __name__ == "__main__":
    main()
