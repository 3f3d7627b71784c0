"""Consumption tax on invoices: tax-inclusive line amounts, tax rounded once per rate.

Line amounts are tax-inclusive (税込). The prices in the domain notes are what
a person pays at the counter — drop-in care ¥1,300, lunch ¥300, a snack ¥50 —
and prices shown to consumers in Japan must be tax-inclusive (総額表示, since
2021-04), so programs store and bill those figures; making them tax-exclusive
would put odd yen on every line (¥300 → ¥277.78 + tax).

A qualified invoice (適格請求書) states, per rate, the total of the lines and the
tax in it, with fractions of a yen rounded once per rate per invoice, never per
line. So for each category: total = Σ line amounts, and tax = total × r / (100 + r)
rounded down (切り捨て) — once. Rounding is toward zero for negative totals, so
the tax of a credit note that reverses an invoice is exactly minus its tax and
the two net to zero.

Non-taxable (非課税) lines — care-insurance and disability services, licensed
childcare — carry no tax and are totalled on their own line.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from hubcore.billing.lines import LineItem, TaxCategory

# Percent per category. Rates are law, not site data; a change of rate would come
# with a new category (both rates apply around the change date).
RATES: dict[TaxCategory, int] = {
    TaxCategory.STANDARD: 10,
    TaxCategory.REDUCED: 8,
    TaxCategory.NON_TAXABLE: 0,
}


def tax_in(total: int, rate: int) -> int:
    """The tax contained in a tax-inclusive ``total`` at ``rate`` %, rounded toward zero."""
    tax = abs(total) * rate // (100 + rate)
    return tax if total >= 0 else -tax


@dataclass(frozen=True)
class RateTotal:
    category: TaxCategory
    rate: int
    total: int  # tax included
    tax: int

    @property
    def net(self) -> int:
        return self.total - self.tax


@dataclass(frozen=True)
class Totals:
    """An invoice's totals: one entry per category, in the order of ``RATES``."""

    by_rate: tuple[RateTotal, ...]

    @property
    def total(self) -> int:
        return sum(r.total for r in self.by_rate)

    @property
    def tax(self) -> int:
        return sum(r.tax for r in self.by_rate)

    def of(self, category: TaxCategory) -> RateTotal:
        for r in self.by_rate:
            if r.category == category:
                return r
        return RateTotal(category, RATES[category], 0, 0)


def totals(lines: Iterable[LineItem]) -> Totals:
    """Sum the lines per category, then compute each category's tax once."""
    sums = dict.fromkeys(RATES, 0)
    for line in lines:
        sums[line.tax] += line.amount
    return totals_from_sums(sums)


def totals_from_sums(sums: dict[TaxCategory, int]) -> Totals:
    return Totals(tuple(
        RateTotal(cat, rate, sums.get(cat, 0), tax_in(sums.get(cat, 0), rate))
        for cat, rate in RATES.items()
    ))
