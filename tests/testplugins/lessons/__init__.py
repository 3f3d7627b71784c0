"""A test plugin that bills: lessons (10 %), lunches (8 %), free child lunches (hidden),
and day care under care insurance (non-taxable, a 1割 copay of units × a Decimal price).

Its records are ``lessons_attendance`` rows; prices come from the core price table.
With LESSONS_SLEEP=seconds in the environment it sleeps that long per payer, so a
test can kill a monthly run half way. ``python -m testplugins.lessons ARGS`` runs
the ``hubcore`` command with this plugin registered (for subprocess tests).
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections import defaultdict
from decimal import ROUND_FLOOR, Decimal

import peewee

from hubcore.billing import LineItem, PaymentMethod, TaxCategory
from hubcore.billing.models import Organisation
from hubcore.billing.operations import PriceBook, add_price
from hubcore.db import BaseModel
from hubcore.hookspecs import hookimpl
from hubcore.i18n import N_
from hubcore.migrations import Migrations, create_tables
from hubcore.people.models import Household
from hubcore.plugins import PluginMeta
from hubcore.sites.models import Site

PLUGIN = PluginMeta(name="lessons", label_ja="教室", label_en="Lessons",
                    requires=("billing",), description="Lessons and lunches (test plugin).")


class Attendance(BaseModel):
    site = peewee.ForeignKeyField(Site, on_delete="CASCADE")
    household = peewee.ForeignKeyField(Household, null=True, on_delete="CASCADE")
    organisation = peewee.ForeignKeyField(Organisation, null=True, on_delete="CASCADE")
    person_name = peewee.CharField(max_length=100, default="")
    day = peewee.DateField()
    code = peewee.CharField(max_length=20)  # lesson, lunch, child_lunch, care
    quantity = peewee.DecimalField(max_digits=10, decimal_places=2, default=1)

    class Meta:
        table_name = "lessons_attendance"


@hookimpl
def register_models():
    return [Attendance]


@hookimpl
def register_migrations():
    return Migrations("lessons", [create_tables(Attendance)])


@hookimpl
def payment_methods():
    return [PaymentMethod("lesson_points", N_("Lesson points"), order=50)]


def _load(site, period) -> dict[str, list[Attendance]]:
    by_payer: dict[str, list[Attendance]] = defaultdict(list)
    q = (Attendance.select().where((Attendance.site == site)
                                   & Attendance.day.between(period.first_day, period.last_day))
         .order_by(Attendance.day, Attendance.id))
    for a in q:
        key = (f"household:{a.household_id}" if a.household_id
               else f"organisation:{a.organisation_id}")
        by_payer[key].append(a)
    return by_payer


@hookimpl
def invoice_lines(site, payer, period):
    pause = float(os.environ.get("LESSONS_SLEEP", "0") or 0)
    if pause:
        time.sleep(pause)
    rows = period.memo(f"lessons:{site.id}", lambda: _load(site, period)).get(payer.key, [])
    book = period.memo(f"lessons-prices:{site.id}", lambda: PriceBook(site, "lessons"))
    lines = []
    for a in rows:
        price = book.on(a.code, a.day)
        qty = Decimal(a.quantity)
        who = f"{a.person_name} " if a.person_name else ""
        if a.code == "care":
            # care.md: yen = floor(units × unit price); the user pays yen − floor(yen × 0.9)
            yen = int((qty * price.unit_price).to_integral_value(ROUND_FLOOR))
            amount = yen - int((Decimal(yen) * Decimal("0.9")).to_integral_value(ROUND_FLOOR))
        else:
            amount = int((qty * price.unit_price).to_integral_value(ROUND_FLOOR))
        lines.append(LineItem(
            program="lessons", description=f"{who}{price.label}", amount=amount,
            tax=TaxCategory(price.tax_category), quantity=qty, unit_price=price.unit_price,
            day=a.day, ref=f"lessons_attendance:{a.id}", hide_if_zero=a.code == "child_lunch"))
    return lines


PRICES = [  # code, label, unit price, tax
    ("lesson", "書道教室", "1100", TaxCategory.STANDARD),
    ("lunch", "昼食", "500", TaxCategory.REDUCED),
    ("child_lunch", "昼食", "0", TaxCategory.REDUCED),
    ("care", "通所介護(単位)", "10.45", TaxCategory.NON_TAXABLE),
]


def add_prices(site, valid_from: dt.date = dt.date(2024, 4, 1)) -> None:
    for code, label, unit, tax in PRICES:
        add_price(site, "lessons", code, label, Decimal(unit), tax, valid_from)


def seed(site, households: int, month: dt.date = dt.date(2026, 4, 1),
         organisations: int = 1) -> None:
    """Prices, ``households`` households and a deterministic month of attendance."""
    add_prices(site)
    rows = []
    for i in range(0, households, 1000):
        Household.insert_many([
            {"site": site, "name": f"世帯{n:05d}", "name_kana": f"セタイ{n:05d}",
             "kana_key": f"セタイ{n:05d}"} for n in range(i, min(households, i + 1000))
        ]).execute()
    hh = list(Household.select().where(Household.site == site).order_by(Household.id))
    for i, h in enumerate(hh):
        if i % 7 == 6:
            continue  # some households have nothing this month: no invoice
        for d in range(1 + i % 3):
            day = month + dt.timedelta(days=d * 3 + i % 5)
            rows.append({"site": site, "household": h, "person_name": f"子{i}", "day": day,
                         "code": "child_lunch", "quantity": 1})
            rows.append({"site": site, "household": h, "day": day, "code": "lunch",
                         "quantity": 1})
            if i % 2:
                rows.append({"site": site, "household": h, "day": day, "code": "lesson",
                             "quantity": 1})
            if i % 4 == 1:
                rows.append({"site": site, "household": h, "day": day, "code": "care",
                             "quantity": 535 + i})
    for j in range(organisations):
        org = Organisation.create(municipality=site.municipality_id, name=f"株式会社テスト{j}")
        for d in range(3):
            rows.append({"site": site, "organisation": org, "person_name": f"社員{d}",
                         "day": month + dt.timedelta(days=d), "code": "lesson", "quantity": 2})
    # insert_many takes its columns from the first row: give every row every column.
    blank = {"household": None, "organisation": None, "person_name": ""}
    rows = [{**blank, **r} for r in rows]
    for i in range(0, len(rows), 1000):
        Attendance.insert_many(rows[i:i + 1000]).execute()
