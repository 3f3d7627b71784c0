"""Childcare's invoice lines (the ``invoice_lines`` hook).

The whole month of a site is computed once per run (``period.memo``): a few queries,
then every payer's lines come from memory. Deterministic: the same records give the
same lines in the same order, so a rerun leaves unchanged drafts alone.

Household payers, per checked-out drop-in stay (``Attendance``):

- the care fee. The billed stay is the reservation's span, or the actual stay if
  that was longer (check-in to check-out, cut at closing time: time after closing is
  the late fee). Times count in whole clock minutes (seconds dropped). Shape
  ``band_session``: a half day when the stay is at most ``half_day_minutes``, else a
  day, priced by the child's age band on the day of care (``settings.price_band``);
  shape ``per_30min``: every started 30 minutes.
- the sibling discount: on a day two or more children of the household are in
  drop-in care, every child but the one with the highest care fee that day gets
  ``sibling_discount_percent`` off the care fee; the fee after it is rounded down to
  the yen (in the family's favour). Meals and late fees get none.
- relief (discount mode): one negative line per child-day, the bracket's amount but
  never more than the child's care fee that day after the sibling discount.
- snack and lunch (8 %): the stay's flags. Check-in copies them from the reservation
  and staff may change them on the day, so the stay's flags are what was eaten.
- the late fee: every started ``late_block_minutes`` after closing.

After-school club: ``afterschool_month`` for every child enrolled in the month (the
second and later enrolled child of a household get the sibling discount).

An organisation payer is billed only where the site's settings name it as the relief
payer in discount mode: one line per household, the relief it was given (代理受領).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal

from peewee import JOIN

from hubcore.billing import LineItem, Month, Payer, TaxCategory
from hubcore.billing.models import Price
from hubcore.billing.operations import PriceBook
from hubcore.calendar.models import to_utc
from hubcore.calendar.operations import site_zone
from hubcore.errors import Invalid, NotFound
from hubcore.i18n import N_
from hubcore.people.models import Household, Person, age_on
from hubcore.sites.models import Site
from plugins.childcare.models import DROPIN, Attendance, Child, Enrolment, Reservation
from plugins.childcare.relief import Bracket, ReliefLookup
from plugins.childcare.settings import PROGRAM, closing_time, get_settings, invoice_text, price_band


@dataclass(frozen=True)
class Stay:
    """What billing needs of one checked-out drop-in attendance."""

    id: int
    child_id: int
    household_id: int
    child_name: str
    kana_key: str
    birth: dt.date | None
    day: dt.date
    checked_in_at: dt.datetime
    checked_out_at: dt.datetime
    late_minutes: int
    lunch: bool
    snack: bool
    reserved_from: dt.datetime | None
    reserved_to: dt.datetime | None


@dataclass(frozen=True)
class ChildDayRelief:
    household_id: int
    child_id: int
    child_name: str
    day: dt.date
    bracket: Bracket
    amount: int  # yen, > 0
    tax: TaxCategory
    ref: str


@dataclass
class MonthBill:
    """A site's childcare billing of one month, for every payer."""

    lines: dict[int, list[LineItem]] = field(default_factory=dict)  # household id → lines
    relief: list[ChildDayRelief] = field(default_factory=list)
    relief_mode: str = "discount"
    relief_payer_id: int | None = None


def _minutes(start: dt.datetime, end: dt.datetime) -> int:
    """Whole clock minutes from ``start`` to ``end`` (0 if not after): 09:00:40 to
    09:30:10 is 30, as the tablet shows them."""
    a, b = start.replace(second=0, microsecond=0), end.replace(second=0, microsecond=0)
    return max(0, int((b - a).total_seconds()) // 60)


def billed_minutes(stay: Stay, closing: dt.datetime) -> int:
    """The reservation's span or the actual stay if longer, both cut at ``closing``."""
    actual = _minutes(stay.checked_in_at, min(stay.checked_out_at, closing))
    if stay.reserved_from is None or stay.reserved_to is None:
        return actual
    return max(actual, _minutes(stay.reserved_from, min(stay.reserved_to, closing)))


def _yen(d: Decimal) -> int:
    return int(d.to_integral_value(ROUND_FLOOR))


def _load_stays(site: Site, period: Month) -> list[Stay]:
    q = (Attendance.select(Attendance.id, Attendance.child, Person.household,
                           Person.family_name, Person.given_name, Person.kana_key,
                           Person.birth_date, Attendance.day, Attendance.checked_in_at,
                           Attendance.checked_out_at, Attendance.late_minutes, Attendance.lunch,
                           Attendance.snack, Reservation.start_at, Reservation.end_at)
         .join(Child, on=Attendance.child == Child.id)
         .join(Person, on=Child.person == Person.id)
         .switch(Attendance)
         .join(Reservation, JOIN.LEFT_OUTER, on=Attendance.reservation == Reservation.id)
         .where((Attendance.site == site) & (Attendance.program == DROPIN)
                & Attendance.day.between(period.first_day, period.last_day)
                & Attendance.checked_out_at.is_null(False) & Person.household.is_null(False))
         .order_by(Attendance.day, Person.kana_key, Attendance.child, Attendance.id))
    out = []
    for (aid, child_id, household_id, family, given, kana, birth, day, cin, cout, late, lunch,
         snack, r_from, r_to) in q.tuples():
        out.append(Stay(aid, child_id, household_id, f"{family} {given}", kana, birth, day,
                        to_utc(cin), to_utc(cout), late or 0, bool(lunch), bool(snack),
                        to_utc(r_from), to_utc(r_to)))
    return out


class _Prices:
    """The price book, with a refusal that says what to do when a price is missing."""

    def __init__(self, site: Site):
        self.book = PriceBook(site, PROGRAM)

    def on(self, code: str, day: dt.date) -> Price:
        try:
            return self.book.on(code, day)
        except NotFound:
            raise Invalid({"period": invoice_text(N_(
                "Childcare has no price “{code}” on {day}: add it in the childcare "
                "settings.")).format(code=code, day=day.isoformat())}) from None


def _line(description: str, amount: int, tax: str | TaxCategory, *, day: dt.date | None = None,
          quantity: Decimal | int = 1, unit_price: Decimal | None = None, ref: str = "",
          period: Month | None = None) -> LineItem:
    return LineItem(program=PROGRAM, description=description[:300], amount=amount,
                    tax=TaxCategory(tax), quantity=Decimal(quantity), unit_price=unit_price,
                    day=day, period_from=period.first_day if period else None,
                    period_to=period.last_day if period else None, ref=ref,
                    hide_if_zero=True)


@dataclass
class _Care:
    """A stay's care fee, computed before the day's sibling discount is known."""

    stay: Stay
    price: Price
    quantity: int
    fee: int
    minutes: int
    discount: int = 0


def _care_fee(stay: Stay, settings, prices: _Prices, closing: dt.datetime) -> _Care:
    minutes = billed_minutes(stay, closing)
    if settings.price_shape == "per_30min":
        price = prices.on("dropin_30min", stay.day)
        blocks = math.ceil(minutes / 30)
        return _Care(stay, price, blocks, _yen(price.unit_price * blocks), minutes)
    length = "half" if minutes <= settings.half_day_minutes else "day"
    band = price_band(age_on(stay.birth, stay.day))
    price = prices.on(f"dropin_{length}_{band}", stay.day)
    return _Care(stay, price, 1, _yen(price.unit_price), minutes)


def _discounted(fee: int, percent: int) -> int:
    """The fee after ``percent`` off, rounded down to the yen."""
    return fee * (100 - percent) // 100


def _sibling_discounts(cares: list[_Care], percent: int) -> None:
    """Set the discount of every child but the dearest of a household's day."""
    if percent <= 0:
        return
    by_day: dict[tuple[int, dt.date], dict[int, list[_Care]]] = defaultdict(dict)
    for c in cares:
        by_day[(c.stay.household_id, c.stay.day)].setdefault(c.stay.child_id, []).append(c)
    for children in by_day.values():
        if len(children) < 2:
            continue
        # The dearest child pays in full; on a tie, the one checked in first that day.
        full = max(children, key=lambda cid: (sum(c.fee for c in children[cid]),
                                              -min(c.stay.id for c in children[cid])))
        for cid, stays in children.items():
            if cid != full:
                for c in stays:
                    c.discount = c.fee - _discounted(c.fee, percent)


def compute_month(site: Site, period: Month) -> MonthBill:
    """Every household's childcare lines of ``period`` and the month's relief."""
    settings = get_settings(site)
    prices = _Prices(site)
    zone = site_zone(site)
    close = closing_time(settings)
    stays = _load_stays(site, period)
    relief = ReliefLookup(site, period.first_day, period.last_day)
    bill = MonthBill(relief_mode=settings.relief_mode, relief_payer_id=settings.relief_payer_id)
    cares = [_care_fee(s, settings, prices, dt.datetime.combine(s.day, close, zone))
             for s in stays]
    _sibling_discounts(cares, settings.sibling_discount_percent)

    # Relief per child-day, capped at that day's care fees after the discount.
    day_fee: dict[tuple[int, dt.date], int] = defaultdict(int)
    for c in cares:
        day_fee[(c.stay.child_id, c.stay.day)] += c.fee - c.discount
    relief_of: dict[int, ChildDayRelief] = {}  # first stay id of the child-day → relief
    for c in cares:
        key = (c.stay.child_id, c.stay.day)
        if key not in day_fee:
            continue  # the child-day's relief is on its first stay
        fee = day_fee.pop(key)
        bracket = relief.on(c.stay.household_id, c.stay.day)
        amount = min(bracket.amount, fee) if bracket else 0
        if amount > 0:
            r = ChildDayRelief(c.stay.household_id, c.stay.child_id, c.stay.child_name,
                               c.stay.day, bracket, amount, TaxCategory(c.price.tax_category),
                               f"childcare_attendance:{c.stay.id}")
            relief_of[c.stay.id] = r
            bill.relief.append(r)

    lines: dict[int, list[LineItem]] = defaultdict(list)
    for c in cares:
        s = c.stay
        ref = f"childcare_attendance:{s.id}"
        out = lines[s.household_id]
        out.append(_line(f"{s.child_name} {c.price.label}", c.fee, c.price.tax_category,
                         day=s.day, quantity=c.quantity, unit_price=c.price.unit_price,
                         ref=ref))
        if c.discount:
            out.append(_line(invoice_text(N_("{child} sibling discount {percent}%")).format(
                child=s.child_name, percent=settings.sibling_discount_percent),
                -c.discount, c.price.tax_category, day=s.day, ref=ref))
        r = relief_of.get(s.id)
        if r is not None and settings.relief_mode == "discount":
            out.append(_line(invoice_text(N_("{child} fee relief")).format(child=s.child_name),
                             -r.amount, r.tax, day=s.day, ref=ref))
        for code, wanted in (("snack", s.snack), ("lunch", s.lunch)):
            if wanted:
                p = prices.on(code, s.day)
                out.append(_line(f"{s.child_name} {p.label}", _yen(p.unit_price),
                                 p.tax_category, day=s.day, unit_price=p.unit_price, ref=ref))
        if s.late_minutes > 0:
            p = prices.on("late_block", s.day)
            blocks = math.ceil(s.late_minutes / settings.late_block_minutes)
            out.append(_line(invoice_text(N_("{child} {label} ({minutes} min after closing)"))
                             .format(child=s.child_name, label=p.label, minutes=s.late_minutes),
                             _yen(p.unit_price * blocks), p.tax_category, day=s.day,
                             quantity=blocks, unit_price=p.unit_price, ref=ref))

    _afterschool(site, period, settings, prices, lines)
    bill.lines = dict(lines)
    return bill


def _afterschool(site: Site, period: Month, settings, prices: _Prices,
                 lines: dict[int, list[LineItem]]) -> None:
    """The monthly fee of every child enrolled in ``period`` (one line per child)."""
    first = period.first_day
    q = (Enrolment.select(Enrolment.id, Enrolment.child, Person.household, Person.family_name,
                          Person.given_name)
         .join(Child, on=Enrolment.child == Child.id)
         .join(Person, on=Child.person == Person.id)
         .where((Enrolment.site == site) & (Enrolment.first_month <= first)
                & (Enrolment.last_month.is_null() | (Enrolment.last_month >= first))
                & Person.household.is_null(False))
         .order_by(Enrolment.first_month, Enrolment.id))
    seen: set[int] = set()
    per_household: dict[int, int] = defaultdict(int)
    price = None
    for eid, child_id, household_id, family, given in q.tuples():
        if child_id in seen:
            continue  # two enrolments of a child in one month: one fee
        seen.add(child_id)
        price = price or prices.on("afterschool_month", first)
        name = f"{family} {given}"
        ref = f"childcare_enrolment:{eid}"
        fee = _yen(price.unit_price)
        out = lines[household_id]
        out.append(_line(f"{name} {price.label}", fee, price.tax_category,
                         unit_price=price.unit_price, ref=ref, period=period))
        per_household[household_id] += 1
        percent = settings.sibling_discount_percent
        if per_household[household_id] > 1 and percent > 0:
            discount = fee - _discounted(fee, percent)
            out.append(_line(invoice_text(N_("{child} sibling discount {percent}%")).format(
                child=name, percent=percent), -discount, price.tax_category, ref=ref,
                period=period))


def _month(site: Site, period: Month) -> MonthBill:
    return period.memo(f"childcare:{site.id}", lambda: compute_month(site, period))


def relief_claim(site: Site, period: Month, bill: MonthBill) -> list[LineItem]:
    """The relief payer's lines: per household (五十音 order) and tax category, the
    relief its children were given this month."""
    totals: dict[tuple[int, TaxCategory], list[int]] = defaultdict(lambda: [0, 0])
    for r in bill.relief:
        t = totals[(r.household_id, r.tax)]
        t[0] += r.amount
        t[1] += 1
    if not totals:
        return []
    names = {hid: (name, kana) for hid, name, kana in Household.select(
        Household.id, Household.name, Household.kana_key).where(
        Household.id.in_(sorted({hid for hid, _tax in totals}))).tuples()}
    out = []
    for (hid, tax), (amount, days) in sorted(
            totals.items(), key=lambda kv: (names[kv[0][0]][1], kv[0][0], kv[0][1].value)):
        out.append(_line(invoice_text(N_("{household}: drop-in care fee relief ({days} "
                                         "child-days)")).format(household=names[hid][0],
                                                                days=days),
                         amount, tax, quantity=days, ref=f"childcare_relief:{hid}",
                         period=period))
    return out


def invoice_lines(site: Site, payer: Payer, period: Month) -> list[LineItem]:
    bill = _month(site, period)
    if payer.kind == "household":
        return bill.lines.get(payer.id, [])
    if bill.relief_mode == "discount" and bill.relief_payer_id == payer.id:
        return period.memo(f"childcare-claim:{site.id}",
                           lambda: relief_claim(site, period, bill))
    return []
