"""Benchmark: a municipality's cross-program report, 20 sites × a fiscal year.

    python bench/reports_municipal.py                  # SQLite (a temp file) and PostgreSQL
    python bench/reports_municipal.py --only sqlite    # or --only postgresql
    python bench/reports_municipal.py --sites 5 --repeat 3

Each site gets 800 people (an ageing town's mix), 5 rooms open Mon–Sat 9:00–21:00,
five programs (childcare, after-school, day care, meals, coworking) with a daily
calendar series each (meals twice a day), and for every occurrence of FY2026 the
attendance recorded through ``hubcore.reports.record_visits`` — the path programs
use, rollups included — one call per site and day (about 215 visits a day). Invoices
are inserted directly (issued, one per household and month, about 8 lines each, 1 %
corrected by a credit note, plus organisations paying for day care): this measures
reading them, not the monthly run (bench/billing_run.py does that).

Times: recording a day's attendance, then ``municipal_report`` for FY2026 (first
call and the median of ``--repeat`` more), one month's report, and the KPI sheet.
PostgreSQL is a throwaway cluster (hubcore.testing.PostgresCluster, fsync off as in
the tests). Target: the fiscal-year report ≤ 1 s on each database.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
import types
from collections import defaultdict
from zoneinfo import ZoneInfo

from hubcore import db
from hubcore.billing import operations as billing
from hubcore.billing.models import Invoice, InvoiceLine, Organisation
from hubcore.calendar import hours
from hubcore.calendar import operations as cal
from hubcore.calendar.models import Booking, BookingOccurrence
from hubcore.hookspecs import hookimpl
from hubcore.migrations import migrate
from hubcore.people.models import Household, Person
from hubcore.plugins import PluginMeta, get_host
from hubcore.reports.metrics import MetricRow, Period
from hubcore.reports.operations import kpi_sheet, municipal_report
from hubcore.reports.visits import VisitIn, booking_session, record_visits
from hubcore.rooms.models import Room
from hubcore.testing import PostgresCluster, _free_port, _pg_bin, make_site, registered

TOKYO = ZoneInfo("Asia/Tokyo")
FY = Period.of_fiscal_year(2026)
PEOPLE = 800
HOUSEHOLDS = 300
# program: (room, [(start, end)], headcount per session, who may join (age), share joining)
PROGRAMS = {
    "bench_childcare": ("保育室", [("09:00", "15:00")], 40, (0, 5), 0.9),
    "bench_kids": ("学習室", [("15:00", "18:00")], 40, (6, 12), 0.7),
    "bench_care": ("デイルーム", [("10:00", "16:00")], 35, (65, 120), 0.35),
    "bench_meals": ("食堂", [("11:30", "13:30"), ("17:00", "19:00")], 40, (0, 120), 0.35),
    "bench_cowork": ("ワークスペース", [("09:00", "18:00")], 20, (19, 64), 0.15),
}
# An ageing town: share of residents per age range.
AGES = [((0, 5), 0.06), ((6, 12), 0.08), ((13, 18), 0.07), ((19, 64), 0.44),
        ((65, 74), 0.17), ((75, 95), 0.18)]


def make_program(name: str) -> types.ModuleType:
    """A program plugin that reports one figure of its own (one small query)."""

    def report_metrics(site, period):
        n = (Booking.select().where((Booking.site == site) & (Booking.program == name))
             .count())
        return [MetricRow(name, "series", n, "series")]

    mod = types.ModuleType(name)
    mod.PLUGIN = PluginMeta(name=name, label_ja=name, label_en=name)
    mod.report_metrics = hookimpl(report_metrics)
    return mod


def _birth(rng: random.Random) -> dt.date:
    r, acc = rng.random(), 0.0
    ages = AGES[-1][0]
    for ages, share in AGES:  # noqa: B007 - the range the draw fell in is used below
        acc += share
        if r <= acc:
            break
    age = rng.randint(*ages)
    return dt.date(2026, 4, 1) - dt.timedelta(days=age * 365 + rng.randint(0, 364))


def seed_site(n: int, rng: random.Random, orgs: list[Organisation]) -> tuple[int, list[float]]:
    site = make_site(f"bench-{n:02d}", municipality="bench-town", name=f"拠点{n:02d}",
                     plugins=tuple(PROGRAMS))
    with db.database.atomic():
        Household.insert_many([{"site": site, "name": f"世帯{i}", "name_kana": f"セタイ{i}",
                                "kana_key": f"セタイ{i:04d}"} for i in range(HOUSEHOLDS)]).execute()
        hids = [h for (h,) in Household.select(Household.id).where(Household.site == site)
                .tuples()]
        Person.insert_many([{"site": site, "household": hids[i % HOUSEHOLDS],
                             "family_name": "試験", "given_name": f"{i}",
                             "family_name_kana": "シケン", "given_name_kana": "タロウ",
                             "kana_key": f"シケン{i:04d}", "search_text": f"試験{i}",
                             "birth_date": _birth(rng)} for i in range(PEOPLE)]).execute()
    people = list(Person.select(Person.id, Person.birth_date, Person.household)
                  .where(Person.site == site).tuples())
    members: dict[str, list[int]] = defaultdict(list)
    for pid, birth, _h in people:
        age = (dt.date(2026, 10, 1) - birth).days // 365
        for program, (_room, _t, _n, (lo, hi), share) in PROGRAMS.items():
            if lo <= age <= hi and rng.random() < share:
                members[program].append(pid)
    # Rooms, opening hours, and a daily series per program session (Mon–Sat).
    hours.set_opening_hours(site, [(d, dt.time(9), dt.time(21)) for d in range(6)])
    program_of: dict[int, str] = {}
    for program, (room_name, times, headcount, _ages, _share) in PROGRAMS.items():
        room = Room.create(site=site, name=room_name, capacity=60)
        for start, end in times:
            b = cal.create_booking(site, {
                "room": room.id, "title": program, "program": program,
                "attendance": headcount,
                "start": dt.datetime.combine(FY.first, dt.time.fromisoformat(start)),
                "end": dt.datetime.combine(FY.first, dt.time.fromisoformat(end)),
                "rrule": "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR,SA;UNTIL=20270331T235959Z"},
                skip_closed=True)
            program_of[b.id] = program
    # Attendance for every occurrence: one record_visits call per day, as a site would.
    by_day: dict[dt.date, list[VisitIn]] = defaultdict(list)
    for bid, rid, start in (BookingOccurrence.select(BookingOccurrence.booking,
                                                     BookingOccurrence.recurrence_id,
                                                     BookingOccurrence.start_at)
                            .where(BookingOccurrence.site == site).tuples()):
        program = program_of[bid]
        crowd = members[program]
        k = min(len(crowd), int(PROGRAMS[program][2] * rng.uniform(0.7, 1.1)))
        day = start.astimezone(TOKYO).date()
        by_day[day] += [VisitIn(pid, program, booking_session(bid, rid), day, start)
                        for pid in rng.sample(crowd, k)]
    timings = []
    for day in sorted(by_day):
        t = time.perf_counter()
        record_visits(site, by_day[day])
        timings.append(time.perf_counter() - t)
    n_visits = sum(len(v) for v in by_day.values())
    seed_invoices(site, people, members, orgs, rng)
    return n_visits, timings


def seed_invoices(site, people, members, orgs, rng: random.Random) -> None:
    """Issued invoices for each household and month, ~8 lines each; 1 % credited."""
    programs_of: dict[int, set[str]] = defaultdict(set)
    member_of = {pid: {p for p, ids in members.items() if pid in ids} for pid, _b, _h in people}
    for pid, _b, hid in people:
        programs_of[hid] |= member_of[pid]
    seq = 0
    invoice_cols = [Invoice.site, Invoice.kind, Invoice.status, Invoice.period, Invoice.payer_key,
                    Invoice.household, Invoice.organisation, Invoice.payer_name, Invoice.number,
                    Invoice.sequence, Invoice.total, Invoice.corrects]
    for month in FY.months:
        period = f"{month // 100}-{month % 100:02d}"
        rows, lines = [], {}
        payers = [("household", h, sorted(p)) for h, p in programs_of.items() if p]
        payers += [("organisation", o.id, ["bench_care"]) for o in orgs]
        for kind, pid, progs in payers:
            seq += 1
            items = []
            for program in progs:
                for _ in range(rng.randint(3, 6) if kind == "household" else 30):
                    items.append((program, rng.choice([300, 500, 1100, 2000])))
            key = f"{kind}:{pid}"
            rows.append((site.id, "invoice", "issued", period, key,
                         pid if kind == "household" else None,
                         pid if kind == "organisation" else None, key, f"B{seq:07d}", seq,
                         sum(a for _p, a in items), None))
            lines[key] = items
        with db.database.atomic():
            billing.bulk_insert(invoice_cols, rows)
            ids = dict(Invoice.select(Invoice.payer_key, Invoice.id).where(
                (Invoice.site == site) & (Invoice.period == period)).tuples())
            line_rows, credits = [], []
            for key, items in lines.items():
                for pos, (program, amount) in enumerate(items):
                    line_rows.append((ids[key], pos, program, "利用料", 1, amount, "standard"))
                if rng.random() < 0.01:
                    seq += 1
                    credits.append((site.id, "credit_note", "issued", period, key,
                                    int(key.split(":")[1]) if key.startswith("household") else None,
                                    int(key.split(":")[1]) if key.startswith("organisation")
                                    else None, key, f"BC{seq:06d}", seq, -items[0][1], ids[key]))
            billing.bulk_insert([InvoiceLine.invoice, InvoiceLine.position, InvoiceLine.program,
                                 InvoiceLine.description, InvoiceLine.quantity,
                                 InvoiceLine.amount, InvoiceLine.tax_category], line_rows)
            if credits:
                billing.bulk_insert(invoice_cols, credits)
                for (_s, _k, _st, _p, key, *_rest), note in zip(credits, Invoice.select(
                        Invoice.id).where((Invoice.site == site) & (Invoice.period == period)
                                          & (Invoice.kind == "credit_note"))
                        .order_by(Invoice.id).tuples(), strict=True):
                    program, amount = lines[key][0]
                    billing.bulk_insert([InvoiceLine.invoice, InvoiceLine.position,
                                         InvoiceLine.program, InvoiceLine.description,
                                         InvoiceLine.quantity, InvoiceLine.amount,
                                         InvoiceLine.tax_category],
                                        [(note[0], 0, program, "返金", 1, -amount, "standard")])


def parts(m) -> dict[str, float]:
    """Median time of each part of the fiscal-year report (5 runs each)."""
    from hubcore.reports import operations as ops

    sites = ops.list_sites(m)
    out = {}
    for name, fn in (("visits, people, sessions", ops._visits), ("room use", ops._room_use),
                     ("revenue", ops._revenue), ("report_metrics hook", ops._metrics)):
        times = []
        for _ in range(5):
            figs = {s.id: ops.Figures(s.slug, s.name) for s in sites}
            arg = list(sites) if fn in (ops._room_use, ops._metrics) else list(figs)
            times.append(timed(lambda fn=fn, figs=figs, arg=arg: fn(figs, arg, FY))[0])
        out[name] = statistics.median(times)
    return out


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def bench(url: str, sites: int, repeat: int) -> dict:
    db.configure(url)
    programs = [make_program(name) for name in PROGRAMS]
    out: dict = {}
    rng = random.Random(2026)
    with registered(*programs), db.database.connection_context():
        migrate(get_host())
        first = make_site("bench-00", municipality="bench-town", plugins=tuple(PROGRAMS))
        m = first.municipality
        orgs = [Organisation.create(municipality=m, name=f"{k}", kind=k)
                for k in ("insurer", "municipality", "company")]
        t0 = time.perf_counter()
        n_visits, day_times = 0, []
        for n in range(sites):
            v, times = seed_site(n, rng, orgs)
            n_visits += v
            day_times += times
            print(f"  site {n + 1}/{sites} seeded ({v:,} visits)", file=sys.stderr)
        out["seed"] = time.perf_counter() - t0
        if db.is_postgres():
            db.database.execute_sql("ANALYZE")  # what autovacuum would have done by now
        out["visits"] = n_visits
        out["record_day"] = (statistics.median(day_times), max(day_times))
        out["counts"] = {t: db.database.execute_sql(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                         for t in ("visit", "visit_tally", "visit_session",
                                   "booking_occurrence", "invoice", "invoice_line")}
        cold, report = timed(lambda: municipal_report(m, FY))
        out["first"] = cold
        out["fy"] = [timed(lambda: municipal_report(m, FY))[0] for _ in range(repeat)]
        out["month"] = [timed(lambda: municipal_report(m, Period.of_month(2026, 10)))[0]
                        for _ in range(repeat)]
        out["kpi"] = [timed(lambda: kpi_sheet(m, 2026))[0] for _ in range(repeat)]
        out["parts"] = parts(m)
        t = report.total
        out["figures"] = (f"people {t.people:,}, visits {t.visits:,}, in 2+ programs "
                          f"{t.multi_program:,}, mixed sessions {t.mixed_sessions:,}/"
                          f"{t.sessions:,}, room use {t.room_use:.1%}, revenue "
                          f"{t.revenue_total:,} yen")
    db.database.obj.close_all()
    return out


def report(name: str, r: dict) -> None:
    print(f"\n== {name}")
    print("rows: " + ", ".join(f"{k} {v:,}" for k, v in r["counts"].items()))
    print(f"seeding: {r['seed']:.0f} s; record_visits per site-day (~215 visits): median "
          f"{r['record_day'][0] * 1000:.1f} ms, max {r['record_day'][1] * 1000:.1f} ms")
    print(f"municipal report FY2026: first {r['first']:.3f} s, then median "
          f"{statistics.median(r['fy']):.3f} s (runs: "
          f"{', '.join(f'{s:.3f}' for s in r['fy'])})")
    print(f"municipal report one month: median {statistics.median(r['month']):.3f} s")
    print(f"KPI sheet FY2026 (report + targets): median {statistics.median(r['kpi']):.3f} s")
    print("parts (median): " + ", ".join(f"{k} {v:.3f} s" for k, v in r["parts"].items()))
    print(f"figures: {r['figures']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    if args.only != "postgresql":
        with tempfile.TemporaryDirectory() as tmp:
            report("SQLite", bench(f"sqlite:///{tmp}/bench.sqlite3", args.sites, args.repeat))
    if args.only != "sqlite":
        bindir = _pg_bin()
        if bindir is None:
            sys.exit("no PostgreSQL binaries (apt-get install postgresql)")
        cluster = PostgresCluster(bindir, _free_port())
        try:
            report("PostgreSQL", bench(cluster.start(), args.sites, args.repeat))
        finally:
            cluster.stop()


if __name__ == "__main__":
    main()
