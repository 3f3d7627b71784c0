"""A busy hub's calendar: 20 rooms, 10,000 bookings a year, a third of them recurring.

    DATABASE_URL=sqlite:///busy.sqlite3 python bench/calendar_data.py --bookings 10000

Bookings are laid out on a grid of free hours so that none overlap (as the real
conflict check would have ensured), and written with bulk inserts: going through
create_booking would take minutes for 100,000 bookings and measure nothing. Each
10,000 bookings fill one more year, ending with BUSY_YEAR. Every room keeps
Wednesdays 07:00–09:00 free: bench/calendar_booking.py books there.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import time
from zoneinfo import ZoneInfo

PER_YEAR = 10_000
ROOMS = 20
BUSY_YEAR = 2027
TOKYO = ZoneInfo("Asia/Tokyo")
FIRST_HOUR, LAST_HOUR = 9, 21  # bookings fill 09:00–21:00; 07:00–09:00 stays free


def generate(site, bookings: int, seed: int = 2027) -> dict:
    """Rooms and ``bookings`` bookings at ``site``; returns counts and the rooms."""
    from hubcore.calendar.models import Booking, BookingOccurrence
    from hubcore.calendar.operations import _insert, _Occ
    from hubcore.db import utcnow, write_transaction
    from hubcore.rooms.models import Room

    rng = random.Random(seed)
    rooms = [Room.create(site=site, name=f"部屋{i + 1:02d}", capacity=rng.choice([10, 20, 30]),
                         shareable=i % 5 == 0) for i in range(ROOMS)]
    years = max(1, -(-bookings // PER_YEAR))
    first = dt.date(BUSY_YEAR - years + 1, 1, 1)
    last = dt.date(BUSY_YEAR, 12, 31)
    days = (last - first).days + 1
    taken: set[tuple[int, int, int]] = set()  # (room index, day number, hour)
    made = occurrences = 0
    now = utcnow()
    started = time.perf_counter()
    while made < bookings:
        with write_transaction():
            for _ in range(min(2000, bookings - made)):
                while True:
                    r = rng.randrange(ROOMS)
                    day = rng.randrange(days)
                    hour = rng.randrange(FIRST_HOUR, LAST_HOUR - 1)
                    length = rng.choice([1, 1, 2, 2, 3]) if hour + 3 <= LAST_HOUR else 1
                    recurring = rng.random() < 1 / 3
                    step, count = (7, rng.randint(3, 10)) if recurring else (0, 1)
                    if recurring and rng.random() < 0.2:
                        step, count = 14, rng.randint(3, 6)  # every other week
                    cells = [(r, day + k * step, h) for k in range(count)
                             for h in range(hour, hour + length)]
                    if all(c[1] < days and c not in taken for c in cells):
                        break
                taken.update(cells)
                date = first + dt.timedelta(days=day)
                start = dt.datetime.combine(date, dt.time(hour), TOKYO)
                rule = ""
                if recurring:
                    rule = f"FREQ=WEEKLY;COUNT={count}" + (";INTERVAL=2" if step == 14 else "")
                b = Booking.create(
                    site=site, room=rooms[r], title=rng.choice(TITLES),
                    attendance=rng.randint(2, 10),
                    start_at=start.astimezone(dt.UTC),
                    end_at=(start + dt.timedelta(hours=length)).astimezone(dt.UTC),
                    tzid="Asia/Tokyo", rrule=rule, uid=f"bench-{made}@hubcore",
                    created_at=now, updated_at=now)
                occs = []
                for k in range(count):
                    s = start + dt.timedelta(days=k * step)
                    e = s + dt.timedelta(hours=length)
                    occs.append(_Occ(s.astimezone(dt.UTC), s.astimezone(dt.UTC),
                                     e.astimezone(dt.UTC), rooms[r].id))
                _insert(b, occs)
                made += 1
                occurrences += count
    from hubcore import db

    db.database.execute_sql("ANALYZE")
    return {"rooms": rooms, "bookings": made, "occurrences": occurrences,
            "years": f"{first.year}–{last.year}", "seconds": time.perf_counter() - started,
            "rows": BookingOccurrence.select().count()}


TITLES = ["親子ひろば", "デイサービス", "こども食堂", "将棋クラブ", "書道教室", "体操",
          "自治会会議", "子育て相談", "手芸サークル", "宿題カフェ", "ヨガ", "パソコン教室",
          "認知症カフェ", "合唱"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bookings", type=int, default=PER_YEAR)
    parser.add_argument("--site", default="busy-hub")
    args = parser.parse_args()
    from hubcore import db
    from hubcore.config import load_settings
    from hubcore.migrations import migrate
    from hubcore.plugins import get_host
    from hubcore.testing import make_site

    db.configure(load_settings().database_url)
    migrate(get_host())
    with db.database.connection_context():
        site = make_site(args.site, municipality=args.site + "-town", name="にぎわい拠点")
        result = generate(site, args.bookings)
    print(f"{result['bookings']} bookings, {result['rows']} occurrence rows "
          f"({result['years']}) in {result['seconds']:.1f} s")


if __name__ == "__main__":
    main()
