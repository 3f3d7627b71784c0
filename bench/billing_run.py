"""Benchmark: the monthly billing run for 10,000 households and three programs.

    python bench/billing_run.py                 # SQLite (a temp file) and PostgreSQL
    python bench/billing_run.py --only sqlite   # or --only postgresql
    python bench/billing_run.py --households 2000 --repeat 1
    python bench/billing_run.py --batch-size 1     # a transaction per payer

The script registers three test-like programs (meals at 8 % with free children's
meals hidden, lessons at 10 %, day care under care insurance, non-taxable), each
with its own usage table, loading the month with one query per run through
``period.memo`` as docs/hooks.md advises. It fills a fresh database, then times:
the first run (every invoice created), a rerun with nothing changed, a rerun after
10 % of the households' usage changed, and (once) issuing every invoice.
PostgreSQL is a throwaway cluster (hubcore.testing.PostgresCluster, fsync off as in
the tests) on this machine. Targets: first run ≤ 3 s on each database.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
import types
from collections import defaultdict
from decimal import ROUND_FLOOR, Decimal

import peewee

from hubcore import db
from hubcore.billing import LineItem, TaxCategory
from hubcore.billing import operations as ops
from hubcore.billing.models import Invoice, InvoiceLine
from hubcore.billing.run import BATCH_SIZE, run_month
from hubcore.db import BaseModel
from hubcore.hookspecs import hookimpl
from hubcore.migrations import Migrations, create_tables, migrate
from hubcore.people.models import Household
from hubcore.plugins import PluginMeta, get_host
from hubcore.sites.models import Site
from hubcore.testing import PostgresCluster, _free_port, _pg_bin, make_site, registered

MONTH = dt.date(2026, 4, 1)
PROGRAMS = {  # name: (code, label, unit price, tax)
    "bench_meals": [("meal", "昼食", "500", TaxCategory.REDUCED),
                    ("child_meal", "昼食", "0", TaxCategory.REDUCED)],
    "bench_lessons": [("lesson", "書道教室", "1100", TaxCategory.STANDARD)],
    "bench_care": [("day_care", "通所介護 7-8時間", "10.45", TaxCategory.NON_TAXABLE)],
}


def make_program(name: str) -> types.ModuleType:
    """A plugin module like a real program: its own usage table, its own lines."""

    class Usage(BaseModel):
        site = peewee.ForeignKeyField(Site)
        household = peewee.ForeignKeyField(Household)
        day = peewee.DateField()
        code = peewee.CharField(max_length=20)
        quantity = peewee.DecimalField(max_digits=10, decimal_places=2)

        class Meta:
            table_name = f"{name}_usage"
            indexes = ((("site", "day"), False),)

    def load(site, period):
        rows = (Usage.select(Usage.id, Usage.household, Usage.day, Usage.code, Usage.quantity)
                .where((Usage.site == site) & Usage.day.between(period.first_day,
                                                                period.last_day))
                .order_by(Usage.day, Usage.id).tuples())
        by_payer = defaultdict(list)
        for row in rows:
            by_payer[row[1]].append(row)
        return by_payer

    def invoice_lines(site, payer, period):
        if payer.household_id is None:
            return None
        rows = period.memo(name, lambda: load(site, period)).get(payer.household_id)
        if not rows:
            return None
        book = period.memo(name + ":prices", lambda: ops.PriceBook(site, name))
        out = []
        for uid, _, day, code, qty in rows:
            price = book.on(code, day)
            qty = Decimal(qty)
            yen = int((qty * price.unit_price).to_integral_value(ROUND_FLOOR))
            if code == "day_care":  # the user's 1割: yen − floor(yen × 0.9)
                yen -= int((yen * Decimal("0.9")).to_integral_value(ROUND_FLOOR))
            out.append(LineItem(program=name, description=price.label, amount=yen,
                                tax=TaxCategory(price.tax_category), quantity=qty,
                                unit_price=price.unit_price, day=day, ref=f"{name}_usage:{uid}",
                                hide_if_zero=code == "child_meal"))
        return out

    mod = types.ModuleType(name)
    mod.PLUGIN = PluginMeta(name=name, label_ja=name, label_en=name, requires=("billing",))
    mod.Usage = Usage
    mod.register_models = hookimpl(lambda: [Usage])
    mod.register_migrations = hookimpl(lambda: Migrations(name, [create_tables(Usage)]))
    mod.invoice_lines = hookimpl(invoice_lines)
    return mod


def seed(site, households: int, programs: dict[str, types.ModuleType]) -> int:
    for name, prices in PROGRAMS.items():
        for code, label, unit, tax in prices:
            ops.add_price(site, name, code, label, Decimal(unit), tax, dt.date(2024, 4, 1))
    with db.database.atomic():
        for i in range(0, households, 2000):
            Household.insert_many([
                {"site": site, "name": f"世帯{n:05d}", "name_kana": f"セタイ{n:05d}",
                 "kana_key": f"セタイ{n:05d}", "address": f"山ノ内町{n}番地"}
                for n in range(i, min(households, i + 2000))]).execute()
    ids = [h for (h,) in Household.select(Household.id).where(Household.site == site)
           .order_by(Household.id).tuples()]
    rows: dict[str, list[tuple]] = defaultdict(list)
    for n, hid in enumerate(ids):
        for k in range(4):  # four cafeteria days a month, a child eating free
            day = MONTH + dt.timedelta(days=7 * k + n % 7)
            rows["bench_meals"].append((site.id, hid, day, "meal", 1))
            if n % 3 == 0:
                rows["bench_meals"].append((site.id, hid, day, "child_meal", 1))
        if n % 2:
            for k in range(2):
                rows["bench_lessons"].append((site.id, hid, MONTH + dt.timedelta(days=10 + k),
                                              "lesson", 1))
        if n % 4 == 1:
            for k in range(3):
                rows["bench_care"].append((site.id, hid, MONTH + dt.timedelta(days=3 + k * 7),
                                           "day_care", 658))
    with db.database.atomic():
        for name, mod in programs.items():
            u = mod.Usage
            ops.bulk_insert([u.site, u.household, u.day, u.code, u.quantity], rows[name])
    return sum(len(r) for r in rows.values())


def clear_invoices() -> None:
    with db.database.atomic():
        InvoiceLine.delete().execute()
        Invoice.delete().execute()


def change_some(programs, fraction: int = 10) -> None:
    """Give every tenth household one more meal (their drafts must be rewritten)."""
    u = programs["bench_meals"].Usage
    with db.database.atomic():
        extra = [(site_id, hid, MONTH + dt.timedelta(days=27), "meal", 1)
                 for site_id, hid in Household.select(Household.site, Household.id).tuples()
                 if hid % fraction == 0]
        ops.bulk_insert([u.site, u.household, u.day, u.code, u.quantity], extra)


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def bench(url: str, households: int, repeat: int, batch_size: int) -> dict:
    db.configure(url)
    programs = {name: make_program(name) for name in PROGRAMS}
    out: dict = {}
    with registered(*programs.values()), db.database.connection_context():
        migrate(get_host())
        site = make_site("bench", plugins=tuple(programs))
        n_usage = seed(site, households, programs)
        firsts = []
        for _ in range(repeat):
            clear_invoices()
            seconds, result = timed(lambda: run_month(site, "2026-04", batch_size=batch_size))
            firsts.append(seconds)
        out["first"] = firsts
        out["result"] = result.summary()
        out["usage_rows"] = n_usage
        out["lines"] = InvoiceLine.select().count()
        out["rerun"] = [timed(lambda: run_month(site, "2026-04"))[0] for _ in range(repeat)]
        change_some(programs)
        seconds, result = timed(lambda: run_month(site, "2026-04"))
        out["changed"] = (seconds, result.summary())
        ops.review_all(site, "2026-04")
        seconds, issued = timed(lambda: ops.issue_reviewed(site, "2026-04"))
        out["issue"] = (seconds, len(issued))
        seconds, data = timed(lambda: __import__("hubcore.billing.export", fromlist=["x"])
                              .export_invoices(site, "2026-04"))
        out["export"] = (seconds, len(data))
    db.database.obj.close_all()
    return out


def report(name: str, r: dict) -> None:
    print(f"\n== {name}")
    print(f"usage rows: {r['usage_rows']}, invoice lines written: {r['lines']}")
    print(f"first run (all created): median {statistics.median(r['first']):.2f} s "
          f"(runs: {', '.join(f'{s:.2f}' for s in r['first'])})  {r['result']}")
    print(f"rerun, nothing changed: median {statistics.median(r['rerun']):.2f} s")
    print(f"rerun after 10 % changed: {r['changed'][0]:.2f} s  {r['changed'][1]}")
    print(f"issue every invoice (200 per transaction): {r['issue'][0]:.2f} s "
          f"for {r['issue'][1]}")
    print(f"CSV export of the month: {r['export'][0]:.2f} s, {r['export'][1]:,} bytes")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE,
                        help="payers per transaction in the timed first run")
    args = parser.parse_args()
    if args.only != "postgresql":
        with tempfile.TemporaryDirectory() as tmp:
            report("SQLite", bench(f"sqlite:///{tmp}/bench.sqlite3", args.households,
                                   args.repeat, args.batch_size))
    if args.only != "sqlite":
        bindir = _pg_bin()
        if bindir is None:
            sys.exit("no PostgreSQL binaries (apt-get install postgresql)")
        cluster = PostgresCluster(bindir, _free_port())
        try:
            report("PostgreSQL", bench(cluster.start(), args.households, args.repeat,
                                       args.batch_size))
        finally:
            cluster.stop()


if __name__ == "__main__":
    main()
