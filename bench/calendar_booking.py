"""Time of one conflict-checked weekly-for-a-year booking, and of a week's occurrences.

    python bench/calendar_booking.py                      # SQLite and PostgreSQL, 10k and 100k
    python bench/calendar_booking.py --db sqlite --bookings 10000 --repeat 50

For each database and size: a fresh database, a busy site from bench/calendar_data.py,
then (each repeated, median and 90th percentile of wall-clock time, in-process):

- book: create_booking of FREQ=WEEKLY;COUNT=52 into a free hour of one room (validation,
  expansion, lock, holiday and opening-hours check, the conflict query, 52 inserts,
  commit). Deleted again afterwards, untimed, so every round sees the same data.
- conflict: the same series at a busy hour: refused with BookingConflict.
- week: occurrences() for one week of all 20 rooms (what a week view reads).

PostgreSQL runs in a private throwaway cluster with default durability (fsync on,
synchronous_commit on), on the same machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import calendar_data  # noqa: E402  (a sibling script)

WEEK = (dt.date(calendar_data.BUSY_YEAR, 6, 7), dt.date(calendar_data.BUSY_YEAR, 6, 14))


def _times(fn, repeat: int, after=None) -> list[float]:
    out = []
    for i in range(repeat + 2):
        t0 = time.perf_counter()
        fn()
        elapsed = time.perf_counter() - t0
        if after is not None:
            after()
        if i >= 2:  # two warm-up rounds
            out.append(elapsed * 1000)
    return out


def _stats(ms: list[float]) -> str:
    ms = sorted(ms)
    return f"{statistics.median(ms):6.2f} / {ms[int(len(ms) * 0.9) - 1]:6.2f}"


def run(url: str, bookings: int, repeat: int) -> dict:
    from hubcore import db
    from hubcore.calendar import operations as ops
    from hubcore.calendar.models import Booking, BookingOccurrence
    from hubcore.migrations import migrate
    from hubcore.plugins import get_host
    from hubcore.testing import make_site

    db.configure(url)
    migrate(get_host())
    with db.database.connection_context():
        site = make_site("busy-hub", municipality="busy-town", name="にぎわい拠点")
        data = calendar_data.generate(site, bookings)
        rooms = data["rooms"]
        free = {"room": rooms[3].id, "title": "朝の体操", "attendance": 5,
                "start": f"{calendar_data.BUSY_YEAR}-01-06T07:00",
                "end": f"{calendar_data.BUSY_YEAR}-01-06T08:00", "rrule": "FREQ=WEEKLY;COUNT=52"}
        busy = {**free, "start": f"{calendar_data.BUSY_YEAR}-01-06T10:00",
                "end": f"{calendar_data.BUSY_YEAR}-01-06T12:00"}
        made: list[int] = []

        def book() -> None:
            made.append(ops.create_booking(site, free, skip_closed=True).id)

        def undo() -> None:
            BookingOccurrence.delete().where(BookingOccurrence.booking == made[-1]).execute()
            Booking.delete().where(Booking.id == made[-1]).execute()

        conflicts: list[int] = []

        def conflict() -> None:
            try:
                ops.create_booking(site, busy, skip_closed=True)
            except ops.BookingConflict as exc:
                conflicts.append(len(exc.conflicts))
            else:
                raise SystemExit("the busy hour was free: the data generator changed?")

        week_rows: list[int] = []

        def week() -> None:
            week_rows.append(len(ops.occurrences(site, *WEEK)))

        result = {"data": data, "book": _times(book, repeat, undo),
                  "conflict": _times(conflict, repeat), "week": _times(week, repeat),
                  "conflicts": statistics.median(conflicts), "week_rows": week_rows[-1]}
    db.database.obj.close_all()
    return result


class Postgres:
    """A throwaway cluster like hubcore.testing's, but with default durability."""

    def __init__(self) -> None:
        from hubcore.testing import _free_port, _pg_bin

        self.bin = _pg_bin()
        if self.bin is None:
            raise SystemExit("no PostgreSQL binaries (apt-get install postgresql)")
        self.port = _free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="hubcore-bench-pg-"))
        self.root = os.geteuid() == 0

    def _run(self, *args) -> None:
        cmd = [str(a) for a in args]
        if self.root:
            cmd = ["su", "postgres", "-c", " ".join(f"'{c}'" for c in cmd)]
        subprocess.run(cmd, check=True, capture_output=True)

    def start(self) -> str:
        if self.root:
            shutil.chown(self.dir, "postgres")
        self._run(self.bin / "initdb", "-D", self.dir / "data", "-U", "postgres",
                  "--auth-local=trust", "--auth-host=trust", "-E", "UTF8", "--locale=C.UTF-8")
        self._run(self.bin / "pg_ctl", "-D", self.dir / "data", "-l", self.dir / "log", "-w",
                  "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1", "start")
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def new_database(self, admin: str, name: str) -> str:
        import psycopg

        with psycopg.connect(admin, autocommit=True) as c:
            c.execute(f"DROP DATABASE IF EXISTS {name}")
            c.execute(f"CREATE DATABASE {name}")
        return admin.rsplit("/", 1)[0] + "/" + name

    def stop(self) -> None:
        try:
            self._run(self.bin / "pg_ctl", "-D", self.dir / "data", "-m", "fast", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


def machine() -> str:
    cpu = "?"
    if shutil.which("lscpu"):
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name"):
                cpu = line.split(":", 1)[1].strip()
    return f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--bookings", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    print("times in ms, median / 90th percentile\n")
    print("| database | bookings | occurrence rows | book weekly×52 | conflict (refused) "
          "| week of 20 rooms |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    engines = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    pg = None
    try:
        for engine in engines:
            if engine == "postgresql":
                pg = Postgres()
                admin = pg.start()
            for n in args.bookings:
                if engine == "sqlite":
                    tmp = Path(tempfile.mkdtemp(prefix="hubcore-bench-"))
                    url = f"sqlite:///{tmp / 'busy.sqlite3'}"
                else:
                    url = pg.new_database(admin, f"busy_{n}")
                r = run(url, n, args.repeat)
                if engine == "sqlite":
                    shutil.rmtree(tmp, ignore_errors=True)
                print(f"| {engine} | {r['data']['bookings']:,} | {r['data']['rows']:,} "
                      f"| {_stats(r['book'])} | {_stats(r['conflict'])} "
                      f"({r['conflicts']:.0f} in the way) | {_stats(r['week'])} "
                      f"({r['week_rows']} rows) |", flush=True)
    finally:
        if pg is not None:
            pg.stop()


if __name__ == "__main__":
    main()
