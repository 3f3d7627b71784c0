"""Billing arithmetic, property-based: totals, tax once per rate, credit notes net to zero."""

from __future__ import annotations

import datetime as dt
import types
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hubcore.billing import LineItem, TaxCategory
from hubcore.billing import operations as ops
from hubcore.billing.models import Invoice
from hubcore.billing.run import run_month
from hubcore.billing.tax import RATES, tax_in, totals
from hubcore.hookspecs import hookimpl
from hubcore.people.models import Household
from hubcore.plugins import PluginMeta
from hubcore.testing import make_site, registered

lines_strategy = st.lists(
    st.builds(
        LineItem,
        program=st.sampled_from(["meals", "care", "lessons"]),
        description=st.sampled_from(["昼食", "通所介護", "書道", "おやつ"]),
        amount=st.integers(min_value=-50_000, max_value=2_000_000),
        tax=st.sampled_from(list(TaxCategory)),
        quantity=st.decimals(min_value=-1000, max_value=1000, places=2),
        unit_price=st.none() | st.decimals(min_value=0, max_value=100_000, places=4),
        day=st.none() | st.dates(dt.date(2026, 4, 1), dt.date(2026, 4, 30)),
        hide_if_zero=st.booleans(),
    ),
    max_size=40,
)


@given(lines_strategy)
def test_lines_sum_to_the_totals_per_rate_and_overall(lines):
    t = totals(lines)
    assert t.total == sum(li.amount for li in lines)
    for cat in TaxCategory:
        assert t.of(cat).total == sum(li.amount for li in lines if li.tax == cat)
    assert [r.category for r in t.by_rate] == list(RATES)


@given(lines_strategy)
def test_tax_is_computed_once_per_rate_from_the_rate_total(lines):
    t = totals(lines)
    for r in t.by_rate:
        # Once per rate: the tax follows from the rate's total alone, whatever the lines.
        assert r.tax == tax_in(r.total, r.rate)
        if r.total >= 0:
            # Rounded down: tax ≤ exact tax-inclusive share < tax + 1.
            assert r.tax * (100 + r.rate) <= r.total * r.rate < (r.tax + 1) * (100 + r.rate)
    assert t.of(TaxCategory.NON_TAXABLE).tax == 0
    assert t.tax == sum(r.tax for r in t.by_rate)


@given(lines_strategy)
def test_a_full_reversal_nets_to_zero_in_every_rate_and_in_tax(lines):
    original, reversal = totals(lines), totals([li.negated() for li in lines])
    for a, b in zip(original.by_rate, reversal.by_rate, strict=True):
        assert a.total + b.total == 0 and a.tax + b.tax == 0
    assert original.total + reversal.total == 0


@given(lines_strategy)
def test_hidden_lines_never_change_what_is_printed(lines):
    printed = [li for li in lines if not li.hidden]
    assert sum(li.amount for li in printed) == totals(lines).total


@given(st.integers(min_value=-10**12, max_value=10**12), st.sampled_from([8, 10]))
def test_tax_of_a_negated_total_is_the_negated_tax(total, rate):
    assert tax_in(-total, rate) == -tax_in(total, rate)


def test_rounding_per_rate_differs_from_rounding_per_line():
    # Three ¥100 snacks at 8 %: per line floor(100×8/108) = 7 each, 21 in all;
    # once per rate, as a qualified invoice must, floor(300×8/108) = 22.
    lines = [LineItem("meals", "おやつ", 100, TaxCategory.REDUCED) for _ in range(3)]
    assert sum(tax_in(li.amount, 8) for li in lines) == 21
    assert totals(lines).of(TaxCategory.REDUCED).tax == 22  # the 適格請求書 rule


def test_floats_are_refused_as_quantities_and_amounts():
    with pytest.raises(TypeError):
        LineItem("care", "x", 100, TaxCategory.NON_TAXABLE, quantity=0.7)
    with pytest.raises(TypeError):
        LineItem("care", "x", 100.0, TaxCategory.NON_TAXABLE)
    with pytest.raises(ValueError):
        LineItem("care", "x", 100, "luxury")


# --- through the database: the same properties on stored invoices and credit notes ----


FEED: dict[str, list[LineItem]] = {}


def _feeder() -> types.ModuleType:
    mod = types.ModuleType("feeder")
    mod.PLUGIN = PluginMeta(name="feeder", label_ja="供給", label_en="Feeder")
    mod.invoice_lines = hookimpl(lambda site, payer, period: FEED.get(f"{site.slug}"))
    return mod


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=lines_strategy.filter(lambda ls: ls and all(li.amount >= 0 for li in ls)))
def test_stored_invoice_and_its_credit_note_net_to_zero(database, lines):
    with registered(_feeder()):
        slug = f"p{len(FEED)}"
        site = make_site(slug, municipality="prop-town", plugins=("feeder",))
        hh = Household.create(site=site, name="世帯", name_kana="セタイ", kana_key="セタイ")
        FEED[slug] = lines
        assert run_month(site, "2026-04").created == 1
        inv = Invoice.get((Invoice.site == site) & (Invoice.payer_key == f"household:{hh.id}"))
        assert ops.line_items(inv) == sorted(lines, key=lambda li: li.program)
        t = totals(lines)
        assert ops.invoice_totals(inv) == t and inv.total == t.total
        assert (inv.tax_standard, inv.tax_reduced) == (
            t.of(TaxCategory.STANDARD).tax, t.of(TaxCategory.REDUCED).tax)
        inv = ops.issue_invoice(ops.review_invoice(inv))
        note = ops.issue_invoice(ops.review_invoice(ops.create_credit_note(inv)))
        assert all(r.total == 0 and r.tax == 0 for r in ops.net_of(inv).by_rate)
        assert inv.total + note.total == 0
        assert inv.tax_standard + note.tax_standard == 0
        assert inv.tax_reduced + note.tax_reduced == 0
        assert ops.balance(site, ops.payer_of(hh)) == 0
        assert Decimal(0) == sum((li.quantity for li in ops.line_items(note)), Decimal(0)) + sum(
            (li.quantity for li in ops.line_items(inv)), Decimal(0))
