"""Childcare billing: each price shape, meals at 8 %, late fees, the sibling discount and
the after-school fee, through the hook and through real monthly runs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from hubcore.billing import Payer, TaxCategory
from hubcore.billing.lines import Month
from hubcore.billing.models import Invoice, Price
from hubcore.billing.operations import add_price, line_items
from hubcore.billing.run import run_month
from hubcore.errors import Invalid
from plugins.childcare import billing
from plugins.childcare.models import AFTERSCHOOL, Attendance, Enrolment, Reservation, Settings
from plugins.childcare.settings import PRICE_CODES, on_enabled, price_band
from plugins.childcare.testing import TOKYO, care_room, make_child, make_household

MAY = Month(2026, 5)
D = dt.date(2026, 5, 12)


def local(day: dt.date, hhmmss: str) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.fromisoformat(hhmmss), TOKYO)


def stay(site, child, day: dt.date, start: str, end: str, *, reserved: tuple[str, str] | None
         = None, lunch: bool = False, snack: bool = False, late: int = 0,
         program: str = "dropin") -> Attendance:
    """A checked-out stay (and its reservation) written directly."""
    res = None
    if reserved:
        res = Reservation.create(site=site, child=child, room=care_room(site), program=program,
                                 day=day, start_at=local(day, reserved[0]),
                                 end_at=local(day, reserved[1]), lunch=lunch, snack=snack)
    return Attendance.create(site=site, child=child, reservation=res, room=care_room(site),
                             program=program, day=day, checked_in_at=local(day, start),
                             checked_out_at=local(day, end), late_minutes=late, lunch=lunch,
                             snack=snack)


def settings_of(site, **values) -> None:
    Settings.update(**values).where(Settings.site == site).execute()


def lines_of(site, child, period: Month = MAY):
    hid = child.person.household_id
    return billing.invoice_lines(site, Payer("household", hid), Month(period.year, period.month))


def amounts(lines) -> list[int]:
    return [li.amount for li in lines]


def test_enabling_seeds_every_default_price_once(cc_site):
    prices = {p.code: p for p in Price.select().where(Price.site == cc_site)}
    assert set(prices) == {p.code for p in PRICE_CODES}
    assert prices["dropin_day_0"].unit_price == 2300
    assert prices["dropin_half_3"].unit_price == 900
    assert prices["dropin_30min"].unit_price == 200
    assert prices["lunch"].tax_category == "reduced"
    assert prices["snack"].tax_category == "reduced"
    assert prices["dropin_day_1"].tax_category == "non_taxable"
    on_enabled(cc_site)  # switched on again: nothing added
    assert Price.select().where(Price.site == cc_site).count() == len(PRICE_CODES)
    assert Settings.select().where(Settings.site == cc_site).count() == 1


def test_half_day_up_to_the_boundary_minute_then_a_full_day(cc_site):
    child = make_child(cc_site, dt.date(2024, 1, 10))  # age 2 in May 2026: band 1–2
    a = stay(cc_site, child, D, "09:00", "13:00")  # 240 minutes: half day
    b = stay(cc_site, child, D + dt.timedelta(days=1), "09:00", "13:01")  # 241: full day
    c = stay(cc_site, child, D + dt.timedelta(days=2), "09:00:50", "13:00:10")  # clock minutes
    lines = lines_of(cc_site, child)
    by_ref = {li.ref: li for li in lines}
    assert by_ref[f"childcare_attendance:{a.id}"].amount == 1200
    assert by_ref[f"childcare_attendance:{b.id}"].amount == 2100
    assert by_ref[f"childcare_attendance:{c.id}"].amount == 1200
    assert all(li.tax == TaxCategory.NON_TAXABLE for li in lines)
    assert [li.day for li in lines] == [a.day, b.day, c.day]
    settings_of(cc_site, half_day_minutes=300)
    assert lines_of(cc_site, child)[1].amount == 1200  # 241 minutes is now a half day


def test_price_band_is_the_age_on_the_day_of_care_birthdays_included(cc_site):
    baby = make_child(cc_site, dt.date(2025, 5, 12))  # turns 1 on 2026-05-12
    three = make_child(cc_site, dt.date(2023, 5, 13))  # turns 3 on 2026-05-13
    stay(cc_site, baby, D - dt.timedelta(days=1), "09:00", "17:00")  # age 0
    stay(cc_site, baby, D, "09:00", "17:00")  # age 1 from the birthday itself
    stay(cc_site, three, D, "09:00", "17:00")  # still 2
    stay(cc_site, three, D + dt.timedelta(days=1), "09:00", "17:00")  # 3 on the birthday
    assert amounts(lines_of(cc_site, baby)) == [2300, 2100]
    assert amounts(lines_of(cc_site, three)) == [2100, 1900]
    assert [price_band(a) for a in (None, 0, 1, 2, 3, 5)] == ["3", "0", "1", "1", "3", "3"]


def test_per_30_minutes_counts_started_blocks(cc_site):
    settings_of(cc_site, price_shape="per_30min")
    child = make_child(cc_site, dt.date(2023, 1, 1))
    stay(cc_site, child, D, "10:00", "10:30")
    stay(cc_site, child, D + dt.timedelta(days=1), "10:00", "10:31")
    stay(cc_site, child, D + dt.timedelta(days=2), "09:00", "16:45")  # 465 min: 16 blocks
    lines = lines_of(cc_site, child)
    assert [(li.quantity, li.amount) for li in lines] == [
        (Decimal(1), 200), (Decimal(2), 400), (Decimal(16), 3200)]
    assert lines[0].unit_price == Decimal(200)


def test_billed_stay_is_the_reservation_or_the_longer_actual_stay(cc_site):
    settings_of(cc_site, price_shape="per_30min")
    child = make_child(cc_site, dt.date(2023, 1, 1))
    # Reserved 3 hours, left after one: the reservation is billed (6 blocks).
    stay(cc_site, child, D, "09:00", "10:00", reserved=("09:00", "12:00"))
    # Reserved 1 hour, stayed 2 h 10 min: the actual stay (5 blocks).
    stay(cc_site, child, D + dt.timedelta(days=1), "09:00", "11:10", reserved=("09:00", "10:00"))
    assert [li.quantity for li in lines_of(cc_site, child)] == [6, 5]


def test_late_pickup_cut_at_closing_and_fee_per_started_block(cc_site):
    settings_of(cc_site, price_shape="per_30min", closing_time="18:00", late_block_minutes=30)
    child = make_child(cc_site, dt.date(2023, 1, 1))
    # 17:00–18:40: care to 18:00 only (2 blocks), 40 minutes late = 2 blocks of ¥500.
    a = stay(cc_site, child, D, "17:00", "18:40", late=40)
    b = stay(cc_site, child, D + dt.timedelta(days=1), "17:00", "18:30", late=30)  # 1 block
    lines = lines_of(cc_site, child)
    assert [(li.quantity, li.amount) for li in lines] == [
        (2, 400), (2, 1000), (2, 400), (1, 500)]
    assert lines[1].ref == f"childcare_attendance:{a.id}"
    assert lines[3].ref == f"childcare_attendance:{b.id}"
    assert all(li.tax == TaxCategory.NON_TAXABLE for li in lines)
    assert "40" in lines[1].description


def test_meals_are_billed_at_8_percent_through_a_monthly_run(cc_site):
    household = make_household(cc_site)
    child = make_child(cc_site, dt.date(2023, 1, 1), household=household)
    stay(cc_site, child, D, "09:00", "17:00", lunch=True, snack=True)  # 1900 + 300 + 50
    stay(cc_site, child, D + dt.timedelta(days=1), "09:00", "12:00", snack=True)  # 900 + 50
    result = run_month(cc_site, "2026-05")
    assert result.created == 1
    inv = Invoice.get((Invoice.site == cc_site) & (Invoice.household == household))
    assert inv.total == 1900 + 300 + 50 + 900 + 50
    assert inv.total_reduced == 400
    assert inv.tax_reduced == 400 * 8 // 108  # 29, rounded once per rate
    assert inv.total_non_taxable == 2800
    assert inv.total_standard == 0
    meal_lines = [li for li in line_items(inv) if li.tax == TaxCategory.REDUCED]
    assert sorted(li.amount for li in meal_lines) == [50, 50, 300]
    assert all(li.program == "childcare" for li in line_items(inv))


def test_sibling_discount_off_every_child_but_the_dearest(cc_site):
    settings_of(cc_site, sibling_discount_percent=15)
    household = make_household(cc_site)
    baby = make_child(cc_site, dt.date(2025, 6, 1), household=household)  # age 0: 2300
    big = make_child(cc_site, dt.date(2022, 6, 1), household=household)  # age 3: 1900
    other = make_child(cc_site, dt.date(2022, 6, 1))  # another household: no discount
    stay(cc_site, baby, D, "09:00", "17:00", lunch=True)
    b = stay(cc_site, big, D, "09:00", "17:00", lunch=True, late=10)
    stay(cc_site, big, D + dt.timedelta(days=1), "09:00", "17:00")  # alone that day: full
    stay(cc_site, other, D, "09:00", "17:00")
    lines = lines_of(cc_site, baby)
    discounts = [li for li in lines if li.amount < 0]
    assert len(discounts) == 1
    assert discounts[0].amount == -(1900 - 1900 * 85 // 100)  # -285
    assert discounts[0].ref == f"childcare_attendance:{b.id}"
    assert discounts[0].tax == TaxCategory.NON_TAXABLE
    assert sum(li.amount for li in lines) == 2300 + 300 + 1900 - 285 + 300 + 500 + 1900
    assert not [li for li in lines_of(cc_site, other) if li.amount < 0]


def test_sibling_discount_rounds_the_fee_down(cc_site):
    settings_of(cc_site, sibling_discount_percent=33)
    add_price(cc_site, "childcare", "dropin_half_3", "一時預かり半日", 1250,
              TaxCategory.NON_TAXABLE, dt.date(2026, 4, 1))
    household = make_household(cc_site)
    a = make_child(cc_site, dt.date(2022, 6, 1), household=household)
    b = make_child(cc_site, dt.date(2022, 7, 1), household=household)
    stay(cc_site, a, D, "09:00", "12:00")  # the same fee: the first checked in pays in full
    stay(cc_site, b, D, "09:05", "12:00")
    # 1,250 × 67 % = 837.5: the fee after the discount is 837, the discount 413.
    assert amounts(lines_of(cc_site, a)) == [1250, 1250, -413]


def test_afterschool_monthly_fee_with_sibling_discount(cc_site):
    settings_of(cc_site, sibling_discount_percent=10)
    household = make_household(cc_site)
    first = make_child(cc_site, dt.date(2016, 5, 1), household=household)
    second = make_child(cc_site, dt.date(2018, 5, 1), household=household)
    gone = make_child(cc_site, dt.date(2017, 5, 1), household=household)
    e1 = Enrolment.create(site=cc_site, child=first, first_month=dt.date(2026, 4, 1))
    Enrolment.create(site=cc_site, child=second, first_month=dt.date(2026, 5, 1),
                     last_month=dt.date(2026, 5, 1))
    Enrolment.create(site=cc_site, child=gone, first_month=dt.date(2025, 4, 1),
                     last_month=dt.date(2026, 3, 1))
    # A day of after-school attendance is covered by the monthly fee: no drop-in fee.
    stay(cc_site, first, D, "14:00", "18:00", program=AFTERSCHOOL)
    lines = lines_of(cc_site, first)
    assert amounts(lines) == [8000, 8000, -800]
    assert lines[0].ref == f"childcare_enrolment:{e1.id}"
    assert (lines[0].period_from, lines[0].period_to) == (MAY.first_day, MAY.last_day)
    assert amounts(lines_of(cc_site, first, Month(2026, 6))) == [8000]


def test_missing_price_is_refused_with_what_to_do(cc_site):
    child = make_child(cc_site, dt.date(2015, 1, 1))
    stay(cc_site, child, dt.date(2019, 5, 7), "09:00", "17:00")  # before the seeded prices
    with pytest.raises(Invalid) as exc:
        lines_of(cc_site, child, Month(2019, 5))
    assert "dropin_day_3" in exc.value.errors["period"]


def test_a_price_revision_applies_from_its_day(cc_site):
    child = make_child(cc_site, dt.date(2023, 1, 1))
    add_price(cc_site, "childcare", "dropin_day_3", "一時預かり", 2000, TaxCategory.NON_TAXABLE,
              D + dt.timedelta(days=1))
    stay(cc_site, child, D, "09:00", "17:00")
    stay(cc_site, child, D + dt.timedelta(days=1), "09:00", "17:00")
    assert amounts(lines_of(cc_site, child)) == [1900, 2000]


def test_open_stays_and_other_months_are_not_billed(cc_site):
    child = make_child(cc_site, dt.date(2023, 1, 1))
    Attendance.create(site=cc_site, child=child, room=care_room(cc_site), day=D,
                      checked_in_at=local(D, "09:00"))  # still in care
    stay(cc_site, child, dt.date(2026, 6, 1), "09:00", "17:00")
    assert lines_of(cc_site, child) == []


def test_rerun_of_the_month_is_idempotent(cc_site):
    household = make_household(cc_site)
    child = make_child(cc_site, dt.date(2023, 1, 1), household=household)
    stay(cc_site, child, D, "09:00", "17:00", lunch=True, late=5)
    first = run_month(cc_site, "2026-05")
    again = run_month(cc_site, "2026-05")
    assert (first.created, again.created, again.updated, again.unchanged) == (1, 0, 0, 1)
    inv = Invoice.get(Invoice.household == household)
    assert inv.total == 1900 + 300 + 500
    assert len(line_items(inv)) == 3


def test_a_missing_price_is_a_message_on_the_billing_page_and_in_the_cli(cc_site, client,
                                                                          database, tmp_path,
                                                                          monkeypatch):
    """The core's month run shows a program's refusal (no price for a day) as the month
    field's message, and the CLI as one line; nothing is billed for that payer."""
    from click.testing import CliRunner

    from hubcore.billing.cli import billing as billing_cli

    child = make_child(cc_site, dt.date(2023, 6, 1))
    stay(cc_site, child, D, "09:00", "12:00")
    Price.delete().where((Price.site == cc_site) & (Price.code == "dropin_half_1")).execute()
    page = client.post("/s/test-site/billing/run/?lang=en", data={"month": "2026-05"})
    assert page.status_code == 422
    assert "dropin_half_1" in page.text and "2026-05-12" in page.text
    assert not Invoice.select().where(
        Invoice.payer_key == f"household:{child.person.household_id}").exists()
    monkeypatch.setenv("DATABASE_URL", database)
    monkeypatch.setenv("HUBCORE_INSTANCE", str(tmp_path / "inst"))
    r = CliRunner().invoke(billing_cli, ["run", "--site", "test-site", "--month", "2026-05"])
    assert r.exit_code == 1 and "dropin_half_1" in r.output and "Traceback" not in r.output
