"""Municipal relief: brackets with dates, a household's bracket, the discount on the
invoice with the municipality's claim (代理受領), and the refund statement (償還払い)."""

from __future__ import annotations

import datetime as dt

import pytest

from hubcore.billing import Payer, TaxCategory
from hubcore.billing.lines import Month
from hubcore.billing.models import Invoice, Organisation
from hubcore.billing.run import run_month
from hubcore.errors import Invalid
from hubcore.testing import make_site
from plugins.childcare import billing, relief
from plugins.childcare.models import Attendance, HouseholdRelief, Settings
from plugins.childcare.testing import care_room, local, make_child, make_household

MAY = Month(2026, 5)


def may() -> Month:
    """A fresh month: a Month keeps what a run loaded (memo), one per run."""
    return Month(2026, 5)
D = dt.date(2026, 5, 12)


def stay(site, child, day, start="09:00", end="17:00", lunch=False) -> Attendance:
    return Attendance.create(site=site, child=child, room=care_room(site), day=day,
                             checked_in_at=local(day, start), checked_out_at=local(day, end),
                             lunch=lunch)


def bracket(site, household, code, start=dt.date(2026, 4, 1), end=None):
    return relief.set_household_relief(site, {"household_id": str(household.id),
                                              "bracket": code, "valid_from": start.isoformat(),
                                              **({"valid_to": end.isoformat()} if end else {})})


def town(site, name="テスト町役場") -> Organisation:
    return Organisation.create(municipality=site.municipality_id, name=name,
                               kind="municipality")


def mode(site, relief_mode, payer=None, **more) -> None:
    Settings.update(relief_mode=relief_mode, relief_payer=payer, **more).where(
        Settings.site == site).execute()


def hh_lines(site, household, period=MAY):
    return billing.invoice_lines(site, Payer("household", household.id),
                                 Month(period.year, period.month))


def test_default_brackets_and_the_municipalitys_own_from_a_date(cc_site):
    m = cc_site.municipality
    defaults = relief.brackets_on(m, D)
    assert {c: b.amount for c, b in defaults.brackets.items()} == {
        "welfare": 3000, "exempt": 2400, "low_income": 2100, "other": 1500}
    assert not defaults.from_municipality
    relief.set_brackets(m, {"valid_from": "2026-05-15", "welfare": "3,200", "exempt": "2400"})
    assert relief.brackets_on(m, dt.date(2026, 5, 14)).brackets["welfare"].amount == 3000
    later = relief.brackets_on(m, dt.date(2026, 5, 15))
    assert later.from_municipality
    assert {c: b.amount for c, b in later.brackets.items()} == {"welfare": 3200, "exempt": 2400}
    with pytest.raises(Invalid) as exc:
        relief.set_brackets(m, {"valid_from": "2026-06-01", "welfare": "-5"})
    assert "welfare" in exc.value.errors
    with pytest.raises(Invalid):
        relief.set_brackets(m, {"valid_from": "2026-06-01"})  # no amount at all
    assert len(relief.bracket_sets(m)) == 1


def test_household_brackets_close_the_open_one_and_refuse_overlaps(cc_site):
    h = make_household(cc_site)
    first = bracket(cc_site, h, "exempt")
    second = bracket(cc_site, h, "welfare", dt.date(2026, 6, 1))
    assert HouseholdRelief.get_by_id(first.id).valid_to == dt.date(2026, 5, 31)
    assert second.valid_to is None
    with pytest.raises(Invalid) as exc:
        bracket(cc_site, h, "other", dt.date(2026, 5, 1), dt.date(2026, 5, 10))
    assert "valid_from" in exc.value.errors
    with pytest.raises(Invalid) as exc:
        bracket(cc_site, h, "rich")
    assert "bracket" in exc.value.errors
    other_site = make_site("other-site")
    with pytest.raises(Invalid) as exc:
        bracket(other_site, h, "other")
    assert "household_id" in exc.value.errors
    relief.end_household_relief(cc_site, {"relief_id": second.id, "last_day": "2026-06-30"})
    assert HouseholdRelief.get_by_id(second.id).valid_to == dt.date(2026, 6, 30)
    assert HouseholdRelief.select().count() == 2


def test_discount_mode_puts_relief_on_the_invoice_capped_and_meals_excluded(cc_site):
    h = make_household(cc_site)
    child = make_child(cc_site, dt.date(2025, 1, 1), household=h)  # age 1: 1200 / 2100
    bracket(cc_site, h, "low_income")  # 2100
    stay(cc_site, child, D, "09:00", "12:00", lunch=True)  # half day 1200: relief 1200 (cap)
    stay(cc_site, child, D + dt.timedelta(days=1))  # full day 2100: relief 2100
    lines = hh_lines(cc_site, h)
    reliefs = [li for li in lines if li.amount < 0]
    assert [li.amount for li in reliefs] == [-1200, -2100]
    assert all(li.tax == TaxCategory.NON_TAXABLE for li in reliefs)
    assert sum(li.amount for li in lines) == 300  # only the lunch is left to pay
    assert [li for li in lines if li.tax == TaxCategory.REDUCED][0].amount == 300


def test_relief_cap_is_the_fee_after_the_sibling_discount(cc_site):
    mode(cc_site, "discount", sibling_discount_percent=50)
    h = make_household(cc_site)
    a = make_child(cc_site, dt.date(2022, 6, 1), household=h)  # 1900 a day
    b = make_child(cc_site, dt.date(2022, 7, 1), household=h)
    bracket(cc_site, h, "other")  # 1500
    stay(cc_site, a, D)
    stay(cc_site, b, D, "09:10")
    lines = hh_lines(cc_site, h)
    assert sorted(li.amount for li in lines if li.amount < 0) == [-1500, -950, -950]
    assert sum(li.amount for li in lines) == 1900 - 1500  # b pays 950 − 950 = 0


def test_bracket_changes_mid_month_and_municipal_amounts_by_day(cc_site):
    h = make_household(cc_site)
    child = make_child(cc_site, dt.date(2020, 1, 1), household=h)  # 1900 a day
    bracket(cc_site, h, "other", dt.date(2026, 5, 13))  # from the 13th
    relief.set_brackets(cc_site.municipality, {"valid_from": "2026-05-14", "other": "1000"})
    for d in (12, 13, 14):
        stay(cc_site, child, dt.date(2026, 5, d))
    assert [li.amount for li in hh_lines(cc_site, h) if li.amount < 0] == [-1500, -1000]


def test_discount_mode_bills_the_municipality_what_households_did_not_pay(cc_site):
    payer = town(cc_site)
    mode(cc_site, "discount", payer)
    h1, h2, h3 = (make_household(cc_site) for _ in range(3))
    c1 = make_child(cc_site, dt.date(2020, 1, 1), household=h1)
    c2 = make_child(cc_site, dt.date(2025, 9, 1), household=h2)  # age 0: 2300 a day
    c3 = make_child(cc_site, dt.date(2020, 1, 1), household=h3)  # no bracket
    bracket(cc_site, h1, "exempt")  # 2400, capped at 1900
    bracket(cc_site, h2, "welfare")  # 3000, capped at 2300
    stay(cc_site, c1, D, lunch=True)
    stay(cc_site, c1, D + dt.timedelta(days=1))
    stay(cc_site, c2, D)
    stay(cc_site, c3, D)
    claim = billing.invoice_lines(cc_site, Payer("organisation", payer.id), may())
    assert [(li.amount, li.quantity, li.ref) for li in sorted(claim, key=lambda li: li.ref)] == [
        (3800, 2, f"childcare_relief:{h1.id}"), (2300, 1, f"childcare_relief:{h2.id}")]
    assert all(li.tax == TaxCategory.NON_TAXABLE and li.period_from == MAY.first_day
               for li in claim)
    assert billing.invoice_lines(cc_site, Payer("organisation", town(cc_site, "他").id),
                                 may()) == []

    run_month(cc_site, "2026-05")
    org_inv = Invoice.get((Invoice.site == cc_site) & (Invoice.organisation == payer))
    assert org_inv.total == org_inv.total_non_taxable == 6100
    assert Invoice.get(Invoice.household == h1).total == 300  # the lunch
    assert Invoice.get(Invoice.household == h3).total == 1900
    assert Invoice.get(Invoice.household == h2).total == 0  # the care, fully relieved
    # A second site of the town that does not name the payer bills it nothing.
    other = make_site("other-site", plugins=("childcare",))
    run_month(other, "2026-05")
    assert not Invoice.select().where(Invoice.site == other).exists()


def test_refund_mode_full_fee_and_a_statement_for_the_town(cc_site):
    payer = town(cc_site)
    mode(cc_site, "refund", payer)
    h = make_household(cc_site)
    child = make_child(cc_site, dt.date(2020, 1, 1), household=h)
    bracket(cc_site, h, "exempt")
    stay(cc_site, child, D, lunch=True)
    stay(cc_site, child, D + dt.timedelta(days=1), "09:00", "12:00")  # half day 900
    lines = hh_lines(cc_site, h)
    assert all(li.amount > 0 for li in lines)
    assert sum(li.amount for li in lines) == 1900 + 300 + 900
    assert billing.invoice_lines(cc_site, Payer("organisation", payer.id), may()) == []
    rows = relief.relief_statement(cc_site, "2026-05")
    assert [(r.household_id, r.child_days, r.amount) for r in rows] == [(h.id, 2, 1900 + 900)]
    assert [b.code for b in rows[0].brackets] == ["exempt"]
    data = relief.statement_csv(cc_site, MAY)
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert text.count("\r\n") == 2
    assert f"{h.name}," in text and ",2,2800\r\n" in text
    run_month(cc_site, "2026-05")
    assert Invoice.get(Invoice.household == h).total == 3100
    assert not Invoice.select().where(Invoice.organisation.is_null(False)).exists()


def test_no_bracket_no_relief_and_no_line(cc_site):
    h = make_household(cc_site)
    child = make_child(cc_site, dt.date(2020, 1, 1), household=h)
    bracket(cc_site, h, "other", dt.date(2026, 4, 1), dt.date(2026, 5, 11))  # ended before
    stay(cc_site, child, D)
    assert [li.amount for li in hh_lines(cc_site, h)] == [1900]
    assert relief.relief_statement(cc_site, "2026-05") == []
