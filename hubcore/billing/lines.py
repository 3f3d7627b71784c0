"""What plugins hand to billing: payers, months, invoice lines, payment methods.

Plain values without database access, so a plugin can import them cheaply and
tests can build them by hand.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal, TypeVar

T = TypeVar("T")


class TaxCategory(StrEnum):
    """Consumption-tax category of a line; the rate follows from it (see ``tax.RATES``)."""

    STANDARD = "standard"  # 10 %
    REDUCED = "reduced"  # 8 %: food and drink (軽減税率), e.g. a cafeteria meal
    NON_TAXABLE = "non_taxable"  # 非課税: care-insurance and welfare services, childcare


PayerKind = Literal["household", "organisation"]


@dataclass(frozen=True)
class Payer:
    """Who pays: a household of the site, or an organisation of its municipality."""

    kind: PayerKind
    id: int
    name: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if self.kind not in ("household", "organisation"):
            raise ValueError(f"payer kind must be household or organisation, not {self.kind!r}")

    @property
    def key(self) -> str:
        """A stable text key, e.g. ``"household:12"``: what invoices and payments store."""
        return f"{self.kind}:{self.id}"

    @property
    def household_id(self) -> int | None:
        return self.id if self.kind == "household" else None

    @property
    def organisation_id(self) -> int | None:
        return self.id if self.kind == "organisation" else None

    @classmethod
    def from_key(cls, key: str, name: str = "") -> Payer:
        kind, _, raw = key.partition(":")
        if kind not in ("household", "organisation") or not raw.isdigit():
            raise ValueError(f"not a payer key: {key!r}")
        return cls(kind, int(raw), name)  # type: ignore[arg-type]


_MONTH = re.compile(r"(\d{4})-(\d{2})")


@dataclass(frozen=True)
class Month:
    """A billing month. ``memo`` keeps a plugin's loaded data for one run.

    The monthly run passes one ``Month`` object to every ``invoice_lines`` call of
    the run, so a plugin can load the whole month's records once (one query) instead
    of once per payer: ``period.memo("meals", lambda: load(site, period))``.
    """

    year: int
    month: int
    _memo: dict[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)

    def __post_init__(self) -> None:
        if not (1 <= self.month <= 12 and 2000 <= self.year <= 9999):
            raise ValueError(f"not a month: {self.year}-{self.month}")

    @classmethod
    def parse(cls, text: str) -> Month:
        m = _MONTH.fullmatch(text.strip())
        if m is None:
            raise ValueError(f"month must be YYYY-MM, not {text!r}")
        return cls(int(m.group(1)), int(m.group(2)))

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.year, self.month, 1)

    @property
    def last_day(self) -> dt.date:
        return dt.date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    def __contains__(self, day: dt.date) -> bool:
        return self.first_day <= day <= self.last_day

    def memo(self, key: str, load: Callable[[], T]) -> T:
        """``load()`` once per run and key; later calls return the same value."""
        if key not in self._memo:
            self._memo[key] = load()
        return self._memo[key]


def _decimal(value: Any, name: str) -> Decimal:
    if type(value) is Decimal and value.is_finite():
        return value  # the common case, kept cheap: a run builds ~100,000 lines
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        # floats are refused: 5590 × 0.7 in floating point is off by a yen (care.md)
        raise TypeError(f"{name} must be a Decimal, an int or a str, not {type(value).__name__}")
    d = Decimal(value)
    if not d.is_finite():
        raise ValueError(f"{name} must be a finite number")
    return d


@dataclass(frozen=True)
class LineItem:
    """One line a program bills to a payer for a month (returned by ``invoice_lines``).

    ``amount`` is what the payer pays for the line, in integer yen, tax included
    (see the module docstring of ``hubcore.billing.tax``). ``quantity`` and
    ``unit_price`` are shown on the invoice; the program computes ``amount`` (a care
    copay is not quantity × unit price), so billing does not recompute it.
    ``hide_if_zero`` keeps a zero-yen line (a child's free meal) off the printed
    invoice and the exports a payer sees: nothing on paper may mark a child as poor.
    """

    program: str
    description: str
    amount: int
    tax: TaxCategory
    quantity: Decimal = Decimal(1)
    unit_price: Decimal | None = None
    day: dt.date | None = None
    period_from: dt.date | None = None
    period_to: dt.date | None = None
    ref: str = ""  # the billed record, e.g. "meals_guest:123"
    hide_if_zero: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.amount, bool) or not isinstance(self.amount, int):
            raise TypeError(f"amount must be integer yen, not {type(self.amount).__name__}")
        if type(self.tax) is not TaxCategory:
            object.__setattr__(self, "tax", TaxCategory(self.tax))
        object.__setattr__(self, "quantity", _decimal(self.quantity, "quantity"))
        if self.unit_price is not None:
            object.__setattr__(self, "unit_price", _decimal(self.unit_price, "unit_price"))
        if not self.program or not self.description:
            raise ValueError("a line needs a program and a description")
        if self.day is not None and (self.period_from or self.period_to):
            raise ValueError("a line has a day or a period, not both")
        if (self.period_from is None) != (self.period_to is None):
            raise ValueError("a period needs both period_from and period_to")
        if self.period_from and self.period_to and self.period_from > self.period_to:
            raise ValueError("period_from is after period_to")
        if len(self.ref) > 100 or len(self.description) > 300:
            raise ValueError("ref is at most 100 and description at most 300 characters")

    @property
    def hidden(self) -> bool:
        """Left off printed invoices: only ever a zero-yen line, so totals still add up."""
        return self.hide_if_zero and self.amount == 0

    def negated(self) -> LineItem:
        """The same line with the opposite amount (a credit note's reversal)."""
        from dataclasses import replace

        return replace(self, amount=-self.amount, quantity=-self.quantity)


@dataclass(frozen=True)
class PaymentMethod:
    """A way a payer can pay, returned by the ``payment_methods`` hook.

    ``label`` is an English message id, translated where it is shown.
    """

    code: str
    label: str
    order: int = 100

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,39}", self.code):
            raise ValueError(f"payment method code {self.code!r}: lower-case letters, digits, _")
